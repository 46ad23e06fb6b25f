"""The release side of stock (hub/stock.py, docs/stock.md): units freed by a cancel, a refund or a
reallocation run the fair queue in the freeing transaction; a change of lines or warehouse
re-reserves; a count below what is reserved takes the units back from the newest promises; the
rules' per-warehouse gift counts are seeded at their warehouse.

In process: the hub's own Hub object over a real SQLite file, the real intake, action and writer
paths (helpers from tests/hub/test_stock.py); no HTTP server.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.timeutil import utcnow
from hub import db, stock
from hub.actions import process_batch
from hub.api.deps import Hub
from hub.orders import load_docs
from hub.routing import RULES_DIR, Rules, ValidationFailed
from hub.writer import Actor, Writer
from tests.hub.test_stock import (
    DESK,
    NUTS,
    SH,
    TEA,
    act,
    doc,
    holds_of,
    level,
    make_hub,
    order,
    push,
    set_stock,
)

GZ = "WH-GZ"
TEA2 = "SKU-TEA-002"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = make_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield h
    h.engine.dispose()
    h.reader.dispose()


def waiting(hub: Hub, oid: str) -> bool:
    return bool(holds_of(doc(hub, oid), "stock_short"))


def audit(hub: Hub, oid: str) -> list[tuple[str, str]]:
    a = db.audit.c
    rows = hub.read(lambda c: c.execute(select(a.what, a.why, a.details).where(a.order_id == oid)
                                        .order_by(a.id)).all())
    return [(r.what, (r.details.get("resolution") or {}).get("auto", "")) for r in rows]


def stock_reasons(hub: Hub, oid: str) -> list[tuple[str, str, int]]:
    m = db.stock_moves.c
    rows = hub.read(lambda c: c.execute(select(m.reason, m.sku, m.delta_reserved).where(m.order_id == oid)
                                        .order_by(m.id)).all())
    return [tuple(r) for r in rows]


def batch(hub: Hub, *actions: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    base = utcnow().timestamp()
    acts = [{"action_id": f"b{base}-{i}", "seq": i + 1, "order_id": oid, "type": kind, "payload": payload}
            for i, (oid, kind, payload) in enumerate(actions)]
    res: dict[str, Any] = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, DESK, acts))
    return list(res["results"])


def in_tx(hub: Hub, oid: str, step: Any) -> None:
    """Run ``step(writer, doc)`` on a loaded order in one transaction, then write."""
    def run(c: Any) -> None:
        w = Writer(c, hub.settings, Actor.system("test"))
        docs = load_docs(c, [oid], for_update=True)
        w.track(docs)
        step(w, docs[oid])
        w.flush()
    hub.tx(run)


# -- freed stock runs the fair queue -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["cancelled_by_buyer", "refund_approved"])
def test_a_cancel_or_refund_releases_waiting_orders_oldest_promise_first(hub: Hub, kind: str) -> None:
    set_stock(hub, TEA, 3)
    holder, = push(hub, order([(TEA, 3)]))
    older, = push(hub, order([(TEA, 2)]))
    newer, = push(hub, order([(TEA, 1)]))
    assert waiting(hub, older) and waiting(hub, newer) and level(hub, TEA) == (3, 3)
    assert act(hub, holder, kind, {"reason": "buyer asked"})["outcome"] == "applied"
    # same transaction: the older promise (2) and then the newer (1) fit the 3 freed units
    assert not waiting(hub, older) and not waiting(hub, newer) and level(hub, TEA) == (3, 3)
    assert ("hold_released", "stock_arrived") in audit(hub, older)
    assert stock_reasons(hub, holder) == [("reserve", TEA, 3), (f"close:{kind}", TEA, -3)]


def test_freed_units_go_to_the_oldest_even_when_a_newer_smaller_order_would_fit(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    holder, = push(hub, order([(TEA, 2)]))
    big, = push(hub, order([(TEA, 3)]))  # older promise, needs more than will be freed
    small, = push(hub, order([(TEA, 1)]))
    act(hub, holder, "cancelled_by_buyer", {"reason": "x"})
    assert waiting(hub, big) and waiting(hub, small) and level(hub, TEA) == (2, 0)  # small waits behind big


def test_a_batch_of_cancels_frees_once_per_order_and_a_later_action_sees_the_auto_release(hub: Hub) -> None:
    """The fair queue works on the batch's own order objects: an action later in the same batch on
    an order the queue released finds its hold gone (no second reservation, no lost change)."""
    set_stock(hub, TEA, 2)
    a, = push(hub, order([(TEA, 1)]))
    b, = push(hub, order([(TEA, 1)]))
    w8, = push(hub, order([(TEA, 2)]))
    hold = holds_of(doc(hub, w8), "stock_short")[0]
    results = batch(hub, (a, "cancelled_by_buyer", {"reason": "x"}), (b, "cancelled_by_buyer", {"reason": "x"}),
                    (w8, "hold_released", {"hold_id": hold["hold_id"], "resolution": {"decision": "stock_arrived"}}))
    assert [r["outcome"] for r in results[:2]] == ["applied", "applied"]
    assert results[2]["outcome"] == "rejected", results[2]  # the queue released it after the second cancel
    d = doc(hub, w8)
    assert d["holds"] == [] and level(hub, TEA) == (2, 2)
    assert stock_reasons(hub, w8) == [("reserve", TEA, 2)]


def test_reallocation_frees_the_old_warehouse_for_its_waiting_orders(hub: Hub) -> None:
    set_stock(hub, TEA, 1)
    set_stock(hub, TEA, 5, GZ)
    mover, = push(hub, order([(TEA, 1)]))
    waiter, = push(hub, order([(TEA, 1)]))
    assert waiting(hub, waiter)
    assert act(hub, mover, "reallocated", {"bench": "GZ-B1"})["outcome"] == "applied"
    assert not waiting(hub, waiter) and level(hub, TEA) == (1, 1) and level(hub, TEA, GZ) == (5, 1)


# -- a change of lines or warehouse re-reserves -------------------------------------------------------

def _raise_missing(hub: Hub, oid: str, sku: str) -> dict[str, Any]:
    assert act(hub, oid, "hold_raised", {"type": "item_missing", "reason": "破损",
                                         "details": {"sku": sku}})["outcome"] == "applied"
    return holds_of(doc(hub, oid), "item_missing")[0]


def test_an_item_missing_substitute_gives_back_the_old_line_and_reserves_the_new(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    set_stock(hub, TEA2, 3)
    oid, = push(hub, order([(TEA, 2), (NUTS, 1)]))  # NUTS untracked: stays uncounted
    waiter, = push(hub, order([(TEA, 1)]))
    h = _raise_missing(hub, oid, TEA)
    res = act(hub, oid, "hold_released", {"hold_id": h["hold_id"], "resolution": {
        "decision": "substitute", "substitute_sku": TEA2, "note": "换同款"}})
    assert res["outcome"] == "applied", res
    assert doc(hub, oid)["holds"] == [] and level(hub, TEA2) == (3, 2)
    assert level(hub, TEA) == (2, 1) and not waiting(hub, waiter)  # the freed tea went to the waiting order
    assert [r[0] for r in stock_reasons(hub, oid)] == ["reserve", "substitute", "reserve"]


def test_an_item_missing_substitute_that_is_short_holds_and_keeps_nothing(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    set_stock(hub, TEA2, 1)
    oid, = push(hub, order([(TEA, 2)]))
    h = _raise_missing(hub, oid, TEA)
    res = act(hub, oid, "hold_released", {"hold_id": h["hold_id"], "resolution": {
        "decision": "substitute", "substitute_sku": TEA2, "note": "换同款"}})
    assert res["outcome"] == "applied", res
    short = holds_of(doc(hub, oid), "stock_short")
    assert short and short[0]["details"]["short"][0]["sku"] == TEA2
    assert level(hub, TEA) == (2, 0) and level(hub, TEA2) == (1, 0)


def test_an_order_moved_to_another_warehouse_re_reserves_there(hub: Hub) -> None:
    """What an address change that re-routes calls: ``stock.rereserve`` once the warehouse is set."""
    set_stock(hub, TEA, 2)
    set_stock(hub, TEA, 1, GZ)
    a, = push(hub, order([(TEA, 1)]))
    b, = push(hub, order([(TEA, 2)]))

    def move(w: Writer, d: dict[str, Any]) -> None:
        d["warehouse"] = GZ
        assert stock.rereserve(w, d, "address_change") == []
    in_tx(hub, a, move)
    assert level(hub, TEA) == (2, 2) and level(hub, TEA, GZ) == (1, 1) and not waiting(hub, b)

    def move_short(w: Writer, d: dict[str, Any]) -> None:
        d["warehouse"] = GZ
        assert [s["sku"] for s in stock.rereserve(w, d, "address_change")] == [TEA]
    in_tx(hub, b, move_short)  # GZ has nothing left: a hold, nothing held anywhere
    assert waiting(hub, b) and level(hub, TEA) == (2, 0) and level(hub, TEA, GZ) == (1, 1)


def test_reserve_at_another_warehouse_moves_what_the_order_held(hub: Hub) -> None:
    """An order routed again through allocation's ``reserve`` does not keep the old warehouse's units."""
    set_stock(hub, TEA, 1)
    set_stock(hub, TEA, 1, GZ)
    oid, = push(hub, order([(TEA, 1)]))
    in_tx(hub, oid, lambda w, d: stock.reserve(w, d, GZ))
    assert level(hub, TEA) == (1, 0) and level(hub, TEA, GZ) == (1, 1)


# -- a count below what is reserved ---------------------------------------------------------------------

def test_a_count_below_reserved_takes_units_from_the_newest_promises(hub: Hub) -> None:
    set_stock(hub, TEA, 6)
    set_stock(hub, NUTS, 1)
    old, = push(hub, order([(TEA, 2)]))
    mid, = push(hub, order([(TEA, 2), (NUTS, 1)]))
    new, = push(hub, order([(TEA, 2)]))
    nut_waiter, = push(hub, order([(NUTS, 1)]))
    assert level(hub, TEA) == (6, 6) and waiting(hub, nut_waiter)

    def count(w: Writer) -> dict[str, Any]:
        out = stock.adjust(w, TEA, SH, reason="cycle_count", on_hand=3, note="盘点少了 3 件")
        w.flush()
        return out
    got = hub.tx(lambda c: count(Writer(c, hub.settings, Actor(operator="S001", station="DESK-1",
                                                                   role="supervisor", device_id="d"))))
    # 6 reserved, 3 on hand: `new` (2) then `mid` (2) give theirs back; `old` keeps its 2
    assert got["shed"] == [new, mid] and level(hub, TEA) == (3, 2)
    # mid's nut is freed, but mid (an older promise than nut_waiter) now waits for it: its claim holds
    assert got["released"] == [] and level(hub, NUTS) == (1, 0) and waiting(hub, nut_waiter)
    for oid in (new, mid):
        h = holds_of(doc(hub, oid), "stock_short")[0]
        assert "盘点" in h["reason"] and "newest promises" in h["reason"] and "3 on hand" in h["reason"]
        assert h["details"]["cause"] == "count_below_reserved" and h["details"]["by"] == "adjust:cycle_count"
        assert h["raised_by"] == "S001"
    assert not holds_of(doc(hub, old), "stock_short")
    assert ("count_below_reserved", NUTS, -1) in stock_reasons(hub, mid)


def test_a_wms_count_below_reserved_sheds_in_the_push_transaction(hub: Hub) -> None:
    set_stock(hub, TEA, 3)
    first, = push(hub, order([(TEA, 1)]))
    second, = push(hub, order([(TEA, 2)]))
    row = stock.WmsRow(TEA, SH, 2, utcnow() + timedelta(seconds=1))

    def run(c: Any) -> dict[str, Any]:
        w = Writer(c, hub.settings, Actor.system("wms"))
        out = stock.apply_wms(w, "m-9", [row])
        w.flush()
        return out
    got = hub.tx(run)
    assert got["shed"] == [second] and got["applied"] == 1 and level(hub, TEA) == (2, 1)
    assert holds_of(doc(hub, second), "stock_short")[0]["details"]["note"] == "m-9"
    assert not waiting(hub, first)


# -- gift counts per warehouse ---------------------------------------------------------------------------

def _rules_with(extra: str) -> Rules:
    text = (RULES_DIR / "default.toml").read_text(encoding="utf-8")
    return Rules(tomllib.loads(text + "\n" + extra), source="test", base_dir=RULES_DIR)


def test_gift_stock_tables_per_warehouse_seed_each_warehouse(hub: Hub) -> None:
    rules = _rules_with('[gift_stock."WH-GZ"]\n"GIFT-FAN-01" = 7\n"GIFT-CUP-01" = 0\n')
    assert rules.gift_stock["GIFT-FAN-01"] == 30  # the flat form still reads as before
    assert rules.gift_stock_by_warehouse[GZ] == {"GIFT-FAN-01": 7, "GIFT-CUP-01": 0}
    n = hub.tx(lambda c: stock.seed_gift_stock(c, rules, utcnow()))
    assert n == len(rules.gift_stock) + 2
    assert level(hub, "GIFT-FAN-01") == (30, 0) and level(hub, "GIFT-FAN-01", GZ) == (7, 0)
    assert hub.tx(lambda c: stock.seed_gift_stock(c, rules, utcnow())) == 0  # once


def test_a_gift_stock_table_for_an_unknown_warehouse_or_a_bad_count_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="WH-XX"):
        _rules_with('[gift_stock."WH-XX"]\n"GIFT-FAN-01" = 1\n')
    with pytest.raises(ValidationFailed, match=r"gift_stock\.WH-GZ\.GIFT-FAN-01"):
        _rules_with('[gift_stock."WH-GZ"]\n"GIFT-FAN-01" = -1\n')


# -- migration 0011: orders already waiting for stock are marked -----------------------------------

def test_migration_0011_marks_the_orders_already_waiting_for_stock(tmp_path: Path) -> None:
    import json

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0010")
            for oid, holds in (("W1", [{"type": "stock_short"}]), ("W2", [{"type": "gift_stock"}]),
                               ("H1", [{"type": "vip_signoff"}]), ("N1", [])):
                conn.execute(text(
                    "INSERT INTO orders (order_id, channel, channel_order_no, channel_status, channel_updated_at,"
                    " state, version, held, created_at, updated_at, doc) VALUES (:o, 'generic', :o, 'paid',"
                    " '2026-12-06 08:00:00', 'allocated', 1, :h, '2026-12-06 08:00:00', '2026-12-06 08:00:00', :d)"),
                    {"o": oid, "h": bool(holds), "d": json.dumps({"order_id": oid, "holds": holds})})
        db.migrate(engine)
        with engine.connect() as conn:
            marked: dict[str, int] = dict(conn.execute(text("SELECT order_id, stock_wait FROM orders")).all())
        assert marked == {"W1": 1, "W2": 1, "H1": 0, "N1": 0}
    finally:
        engine.dispose()
