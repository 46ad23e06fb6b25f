"""Outbound webhooks against a real local receiver: signed, retried, none lost across a hub kill."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from core.states import Trigger
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess, free_port

SECRET = "wh-secret"


class Receiver:
    """An HTTP receiver that fails the first ``fail_first`` requests, then records events."""

    def __init__(self, port: int, fail_first: int = 0) -> None:
        self.port = port
        self.fail_left = fail_first
        self.events: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.bad_signatures = 0
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recv.requests += 1
                if recv.fail_left > 0:
                    recv.fail_left -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if self.headers["X-PackDesk-Signature"] != want:
                    recv.bad_signatures += 1
                recv.events[self.headers["X-PackDesk-Event-Id"]] = json.loads(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def wait_until(cond: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


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
        assert wait_until(lambda: received(recv) >= want, 30), (len(received(recv)), len(want))
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
    hub = hub_with_webhook(tmp_path, db_url, port)  # receiver not up yet: deliveries fail
    recv = None
    try:
        demo(hub.url, 5, seed=22)
        want = expected_events(hub)
        time.sleep(0.5)
        hub.kill()
        recv = Receiver(port)
        hub.start()
        assert wait_until(lambda: received(recv) >= want, 40), (len(received(recv)), len(want))
        assert received(recv) == want
    finally:
        hub.stop()
        if recv:
            recv.close()
