"""Hold options from the hub (docs/api.md "Hold options"): the choices a dialog offers come from the
site's rules, over ``GET /orders/{id}/options`` and with the holds that offer a choice.

The demo hub runs the default rules (resources/rules/default.toml): GIFT-TEA-01 is out of stock,
ZTO and YTO do not deliver to Tibet, JD and SF do except 阿里地区, where only China Post (EMS, in no
warehouse's automatic list) does.
"""

from __future__ import annotations

import copy
from datetime import timedelta

from core.demo import generate_orders
from core.model import IntakeOrder, OrderLine, Recipient, intake_to_json
from core.playbooks import Options
from hub.routing import Rules
from tests.helpers.hubapi import Session, push
from tests.hubproc import HubProcess

LHASA = Recipient("扎西", "13912345678", "西藏自治区", "拉萨市", "城关区", "北京中路48号")
ALI = Recipient("次仁", "13912345678", "西藏自治区", "阿里地区", "改则县", "改则镇文化路1号")
SHANGHAI = Recipient("王芳", "13812345678", "上海市", "上海市", "浦东新区", "世纪大道100号")
GIFTS_IN_STOCK = ["GIFT-BAG-01", "GIFT-CARD-01", "GIFT-CUP-01", "GIFT-FAN-01"]  # not GIFT-TEA-01 (0 left)
ALL_CARRIERS = ["EMS", "JD", "SF", "YTO", "ZTO"]


def order(no: str, recipient: Recipient, *, gift: str | None = None) -> IntakeOrder:
    """A paid generic order of one tea, with ``gift`` as a free line, to ``recipient``."""
    base = next(o for o in generate_orders(50, seed=7) if not o.custom_packaging)
    o = copy.deepcopy(base)
    o.channel, o.channel_order_no, o.recipient = "generic", no, recipient
    o.lines = [OrderLine("SKU-TEA-001", "西湖龙井", 1, 398_00)]
    if gift:
        o.lines.append(OrderLine(gift, "赠品", 1, 0, is_gift=True))
    o.total_fen = 398_00
    o.paid_at = o.created_at + timedelta(minutes=2)
    o.channel_updated_at = o.created_at
    return o


def pushed(hub: HubProcess, o: IntakeOrder) -> str:
    r = push(hub.url, "generic", intake_to_json(o))
    assert r.status_code == 200, r.text
    oid: str = r.json()["orders"][0]["order_id"]
    return oid


def desk(hub: HubProcess) -> Session:
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()


def hold(doc: dict, htype: str) -> dict:
    found = [h for h in doc["holds"] if h["type"] == htype]
    assert len(found) == 1, doc["holds"]
    return found[0]


def test_the_options_endpoint_sends_the_hubs_choices_for_the_order(hub: HubProcess) -> None:
    d = desk(hub)
    lhasa, ali = pushed(hub, order("OPT-1", LHASA)), pushed(hub, order("OPT-2", ALI))
    r = d.get(f"/api/v1/orders/{lhasa.lower()}/options")  # the same ID rule as GET /orders/{id}
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["order_id"] == lhasa
    wire = body["options"]
    assert wire["gift_skus"] == GIFTS_IN_STOCK
    assert wire["carriers"] == ALL_CARRIERS
    assert wire["covering_carriers"] == ["EMS", "JD", "SF"]
    assert wire["skus"] == sorted(Rules.default().catalogue)
    assert wire["names"]["SF"] == "顺丰速运 / SF Express"
    assert wire["names"]["GIFT-CUP-01"] == "定制礼品杯 (赠品)"
    assert wire["names"]["SKU-TEA-001"].startswith("西湖龙井")
    # What a dialog reads back is the same set the hub checks a release against.
    opts = Options.from_wire(wire)
    assert set(opts.covering_carriers or ()) == {"EMS", "JD", "SF"} and set(opts.gift_skus or ()) == set(GIFTS_IN_STOCK)

    far = d.get(f"/api/v1/orders/{ali}/options").json()["options"]
    assert far["covering_carriers"] == ["EMS"] and far["carriers"] == ALL_CARRIERS  # China Post covers everywhere


def test_options_have_the_visibility_of_the_order_itself(hub: HubProcess) -> None:
    d = desk(hub)
    oid = pushed(hub, order("OPT-3", SHANGHAI))
    bench = d.order(oid)["bench"]
    other = next(b for b in Rules.default().benches if b != bench)
    own = Session(hub.url, operator="P001", pin="1111", station=f"{bench}-PC", bench=bench).login()
    stranger = Session(hub.url, operator="P002", pin="1111", station=f"{other}-PC", bench=other).login()

    assert own.get(f"/api/v1/orders/{oid}/options").status_code == 200
    for path in (f"/api/v1/orders/{oid}", f"/api/v1/orders/{oid}/options"):
        r = stranger.get(path)
        assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (path, r.text)
    for path in ("/api/v1/orders/BL20000101-999999", "/api/v1/orders/BL20000101-999999/options"):
        r = d.get(path)
        assert (r.status_code, r.json()["error"]) == (404, "unknown_order"), (path, r.text)
    r = Session(hub.url).get(f"/api/v1/orders/{oid}/options")  # no token
    assert r.status_code == 401 and r.json()["error"] == "unauthorized", r.text


def test_a_gift_stock_hold_carries_the_gifts_in_stock_and_the_hub_accepts_them(hub: HubProcess) -> None:
    d = desk(hub)
    oid = pushed(hub, order("OPT-4", SHANGHAI, gift="GIFT-TEA-01"))
    doc = d.order(oid)
    h = hold(doc, "gift_stock")
    assert h["details"]["options"] == {
        "gift_skus": GIFTS_IN_STOCK,
        "names": {"GIFT-BAG-01": "品牌帆布袋 (赠品)", "GIFT-CARD-01": "手写贺卡 (赠品)",
                  "GIFT-CUP-01": "定制礼品杯 (赠品)", "GIFT-FAN-01": "折扇 定制款 (赠品)"},
    }
    # Only what the hold offers passes the hub's check: the short gift itself is refused.
    refused = d.do(oid, "hold_released", {"hold_id": h["hold_id"], "reason": "换赠品", "resolution": {
        "decision": "substitute", "substitute_sku": "GIFT-TEA-01", "consent_by": "买家"}}, base_version=doc["version"])
    assert refused["outcome"] == "rejected", refused
    assert hold(d.order(oid), "gift_stock")["hold_id"] == h["hold_id"]  # still open
    offered = Options.from_wire(h["details"]["options"])
    pick = sorted(offered.gift_skus or ())[0]
    released = d.do(oid, "hold_released", {"hold_id": h["hold_id"], "reason": "换赠品", "resolution": {
        "decision": "substitute", "substitute_sku": pick, "consent_by": "买家"}}, base_version=doc["version"])
    assert released["outcome"] == "applied", released
    assert pick in [ln["sku"] for ln in released["order"]["lines"]]


def test_a_carrier_area_hold_carries_the_carriers_and_those_covering_the_address(hub: HubProcess) -> None:
    d = desk(hub)
    doc = d.order(pushed(hub, order("OPT-5", ALI)))
    h = hold(doc, "carrier_area")
    assert h["details"]["options"] == {
        "carriers": ALL_CARRIERS,
        "covering_carriers": ["EMS"],
        "names": {"EMS": "中国邮政 EMS / China Post EMS", "JD": "京东快递 / JD Logistics", "SF": "顺丰速运 / SF Express",
                  "YTO": "圆通速递 / YTO Express", "ZTO": "中通快递 / ZTO Express"},
    }
    assert h["details"]["tried"]  # what was there before stays
    # The endpoint and the hold agree on what covers this address.
    assert d.get(f"/api/v1/orders/{doc['order_id']}/options").json()["options"]["covering_carriers"] == ["EMS"]
