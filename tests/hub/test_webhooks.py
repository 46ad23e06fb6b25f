"""Outbound webhooks against a real local receiver: signed, retried, none lost across a hub kill."""

from __future__ import annotations

import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from core.states import Trigger
from tests.helpers.fake_http import FakeHTTPServer
from tests.helpers.hubapi import Session, demo
from tests.helpers.printer import FakePrinter
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess, free_port

SECRET = "wh-secret"


class Receiver(FakeHTTPServer):
    """An HTTP receiver that fails the first ``fail_first`` requests, then records events."""

    def __init__(self, port: int, fail_first: int = 0) -> None:
        self.fail_left = fail_first
        self.events: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.bad_signatures = 0
        super().__init__(self._respond, port=port)

    def _respond(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        self.requests += 1
        if self.fail_left > 0:
            self.fail_left -= 1
            h.send_response(500)
            h.end_headers()
            return
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if h.headers["X-PackDesk-Signature"] != want:
            self.bad_signatures += 1
        self.events[h.headers["X-PackDesk-Event-Id"]] = json.loads(body)
        h.send_response(204)
        h.end_headers()


def expected_events(hub: HubProcess) -> set[tuple[str, str, int]]:
    d = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    out = set()
    triggers = {t.value for t in Trigger}
    for o in d.get("/api/v1/orders", limit=1000).json()["orders"]:
        entries = d.get(f"/api/v1/orders/{o['order_id']}/audit").json()["entries"]
        out |= {(o["order_id"], e["what"], i) for i, e in enumerate(x for x in entries if x["what"] in triggers)}
    return out


def received(recv: Receiver) -> set[tuple[str, str, int]]:
    by_order: dict[str, list[dict[str, Any]]] = {}
    for ev in recv.events.values():
        by_order.setdefault(ev["order_id"], []).append(ev)
    out = set()
    for oid, evs in by_order.items():
        for i, ev in enumerate(sorted(evs, key=lambda e: e["version"])):
            out.add((oid, ev["trigger"], i))
    return out


def hub_with_webhook(tmp_path: Path, db_url: str, port: int) -> HubProcess:
    hooks = json.dumps([{"name": "erp", "url": f"http://127.0.0.1:{port}/hook", "secret": SECRET}])
    return HubProcess(tmp_path / "hub", db_url=db_url,
                      env={"PACKDESK_HUB_WEBHOOKS": hooks, "PACKDESK_HUB_WEBHOOK_LEASE": "2"}).start()


def test_a_receiver_that_fails_first_gets_every_event_signed_once_it_recovers(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    recv = Receiver(port, fail_first=3)
    hub = hub_with_webhook(tmp_path, db_url, port)
    try:
        demo(hub.url, 4, seed=21)
        want = expected_events(hub)
        wait_until(lambda: received(recv) >= want, 30, what="every event delivered")
        assert received(recv) == want
        assert recv.bad_signatures == 0
        assert recv.requests > len(recv.events)  # the failures were retried
        ev = next(iter(recv.events.values()))
        assert {"event_id", "order_id", "trigger", "from_state", "to_state", "at"} <= set(ev)
    finally:
        hub.stop()
        recv.close()


def test_a_hub_killed_mid_delivery_delivers_everything_after_restart(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    hub = hub_with_webhook(tmp_path, db_url, port)
    recv = None
    try:
        # The receiver's port accepts and never answers: the hub is killed with a delivery in flight.
        with FakePrinter(port, read=False) as silent:
            demo(hub.url, 5, seed=22)
            want = expected_events(hub)
            wait_until(lambda: silent.connections > 0, 30, what="the hub delivering an event")
            hub.kill()
        recv = Receiver(port)
        hub.start()
        wait_until(lambda: received(recv) >= want, 40, what="every event delivered after the restart")
        assert received(recv) == want
    finally:
        hub.stop()
        if recv:
            recv.close()
