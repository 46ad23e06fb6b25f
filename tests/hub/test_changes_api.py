"""The change feed: replay from any cursor converges, long-poll wakes fast, old cursors get 410."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import require_postgres
from tests.helpers.hubapi import Session, demo
from tests.helpers.longpoll import WAKE_TEST_ENV, assert_woken
from tests.hubproc import HubProcess, fresh_pg_database


def desk(hub: HubProcess) -> Session:
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()


def replay(s: Session, cursor: int, into: dict[str, dict], limit: int = 37) -> int:
    while True:
        page = s.get("/api/v1/changes", cursor=cursor, limit=limit).json()
        for ch in page["changes"]:
            held = into.get(ch["order_id"])
            if held is None or held["version"] < ch["order"]["version"]:
                into[ch["order_id"]] = ch["order"]
        cursor = page["next_cursor"]
        if not page["more"]:
            return cursor


def test_replaying_from_any_cursor_converges_to_the_hubs_state(hub: HubProcess) -> None:
    demo(hub.url, 60, seed=3)
    d = desk(hub)
    truth = {o["order_id"]: o for o in d.get("/api/v1/orders", limit=1000).json()["orders"]}
    for o in list(truth.values())[:15]:
        if o["state"] == "allocated" and not o["holds"]:
            d.do(o["order_id"], "reallocated", {"bench": "B2"}, base_version=o["version"])
    truth = {o["order_id"]: o for o in d.get("/api/v1/orders", limit=1000).json()["orders"]}
    head = d.get("/api/v1/health").json()["head"]
    rng = random.Random(5)
    for start in [0, *rng.sample(range(1, head), 5)]:
        # A client that holds the state as of `start` (built from 0..start), then replays from there.
        seen: dict[str, dict] = {}
        page = d.get("/api/v1/changes", cursor=0, limit=start).json() if start else {"changes": []}
        for ch in page["changes"]:
            seen[ch["order_id"]] = ch["order"]
        replay(d, start, seen)
        assert {k: v["version"] for k, v in seen.items()} == {k: v["version"] for k, v in truth.items()}
        assert seen == truth


def test_a_packer_sees_its_bench_and_learns_when_an_order_leaves_it(hub: HubProcess) -> None:
    demo(hub.url, 60, seed=4)
    d = desk(hub)
    orders = d.get("/api/v1/orders", limit=1000).json()["orders"]
    o = next(o for o in orders if o["bench"] == "B1" and o["state"] == "allocated")
    p = Session(hub.url, station="B1-PC", bench="B1").login()
    mine: dict[str, dict] = {}
    cursor = replay(p, 0, mine)
    assert mine and all(v["bench"] == "B1" for v in mine.values())
    assert {k for k, v in mine.items()} == {x["order_id"] for x in orders if x["bench"] == "B1"}
    d.do(o["order_id"], "reallocated", {"bench": "B2"}, base_version=o["version"])
    replay(p, cursor, mine)
    assert mine[o["order_id"]]["bench"] == "B2"  # arrives once more, so the bench drops it


def test_a_long_poll_is_woken_by_a_change(tmp_path: Path, db_url: str) -> None:
    # Only the wake-up can answer in time here (tests/helpers/longpoll.py): the poll is waiting at
    # the hub before the change, and the answer must come before the next token re-check.
    hub = HubProcess(tmp_path / "hub", db_url=db_url, env=WAKE_TEST_ENV).start()
    try:
        demo(hub.url, 5, seed=6)
        d = desk(hub)
        actor = desk(hub)
        head = d.get("/api/v1/health").json()["head"]
        o = d.get("/api/v1/orders").json()["orders"][0]
        assert_woken(d, head, lambda: actor.do(o["order_id"], "hold_raised",
                                               {"type": "address_change", "reason": "check"},
                                               base_version=o["version"]))
    finally:
        hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-4000:]


def test_a_long_poll_with_nothing_new_returns_empty_after_the_wait(hub: HubProcess) -> None:
    d = desk(hub)
    head = d.get("/api/v1/health").json()["head"]
    t0 = time.monotonic()
    page = d.get("/api/v1/changes", cursor=head, wait=1).json()
    assert page["changes"] == [] and page["next_cursor"] == head
    assert time.monotonic() - t0 >= 0.9


def test_a_cursor_older_than_the_hub_keeps_gets_410_and_a_snapshot_resyncs(hub: HubProcess) -> None:
    demo(hub.url, 30, seed=8)
    admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
    r = admin.post("/api/v1/admin/prune-changes", {"older_than_s": 0})
    assert r.status_code == 200 and r.json()["pruned"] > 0
    r = admin.get("/api/v1/changes", cursor=0)
    assert r.status_code == 410 and r.json()["error"] == "cursor_expired"
    orders: list[dict] = []
    after = None
    first_cursor = None
    while True:
        page = admin.get("/api/v1/sync/snapshot", limit=7, **({"after": after} if after else {})).json()
        first_cursor = first_cursor if first_cursor is not None else page["cursor"]
        orders += page["orders"]
        after = page["next_after"]
        if after is None:
            break
    assert len(orders) == 30
    assert admin.get("/api/v1/changes", cursor=first_cursor).status_code == 200


def test_a_cursor_ahead_of_the_hub_is_refused(hub: HubProcess) -> None:
    r = desk(hub).get("/api/v1/changes", cursor=10**9)
    assert r.status_code == 400 and r.json()["error"] == "bad_cursor"


@pytest.mark.postgres
def test_a_change_through_one_hub_process_wakes_a_long_poll_on_another(tmp_path: Path) -> None:
    """Several hub processes over one PostgreSQL: NOTIFY wakes the others' long-polls (the fallback
    re-read is longer than the test and the answer must beat the token re-check, so only the wake-up
    can answer in time)."""
    require_postgres()
    with fresh_pg_database() as db_url:
        a = HubProcess(tmp_path / "a", db_url=db_url, env=WAKE_TEST_ENV).start()
        b = HubProcess(tmp_path / "b", db_url=db_url, env=WAKE_TEST_ENV).start()
        _wake_across(a, b)


def _wake_across(a: HubProcess, b: HubProcess) -> None:
    """``a`` must be started with :data:`WAKE_TEST_ENV` (statement counts, a fallback re-read
    longer than the test), so only NOTIFY from ``b`` can answer its waiter in time."""
    try:
        demo(b.url, 3, seed=12)
        watcher = desk(a)
        actor = desk(b)
        head = watcher.get("/api/v1/health").json()["head"]
        o = actor.get("/api/v1/orders").json()["orders"][0]
        assert_woken(watcher, head, lambda: actor.do(o["order_id"], "hold_raised",
                                                     {"type": "address_change", "reason": "x"},
                                                     base_version=o["version"]), wait=30)
    finally:
        a.stop()
        b.stop()


def test_a_reader_tailing_the_feed_during_concurrent_commits_never_skips_a_seq(hub: HubProcess) -> None:
    """The commit-order gap: with seqs from a plain PostgreSQL sequence, a reader could see 102
    before 101 committed and move its cursor past 101 for ever. Writers here commit concurrently
    (pushes from several threads) while a reader tails the feed in small pages; every seq from 1
    to the head must reach it exactly once, in order."""
    from core.demo import generate_orders
    from core.model import intake_to_json
    from tests.helpers.hubapi import push

    reader = desk(hub)
    batches = [[intake_to_json(o) for o in generate_orders(5, seed=900 + i)] for i in range(24)]
    for i, batch in enumerate(batches):
        for b in batch:
            b["channel_order_no"] = f"GAP{i}-{b['channel_order_no']}"
    done = threading.Event()
    failures: list[str] = []

    def write(part: list[list[dict]]) -> None:
        for batch in part:
            r = push(hub.url, "generic", {"orders": batch})
            if r.status_code != 200:
                failures.append(r.text)

    writers = [threading.Thread(target=write, args=(batches[i::4],)) for i in range(4)]
    for t in writers:
        t.start()
    seen: list[int] = []
    cursor = 0
    while True:
        finished = done.is_set()
        page = reader.get("/api/v1/changes", cursor=cursor, limit=3).json()
        seen += [c["seq"] for c in page["changes"]]
        cursor = page["next_cursor"]
        if finished and not page["more"]:
            break
        if not any(t.is_alive() for t in writers):
            done.set()
    for t in writers:
        t.join()
    assert failures == []
    head = reader.get("/api/v1/health").json()["head"]
    assert seen == list(range(1, head + 1))
