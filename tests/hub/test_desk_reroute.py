"""Issue 15 at the hub: an address change routes the order again (carrier, rural rule, warehouse,
label, stock), a cancel after printing becomes an intercept request, and "delivered by hand" needs a
reason and the desk role. In-process hub over a real SQLite file (no hub process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub import db, stock
from hub.actions import process_batch
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.routing import Rules
from hub.writer import Actor, Writer

SHANGHAI = Recipient("张伟", "13812345678", "上海市", "上海市", "浦东新区", "世纪大道100号1203室")
CHENGDU = Recipient("李娜", "13912345678", "四川省", "成都市", "武侯区", "人民南路四段1号")
# The issue's case: a village in 西藏阿里 and no phone. No carrier of the west warehouse covers 阿里.
ALI_VILLAGE = {"name": "扎西", "phone": "", "province": "西藏自治区", "city": "阿里地区", "district": "噶尔县",
               "address": "狮泉河镇加木村3组", "postcode": ""}
HOTAN = {"name": "阿依", "phone": "13712345678", "province": "新疆维吾尔自治区", "city": "和田地区",
         "district": "和田市", "address": "北京西路8号", "postcode": ""}


class Site:
    """A hub database with the default rules, and one desk device pushing actions to it."""

    def __init__(self, engine: Engine, settings: HubSettings, rules: Rules) -> None:
        self.engine, self.settings, self.rules = engine, settings, rules
        self.seq = 0
        self.device = uuid.uuid4().hex

    def order(self, recipient: Recipient, no: str) -> dict[str, Any]:
        t = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
        lines = [OrderLine("SKU-TEA-001", "西湖龙井", 1, 398_00)]
        o = IntakeOrder(channel="generic", channel_order_no=no, status=ChannelStatus.PAID, recipient=recipient,
                        lines=lines, total_fen=398_00, created_at=t, channel_updated_at=t, paid_at=t)
        with self.engine.begin() as c:
            w = Writer(c, self.settings, Actor.system("test"))
            oid = intake(w, self.rules, [o])[0]["order_id"]
            w.flush()
        return self.load(oid)

    def load(self, order_id: str) -> dict[str, Any]:
        with self.engine.connect() as c:
            return load_docs(c, [order_id])[order_id]

    def do(self, order_id: str, kind: str, payload: dict[str, Any], *, role: str = "desk",
           bench: str | None = None) -> dict[str, Any]:
        self.seq += 1
        actor = Actor(operator="D001", station="DESK-1", role=role, bench=bench, device_id=self.device)
        action = {"action_id": uuid.uuid4().hex, "seq": self.seq, "order_id": order_id, "type": kind,
                  "payload": payload, "base_version": None, "done_at": None, "operator": "D001"}
        with self.engine.begin() as c:
            return process_batch(c, self.settings, self.rules, actor, [action])["results"][0]

    def applied(self, order_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        res = self.do(order_id, kind, payload)
        assert res["outcome"] == "applied", res
        return res["order"]

    def audit(self, order_id: str) -> list[str]:
        a = db.audit.c
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(select(a.what).where(a.order_id == order_id).order_by(a.id))]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}")
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    yield Site(engine, settings, Rules.default())
    engine.dispose()


def _holds(doc: dict[str, Any]) -> set[str]:
    return {h["type"] for h in doc["holds"]}


def test_the_issues_case_tibet_village_without_phone_leaves_zto_and_is_held(site: Site) -> None:
    o = site.order(SHANGHAI, "I15-TIBET")
    assert (o["warehouse"], o["carrier"], o["holds"]) == ("WH-SH", "ZTO", [])
    old_waybill = o["waybill_no"]
    after = site.applied(o["order_id"], "address_changed", {"recipient": ALI_VILLAGE, "reason": "买家改地址"})
    assert after["recipient"]["city"] == "阿里地区"
    assert after["state"] == "allocated"
    assert after["warehouse"] == "WH-CD" and after["bench"] in ("CD-B1", "CD-B2")  # 西藏 ships from the west
    assert after["carrier"] is None and after["waybill_no"] is None  # ZTO does not cover Tibet; nor JD/SF 阿里
    assert _holds(after) == {"carrier_area", "rural_no_phone"}
    area = next(h for h in after["holds"] if h["type"] == "carrier_area")
    assert area["details"]["tried"] == ["ZTO", "JD", "SF"] and "EMS" in area["details"]["options"]["covering_carriers"]
    assert old_waybill and after["waybill_no"] != old_waybill
    assert site.audit(o["order_id"])[-5:] == ["address_changed", "reallocated", "hold_raised", "hold_raised", "rerouted"]


def test_a_hold_about_the_old_address_is_raised_anew_for_the_new_one(site: Site) -> None:
    o = site.order(Recipient(**ALI_VILLAGE), "I15-NAQU")
    naqu = {**ALI_VILLAGE, "phone": "13612345678", "city": "那曲市", "district": "双湖县", "address": "措折罗玛镇1号"}
    after = site.applied(o["order_id"], "address_changed", {"recipient": naqu, "reason": "buyer moved"})
    assert after["carrier"] is None and _holds(after) == {"carrier_area"}  # no carrier covers 双湖县 either
    assert after["holds"][0]["details"]["city"] == "那曲市"  # the hold (and its choices) name the new area


def test_a_new_address_the_carrier_does_not_cover_gets_the_next_carrier_and_a_new_waybill(site: Site) -> None:
    o = site.order(CHENGDU, "I15-HOTAN")
    assert (o["warehouse"], o["carrier"]) == ("WH-CD", "ZTO")
    after = site.applied(o["order_id"], "address_changed", {"recipient": HOTAN, "reason": "buyer moved"})
    # ZTO does not deliver to 和田地区; JD is next in WH-CD's list and does
    assert (after["warehouse"], after["bench"], after["carrier"]) == ("WH-CD", o["bench"], "JD")
    assert after["waybill_no"].startswith("JDV") and after["holds"] == []


def test_an_address_that_fixes_the_problem_releases_the_address_holds(site: Site) -> None:
    o = site.order(Recipient(**ALI_VILLAGE), "I15-BACK")
    assert o["carrier"] is None and _holds(o) == {"carrier_area", "rural_no_phone"}
    recipient = {**CHENGDU.__dict__}
    after = site.applied(o["order_id"], "address_changed", {"recipient": recipient, "reason": "buyer gave city address"})
    assert after["carrier"] == "ZTO" and after["waybill_no"] and after["holds"] == []
    assert site.audit(o["order_id"]).count("hold_released") == 2


def test_a_changed_address_after_printing_voids_the_label_and_keeps_a_covering_carrier(site: Site) -> None:
    o = site.order(SHANGHAI, "I15-PRINTED")
    printed = site.applied(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"})
    assert printed["state"] == "label_printed"
    moved = {**SHANGHAI.__dict__, "address": "世纪大道200号"}
    after = site.applied(o["order_id"], "address_changed", {"recipient": moved, "reason": "typo in number"})
    assert after["state"] == "allocated" and after["carrier"] == "ZTO"
    assert after["waybill_no"] != printed["waybill_no"]  # the old label is dead; the reprint gets a new number
    assert _holds(after) == {"address_change"}
    assert after["holds"][0]["details"]["old_waybill_no"] == printed["waybill_no"]


def test_a_warehouse_change_moves_the_reserved_stock(site: Site) -> None:
    with site.engine.begin() as c:
        w = Writer(c, site.settings, Actor.system("test"))
        for wh in ("WH-SH", "WH-CD"):
            stock.set_on_hand(w, "SKU-TEA-001", wh, 5, "count")
        w.flush()
    o = site.order(SHANGHAI, "I15-STOCK")
    with site.engine.connect() as c:
        assert stock.held(c, o["order_id"]) == {("SKU-TEA-001", "WH-SH"): 1}
    site.applied(o["order_id"], "address_changed", {"recipient": {**CHENGDU.__dict__}, "reason": "送到成都"})
    with site.engine.connect() as c:
        assert stock.held(c, o["order_id"]) == {("SKU-TEA-001", "WH-CD"): 1}
        assert stock.available(c, "WH-SH", ["SKU-TEA-001"]) == {"SKU-TEA-001": 5}


def test_a_cancel_after_printing_or_shipping_is_an_intercept_request(site: Site) -> None:
    before = site.order(SHANGHAI, "I15-C1")
    closed = site.applied(before["order_id"], "cancelled_by_buyer", {"reason": "买家不要了"})
    assert closed["state"] == "closed"

    printed = site.order(SHANGHAI, "I15-C2")
    site.applied(printed["order_id"], "label_printed", {"printer": "pdf", "job_id": "j"})
    asked = site.applied(printed["order_id"], "cancelled_by_buyer", {"reason": "买家不要了"})
    assert asked["state"] == "label_printed" and asked["cancel_requested"] is True
    hold = asked["holds"][0]
    assert hold["type"] == "cancel_request" and hold["details"]["stage"] == "label_printed"
    again = site.applied(printed["order_id"], "cancelled_by_buyer", {"reason": "又催了"})
    assert len(again["holds"]) == 1 and site.audit(printed["order_id"])[-1] == "cancel_request_repeated"

    shipped = site.order(SHANGHAI, "I15-C3")
    site.applied(shipped["order_id"], "label_printed", {"printer": "pdf", "job_id": "j"})
    site.applied(shipped["order_id"], "shipped_by_station", {})
    gone = site.applied(shipped["order_id"], "cancelled_by_buyer", {"reason": "拒收前取消"})
    assert gone["state"] == "shipped" and gone["holds"][0]["details"]["stage"] == "shipped"


def test_delivered_by_hand_needs_a_reason_and_the_desk_role(site: Site) -> None:
    o = site.order(SHANGHAI, "I15-DLV")
    site.applied(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j"})
    site.applied(o["order_id"], "shipped_by_station", {})
    no_reason = site.do(o["order_id"], "delivered_by_hand", {})
    assert (no_reason["outcome"], no_reason["error"]) == ("rejected", "bad_payload")
    packer = site.do(o["order_id"], "delivered_by_hand", {"reason": "买家电话确认已收到"}, role="packer",
                     bench=o["bench"])
    assert (packer["outcome"], packer["error"]) == ("rejected", "forbidden")
    done = site.applied(o["order_id"], "delivered_by_hand", {"reason": "买家电话确认已收到"})
    assert done["state"] == "delivered"
    packer_move = site.do(o["order_id"], "address_changed", {"recipient": ALI_VILLAGE, "reason": "x"}, role="packer",
                          bench=o["bench"])
    assert packer_move["error"] == "forbidden"
