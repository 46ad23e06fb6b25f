"""Split and merge (合单) at the hub (hub/split_merge.py, docs/split-merge.md).

In process: the hub's own Hub object over a real SQLite file, the real intake, allocation, writer
and action paths (``process_batch``); no HTTP server. Stock is counted so each test can check
where reservations went.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub import db
from hub.actions import process_batch
from hub.api.deps import Hub
from hub.writer import Actor
from tests.hub.test_stock import DESK, NUTS, TEA, doc, hub, level, push, set_stock

__all__ = ["hub"]  # the fixture, imported

PACKER = Actor(operator="P001", station="BENCH-1", role="packer", bench="SH-B1", device_id="dev-bench-1")
_nos = itertools.count(1)
_aids = itertools.count(1000)


def order(lines: list[tuple[str, int]], *, name: str = "张三", phone: str = "13800138000",
          address: str = "世纪大道 1 号") -> IntakeOrder:
    now = utcnow()
    return IntakeOrder(channel="generic", channel_order_no=f"SM{next(_nos)}", status=ChannelStatus.PAID,
        recipient=Recipient(name, phone, "上海市", "上海市", "浦东新区", address),
        lines=[OrderLine(sku, "商品", qty, 1000) for sku, qty in lines], total_fen=1000, created_at=now,
        channel_updated_at=now, paid_at=now)


def act(hub: Hub, oid: str, kind: str, payload: dict[str, Any], actor: Actor = DESK) -> dict[str, Any]:
    a = {"action_id": f"sm{next(_aids)}", "seq": next(_aids), "order_id": oid, "type": kind, "payload": payload}
    res: dict[str, Any] = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, actor, [a]))
    return res["results"][0]


def audit(hub: Hub, oid: str) -> list[dict[str, Any]]:
    a = db.audit.c
    rows = hub.tx(lambda c: list(c.execute(select(a.what, a.details).where(a.order_id == oid).order_by(a.id))))
    return [{"what": w, "details": d} for w, d in rows]


def held(hub: Hub, oid: str) -> dict[str, int]:
    from hub import stock

    got = hub.tx(lambda c: stock.held(c, oid))
    return {sku: q for (sku, _wh), q in got.items()}


def changes_of(hub: Hub, oids: list[str]) -> list[str]:
    c_ = db.changes.c
    return hub.tx(lambda c: [r[0] for r in c.execute(select(c_.order_id).where(c_.order_id.in_(oids)))])


# -- split ------------------------------------------------------------------------------------------

def test_split_moves_the_reservation_and_links_all_three(hub: Hub) -> None:
    set_stock(hub, TEA, 10)
    set_stock(hub, NUTS, 10)
    (oid,) = push(hub, order([(TEA, 3), (NUTS, 2)]))
    assert level(hub, TEA) == (10, 3) and held(hub, oid) == {TEA: 3, NUTS: 2}
    res = act(hub, oid, "order_split", {"reason": "坚果先发 / nuts first", "lines": {NUTS: 2, TEA: 1}})
    assert res["outcome"] == "applied", res
    parent = doc(hub, oid)
    kids = [f"{oid}-1", f"{oid}-2"]
    assert parent["state"] == "closed" and parent["split"]["into"] == kids
    now, later = doc(hub, kids[0]), doc(hub, kids[1])
    assert now["state"] == later["state"] == "allocated"
    assert [(ln["sku"], ln["qty"]) for ln in now["lines"]] == [(TEA, 1), (NUTS, 2)]
    assert [(ln["sku"], ln["qty"]) for ln in later["lines"]] == [(TEA, 2)]
    assert now["split"] == {"from": oid, "root": oid, "part": "ship_now", "siblings": kids,
                            "channel_order_no": parent["channel_order_no"]}
    assert later["split"]["part"] == "backorder"
    # reservations moved: the parent holds nothing, each part what it ships, totals unchanged
    assert held(hub, oid) == {} and held(hub, kids[0]) == {TEA: 1, NUTS: 2} and held(hub, kids[1]) == {TEA: 2}
    assert level(hub, TEA) == (10, 3) and level(hub, NUTS) == (10, 2)
    # own waybills, the parent's given back
    assert now["waybill_no"] and later["waybill_no"] and now["waybill_no"] != later["waybill_no"]
    # audit on all three names the others; the change feed carries all three
    assert [e["details"]["into"] for e in audit(hub, oid) if e["what"] == "split"] == [kids]
    for k in kids:
        assert [e["details"]["from"] for e in audit(hub, k) if e["what"] == "split_created"] == [oid]
    assert set(changes_of(hub, [oid, *kids])) == {oid, *kids}


def test_split_of_a_short_order_ships_what_is_there_and_the_rest_waits(hub: Hub) -> None:
    set_stock(hub, TEA, 5)
    set_stock(hub, NUTS, 0)
    (oid,) = push(hub, order([(TEA, 2), (NUTS, 3)]))
    assert [h["type"] for h in doc(hub, oid)["holds"]] == ["stock_short"] and held(hub, oid) == {}
    assert act(hub, oid, "order_split", {"reason": "缺货先发有货的", "lines": {TEA: 2}})["outcome"] == "applied"
    now, later = doc(hub, f"{oid}-1"), doc(hub, f"{oid}-2")
    assert now["holds"] == [] and held(hub, now["order_id"]) == {TEA: 2}
    assert [h["type"] for h in later["holds"]] == ["stock_short"] and held(hub, later["order_id"]) == {}
    assert doc(hub, oid)["holds"] == []  # the parent's hold was released when it closed
    # a part split again takes the root's next numbers
    set_stock(hub, NUTS, 1)
    assert act(hub, later["order_id"], "order_split", {"reason": "到了一件", "lines": {NUTS: 1}})["outcome"] == "applied"
    assert doc(hub, f"{oid}-3")["split"]["from"] == f"{oid}-2" and doc(hub, f"{oid}-4")["lines"][0]["qty"] == 2


def test_split_refusals_leave_nothing_behind(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    (oid,) = push(hub, order([(TEA, 2), (NUTS, 1)]))
    before = doc(hub, oid)
    # a packer may not split
    res = act(hub, oid, "order_split", {"reason": "x", "lines": {TEA: 1}}, PACKER)
    assert (res["outcome"], res["error"]) == ("rejected", "forbidden")
    # no reason, everything, a SKU not on the order, more than ordered
    assert act(hub, oid, "order_split", {"lines": {TEA: 1}})["error"] == "bad_payload"
    assert act(hub, oid, "order_split", {"reason": "x", "lines": {TEA: 2, NUTS: 1}})["error"] == "split_refused"
    assert act(hub, oid, "order_split", {"reason": "x", "lines": {"SKU-NOPE": 1}})["error"] == "split_refused"
    assert act(hub, oid, "order_split", {"reason": "x", "lines": {TEA: 3}})["error"] == "split_refused"
    # printed: void first
    act(hub, oid, "label_printed", {"printer": "p", "job_id": "j1"})
    res = act(hub, oid, "order_split", {"reason": "x", "lines": {TEA: 1}})
    assert (res["outcome"], res["error"]) == ("rejected", "illegal_transition")
    after = doc(hub, oid)
    assert after["state"] == "label_printed" and after["version"] == before["version"] + 1
    assert "split" not in after and doc_missing(hub, f"{oid}-1")
    assert level(hub, TEA) == (2, 2)


def test_the_ship_now_part_must_be_in_stock(hub: Hub) -> None:
    set_stock(hub, TEA, 1)
    (oid,) = push(hub, order([(TEA, 3)]))  # short: held, nothing reserved
    res = act(hub, oid, "order_split", {"reason": "x", "lines": {TEA: 2}})
    assert (res["outcome"], res["error"]) == ("rejected", "stock_short")
    assert doc(hub, oid)["state"] == "allocated" and level(hub, TEA) == (1, 0) and doc_missing(hub, f"{oid}-1")


def doc_missing(hub: Hub, oid: str) -> bool:
    o = db.orders.c
    return hub.tx(lambda c: c.execute(select(o.order_id).where(o.order_id == oid)).first()) is None


# -- merge ------------------------------------------------------------------------------------------

def test_merge_one_parcel_one_waybill_moves_together(hub: Hub) -> None:
    set_stock(hub, TEA, 10)
    a, b = push(hub, order([(TEA, 1)]), order([(TEA, 2)], name=" 张三 ", address="世纪大道1号"))
    wb_a, wb_b = doc(hub, a)["waybill_no"], doc(hub, b)["waybill_no"]
    assert wb_a != wb_b
    res = act(hub, a, "order_merge", {"with": b, "reason": "同一买家"})
    assert res["outcome"] == "applied", res
    da, db_ = doc(hub, a), doc(hub, b)
    assert da["merge"] == db_["merge"] == {"parcel": a, "orders": [a, b]}
    assert db_["waybill_no"] == wb_a and db_["carrier"] == da["carrier"]
    assert [e["details"]["old"]["waybill_no"] for e in audit(hub, b) if e["what"] == "merged"] == [wb_b]
    # candidates: none left (b is in the parcel already, listed as a member)
    from hub.split_merge import candidates
    assert [d["order_id"] for d in hub.tx(lambda c: candidates(c, da))] == [b]
    # one label for the parcel: printing a prints b; shipping a ships b and consumes both
    assert act(hub, a, "label_printed", {"printer": "p", "job_id": "j"})["outcome"] == "applied"
    assert doc(hub, b)["state"] == "label_printed"
    assert act(hub, a, "order_unmerge", {})["error"] == "illegal_transition"  # printed: void first
    assert act(hub, a, "shipped_by_station", {})["outcome"] == "applied"
    assert doc(hub, b)["state"] == "shipped" and level(hub, TEA) == (7, 0)


def test_merge_refusals(hub: Hub) -> None:
    a, other_addr, printed, masked = push(hub, order([(TEA, 1)]), order([(TEA, 1)], address="世纪大道 2 号"),
                                          order([(TEA, 1)]), order([(TEA, 1)], name="张*", phone="138****8000"))
    act(hub, printed, "label_printed", {"printer": "p", "job_id": "j"})
    for other, words in ((other_addr, "another recipient"), (printed, "not allocated"), (masked, "masked")):
        res = act(hub, a, "order_merge", {"with": other})
        assert (res["outcome"], res["error"]) == ("rejected", "merge_refused"), res
        assert words in res["reason"]
    res = act(hub, a, "order_merge", {"with": other_addr}, PACKER)
    assert res["error"] == "forbidden"
    assert act(hub, a, "order_merge", {"with": "BL20990101-000001"})["error"] == "merge_refused"
    assert "merge" not in doc(hub, a) and "merge" not in doc(hub, other_addr)


def test_unmerge_gives_each_order_its_own_waybill_again(hub: Hub) -> None:
    a, b, c = push(hub, order([(TEA, 1)]), order([(TEA, 1)]), order([(TEA, 1)]))
    assert act(hub, a, "order_merge", {"with": f"{b}, {c}"})["outcome"] == "applied"
    assert doc(hub, c)["merge"]["orders"] == [a, b, c]
    assert act(hub, b, "order_unmerge", {"reason": "买家要分开寄"})["outcome"] == "applied"
    da, dbb, dc = doc(hub, a), doc(hub, b), doc(hub, c)
    assert "merge" not in dbb and dbb["waybill_no"] not in (None, da["waybill_no"])
    assert da["merge"]["orders"] == dc["merge"]["orders"] == [a, c]
    assert act(hub, a, "order_unmerge", {})["outcome"] == "applied"  # the parcel's own order: dissolved
    assert "merge" not in doc(hub, a) and "merge" not in doc(hub, c)
    assert doc(hub, c)["waybill_no"] != doc(hub, a)["waybill_no"]


# -- write-back -------------------------------------------------------------------------------------

def test_a_shipped_part_is_written_back_on_its_shops_order_with_its_parcel(hub: Hub) -> None:
    from hub.channels import queues
    from hub.channels.store import remember_orders
    from hub.split_merge import parcel_of

    (oid,) = push(hub, order([(TEA, 2), (NUTS, 1)]))
    shop_no = doc(hub, oid)["channel_order_no"]
    hub.tx(lambda c: remember_orders(c, 7, [oid]))  # as if connector 7 had brought it
    assert act(hub, oid, "order_split", {"reason": "先发茶", "lines": {TEA: 2}})["outcome"] == "applied"
    kid = f"{oid}-1"
    assert act(hub, kid, "label_printed", {"printer": "p", "job_id": "j"})["outcome"] == "applied"
    assert act(hub, kid, "shipped_by_station", {})["outcome"] == "applied"
    [row] = hub.tx(lambda c: queues.ships_of(c, kid))
    assert row["waybill"] == doc(hub, kid)["waybill_no"]
    s = db.ship_queue.c
    assert hub.tx(lambda c: c.execute(select(s.channel_order_no, s.connector_id).where(s.order_id == kid)).one()) == (
        shop_no, 7)
    assert hub.tx(lambda c: parcel_of(c, kid)) == ((TEA, 2),)
    assert hub.tx(lambda c: parcel_of(c, oid)) == ()  # the parent is not a parcel


def test_the_shops_cancel_of_a_split_order_reaches_its_parts_and_a_cancelled_order_leaves_its_parcel(
        hub: Hub) -> None:
    import dataclasses

    from core.model import ChannelStatus as CS

    o = order([(TEA, 2), (NUTS, 1)])
    (oid,) = push(hub, o)
    assert act(hub, oid, "order_split", {"reason": "先发茶", "lines": {TEA: 1}})["outcome"] == "applied"
    later = dataclasses.replace(o, status=CS.CANCELLED, channel_updated_at=utcnow())
    push(hub, later)  # the buyer cancels the whole order on the shop
    assert doc(hub, f"{oid}-1")["state"] == doc(hub, f"{oid}-2")["state"] == "closed"
    # a merged order cancelled by the shop leaves the parcel; the parcel keeps its waybill
    a_o, b_o = order([(TEA, 1)]), order([(TEA, 1)])
    a, b = push(hub, a_o, b_o)
    assert act(hub, a, "order_merge", {"with": b})["outcome"] == "applied"
    waybill = doc(hub, a)["waybill_no"]
    push(hub, dataclasses.replace(a_o, status=CS.CANCELLED, channel_updated_at=utcnow()))
    da, dbb = doc(hub, a), doc(hub, b)
    assert da["state"] == "closed" and "merge" not in da and "merge" not in dbb and dbb["waybill_no"] == waybill
