"""The local store: schema and migrations, snapshots vs pending work, bad files kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from core.outbox import Outbox
from core.print_journal import PrintJournal
from core.queues import load_rows
from core.store import (
    LocalStore,
    StoreCorrupt,
    StoreLocked,
    StoreTooNew,
    StoreUnwritable,
    migrations,
    open_store,
)
from tests.helpers.snapshots import snapshot


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def test_new_store_is_wal_with_full_sync_and_latest_schema(store: LocalStore) -> None:
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert migrations.user_version(conn) == migrations.LATEST


def test_store_in_user_data_folder_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    s = open_store()
    try:
        assert s.path == tmp_path / "home" / "data" / "bench.sqlite3"
        assert s.path.exists()
    finally:
        s.close()


#: The schema a version-1 client left on disk, frozen here as that client wrote it (not made by
#: today's migration code, so an edited step or a step that assumes more than v1 had is caught).
V1_STORE_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, state TEXT NOT NULL, bench TEXT, waybill_no TEXT, channel_order_no TEXT,
    phone_tail TEXT, name TEXT, ship_by TEXT, created_at TEXT, flags TEXT NOT NULL DEFAULT '',
    severity INTEGER NOT NULL DEFAULT 0, hub_version INTEGER NOT NULL, hub_json TEXT NOT NULL,
    local_json TEXT NOT NULL, pending INTEGER NOT NULL DEFAULT 0, conflict_json TEXT,
    seen_gen INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_orders_state ON orders(state);
CREATE INDEX ix_orders_bench ON orders(bench);
CREATE INDEX ix_orders_waybill ON orders(waybill_no);
CREATE INDEX ix_orders_channel_no ON orders(channel_order_no);
CREATE INDEX ix_orders_phone_tail ON orders(phone_tail);
CREATE INDEX ix_orders_name ON orders(name);
CREATE INDEX ix_orders_sort ON orders(severity DESC, ship_by, created_at);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY, action_id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL, type TEXT NOT NULL,
    payload TEXT NOT NULL, base_version INTEGER NOT NULL, operator TEXT NOT NULL, done_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT
);
CREATE INDEX ix_outbox_order ON outbox(order_id);
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL, seq INTEGER NOT NULL,
    order_id TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL, operator TEXT NOT NULL,
    done_at TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT, reason TEXT, snapshot_json TEXT,
    at TEXT NOT NULL, resolved_at TEXT, resolved_by TEXT, resolution TEXT
);
CREATE INDEX ix_conflicts_order ON conflicts(order_id);
PRAGMA user_version = 1;
"""


def write_v1_store(path: Path) -> dict[str, object]:
    """A store file as client version 1 left it: an order, a queued action, an open conflict, a cursor."""
    snap = snapshot()
    conn = sqlite3.connect(path)
    conn.executescript(V1_STORE_SQL)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "INSERT INTO orders(order_id, state, bench, hub_version, hub_json, local_json, pending) VALUES (?,?,?,?,?,?,1)",
        (snap["order_id"], "allocated", "B1", 1, json.dumps(snap), json.dumps(snap)),
    )
    conn.execute(
        "INSERT INTO outbox(seq, action_id, order_id, type, payload, base_version, operator, done_at)"
        " VALUES (1, 'a-1', ?, 'step', '{\"step\": \"picked\"}', 1, 'P001', '2026-11-25T01:00:00Z')",
        (snap["order_id"],),
    )
    conn.execute(
        "INSERT INTO conflicts(action_id, seq, order_id, type, payload, operator, done_at, outcome, reason, at)"
        " VALUES ('a-0', 0, ?, 'step', '{}', 'P001', '2026-11-24T01:00:00Z', 'rejected', 'old', '2026-11-24T02:00:00Z')",
        (snap["order_id"],),
    )
    conn.execute("INSERT INTO meta VALUES ('next_seq', '2'), ('cursor', '42'), ('resync_gen', '3')")
    conn.commit()
    conn.close()
    return snap


def test_store_file_from_client_version_1_opens_upgraded_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    snap = write_v1_store(path)
    s = open_store(path)
    try:
        with s.read() as conn:
            assert migrations.user_version(conn) == migrations.LATEST
        assert s.cursor() == 42
        assert [a.action_id for a in s.pending_actions()] == ["a-1"]
        assert s.conflict_count() == 1
        order = s.get_order(snap["order_id"])
        assert order is not None and order.pending == 1
        # Everything a current client does works on the upgraded file: actions, snapshots, the
        # print journal and the audit (tables v1 did not have), queue listing.
        Outbox(s).perform(order.order_id, "step", {"step": "verified"}, "P001")
        assert [a.seq for a in s.pending_actions()] == [1, 2]
        assert s.local_audit()[-1]["what"] == "step"
        with s.write() as conn:
            s.apply_snapshots(conn, [snapshot(version=2, seller_note="after upgrade")])
        order = s.get_order(snap["order_id"])
        assert order is not None and order.snapshot["seller_note"] == "after upgrade"
        assert set(order.snapshot["steps"]) >= {"picked", "verified"}
        assert [r.order_id for r in load_rows(s) if r.bench == "B1"] == [snap["order_id"]]
        assert PrintJournal(s, Outbox(s)).jobs() == []
    finally:
        s.close()
    # Opening it again (already upgraded) changes nothing and loses nothing.
    s = open_store(path)
    try:
        assert s.pending_count() == 2 and s.cursor() == 42
    finally:
        s.close()


def test_store_from_newer_client_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.execute("CREATE TABLE future (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreTooNew, match="newer PackDesk"):
        open_store(path)
    assert path.read_bytes() == before


def test_corrupt_store_gets_clear_message_and_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    garbage = b"this is not a database at all\x00" * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreCorrupt) as info:
        open_store(path)
    assert "damaged" in info.value.message and str(path) in info.value.message
    assert path.read_bytes() == garbage


def test_locked_store_gets_clear_message_and_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    open_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreLocked, match="in use by another program"):
            s = open_store(path, busy_timeout_s=0.2)
            with s.write() as conn:
                conn.exec_driver_sql("SELECT 1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    s = open_store(path)
    s.close()


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('someone')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a PackDesk data file"):
        open_store(path)
    assert path.read_bytes() == before  # not even switched to WAL


def test_store_damaged_inside_is_reported_when_used_and_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    s = open_store(path)
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}", seller_note="x" * 300) for i in range(1, 2000)])
    s.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    for off in range(8 * page, len(raw) - page, 5 * page):  # scribble over every fifth page past the schema
        raw[off : off + 512] = bytes(range(256)) * 2
    path.write_bytes(bytes(raw))
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt, match="damaged"):
        damaged = open_store(path)  # a damaged schema page is found here ...
        try:
            load_rows(damaged)  # ... a damaged order page when the queue is read
        finally:
            damaged.close()
    assert path.read_bytes() == before


def test_full_disk_is_a_plain_message_and_the_action_is_not_half_written(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    s = open_store(path)
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in range(1, 4)])
    outbox = Outbox(s)
    outbox.perform("BL20261125-000001", "step", {"step": "picked"}, "P001")
    # SQLite's own size limit stands in for a full disk: the same SQLITE_FULL error.
    with pytest.raises(StoreUnwritable, match=r"disk .* is full") as info, s.write() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        for i in range(500):
            outbox.perform_in(
                conn, "BL20261125-000002", "hold_raised", {"type": "scan_mismatch", "reason": f"r{i}" * 200}, "P001"
            )
    assert "damaged" not in info.value.message and info.value.code == "store_disk_full"
    s.close()  # that connection keeps its limit; a fresh store has none
    s = open_store(path)
    try:
        assert [a.type for a in s.pending_actions()] == ["step"]
        order = s.get_order("BL20261125-000002")
        assert order is not None and order.pending == 0 and not order.snapshot["holds"]
    finally:
        s.close()


def test_newer_snapshot_replaces_older_never_the_reverse(store: LocalStore) -> None:
    with store.write() as conn:
        assert store.apply_snapshots(conn, [snapshot(version=3, seller_note="v3")]) == ["BL20261125-000001"]
        assert store.apply_snapshots(conn, [snapshot(version=2, seller_note="v2")]) == []
    order = store.get_order("BL20261125-000001")
    assert order is not None and order.hub_version == 3 and order.snapshot["seller_note"] == "v3"


def test_older_hub_snapshot_does_not_undo_pending_local_action(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(version=1)])
    Outbox(store).perform("BL20261125-000001", "step", {"step": "picked"}, "P001")
    # The hub sends a newer version that does not include our step yet (someone else's change).
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(version=2, seller_note="desk note")])
    order = store.get_order("BL20261125-000001")
    assert order is not None
    assert order.snapshot["seller_note"] == "desk note"
    assert "picked" in order.snapshot["steps"]
    assert order.pending == 1 and "pending" in order.flags


def test_order_moved_to_other_bench_is_dropped_unless_work_is_pending(store: LocalStore) -> None:
    keep = lambda s: s.get("bench") == "B1"  # noqa: E731
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot("BL20261125-000001"), snapshot("BL20261125-000002")], keep=keep)
    Outbox(store).perform("BL20261125-000002", "step", {"step": "picked"}, "P001")
    with store.write() as conn:
        changed = store.apply_snapshots(
            conn,
            [
                snapshot("BL20261125-000001", version=2, bench="B2"),
                snapshot("BL20261125-000002", version=2, bench="B2"),
            ],
            keep=keep,
        )
    assert set(changed) == {"BL20261125-000001", "BL20261125-000002"}
    assert store.order_ids() == {"BL20261125-000002"}


# Search and queue order are core.queues' (tests/core/test_queues.py): the store keeps no copy.


def test_full_resync_drops_orders_gone_from_working_set_but_keeps_pending(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-00000{i}") for i in (1, 2, 3)])
        store.set_meta(conn, "cursor", "10")
    Outbox(store).perform("BL20261125-000003", "step", {"step": "picked"}, "P001")
    gen = store.begin_full_resync()
    assert store.cursor() is None
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot("BL20261125-000001")], seen_gen=gen)
    gone = store.finish_full_resync(gen, 25)
    assert gone == ["BL20261125-000002"]
    assert store.order_ids() == {"BL20261125-000001", "BL20261125-000003"}
    assert store.cursor() == 25
    assert store.pending_count() == 1


#: The ``orders`` columns of format v3 that v4 dropped: only ``list_orders`` read them.
DEAD_COLUMNS = {"state", "bench", "phone_tail", "name", "ship_by", "created_at", "flags", "severity", "lane"}


def orders_columns(s: LocalStore) -> set[str]:
    with s.read() as conn:
        return {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(orders)").all()}


def orders_indexes(s: LocalStore) -> set[str]:
    with s.read() as conn:
        return {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL").all()}


def test_orders_table_keeps_no_copy_of_queue_columns(store: LocalStore) -> None:
    assert orders_columns(store) == {"order_id", "waybill_no", "channel_order_no", "hub_version", "hub_json",
                                     "local_json", "pending", "conflict_json", "seen_gen"}
    assert orders_indexes(store) == {"ix_orders_waybill", "ix_orders_channel_no"}  # scan-to-open


def test_store_format_3_upgrades_to_4_dropping_dead_columns_and_keeping_every_order(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    # Build a version-3 file with the migration steps as they were released, then fill it the way a
    # version-3 client did (all 18 columns).
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        assert migrations.migrate(conn, target=3) == 3
    engine.dispose()
    snaps = [snapshot("BL20261125-000001", waybill_no="SF1"),
             snapshot("BL20261125-000002", flags=["vip"], lane="vip", state="label_printed")]
    conn3 = sqlite3.connect(path)
    for snap in snaps:
        conn3.execute(
            "INSERT INTO orders(order_id, state, bench, waybill_no, channel_order_no, phone_tail, name, ship_by,"
            " created_at, flags, severity, hub_version, hub_json, local_json, pending, conflict_json, seen_gen, lane)"
            " VALUES (?, ?, 'B1', ?, ?, '8000', '张三', ?, ?, ?, 99, 1, ?, ?, 0, NULL, 2, ?)",
            (snap["order_id"], snap["state"], snap["waybill_no"], snap["channel_order_no"], snap["ship_by"],
             snap["created_at"], " ".join(snap["flags"]), json.dumps(snap), json.dumps(snap), snap["lane"]),
        )
    conn3.execute("INSERT INTO meta VALUES ('cursor', '7')")
    conn3.commit()
    conn3.close()
    s = open_store(path)
    try:
        with s.read() as conn:
            assert migrations.user_version(conn) == migrations.LATEST == 9
        assert not orders_columns(s) & DEAD_COLUMNS
        assert orders_indexes(s) == {"ix_orders_waybill", "ix_orders_channel_no"}
        assert s.order_ids() == {"BL20261125-000001", "BL20261125-000002"} and s.cursor() == 7
        vip = s.get_order("BL20261125-000002")
        assert vip is not None and vip.state == "label_printed" and "vip" in vip.flags
        rows = load_rows(s)
        assert [r.order_id for r in rows] == ["BL20261125-000002", "BL20261125-000001"]  # VIP first
        assert s.find_by_code("SF1") == "BL20261125-000001"  # the scan lookup kept its column
        with s.write() as conn:  # and the store takes snapshots and actions as a new one does
            s.apply_snapshots(conn, [snapshot("BL20261125-000001", version=2, waybill_no="SF1b")])
        Outbox(s).perform("BL20261125-000001", "step", {"step": "picked"}, "P001")
        order = s.get_order("BL20261125-000001")
        assert order is not None and order.hub_version == 2 and order.pending == 1
        assert s.find_by_code("SF1b") == "BL20261125-000001" and s.find_by_code("SF1") is None
    finally:
        s.close()


def test_local_order_flags_say_what_this_station_knows(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot("BL20261125-000001", flags=["vip", "gift"], holds=[{
            "hold_id": "h1", "type": "gift_stock", "reason": "short", "raised_at": "2026-11-25T02:00:00Z",
            "raised_by": "hub", "details": {}}]), snapshot("BL20261125-000002", state="delivered")])
    order = store.get_order("BL20261125-000001")
    assert order is not None and order.flags == ("vip", "gift", "exception")
    done = store.get_order("BL20261125-000002")
    assert done is not None and done.flags == ("done",)
