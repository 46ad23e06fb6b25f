"""抖店开放平台 (Douyin shop open platform) connector: the platform's own API, as its SDKs call it.

Every rule here is taken from the official doudian SDKs or the platform's docs; docs/channels.md
(section "Connector: 抖店") names the file each one came from. In short:

* **Call shape** — ``POST {base_url}/{method with "." → "/"}`` with the query parameters
  ``app_key``, ``method``, ``v=2``, ``timestamp`` (unix seconds), ``sign_method``, ``sign`` and
  (except for ``token.*``) ``access_token``; the body is ``param_json``: the business parameters as
  key-sorted compact JSON (official Go SDK ``core/doudian_op_api_client.go``, ``utils/sign_util.go``).
* **Sign** — over ``app_secret + "app_key" + app_key + "method" + method + "param_json" + param_json
  + "timestamp" + timestamp + "v" + "2" + app_secret``: MD5 hex (``sign_method=md5``, official Java
  SDK ``SignUtil.sign``) or HMAC-SHA256 keyed with the app secret (``sign_method=hmac-sha256``, the
  Go SDK's default). Lower-case hex.
* **Answer** — ``{"code": 10000, "msg": "success", "sub_code", "sub_msg", "log_id", "data"}``; other
  codes are the platform's base error codes (平台基础错误码, op.jinritemai.com/docs/guide-docs/212/1427),
  mapped to :class:`~hub.channels.base.ErrorKind` in :func:`classify`.
* **Buyer data** — 抖店 encrypts the recipient (``encrypt_post_receiver``, ``encrypt_post_tel``,
  ``post_addr.encrypt_detail``) and gives masked forms (``mask_post_*``). We keep the ciphertext in
  the order's ``extra`` (the platform's own e-waybill takes it as is) and show the masked form; we do
  not call ``order.batchDecrypt`` (quota-limited and, by the platform's data-security rules, only for
  a specific need). See docs/channels.md.

Settings in :attr:`ConnectorConfig.extra`: ``auth_code`` (a 工具型/tool app's authorisation code;
without it the connector is a 自用型/self-use app and asks ``token.create`` with
``grant_type=authorization_self`` and the shop id), ``sign_method`` (``hmac-sha256`` default, or
``md5``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder
from core.timeutil import utcnow
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
)
from hub.intake import douyin as intake_douyin

log = logging.getLogger("packdesk.hub.channels.douyin")

#: The API version every call carries (``v=2``), and the production gateway.
API_VERSION = "2"
DEFAULT_BASE_URL = "https://openapi-fxg.jinritemai.com"
SIGN_METHODS = ("hmac-sha256", "md5")

#: A refresh token lives 14 days (``token.create`` response docs, Go SDK ``core/create_token_request.go``).
REFRESH_TOKEN_TTL = timedelta(days=14)

#: PackDesk carrier code → 抖店 ``company_code`` (``order.logisticsCompanyList``'s ``code``). Codes
#: from the Go SDK (``api/logistics_getRecommendedAndDeliveryExpressByOrder``: yuantong, zhongtong,
#: yunda, shunfeng, jd, jtexpress, shentong); ``ems`` is not confirmed by a public source.
CARRIER_CODES: dict[str, str] = {
    "ZTO": "zhongtong",
    "YTO": "yuantong",
    "STO": "shentong",
    "YUNDA": "yunda",
    "SF": "shunfeng",
    "JD": "jd",
    "JTSD": "jtexpress",
    "JT": "jtexpress",
    "EMS": "ems",
}

#: Push tags (消息 tag 对照表) whose message is about one shop order, and the field holding the
#: moment it happened. Sources: Go SDK ``message/*.go`` (each cites its op.jinritemai.com/docs/message-docs page).
ORDER_TAGS: dict[str, str] = {
    "100": "create_time",  # 订单创建 doudian_trade_TradeCreate
    "101": "pay_time",  # 订单支付/确认
    "102": "update_time",  # 卖家发货
    "103": "complete_time",  # 交易完成
    "106": "cancel_time",  # 订单取消
    "109": "modify_time",  # 订单金额修改
    "110": "",  # 订单已支付待处理
    "206": "success_time",  # 退款成功 (before or after shipping: only the detail says which)
}
#: Tags whose status must come from the order detail (a refund is a cancel only before shipping).
DETAIL_ONLY_TAGS = frozenset({"206"})
URL_CHECK_TAG = "0"

_TOKEN_EXPIRED_SUBS = frozenset({"isv.access-token-expired", "isv.access-token-no-existed"})
_REFRESH_DEAD_SUBS = ("dop.token-generate-failed:token-expired", "dop.token-generate-failed:token-invalid",
                      "isv.business-failed:31009")


def param_json(params: Mapping[str, Any]) -> str:
    """The business parameters as the SDKs serialise them: keys sorted at every level, compact, no
    HTML escaping, non-ASCII as UTF-8 (Go ``utils.Marshal``: a map re-encoded with
    ``SetEscapeHTML(false)``; Go still escapes U+2028/U+2029, so we do too)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def sign(app_key: str, app_secret: str, method: str, timestamp: str, params_json: str,
         sign_method: str = "hmac-sha256") -> str:
    """The request ``sign`` (see the module docstring); ``ValueError`` for an unknown method."""
    pattern = (f"{app_secret}app_key{app_key}method{method}param_json{params_json}"
               f"timestamp{timestamp}v{API_VERSION}{app_secret}").encode()
    if sign_method == "md5":
        return hashlib.md5(pattern).hexdigest()
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode(), pattern, hashlib.sha256).hexdigest()
    raise ValueError(f"unknown 抖店 sign_method {sign_method!r} (use one of {', '.join(SIGN_METHODS)})")


def push_sign(app_key: str, app_secret: str, body: bytes, sign_method: str = "md5") -> str:
    """A message push's ``event-sign``: MD5 hex of app_key + raw body + app_secret (doc
    op.jinritemai.com/docs/guide-docs/153/99 as cited by SKIT ``VerifyEventSignature``; Go SDK
    ``message/doudian_sign.go``). ``hmac-sha256`` (keyed with the secret, same text) is accepted when
    the push says so in a ``sign-method`` header — seen in integrators' code, not in a public doc."""
    text = app_key.encode() + body + app_secret.encode()
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode(), text, hashlib.sha256).hexdigest()
    return hashlib.md5(text).hexdigest()


def classify(code: Any, sub_code: str, msg: str, sub_msg: str) -> PlatformError:
    """The platform's error answer as a :class:`PlatformError` in words an admin can act on.

    Codes: 平台基础错误码汇总 (op.jinritemai.com/docs/guide-docs/212/1427) as listed by integrators'
    code tables; ``isv.access-token-expired`` / ``-no-existed`` mean "refresh and retry" in the
    official Java SDK's ``DoudianOpRequest`` itself."""
    sub = sub_code or ""
    said = (sub_msg or msg or "").strip()[:200]
    text = f"{code}{'/' + sub if sub else ''}"
    try:
        n = int(code)
    except (TypeError, ValueError):
        return PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 answered with an unreadable code ({str(code)[:40]}).",
                             code="bad_code")
    if sub in _TOKEN_EXPIRED_SUBS:
        return PlatformError(ErrorKind.TOKEN_EXPIRED, f"抖店 says the access token is no longer valid ({said}).",
                             code=text)
    if n in (20000, 20001) or n == 90000:
        return PlatformError(ErrorKind.BUSY, f"抖店 is unavailable or busy right now ({said}).", code=text)
    if n == 60000:
        return PlatformError(ErrorKind.RATE_LIMITED, f"抖店 says we call too often ({said}).", code=text)
    if sub == "isv.timestamp-invalid" or sub == "isv.timestamp-format-error":
        return PlatformError(ErrorKind.BAD_CREDENTIALS,
                             f"抖店 refused the request time; check this server's clock ({said}).", code=text)
    if n in (30001, 30002, 80000) or (n in (40001, 40003) and sub.startswith(("isv.signature", "isv.app-id",
                                                                             "isv.access-token",
                                                                             "isv.authorization"))) \
            or sub.startswith("dop.token-generate-failed") or sub.startswith("isv.business-failed:31009"):
        hint = {
            30002: "add this server's IP address to the app's IP whitelist in the 抖店 console",
            30001: "check the shop's authorisation of the app and the app's API permissions",
        }.get(n, "check the AppKey, AppSecret and shop id, or authorise the app again")
        return PlatformError(ErrorKind.BAD_CREDENTIALS, f"抖店 refused our credentials: {said} — {hint}.",
                             code=text)
    if n in (40001, 40002, 40003, 40004, 50001, 50002, 10001, 70000):
        return PlatformError(ErrorKind.REFUSED, f"抖店 refused the request: {said}.", code=text)
    return PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 answered with an unknown error code ({said}).", code=text)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class DouyinPlatform:
    """The 抖店 open platform client for one shop (see the module docstring)."""

    NAME: ClassVar[str] = "douyin"
    #: Not limited by a public doc we found; 30 min keeps one window's pages few (see docs/channels.md).
    MAX_WINDOW_S: ClassVar[float] = 1800.0
    #: ``order.searchList`` ``size``: "单页大小，限制100以内" (Go SDK order_searchList_request.go).
    PAGE_SIZE: ClassVar[int] = 100

    def __init__(self, config: ConnectorConfig, session: requests.Session, *, timeout_s: float = 10.0) -> None:
        self.config = config
        self.session = session
        self.timeout_s = timeout_s
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.sign_method = config.extra.get("sign_method", "hmac-sha256") or "hmac-sha256"

    # -- the one way to call the API -------------------------------------------------------------

    def request(self, method: str, params: Mapping[str, Any], token: Token | None) -> Any:
        """Call ``method`` (``order.searchList`` …) and return its ``data``, or raise PlatformError."""
        if self.sign_method not in SIGN_METHODS:  # checked here, not in __init__: the engine sees a PlatformError
            raise PlatformError(ErrorKind.BAD_CREDENTIALS, f"The connector's sign_method '{self.sign_method[:20]}' "
                                                           "is not one 抖店 knows: use hmac-sha256 or md5.",
                                code="config")
        body = param_json(params)
        timestamp = str(int(time.time()))  # the platform's wall clock, not the hub's (tests may shift that)
        query = {
            "app_key": self.config.app_key,
            "method": method,
            "v": API_VERSION,
            "timestamp": timestamp,
            "sign_method": self.sign_method,
            "sign": sign(self.config.app_key, self.config.app_secret, method, timestamp, body, self.sign_method),
        }
        if token is not None:
            query["access_token"] = token.access_token
        url = f"{self.base_url}/{method.replace('.', '/')}"
        answer = call(self.session, "POST", url, timeout_s=self.timeout_s, params=query, data=body.encode(),
                      headers={"Content-Type": "application/json", "x-open-no-old-err-code": "1"})
        if not isinstance(answer, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 {method} answered JSON that is not an object.",
                                code="no_code")
        if "code" not in answer and "err_no" in answer:
            # The older answer form (SKIT samples: {"err_no": 0, "message": "success", "data"}); we ask
            # for the new codes with x-open-no-old-err-code, but a gateway may still answer this way.
            if str(answer.get("err_no")) == "0":
                return answer.get("data")
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 {method} failed with old-style error "
                                f"{str(answer.get('err_no'))[:20]}: {str(answer.get('message') or '')[:200]}",
                                code=f"err_no_{str(answer.get('err_no'))[:20]}")
        if "code" not in answer:
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 {method} answered JSON without a 'code'.",
                                code="no_code")
        code = answer.get("code")
        if str(code) != "10000":
            err = classify(code, str(answer.get("sub_code") or ""), str(answer.get("msg") or ""),
                           str(answer.get("sub_msg") or ""))
            log.info("抖店 %s failed: %s (log_id %s)", method, err.code, answer.get("log_id", ""))
            raise err
        return answer.get("data")

    # -- tokens ---------------------------------------------------------------------------------

    def fetch_token(self, current: Token | None) -> Token:
        """``token.refresh`` when we hold a live refresh token, else ``token.create`` (self-use:
        ``authorization_self`` + shop id; tool app: ``authorization_code`` + the admin's code)."""
        if current is not None and current.refresh_token and (
                current.refresh_expires_at is None or current.refresh_expires_at > utcnow()):
            try:
                data = self.request("token.refresh", {"grant_type": "refresh_token",
                                                      "refresh_token": current.refresh_token}, None)
                token = self._token(data)
                if token.access_token == current.access_token:
                    # More than 1 h before expiry 抖店 hands back the same pair "有效期不会变" (token.create
                    # answer docs in the Go SDK): never let a repeat stretch the lifetime we know.
                    return Token(access_token=token.access_token, refresh_token=token.refresh_token,
                                 expires_at=min(token.expires_at, current.expires_at),
                                 refresh_expires_at=current.refresh_expires_at)
                return token
            except PlatformError as exc:
                dead = exc.code.split("/", 1)[-1].startswith(_REFRESH_DEAD_SUBS)
                if not dead or self.config.extra.get("auth_code"):
                    raise
                # A self-use app can always create a fresh token from its shop id.
        code = self.config.extra.get("auth_code", "")
        if code:
            params: dict[str, Any] = {"code": code, "grant_type": "authorization_code"}
        else:
            params = {"code": "", "grant_type": "authorization_self", "shop_id": self.config.shop_id}
        return self._token(self.request("token.create", params, None))

    def _token(self, data: Any) -> Token:
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "抖店 token answer has no access_token.", code="no_token")
        shop = data.get("shop_id")
        if shop not in (None, "", 0) and str(shop) != str(self.config.shop_id):
            raise PlatformError(ErrorKind.BAD_CREDENTIALS,
                                f"抖店 issued a token for shop {shop}, but this connector is for shop "
                                f"{self.config.shop_id}: check the shop id.", code="shop_mismatch")
        expires = data.get("expires_in")
        if not isinstance(expires, int) or isinstance(expires, bool) or expires <= 0:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "抖店 token answer has no usable expires_in.",
                                code="no_expiry")
        now = utcnow()  # the hub's clock, the one the engine compares expires_at with
        # Documented as seconds of validity (7 days by default); one SDK comment calls it a unix
        # timestamp, so a value that can only be a timestamp is read as one.
        expires_at = _utc(expires) if expires > 1_000_000_000 else now + timedelta(seconds=expires)
        refresh = data.get("refresh_token") if isinstance(data.get("refresh_token"), str) else ""
        return Token(access_token=data["access_token"], expires_at=expires_at, refresh_token=refresh or "",
                     refresh_expires_at=now + REFRESH_TOKEN_TTL if refresh else None)

    # -- orders ---------------------------------------------------------------------------------

    def list_updated(self, token: Token, start: datetime, end: datetime, page: str | None) -> Page:
        """``order.searchList`` by update time, oldest first, ``PAGE_SIZE`` a page (pages from 0).

        The API takes whole seconds, both ends inclusive: start is floored and end ceiled, so the
        window never misses an order (the engine's dedupe absorbs the overlap).

        Pages are read from the last one back to the first. An order updated while we page leaves
        the window (its update time moves past the end) and every order after it moves one place
        up: read front to back, the order that slides onto a page already read would be skipped for
        good; read back to front, it slides onto a page still to read (read twice, deduped). So the
        first call reads page 0 only to learn ``total``, then the pages go last → 0."""
        probe = page is None
        n = 0 if probe else int(page or 0)
        params = {
            "update_time_start": math.floor(start.timestamp()),
            "update_time_end": math.ceil(end.timestamp()),
            "order_by": "update_time",
            "order_asc": True,
            "page": n,
            "size": self.PAGE_SIZE,
        }
        data = self.request("order.searchList", params, token)
        if not isinstance(data, dict) or not isinstance(data.get("shop_order_list", []), list):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "抖店 order.searchList answer has no shop_order_list.",
                                code="bad_list")
        items = data.get("shop_order_list") or []
        orders = [self.to_intake(item, "order.searchList") for item in items]
        if not probe:
            return Page(orders=orders, next_page=str(n - 1) if n > 0 else None)
        total = data.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise PlatformError(ErrorKind.BAD_RESPONSE, "抖店 order.searchList answer has no total.", code="bad_list")
        last = (total - 1) // self.PAGE_SIZE if total else 0
        return Page(orders=orders, next_page=str(last) if last > 0 else None)

    def fetch_orders(self, token: Token, order_nos: list[str]) -> list[IntakeOrder]:
        """``order.orderDetail`` one order at a time; an order the platform refuses to show (it does
        not know it) is left out."""
        found = []
        for no in order_nos:
            detail = self._detail(token, no)
            if detail is not None:
                found.append(self.to_intake(detail, "order.orderDetail"))
        return found

    def _detail(self, token: Token, order_no: str) -> dict[str, Any] | None:
        try:
            data = self.request("order.orderDetail", {"shop_order_id": order_no}, token)
        except PlatformError as exc:
            if exc.kind is ErrorKind.REFUSED:
                log.info("抖店 has no order %s to show (%s)", order_no, exc.code)
                return None
            raise
        detail = data.get("shop_order_detail") if isinstance(data, dict) else None
        if not isinstance(detail, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, "抖店 order.orderDetail answer has no shop_order_detail.",
                                code="bad_detail")
        return detail

    def to_intake(self, detail: Any, source: str) -> IntakeOrder:
        """A ``shop_order_detail`` (list item or detail) → IntakeOrder through hub/intake/douyin.py's
        parser, with the masked recipient shown and the ciphertext kept in ``extra``."""
        if not isinstance(detail, dict):
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 {source} returned an order that is not an object.",
                                code="bad_order")
        shown = dict(detail)
        addr: dict[str, Any] = detail["post_addr"] if isinstance(detail.get("post_addr"), dict) else {}
        mask_addr: dict[str, Any] = detail["mask_post_addr"] if isinstance(detail.get("mask_post_addr"), dict) else {}
        if not (addr.get("detail") or "") and mask_addr:
            shown["post_addr"] = {**mask_addr, **{k: v for k, v in addr.items() if k != "encrypt_detail" and v}}
            shown["post_addr"]["detail"] = mask_addr.get("detail") or ""
        if not detail.get("post_receiver") and detail.get("mask_post_receiver"):
            shown["post_receiver"] = detail["mask_post_receiver"]
        if not detail.get("post_tel") and detail.get("mask_post_tel"):
            shown["post_tel"] = detail["mask_post_tel"]
        try:
            order = intake_douyin.parse({"tag": source, "data": shown})
        except ValidationFailed as exc:
            raise PlatformError(ErrorKind.BAD_RESPONSE,
                                f"抖店 order {str(detail.get('order_id'))[:40]} from {source} cannot be read: "
                                f"{exc}", code="bad_order") from None
        if order is None:  # pragma: no cover - parse only returns None for the URL-check tag
            raise PlatformError(ErrorKind.BAD_RESPONSE, f"抖店 {source} returned an empty order.", code="bad_order")
        order.extra["shop_id"] = str(detail.get("shop_id") or self.config.shop_id)
        cipher = {k: detail[k] for k in ("encrypt_post_receiver", "encrypt_post_tel") if detail.get(k)}
        if addr.get("encrypt_detail"):
            cipher["encrypt_detail"] = addr["encrypt_detail"]
        if cipher:
            order.extra["encrypted"] = cipher
        return order

    # -- push -----------------------------------------------------------------------------------

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> list[PushMessage]:
        """Check ``event-sign`` (and ``app-id``), then take the ``[{tag, msg_id, data}]`` batch apart."""
        lower = {k.lower(): v for k, v in headers.items()}
        given = (lower.get("event-sign") or "").strip().lower()
        if not given:
            raise PushRejected(401, "bad_signature", "The 抖店 push has no event-sign header.")
        app_id = (lower.get("app-id") or "").strip()
        if app_id and app_id != self.config.app_key:
            raise PushRejected(401, "bad_signature", "The 抖店 push is for another app (app-id does not match).")
        method = (lower.get("sign-method") or "md5").strip().lower()
        if method not in SIGN_METHODS:
            raise PushRejected(401, "bad_signature", f"The 抖店 push names an unknown sign-method '{method[:20]}'.")
        want = push_sign(self.config.app_key, self.config.app_secret, body, method)
        if not hmac.compare_digest(given, want):
            raise PushRejected(401, "bad_signature", "The 抖店 push's event-sign does not match this connector's "
                                                     "AppKey/AppSecret.")
        try:
            doc = json.loads(body)
        except ValueError:
            raise PushRejected(400, "bad_push", "The 抖店 push body is not JSON.") from None
        if not isinstance(doc, list) or not doc:
            raise PushRejected(400, "bad_push", "The 抖店 push must be a non-empty JSON array [{tag, msg_id, data}].")
        out = []
        for i, item in enumerate(doc):
            msg = self._push_message(i, item)
            if msg is not None:
                out.append(msg)
        return out

    def _push_message(self, i: int, item: Any) -> PushMessage | None:
        where = f"message #{i + 1}"
        if not isinstance(item, dict) or "tag" not in item or "data" not in item:
            raise PushRejected(400, "bad_push", f"The 抖店 push's {where} is not {{tag, msg_id, data}}.")
        tag = str(item["tag"])
        if tag == URL_CHECK_TAG:
            return None
        data = item["data"]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise PushRejected(400, "bad_push", f"The 抖店 push's {where} has data that is not JSON.") from None
        if not isinstance(data, dict):
            raise PushRejected(400, "bad_push", f"The 抖店 push's {where} has data that is not an object.")
        if tag not in ORDER_TAGS:
            return None  # product, after-sale negotiation… messages: nothing for the order desk
        p_id, shop = data.get("p_id"), data.get("shop_id")
        if not _id_text(p_id) or not _id_text(shop):
            raise PushRejected(400, "bad_push", f"The 抖店 push's {where} (tag {tag}) has no p_id or shop_id.")
        status: ChannelStatus | None = None
        if tag not in DETAIL_ONLY_TAGS:
            code = data.get("order_status")
            status = intake_douyin.STATUS_MAP.get(code) if isinstance(code, int) else None
            if status is None:
                status = intake_douyin.TAG_STATUS.get(tag)
        when = data.get(ORDER_TAGS[tag]) if ORDER_TAGS[tag] else None
        updated = _utc(when) if isinstance(when, int) and not isinstance(when, bool) and when > 0 else None
        msg_id = item.get("msg_id") or item.get("msgId") or ""
        order = None
        if isinstance(data.get("shop_order_detail"), dict):  # a relay that attached the detail
            try:
                order = self.to_intake(data["shop_order_detail"], "push")
            except PlatformError as exc:
                raise PushRejected(400, "bad_push", f"The 抖店 push's {where}: {exc.message}") from None
            status = order.status
        return PushMessage(shop_id=_id_text(shop), channel_order_no=_id_text(p_id), msg_id=str(msg_id)[:128],
                           status=status, updated_at=updated, order=order)

    def push_ack(self) -> PushAck:
        """``{"code":0,"msg":"success"}`` (Go SDK ``message/doudian_message.go`` SuccessResponse)."""
        return PushAck(status=200, body=b'{"code":0,"msg":"success"}')

    # -- ship -----------------------------------------------------------------------------------

    def ship(self, token: Token, shipment: Shipment) -> None:
        """``order.logisticsAdd`` (order_id, company_code, logistics_code). On a refusal the order
        detail decides: our waybill already recorded → success; cancelled/refunded → REFUSED."""
        company = CARRIER_CODES.get(shipment.carrier.upper())
        if company is None:
            raise PlatformError(ErrorKind.REFUSED, f"抖店 has no carrier code we know for '{shipment.carrier}'.",
                                code="carrier")
        if shipment.line_ids:
            raise PlatformError(ErrorKind.REFUSED, "Partial shipments by platform line id are not sent to 抖店 "
                                                   "(a split part's parcel is: Shipment.parcel).", code="partial")
        if shipment.parcel:
            method, params = "order.logisticsAddMultiPack", self._parcel_params(token, shipment, company)
        else:
            method = "order.logisticsAdd"
            params = {"order_id": shipment.channel_order_no, "company_code": company,
                      "logistics_code": shipment.waybill}
        try:
            self.request(method, params, token)
        except PlatformError as exc:
            if exc.kind is not ErrorKind.REFUSED:
                raise
            detail = self._detail(token, shipment.channel_order_no)
            if detail is None:
                raise
            for info in detail.get("logistics_info") or []:
                if isinstance(info, dict) and str(info.get("tracking_no", "")) == shipment.waybill:
                    return  # already recorded with this waybill: the earlier attempt got through
            if detail.get("order_status") == 4 or detail.get("main_status") == 21:
                raise PlatformError(ErrorKind.REFUSED, "抖店 refused the shipment: the buyer cancelled or was "
                                                       "refunded on the platform.", code=exc.code) from None
            raise


    def _parcel_params(self, token: Token, shipment: Shipment, company: str) -> dict[str, Any]:
        """``order.logisticsAddMultiPack`` for a split part: one pack whose ``shipped_order_info`` names
        the sub-orders (``sku_order_list[].order_id``) and units (``shipped_num``) it carries.

        Our SKU of a sub-order is read as intake reads it (``code``, else ``out_sku_id``, else
        ``sku_id``; hub/intake/douyin.py); units of one SKU are taken from its sub-orders in the
        detail's order. ``request_id`` (required; the platform answers a repeat with the first
        result) is our order ID and waybill.

        Raises:
            PlatformError: REFUSED when the shop order is gone or lacks a SKU of the parcel.
        """
        detail = self._detail(token, shipment.channel_order_no)
        if detail is None:
            raise PlatformError(ErrorKind.REFUSED, f"抖店 does not know order {shipment.channel_order_no}.",
                                code="no_order")
        need = dict(shipment.parcel)
        info: list[dict[str, Any]] = []
        for raw in detail.get("sku_order_list") or []:
            if not isinstance(raw, dict):
                continue
            ours = next((_id_text(raw.get(k)) for k in ("code", "out_sku_id", "sku_id") if _id_text(raw.get(k))), "")
            num = raw.get("item_num")
            take = min(need.get(ours, 0), num if isinstance(num, int) and not isinstance(num, bool) else 0)
            if take > 0:
                info.append({"shipped_order_id": _id_text(raw.get("order_id")), "shipped_num": take})
                need[ours] -= take
        missing = {sku: q for sku, q in need.items() if q > 0}
        if missing:
            raise PlatformError(ErrorKind.REFUSED, f"抖店 order {shipment.channel_order_no} has no sub-order for "
                                                   f"{', '.join(f'{k} ×{v}' for k, v in missing.items())}.",
                                code="parcel_lines")
        return {"order_id": shipment.channel_order_no, "request_id": shipment.request_id[:64],
                "pack_list": [{"shipped_order_info": info, "logistics_code": shipment.waybill,
                               "company_code": company}]}


def _id_text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()[:64]
    return ""


PLATFORM = DouyinPlatform
