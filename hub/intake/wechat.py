"""WeChat shop (微信小店 / 视频号小店, mini-program shop) orders.

Shape followed (see docs/channels.md): the ``order`` object of the documented "获取订单详情"
API (``POST /channels/ec/order/get``; the older mini-program shop ``/product/order/get`` has the
same structure with "YYYY-MM-DD HH:MM:SS" times). WeChat's order event pushes
(``channels_ec_order_new``/``_pay``/``_cancel``… with ``ToUserName``, ``CreateTime``, ``Event``)
carry only the order id, so the integration attaches the detail. Accepted per item:

* an event message with the detail attached as ``order`` (``Event`` is kept in ``extra``);
* the get-order response ``{"errcode": 0, "order": {...}}``;
* a bare ``order`` object;

and the body is one such item or a JSON array of them (a batch).

Order fields: ``order_id`` (string, or a number in the old API); ``status`` (10 待付款, 12 礼物待收下,
13 凑单买凑团中, 20 待发货, 21 部分发货, 30 待收货, 100 完成, 200 全部售后后取消, 250 取消);
``create_time``/``update_time`` (unix seconds); ``order_detail.product_infos[]`` (``sku_code``
商家编码 / ``out_sku_id`` / ``sku_id``, ``title``, ``sku_cnt``, ``sale_price`` fen per unit,
``is_free_gift``); ``order_detail.price_info.order_price`` (fen, what the buyer paid);
``order_detail.pay_info.pay_time``; ``order_detail.delivery_info.address_info`` (``user_name``,
``tel_number`` — or ``virtual_order_tel_number`` when the buyer hid the number —, ``province_name``,
``city_name``, ``county_name``, ``detail_info``, ``house_number``, ``postal_code``);
``order_detail.ext_info.customer_notes`` / ``merchant_notes``; ``order_detail.delivery_info.
ship_done_time`` is not a deadline, so ``ship_by`` comes only from ``delivery_info.deliver_deadline``
when an integration provides it.
"""

from __future__ import annotations

from typing import Any

from core.barcodes import barcodes_in
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub.intake.fields import Obj, bad, wants_custom_packaging

NAME = "wechat"

STATUS_MAP: dict[int, ChannelStatus] = {
    10: ChannelStatus.UNPAID,  # 待付款
    11: ChannelStatus.UNPAID,  # 收银台支付完成 (payment not confirmed yet)
    12: ChannelStatus.UNPAID,  # 礼物待收下: nothing to ship until the recipient accepts
    13: ChannelStatus.UNPAID,  # 凑单买凑团中
    20: ChannelStatus.PAID,  # 待发货
    21: ChannelStatus.PAID,  # 部分发货
    30: ChannelStatus.PAID,  # 待收货
    100: ChannelStatus.PAID,  # 完成
    200: ChannelStatus.CANCELLED,  # 全部商品售后之后，订单取消
    250: ChannelStatus.CANCELLED,  # 未付款取消 / 超时取消 / 售后取消
}


def split(doc: Any) -> list[Any]:
    """One item or a JSON array of them."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        return [doc]
    raise bad("body", "must be a WeChat order (or event with 'order') object, or an array of them")


def parse(item: Any) -> IntakeOrder:
    """One WeChat item (event + order, get-order response, or bare order) → IntakeOrder."""
    outer = Obj(item, "")
    if "order" in outer.data:
        if outer.has("errcode") and outer.whole("errcode") != 0:
            raise bad(
                "errcode", f"is {outer.whole('errcode')}: the order lookup failed, there is no order here"
            )
        order = outer.sub("order")
    else:
        order = outer
    event = outer.text("Event", required=False)
    order_no = order.text("order_id", max_len=64)
    code = order.whole("status")
    if code not in STATUS_MAP:
        raise bad(order.at("status"), f"has an unknown 微信小店 order status {code}")
    detail = order.sub("order_detail")
    delivery = detail.sub("delivery_info")
    addr = delivery.sub("address_info")
    street = addr.text("detail_info")
    if addr.has("house_number"):
        street += addr.text("house_number")
    phone = addr.text("tel_number", required=False) or addr.text("virtual_order_tel_number", required=False)
    recipient = Recipient(
        name=addr.text("user_name"),
        phone=phone,
        province=addr.text("province_name"),
        city=addr.text("city_name"),
        district=addr.text("county_name", required=False),
        address=street,
        postcode=addr.text("postal_code", required=False),
    )
    lines = []
    for path, raw in detail.items("product_infos"):
        product = Obj(raw, path)
        sku = (
            product.text("sku_code", required=False)
            or product.text("out_sku_id", required=False)
            or product.text("sku_id")
        )
        unit = product.fen("sale_price")
        gift = product.flag("is_free_gift") or product.flag("is_gift")
        lines.append(
            OrderLine(
                sku=sku,
                name=product.text("title"),
                qty=product.qty("sku_cnt"),
                unit_price_fen=unit,
                is_gift=gift,
                barcodes=barcodes_in(product.text("sku_code", required=False),
                                     product.text("out_sku_id", required=False)),
            )
        )
    created = order.time("create_time")
    ext = detail.obj("ext_info", required=False)
    buyer_note = ext.text("customer_notes", required=False) if ext else ""
    seller_note = ext.text("merchant_notes", required=False) if ext else ""
    pay = detail.obj("pay_info", required=False)
    extra: dict[str, Any] = {"event": event} if event else {}
    if order.flag("is_present"):
        extra["is_present"] = True  # a gift order to someone else: the recipient is not the buyer
    return IntakeOrder(
        channel=NAME,
        channel_order_no=order_no,
        status=STATUS_MAP[code],
        recipient=recipient,
        lines=lines,
        total_fen=detail.sub("price_info").fen("order_price"),
        created_at=created,
        channel_updated_at=order.opt_time("update_time") or outer.opt_time("CreateTime") or created,
        paid_at=pay.opt_time("pay_time") if pay else None,
        ship_by=delivery.opt_time("deliver_deadline"),
        custom_packaging=wants_custom_packaging(buyer_note, seller_note),
        buyer_note=buyer_note,
        seller_note=seller_note,
        message_id=outer.text("MsgId", required=False) or outer.text("msg_id", required=False),
        extra=extra,
    )
