"""Pinduoduo (拼多多) orders.

Shape followed (see docs/channels.md): the order detail of ``pdd.order.information.get``
(``order_info_get_response.order_info``) — field names and enums from the PDD open-platform SDK
typings. PDD's own message service only says "order X changed" (``tid``), so the integration
fetches the detail and pushes one of:

* ``{"order_info_get_response": {"order_info": {...}}}`` — the detail response as returned;
* ``{"order_list_get_response": {"order_list": [...]}}`` — a batch (``pdd.order.list.get``);
* a bare ``order_info`` object, or a JSON array of them.

Fields used: ``order_sn``; ``order_status`` (发货状态 1 待发货, 2 已发货待签收, 3 已签收);
``confirm_status`` (成交状态 0 未成交, 1 已成交, 2 已取消); ``refund_status`` (1 无售后, 2 售后处理中,
3 退款中, 4 退款成功); ``receiver_name``/``receiver_phone`` (masked like ``1387677****`` outside
待发货 — kept as given); ``province``/``city``/``town``/``receiver_address`` (not joined with the
province…; ``address`` is the fallback); ``item_list`` (``outer_id`` 商家外部编码 SKU,
``goods_name``, ``goods_count``, ``goods_price`` in **yuan**); ``gift_list`` (赠品, same item shape);
``pay_amount`` (yuan); ``created_time``/``updated_at``/``pay_time``/``last_ship_time``
("YYYY-MM-DD HH:MM:SS", Beijing time); ``buyer_memo``; ``remark`` (seller).
"""

from __future__ import annotations

from typing import Any

from core.barcodes import barcodes_in
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub.intake.fields import Obj, bad, wants_custom_packaging, yuan_text_to_fen

NAME = "pinduoduo"

#: order_status (发货状态) → hub status, used once confirm/refund state says the sale stands.
STATUS_MAP: dict[int, ChannelStatus] = {
    1: ChannelStatus.PAID,  # 待发货
    2: ChannelStatus.PAID,  # 已发货待签收
    3: ChannelStatus.PAID,  # 已签收
}
CONFIRM_STATUS_MAP: dict[int, ChannelStatus | None] = {
    0: ChannelStatus.UNPAID,  # 未成交 (unpaid / group not formed yet): nothing to pack
    1: None,  # 已成交: decided by order_status
    2: ChannelStatus.CANCELLED,  # 已取消
}
_REFUND_DONE = 4  # refund_status 退款成功


def split(doc: Any) -> list[Any]:
    """The orders of one push, whichever of the accepted envelopes it uses."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise bad(
            "body",
            "must be a PDD order_info object, an order_info_get_response or an order_list_get_response",
        )
    if "order_list_get_response" in doc:
        resp = Obj(doc["order_list_get_response"], "order_list_get_response")
        return [item for _, item in resp.items("order_list")]
    if "order_info_get_response" in doc:
        resp = Obj(doc["order_info_get_response"], "order_info_get_response")
        return [resp.need("order_info")]
    return [doc]


def status_of(info: Obj) -> ChannelStatus:
    """PDD spreads the state over three fields; a finished refund before shipping is a cancel."""
    confirm = info.whole("confirm_status") if info.has("confirm_status") else 1
    if confirm not in CONFIRM_STATUS_MAP:
        raise bad(info.at("confirm_status"), f"has an unknown 拼多多 confirm_status {confirm}")
    decided = CONFIRM_STATUS_MAP[confirm]
    if decided is not None:
        return decided
    shipping = info.whole("order_status")
    if shipping not in STATUS_MAP:
        raise bad(info.at("order_status"), f"has an unknown 拼多多 order_status {shipping}")
    refund = info.whole("refund_status") if info.has("refund_status") else 1
    if refund == _REFUND_DONE and shipping == 1:
        return ChannelStatus.CANCELLED
    return STATUS_MAP[shipping]


def _line(path: str, raw: Any, *, gift: bool) -> OrderLine:
    item = Obj(raw, path)
    sku = (
        item.text("outer_id", required=False)
        or item.text("outer_goods_id", required=False)
        or item.text("sku_id", required=False)
        or item.text("goods_id")
    )
    price = (
        yuan_text_to_fen(item.get("goods_price"), item.at("goods_price")) if item.has("goods_price") else 0
    )
    if not gift and not item.has("goods_price"):
        item.need("goods_price")
    merchant = (item.text("outer_id", required=False), item.text("outer_goods_id", required=False))
    return OrderLine(
        sku=sku, name=item.text("goods_name"), qty=item.qty("goods_count"), unit_price_fen=price, is_gift=gift,
        barcodes=barcodes_in(*merchant),
    )


def parse(item: Any) -> IntakeOrder:
    """One PDD ``order_info`` → IntakeOrder."""
    info = Obj(item, "")
    order_no = info.text("order_sn", max_len=64)
    province, city, town = info.text("province"), info.text("city"), info.text("town", required=False)
    if info.has("receiver_address"):
        street = info.text("receiver_address")
    else:
        street = info.text("address")
        for part in (province, city, town):  # `address` may repeat the region; keep only the street part
            if part and street.startswith(part):
                street = street[len(part) :]
    recipient = Recipient(
        name=info.text("receiver_name"),
        phone=info.text("receiver_phone", required=False),
        province=province,
        city=city,
        district=town,
        address=street,
    )
    lines = [_line(path, raw, gift=False) for path, raw in info.items("item_list")]
    lines += [_line(path, raw, gift=True) for path, raw in info.items("gift_list", required=False)]
    created = info.time("created_time")
    buyer_note = info.text("buyer_memo", required=False)
    seller_note = info.text("remark", required=False)
    extra: dict[str, Any] = {}
    if info.has("refund_status"):
        extra["refund_status"] = info.whole("refund_status")
    return IntakeOrder(
        channel=NAME,
        channel_order_no=order_no,
        status=status_of(info),
        recipient=recipient,
        lines=lines,
        total_fen=info.yuan("pay_amount"),
        created_at=created,
        channel_updated_at=info.opt_time("updated_at") or created,
        paid_at=info.opt_time("pay_time"),
        ship_by=info.opt_time("last_ship_time"),
        custom_packaging=wants_custom_packaging(buyer_note, seller_note),
        buyer_note=buyer_note,
        seller_note=seller_note,
        message_id=info.text("message_id", required=False),
        extra=extra,
    )
