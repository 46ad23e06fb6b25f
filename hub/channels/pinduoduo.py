"""拼多多开放平台 (Pinduoduo open platform) connector: the hub's own client of PDD's documented API.

Every field, rule and code used here is listed with its source in docs/channels.md ("拼多多 connector").
In short:

* **Requests** (PDD 《API调用指南》): ``POST`` to the one router URL (``ConnectorConfig.base_url``,
  ``https://gw-api.pinduoduo.com/api/router`` live), form-encoded, with the public parameters ``type``
  (the method), ``client_id``, ``timestamp`` (unix seconds, within 10 minutes of PDD's clock),
  ``data_type=JSON``, ``access_token`` (methods that need the shop's authorisation) and the method's own
  parameters; ``sign`` = upper-case hex MD5 of ``client_secret`` + every other parameter as ``key``
  ``value`` sorted by key (ASCII) + ``client_secret``. The guide's worked example is asserted in
  tests/channels/test_pinduoduo.py.
* **Tokens**: ``pdd.pop.auth.token.create`` (the authorisation ``code`` from the console) and
  ``pdd.pop.auth.token.refresh`` (``refresh_token``); answers carry ``expires_at`` (unix seconds).
* **Orders**: ``pdd.order.number.list.increment.get`` by update time (at most 30 minutes per query,
  ``page_size`` at most 100, newest first — paged *from the last page back*, as PDD's FAQ asks, so an
  order that changes while we page is read twice rather than missed), and ``pdd.order.information.get``.
  The ``order_info`` objects go through :mod:`hub.intake.pinduoduo` unchanged except for the recipient
  (below).
* **Encrypted buyer data**: PDD returns ``receiver_name``/``receiver_phone``/``receiver_address``/
  ``address`` as ciphertext (and only while the order waits for shipment), plus ``*_mask`` forms.
  Decryption (``pdd.open.decrypt.batch``) is only allowed inside PDD's cloud (多多云) with a daily
  quota, so the hub does not decrypt: the recipient shown on screens is the masked form and the
  ciphertext is kept in ``extra["pdd_ciphertext"]`` for PDD's own e-waybill (PDD says to store it while
  the order waits for shipment; docs/channels.md says what was and was not confirmed).
* **Push**: PDD's message service is a WebSocket the integrator's client opens (signed in its URL);
  its frames carry no signature of their own. A relay holding that WebSocket forwards each frame's JSON
  unchanged to the hub, signed with ``X-PackDesk-Signature`` (HMAC-SHA256 of the body with the
  connector's ``extra["push_secret"]``, else its app secret) — that is what :meth:`verify_push` checks.
* **Ship**: ``pdd.logistics.online.send`` (``order_sn``, ``logistics_id``, ``tracking_number``), with
  ``logistics_id`` looked up by carrier code in ``pdd.logistics.companies.get``. A split part's
  parcel after the first goes as an extra waybill, ``pdd.order.upload.extra.logistics`` (type 1
  分包发货; docs/split-merge.md).

``ConnectorConfig.extra`` keys: ``refresh_token`` (from the console's authorisation) or ``code`` (a
one-time authorisation code), optional ``push_secret``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from core.errors import UserError
from core.model import ChannelStatus, IntakeOrder
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
    parse_error_body,
)
from hub.intake import pinduoduo as order_parser
from hub.intake.fields import NumberOutOfRange, bounded_loads
from hub.intake.signing import SIGNATURE_HEADER, BadSignature, verify_signature

log = logging.getLogger("packdesk.hub.channels.pinduoduo")

#: PDD's error codes we act on (docs/channels.md lists where each was found and which are unverified).
TOKEN_EXPIRED_CODES = frozenset({"10019"})  # access_token已过期
BAD_CREDENTIAL_CODES = frozenset({"10016"})  # client下线或者clientId不正确
RATE_LIMIT_CODES = frozenset({"70031", "70032"})  # not found in a public source: see docs
BUSY_CODES = frozenset({"50000", "50001"})  # not found in a public source: see docs

#: How PDD says it has no such order for this shop (its order-query FAQ); no code for it was found.
NOT_FOUND_WORDS = ("不存在", "不属于当前店铺")

#: PackDesk carrier code -> the ``code`` PDD's ``pdd.logistics.companies.get`` gives that carrier.
#: The seven first are identical in a captured companies list; 极兔's code was not found publicly, so
#: it is also matched by name (极兔) in the live list.
CARRIER_CODES: dict[str, tuple[str, ...]] = {
    "ZTO": ("ZTO",),
    "YTO": ("YTO",),
    "STO": ("STO",),
    "YUNDA": ("YUNDA",),
    "SF": ("SF",),
    "JD": ("JD",),
    "EMS": ("EMS",),
    "JTSD": ("JTSD", "JT", "JTEXPRESS"),
}
_CARRIER_NAMES = {"JTSD": "极兔"}

#: Message types of PDD's message service that are about one order (``content.tid``), and what the
#: type alone says about the order's state. ``None``: the detail decides (a refund may or may not
#: have completed), so the engine fetches it.
MESSAGE_STATUS: dict[str, ChannelStatus | None] = {
    "pdd_trade_TradeConfirmed": ChannelStatus.PAID,  # 交易确认 (paid and the group formed)
    "pdd_trade_TradeSellerShip": ChannelStatus.PAID,  # 卖家发货
    "pdd_trade_TradeSuccess": ChannelStatus.PAID,  # 交易成功
    "pdd_trade_TradeLogisticsAddressChanged": None,  # 修改交易收货地址
    "pdd_refund_RefundCreated": None,  # 退款创建
    "pdd_refund_RefundAgreeAgreement": None,  # 同意退款协议
    "pdd_refund_RefundClosed": None,  # 售后单关闭
}

#: What the hub shows when PDD hides the recipient entirely (after shipment, refund, under review)
#: and sends no masked form either.
HIDDEN = "（拼多多已隐藏）"


def sign_params(params: Mapping[str, str], client_secret: str) -> str:
    """PDD's request signature over every parameter except ``sign`` itself (see module docstring)."""
    joined = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hashlib.md5(f"{client_secret}{joined}{client_secret}".encode()).hexdigest().upper()


def message_service_path(client_id: str, client_secret: str, timestamp_ms: int) -> str:
    """The path a relay opens on PDD's message service (``wss://message-api.pinduoduo.com``):
    ``/message/{client_id}/{timestamp_ms}/{sign}``, ``sign`` = base64 of the hex MD5 of client_id +
    timestamp_ms + client_secret (url-encoded). The hub itself holds no WebSocket; this is the one rule
    a relay needs from us, kept beside the frame rules of :meth:`PinduoduoPlatform.verify_push`."""
    digest = hashlib.md5(f"{client_id}{timestamp_ms}{client_secret}".encode()).hexdigest()
    sign = base64.b64encode(digest.encode()).decode()
    return f"/message/{quote(client_id, safe='')}/{timestamp_ms}/{quote(sign, safe='')}"


def ack_frame(frame: Mapping[str, Any], now_ms: int) -> str:
    """PDD's ``Ack`` for a ``Common`` frame, which a relay sends once the hub answered 2xx (never before:
    an unacknowledged message is delivered again)."""
    msg = frame["message"]
    return json.dumps({"commandType": "Ack", "time": now_ms, "id": frame["id"], "sendTime": frame["sendTime"],
                       "type": msg["type"], "mallID": msg["mallID"]}, separators=(",", ":"))


def _text(value: Any) -> str:
    """A parameter value as PDD signs and sends it (booleans lower-case, as the Java SDK writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class PinduoduoPlatform:
    """One 拼多多 shop's API client (see the module docstring for the protocol it speaks)."""

    NAME: ClassVar[str] = "pinduoduo"
    MAX_WINDOW_S: ClassVar[float] = 1800.0
    PAGE_SIZE: ClassVar[int] = 100

    def __init__(self, config: ConnectorConfig, session: requests.Session, *, timeout_s: float = 10.0) -> None:
        self.config = config
        self.session = session
        self.timeout_s = timeout_s
        self._logistics_ids: dict[str, int] | None = None

    # -- transport -----------------------------------------------------------------------------

    def _call(self, method: str, params: Mapping[str, Any], token: Token | None = None) -> dict[str, Any]:
        """One API call; the answer's ``*_response`` object, or :class:`PlatformError`."""
        form = {key: _text(value) for key, value in params.items() if value is not None}
        form.update(type=method, client_id=self.config.app_key, timestamp=str(int(time.time())), data_type="JSON")
        if token is not None:
            form["access_token"] = token.access_token
        form["sign"] = sign_params(form, self.config.app_secret)
        try:
            resp = self.session.post(self.config.base_url, data=form, timeout=self.timeout_s)
        except requests.Timeout:
            raise PlatformError(ErrorKind.BUSY, "拼多多 did not answer in time.", code="timeout") from None
        except requests.RequestException as exc:
            raise PlatformError(ErrorKind.BUSY, f"Cannot reach 拼多多 ({type(exc).__name__}).", code="network") from None
        if resp.status_code == 429 or resp.status_code >= 500:
            parse_error_body(resp)  # raises the transient error
        try:
            doc = bounded_loads(resp.content)  # money as Decimal, never float
        except (ValueError, NumberOutOfRange, RecursionError):
            raise PlatformError(ErrorKind.BAD_RESPONSE,
                                f"拼多多 answered {method} (HTTP {resp.status_code}) with something that is not JSON.",
                                code="not_json") from None
        if not isinstance(doc, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"拼多多's answer to {method} is not a JSON object.",
                                code="bad_shape")
        if "error_response" in doc:
            raise self._error(method, doc["error_response"])
        for key, value in doc.items():
            if key.endswith("_response") and isinstance(value, dict):
                return value
        raise PlatformError(ErrorKind.BAD_RESPONSE, f"拼多多's answer to {method} has no *_response object.",
                            code="bad_shape")

    @staticmethod
    def _error(method: str, raw: Any) -> PlatformError:
        """``error_response`` {error_code, error_msg, sub_code, sub_msg} → our kinds, in plain words."""
        err = raw if isinstance(raw, dict) else {}
        code = str(err.get("error_code", ""))[:20]
        said = " / ".join(str(err.get(k))[:200] for k in ("error_msg", "sub_msg") if err.get(k))
        said = said or "no message"
        text = said.lower()
        creds = (f"拼多多 refused our credentials ({said}): check the connector's client_id and client_secret "
                 "(应用详情 in the 拼多多 console).")
        if code in TOKEN_EXPIRED_CODES:
            return PlatformError(ErrorKind.TOKEN_EXPIRED, f"拼多多 says the access token expired ({said}).", code=code)
        if code in BAD_CREDENTIAL_CODES:
            return PlatformError(ErrorKind.BAD_CREDENTIALS, creds, code=code)
        if code in RATE_LIMIT_CODES or "限流" in said or "频繁" in said:
            return PlatformError(ErrorKind.RATE_LIMITED, f"拼多多 says we call too often ({said}).", code=code)
        if code in BUSY_CODES or "繁忙" in said or "busy" in text:
            return PlatformError(ErrorKind.BUSY, f"拼多多 is busy ({said}).", code=code)
        if "timestamp" in text or "时间戳" in said:
            return PlatformError(ErrorKind.BAD_CREDENTIALS,
                                 f"拼多多 refused the request time ({said}): the hub's clock is more than 10 minutes "
                                 "off; set the server's time.", code=code)
        if "签名" in said or "sign" in text or "client_id" in text or "clientid" in text:
            return PlatformError(ErrorKind.BAD_CREDENTIALS, creds, code=code)
        return PlatformError(ErrorKind.REFUSED, f"拼多多 refused {method}: {said} (error {code}).", code=code)

    # -- tokens --------------------------------------------------------------------------------

    def fetch_token(self, current: Token | None) -> Token:
        """Refresh with the current (or the configured) refresh token, else redeem the configured code."""
        refresh = (current.refresh_token if current is not None else "") or self.config.extra.get("refresh_token", "")
        if refresh:
            method, params = "pdd.pop.auth.token.refresh", {"refresh_token": refresh}
        elif self.config.extra.get("code"):
            method, params = "pdd.pop.auth.token.create", {"code": self.config.extra["code"]}
        else:
            raise PlatformError(ErrorKind.BAD_CREDENTIALS,
                                "The 拼多多 connector has no authorisation: enter the shop's refresh token (or a "
                                "fresh authorisation code) from the 拼多多 console.", code="no_authorisation")
        try:
            data = self._call(method, params)
        except PlatformError as exc:
            if exc.kind in (ErrorKind.REFUSED, ErrorKind.TOKEN_EXPIRED):
                raise PlatformError(ErrorKind.BAD_CREDENTIALS,
                                    f"拼多多 would not renew the shop's authorisation ({exc.message}); authorise the "
                                    "app for the shop again in the 拼多多 console.", code=exc.code) from None
            raise
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多's token answer has no access_token.", code="bad_shape")
        owner = data.get("owner_id")
        if owner not in (None, "") and str(owner) != self.config.shop_id:
            raise PlatformError(ErrorKind.BAD_CREDENTIALS,
                                f"This authorisation belongs to 拼多多 shop {owner}, but the connector is for shop "
                                f"{self.config.shop_id}.", code="wrong_shop")
        now = datetime.now(UTC)
        return Token(access_token=access,
                     expires_at=self._when(data.get("expires_at"), data.get("expires_in"), now) or now,
                     refresh_token=str(data.get("refresh_token") or refresh),
                     refresh_expires_at=self._when(data.get("refresh_token_expires_at"),
                                                   data.get("refresh_token_expires_in"), now))

    @staticmethod
    def _when(at: Any, within: Any, now: datetime) -> datetime | None:
        if isinstance(at, int) and not isinstance(at, bool) and at > 0:
            return datetime.fromtimestamp(int(at), UTC)
        if isinstance(within, int) and not isinstance(within, bool) and within > 0:
            return now + timedelta(seconds=int(within))
        return None

    # -- orders --------------------------------------------------------------------------------

    def list_updated(self, token: Token, start: datetime, end: datetime, page: str | None) -> Page:
        """One page of ``pdd.order.number.list.increment.get``, read from the last page back.

        The first call (``page`` None) reads page 1 with ``use_has_next=false`` to learn
        ``total_count``; later calls read the last page down to page 1 again (page 1 is read twice: a
        change while we page can only move orders towards it). ``next_page`` is the page to read next.
        """
        start_s = math.floor(start.timestamp())
        end_s = min(math.ceil(end.timestamp()), start_s + int(self.MAX_WINDOW_S))
        number = 1 if page is None else self._page_number(page)
        params: dict[str, Any] = {
            "start_updated_at": start_s, "end_updated_at": end_s, "order_status": 5, "refund_status": 5,
            "is_lucky_flag": 0, "page": number, "page_size": self.PAGE_SIZE, "use_has_next": page is not None,
        }
        data = self._call("pdd.order.number.list.increment.get", params, token)
        raw_orders = data.get("order_sn_list")
        if not isinstance(raw_orders, list):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多's order list answer has no order_sn_list.",
                                code="bad_shape")
        orders = [self._order(raw) for raw in raw_orders]
        if page is None:
            total = data.get("total_count")
            if not isinstance(total, int) or isinstance(total, bool) or total < 0:
                raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多's order list answer has no total_count.",
                                    code="bad_shape")
            pages = math.ceil(total / self.PAGE_SIZE)
            return Page(orders, str(pages) if pages > 1 else None)
        return Page(orders, str(number - 1) if number > 1 else None)

    @staticmethod
    def _page_number(page: str) -> int:
        if not page.isdigit() or int(page) < 1:
            raise ValueError(f"not a 拼多多 page cursor: {page!r}")
        return int(page)

    def fetch_orders(self, token: Token, order_nos: list[str]) -> list[IntakeOrder]:
        """``pdd.order.information.get`` per order. One PDD does not know (its FAQ: "订单不属于当前店铺或订单不存在",
        also said for a just-pushed order the detail call does not have yet) is left out; any other refusal
        (no permission for the call, …) is raised, so no pushed order is dropped for the wrong reason."""
        found: list[IntakeOrder] = []
        for order_no in order_nos:
            try:
                data = self._call("pdd.order.information.get", {"order_sn": order_no}, token)
            except PlatformError as exc:
                if exc.kind is ErrorKind.REFUSED and any(w in exc.message for w in NOT_FOUND_WORDS):
                    log.info("拼多多 has no order %s for shop %s (%s)", order_no, self.config.shop_id, exc.code)
                    continue
                raise
            info = data.get("order_info")
            if not isinstance(info, dict):
                raise PlatformError(ErrorKind.BAD_RESPONSE, f"拼多多's answer for order {order_no} has no order_info.",
                                    code="bad_shape")
            found.append(self._order(info))
        return found

    def _order(self, raw: Any) -> IntakeOrder:
        """A PDD ``order_info`` as an IntakeOrder: masked recipient shown, ciphertext kept for the e-waybill."""
        if not isinstance(raw, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多 sent an order that is not an object.", code="bad_shape")
        info = dict(raw)
        cipher = {key: info[key] for key in ("receiver_name", "receiver_phone", "receiver_address", "address")
                  if isinstance(info.get(key), str) and info[key]}
        info["receiver_name"] = info.get("receiver_name_mask") or HIDDEN
        info["receiver_phone"] = info.get("receiver_phone_mask") or ""
        info["receiver_address"] = info.get("receiver_address_mask") or HIDDEN
        info.pop("address", None)
        try:
            order = order_parser.parse(info)
        except UserError as exc:
            raise PlatformError(ErrorKind.BAD_RESPONSE,
                                f"拼多多 order {str(raw.get('order_sn'))[:40]} cannot be read: {exc.message}",
                                code="bad_order") from None
        order.extra["shop_id"] = self.config.shop_id
        if cipher:
            order.extra["pdd_ciphertext"] = cipher
        return order

    # -- push ----------------------------------------------------------------------------------

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> list[PushMessage]:
        """A message-service frame (or a JSON array of them) as a relay forwards it, HMAC-signed."""
        secret = (self.config.extra.get("push_secret") or self.config.app_secret).encode()
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        try:
            verify_signature(secret, body, given)
        except BadSignature as exc:
            raise PushRejected(401, "bad_signature", exc.message) from None
        try:
            doc = bounded_loads(body)
        except (ValueError, NumberOutOfRange, RecursionError):
            raise PushRejected(400, "bad_push", "The 拼多多 push is not JSON.") from None
        frames = doc if isinstance(doc, list) else [doc]
        if not frames:
            raise PushRejected(400, "bad_push", "The 拼多多 push holds no message frame.")
        messages = []
        for index, frame in enumerate(frames):
            message = self._frame(index, frame)
            if message is not None:
                messages.append(message)
        return messages

    def _frame(self, index: int, frame: Any) -> PushMessage | None:
        def bad(what: str) -> PushRejected:
            return PushRejected(400, "bad_push", f"拼多多 message frame #{index + 1}: {what}.")

        if not isinstance(frame, dict):
            raise bad("is not a JSON object")
        command = frame.get("commandType")
        if command in ("HeartBeat", "Ack", "Fail"):
            return None  # channel upkeep, no order
        if command != "Common":
            raise bad(f"has an unknown commandType {str(command)[:30]!r}")
        msg = frame.get("message")
        if not isinstance(msg, dict):
            raise bad("has no message object")
        kind, mall, content = msg.get("type"), msg.get("mallID"), msg.get("content")
        if not isinstance(kind, str) or not isinstance(mall, int) or isinstance(mall, bool):
            raise bad("needs message.type (text) and message.mallID (a number)")
        try:
            body = json.loads(content) if isinstance(content, str) else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise bad("has a message.content that is not a JSON object in text")
        if "mall_id" in body and str(body["mall_id"]) != str(mall):
            raise bad("names two different shops (mallID and content.mall_id)")
        if kind not in MESSAGE_STATUS:
            return None  # goods, chat… messages: nothing for the order hub
        tid = body.get("tid")
        if not isinstance(tid, str) or not tid or len(tid) > 64:
            raise bad("has no order number (content.tid)")
        stamp = body.get("modified") or frame.get("sendTime") or frame.get("time")
        updated = (datetime.fromtimestamp(int(stamp) / 1000, UTC)
                   if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0 else None)
        order = None
        if isinstance(frame.get("order_info"), dict):  # a relay that fetched the detail attached it
            try:
                order = self._order(frame["order_info"])
            except PlatformError as exc:
                raise bad(exc.message) from None
            if order.channel_order_no != tid:
                raise bad("carries the detail of another order than content.tid")
        return PushMessage(shop_id=str(mall), channel_order_no=tid, msg_id=str(frame.get("id", ""))[:64],
                           status=MESSAGE_STATUS[kind], updated_at=updated, order=order)

    def push_ack(self) -> PushAck:
        """Our answer to the relay, which then sends PDD's own ``Ack`` frame over its WebSocket."""
        return PushAck(200, b'{"success":true}')

    # -- ship ----------------------------------------------------------------------------------

    def ship(self, token: Token, shipment: Shipment) -> None:
        """``pdd.logistics.online.send``; on a refusal, the order's detail says whether it is ours already."""
        if shipment.line_ids:
            raise PlatformError(ErrorKind.REFUSED, "拼多多 records a shipment for the whole order only "
                                "(pdd.logistics.online.send has no per-line form).", code="partial_shipment")
        logistics_id = self._logistics_id(token, shipment.carrier)
        if shipment.parcel and self._extra_parcel(token, shipment, logistics_id):
            return
        params = {"order_sn": shipment.channel_order_no, "logistics_id": logistics_id,
                  "tracking_number": shipment.waybill}
        try:
            data = self._call("pdd.logistics.online.send", params, token)
        except PlatformError as exc:
            if exc.kind is not ErrorKind.REFUSED:
                raise
            self._explain_refusal(token, shipment, exc)
            return
        result = data.get("is_success")
        if result is not True:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多 did not confirm the shipment (is_success is not true).",
                                code="not_confirmed")

    def _extra_parcel(self, token: Token, shipment: Shipment, logistics_id: int) -> bool:
        """A split part's parcel (docs/split-merge.md). 拼多多 has no per-line shipment: the first
        parcel ships the whole order (``pdd.logistics.online.send``, the caller); once the order shows
        shipped, each further parcel's waybill is added with ``pdd.order.upload.extra.logistics``
        (``extra_track_type`` 1 = 分包发货, ``extra_track_list`` [{shipping_id, tracking_number}]),
        which the buyer sees as an extra waybill. Returns whether this parcel was handled here."""
        data = self._call("pdd.order.information.get", {"order_sn": shipment.channel_order_no}, token)
        info = data.get("order_info")
        if not isinstance(info, dict) or not info.get("tracking_number") or info.get("order_status") not in (2, 3):
            return False  # not shipped on 拼多多 yet: this parcel ships the order
        if str(info.get("tracking_number")) == shipment.waybill:
            return True  # this parcel was the order's first, recorded before (a retry)
        extra = [{"shipping_id": logistics_id, "tracking_number": shipment.waybill}]
        answer = self._call("pdd.order.upload.extra.logistics", {
            "order_sn": shipment.channel_order_no, "extra_track_type": 1,
            "extra_track_list": json.dumps(extra, separators=(",", ":"))}, token)
        if answer.get("success") is not True:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多 did not confirm the extra waybill (success is not "
                                "true).", code="not_confirmed")
        return True

    def _explain_refusal(self, token: Token, shipment: Shipment, refusal: PlatformError) -> None:
        """Return quietly when the order already shows this waybill; else raise the refusal in plain words."""
        data = self._call("pdd.order.information.get", {"order_sn": shipment.channel_order_no}, token)
        info = data.get("order_info")
        if not isinstance(info, dict):
            raise refusal
        if str(info.get("tracking_number") or "") == shipment.waybill and info.get("order_status") in (2, 3):
            return  # recorded before (a retry after a lost answer): idempotent success
        if info.get("confirm_status") == 2 or info.get("refund_status") == 4:
            raise PlatformError(ErrorKind.REFUSED, f"拼多多 order {shipment.channel_order_no} was cancelled or refunded "
                                "on 拼多多: stop the parcel.", code=refusal.code)
        if info.get("refund_status") in (2, 3):
            raise PlatformError(ErrorKind.REFUSED, f"拼多多 order {shipment.channel_order_no} has a refund request "
                                "open on 拼多多: settle it before shipping.", code=refusal.code)
        if info.get("tracking_number"):
            raise PlatformError(ErrorKind.REFUSED, f"拼多多 order {shipment.channel_order_no} is already shipped with "
                                "another waybill.", code=refusal.code)
        raise refusal

    def _logistics_id(self, token: Token, carrier: str) -> int:
        if carrier not in CARRIER_CODES:
            raise PlatformError(ErrorKind.REFUSED, f"PackDesk has no 拼多多 logistics id for carrier {carrier}.",
                                code="unknown_carrier")
        if self._logistics_ids is None:
            data = self._call("pdd.logistics.companies.get", {}, token)
            companies = data.get("logistics_companies")
            if not isinstance(companies, list):
                raise PlatformError(ErrorKind.BAD_RESPONSE, "拼多多's carrier list has no logistics_companies.",
                                    code="bad_shape")
            ids: dict[str, int] = {}
            for company in companies:
                if not isinstance(company, dict) or company.get("available") != 1:
                    continue
                pid, code, name = company.get("id"), str(company.get("code") or ""), str(company.get("logistics_company"))
                if not isinstance(pid, int) or isinstance(pid, bool):
                    continue
                for ours, theirs in CARRIER_CODES.items():
                    if ours not in ids and (code in theirs or (ours in _CARRIER_NAMES and _CARRIER_NAMES[ours] in name)):
                        ids[ours] = int(pid)
            self._logistics_ids = ids
        if carrier not in self._logistics_ids:
            raise PlatformError(ErrorKind.REFUSED, f"拼多多's carrier list has no available carrier {carrier}.",
                                code="unknown_carrier")
        return self._logistics_ids[carrier]


PLATFORM = PinduoduoPlatform
