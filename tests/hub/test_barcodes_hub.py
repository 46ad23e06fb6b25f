"""Product barcodes at the hub: routing merges the catalogue's with the line's, and the snapshot carries them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.demo import generate_orders
from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient, intake_from_json, intake_to_json
from hub.routing import Rules, route
from tests.helpers.hubapi import Session, push
from tests.hubproc import HubProcess

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def order(lines: list[OrderLine]) -> IntakeOrder:
    r = Recipient("张三", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道100号")
    return IntakeOrder("generic", "BC-1", ChannelStatus.PAID, r, lines, 100, T0, T0, paid_at=T0)


def test_routing_merges_the_catalogue_barcodes_with_the_lines() -> None:
    lines = [OrderLine("SKU-TEA-001", "西湖龙井", 1, 398_00),
             OrderLine("SKU-SNK-001", "坚果", 6, 89_00, barcodes={"6920000000012": 1}),
             OrderLine("SKU-UNKNOWN", "?", 1, 1)]
    d = route(order(lines), Rules.default())
    assert d.barcodes["SKU-TEA-001"] == {"6923456001077": 1, "6923456009011": 1}
    assert d.barcodes["SKU-SNK-001"] == {"6931234001072": 1, "16931234001079": 6, "6920000000012": 1}
    assert "SKU-UNKNOWN" not in d.barcodes


def test_generic_json_lines_may_carry_checked_barcodes() -> None:
    body = intake_to_json(order([OrderLine("S1", "茶", 1, 1, barcodes={"6901234567892": 1})]))
    assert intake_from_json(body).lines[0].barcodes == {"6901234567892": 1}
    body["lines"][0]["barcodes"] = {"6901234567893": 1}
    with pytest.raises(ValidationFailed, match="check digit"):
        intake_from_json(body)


def test_the_hub_snapshot_lines_carry_the_catalogue_barcodes(hub: HubProcess) -> None:
    o = next(o for o in generate_orders(200, seed=7) if not o.custom_packaging and not o.has_gift
             and o.recipient.province not in ("西藏自治区", "新疆维吾尔自治区", "青海省"))
    o.paid_at = o.created_at + timedelta(minutes=2)
    r = push(hub.url, "generic", intake_to_json(o))
    assert r.status_code == 200, r.text
    oid = r.json()["orders"][0]["order_id"]
    snap = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login().order(oid)
    catalogue = Rules.default().catalogue
    for line in snap["lines"]:
        assert line["barcodes"] == catalogue[line["sku"]].barcodes
