"""Returns at the hub (hub/returns.py, docs/returns.md): a graded return puts good units back on hand,
damaged ones into quarantine, raises one refund_review hold; the desk's decision refunds (closed) or
refuses; a retried batch and a second return of the same units change nothing twice.

In process, real SQLite, the real action path (``process_batch``); the helpers are test_stock's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.states import Trigger
from hub import db
from hub.actions import process_batch
from hub.api.stock import levels
from hub.stock import RETURN_DAMAGED, RETURN_GOOD
from tests.hub.test_stock import DESK, NUTS, SH, TEA, Hub, act, doc, hub, order, push, set_stock, trigger

__all__ = ["hub"]  # the fixture, used by name

SHIPPED = (Trigger.LABEL_PRINTED, Trigger.SHIPPED_BY_STATION)


def delivered(h: Hub, lines: list[tuple[str, int]]) -> str:
    set_stock(h, TEA, 10)
    set_stock(h, NUTS, 10)
    (oid,) = push(h, order(lines))
    trigger(h, oid, *SHIPPED, Trigger.DELIVERED)
    return oid


def stock_row(h: Hub, sku: str) -> tuple[int, int, int]:
    s = db.stock.c
    row = h.tx(lambda c: c.execute(select(s.on_hand, s.reserved, s.quarantine).where(
        s.sku == sku, s.warehouse == SH)).one())
    return int(row[0]), int(row[1]), int(row[2])


def ret(lines: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    return {"lines": lines, "note": note}


def test_good_back_damaged_quarantined_one_hold_and_nothing_twice(hub: Hub) -> None:
    oid = delivered(hub, [(TEA, 3), (NUTS, 1)])
    assert stock_row(hub, TEA) == (7, 0, 0) and stock_row(hub, NUTS) == (9, 0, 0)  # shipping consumed them
    action = {"action_id": "ret-1", "seq": 901, "order_id": oid, "type": "return_received", "payload": ret([
        {"sku": TEA, "qty_good": 1, "qty_damaged": 1, "qty_missing": 1},
        {"sku": NUTS, "qty_good": 0, "qty_damaged": 0, "qty_missing": 1}], "盒子压坏")}
    res = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, DESK, [action]))["results"][0]
    assert res["outcome"] == "applied", res
    d = doc(hub, oid)
    assert d["state"] == "delivered"  # open until the desk decides
    (hold,) = [h for h in d["holds"] if h["type"] == "refund_review"]
    assert hold["action_id"] == "ret-1" and hold["details"]["totals"] == {"qty_good": 1, "qty_damaged": 1,
                                                                           "qty_missing": 2}
    assert d["returns"][0]["note"] == "盒子压坏" and d["returns"][0]["by"] == "D001"
    assert stock_row(hub, TEA) == (8, 0, 1) and stock_row(hub, NUTS) == (9, 0, 0)
    m = db.stock_moves.c
    reasons = hub.tx(lambda c: sorted(c.execute(select(m.reason, m.delta_on_hand, m.delta_quarantine).where(
        m.order_id == oid, m.reason.like("return:%"))).all()))
    assert reasons == [(RETURN_DAMAGED, 0, 1), (RETURN_GOOD, 1, 0)]
    row = next(r for r in hub.tx(lambda c: levels(c, SH))["rows"] if r["sku"] == TEA)
    assert (row["on_hand"], row["available"], row["quarantine"]) == (8, 8, 1)  # quarantined: not available
    # the same batch again (a lost answer): answered, not applied
    again = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, DESK, [action]))["results"][0]
    assert again["outcome"] == "duplicate" and stock_row(hub, TEA) == (8, 0, 1)
    # a second return of the same units (another action): refused, nothing changes
    version = doc(hub, oid)["version"]
    over = act(hub, oid, "return_received", ret([{"sku": TEA, "qty_good": 1, "qty_damaged": 0, "qty_missing": 1}]))
    assert over["outcome"] == "rejected" and over["error"] == "bad_payload" and "only 1" in over["reason"]
    assert doc(hub, oid)["version"] == version and stock_row(hub, TEA) == (8, 0, 1)
    # the last unit in a second parcel: added to the same hold
    assert act(hub, oid, "return_received", ret([{"sku": TEA, "qty_good": 1}]))["outcome"] == "applied"
    d = doc(hub, oid)
    (hold,) = [h for h in d["holds"] if h["type"] == "refund_review"]
    assert len(hold["details"]["returns"]) == 2 and stock_row(hub, TEA) == (9, 0, 1)


def test_refund_closes_refuse_keeps_and_bad_returns_are_refused(hub: Hub) -> None:
    oid = delivered(hub, [(TEA, 2)])
    assert act(hub, oid, "return_received", ret([{"sku": TEA, "qty_good": 2}]))["outcome"] == "applied"
    hid = next(h["hold_id"] for h in doc(hub, oid)["holds"] if h["type"] == "refund_review")
    bad = act(hub, oid, "hold_released", {"hold_id": hid, "resolution": {"decision": "refund_partial",
                                                                         "amount": "12.345", "note": "少退"}})
    assert bad["outcome"] == "rejected" and bad["error"] == "bad_payload" and "amount" in bad["reason"]
    ok = act(hub, oid, "hold_released", {"hold_id": hid, "resolution": {"decision": "refund_partial",
                                                                        "amount": "39.90", "note": "一件有划痕"}})
    assert ok["outcome"] == "applied", ok
    d = doc(hub, oid)
    assert d["state"] == "closed" and d["refund"] == {"decision": "refund_partial", "amount_fen": 3990}

    other = delivered(hub, [(TEA, 1)])
    assert act(hub, other, "return_received", ret([{"sku": TEA, "qty_damaged": 1}]))["outcome"] == "applied"
    hid = next(h["hold_id"] for h in doc(hub, other)["holds"] if h["type"] == "refund_review")
    assert act(hub, other, "hold_released", {"hold_id": hid, "resolution": {
        "decision": "refuse", "note": "买家人为损坏"}})["outcome"] == "applied"
    d = doc(hub, other)
    assert d["state"] == "delivered" and not d["holds"] and "refund" not in d

    # not on the order / not shipped yet / nothing counted: refused with the field named
    assert act(hub, other, "return_received", ret([{"sku": NUTS, "qty_good": 1}]))["error"] == "bad_payload"
    assert act(hub, other, "return_received", ret([{"sku": TEA, "qty_good": 0}]))["error"] == "bad_payload"
    (fresh,) = push(hub, order([(TEA, 1)]))
    r = act(hub, fresh, "return_received", ret([{"sku": TEA, "qty_good": 1}]))
    assert r["outcome"] == "rejected" and r["error"] == "illegal_transition"
    assert stock_row(hub, TEA)[2] == 1  # only the one damaged unit of `other` is in quarantine
