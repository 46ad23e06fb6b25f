"""A push's new orders allocated in one pass (issue 18, hub/orders.py ``plan_allocations``) end exactly
as if each had been pushed alone: the same states, routes, waybill numbers, holds (with their stock
figures and gift choices), stock counts and moves; the size check that now rides on the flush's
serialisation refuses and accepts the same orders; and on PostgreSQL two hubs pushing batches that
want the same last units at once neither oversell nor fail.

In process: the hub's own Hub object over real SQLite files (and a fresh PostgreSQL database for the
race), the real intake, writer and stock code; no HTTP server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub import db, stock
from hub import orders as orders_mod
from hub.api.deps import Hub
from hub.config import HubSettings
from hub.intake.adapters import may_hold_bad_text
from hub.orders import intake, load_docs, new_doc
from hub.writer import MAX_ORDER_BYTES, Actor, OrderTooLarge, Writer, doc_bytes
from tests.conftest import require_postgres
from tests.hubproc import fresh_pg_database

SH = "WH-SH"
TEA, NUTS, GIFT = "SKU-TEA-001", "SKU-SNK-001", "GIFT-TEA-01"
T0 = utcnow().replace(microsecond=0)


def make_hub(url: str) -> Hub:
    hub = Hub(HubSettings(database_url=url))
    db.migrate(hub.engine)
    return hub


@pytest.fixture
def two_hubs(tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    hubs = (make_hub(f"sqlite:///{tmp_path / 'a.db'}"), make_hub(f"sqlite:///{tmp_path / 'b.db'}"))
    yield hubs
    for h in hubs:
        h.engine.dispose()
        h.reader.dispose()


def order(no: str, lines: list[tuple[str, int]], *, gift: bool = False, status: ChannelStatus = ChannelStatus.PAID,
          province: str = "上海市", note: str = "") -> IntakeOrder:
    ls = [OrderLine(sku, "商品", qty, 1000) for sku, qty in lines]
    if gift:
        ls.append(OrderLine(GIFT, "赠品", 1, 0, is_gift=True))
    return IntakeOrder(channel="generic", channel_order_no=no, status=status,
                       recipient=Recipient("张三", "13800138000", province, "上海市", "浦东新区", "世纪大道 1 号"),
                       lines=ls, total_fen=1000, created_at=T0, channel_updated_at=T0,
                       paid_at=T0 + timedelta(minutes=1) if status is ChannelStatus.PAID else None,
                       seller_note=note)


def push(hub: Hub, orders: list[IntakeOrder]) -> list[dict[str, Any]]:
    def run(c: Any) -> list[dict[str, Any]]:
        w = Writer(c, hub.settings, Actor.system("test"))
        out = intake(w, hub.rules, orders)
        w.flush()
        return out
    result: list[dict[str, Any]] = hub.tx(run)
    return result


def set_stock(hub: Hub, sku: str, on_hand: int) -> None:
    def run(c: Any) -> None:
        stock.set_on_hand(Writer(c, hub.settings, Actor.system("test")), sku, SH, on_hand, "test")
    hub.tx(run)


def picture(hub: Hub, ids: list[str]) -> dict[str, Any]:
    """What a batch must leave as one-by-one pushes do: orders (hold IDs and times aside), stock, moves."""
    def run(c: Any) -> dict[str, Any]:
        docs = load_docs(c, ids)
        orders = []
        for oid in ids:
            d = docs[oid]
            holds = [{k: v for k, v in h.items() if k not in ("hold_id", "raised_at")} for h in d["holds"]]
            orders.append({k: d.get(k) for k in ("order_id", "state", "version", "warehouse", "bench", "lane",
                                                 "carrier", "waybill_no", "flags", "lines")} | {"holds": holds})
        m = db.stock_moves.c
        moves = [tuple(r) for r in c.execute(select(m.order_id, m.reason, m.sku, m.warehouse, m.delta_on_hand,
                                                    m.delta_reserved).where(m.order_id.is_not(None))
                                             .order_by(m.order_id, m.sku))]
        levels = {sku: stock.tracked(c, SH, [sku]).get(sku) for sku in (TEA, NUTS, GIFT)}
        audit = c.execute(select(db.audit.c.order_id, db.audit.c.what).order_by(db.audit.c.id)).all()
        return {"orders": orders, "moves": moves, "levels": levels,
                "audit": sorted((tuple(r) for r in audit), key=lambda r: r[0])}
    out: dict[str, Any] = hub.tx(run)
    return out


def test_a_batch_push_ends_as_the_same_orders_allocated_one_by_one(two_hubs: tuple[Hub, Hub],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the one-by-one path (route, reserve, number per order, as before the plan): competing
    for scarce units in push order, the first orders take them, the later ones wait with a
    stock_short hold naming what was left at their turn; gift holds carry the gift choices as the
    stock stood at their turn; waybill numbers run in push order."""
    orders = [
        order("B1", [(TEA, 3)]),
        order("B2", [(TEA, 2), (NUTS, 1)], gift=True),  # TEA short at its turn: nothing reserved
        order("B3", [(NUTS, 2)], gift=True),
        order("B4", [(TEA, 1)], status=ChannelStatus.UNPAID),  # not allocated: holds nothing
        order("B5", [(TEA, 1), ("SKU-TEA-002", 4)]),  # the last TEA; SKU-TEA-002 untracked
        order("B6", [(NUTS, 1)], gift=True),  # the gift ran out at B3
        order("B7", [(TEA, 1)], province="西藏自治区"),  # another warehouse: untracked there
        order("B8", [(NUTS, 1)], status=ChannelStatus.CANCELLED),
    ]
    for h in two_hubs:
        set_stock(h, TEA, 4)
        set_stock(h, NUTS, 3)
        set_stock(h, GIFT, 1)
    batch, single = two_hubs
    ids = [r["order_id"] for r in push(batch, orders)]
    planned: list[int] = []
    monkeypatch.setattr(orders_mod, "plan_allocations", lambda w, rules, todo: planned.append(len(todo)))
    one_by_one = [push(single, [o])[0]["order_id"] for o in orders]
    assert sum(planned) == 6  # the paid ones, each allocated by the old path
    assert ids == one_by_one
    got, want = picture(batch, ids), picture(single, ids)
    assert got == want
    # and it is the outcome the rules say, not two equal mistakes
    assert got["levels"] == {TEA: (4, 4), NUTS: (3, 2), GIFT: (1, 1)}
    by_no = dict(zip([o.channel_order_no for o in orders], got["orders"], strict=True))
    assert [h["type"] for h in by_no["B2"]["holds"]] == ["stock_short"]
    assert by_no["B2"]["holds"][0]["details"]["short"] == [
        {"sku": TEA, "name": "商品", "needed": 2, "available": 1, "is_gift": False}]
    assert by_no["B4"]["state"] == "pending_payment" and by_no["B8"]["state"] == "closed"
    assert "gift_stock" in [h["type"] for h in by_no["B6"]["holds"]]
    numbers = [d["waybill_no"] for d in got["orders"] if d["waybill_no"]]
    assert len(set(numbers)) == len(numbers) >= 5


def test_the_size_check_refuses_and_accepts_the_orders_it_did(two_hubs: tuple[Hub, Hub]) -> None:
    """A new order is checked as it arrives (not what routing adds); the check now waits for the
    flush's serialisation and rebuilds the order only near the limit."""
    hub = two_hubs[0]

    def sized(no: str, size: int) -> IntakeOrder:
        o = order(no, [(TEA, 1)])
        base = doc_bytes(new_doc("BL20260101-000001", o))
        o.seller_note = "x" * (size - base)
        assert doc_bytes(new_doc("BL20260101-000001", o)) == size
        return o

    under = sized("S1", MAX_ORDER_BYTES - 20)  # routing then takes it over the limit: still taken
    res = push(hub, [order("S0", [(TEA, 1)]), under])
    stored = hub.tx(lambda c: load_docs(c, [res[1]["order_id"]]))[res[1]["order_id"]]
    assert stored["state"] == "allocated"
    assert len(json.dumps({k: v for k, v in stored.items() if not k.startswith("_")}, ensure_ascii=False,
                          separators=(",", ":")).encode()) > MAX_ORDER_BYTES
    with pytest.raises(OrderTooLarge) as err:
        push(hub, [order("S2", [(TEA, 1)]), sized("S3", MAX_ORDER_BYTES + 1)])
    assert err.value.details["bytes"] == MAX_ORDER_BYTES + 1
    n = hub.tx(lambda c: c.execute(select(func.count()).select_from(db.orders)).scalar_one())
    assert n == 2  # the refused push wrote nothing, its good order neither


def test_the_text_walk_is_skipped_only_for_bodies_that_cannot_hold_bad_text() -> None:
    assert not may_hold_bad_text('{"orders": [{"note": "礼物 \\u00e9 \\"x\\""}]}'.encode())
    for risky in (b'{"a": "\\u0000"}', b'{"a": "\\uD83D"}', b'{"a": "\\udfff"}', b'{"a": NaN}',
                  b'{"a": -Infinity}', b'{"data": "{\\"a\\": \\"\\\\u0000\\"}"}',
                  '"\ud800"'.encode("utf-8", "surrogatepass"), '{"a": "b"}'.encode("utf-16")):
        assert may_hold_bad_text(risky), risky


@pytest.mark.postgres
def test_two_hubs_pushing_batches_for_the_last_units_at_once_never_oversell() -> None:
    """Both batches want the same SKUs (listed in opposite orders): rows are locked in one
    statement in a fixed order, so neither deadlocks, and together they take exactly what is there."""
    require_postgres()
    with fresh_pg_database() as url:
        hubs = [make_hub(url), Hub(HubSettings(database_url=url))]
        try:
            set_stock(hubs[0], TEA, 5)
            set_stock(hubs[0], NUTS, 5)
            batches = [[order(f"P{i}-{k}", [(TEA, 1), (NUTS, 1)] if i == 0 else [(NUTS, 1), (TEA, 1)])
                        for k in range(4)] for i in range(2)]
            start = threading.Barrier(2)
            errors: list[BaseException] = []

            def go(i: int) -> None:
                start.wait(timeout=10)
                try:
                    push(hubs[i], batches[i])
                except BaseException as exc:  # the assertion below shows it
                    errors.append(exc)

            threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors
            levels = hubs[0].tx(lambda c: stock.tracked(c, SH, [TEA, NUTS]))
            assert levels == {TEA: (5, 5), NUTS: (5, 5)}
            m = db.stock_moves.c
            held = hubs[0].tx(lambda c: c.execute(select(func.count(func.distinct(m.order_id))).where(
                m.reason == "reserve")).scalar_one())
            assert held == 5  # five orders got both units; the other three wait
            short = hubs[0].tx(lambda c: c.execute(select(func.count()).select_from(db.orders).where(
                db.orders.c.stock_wait.is_(True))).scalar_one())
            assert short == 3
        finally:
            for h in hubs:
                h.engine.dispose()
                h.reader.dispose()
