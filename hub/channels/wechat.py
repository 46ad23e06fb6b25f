"""微信小店 (WeChat Channels shop, 视频号小店) API client: the :class:`~hub.channels.base.Platform` for
``wechat``, built to WeChat's documented API (every source is listed in docs/channels.md "wechat").

* Token: ``POST /cgi-bin/stable_token`` ``{grant_type: client_credential, appid, secret}`` →
  ``{access_token, expires_in}`` (≤ 7200 s). Normal mode (``force_refresh`` false): WeChat hands
  out the current token and renews it itself 5 minutes before expiry, so several hub processes
  never invalidate each other's token. Every other call carries ``access_token`` in the query;
  WeChat has no per-request signature.
* Pull: ``POST /channels/ec/order/list/get`` with ``update_time_range {start_time, end_time}``
  (seconds; the two at most 7 days apart), ``page_size`` (≤ 100) and ``next_key`` →
  ``order_id_list``, ``next_key``, ``has_more``; then ``POST /channels/ec/order/get`` per id, parsed
  by :mod:`hub.intake.wechat`.
* Buyer data: WeChat masks the recipient (``林**``, ``183****2807``, ``detail_info`` ``****``) by
  default. ``POST /channels/ec/order/sensitiveinfo/decode`` returns it whole, against a small daily
  quota; we call it only when the connector's ``extra["decode_sensitive"]`` is ``"1"`` and keep the
  masked form when the quota is spent (the platform's own e-waybill prints from the order id).
* Push: safe mode and JSON only for 视频号小店. GET URL check (``signature`` over token, timestamp,
  nonce; echo ``echostr``); POST ``{"ToUserName", "Encrypt"}`` with ``msg_signature`` over token,
  timestamp, nonce and Encrypt; the decrypted event (``Event`` ``channels_ec_order_*``,
  ``order_info.order_id``) carries ids only, so it becomes a thin :class:`PushMessage`. The query
  is needed, hence :meth:`WechatPlatform.verify_signed_push` (base.py's optional ``UrlSignedPush``).
* Ship: ``POST /channels/ec/order/delivery/send`` ``{order_id, delivery_list: [{delivery_id,
  waybill_id, deliver_type: 1, product_infos: [{product_id, sku_id, product_cnt}]}]}``; the product
  list comes from the order detail, which also tells whether the waybill is already recorded. A
  split part's parcel (``Shipment.parcel``) is one package of just its products and units: our SKU
  of a product is read as intake reads it, units come from the products not yet in a package
  (``delivery_info.delivery_product_info[].product_infos``); WeChat keeps the order 21 部分发货
  until every unit is in a package, then 30.

Connector settings (``ConnectorConfig``): ``app_key`` = the shop's AppID, ``app_secret`` = its
AppSecret, ``base_url`` = ``https://api.weixin.qq.com``; ``extra``: ``push_token`` (the Token of the
push settings), ``encoding_aes_key`` (the 43-character EncodingAESKey), ``decode_sensitive``
(``"1"`` to spend decode quota on full recipient data).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder
from hub.channels import wechat_crypto
from hub.channels.base import (
    ConnectorConfig,
    ErrorKind,
    Page,
    PlatformError,
    PushAck,
    PushMessage,
    PushRejected,
    Shipment,
    Token,
    call,
    refuse_unmatched,
)
from hub.intake import wechat as intake

log = logging.getLogger("packdesk.hub.channels.wechat")

#: WeChat's global return codes (developers.weixin.qq.com/doc/channels/API/basics/commErrCode.html)
#: and what the engine does about them. 40001 means "AppSecret wrong" on the token call and "token
#: invalid or not the latest" everywhere else, so it is decided per call.
_TOKEN_CODES = {40001, 40014, 42001}
_RATE_CODES = {45009, 45011}  # daily quota (no honest wait to give) / "retry next minute"
#: -1 system busy; 100003 "订单更新过于频繁，更新订单失败，请重试" (订单发货's own error list).
_BUSY_CODES = {-1, 100003}
_CREDENTIAL_CODES: dict[int, str] = {
    40013: "WeChat says the AppID is not valid: check the shop's AppID in the connector.",
    40125: "WeChat says the AppSecret is not valid: copy it again from the shop's development settings.",
    40164: "WeChat refuses calls from this server's IP address: add it to the shop's IP whitelist.",
    45035: "WeChat refuses calls from this server's IP address: add it to the IP whitelist at "
           "channels.weixin.qq.com/shop.",
    61004: "WeChat refuses calls from this server's IP address: add it to the shop's IP whitelist.",
    48001: "The shop has not granted this app the order API (WeChat says 'api unauthorized').",
    50001: "The shop has not authorised this app for this API.",
    41002: "The connector has no AppID.",
    41004: "The connector has no AppSecret.",
}

#: Order events of 微信小店 (developers.weixin.qq.com/doc/store/shop/notify/order_callback) and the
#: status each implies on its own. ``None``: the event alone says nothing we act on (fetch).
EVENT_STATUS: dict[str, ChannelStatus | None] = {
    "channels_ec_order_new": None,  # created: paid or not is in the detail
    "channels_ec_order_pay": ChannelStatus.PAID,
    "channels_ec_order_cancel": ChannelStatus.CANCELLED,
    "channels_ec_order_wait_shipping": ChannelStatus.PAID,
    "channels_ec_order_deliver": ChannelStatus.PAID,  # shipping states are PAID to the hub
    "channels_ec_order_confirm": ChannelStatus.PAID,
    "channels_ec_order_settle": ChannelStatus.PAID,
    "channels_ec_order_ext_info_update": None,
}

#: PackDesk carrier code → 微信小店 ``delivery_id`` (the table of 获取快递公司列表,
#: developers.weixin.qq.com/doc/store/API/order/deliverycompanylist_get.html). Same letters.
DELIVERY_IDS: dict[str, str] = {c: c for c in ("ZTO", "YTO", "YUNDA", "JTSD", "STO", "SF", "JD", "EMS")}

_CANCELLED_STATUS = {200, 250}


class WechatPlatform:
    """微信小店 API client for one shop (see the module docstring). Not thread-safe."""

    NAME: ClassVar[str] = "wechat"
    #: order/list/get: "start_time … 距离end_time不可超过7天", less 2 s for widening the window to
    #: whole seconds (floor/ceil below).
    MAX_WINDOW_S: ClassVar[float] = 7 * 24 * 3600.0 - 2.0
    #: order/list/get: "每页数量(不超过100)".
    PAGE_SIZE: ClassVar[int] = 100

    def __init__(self, config: ConnectorConfig, session: requests.Session, *, timeout_s: float = 10.0) -> None:
        self.config = config
        self.session = session
        self.timeout_s = timeout_s
        self.base = config.base_url.rstrip("/")

    # --- calls ------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], token: Token | None) -> dict[str, Any]:
        """POST ``body`` as JSON; the answer when its errcode is 0, else the mapped PlatformError."""
        params = {"access_token": token.access_token} if token is not None else None
        doc = call(self.session, "POST", self.base + path, timeout_s=self.timeout_s, params=params,
                   data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                   headers={"Content-Type": "application/json"})
        if not isinstance(doc, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"WeChat answered {path} with JSON that is not an object.",
                                code="bad_shape")
        check(doc, path, token_call=token is None)
        return doc

    def fetch_token(self, current: Token | None) -> Token:
        """A token from ``/cgi-bin/stable_token`` (normal mode: the same call acquires and renews)."""
        doc = self._post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": self.config.app_key,
                                                   "secret": self.config.app_secret, "force_refresh": False}, None)
        access = doc.get("access_token")
        expires_in = doc.get("expires_in")
        if not isinstance(access, str) or not access or not isinstance(expires_in, int) or expires_in <= 0:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "WeChat's token answer has no access_token/expires_in.",
                                code="bad_token")
        return Token(access_token=access, expires_at=datetime.now(UTC) + timedelta(seconds=expires_in))

    def list_updated(self, token: Token, start: datetime, end: datetime, page: str | None) -> Page:
        """One page of order ids updated in the window, with each order's detail.

        The window is widened to whole seconds (``floor(start)``, ``ceil(end)``): WeChat does not say
        whether its bounds are inclusive, and an order seen twice is one order (dedupe), while an
        order at the boundary second must not be missed.
        """
        body = {"update_time_range": {"start_time": math.floor(start.timestamp()),
                                      "end_time": math.ceil(end.timestamp())},
                "page_size": self.PAGE_SIZE, "next_key": page or ""}
        doc = self._post("/channels/ec/order/list/get", body, token)
        ids = doc.get("order_id_list", [])
        if not isinstance(ids, list) or not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "WeChat's order list has no readable order_id_list.",
                                code="bad_list")
        next_key = doc.get("next_key", "")
        more = doc.get("has_more", False)
        if not isinstance(next_key, str) or not isinstance(more, bool):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "WeChat's order list has no readable next_key/has_more.",
                                code="bad_list")
        if more and (not next_key or next_key == page):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "WeChat says there are more orders but gave no new next_key.",
                                code="bad_list")
        orders = self.fetch_orders(token, [str(i) for i in ids])
        return Page(orders=orders, next_page=next_key if more else None)

    def fetch_orders(self, token: Token, order_nos: list[str]) -> list[IntakeOrder]:
        """``/channels/ec/order/get`` for each id (WeChat has no batch detail call)."""
        orders = []
        for order_no in order_nos:
            doc = self._get_order(token, order_no)
            if doc is None:
                continue
            if self.config.extra.get("decode_sensitive") == "1":
                self._decode_recipient(token, order_no, doc)
            try:
                order = intake.parse(doc)
            except ValidationFailed as exc:
                raise PlatformError(ErrorKind.BAD_RESPONSE,
                                    f"WeChat's order {order_no} cannot be read: {exc.message}", code="bad_order") from None
            orders.append(replace(order, extra={**order.extra, "shop_id": self.config.shop_id}))
        return orders

    def _get_order(self, token: Token, order_no: str) -> dict[str, Any] | None:
        """The ``order/get`` answer, or ``None`` for an order WeChat does not know."""
        try:
            doc = self._post("/channels/ec/order/get", {"order_id": order_no}, token)
        except PlatformError as exc:
            if exc.kind is ErrorKind.REFUSED and exc.code in ORDER_NOT_FOUND_CODES:
                log.warning("WeChat does not know order %s (errcode %s): left out", order_no, exc.code)
                return None
            raise
        if not isinstance(doc.get("order"), dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"WeChat's answer for order {order_no} has no order.",
                                code="bad_order")
        return doc

    def _decode_recipient(self, token: Token, order_no: str, doc: dict[str, Any]) -> None:
        """Replace the masked ``address_info`` with the decoded one; keep the mask when refused."""
        try:
            dec = self._post("/channels/ec/order/sensitiveinfo/decode", {"order_id": order_no}, token)
        except PlatformError as exc:
            if exc.kind not in (ErrorKind.REFUSED, ErrorKind.RATE_LIMITED):
                raise  # busy, token: the page is retried, the decode with it
            # the decode quota is small (a daily allowance): an order with a masked recipient still
            # reaches the benches; stalling the whole pull for a day would not
            log.warning("WeChat would not decode the recipient of order %s (errcode %s): the masked form is kept",
                        order_no, exc.code)
            return
        address = dec.get("address_info")
        detail = doc["order"].get("order_detail")
        delivery = detail.get("delivery_info") if isinstance(detail, dict) else None
        if isinstance(address, dict) and isinstance(delivery, dict):
            delivery["address_info"] = address

    # --- push -------------------------------------------------------------------------------

    def _push_secrets(self) -> tuple[str, str]:
        token = self.config.extra.get("push_token", "")
        key = self.config.extra.get("encoding_aes_key", "")
        if not token or not key:
            # a configuration gap, not the sender's fault, but the push cannot be trusted: refuse it
            raise PushRejected(401, "bad_signature", "This WeChat connector has no push Token/EncodingAESKey set, "
                                                     "so pushes cannot be verified.")
        return token, key

    def verify_url_check(self, query: Mapping[str, str]) -> bytes | None:
        """WeChat's GET check of the push URL: ``echostr`` back when ``signature`` is right."""
        if "echostr" not in query:
            return None
        token, _ = self._push_secrets()
        expected = wechat_crypto.sha1_signature(token, query.get("timestamp", ""), query.get("nonce", ""))
        if not wechat_crypto.signature_matches(expected, query.get("signature", "")):
            raise PushRejected(401, "bad_signature", "The WeChat URL check's signature does not match the push Token.")
        return query["echostr"].encode("utf-8")

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> list[PushMessage]:
        """WeChat signs in the URL query, which this method does not get: always refused. The engine
        calls :meth:`verify_signed_push` through ``base.verify_any_push``."""
        raise PushRejected(401, "bad_signature", "WeChat signs its pushes in the URL query (msg_signature, "
                                                 "timestamp, nonce); none was given.")

    def verify_signed_push(self, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> list[PushMessage]:
        """Check ``msg_signature``, decrypt ``Encrypt``, and turn an order event into a thin message."""
        token, key = self._push_secrets()
        try:
            outer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise PushRejected(400, "bad_push", "The WeChat push body is not JSON.") from None
        encrypt = outer.get("Encrypt") if isinstance(outer, dict) else None
        if not isinstance(encrypt, str) or not encrypt:
            raise PushRejected(400, "bad_push", "The WeChat push has no Encrypt field (the shop pushes in safe mode).")
        expected = wechat_crypto.sha1_signature(token, query.get("timestamp", ""), query.get("nonce", ""), encrypt)
        if not wechat_crypto.signature_matches(expected, query.get("msg_signature", "")):
            raise PushRejected(401, "bad_signature", "The WeChat push's msg_signature does not match the push Token.")
        try:
            plain, appid = wechat_crypto.decrypt(key, encrypt)
        except wechat_crypto.CryptoError as exc:
            raise PushRejected(400, "bad_push", f"The WeChat push cannot be decrypted: {exc}.") from None
        if appid != self.config.app_key:
            raise PushRejected(404, "unknown_shop", "The WeChat push is for another AppID than this connector's.")
        try:
            event = json.loads(plain)
        except (ValueError, UnicodeDecodeError):
            raise PushRejected(400, "bad_push", "The decrypted WeChat push is not JSON.") from None
        if not isinstance(event, dict):
            raise PushRejected(400, "bad_push", "The decrypted WeChat push is not a JSON object.")
        name = event.get("Event")
        if name not in EVENT_STATUS:
            return []  # not an order event (product, after-sale, …): acknowledged, nothing to do
        info = event.get("order_info")
        order_id = info.get("order_id") if isinstance(info, dict) else None
        if isinstance(order_id, bool) or not isinstance(order_id, str | int) or not str(order_id):
            raise PushRejected(400, "bad_push", f"The WeChat {name} event has no order_info.order_id.")
        created = event.get("CreateTime")
        at = None
        if isinstance(created, int) and not isinstance(created, bool) and created > 0:
            at = datetime.fromtimestamp(created, UTC)
        return [PushMessage(shop_id=self.config.shop_id, channel_order_no=str(order_id),
                            msg_id=f"{name}:{order_id}:{created}", status=EVENT_STATUS[name], updated_at=at)]

    def push_ack(self) -> PushAck:
        """The push documents: "只需直接返回字符串 success"."""
        return PushAck(200, b"success", "text/plain")

    # --- ship -------------------------------------------------------------------------------

    def ship(self, token: Token, shipment: Shipment) -> None:
        """Record the waybill on WeChat (``order/delivery/send``); idempotent on the waybill number.

        A split part's parcel ships as one package of its products and units (:func:`_parcel_products`);
        without one, the package holds every product of the order (or those of ``line_ids``)."""
        delivery_id = DELIVERY_IDS.get(shipment.carrier)
        if delivery_id is None:
            raise PlatformError(ErrorKind.REFUSED, f"微信小店 has no carrier code for {shipment.carrier}.",
                                code="no_carrier")
        doc = self._get_order(token, shipment.channel_order_no)
        if doc is None:
            raise PlatformError(ErrorKind.REFUSED, f"WeChat does not know order {shipment.channel_order_no}.",
                                code="no_order")
        order = doc["order"]
        detail = order.get("order_detail") if isinstance(order.get("order_detail"), dict) else {}
        if _waybill_recorded(detail, shipment.waybill):
            return  # sent before (a retry after a lost answer): already recorded
        if order.get("status") in _CANCELLED_STATUS:
            raise PlatformError(ErrorKind.REFUSED, f"WeChat order {shipment.channel_order_no} was cancelled on the "
                                                   "platform; it cannot be shipped.", code=f"status_{order['status']}")
        if shipment.parcel:
            products = _parcel_products(shipment, detail)
        else:
            products = []
            for raw in _product_infos(detail):
                if shipment.line_ids and str(raw.get("sku_id")) not in shipment.line_ids:
                    continue
                products.append({"product_id": str(raw.get("product_id", "")), "sku_id": str(raw.get("sku_id", "")),
                                 "product_cnt": raw.get("sku_cnt", 0)})
        if not products:
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"WeChat's order {shipment.channel_order_no} lists no "
                                                        "products to ship.", code="no_products")
        body = {"order_id": shipment.channel_order_no,
                "delivery_list": [{"delivery_id": delivery_id, "waybill_id": shipment.waybill, "deliver_type": 1,
                                   "product_infos": products}]}
        self._post("/channels/ec/order/delivery/send", body, token)


#: order/get for an order id the shop does not have. WeChat's order pages list no code for it; the
#: mini-shop API documents 100002 "Not exist" (a WeChat community answer on /product/delivery/send),
#: and we found nothing newer: an unknown code is REFUSED and surfaces to the admin instead.
ORDER_NOT_FOUND_CODES = {"100002"}


def _product_infos(detail: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = detail.get("product_infos")
    return [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []


def _id_text(value: Any) -> str:
    """An id or code as intake reads it (``hub/intake/fields.py to_text``): numbers as digits, text
    stripped; anything else is no id."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _parcel_products(shipment: Shipment, detail: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``product_infos`` of one package holding a split part's parcel.

    Our SKU of a product is read as intake reads it (``sku_code``, else ``out_sku_id``, else
    ``sku_id``; hub/intake/wechat.py). A product's units still to ship are its ``sku_cnt`` less
    the units already in a package (``delivery_info.delivery_product_info[].product_infos``, per
    ``sku_id``); units of one SKU are taken from its products in the detail's order.

    Raises:
        PlatformError: REFUSED when the order has no unshipped product for a SKU of the parcel.
    """
    delivery = detail.get("delivery_info")
    packages = delivery.get("delivery_product_info") if isinstance(delivery, dict) else None
    shipped: dict[str, int] = {}
    for package in packages if isinstance(packages, list) else []:
        items = package.get("product_infos") if isinstance(package, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                key = _id_text(item.get("sku_id"))
                shipped[key] = shipped.get(key, 0) + _count(item.get("product_cnt"))
    need = dict(shipment.parcel)
    products: list[dict[str, Any]] = []
    for raw in _product_infos(detail):
        sku_id = _id_text(raw.get("sku_id"))
        ours = _id_text(raw.get("sku_code")) or _id_text(raw.get("out_sku_id")) or sku_id
        left = max(0, _count(raw.get("sku_cnt")) - shipped.get(sku_id, 0))
        take = min(need.get(ours, 0), left)
        if take > 0:
            products.append({"product_id": _id_text(raw.get("product_id")), "sku_id": sku_id, "product_cnt": take})
            need[ours] -= take
            shipped[sku_id] = shipped.get(sku_id, 0) + take
    refuse_unmatched("微信小店", shipment.channel_order_no, need, "product")
    return products


def _waybill_recorded(detail: Mapping[str, Any], waybill: str) -> bool:
    """Whether ``order_detail.delivery_info.delivery_product_info[]`` already holds this waybill."""
    delivery = detail.get("delivery_info")
    packages = delivery.get("delivery_product_info") if isinstance(delivery, dict) else None
    return isinstance(packages, list) and any(isinstance(p, dict) and p.get("waybill_id") == waybill for p in packages)


def check(doc: Mapping[str, Any], what: str, *, token_call: bool = False) -> None:
    """Raise the :class:`PlatformError` an ``errcode`` means (nothing for 0 or no errcode)."""
    code = doc.get("errcode", 0)
    if code == 0:
        return
    if not isinstance(code, int) or isinstance(code, bool):
        raise PlatformError(ErrorKind.BAD_RESPONSE, f"WeChat answered {what} with an unreadable errcode.",
                            code="bad_errcode")
    raw_msg = doc.get("errmsg")
    errmsg = raw_msg[:200] if isinstance(raw_msg, str) else ""
    text = str(code)
    if code == 40001 and token_call:
        raise PlatformError(ErrorKind.BAD_CREDENTIALS, "WeChat says the AppSecret is wrong: copy it again from "
                                                       "the shop's development settings.", code=text)
    if code in _TOKEN_CODES:
        raise PlatformError(ErrorKind.TOKEN_EXPIRED, "WeChat says the access token is expired or not the latest.",
                            code=text)
    if code in _RATE_CODES:
        quota = "daily API quota is used up" if code == 45009 else "per-minute API limit was hit"
        # 45011's errmsg: "api minute-quota reach limit, must slower, retry next minute" — the
        # quota is per minute, so the wait is to the next minute, not a whole minute from now
        wait = 60.0 - time.time() % 60.0 + 0.5 if code == 45011 else None
        raise PlatformError(ErrorKind.RATE_LIMITED, f"WeChat says the shop's {quota}.", code=text,
                            retry_after_s=wait)
    if code in _BUSY_CODES:
        raise PlatformError(ErrorKind.BUSY, "WeChat says its system is busy (errcode -1).", code=text)
    if code in _CREDENTIAL_CODES:
        raise PlatformError(ErrorKind.BAD_CREDENTIALS, _CREDENTIAL_CODES[code], code=text)
    raise PlatformError(ErrorKind.REFUSED, f"WeChat refused {what}: errcode {code} {errmsg}".rstrip(), code=text)


PLATFORM = WechatPlatform
