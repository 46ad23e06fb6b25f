"""Channel adapters: a merchant code that is the goods' own GS1 barcode becomes a line barcode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.model import IntakeOrder
from hub.intake import parse_push

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"
EAN = "6901234567892"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def push(channel: str, doc: Any) -> list[IntakeOrder]:
    return parse_push(channel, json.dumps(doc, ensure_ascii=False).encode())


def test_the_fixtures_merchant_codes_are_not_barcodes_so_lines_have_none() -> None:
    for channel, name in (("douyin", "douyin_push.json"), ("pinduoduo", "pinduoduo_order.json"),
                          ("wechat", "wechat_push.json"), ("xiaohongshu", "xiaohongshu_push.json")):
        for order in push(channel, load(name)):
            assert all(line.barcodes == {} for line in order.lines), channel


def test_douyin_out_sku_id_holding_an_ean13_is_a_barcode_beside_the_merchant_sku() -> None:
    doc = load("douyin_push.json")
    data = json.loads(doc[1]["data"])
    data["shop_order_detail"]["sku_order_list"][0]["out_sku_id"] = EAN
    doc[1]["data"] = json.dumps(data, ensure_ascii=False)
    order = push("douyin", doc)[0]
    assert order.lines[0].sku == "TEA-GH-250" and order.lines[0].barcodes == {EAN: 1}


def test_pinduoduo_wechat_xiaohongshu_merchant_codes_that_are_barcodes() -> None:
    pdd = load("pinduoduo_order.json")
    pdd["order_info_get_response"]["order_info"]["item_list"][1]["outer_goods_id"] = "036000291452"
    assert push("pinduoduo", pdd)[0].lines[1].barcodes == {"036000291452": 1}

    wx = load("wechat_push.json")
    wx[0]["order"]["order_detail"]["product_infos"][0]["sku_code"] = EAN
    assert push("wechat", wx)[0].lines[0].barcodes == {EAN: 1}

    xhs = load("xiaohongshu_push.json")
    data = json.loads(xhs[0]["data"])
    data["skuList"][0]["erpcode"] = "6901234567893"  # a wrong check digit: a merchant code, not a barcode
    xhs[0]["data"] = json.dumps(data, ensure_ascii=False)
    assert push("xiaohongshu", xhs)[0].lines[0].barcodes == {}
    data["skuList"][0]["erpcode"] = EAN
    xhs[0]["data"] = json.dumps(data, ensure_ascii=False)
    assert push("xiaohongshu", xhs)[0].lines[0].barcodes == {EAN: 1}
