"""小红书 (Xiaohongshu / RED) open-platform client: the :class:`~hub.channels.base.Platform` for
``xiaohongshu``, built to the open platform's developer documentation (docs/channels.md
"xiaohongshu" lists each source and, plainly, what we could not verify).

* Gateway: every call is ``POST {base_url}/ark/open_api/v3/common_controller`` with a JSON body of
  system parameters ``appId``, ``timestamp`` (unix seconds), ``version`` ``"2.0"``, ``method``,
  ``sign``, ``accessToken`` (not signed) and the method's own parameters. ``sign`` =
  ``md5(method + "?appId=" + appId + "&timestamp=" + timestamp + "&version=" + version +
  appSecret)``, lower-case hex. Answers: ``{"success", "error_code", "error_msg", "data"}``.
* Token: ``oauth.getAccessToken {code}`` (the shop's authorisation code) and ``oauth.refreshToken
  {refreshToken}`` → ``accessToken``/``refreshToken`` and their expiry in ms, ``sellerId``.
  accessToken lasts 7 days, refreshToken 14; a refresh in the last 30 minutes gives new ones.
* Pull: ``order.getOrderList`` with ``timeType`` 2 (update time; ``endTime - startTime`` ≤ 30 min),
  ``pageNo`` (≤ 100) and ``pageSize`` (≤ 100), read from the last page to the first as the docs
  say ("倒序拉取 最后一页到第一页"); then ``order.getOrderDetail`` per order and
  ``order.getOrderReceiverInfo`` for the recipient.
* Buyer data: the recipient comes encrypted. Platform rules: store the ciphertext, show the masked
  form, decrypt only for the platform's own e-waybill or a field a user asks to see. We call
  ``data.batchDesensitise`` for the masked form shown on screens and keep the ciphertexts in
  ``extra["receiver_ciphertext"]``.
* Push: ``[{msgTag, sellerId, data}]`` with headers ``app-key``, ``timestamp``, ``sign``;
  ``sign = md5(path + "?" + sorted "k=v" of the URL's query parameters plus app-key and timestamp,
  joined by "&" + appSecret)``; the path is part of it, hence
  :meth:`XiaohongshuPlatform.verify_push_at` (base.py ``UrlSignedPush``).
* Ship: ``order.orderDeliver {orderId, expressNo, expressCompanyCode, expressCompanyName}``. A
  split part's parcel (``Shipment.parcel``) is a 拆包发货: ``unpack: true`` and ``skuIdList``, the
  ``skuList[].skuId`` lines it carries. ``skuList`` holds one line per SKU ("相同sku聚合") and
  ``skuIdList`` has no quantity, so a part ships whole lines: a part carrying only some units of
  a line is refused in words (a visible hold), not sent.

Connector settings: ``app_key`` = appId, ``app_secret`` = appSecret, ``shop_id`` = the sellerId,
``base_url`` = ``https://ark.xiaohongshu.com``; ``extra``: ``code`` (authorisation code from the
shop's authorisation) or ``refresh_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from core.errors import ValidationFailed
from core.model import IntakeOrder
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
from hub.intake import xiaohongshu as intake

log = logging.getLogger("packdesk.hub.channels.xiaohongshu")

GATEWAY = "/ark/open_api/v3/common_controller"
VERSION = "2.0"
#: getOrderList timeType 2: "更新时间 限制 end-start<=30min".
_MAX_RANGE_S = 1800
#: getOrderList: "页码，默认1，限制100".
_MAX_PAGE_NO = 100
#: getOrderReceiverInfo: "待发货才可以拉到收件人信息" — 4 待发货 (and 5 部分发货 still has some).
_RECEIVER_STATUSES = {4, 5}
#: Marks a recipient 小红书 does not give (before payment, after shipping): plainly not a person.
NO_RECEIVER = "（小红书未提供收件人）"
#: batchDesensitise: "加密数据列表，上限100条".
_BATCH = 99

#: PackDesk carrier → (小红书 expressCompanyCode, expressCompanyName). orderDeliver: "如传入
#: [expressCompanyName]，则以传入为准" — the name is sent too, so a code we could not verify is
#: matched by the name. Verified codes: zto (orderDeliver example), shunfeng (getOrderDetail example).
EXPRESS: dict[str, tuple[str, str]] = {
    "ZTO": ("zto", "中通快递"), "SF": ("shunfeng", "顺丰速运"), "YTO": ("yuantong", "圆通速递"),
    "STO": ("shentong", "申通快递"), "YUNDA": ("yunda", "韵达快递"), "JD": ("jd", "京东快递"),
    "EMS": ("ems", "EMS"), "JTSD": ("jtexpress", "极兔速递"),
}
#: Documented on the gateway's order-list page: "-2000400 请求参数错误".
_PARAM_ERROR = -2000400
_CANCELLED = {8, 9}
#: simpleDeliveryOrderList[].status 4 待发货: "列表中的sku可以拆包发货" (not shipped yet).
_AWAITING_SHIPMENT = 4


def api_sign(method: str, app_id: str, timestamp: str, secret: str, version: str = VERSION) -> str:
    """The gateway's request signature (签名算法 page)."""
    text = f"{method}?appId={app_id}&timestamp={timestamp}&version={version}{secret}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def push_sign(path: str, params: Mapping[str, str], secret: str) -> str:
    """The push signature (应用消息推送 page, 加签): path + "?" + sorted k=v joined by & + secret."""
    joined = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return hashlib.md5(f"{path}?{joined}{secret}".encode()).hexdigest()


class XiaohongshuPlatform:
    """小红书 open-platform client for one shop (see the module docstring). Not thread-safe."""

    NAME: ClassVar[str] = "xiaohongshu"
    #: 30 minutes, less 2 s for widening the window to whole seconds.
    MAX_WINDOW_S: ClassVar[float] = _MAX_RANGE_S - 2.0
    #: getOrderList: "查询总数，默认50，限制100".
    PAGE_SIZE: ClassVar[int] = 100

    def __init__(self, config: ConnectorConfig, session: requests.Session, *, timeout_s: float = 10.0) -> None:
        self.config = config
        self.session = session
        self.timeout_s = timeout_s
        self.url = config.base_url.rstrip("/") + GATEWAY

    def _call(self, method: str, params: Mapping[str, Any], token: Token | None) -> Any:
        """One gateway call: the ``data`` of a successful answer, else the mapped PlatformError."""
        ts = str(int(time.time()))
        body: dict[str, Any] = {"appId": self.config.app_key, "timestamp": ts, "version": VERSION,
                                "method": method, "sign": api_sign(method, self.config.app_key, ts,
                                                                   self.config.app_secret)}
        if token is not None:
            body["accessToken"] = token.access_token
        body.update(params)
        doc = call(self.session, "POST", self.url, timeout_s=self.timeout_s,
                   data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                   headers={"Content-Type": "application/json;charset=utf-8"})
        if not isinstance(doc, dict) or not isinstance(doc.get("success"), bool):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"小红书 answered {method} without a success flag.",
                                code="bad_shape")
        if not doc["success"]:
            raise error_for(doc, method, token_call=method.startswith("oauth."))
        return doc.get("data")

    def _data(self, method: str, params: Mapping[str, Any], token: Token | None) -> dict[str, Any]:
        data = self._call(method, params, token)
        if not isinstance(data, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"小红书's answer to {method} has no data object.",
                                code="bad_shape")
        return data

    # --- token ----------------------------------------------------------------------------

    def fetch_token(self, current: Token | None) -> Token:
        """``oauth.refreshToken`` with the newest refresh token we have, else ``oauth.getAccessToken``
        with the shop's authorisation code."""
        refresh = current.refresh_token if current is not None and current.refresh_token else \
            self.config.extra.get("refresh_token", "")
        if refresh:
            data = self._data("oauth.refreshToken", {"refreshToken": refresh}, None)
        elif self.config.extra.get("code"):
            data = self._data("oauth.getAccessToken", {"code": self.config.extra["code"]}, None)
        else:
            raise PlatformError(ErrorKind.BAD_CREDENTIALS, "This 小红书 connector has no authorisation code or "
                                                           "refresh token: authorise the app in the shop and "
                                                           "enter the code.", code="no_code")
        access, refresh_new = data.get("accessToken"), data.get("refreshToken")
        expires, refresh_expires = data.get("accessTokenExpiresAt"), data.get("refreshTokenExpiresAt")
        if not (isinstance(access, str) and access and isinstance(expires, int) and expires > 0):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "小红书's token answer has no accessToken/expiry.",
                                code="bad_token")
        seller = data.get("sellerId")
        if self.config.shop_id and seller is not None and str(seller) != self.config.shop_id:
            raise PlatformError(ErrorKind.BAD_CREDENTIALS, f"The authorisation is for 小红书 shop {seller}, not "
                                                           f"{self.config.shop_id}.", code="other_shop")
        return Token(access_token=access, expires_at=datetime.fromtimestamp(expires / 1000, UTC),
                     refresh_token=refresh_new if isinstance(refresh_new, str) else "",
                     refresh_expires_at=datetime.fromtimestamp(refresh_expires / 1000, UTC)
                     if isinstance(refresh_expires, int) and refresh_expires > 0 else None)

    # --- pull -----------------------------------------------------------------------------

    def _list_page(self, token: Token, start: int, end: int, page_no: int) -> tuple[list[str], int]:
        data = self._data("order.getOrderList", {"startTime": start, "endTime": end, "timeType": 2,
                                                 "pageNo": page_no, "pageSize": self.PAGE_SIZE}, token)
        rows = data.get("orderList") or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("orderId"), str)
                                                 for r in rows):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "小红书's order list has unreadable orders.", code="bad_list")
        max_page = data.get("maxPageNo")
        total = data.get("total")
        if not isinstance(max_page, int):
            if not isinstance(total, int):
                raise PlatformError(ErrorKind.BAD_RESPONSE, "小红书's order list has no maxPageNo/total.",
                                    code="bad_list")
            max_page = math.ceil(total / self.PAGE_SIZE)
        if isinstance(total, int) and total > _MAX_PAGE_NO * self.PAGE_SIZE:
            # more than the platform lets anyone page through in one window: say so, do not skip
            raise PlatformError(ErrorKind.REFUSED, f"小红书 has {total} orders updated in one 30-minute window, "
                                                   "more than its list can page through.", code="too_many")
        return [r["orderId"] for r in rows], max_page

    def list_updated(self, token: Token, start: datetime, end: datetime, page: str | None) -> Page:
        """Orders updated in the window, last page first (``page`` is the next page number to read).

        The first call reads page 1 to learn ``maxPageNo``; when there is more than one page it goes
        on with the last, so that an order moving out of the window while we page cannot make
        another slip past unread (a later page's orders would move up into a page already read).
        """
        s, e = math.floor(start.timestamp()), math.ceil(end.timestamp())
        e = min(e, s + _MAX_RANGE_S)
        if page is None:
            ids, max_page = self._list_page(token, s, e, 1)
            if max_page <= 1:
                return Page(orders=self.fetch_orders(token, ids), next_page=None)
            page_no = max_page
        else:
            if not page.isdigit() or not 1 <= int(page) <= _MAX_PAGE_NO:
                raise ValueError(f"not a 小红书 page number: {page!r}")
            page_no = int(page)
        ids, _ = self._list_page(token, s, e, page_no)
        return Page(orders=self.fetch_orders(token, ids), next_page=str(page_no - 1) if page_no > 1 else None)

    def fetch_orders(self, token: Token, order_nos: list[str]) -> list[IntakeOrder]:
        """Detail per order, the recipients of those that have one, their masked forms; then parse."""
        details = [d for d in (self._detail(token, no) for no in order_nos) if d is not None]
        receivers = self._receivers(token, details)
        masked = self._desensitise(token, receivers)
        orders = []
        for detail in details:
            order_no = str(detail.get("orderId", ""))
            doc = dict(detail)
            receiver = receivers.get(order_no)
            if receiver is None:
                doc.update(receiverName=NO_RECEIVER, receiverPhone="", receiverAddress=NO_RECEIVER)
                for key in ("receiverProvinceName", "receiverCityName"):
                    doc[key] = doc.get(key) or NO_RECEIVER  # an order before payment may have none yet
            else:
                for key in ("receiverProvinceName", "receiverCityName", "receiverDistrictName"):
                    if receiver.get(key):
                        doc[key] = receiver[key]
                doc.update({k: masked.get((order_no, receiver.get(k) or ""), "") for k in
                            ("receiverName", "receiverPhone", "receiverAddress")})
                for k in ("receiverName", "receiverAddress"):
                    doc[k] = doc[k] or NO_RECEIVER
            doc["skuList"] = [_with_unit_price(sku) for sku in detail.get("skuList") or [] if isinstance(sku, dict)]
            try:
                order = intake.parse(doc)
            except ValidationFailed as exc:
                raise PlatformError(ErrorKind.BAD_RESPONSE, f"小红书's order {order_no} cannot be read: {exc.message}",
                                    code="bad_order") from None
            extra: dict[str, Any] = {**order.extra, "shop_id": self.config.shop_id}
            if receiver is not None:
                extra["receiver_ciphertext"] = {k: receiver.get(k, "") for k in
                                                ("receiverName", "receiverPhone", "receiverAddress")}
                extra["open_address_id"] = detail.get("openAddressId", "")
            orders.append(replace(order, extra=extra))
        return orders

    def _detail(self, token: Token, order_no: str) -> dict[str, Any] | None:
        """``order.getOrderDetail``; ``None`` for an order the shop does not have (a refusal whose
        message says 不存在 — the code for it is not documented)."""
        try:
            return self._data("order.getOrderDetail", {"orderId": order_no}, token)
        except PlatformError as exc:
            if exc.kind is ErrorKind.REFUSED and "不存在" in exc.message:
                log.warning("小红书 does not know order %s: left out", order_no)
                return None
            raise

    def _receivers(self, token: Token, details: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        queries = [{"orderId": str(d.get("orderId")), "openAddressId": str(d.get("openAddressId"))}
                   for d in details if d.get("orderStatus") in _RECEIVER_STATUSES and d.get("openAddressId")]
        if not queries:
            return {}
        data = self._data("order.getOrderReceiverInfo", {"receiverQueries": queries, "isReturn": False}, token)
        infos = data.get("receiverInfos") or []
        if not isinstance(infos, list):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "小红书's receiver answer is unreadable.", code="bad_receiver")
        # "matched" false: the address changed since the detail; the next pull brings it
        return {str(i.get("orderId")): i for i in infos if isinstance(i, dict) and i.get("matched") is True}

    def _desensitise(self, token: Token, receivers: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], str]:
        """``data.batchDesensitise`` of every receiver ciphertext: (order, ciphertext) → masked text."""
        items = [{"dataTag": no, "encryptedData": r.get(k)} for no, r in receivers.items()
                 for k in ("receiverName", "receiverPhone", "receiverAddress") if r.get(k)]
        masked: dict[tuple[str, str], str] = {}
        for i in range(0, len(items), _BATCH):
            data = self._data("data.batchDesensitise", {"baseInfos": items[i:i + _BATCH], "actionType": "4",
                                                        "appUserId": "packdesk"}, token)
            for row in data.get("desensitiseInfoList") or []:
                if isinstance(row, dict) and isinstance(row.get("desensitisedData"), str):
                    masked[(str(row.get("dataTag")), str(row.get("encryptedData")))] = row["desensitisedData"]
        return masked

    # --- push -----------------------------------------------------------------------------

    def verify_url_check(self, query: Mapping[str, str]) -> bytes | None:
        """小红书's open platform checks the push URL with a POST ``{"test": true}``, not a GET."""
        return None

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> list[PushMessage]:
        """The push signature covers the URL path and query, which this method does not get."""
        raise PushRejected(401, "bad_signature", "小红书 signs its pushes over the URL path and query; the hub must "
                                                 "verify them with verify_push_at.")

    def verify_signed_push(self, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> list[PushMessage]:
        """Without the path the signature cannot be checked: refused (see :meth:`verify_push_at`)."""
        return self.verify_push(headers, body)

    def verify_push_at(self, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                       body: bytes) -> list[PushMessage]:
        """Check ``sign`` over path, query, ``app-key`` and ``timestamp``; split the messages."""
        lower = {k.lower(): v for k, v in headers.items()}
        app_key, ts, given = lower.get("app-key", ""), lower.get("timestamp", ""), lower.get("sign", "")
        if not given or not ts:
            raise PushRejected(401, "bad_signature", "The 小红书 push has no sign/timestamp header.")
        if app_key != self.config.app_key:
            raise PushRejected(401, "bad_signature", "The 小红书 push is signed for another app-key.")
        params = {**query, "app-key": app_key, "timestamp": ts}
        expected = push_sign(urlsplit(path).path or "/", params, self.config.app_secret)
        if not hmac.compare_digest(expected, given.strip().lower()):
            raise PushRejected(401, "bad_signature", "The 小红书 push's sign does not match this connector's appSecret.")
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise PushRejected(400, "bad_push", "The 小红书 push body is not JSON.") from None
        if isinstance(doc, dict) and doc.get("test") is True:
            return []  # the console's address check: {"test": true}
        if not isinstance(doc, list):
            raise PushRejected(400, "bad_push", "The 小红书 push is not a JSON array of messages.")
        messages = []
        for item in doc:
            message = self._message(item)
            if message is not None:
                messages.append(message)
        return messages

    def _message(self, item: Any) -> PushMessage | None:
        if not isinstance(item, dict) or not isinstance(item.get("msgTag"), str):
            raise PushRejected(400, "bad_push", "A 小红书 push message has no msgTag.")
        tag = item["msgTag"]
        if not tag.startswith("msg_fulfillment_"):
            return None  # product / after-sale messages: not ours to act on
        seller = str(item.get("sellerId", ""))
        if self.config.shop_id and seller != self.config.shop_id:
            raise PushRejected(404, "unknown_shop", f"The 小红书 push is for shop {seller}, which this connector "
                                                    "does not serve.")
        raw = item.get("data")
        try:
            data = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise PushRejected(400, "bad_push", "A 小红书 push message's data is not JSON.") from None
        order_id = data.get("orderId") if isinstance(data, dict) else None
        if not isinstance(order_id, str) or not order_id:
            raise PushRejected(400, "bad_push", f"The 小红书 {tag} message has no orderId.")
        assert isinstance(data, dict)
        # The push signature does not cover the body ("请求body不参与排序"): whoever saw one signed
        # push could send any body with its headers. So a message's status is never trusted on its
        # own (status None): the engine fetches the order from the platform, which is authoritative.
        updated = data.get("updateTime")
        at = datetime.fromtimestamp(updated / 1000, UTC) if isinstance(updated, int) and updated > 0 else None
        msg_id = item.get("msgId")
        return PushMessage(shop_id=self.config.shop_id, channel_order_no=order_id,
                           msg_id=msg_id if isinstance(msg_id, str) else f"{tag}:{order_id}:{updated}",
                           status=None, updated_at=at)

    def push_ack(self) -> PushAck:
        """应用消息推送: "要返回给平台的数据结构 {success, error_code, error_msg}"."""
        return PushAck(200, b'{"success":true,"error_code":0,"error_msg":""}')

    # --- ship -----------------------------------------------------------------------------

    def ship(self, token: Token, shipment: Shipment) -> None:
        """``order.orderDeliver``; a waybill the order already carries counts as done. A split
        part's parcel is a 拆包发货 of its SKU lines (:func:`_parcel_sku_ids`)."""
        express = EXPRESS.get(shipment.carrier)
        if express is None:
            raise PlatformError(ErrorKind.REFUSED, f"小红书 has no carrier code for {shipment.carrier}.", code="no_carrier")
        detail = self._detail(token, shipment.channel_order_no)
        if detail is None:
            raise PlatformError(ErrorKind.REFUSED, f"小红书 does not know order {shipment.channel_order_no}.",
                                code="no_order")
        if _waybill_recorded(detail, shipment.waybill):
            return
        status = detail.get("orderStatus")
        if status in _CANCELLED:
            raise PlatformError(ErrorKind.REFUSED, f"小红书 order {shipment.channel_order_no} was cancelled or closed "
                                                   "on the platform; it cannot be shipped.", code=f"status_{status}")
        params: dict[str, Any] = {"orderId": shipment.channel_order_no, "expressNo": shipment.waybill,
                                  "expressCompanyCode": express[0], "expressCompanyName": express[1],
                                  "deliveringTime": int(shipment.shipped_at.timestamp() * 1000)}
        if shipment.parcel:
            params.update(unpack=True, skuIdList=_parcel_sku_ids(shipment, detail))
        elif shipment.line_ids:
            params.update(unpack=True, skuIdList=list(shipment.line_ids))
        try:
            self._call("order.orderDeliver", params, token)
        except PlatformError as exc:
            if exc.kind is ErrorKind.BUSY and exc.code not in ("timeout", "network") and not exc.code.startswith("http_"):
                # an answer we could read that says no: a person must look (a hold), not a retry loop
                raise PlatformError(ErrorKind.REFUSED, exc.message, code=exc.code) from None
            raise


def _id_text(value: Any) -> str:
    """An id or code as intake reads it (numbers as digits, text stripped); anything else is none."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _parcel_sku_ids(shipment: Shipment, detail: Mapping[str, Any]) -> list[str]:
    """The ``skuIdList`` of a 拆包发货 carrying a split part's parcel.

    Our SKU of a ``skuList`` line is read as intake reads it (``erpcode``, else ``skuId``;
    hub/intake/xiaohongshu.py). Lines already in a shipped package (``simpleDeliveryOrderList[]``
    whose ``status`` is not 4 待发货) are skipped. ``skuList`` aggregates each SKU into one line
    with ``skuQuantity`` and ``skuIdList`` names lines without a quantity, so each line the part
    takes must be carried whole.

    Raises:
        PlatformError: REFUSED when the order has no unshipped line for a SKU of the parcel
            (``parcel_lines``), or the part carries only some units of a line (``parcel_units``).
    """
    shipped: set[str] = set()
    packages = detail.get("simpleDeliveryOrderList")
    for package in packages if isinstance(packages, list) else []:
        ids = package.get("skuIdList") if isinstance(package, dict) else None
        if isinstance(ids, list) and package.get("status") != _AWAITING_SHIPMENT:
            shipped.update(_id_text(i) for i in ids)
    need = dict(shipment.parcel)
    sku_ids: list[str] = []
    split: list[str] = []
    lines = detail.get("skuList")
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, dict):
            continue
        sku_id = _id_text(line.get("skuId"))
        ours = _id_text(line.get("erpcode")) or sku_id
        qty = line.get("skuQuantity")
        if not sku_id or sku_id in shipped or need.get(ours, 0) <= 0 or not isinstance(qty, int) or qty <= 0:
            continue
        if need[ours] < qty:
            split.append(f"{ours} ({need[ours]} of the {qty} on one line)")
            need[ours] = 0
            continue
        sku_ids.append(sku_id)
        need[ours] -= qty
    if split:
        raise PlatformError(ErrorKind.REFUSED, f"小红书 ships a split order by whole SKU lines (拆包发货 skuIdList has "
                                               f"no quantity); this part of {shipment.channel_order_no} carries only "
                                               f"some units of {', '.join(split)}: ship those units in one part.",
                            code="parcel_units")
    refuse_unmatched("小红书", shipment.channel_order_no, need, "line")
    return sku_ids


def _waybill_recorded(detail: Mapping[str, Any], waybill: str) -> bool:
    if detail.get("expressTrackingNo") == waybill:
        return True
    packages = detail.get("simpleDeliveryOrderList")
    return isinstance(packages, list) and any(isinstance(p, dict) and p.get("expressTrackingNo") == waybill
                                              for p in packages)


def _with_unit_price(sku: dict[str, Any]) -> dict[str, Any]:
    """skuList lines carry ``totalPaidAmount`` for all their units; when it does not divide by the
    quantity (a discount spread unevenly) the unit price is its floor, so the order is not refused;
    the order's total (``totalPayAmount``) stays exact either way."""
    out = dict(sku)
    qty, paid = sku.get("skuQuantity"), sku.get("totalPaidAmount")
    if "price" not in out and isinstance(qty, int) and qty > 0 and isinstance(paid, int) and paid % qty:
        out["price"] = paid // qty
    return out


def error_for(doc: Mapping[str, Any], method: str, *, token_call: bool) -> PlatformError:
    """The PlatformError for ``success: false``.

    小红书's pages we found document ``-2000400`` (请求参数错误) and the decrypt quota codes, and no
    code for token expiry, rate limiting or a busy system. So apart from -2000400 this reads
    ``error_msg``: a message about the token or authorisation → TOKEN_EXPIRED (or BAD_CREDENTIALS on
    the oauth calls); about signature or appId → BAD_CREDENTIALS; about 限流/频繁 → RATE_LIMITED;
    anything else → BUSY (retried with back-off, and shown in the connector's health). Not verified
    against the live platform — docs/channels.md.
    """
    code = doc.get("error_code")
    text = str(code) if isinstance(code, int) and not isinstance(code, bool) else "unknown"
    raw = doc.get("error_msg")
    msg = raw[:200] if isinstance(raw, str) else ""
    low = msg.lower()
    if code == _PARAM_ERROR:
        return PlatformError(ErrorKind.REFUSED, f"小红书 refused {method}: parameters wrong ({msg}).", code=text)
    if "sign" in low or "签名" in msg or "appid" in low or "appkey" in low:
        return PlatformError(ErrorKind.BAD_CREDENTIALS, "小红书 refused the signature: check the appId and appSecret "
                                                        "of the connector.", code=text)
    if "token" in low or "授权" in msg:
        if token_call:
            return PlatformError(ErrorKind.BAD_CREDENTIALS, "小红书 refused the authorisation code or refresh token: "
                                                            "authorise the app in the shop again.", code=text)
        return PlatformError(ErrorKind.TOKEN_EXPIRED, "小红书 says the access token is no longer valid.", code=text)
    if "限流" in msg or "频繁" in msg or "rate" in low or "limit" in low:
        return PlatformError(ErrorKind.RATE_LIMITED, "小红书 says we are calling too often.", code=text)
    return PlatformError(ErrorKind.BUSY, f"小红书 could not answer {method}: {msg or 'no reason given'}.", code=text)


PLATFORM = XiaohongshuPlatform
