"""Notifications out: WeCom (企业微信) group robots for the site's managers, SMS for buyers.

* :mod:`hub.notify.rules` — the rules file's ``[notify]`` section: which events go to which robot,
  which SMS template goes with which event.
* :mod:`hub.notify.dispatch` — events → rows of ``notify_queue``, in the transaction of the change
  that caused them (the writer's flush; :func:`hub.notify.dispatch.emit` for other modules).
* :mod:`hub.notify.queue` — the one door to ``notify_queue``.
* :mod:`hub.notify.wecom`, :mod:`hub.notify.sms` — the partners, each in its own protocol.
* :mod:`hub.notify.worker` — the thread that sends due rows, with retries and back-off.

docs/notifications.md says which public source each field and rule came from.
"""
