"""Channel adapters: realistic pushes parsed to exact IntakeOrders, status tables, money, bad input."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import UserError, ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient, intake_to_json
from hub.intake import CHANNELS, UnknownChannel, douyin, parse_push, pinduoduo, wechat, xiaohongshu

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"

T_CREATED = datetime(2026, 2, 22, 2, 15, 30, tzinfo=UTC)  # 2026-02-22 10:15:30 Beijing
T_PAID = datetime(2026, 2, 22, 2, 16, 30, tzinfo=UTC)
T_UPDATED = datetime(2026, 2, 22, 2, 23, 20, tzinfo=UTC)
T_SHIP_BY = datetime(2026, 2, 24, 2, 0, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


def push(channel: str, doc: Any) -> list[IntakeOrder]:
    return parse_push(channel, json.dumps(doc, ensure_ascii=False).encode())


def error_of(channel: str, body: bytes) -> UserError:
    with pytest.raises(UserError) as info:
        parse_push(channel, body)
    return info.value


# --- realistic fixtures → exact orders ------------------------------------------------------------


def test_channels_tuple() -> None:
    assert CHANNELS == ("douyin", "pinduoduo", "wechat", "xiaohongshu", "generic")


def test_douyin_batched_push() -> None:
    orders = parse_push("douyin", fixture("douyin_push.json"))
    assert len(orders) == 2  # the tag "0" URL-check ping carries no order
    assert orders[0] == IntakeOrder(
        channel="douyin",
        channel_order_no="6920000000000012345",
        status=ChannelStatus.PAID,
        recipient=Recipient(
            "张伟", "138****0000", "广东省", "深圳市", "南山区", "粤海街道科技园南区8栋1203室", ""
        ),
        lines=[
            OrderLine("TEA-GH-250", "桂花乌龙茶 250g", 2, 2990),
            OrderLine("GIFT-SPOON", "品牌茶匙（赠品）", 1, 0, is_gift=True),
        ],
        total_fen=5870,
        created_at=T_CREATED,
        channel_updated_at=T_UPDATED,
        paid_at=T_PAID,
        ship_by=T_SHIP_BY,
        custom_packaging=True,  # "请用礼盒包装"
        buyer_note="请用礼盒包装，谢谢",
        seller_note="",
        message_id="7100000000000000001",
        extra={"tag": "101", "shop_id": "94956"},
    )
    second = orders[1]
    assert second.channel_order_no == "6920000000000099999"
    assert second.status is ChannelStatus.CANCELLED
    assert second.message_id == "7100000000000000002"  # the SDKs' "msgId" spelling
    assert second.lines == [
        OrderLine("TEA-ML-100", "茉莉花茶 100g", 1, 1990)
    ]  # price from origin_amount / item_num
    assert second.created_at == T_CREATED  # digit-string unix time
    assert second.paid_at is None and second.ship_by is None


def test_pinduoduo_order_detail() -> None:
    [order] = parse_push("pinduoduo", fixture("pinduoduo_order.json"))
    assert order == IntakeOrder(
        channel="pinduoduo",
        channel_order_no="260222-123456789012345",
        status=ChannelStatus.PAID,
        recipient=Recipient("王芳", "1387677****", "四川省", "成都市", "武侯区", "人民南路四段12号3单元502"),
        lines=[
            OrderLine("NUT-MIX-500", "每日坚果 500g", 2, 1990),
            OrderLine("200002", "开心果 100g", 1, 1000),  # no outer_id: falls back to the sku_id
            OrderLine("GIFT-BAG", "环保袋", 1, 0, is_gift=True),
        ],
        total_fen=4880,
        created_at=T_CREATED,
        channel_updated_at=T_UPDATED,
        paid_at=T_PAID,
        ship_by=T_SHIP_BY,
        custom_packaging=False,  # "不要礼盒包装" is a refusal
        buyer_note="不要礼盒包装，简单就好",
        seller_note="老客户",
        message_id="",
        extra={"refund_status": 1},
    )


def test_pinduoduo_list_batch_and_address_fallback() -> None:
    info = fixture_json("pinduoduo_order.json")["order_info_get_response"]["order_info"]
    other = copy.deepcopy(info)
    other["order_sn"] = "260222-000000000000002"
    del other["receiver_address"]
    orders = push("pinduoduo", {"order_list_get_response": {"order_list": [info, other], "total_count": 2}})
    assert [o.channel_order_no for o in orders] == ["260222-123456789012345", "260222-000000000000002"]
    assert orders[1].recipient.address == "人民南路四段12号3单元502"  # region prefix stripped from `address`


def test_wechat_batched_push() -> None:
    first, second = parse_push("wechat", fixture("wechat_push.json"))
    assert first == IntakeOrder(
        channel="wechat",
        channel_order_no="3705115058471208928",
        status=ChannelStatus.PAID,
        recipient=Recipient(
            "陈先生", "020-81234567", "广东省", "广州市", "海珠区", "新港中路397号3楼", "510000"
        ),
        lines=[
            OrderLine("CUP-CER-01", "手工陶瓷杯 白色", 2, 3900),
            OrderLine("20000999", "杯垫", 1, 0, is_gift=True),
        ],
        total_fen=7800,
        created_at=T_CREATED,
        channel_updated_at=T_UPDATED,
        paid_at=T_PAID,
        ship_by=None,
        custom_packaging=True,  # merchant note "需要定制包装"
        buyer_note="",
        seller_note="需要定制包装，印logo",
        message_id="",
        extra={"event": "channels_ec_order_pay"},
    )
    assert second.channel_order_no == "3705115058471208999"  # numeric id in the old API
    assert second.status is ChannelStatus.UNPAID
    assert second.created_at == T_CREATED  # "YYYY-MM-DD HH:MM:SS" is Beijing time
    assert second.recipient.phone == "13800001234-5678"  # virtual number when the buyer hid theirs


def test_xiaohongshu_push() -> None:
    [order] = parse_push("xiaohongshu", fixture("xiaohongshu_push.json"))
    assert order == IntakeOrder(
        channel="xiaohongshu",
        channel_order_no="P726012345678901234",
        status=ChannelStatus.PAID,
        recipient=Recipient("赵敏", "186****5678", "上海", "上海市", "徐汇区", "漕溪北路1200号A座15楼"),
        lines=[
            OrderLine("LIP-RED-01", "丝绒口红 #01", 2, 6400),
            OrderLine("6400eeff0011", "小样 卸妆水 30ml", 1, 0, is_gift=True),
        ],
        total_fen=12800,
        created_at=T_CREATED,  # milliseconds
        channel_updated_at=T_UPDATED,
        paid_at=T_PAID,
        ship_by=T_SHIP_BY,
        custom_packaging=False,
        buyer_note="",
        seller_note="",
        message_id="xhs-msg-0001",
        extra={"msg_tag": "msg_fulfillment_status_change"},
    )


def test_generic_batch_round_trips_intake_to_json() -> None:
    [order] = parse_push("generic", fixture("generic_push.json"))
    assert order.channel_order_no == "WEB-20260222-0001"
    assert order.created_at == T_CREATED and order.paid_at == T_PAID
    assert order.extra == {"source": "website"}
    again = push("generic", intake_to_json(order))  # a single order object is a batch of one
    assert again == [order]


def test_every_channel_fixture_is_aware_utc() -> None:
    for channel, name in [
        ("douyin", "douyin_push.json"),
        ("pinduoduo", "pinduoduo_order.json"),
        ("wechat", "wechat_push.json"),
        ("xiaohongshu", "xiaohongshu_push.json"),
        ("generic", "generic_push.json"),
    ]:
        for order in parse_push(channel, fixture(name)):
            for t in (order.created_at, order.channel_updated_at, order.paid_at, order.ship_by):
                assert t is None or (t.utcoffset() is not None and t.utcoffset().total_seconds() == 0)


# --- status tables ---------------------------------------------------------------------------------

PAID, UNPAID, CANCELLED = ChannelStatus.PAID, ChannelStatus.UNPAID, ChannelStatus.CANCELLED


def _douyin(status: int) -> list[IntakeOrder]:
    doc = fixture_json("douyin_push.json")[2]
    doc["data"]["order_status"] = status
    return push("douyin", [doc])


@pytest.mark.parametrize(
    ("code", "expected"),
    [(1, UNPAID), (103, UNPAID), (105, PAID), (2, PAID), (101, PAID), (3, PAID), (5, PAID), (4, CANCELLED)],
)
def test_douyin_status_map(code: int, expected: ChannelStatus) -> None:
    assert _douyin(code)[0].status is expected


def test_douyin_main_status_refund_before_shipping_is_cancel() -> None:
    doc = fixture_json("douyin_push.json")[2]
    doc["data"].update(order_status=2, main_status=21)
    assert push("douyin", [doc])[0].status is CANCELLED


def test_douyin_tag_used_when_no_status() -> None:
    doc = fixture_json("douyin_push.json")[2]
    del doc["data"]["order_status"]
    assert push("douyin", [doc])[0].status is CANCELLED  # tag 106


@pytest.mark.parametrize(
    ("confirm", "shipping", "refund", "expected"),
    [
        (0, 1, 1, UNPAID),
        (1, 1, 1, PAID),
        (1, 2, 1, PAID),
        (1, 3, 1, PAID),
        (2, 1, 1, CANCELLED),
        (1, 1, 4, CANCELLED),  # refunded before shipping
        (1, 2, 4, PAID),  # refunded after shipping: a return, the hub ignores it
        (1, 1, 2, PAID),  # after-sale in progress: still to pack
    ],
)
def test_pinduoduo_status_map(confirm: int, shipping: int, refund: int, expected: ChannelStatus) -> None:
    doc = fixture_json("pinduoduo_order.json")
    doc["order_info_get_response"]["order_info"].update(
        confirm_status=confirm, order_status=shipping, refund_status=refund
    )
    assert push("pinduoduo", doc)[0].status is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (10, UNPAID),
        (12, UNPAID),
        (13, UNPAID),
        (20, PAID),
        (21, PAID),
        (30, PAID),
        (100, PAID),
        (200, CANCELLED),
        (250, CANCELLED),
    ],
)
def test_wechat_status_map(code: int, expected: ChannelStatus) -> None:
    doc = fixture_json("wechat_push.json")[0]
    doc["order"]["status"] = code
    assert push("wechat", doc)[0].status is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, UNPAID),
        (2, PAID),
        (3, PAID),
        (4, PAID),
        (5, PAID),
        (6, PAID),
        (7, PAID),
        (8, CANCELLED),
        (9, CANCELLED),
        (10, PAID),
    ],
)
def test_xiaohongshu_status_map(code: int, expected: ChannelStatus) -> None:
    doc = fixture_json("xiaohongshu_push.json")
    data = json.loads(doc[0]["data"])
    data["orderStatus"] = code
    doc[0]["data"] = data  # already-decoded data is accepted too
    assert push("xiaohongshu", doc)[0].status is expected


def test_status_tables_are_total_over_three_values() -> None:
    for table in (douyin.STATUS_MAP, pinduoduo.STATUS_MAP, wechat.STATUS_MAP, xiaohongshu.STATUS_MAP):
        assert set(table.values()) <= set(ChannelStatus)


@pytest.mark.parametrize(
    ("channel", "setter"),
    [
        ("douyin", lambda d: d[2]["data"].update(order_status=999)),
        ("wechat", lambda d: d[0]["order"].update(status=999)),
    ],
)
def test_unknown_status_code_is_refused(channel: str, setter: Any) -> None:
    doc = fixture_json(f"{channel}_push.json")
    setter(doc)
    err = error_of(channel, json.dumps(doc).encode())
    assert err.code == "validation_failed" and "status" in err.details["field"]


# --- money exactness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "fen"),
    [("19.90", 1990), ("0.10", 10), ("0.07", 7), ("1,299.00", 129900), (20, 2000), ("￥8.8", 880)],
)
def test_pinduoduo_yuan_text_is_exact(price: Any, fen: int) -> None:
    doc = fixture_json("pinduoduo_order.json")
    doc["order_info_get_response"]["order_info"]["item_list"][0]["goods_price"] = price
    assert push("pinduoduo", doc)[0].lines[0].unit_price_fen == fen


def test_json_number_yuan_is_read_as_decimal_not_float() -> None:
    # 0.1 + 0.2 style numbers: with float this would be 1989.9999… fen.
    body = fixture("pinduoduo_order.json").replace(b'"19.90"', b"19.90").replace(b'"48.80"', b"48.80")
    order = parse_push("pinduoduo", body)[0]
    assert order.lines[0].unit_price_fen == 1990 and order.total_fen == 4880


def test_more_than_two_decimals_is_refused() -> None:
    doc = fixture_json("pinduoduo_order.json")
    doc["order_info_get_response"]["order_info"]["pay_amount"] = "48.805"
    err = error_of("pinduoduo", json.dumps(doc).encode())
    assert err.details == {"field": "pay_amount", "index": 0}


def test_fen_channels_refuse_fractional_fen() -> None:
    doc = fixture_json("wechat_push.json")
    doc[0]["order"]["order_detail"]["price_info"]["order_price"] = 78.5
    err = error_of("wechat", json.dumps(doc).encode())
    assert err.details == {"field": "order.order_detail.price_info.order_price", "index": 0}


# --- bad input -------------------------------------------------------------------------------------


def test_unknown_channel() -> None:
    err = error_of("taobao", b"{}")
    assert isinstance(err, UnknownChannel) and err.code == "unknown_channel"
    assert "taobao" in err.message and "douyin" in err.message


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("body", [b"", b"   ", b"not json", b"{", b"\xff\xfe\x00garbage", b'{"a": 1,}'])
def test_not_json(channel: str, body: bytes) -> None:
    err = error_of(channel, body)
    assert isinstance(err, ValidationFailed) and err.code == "validation_failed"
    assert err.details["index"] is None


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("body", [b"42", b'"text"', b"null", b"true"])
def test_json_of_wrong_type(channel: str, body: bytes) -> None:
    err = error_of(channel, body)
    assert err.code == "validation_failed"


def test_empty_batch_is_refused() -> None:
    assert error_of("douyin", b"[]").code == "validation_failed"
    assert error_of("generic", b'{"orders": []}').code == "validation_failed"


def test_douyin_missing_field_names_index_and_path() -> None:
    doc = fixture_json("douyin_push.json")
    doc[2]["data"]["sku_order_list"][0].pop("item_num")
    err = error_of("douyin", json.dumps(doc).encode())
    assert err.details == {"field": "data.sku_order_list[0].item_num", "index": 2}
    assert "index 2" in err.message and "data.sku_order_list[0].item_num" in err.message


def test_douyin_thin_message_without_detail_is_refused() -> None:
    body = json.dumps(
        [{"tag": "101", "msg_id": "1", "data": json.dumps({"p_id": 1, "order_status": 105})}]
    ).encode()
    err = error_of("douyin", body)
    assert err.details == {"field": "data.shop_order_detail", "index": 0}


def test_douyin_data_string_not_json() -> None:
    err = error_of("douyin", json.dumps([{"tag": "101", "msg_id": "1", "data": "{oops"}]).encode())
    assert err.details == {"field": "data", "index": 0}


def test_whole_push_refused_when_one_order_is_bad() -> None:
    doc = fixture_json("wechat_push.json")
    doc[1]["order"]["order_detail"]["product_infos"][0]["sku_cnt"] = "two"
    err = error_of("wechat", json.dumps(doc).encode())
    assert err.details == {"field": "order.order_detail.product_infos[0].sku_cnt", "index": 1}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(pay_amount=None), "pay_amount"),
        (lambda o: o.update(receiver_name=["x"]), "receiver_name"),
        (lambda o: o.update(created_time="yesterday"), "created_time"),
        (lambda o: o.update(created_time="1970-01-01 00:00:00"), "created_time"),
        (lambda o: o.update(item_list={"a": 1}), "item_list"),
        (lambda o: o["item_list"][1].update(goods_count=0), "item_list[1].goods_count"),
        (lambda o: o["item_list"][1].update(goods_count=True), "item_list[1].goods_count"),
        (lambda o: o["item_list"][0].update(goods_price="-1.00"), "item_list[0].goods_price"),
        (lambda o: o["item_list"][0].update(goods_price="1e999999"), "item_list[0].goods_price"),
        (lambda o: o.update(order_sn="x" * 65), "order_sn"),
        (lambda o: o.update(confirm_status=7), "confirm_status"),
    ],
)
def test_pinduoduo_wrong_fields(mutate: Any, field: str) -> None:
    doc = fixture_json("pinduoduo_order.json")
    mutate(doc["order_info_get_response"]["order_info"])
    err = error_of("pinduoduo", json.dumps(doc).encode())
    assert err.code == "validation_failed"
    assert err.details == {"field": field, "index": 0}
    assert field in err.message


def test_xiaohongshu_wrong_types() -> None:
    doc = fixture_json("xiaohongshu_push.json")
    data = json.loads(doc[0]["data"])
    data["skuList"][0]["skuQuantity"] = 3  # 12800 does not divide by 3 and there is no unit price
    doc[0]["data"] = data
    err = error_of("xiaohongshu", json.dumps(doc).encode())
    assert err.details == {"field": "data.skuList[0].totalPaidAmount", "index": 0}


def test_generic_errors_keep_field_and_index() -> None:
    doc = fixture_json("generic_push.json")
    second = copy.deepcopy(doc["orders"][0])
    second["lines"][0]["qty"] = "1"
    doc["orders"].append(second)
    err = error_of("generic", json.dumps(doc).encode())
    assert err.details == {"field": "lines[0].qty", "index": 1}


def test_generic_year_one_time_is_a_user_error() -> None:
    doc = fixture_json("generic_push.json")
    doc["orders"][0]["created_at"] = "0001-01-01T00:00:00"
    assert error_of("generic", json.dumps(doc).encode()).code == "validation_failed"


def test_too_deep_json_is_a_user_error() -> None:
    assert error_of("generic", b"[" * 100_000 + b"]" * 100_000).code == "validation_failed"


def test_masked_phone_kept_as_given() -> None:
    doc = fixture_json("douyin_push.json")
    orders = push("douyin", doc)
    assert orders[0].recipient.phone == "138****0000"
