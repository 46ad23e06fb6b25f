"""Platform export sheets (抖店, 拼多多, 淘宝, 微信小店), unknown columns, mappings, unknown SKUs.

The fixtures in tests/fixtures/import/ are small sheets made from each platform's documented
export headers (docs/import.md names the sources), with the extra columns real exports carry.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.errors import ValidationFailed
from core.model import ChannelStatus, OrderLine
from hub.intake import parse_import
from hub.intake.importer import SavedMapping
from hub.intake.sheet_presets import split_address

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
CATALOGUE = frozenset({"SKU-TEA-001", "SKU-TEA-002", "SKU-TEA-003", "SKU-TEA-004"})


def read(name: str, **kw: object) -> object:
    return parse_import(name, (FIXTURES / name).read_bytes(), known_skus=CATALOGUE, **kw)  # type: ignore[arg-type]


def test_a_douyin_export_groups_sub_orders_and_maps_its_statuses() -> None:
    result = parse_import("douyin.csv", (FIXTURES / "douyin.csv").read_bytes(), known_skus=CATALOGUE)
    assert result.preset == "douyin"
    assert [o.channel_order_no for _, o in result.orders] == ["6920001", "6920002"]
    first = result.orders[0][1]
    assert [(line.sku, line.qty, line.unit_price_fen) for line in first.lines] == [
        ("SKU-TEA-001", 2, 39800), ("SKU-TEA-003", 1, 0)]
    assert first.lines[0].name == "西湖龙井 明前特级 250g 250g 罐装"
    assert first.total_fen == 81600 and first.status is ChannelStatus.PAID
    assert first.recipient.address == "文新街道文三路90号" and first.recipient.phone == "13812345678"
    assert result.orders[1][1].status is ChannelStatus.PAID  # 备货中
    assert result.orders[1][1].seller_note == "加急"
    # An order the platform already shipped is not imported, and the row says why.
    [done] = result.errors
    assert done.row == 5 and done.code == "status_done" and done.details["value"] == "已发货"
    assert set(result.ignored) == {"子订单编号", "商品ID", "运费", "支付完成时间", "达人ID", "售后状态"}


def test_a_pinduoduo_export_with_its_spec_column_is_read_not_refused() -> None:
    result = parse_import("pinduoduo.csv", (FIXTURES / "pinduoduo.csv").read_bytes(), known_skus=CATALOGUE)
    assert result.preset == "pinduoduo"
    [(row, order)] = result.orders
    assert row == 2 and order.channel_order_no == "261205-001"
    assert order.lines == [OrderLine("SKU-TEA-004", "武夷山大红袍 礼盒 200g 礼盒装", 1, 45800)]
    assert order.total_fen == 43800  # what the buyer paid (用户实付金额), not the list price
    assert order.recipient.name == "赵敏" and order.recipient.district == "武侯区"
    assert [(e.row, e.code) for e in result.errors] == [(3, "status_done")]
    assert "快递公司" in result.ignored and "商家编码-商品维度" not in result.ignored  # the SKU's fallback


def test_a_taobao_export_splits_the_address_cell_and_falls_back_to_the_landline() -> None:
    result = parse_import("taobao.csv", (FIXTURES / "taobao.csv").read_bytes(), known_skus=CATALOGUE)
    assert result.preset == "taobao" and result.errors == []
    first, second = (o for _, o in result.orders)
    r = first.recipient
    assert (r.province, r.city, r.district, r.address, r.postcode) == ("浙江省", "杭州市", "西湖区", "文三路90号", "310012")
    assert first.buyer_note == "周末送" and first.lines == [OrderLine("SKU-TEA-001", "西湖龙井 明前特级 250g", 1, 0)]
    assert first.total_fen == 39800
    assert second.recipient.phone == "010-65001234"  # 联系手机 empty: 联系电话
    assert (second.recipient.province, second.recipient.city) == ("北京", "北京市")
    assert second.seller_note == "老客户" and second.total_fen == 15000
    assert "买家会员名" in result.ignored


def test_a_wechat_shop_export_and_its_barcode_column() -> None:
    result = parse_import("wechat.csv", (FIXTURES / "wechat.csv").read_bytes(), known_skus=CATALOGUE)
    assert result.preset == "wechat" and result.errors == []
    [(_, order)] = result.orders
    assert order.recipient.province == "福建省" and order.recipient.phone == "13500000002"
    assert order.lines[0].sku == "SKU-TEA-003" and order.lines[0].qty == 3 and order.total_fen == 38400
    assert "商品条码" not in result.ignored  # the barcode column is read, not ignored
    assert result.ignored == ["视频号"]


def test_the_barcode_column_goes_into_the_lines_barcodes() -> None:
    if "barcodes" not in {f.name for f in dataclasses.fields(OrderLine)}:
        pytest.skip("OrderLine.barcodes comes with the product-barcode change (issue 11, pack)")
    result = parse_import("wechat.csv", (FIXTURES / "wechat.csv").read_bytes(), known_skus=CATALOGUE)
    assert result.orders[0][1].lines[0].barcodes == {"6901234567892": 1}  # type: ignore[attr-defined]


def test_an_unknown_sku_is_a_row_error_never_an_order_without_a_bin() -> None:
    text = ("订单号,收件人,手机,省,市,区,详细地址,SKU,数量,单价\n"
            "U1,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,1,10\n"
            "U1,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-NOPE-9,1,10\n"
            "U2,李娜,13912345678,江苏省,南京市,鼓楼区,中山路1号,SKU-TEA-002,1,10\n")
    result = parse_import("o.csv", text.encode(), known_skus=CATALOGUE)
    assert [o.channel_order_no for _, o in result.orders] == ["U2"]
    assert [(e.row, e.code) for e in result.errors] == [(2, "order_refused"), (3, "unknown_sku")]
    assert result.errors[1].details == {"column": "sku", "value": "SKU-NOPE-9"}


def test_missing_columns_refuse_with_what_the_mapping_step_needs() -> None:
    text = "单号,姓名,电话,地区,街道地址,货品,件数,金额\nM1,张伟,13812345678,浙江省,文三路90号,SKU-TEA-001,1,10\n"
    with pytest.raises(ValidationFailed) as info:
        parse_import("shop.csv", text.encode())
    d = info.value.details
    assert d["problem"] == "missing_columns"
    assert d["missing"] == ["order_no", "name", "province", "city", "district", "address", "sku", "unit_price"]
    assert d["headers"] == ["单号", "姓名", "电话", "地区", "街道地址", "货品", "件数", "金额"]
    assert d["suggested"] == {"电话": "phone", "件数": "qty"}


def test_a_mapping_given_or_saved_reads_an_unfamiliar_sheet() -> None:
    text = ("单号,姓名,电话,地区,城市,区域,街道地址,货品,件数,金额,备用列\n"
            "M1,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,2,10,x\n")
    columns = {"单号": "order_no", "姓名": "name", "电话": "phone", "地区": "province", "城市": "city",
               "区域": "district", "街道地址": "address", "货品": "sku", "件数": "qty", "金额": "unit_price"}
    given = parse_import("shop.csv", text.encode(), columns=columns)
    assert given.errors == [] and given.ignored == ["备用列"] and given.mapping is None
    assert given.orders[0][1].lines == [OrderLine("SKU-TEA-001", "SKU-TEA-001", 2, 1000)]
    saved = SavedMapping("小程序后台", tuple(text.split("\n")[0].split(",")), columns)
    other = SavedMapping("别的表", ("a", "b"), {"a": "order_no"})
    again = parse_import("shop-2.csv", text.encode(), saved=[other, saved])
    assert again.mapping == "小程序后台" and again.orders[0][1].total_fen == 2000


@pytest.mark.parametrize(("text", "parts"), [
    ("浙江省 杭州市 西湖区 文三路90号(310012)", ("浙江省", "杭州市", "西湖区", "文三路90号", "310012")),
    ("浙江省杭州市西湖区文三路90号", ("浙江省", "杭州市", "西湖区", "文三路90号", "")),
    ("上海市浦东新区张江路100号", ("上海市", "上海市", "浦东新区", "张江路100号", "")),
    ("广西壮族自治区 南宁市 青秀区 民族大道1号 530000", ("广西壮族自治区", "南宁市", "青秀区", "民族大道1号", "530000")),
    ("新疆维吾尔自治区阿勒泰地区布尔津县友谊路2号", ("新疆维吾尔自治区", "阿勒泰地区", "布尔津县", "友谊路2号", "")),
])
def test_a_whole_address_is_split(text: str, parts: tuple[str, ...]) -> None:
    assert split_address(text) == parts


def test_an_address_that_cannot_be_split_is_a_row_error() -> None:
    assert split_address("文三路90号") is None
    text = "订单编号,收货人姓名,联系手机,收货地址,宝贝标题,宝贝总数量,买家实际支付金额,买家会员名,商家编码\n" \
           "T1,周杰,13500000000,文三路90号,茶,1,10,tb,SKU-TEA-001\n"
    result = parse_import("tb.csv", text.encode())
    assert [(e.row, e.code) for e in result.errors] == [(2, "bad_address")]
