"""Xiaohongshu (小红书) shop orders.

Shape followed — the closest real one we could find, **not verified against official docs**
(see docs/channels.md): the 小红书 open platform (``ark.xiaohongshu.com``) ``order.getOrderDetail``
result with camelCase fields, merged with ``order.getOrderReceiverInfo`` (the detail itself only
carries encrypted receiver fields). Pushes are a JSON array of messages
``[{"msgTag": "...", "msgId": "...", "sellerId": "...", "data": "<JSON string>"}]`` (a single
message or a bare order object is accepted too).

Order fields: ``orderId``; ``orderStatus`` (1 已下单待付款, 2 已支付处理中, 3 清关中, 4 待发货,
5 部分发货, 6 待收货, 7 已完成, 8 已关闭, 9 已取消, 10 换货申请中); ``createdTime``/``updateTime``/
``paidTime``/``promiseLastDeliveryTime`` (unix **milliseconds**); ``totalPayAmount`` (fen);
``receiverName``, ``receiverPhone``, ``receiverProvinceName``, ``receiverCityName``,
``receiverDistrictName``, ``receiverAddress``; ``customerRemark``, ``sellerRemark``; ``skuList[]``
(``erpcode`` 商家编码 / ``skuId``, ``skuName``, ``skuQuantity``, unit price ``price`` in fen or else
``totalPaidAmount`` ÷ quantity, ``skuTag`` 1 = 赠品).
"""

from __future__ import annotations

from typing import Any

from core.barcodes import barcodes_in
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub.intake.fields import Obj, bad, load_json, wants_custom_packaging

NAME = "xiaohongshu"

STATUS_MAP: dict[int, ChannelStatus] = {
    1: ChannelStatus.UNPAID,  # 已下单待付款
    2: ChannelStatus.PAID,  # 已支付处理中
    3: ChannelStatus.PAID,  # 清关中
    4: ChannelStatus.PAID,  # 待发货
    5: ChannelStatus.PAID,  # 部分发货
    6: ChannelStatus.PAID,  # 待收货
    7: ChannelStatus.PAID,  # 已完成
    8: ChannelStatus.CANCELLED,  # 已关闭
    9: ChannelStatus.CANCELLED,  # 已取消
    10: ChannelStatus.PAID,  # 换货申请中
}
_GIFT_TAG = 1


def split(doc: Any) -> list[Any]:
    """A JSON array of messages, or one message / order object."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        return [doc]
    raise bad("body", "must be a JSON array of 小红书 messages [{msgTag, msgId, data}]")


def parse(item: Any) -> IntakeOrder:
    """One 小红书 message (or bare order) → IntakeOrder."""
    msg = Obj(item, "")
    if "data" in msg.data:
        raw = msg.need("data")
        order = Obj(load_json(raw, "data") if isinstance(raw, str) else raw, "data")
    else:
        order = msg
    order_no = order.text("orderId", max_len=64)
    code = order.whole("orderStatus")
    if code not in STATUS_MAP:
        raise bad(order.at("orderStatus"), f"has an unknown 小红书 order status {code}")
    recipient = Recipient(
        name=order.text("receiverName"),
        phone=order.text("receiverPhone", required=False),
        province=order.text("receiverProvinceName"),
        city=order.text("receiverCityName"),
        district=order.text("receiverDistrictName", required=False),
        address=order.text("receiverAddress"),
    )
    lines = []
    for path, raw_sku in order.items("skuList"):
        sku = Obj(raw_sku, path)
        qty = sku.qty("skuQuantity")
        if sku.has("price"):
            unit = sku.fen("price")
        else:
            paid = sku.fen("totalPaidAmount")
            if paid % qty:
                raise bad(
                    sku.at("totalPaidAmount"),
                    f"({paid} fen) does not divide by skuQuantity {qty}; send 'price'",
                )
            unit = paid // qty
        gift = sku.has("skuTag") and sku.whole("skuTag") == _GIFT_TAG
        code_ = sku.text("erpcode", required=False) or sku.text("skuId")
        lines.append(
            OrderLine(sku=code_, name=sku.text("skuName"), qty=qty, unit_price_fen=unit, is_gift=gift,
                      barcodes=barcodes_in(sku.text("erpcode", required=False)))
        )
    created = order.time("createdTime")
    buyer_note = order.text("customerRemark", required=False)
    seller_note = order.text("sellerRemark", required=False)
    tag = msg.text("msgTag", required=False)
    return IntakeOrder(
        channel=NAME,
        channel_order_no=order_no,
        status=STATUS_MAP[code],
        recipient=recipient,
        lines=lines,
        total_fen=order.fen("totalPayAmount"),
        created_at=created,
        channel_updated_at=order.opt_time("updateTime") or created,
        paid_at=order.opt_time("paidTime"),
        ship_by=order.opt_time("promiseLastDeliveryTime"),
        custom_packaging=wants_custom_packaging(buyer_note, seller_note),
        buyer_note=buyer_note,
        seller_note=seller_note,
        message_id=msg.text("msgId", required=False),
        extra={"msg_tag": tag} if tag else {},
    )
