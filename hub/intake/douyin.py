"""Douyin shop (抖店) order pushes.

Shape followed (see docs/channels.md for sources):

* Envelope — the 抖店 message push: a JSON **array** of messages
  ``[{"tag": "101", "msg_id": "...", "data": "<JSON string>"}]`` (the SDKs also spell the id
  ``msgId``; ``data`` may arrive already decoded). Tag ``"0"`` is the platform's URL check and
  carries no order.
* ``data`` — the platform's own messages are thin (``p_id``, ``s_ids``, ``shop_id``,
  ``order_status``, ``create_time``/``pay_time``/``cancel_time``) and the address is only
  available, decrypted, from ``order.orderDetail``. So the hub needs the order detail: ``data`` is
  either the ``shop_order_detail`` object of ``order.orderDetail`` itself, or the thin message with
  that object attached as ``data.shop_order_detail`` (what our relay does after decrypting).
* Order detail fields (official Java SDK ``ShopOrderDetail``): ``order_id``, ``order_status``
  (1 待支付, 103 部分支付, 105 已支付, 2 备货中, 101 部分发货, 3 已发货, 4 已取消, 5 已完成;
  ``main_status`` adds 21/22/39 退款完结), ``pay_amount`` (fen), ``create_time``/``update_time``/
  ``pay_time``/``exp_ship_time`` (unix seconds), ``post_receiver``/``post_tel``/``post_addr``
  (``province``/``city``/``town``/``street`` each ``{"id","name"}`` + ``detail``), ``buyer_words``,
  ``seller_words``, ``sku_order_list`` (``code`` 商家编码, ``out_sku_id``, ``sku_id``,
  ``product_name``, ``item_num``, ``goods_price`` fen per unit, ``origin_amount`` fen per line).
"""

from __future__ import annotations

from typing import Any

from core.barcodes import barcodes_in
from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub.intake.fields import Obj, bad, load_json, wants_custom_packaging

NAME = "douyin"

#: order_status / main_status → what the hub acts on. Shipping states are PAID: the hub ignores them.
STATUS_MAP: dict[int, ChannelStatus] = {
    1: ChannelStatus.UNPAID,  # 待确认/待支付
    103: ChannelStatus.UNPAID,  # 部分支付 (deposit paid, balance not yet)
    105: ChannelStatus.PAID,  # 已支付
    2: ChannelStatus.PAID,  # 备货中
    101: ChannelStatus.PAID,  # 部分发货
    3: ChannelStatus.PAID,  # 已发货
    5: ChannelStatus.PAID,  # 已完成
    4: ChannelStatus.CANCELLED,  # 已取消
    21: ChannelStatus.CANCELLED,  # 发货前退款完结 — nothing to pack any more
    22: ChannelStatus.PAID,  # 发货后退款完结 — already left the bench; a return, not a cancel
    39: ChannelStatus.PAID,  # 收货后退款完结
}

#: Used only when a message carries no order_status (the message tag says what happened).
TAG_STATUS: dict[str, ChannelStatus] = {
    "100": ChannelStatus.UNPAID,  # doudian_trade_TradeCreate
    "101": ChannelStatus.PAID,  # doudian_trade_TradePaid
    "106": ChannelStatus.CANCELLED,  # doudian_trade_TradeCanceled
}

_PING_TAGS = frozenset({"0"})


def split(doc: Any) -> list[Any]:
    """The messages of one push; a single message object is accepted as a batch of one."""
    if isinstance(doc, dict):
        return [doc]
    if not isinstance(doc, list):
        raise bad("body", "must be a JSON array of 抖店 messages [{tag, msg_id, data}]")
    return doc


def parse(item: Any) -> IntakeOrder | None:
    """One 抖店 message → IntakeOrder, or None for the platform's URL-check ping."""
    msg = Obj(item, "")
    tag = msg.text("tag")
    if tag in _PING_TAGS:
        return None
    message_id = msg.text("msg_id", required=False) or msg.text("msgId", required=False)
    raw = msg.need("data")
    if isinstance(raw, str):
        raw = load_json(raw, "data")
    data = Obj(raw, "data")
    if data.has("shop_order_detail"):
        detail = Obj(data.get("shop_order_detail"), "data.shop_order_detail")
    elif data.has("sku_order_list"):
        detail = data
    else:
        raise ValidationFailed(
            f"抖店 message tag {tag} carries only ids ('data' has no order detail); attach the "
            "order.orderDetail shop_order_detail as data.shop_order_detail.",
            details={"field": "data.shop_order_detail"},
        )
    return _order(detail, tag, message_id, data)


def _status(detail: Obj, tag: str, data: Obj) -> ChannelStatus:
    for source, key in ((detail, "main_status"), (detail, "order_status"), (data, "order_status")):
        if source.has(key):
            code = source.whole(key)
            if code in STATUS_MAP:
                return STATUS_MAP[code]
            if key != "main_status":
                raise bad(source.at(key), f"has an unknown 抖店 order status {code}")
    if tag in TAG_STATUS:
        return TAG_STATUS[tag]
    raise ValidationFailed(
        f"Missing field '{detail.at('order_status')}'.", details={"field": detail.at("order_status")}
    )


def _order(detail: Obj, tag: str, message_id: str, data: Obj) -> IntakeOrder:
    order_no = detail.text("order_id", max_len=64)
    addr = detail.sub("post_addr")

    def part(key: str, *, required: bool = True) -> str:
        node = addr.obj(key, required=required)
        return node.text("name", required=required) if node is not None else ""

    street = part("street", required=False)
    recipient = Recipient(
        name=detail.text("post_receiver", required=False) or detail.text("mask_post_receiver"),
        phone=detail.text("post_tel", required=False) or detail.text("mask_post_tel", required=False),
        province=part("province"),
        city=part("city"),
        district=part("town", required=False),
        address=street + addr.text("detail"),
        postcode=detail.text("post_code", required=False),
    )
    lines = []
    for path, raw in detail.items("sku_order_list"):
        sku = Obj(raw, path)
        qty = sku.qty("item_num")
        if sku.has("goods_price"):
            unit = sku.fen("goods_price")
        else:
            line_total = sku.fen("origin_amount")
            if line_total % qty:
                raise bad(sku.at("origin_amount"), f"({line_total} fen) does not divide by item_num {qty}")
            unit = line_total // qty
        code = (
            sku.text("code", required=False) or sku.text("out_sku_id", required=False) or sku.text("sku_id")
        )
        # 抖店 marks gifts on the sku order (赠品); an unpriced line named as a gift counts too.
        name = sku.text("product_name")
        is_gift = sku.flag("is_gift") or sku.has("given_product_type") or (unit == 0 and "赠品" in name)
        merchant = (sku.text("code", required=False), sku.text("out_sku_id", required=False),
                    sku.text("out_product_id", required=False))
        lines.append(OrderLine(sku=code, name=name, qty=qty, unit_price_fen=unit, is_gift=is_gift,
                               barcodes=barcodes_in(*merchant)))
    if not lines:
        raise bad(detail.at("sku_order_list"), "must list at least one item")
    created = detail.time("create_time") if detail.has("create_time") else data.time("create_time")
    buyer_note = detail.text("buyer_words", required=False)
    seller_note = detail.text("seller_words", required=False)
    return IntakeOrder(
        channel=NAME,
        channel_order_no=order_no,
        status=_status(detail, tag, data),
        recipient=recipient,
        lines=lines,
        total_fen=detail.fen("pay_amount"),
        created_at=created,
        channel_updated_at=detail.opt_time("update_time") or data.opt_time("update_time") or created,
        paid_at=detail.opt_time("pay_time"),
        ship_by=detail.opt_time("exp_ship_time"),
        custom_packaging=wants_custom_packaging(buyer_note, seller_note),
        buyer_note=buyer_note,
        seller_note=seller_note,
        message_id=message_id,
        extra={"tag": tag, **({"shop_id": detail.text("shop_id")} if detail.has("shop_id") else {})},
    )
