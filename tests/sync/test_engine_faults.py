"""The engine thread against a hub that fails in every way: it says so in words, keeps every action, recovers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from core.queues import load_rows
from core.sync.client import HubError, HubMalformed
from core.sync.engine import OFFLINE, ONLINE, Backoff
from tests.helpers import hubapi
from tests.helpers.fake_http import FakeHTTPServer, send_json
from tests.helpers.snapshots import snapshot
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess
from tests.sync.conftest import Station, allocated, hub_action_counts

MakeStation = Callable[..., Station]


class FaultyFront(FakeHTTPServer):
    """Forwards to the real hub, or answers with a fault (``fault`` = None | 500 | garbage | truncated)."""

    def __init__(self, hub_url: str) -> None:
        self.hub_url = hub_url
        self.fault: str | None = None
        self.fault_path = "/api/v1/"  # only requests under this path get the fault
        self.hits = 0
        super().__init__(self._respond, http11=True)

    def _respond(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        faulty = h.path.startswith(self.fault_path) and not h.path.startswith("/api/v1/auth")
        fault = self.fault if faulty else None
        if fault is not None:
            self.hits += 1
        if fault == "500":
            send_json(h, 500, b'{"error": "internal"}')
        elif fault == "garbage":
            send_json(h, 200, b"<html>captive portal</html>")
        elif fault == "truncated":
            send_json(h, 200, b'{"results": [{"action_id": ', length=400)
        elif fault == "404":
            send_json(h, 404, b'{"error": "not_found", "message": "Not Found"}')
        else:
            headers = {k: v for k, v in h.headers.items() if k.lower() in ("authorization", "content-type")}
            r = requests.request(h.command, self.hub_url + h.path, data=body, headers=headers, timeout=40)
            send_json(h, r.status_code, r.content)


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
        order = next(r for r in load_rows(store) if r.state == "allocated" and not r.held)
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


def test_whole_batch_refused_by_something_in_front_of_the_hub_keeps_every_action(
    seeded_hub: HubProcess, front: FaultyFront, make_station: MakeStation
) -> None:
    """A 404 for POST /actions (a proxy route missing, an old hub) is about the request, not the
    actions: none of them may be finalised as rejected."""
    st = make_station(front.url)
    st.engine.sync_once()
    ids = allocated(st.store, 3)
    for oid in ids:
        st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    front.fault_path, front.fault = "/api/v1/actions", "404"
    with pytest.raises(HubError, match="Not Found"):
        st.engine.sync_once()
    assert st.store.pending_count() == 3 and st.store.conflict_count() == 0
    assert st.engine.state.status == OFFLINE and "Not Found" in str(st.engine.state.last_error)
    assert all(a.attempts == 1 for a in st.store.pending_actions())
    front.fault = None
    assert st.engine.sync_once().outcomes == {"applied": 3}
    assert sorted(hub_action_counts(seeded_hub.url, ids).values()) == [1, 1, 1]


def test_an_action_too_big_for_the_hub_is_rejected_alone_and_the_rest_go_through(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    a, b, c = allocated(st.store, 3)
    st.outbox.perform(a, "step", {"step": "picked"}, "P001")
    huge = st.outbox.perform(
        b, "hold_raised", {"type": "scan_mismatch", "reason": "photo", "details": {"blob": "x" * 3_000_000}}, "P001"
    )
    st.outbox.perform(c, "step", {"step": "picked"}, "P001")
    report = st.engine.sync_once()
    assert report.outcomes == {"applied": 2, "rejected": 1}
    assert st.store.pending_count() == 0
    [record] = st.store.conflicts(huge.order_id)
    assert record["outcome"] == "rejected" and record["error"] == "payload_too_large"
    assert "larger than" in record["reason"]
    for oid in (a, c):
        assert "picked" in st.store.get_order(oid).snapshot["steps"]  # type: ignore[union-attr]


def test_a_locked_store_is_reported_and_the_threads_carry_on(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    import sqlite3

    st = make_station(seeded_hub.url, busy_timeout_s=0.05)
    st.engine.sync_once()
    oid = allocated(st.store, 1)[0]
    holder = sqlite3.connect(st.store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writing: our writes wait, then give up
    try:
        st.engine.start()
        desk = hubapi.Session(seeded_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
        desk.do(oid, "hold_raised", {"type": "gift_stock", "reason": "while locked"})
        wait_until(lambda: "local problem" in str(st.engine.state.last_error), what="lock reported")
        assert st.engine.state.status == OFFLINE and "in use by another program" in str(st.engine.state.last_error)
        assert all(t.is_alive() for t in st.engine._threads)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_until(
        lambda: any(h["reason"] == "while locked" for h in st.store.get_order(oid).snapshot["holds"]),  # type: ignore[union-attr]
        what="change applied after the lock is gone",
    )
    wait_until(lambda: st.engine.state.status == ONLINE and st.engine.state.last_error is None, what="online")


class InstantHub(FakeHTTPServer):
    """A hub look-alike that answers every long-poll at once with nothing new (as some proxies do),
    or with ``more: true`` and no progress; it records when each change-feed request came."""

    def __init__(self, *, more: bool = False, snapshot_loop: bool = False) -> None:
        self.polls: list[float] = []
        self.snapshot_pages = 0
        self.more = more
        self.snapshot_loop = snapshot_loop
        super().__init__(self._respond, http11=True)

    def _respond(self, h: BaseHTTPRequestHandler, _body: bytes) -> None:
        if h.path.startswith("/api/v1/auth/login"):
            body: object = {
                "token": "t",
                "expires_at": "2099-01-01T00:00:00Z",
                "operator": {"code": "P001", "name": "P", "role": "packer"},
                "station": {"name": "B1-PC", "bench": "B1"},
                "device_id": "dev-B1-PC",
            }
        elif h.path.startswith("/api/v1/sync/snapshot"):
            self.snapshot_pages += 1
            if self.snapshot_loop:  # the same page again and again
                body = {"orders": [snapshot("BL20261125-000009")], "next_after": "BL20261125-000009", "cursor": 5}
            else:
                body = {"orders": [], "next_after": None, "cursor": 5}
        elif h.path.startswith("/api/v1/changes"):
            self.polls.append(time.monotonic())
            body = {"changes": [], "next_cursor": 5, "more": self.more}
        else:
            body = {"results": [], "last_applied_seq": 0}
        send_json(h, 200, body)


@pytest.mark.parametrize("more", [False, True])
def test_a_hub_answering_long_polls_at_once_is_not_polled_in_a_busy_loop(
    make_station: MakeStation, more: bool
) -> None:
    hub = InstantHub(more=more)
    try:
        st = make_station(hub.url, min_poll_interval_s=0.5)
        st.engine.start()
        wait_until(lambda: len(hub.polls) >= 4, what="a few polls")
        st.engine.stop()
        gaps = [b - a for a, b in zip(hub.polls, hub.polls[1:], strict=False)]
        # A loose lower bound only: a busy loop polls every few milliseconds, the engine every 0.5 s;
        # half of that leaves room for any request latency on a loaded machine.
        assert min(gaps) >= 0.25, gaps
    finally:
        hub.close()


def test_a_hub_repeating_the_same_snapshot_page_is_an_error_not_an_endless_download(
    make_station: MakeStation,
) -> None:
    hub = InstantHub(snapshot_loop=True)
    try:
        st = make_station(hub.url)
        with pytest.raises(HubMalformed, match="went backwards"):
            st.engine.sync_once()
        assert hub.snapshot_pages == 2 and st.store.cursor() is None  # no half-finished re-sync kept
    finally:
        hub.close()
