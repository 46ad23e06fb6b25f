"""The local store: schema and migrations, snapshots vs pending work, bad files kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.outbox import Outbox
from core.store import LocalStore, StoreCorrupt, StoreLocked, StoreTooNew, migrations, open_store
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


def test_old_store_opens_after_upgrade_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    # A store as version 1 of the client left it, with an order and a queued action.
    raw = LocalStore.__new__(LocalStore)
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    with engine.connect() as conn:
        assert migrations.migrate(conn, target=1) == 1
        with conn.begin():
            import json

            snap = snapshot()
            conn.exec_driver_sql(
                "INSERT INTO orders(order_id, state, hub_version, hub_json, local_json, pending) VALUES (?,?,?,?,?,1)",
                (snap["order_id"], "allocated", 1, json.dumps(snap), json.dumps(snap)),
            )
            conn.exec_driver_sql(
                "INSERT INTO outbox(seq, action_id, order_id, type, payload, base_version, operator, done_at)"
                " VALUES (1, 'a-1', ?, 'step', '{\"step\": \"picked\"}', 1, 'P001', '2026-11-25T01:00:00Z')",
                (snap["order_id"],),
            )
            conn.exec_driver_sql("INSERT INTO meta VALUES ('next_seq', '2'), ('cursor', '42')")
    engine.dispose()
    del raw

    s = open_store(path)
    try:
        with s.read() as conn:
            assert migrations.user_version(conn) == migrations.LATEST
        assert s.cursor() == 42
        assert [a.action_id for a in s.pending_actions()] == ["a-1"]
        order = s.get_order(snapshot()["order_id"])
        assert order is not None and order.pending == 1
        # The new tables work on the upgraded file.
        Outbox(s).perform(order.order_id, "step", {"step": "verified"}, "P001")
        assert [a.seq for a in s.pending_actions()] == [1, 2]
        assert s.local_audit()[-1]["what"] == "step"
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


def test_search_by_id_waybill_phone_tail_and_name(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(
            conn,
            [
                snapshot("BL20261125-000001"),
                snapshot(
                    "BL20261125-000002",
                    recipient={
                        "name": "李四",
                        "phone": "139-0000-4321",
                        "province": "",
                        "city": "",
                        "district": "",
                        "address": "",
                        "postcode": "",
                    },
                ),
            ],
        )
    assert [o.order_id for o in store.list_orders(q="bl20261125-000002")] == ["BL20261125-000002"]
    assert [o.order_id for o in store.list_orders(q="4321")] == ["BL20261125-000002"]
    assert [o.order_id for o in store.list_orders(q="李")] == ["BL20261125-000002"]
    assert [o.order_id for o in store.list_orders(q="SF000001")] == ["BL20261125-000001"]
    assert len(store.list_orders(state="allocated", bench="B1")) == 2


def test_queue_order_puts_conflicts_and_vip_first(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(
            conn,
            [
                snapshot("BL20261125-000001"),
                snapshot("BL20261125-000002", flags=["vip"], ship_by="2026-11-27T00:00:00Z"),
            ],
        )
    assert [o.order_id for o in store.list_orders()] == ["BL20261125-000002", "BL20261125-000001"]


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
