"""The queue facts cache (store v9, ``queue_rows``): rows read from it are the rows the views give.

The reference here is the row as it was built before the cache (issue 18): straight from the
parsed local view with :func:`core.flags.order_flags` and :func:`core.flags.sort_key`, in the
order of a sort by :attr:`QueueRow.rank`. A load must give exactly those rows in exactly that
order — for random views (holds, splits and merges, done today or not, printed past the cut-off,
no ship-by…), after every kind of write, after an upgrade from a v8 store, and after a change of
the facts' rule.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from core.flags import order_flags, sort_key
from core.holds import hold_label
from core.i18n import _, language
from core.outbox import Outbox
from core.phones import phone_digits
from core.queue_facts import search_text
from core.queues import QueueRow, load_rows, load_rows_by_id
from core.split_merge import link_badge, link_text
from core.states import State
from core.store import LocalStore, migrations, open_store
from core.timeutil import DEFAULT_TZ, parse_iso, to_local
from core.waves import cutoff_of
from tests.helpers.queue_rows import NOW, TODAY
from tests.helpers.snapshots import snapshot

HOLD = {"hold_id": "h1", "type": "gift_stock", "reason": "short", "raised_at": "2026-11-25T02:00:00Z",
        "raised_by": "hub", "details": {}}


def reference_row(snap: dict[str, Any], pending: int, conflict: bool) -> QueueRow:
    """A queue row as it was built before the facts cache: from the whole view, at :data:`NOW`."""
    flags = order_flags(snap, now=NOW, conflict=conflict)
    rec = snap.get("recipient") or {}
    holds = snap.get("holds") or []
    hold, raised = "", []
    if holds:
        hold = " / ".join(f"{hold_label(str(h.get('type')), language())} "
                          f"({_('system') if h.get('raised_by') in (None, '', 'system') else h.get('raised_by')})"
                          + (" · " + _("escalated") if h.get("escalated") else "") for h in holds)
        raised = [t for t in (parse_iso(h.get("raised_at")) for h in holds) if t is not None]
    ship = parse_iso(snap.get("ship_by"))
    return QueueRow(
        order_id=snap["order_id"], state=snap["state"], bench=str(snap.get("bench") or ""),
        recipient=str(rec.get("name") or ""), items=sum(int(line.get("qty") or 0) for line in snap.get("lines") or []),
        ship_by=to_local(ship, DEFAULT_TZ).strftime("%m-%d %H:%M") if ship else "", pending=pending,
        conflict=conflict, held=bool(holds), flags=tuple(flags), key=sort_key(flags, snap), search=search_text(snap),
        phone=phone_digits(str(rec.get("phone") or "")), hold=hold, hold_since=min(raised) if raised else None,
        carrier=str(snap.get("carrier") or ""), cutoff=cutoff_of(snap),
        link=link_badge(snap) if "split" in snap or "merge" in snap else "",
        link_tip=link_text(snap) if "split" in snap or "merge" in snap else "",
    )


def reference_rows(store: LocalStore) -> list[QueueRow]:
    """Every order's reference row from its local view, in queue order (a sort by rank)."""
    rows = [reference_row(json.loads(local), pending, conflict) for _oid, local, pending, conflict in store.order_views()]
    return sorted(rows, key=lambda r: r.rank)


def times(hours: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return hours.map(lambda h: (NOW + timedelta(hours=h)).isoformat().replace("+00:00", "Z"))


@st.composite
def views(draw: st.DrawFn, seq: int) -> dict[str, Any]:
    """A random hub snapshot: the parts queue rows read, each present or not."""
    extra: dict[str, Any] = {
        "state": draw(st.sampled_from([s.value for s in State])),
        "bench": draw(st.sampled_from(["B1", "B2", None])),
        "ship_by": draw(st.one_of(st.none(), st.just(""), times(st.integers(-30, 30)))),
        "created_at": draw(times(st.integers(-60, 0))),
        "updated_at": draw(st.one_of(st.just(TODAY), times(st.integers(-48, 0)))),
        "recipient": {"name": draw(st.sampled_from(["张三", "Li MING", "客户7", ""])),
                      "phone": draw(st.sampled_from(["13800138000", "139-0000-4321", "", "010-12345678"]))},
        "lines": [{"sku": draw(st.sampled_from(["SKU1", "Tea-02", "G1"])), "name": "x", "qty": draw(st.integers(0, 3)),
                   "unit_price_fen": 0, "is_gift": draw(st.booleans()), "bin": "A"}
                  for _n in range(draw(st.integers(0, 3)))],
        "flags": draw(st.lists(st.sampled_from(["vip", "gift", "other"]), max_size=2)),
        "lane": draw(st.sampled_from(["normal", "vip"])),
        "carrier": draw(st.sampled_from(["SF", "ZTO", None])),
        "waybill_no": draw(st.sampled_from([f"SF{seq:06d}", None])),
    }
    if draw(st.booleans()):
        extra["holds"] = [dict(HOLD, hold_id=f"h{n}", raised_by=draw(st.sampled_from(["hub", "system", None, "P001"])),
                               escalated=draw(st.booleans()), raised_at=draw(times(st.integers(-5, 0))))
                          for n in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):
        extra["handover_due"] = draw(times(st.integers(-3, 3)))
        extra["handover_cutoff"] = {"carrier": "SF", "time": "17:30", "tz": DEFAULT_TZ}
    link = draw(st.sampled_from(["", "into", "from", "merge"]))
    if link == "into":
        extra["split"] = {"into": [f"BL20261125-{seq:06d}-1", f"BL20261125-{seq:06d}-2"]}
    elif link == "from":
        extra["split"] = {"from": "BL20261125-999999", "part": draw(st.sampled_from(["ship_now", "back_order"]))}
    elif link == "merge":
        extra["merge"] = {"orders": [f"BL20261125-{seq:06d}", "BL20261125-999998"]}
    # A few share their ship-by and order time, so the order ID decides.
    return snapshot(f"BL20261125-{seq:06d}", **extra)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(tmp_path / "facts.sqlite3")
    yield s
    s.close()


def check(store: LocalStore) -> None:
    """The store's rows are the reference rows, in the same order, and by ID too."""
    expected = reference_rows(store)
    assert load_rows(store, now=NOW) == expected
    by_id = load_rows_by_id(store, [r.order_id for r in expected[::3]], now=NOW)
    assert list(by_id.values()) == expected[::3]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rows_from_the_cache_are_the_rows_of_the_views_in_queue_order(tmp_path: Path, data: st.DataObject) -> None:
    s = open_store(tmp_path / f"h{data.draw(st.integers(0, 10**9))}.sqlite3")
    try:
        snaps = [data.draw(views(seq)) for seq in range(1, data.draw(st.integers(1, 12)) + 1)]
        with s.write() as conn:
            s.apply_snapshots(conn, snaps)
        check(s)
        # A newer version of some, a conflict on one, one gone: the cache follows every write.
        newer = [dict(data.draw(views(int(snap["order_id"][-6:]))), version=2) for snap in snaps[::2]]
        with s.write() as conn:
            s.apply_snapshots(conn, newer)
        from core.store import orders as store_orders
        with s.write() as conn:
            store_orders.set_conflict(conn, snaps[-1]["order_id"], {"outcome": "conflict"})
            if len(snaps) > 2:
                store_orders.delete(conn, [snaps[1]["order_id"]])
        check(s)
    finally:
        s.close()


def test_every_write_keeps_the_cache_in_step(store: LocalStore) -> None:
    snaps = [snapshot(f"BL20261125-{i:06d}", bench="B1" if i % 2 else "B2") for i in range(1, 9)]
    with store.write() as conn:
        store.apply_snapshots(conn, snaps)
    check(store)
    outbox = Outbox(store)
    outbox.perform("BL20261125-000002", "hold_raised", {"type": "scan_mismatch", "reason": "x"}, "P001")
    outbox.perform("BL20261125-000003", "step", {"step": "picked"}, "P001")
    check(store)  # pending counts and the local view (a hold) are in the rows
    assert load_rows_by_id(store, ["BL20261125-000002"], now=NOW)["BL20261125-000002"].held  # type: ignore[union-attr]
    with store.write() as conn:  # an order moved to another bench is dropped (not B1's any more)
        store.apply_snapshots(conn, [snapshot("BL20261125-000005", version=2, bench="B9")],
                              keep=lambda s: s.get("bench") in ("B1", "B2"))
        store.refresh_views(conn, ["BL20261125-000003"])
    assert "BL20261125-000005" not in {r.order_id for r in load_rows(store, now=NOW)}
    check(store)
    with store.write() as conn:  # a write outside the door, as a test or a tool might: triggers follow
        conn.exec_driver_sql("UPDATE orders SET conflict_json = '{}', pending = 4 WHERE order_id = 'BL20261125-000007'")
        conn.exec_driver_sql("DELETE FROM orders WHERE order_id = 'BL20261125-000008'")
    check(store)


def test_a_v8_store_is_upgraded_and_its_cache_filled_from_the_views(tmp_path: Path) -> None:
    path = tmp_path / "v8.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        assert migrations.migrate(conn, target=8) == 8
    engine.dispose()
    snaps = [snapshot("BL20261125-000001", holds=[HOLD]), snapshot("BL20261125-000002", flags=["vip"], lane="vip"),
             snapshot("BL20261125-000003", state="shipped", updated_at=TODAY, ship_by=None)]
    raw = sqlite3.connect(path)  # filled the way a v8 client did: the nine columns of ``orders``
    for n, snap in enumerate(snaps):
        raw.execute("INSERT INTO orders(order_id, waybill_no, channel_order_no, hub_version, hub_json, local_json,"
                    " pending, conflict_json, seen_gen) VALUES (?, ?, ?, 1, ?, ?, ?, ?, 0)",
                    (snap["order_id"], snap["waybill_no"], snap["channel_order_no"], json.dumps(snap),
                     json.dumps(snap), n, "{}" if n == 2 else None))
    raw.commit()
    raw.close()
    s = open_store(path)
    try:
        with s.read() as conn:
            assert migrations.user_version(conn) == 9
        rows = load_rows(s, now=NOW)
        assert [r.order_id[-1] for r in rows] == ["3", "2", "1"]  # conflict, VIP, exception
        assert rows == reference_rows(s)
        with s.write() as conn:  # and it takes new snapshots as a new store does
            s.apply_snapshots(conn, [snapshot("BL20261125-000004")])
        check(s)
    finally:
        s.close()


def test_a_new_facts_rule_rebuilds_the_cache_when_the_store_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "rule.sqlite3"
    s = open_store(path)
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in range(1, 4)])
        # As a store written under an older rule: its cache is stale (here: emptied), its number old.
        conn.exec_driver_sql("DELETE FROM queue_rows")
        s.set_meta(conn, "queue_rows_rule", "0")
    s.close()
    s = open_store(path)
    try:
        assert [r.order_id for r in load_rows(s, now=NOW)] == [f"BL20261125-{i:06d}" for i in range(1, 4)]
        check(s)
    finally:
        s.close()


#: The facts of :func:`pinned_views` under rule :data:`core.queue_facts.FACTS_RULE` (sha256 of their JSON).
PINNED = {1: "b92acad5216661edd101e5c06b33928fa4b00dc206a1142b6d3e3d18d03a75b4"}


def pinned_views() -> list[dict[str, Any]]:
    return [snapshot("BL20261125-000001"), snapshot("BL20261125-000002", flags=["vip", "gift"], holds=[HOLD],
                                                     state="label_printed", handover_due=TODAY,
                                                     handover_cutoff={"carrier": "SF", "time": "17:30", "tz": "x"}),
            snapshot("BL20261125-000003", state="shipped", ship_by=None, updated_at=TODAY, split={"from": "B"},
                     recipient={"name": "Li MING", "phone": "139-0000-4321"})]


def test_a_change_of_the_facts_rule_comes_with_a_new_rule_number() -> None:
    """Stores keep facts written by older versions of the rule until :data:`FACTS_RULE` changes: a
    change of :func:`facts_of`'s output without a new number would leave them stale. If this fails,
    bump ``FACTS_RULE`` (stores rebuild their cache when opened) and pin the new digest here."""
    from core.queue_facts import FACTS_RULE, facts_of
    digest = hashlib.sha256(json.dumps([facts_of(v) for v in pinned_views()], ensure_ascii=False).encode()).hexdigest()
    assert PINNED.get(FACTS_RULE) == digest


def test_a_view_with_odd_lines_is_written_and_loads(store: LocalStore) -> None:
    """Facts are read when a view is written: an odd value must not make the store refuse a sync page."""
    odd = [snapshot("BL20261125-000001", lines=None),
           snapshot("BL20261125-000002", lines=[{"sku": "A", "qty": "x"}, {"sku": "B", "qty": 2}])]
    with store.write() as conn:
        store.apply_snapshots(conn, odd)
    rows = {r.order_id: r for r in load_rows(store, now=NOW)}
    assert rows["BL20261125-000001"].items == 0 and rows["BL20261125-000002"].items == 2
