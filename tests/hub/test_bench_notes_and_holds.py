"""The supervisor's packing note reaches the order; a bench-raised hold keeps its action's ID."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.demo import generate_orders
from core.model import intake_to_json
from core.store.overlay import PendingAction, apply_local, find_hold
from tests.helpers.hubapi import Session, push
from tests.helpers.snapshots import snapshot
from tests.hubproc import HubProcess


def new_order(hub: HubProcess) -> dict[str, Any]:
    o = next(o for o in generate_orders(200, seed=11) if not o.custom_packaging and not o.has_gift
             and o.recipient.province not in ("西藏自治区", "新疆维吾尔自治区", "青海省"))
    o.paid_at = o.created_at + timedelta(minutes=2)
    r = push(hub.url, "generic", intake_to_json(o))
    assert r.status_code == 200, r.text
    oid = r.json()["orders"][0]["order_id"]
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login().order(oid)


def test_signoff_note_becomes_the_orders_packing_note_and_the_hold_keeps_its_action(hub: HubProcess) -> None:
    o = new_order(hub)
    d = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    raise_it = d.action(o["order_id"], "hold_raised", {"type": "vip_signoff", "reason": "定制包装待签字"},
                        base_version=o["version"])
    [r] = d.send(raise_it)
    assert r["outcome"] == "applied", r
    hold = next(h for h in r["order"]["holds"] if h["type"] == "vip_signoff")
    assert hold["action_id"] == raise_it["action_id"]
    assert find_hold(r["order"]["holds"], "local-" + raise_it["action_id"]) == hold

    s = Session(hub.url, operator="S001", pin="3333", station="SUP-1", bench=None).login()
    r2 = s.do(o["order_id"], "hold_released", {"hold_id": hold["hold_id"], "reason": "ok",
                                               "resolution": {"packaging_checked": True, "note": " 红色礼盒，附贺卡 "}})
    assert r2["outcome"] == "applied", r2
    assert s.order(o["order_id"])["packing_note"] == "红色礼盒，附贺卡"


def test_the_bench_overlay_keeps_the_packing_note_before_the_hub_answers() -> None:
    hold = {"hold_id": "h-1", "type": "vip_signoff", "reason": "x", "raised_at": "", "raised_by": "hub", "details": {}}
    snap = snapshot("BL20261125-000001", holds=[hold])
    action = PendingAction("a1", "BL20261125-000001", "hold_released",
                           {"hold_id": "h-1", "resolution": {"packaging_checked": True, "note": "丝带打结"}},
                           "S001", "2026-11-25T02:00:00Z")
    assert apply_local(snap, action)["packing_note"] == "丝带打结"
    other = {**hold, "type": "gift_stock"}
    action2 = PendingAction("a2", "BL20261125-000001", "hold_released",
                            {"hold_id": "h-1", "resolution": {"decision": "without_gift", "note": "不是包装说明"}},
                            "D001", "2026-11-25T02:00:00Z")
    assert "packing_note" not in apply_local(snapshot("BL20261125-000001", holds=[other]), action2)
