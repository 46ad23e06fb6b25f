"""The engine thread against a hub that fails in every way: it says so in words, keeps every action, recovers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from core.sync.engine import OFFLINE, ONLINE, Backoff
from tests.hubproc import HubProcess
from tests.sync.conftest import Station, allocated, hub_action_counts, wait_until

MakeStation = Callable[..., Station]


class FaultyFront:
    """Forwards to the real hub, or answers with a fault (``fault`` = None | 500 | garbage | truncated)."""

    def __init__(self, hub_url: str) -> None:
        self.fault: str | None = None
        self.hits = 0
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                fault = front.fault if not self.path.startswith("/api/v1/auth") else None
                if fault is not None:
                    front.hits += 1
                with contextlib.suppress(OSError):
                    if fault == "500":
                        self._send(500, b'{"error": "internal"}')
                    elif fault == "garbage":
                        self._send(200, b"<html>captive portal</html>")
                    elif fault == "truncated":
                        self._send(200, b'{"results": [{"action_id": ', length=400)
                    else:
                        headers = {
                            k: v
                            for k, v in self.headers.items()
                            if k.lower() in ("authorization", "content-type")
                        }
                        r = requests.request(
                            self.command, hub_url + self.path, data=body, headers=headers, timeout=40
                        )
                        self._send(r.status_code, r.content)

            def _send(self, status: int, raw: bytes, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length if length is not None else len(raw)))
                if length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def front(seeded_hub: HubProcess) -> Iterator[FaultyFront]:
    f = FaultyFront(seeded_hub.url)
    yield f
    f.close()


@pytest.mark.parametrize(
    ("fault", "words"),
    [("500", "internal error"), ("garbage", "not JSON"), ("truncated", "cut off")],
)
def test_engine_reports_fault_keeps_actions_and_recovers(
    seeded_hub: HubProcess, front: FaultyFront, make_station: MakeStation, fault: str, words: str
) -> None:
    st = make_station(front.url)
    st.engine.sync_once()
    ids = allocated(st.store, 3)
    front.fault = fault
    st.engine.start()
    for oid in ids:
        st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    wait_until(
        lambda: st.engine.state.status == OFFLINE and words in str(st.engine.state.last_error),
        what=f"offline with '{words}'",
    )
    assert st.store.pending_count() == 3
    hits = front.hits
    wait_until(lambda: front.hits >= hits + 2, what="retries while faulty")
    assert all(t.is_alive() for t in st.engine._threads)
    front.fault = None
    wait_until(lambda: st.store.pending_count() == 0, what="outbox drained after recovery")
    wait_until(lambda: st.engine.state.status == ONLINE and st.engine.state.last_error is None, what="online")
    counts = hub_action_counts(seeded_hub.url, ids)
    assert sorted(counts.values()) == [1, 1, 1]


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    import random

    b = Backoff(base_s=0.5, cap_s=8.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(4.0 <= d <= 8.0 for d in delays[5:])
    assert len(set(delays)) == len(delays)  # jittered
    b.reset()
    assert b.next_delay() <= 0.5


def test_stop_returns_promptly_during_a_long_poll(seeded_hub: HubProcess, make_station: MakeStation) -> None:
    import time

    st = make_station(seeded_hub.url, long_poll_s=2.0)
    st.engine.sync_once()
    st.engine.start()
    wait_until(lambda: st.engine.state.status == ONLINE, what="online")
    t0 = time.monotonic()
    st.engine.stop(timeout_s=5.0)
    assert time.monotonic() - t0 < 4.0 and not st.engine.running


def test_a_refused_login_keeps_the_queue_and_the_previous_login(tmp_path, sqlite_hub) -> None:  # type: ignore[no-untyped-def]
    """A packer trying to log in on a desk station is refused (403): that must not finalise the
    desk's queued actions as rejected, nor replace the desk's working login."""
    import pytest

    from core.outbox import Outbox
    from core.store import open_store
    from core.sync import SyncConfig, SyncEngine
    from core.sync.client import HubUnauthorized
    from tests.helpers.hubapi import demo

    demo(sqlite_hub.url, 5, seed=77)
    store = open_store(tmp_path / "desk.sqlite3")
    engine = SyncEngine(store, SyncConfig(sqlite_hub.url, "DESK-9", None, "dev-desk-9"))
    try:
        engine.login("D001", "2222")
        engine.sync_once()
        order = next(o for o in store.list_orders(state="allocated") if not o.snapshot.get("holds"))
        Outbox(store).perform(order.order_id, "hold_raised", {"type": "scan_mismatch", "reason": "recount"},
                              "D001", role="desk")
        with pytest.raises(HubUnauthorized, match="bench"):
            engine.login("P001", "1111")
        assert store.pending_count() == 1
        assert engine.login_info is not None and engine.login_info.operator == "D001"
        engine.sync_once()
        assert store.pending_count() == 0
        assert store.get_order(order.order_id).snapshot["holds"]  # type: ignore[union-attr]
    finally:
        engine.stop()
        store.close()
