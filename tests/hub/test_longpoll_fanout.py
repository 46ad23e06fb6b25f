"""Long-polls served from the hub's shared change tail (hub/feed.py ChangeTail, hub/longpoll.py).

Many waiters each get exactly the changes the table would give them, a waiter behind the buffer
reads the table (410 and 400 still come from there), a commit through another hub process wakes
the waiters here, the database work per commit does not grow with the number of waiters, a
revoked token stops long-polling within seconds, and readers do not queue behind SQLite's write
lock.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.longpoll import TOKEN_RECHECK_S
from tests.conftest import require_postgres
from tests.helpers.clock import HubClock
from tests.helpers.hubapi import Session, demo
from tests.helpers.longpoll import token_lookups, wait_for_waiter
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess, fresh_pg_database


def desk(url: str, station: str = "DESK-1") -> Session:
    return Session(url, operator="D001", pin="2222", station=station, bench=None).login()


def packer(url: str, bench: str, n: int) -> Session:
    return Session(url, operator="P001", pin="1111", station=f"{bench}-PC{n}", bench=bench).login()


class Poller:
    """One client long-polling in its own thread, from ``cursor`` until stopped."""

    def __init__(self, session: Session, cursor: int, wait: float = 20, limit: int = 500) -> None:
        self.session = session
        self.cursor = cursor
        self.wait = wait
        self.limit = limit
        self.changes: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Poller:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                r = self.session.get("/api/v1/changes", cursor=self.cursor, wait=self.wait, limit=self.limit)
            except requests.ConnectionError as exc:
                if not self.stop.is_set():  # after stop, the hub going away ends the wait
                    self.errors.append(repr(exc))
                return
            if r.status_code != 200:
                self.errors.append(f"{r.status_code} {r.text}")
                return
            page = r.json()
            self.changes += page["changes"]
            self.cursor = page["next_cursor"]

    def seqs(self) -> list[int]:
        return [c["seq"] for c in self.changes]


def table_changes(s: Session, cursor: int) -> list[dict[str, Any]]:
    """The reference: what the plain table read (``wait=0``) gives this caller after ``cursor``."""
    out: list[dict[str, Any]] = []
    while True:
        page = s.get("/api/v1/changes", cursor=cursor, limit=1000).json()
        out += page["changes"]
        cursor = page["next_cursor"]
        if not page["more"]:
            return out


def head(s: Session) -> int:
    return int(s.get("/api/v1/health").json()["head"])


def step(s: Session, order: dict[str, Any], i: int) -> dict[str, Any]:
    r = s.do(order["order_id"], "step", {"step": "picked", "detail": {"round": i}}, base_version=order["version"])
    assert r["outcome"] == "applied", r
    return dict(r["order"])


def workable(s: Session) -> list[dict[str, Any]]:
    return [o for o in s.get("/api/v1/orders", limit=1000).json()["orders"]
            if o["state"] == "allocated" and not o["holds"]]


def run_sql(hub: HubProcess, sql: str, params: tuple[Any, ...] = ()) -> None:
    if hub.db_url.startswith("sqlite"):
        conn = sqlite3.connect(hub.db_url.removeprefix("sqlite:///"), timeout=30)
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(hub.db_url, autocommit=True) as pg:
            pg.execute(sql.replace("?", "%s"), params)


@pytest.fixture
def counting_hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "hub", db_url=db_url, env={"PACKDESK_HUB_COUNT_STATEMENTS": "1"}).start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-4000:]


def test_many_long_polls_from_different_benches_each_get_exactly_their_changes(hub: HubProcess) -> None:
    demo(hub.url, 80, seed=21)
    d = desk(hub.url)
    orders = workable(d)
    benches = sorted({o["bench"] for o in orders})
    assert len(benches) >= 3
    start = head(d)
    pollers = [Poller(packer(hub.url, b, n), start) for b in benches for n in range(3)]
    pollers += [Poller(desk(hub.url, f"DESK-W{n}"), start) for n in range(3)]
    for p in pollers:
        p.start()
    by_bench: dict[str, list[dict[str, Any]]] = {}
    for o in orders:
        by_bench.setdefault(o["bench"], []).append(o)
    # Steps on every bench, and one order moved B-x -> B-y (it must reach both benches' packers).
    for i in range(4):
        for b in benches:
            o = by_bench[b][i % len(by_bench[b])]
            by_bench[b][i % len(by_bench[b])] = step(d, o, i)
    moved = by_bench[benches[0]][0]
    r = d.do(moved["order_id"], "reallocated", {"bench": benches[1]}, base_version=moved["version"])
    assert r["outcome"] == "applied", r
    final = head(d)
    try:
        for p in pollers:
            wait_until(lambda p=p: p.cursor == final or p.errors, what="every poller at the head")
    finally:
        for p in pollers:
            p.stop.set()
    for p in pollers:
        assert p.errors == []
        assert p.changes == table_changes(p.session, start), p.session.station
    b0 = next(p for p in pollers if p.session.bench == benches[0])
    assert moved["order_id"] in {c["order_id"] for c in b0.changes}
    assert all(c["order"]["bench"] == benches[0] or c["order_id"] == moved["order_id"] for c in b0.changes)
    assert len(pollers[-1].changes) == final - start  # a desk sees every change


def test_a_waiter_behind_the_buffer_reads_the_table_and_keeps_the_cursor_rules(tmp_path: Path, db_url: str) -> None:
    hub = HubProcess(tmp_path / "hub", db_url=db_url).start()
    try:
        demo(hub.url, 40, seed=22)
        hub.restart()  # the tail starts empty at the head: every older cursor is behind its buffer
        d = desk(hub.url)
        top = head(d)
        # Behind the buffer with changes to see: answered at once from the table.
        t0 = time.monotonic()
        r = d.get("/api/v1/changes", cursor=3, wait=20, limit=7)
        assert r.status_code == 200 and time.monotonic() - t0 < 10
        assert r.json() == d.get("/api/v1/changes", cursor=3, limit=7).json()
        assert r.json()["more"] is True and r.json()["next_cursor"] == 10
        # A packer with nothing of its own after the cursor: the table moves it to the head,
        # then its next own change comes from the buffer.
        orders = workable(d)
        bench = orders[0]["bench"]
        p = packer(hub.url, bench, 1)
        last_own = max(c["seq"] for c in table_changes(p, 0))
        poll = Poller(p, last_own, wait=2).start()
        wait_until(lambda: poll.cursor == top, what="the packer moved to the head (an empty answer)")
        other = next(o for o in orders if o["bench"] != bench)
        step(d, other, 1)  # not its bench: nothing for it
        mine = step(d, orders[0], 2)
        wait_until(lambda: poll.changes, what="the packer's own change")
        poll.stop.set()
        assert [c["order"] for c in poll.changes] == [mine]
        assert poll.cursor == head(d)
        # 400 and 410 on the long-poll path, as on the plain read.
        r = d.get("/api/v1/changes", cursor=10**9, wait=5)
        assert r.status_code == 400 and r.json()["error"] == "bad_cursor"
        admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
        assert admin.post("/api/v1/admin/prune-changes", {"older_than_s": 0}).status_code == 200
        r = d.get("/api/v1/changes", cursor=0, wait=5)
        assert r.status_code == 410 and r.json()["error"] == "cursor_expired"
    finally:
        hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-4000:]


def test_after_a_prune_the_buffer_serves_no_cursor_the_table_refuses(hub: HubProcess) -> None:
    """Without a restart the buffer holds every change from 0; a prune must still end in 410."""
    demo(hub.url, 20, seed=26)
    d = desk(hub.url)
    assert len(d.get("/api/v1/changes", cursor=0, wait=5).json()["changes"]) == 20  # from the buffer
    admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
    assert admin.post("/api/v1/admin/prune-changes", {"older_than_s": 0}).json()["oldest_cursor"] == 20
    wait_until(lambda: d.get("/api/v1/changes", cursor=0, wait=1).status_code == 410, timeout=5,
               what="410 on the long-poll path after the prune")
    assert d.get("/api/v1/changes", cursor=19, wait=1).status_code == 410
    page = d.get("/api/v1/changes", cursor=20, wait=1).json()
    assert page == {"changes": [], "next_cursor": 20, "more": False}


@pytest.mark.postgres
def test_a_change_through_a_second_hub_process_wakes_the_right_waiters_in_the_first(tmp_path: Path) -> None:
    """Hub A's waiters, hub B's commits; A's fallback poll is a minute, so only NOTIFY can wake A."""
    require_postgres()
    env = {"PACKDESK_HUB_LONGPOLL_FALLBACK": "60"}
    with fresh_pg_database() as db_url:
        a = HubProcess(tmp_path / "a", db_url=db_url, env=env).start()
        b = HubProcess(tmp_path / "b", db_url=db_url, env=env).start()
        try:
            demo(b.url, 40, seed=23)
            db_ = desk(b.url)
            orders = workable(db_)
            benches = sorted({o["bench"] for o in orders})[:2]
            start = head(db_)
            pollers = {bench: Poller(packer(a.url, bench, 1), start, wait=30).start() for bench in benches}
            watcher = Poller(desk(a.url, "DESK-A"), start, wait=30).start()
            target = next(o for o in orders if o["bench"] == benches[0])
            sent = time.monotonic()
            new = step(db_, target, 1)
            wait_until(lambda: pollers[benches[0]].changes and watcher.changes, timeout=20, what="A's waiters woken")
            assert time.monotonic() - sent < 20
            assert [c["order"] for c in pollers[benches[0]].changes] == [new]
            assert [c["order"] for c in watcher.changes] == [new]
            assert pollers[benches[1]].changes == []
            for p in [*pollers.values(), watcher]:
                p.stop.set()
                assert p.errors == []
        finally:
            a.stop()
            b.stop()
        assert "Traceback" not in a.errors_logged() + b.errors_logged()


def _statements(s: Session) -> dict[str, int]:
    return dict(s.get("/api/v1/health").json()["statements"])


def _commits_with_waiters(hub: HubProcess, n_waiters: int, commits: int, seed: int) -> tuple[dict[str, int], float]:
    """Statement counts (by table) over ``commits`` actions while ``n_waiters`` desks long-poll."""
    d = desk(hub.url, f"DESK-ACT{seed}")
    orders = workable(d)[:commits]
    start = head(d)
    pollers = [Poller(desk(hub.url, f"DESK-W{seed}-{i}"), start, wait=30) for i in range(n_waiters)]
    logged_in = _statements(d)
    for p in pollers:
        p.start()
    # Every waiter has been authenticated (its first request is in the hub) before counting.
    wait_until(lambda: _statements(d).get("tokens", 0) - logged_in.get("tokens", 0) >= n_waiters,
               what="all waiters authenticated")
    before = _statements(d)
    t0 = time.monotonic()
    for i, o in enumerate(orders):
        step(d, o, i)
        want = start + i + 1
        wait_until(lambda want=want: all(p.cursor >= want for p in pollers), what=f"all waiters at {want}")
    elapsed = time.monotonic() - t0
    after = _statements(d)
    for p in pollers:
        p.stop.set()
    step(d, orders[0] | {"version": orders[0]["version"] + 1}, 99)  # wakes them so their threads end
    for p in pollers:
        p.thread.join(35)
        assert p.errors == []
        assert p.seqs()[:commits] == list(range(start + 1, start + commits + 1))
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}, elapsed


def test_database_work_per_commit_does_not_grow_with_the_number_of_waiters(counting_hub: HubProcess) -> None:
    """Counted in the hub process (a SQLAlchemy statement event, ``count_statements``): with 40
    desks long-polling and each woken by every commit, the change rows are read once per commit,
    not once per waiter, and tokens are re-checked once per epoch, not on every re-poll."""
    demo(counting_hub.url, 60, seed=24)
    commits = 8
    few, _ = _commits_with_waiters(counting_hub, 2, commits, seed=1)
    many, elapsed = _commits_with_waiters(counting_hub, 40, commits, seed=2)
    # Per commit: the writer's own statements, the tail's one read of the new rows (PostgreSQL
    # may read twice: its own NOTIFY comes back too), the health reads of this test.
    assert many["changes"] <= few["changes"] + 3, (few, many)
    assert many["changes"] <= 4 * commits, many
    assert many.get("counters", 0) <= few.get("counters", 0) + 2 * commits + elapsed / 1.0 + 3, (few, many)
    epochs = elapsed / TOKEN_RECHECK_S + 2
    assert many.get("tokens", 0) <= 40 * epochs, (many, elapsed)


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_token_that_ends_stops_long_polling_within_seconds(tmp_path: Path, db_url: str, how: str) -> None:
    clock = HubClock(tmp_path / "clock")
    hub = HubProcess(tmp_path / "hub", db_url=db_url, env={"PACKDESK_HUB_TOKEN_TTL": "3600", "PACKDESK_HUB_COUNT_STATEMENTS": "1",
                                                                 **clock.env()}).start()
    try:
        d = desk(hub.url)
        top = head(d)
        got: dict[str, Any] = {}

        def poll() -> None:
            r = d.get("/api/v1/changes", cursor=top, wait=30)
            got["status"], got["body"], got["at"] = r.status_code, r.json(), time.monotonic()

        before = token_lookups(d)
        t = threading.Thread(target=poll)
        t.start()
        wait_for_waiter(d, before)
        if how == "revoked":
            # What a log-out or a PIN change does to the token (another branch adds those calls).
            run_sql(hub, "DELETE FROM tokens WHERE token_hash = ?", (hashlib.sha256(d.token.encode()).hexdigest(),))
        else:
            clock.advance(3601)  # the hub's clock, past the token's end
        ended = time.monotonic()
        t.join(40)
        assert got["status"] == 401, got
        assert got["body"]["error"] == ("unauthorized" if how == "revoked" else "token_expired")
        assert got["at"] - ended < TOKEN_RECHECK_S + 5
        assert d.get("/api/v1/changes", cursor=top, wait=1).status_code == 401
    finally:
        hub.stop()


def test_reads_do_not_queue_behind_sqlites_write_lock(sqlite_hub: HubProcess) -> None:
    """Another writer holds the write lock (as a long import would): reads still answer at once."""
    demo(sqlite_hub.url, 5, seed=25)
    d = desk(sqlite_hub.url)
    oid = d.get("/api/v1/orders").json()["orders"][0]["order_id"]
    lock = sqlite3.connect(sqlite_hub.db_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        lock.execute("UPDATE counters SET value = value WHERE key = 'changes'")
        top = None
        for path, params in [("/api/v1/health", {}), (f"/api/v1/orders/{oid}", {}), ("/api/v1/orders", {}),
                             ("/api/v1/sync/snapshot", {}), ("/api/v1/changes", {"cursor": 0}),
                             ("/api/v1/changes", {"cursor": 5, "wait": 1}), ("/api/v1/devices/me", {})]:
            try:
                r = d.http.get(sqlite_hub.url + path, params=params, headers=d.headers, timeout=5)
            except requests.Timeout:
                pytest.fail(f"GET {path} waited for the write lock")
            assert r.status_code == 200, (path, r.text)
            top = r.json().get("head", top)
        assert top == 5
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_a_stopping_hub_answers_its_waiting_long_polls_at_once(tmp_path: Path, db_url: str) -> None:
    """SIGTERM must not wait out the long-polls (up to 30 s each): they answer, then the hub exits."""
    proc = HubProcess(tmp_path / "hub", db_url=db_url, env={"PACKDESK_HUB_COUNT_STATEMENTS": "1"}).start()
    try:
        d = desk(proc.url, "DESK-STOP")
        logged_in = _statements(d)
        answers: list[requests.Response | Exception] = []

        def poll() -> None:
            try:
                answers.append(d.get("/api/v1/changes", cursor=head(d), wait=30))
            except requests.RequestException as exc:
                answers.append(exc)

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        # head() and the long-poll each authenticate once: then the long-poll is in the hub.
        wait_until(lambda: _statements(d).get("tokens", 0) - logged_in.get("tokens", 0) >= 2,
                   what="the long-poll authenticated")
        assert proc.proc is not None
        t0 = time.monotonic()
        proc.proc.terminate()
        proc.proc.wait(20)
        stopped_in = time.monotonic() - t0
        t.join(5)
    finally:
        proc.kill()
    assert answers and isinstance(answers[0], requests.Response), answers
    assert answers[0].status_code == 200 and answers[0].json()["changes"] == [], answers[0].text
    # uvicorn alone would have held the request for the whole 30 s wait.
    assert stopped_in < 15, f"the hub took {stopped_in:.1f} s to stop"
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-3000:]
