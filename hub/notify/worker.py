"""The notification worker: one background thread that sends due ``notify_queue`` rows.

Started and stopped with the hub app, like the e-waybill worker. Each round claims due rows with a
lease (hub/outqueue.py), calls WeCom or the SMS provider *outside* any transaction and writes the
outcome in another. Failures (:class:`hub.channels.base.ErrorKind`):

* ``BUSY`` / ``BAD_RESPONSE`` (network, HTTP 5xx, an answer not as documented): capped exponential
  back-off with jitter (:func:`hub.webhooks.backoff_s`);
* ``RATE_LIMITED`` (WeCom 45009, 阿里云 flow control): wait at least what the provider asks (a minute
  for a robot, five for an SMS number), and the robot gets nothing else for that minute;
* ``BAD_CREDENTIALS`` (a robot key refused, an AccessKey refused): retried every five minutes, shown
  in health, so nothing is lost while an admin fixes the setting;
* ``REFUSED`` (the message itself was refused): recorded, never retried.

A row that has failed :data:`MAX_ATTEMPTS` times is given up (``gave_up``). Besides the provider's
answer, the worker keeps each robot under its documented 20 messages a minute itself: a message
that would exceed it waits (without counting an attempt) instead of being sent to be refused.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy.engine import Connection, Row

from core.timeutil import utcnow
from hub.background import BackgroundWorker
from hub.channels.base import ErrorKind
from hub.channels.engine import (
    BAD_CREDENTIALS_RETRY_S as BAD_CREDENTIALS_RETRY_S,  # the rule every partner call follows
)
from hub.channels.engine import retry_delay
from hub.config import HubSettings
from hub.notify import dispatch, queue, wecom
from hub.notify.sms import AliyunSms, SmsMessage, SmsProvider, mask_phone
from hub.notify.wecom import NotifyError

log = logging.getLogger("packdesk.hub.notify")

Tx = Callable[..., Any]
MAX_ATTEMPTS = 12
BATCH = 20


class NotifyWorker(BackgroundWorker):
    """Sends notifications; see the module docstring.

    Args:
        tx: runs a function in one write transaction (``Hub.tx``).
        rules: the hub's routing rules as loaded at start (their ``[notify]`` section is used).
        read: read-only transactions (the idle check and the order reads).
        sms: the SMS provider (default: 阿里云 when its AccessKey is set, else none).
        clock: the time (tests move it instead of sleeping).
    """

    def __init__(self, tx: Tx, settings: HubSettings, *, rules: Any = None, read: Tx | None = None,
                 sms: SmsProvider | None = None, poll_s: float = 1.0, timeout_s: float = 10.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        if rules is not None:
            dispatch.use_rules(settings, rules)
        super().__init__("notify", poll_s=poll_s, log=log, what="notification")
        self.tx = tx
        self.read = read or tx
        self.settings = settings
        self.timeout_s = timeout_s
        self.clock = clock
        self.session = requests.Session()
        self.sms: SmsProvider | None = sms
        if sms is None and dispatch.sms_enabled(settings):
            self.sms = AliyunSms(self.session, settings.aliyun_sms_access_key_id, settings.aliyun_sms_access_key_secret,
                                 settings.aliyun_sms_base_url, timeout_s=timeout_s)
        #: per robot, when its last messages went (its 20-a-minute window)
        self._sent: dict[str, collections.deque[datetime]] = collections.defaultdict(collections.deque)

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> None:
        if dispatch.enabled(self.settings):
            super().start()

    def announce(self) -> None:
        """Log at start which robots of the rules can send (a key is set) and which cannot, and SMS on/off."""
        st = dispatch.status(self.settings, dispatch.rules_of(self.settings).notify)
        robots = st["robots"]
        if not robots and not st["sms"]["templates"]:
            return
        no_key = [n for n, r in robots.items() if not r["key_set"]]
        # all without a key: notifications are simply off (the shipped example rules); some: a setting is missing
        log.log(logging.WARNING if no_key and len(no_key) < len(robots) else logging.INFO,
                "notifications: WeCom robots sending: %s; without a key (nothing sent): %s; buyer SMS: %s",
                ", ".join(n for n, r in robots.items() if r["key_set"]) or "none", ", ".join(no_key) or "none",
                st["sms"]["provider"] or "off (no AccessKey)")

    def round(self) -> bool:
        return bool(self.read(lambda c: queue.anything_due(c, self.clock()))) and self.run_once()

    def run_once(self) -> bool:
        """Claim and send one batch of due rows; returns whether there were any."""
        rows: list[Row[Any]] = self.tx(lambda c: queue.claim(c, self.clock(), BATCH))
        for i, r in enumerate(rows):
            if self._stop.is_set():  # hand the rest back at once: a restarted hub need not wait out the lease
                rest = [x.id for x in rows[i:]]

                def hand_back(c: Connection, ids: list[int] = rest) -> None:
                    for row_id in ids:
                        queue.retry(c, row_id, "hub stopped before sending", self.clock(), count=False)
                self.tx(hand_back)
                break
            self.work(r)
        return bool(rows)

    # -- one row --------------------------------------------------------------------------------
    def work(self, r: Row[Any]) -> None:
        try:
            if r.channel == queue.WECOM:
                self._wecom(r)
            else:
                self._sms(r)
        except NotifyError as exc:
            self._failed(r, exc)

    def _wecom(self, r: Row[Any]) -> None:
        key = self.settings.wecom_robot_keys.get(r.target)
        if key is None:
            self._finish(r, "refused", f"机器人 {r.target} 已无 key 设置 / robot {r.target} has no key in the settings")
            return
        body = r.body
        if r.event == dispatch.VIP_OVERDUE:
            body = self._vip_body(r)
            if body is None:
                return
        now = self.clock()
        window = self._sent[r.target]
        while window and (now - window[0]).total_seconds() >= wecom.RATE_WINDOW_S:
            window.popleft()
        if len(window) >= wecom.RATE_LIMIT:
            free_at = window[0] + timedelta(seconds=wecom.RATE_WINDOW_S)
            self.tx(lambda c: queue.retry(c, r.id, "等待机器人每分钟 20 条的限额 / waiting for the robot's 20 a minute",
                                          free_at, count=False))
            return
        window.append(now)
        wecom.send(self.session, self.settings.wecom_base_url, key, body, timeout_s=self.timeout_s)
        self.tx(lambda c: queue.done(c, r.id, self.clock()))

    def _vip_body(self, r: Row[Any]) -> dict[str, Any] | None:
        """The overdue message for a VIP order now due, or None (rescheduled, or no longer needed)."""
        from hub.orders import load_docs

        doc = self.read(lambda c: load_docs(c, [r.order_id]).get(r.order_id))
        notify = dispatch.rules_of(self.settings).notify
        robot = next((x for x in notify.robots if x.name == r.target), None)
        if (doc is None or robot is None or "vip" not in (doc.get("flags") or [])
                or doc.get("state") not in dispatch.OPEN_STATES or not robot.wants(r.event, doc.get("warehouse"))):
            self._finish(r, "not_needed", None)
            return None
        from core.timeutil import parse_iso

        ship_by = parse_iso(doc.get("ship_by"))
        if ship_by is not None and ship_by > self.clock():  # its ship-by moved later: wait for it
            self.tx(lambda c: queue.retry(c, r.id, "ship-by moved later", ship_by, count=False))
            return None
        return wecom.message(robot, r.event, [*dispatch.order_lines(doc, self.settings.timezone),
                                              f"状态 {doc.get('state')}，请尽快安排打包发货"])

    def _sms(self, r: Row[Any]) -> None:
        if self.sms is None:
            self._finish(r, "refused", "短信服务未设置 AccessKey / no SMS AccessKey in the settings")
            return
        b = r.body
        biz_id = self.sms.send(SmsMessage(phone=b["phone"], sign_name=b["sign_name"], template_code=b["template_code"],
                                          params=dict(b.get("params") or {})))
        log.info("SMS %s to %s sent (%s)", r.target, mask_phone(b["phone"]), biz_id)
        self.tx(lambda c: queue.done(c, r.id, self.clock()))

    def _finish(self, r: Row[Any], outcome: str, words: str | None) -> None:
        now = self.clock()
        if words is None:
            self.tx(lambda c: queue.done(c, r.id, now, outcome))
        else:
            self.tx(lambda c: queue.refused(c, r.id, now, words, outcome))

    def _failed(self, r: Row[Any], exc: NotifyError) -> None:
        attempts = int(r.attempts) + 1
        words = exc.message + (f" [{exc.code}]" if exc.code and exc.code not in exc.message else "")
        log.info("notification %d (%s to %s) failed: %s; attempt %d", r.id, r.event, r.target, words, attempts)
        if exc.kind is ErrorKind.REFUSED:
            self._finish(r, "refused", words)
            return
        if attempts >= MAX_ATTEMPTS:
            self._finish(r, "gave_up", f"{words} (gave up after {attempts} attempts)")
            return
        delay = retry_delay(exc, attempts)  # the provider's own wait when it gives one
        if exc.kind is not ErrorKind.BAD_CREDENTIALS and exc.retry_after_s is not None and r.channel == queue.WECOM:
            self._sent[r.target].extend([self.clock()] * wecom.RATE_LIMIT)  # the robot is blocked for the minute
        next_at = self.clock() + timedelta(seconds=delay)
        self.tx(lambda c: queue.retry(c, r.id, words, next_at))
