"""Test helpers, one copy of each (issue 10): a test file imports them, never re-writes them.

* ``bugwatch``: the suite-wide check behind ``tests/conftest.py _bug_watch`` (ERROR logs of
  ``packdesk.*``, thread exceptions; ``@pytest.mark.allow_error_log`` for expected ones).
* ``waiting.wait_until``: wait for a condition, never a fixed sleep.
* ``station``: bench/desk stations (store, outbox, sync engine, app services), demo hubs, the main window.
* ``printer``: a fake networked (raw TCP) label printer; ``closed_port`` for one that is off.
* ``fake_http``: a throwaway HTTP server a test scripts (fake hubs, proxies, webhook receivers).
* ``keyboard``: keys as a wedge scanner (``wedge``) or a person (``person``) types them into a scan field.
* ``fake_shop``: the control surface every fake shop platform in ``tests/channels/`` offers.
* ``clock``: a hub subprocess's clock a test moves forward (token expiry, login back-off).
* ``longpoll``: proving a long-poll was woken (waiting at the hub, answered before the re-check).
* ``hubapi``, ``snapshots``, ``rawjson``, ``proxy``, ``full_disk``: hub sessions, order snapshots,
  raw JSON bodies, a TCP proxy that loses answers, a hub process whose SQLite file is full.
"""
