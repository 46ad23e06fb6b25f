"""What every shop platform's connector module provides, and what the shared engine relies on.

One module per platform (``hub/channels/douyin.py``, ``pinduoduo.py``, ``wechat.py``,
``xiaohongshu.py``) implements :class:`Platform` with that platform's *documented* API: its request
signing, access-token acquisition and refresh, its error codes, its order list by update time, its
order detail, its message push (with the platform's own signature scheme) and its shipment call.
The shared engine (``hub/channels/engine.py``) owns everything that is the same for all of them:
the connectors table, tokens, pull windows and cursors, the push inbox, the ship write-back queue,
retries with back-off, and health. A platform module never touches the database and never starts a
thread; the engine never knows a platform's field names.

Orders leave a platform module as :class:`core.model.IntakeOrder` (``channel`` = the platform's
``NAME``), so they go through the same ``hub.orders.intake`` path as every push and import, and
(channel, channel_order_no) stays the one dedupe rule. The parsers in ``hub/intake/<platform>.py``
already map each platform's order-detail object; a platform module reuses them.

Secrets: :class:`ConnectorConfig` and :class:`Token` hide their secrets from ``repr``; a platform
module never logs a request's query string, body or headers whole (they carry the secret-derived
sign and the access token) and never puts a secret into an exception message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import requests

from core.model import ChannelStatus, IntakeOrder


@dataclass(frozen=True)
class ConnectorConfig:
    """One shop's connector, as an admin entered it (``main.py hub connector add``).

    ``base_url`` is the platform's API root (e.g. ``https://openapi-fxg.jinritemai.com`` for 抖店,
    ``https://gw-api.pinduoduo.com/api/router`` for 拼多多); tests and sandboxes point it at a fake
    server. ``extra`` holds platform-specific settings the admin gives (e.g. a refresh token or an
    authorisation code obtained in the platform's console, a WeChat ``appid`` vs shop id, a push
    ``token``/``EncodingAESKey``): each platform module documents its keys.
    """

    id: int
    platform: str
    shop_id: str
    app_key: str
    app_secret: str = field(repr=False)
    base_url: str
    interval_s: float = 15.0
    enabled: bool = True
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (UTC). The engine stores it and refreshes it
    ``REFRESH_MARGIN_S`` before ``expires_at`` by calling :meth:`Platform.fetch_token`."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str = field(default="", repr=False)
    refresh_expires_at: datetime | None = None


#: A token is refreshed this long before it expires (clock skew, a slow pull in between).
REFRESH_MARGIN_S = 300.0


class ErrorKind(StrEnum):
    """What the engine does about a platform error — each platform maps its own codes to these."""

    TOKEN_EXPIRED = "token_expired"  # refresh the token, then retry at once (once)
    RATE_LIMITED = "rate_limited"  # back off (retry_after_s if the platform says), then retry
    BUSY = "busy"  # platform-side transient error / 5xx / timeout / network: back off, retry
    BAD_CREDENTIALS = "bad_credentials"  # wrong app key/secret, revoked authorisation: stop, tell the admin
    REFUSED = "refused"  # the platform understood and said no (e.g. ship on a cancelled order): no retry
    BAD_RESPONSE = "bad_response"  # an answer we cannot read (garbage, missing fields): back off, retry


class PlatformError(Exception):
    """A platform call that did not succeed.

    ``message`` is plain words an admin can act on (shown in connector health and holds), never
    containing a secret or token; ``code`` is the platform's own error code as text (``"30002"``,
    ``"10019"``) for the logs and docs.
    """

    def __init__(self, kind: ErrorKind, message: str, *, code: str = "", retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.retry_after_s = retry_after_s


class PushRejected(Exception):
    """A push the hub must refuse with a 4xx: bad or missing signature (``status`` 401), a shop no
    connector serves (404), a body that is not the platform's shape (400). ``message`` is plain
    words; ``code`` is our stable error code (``bad_signature``, ``unknown_shop``, ``bad_push``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Page:
    """One page of the order list by update time. ``orders`` are complete (address included, or the
    platform's ciphertext/masked form where it encrypts — see the module's docs); ``next_page`` is
    the opaque value to pass back for the next page of the same window, ``None`` after the last."""

    orders: list[IntakeOrder]
    next_page: str | None


@dataclass(frozen=True)
class PushMessage:
    """One order-related message out of a verified push.

    ``shop_id`` says which connector it belongs to. ``order`` is set when the push carried the whole
    order; otherwise the engine applies ``status`` directly when it already holds the order and the
    status alone is enough (cancel, refund), and fetches the detail through the connector when it
    does not. ``updated_at`` orders messages for the same order (older never overrides newer)."""

    shop_id: str
    channel_order_no: str
    msg_id: str = ""
    status: ChannelStatus | None = None
    updated_at: datetime | None = None
    order: IntakeOrder | None = None


@dataclass(frozen=True)
class PushAck:
    """The HTTP answer the platform expects to a push it may consider delivered."""

    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class Shipment:
    """What the engine asks a platform to record when an order left the warehouse.

    ``carrier`` is PackDesk's carrier code (``ZTO``, ``YTO``, ``SF``, ``YUNDA``, ``STO``, ``JD``,
    ``EMS`` …, from the routing rules); the platform module maps it to the platform's own carrier
    code list (抖店 ``company_code``, 拼多多 ``logistics_id``, 微信 ``delivery_id``…) and refuses
    with :class:`PlatformError` ``REFUSED`` a carrier it has no code for."""

    channel_order_no: str
    carrier: str
    waybill: str
    shipped_at: datetime
    line_ids: tuple[str, ...] = ()  # platform sub-order ids for a partial shipment; empty = whole order
    #: A split part's parcel (docs/split-merge.md): (our SKU, units) it carries; empty = the whole order.
    #: The platform module maps it to its own partial-shipment call, or says it has none.
    parcel: tuple[tuple[str, int], ...] = ()
    #: Our idempotency key for the shipment (order ID and waybill), for platforms that take one.
    request_id: str = ""


class Platform(Protocol):
    """A shop platform's API client. Created by the engine per connector; not thread-safe: the
    engine uses one instance from one thread at a time. Every HTTP call goes through ``session``
    with ``timeout`` and raises :class:`PlatformError` (never ``requests`` exceptions) on failure."""

    NAME: ClassVar[str]  # "douyin", "pinduoduo", "wechat", "xiaohongshu" — the IntakeOrder.channel
    #: The platform's longest allowed order-list window (e.g. 抖店 and 拼多多 accept at most 30 min
    #: per incremental query); the engine never asks for more in one window.
    MAX_WINDOW_S: ClassVar[float]
    #: Page size the module asks for (within the platform's maximum).
    PAGE_SIZE: ClassVar[int]

    def __init__(self, config: ConnectorConfig, session: requests.Session, *, timeout_s: float = 10.0) -> None: ...

    def fetch_token(self, current: Token | None) -> Token:
        """Acquire a token (``current`` None) or refresh ``current``, as the platform documents
        (抖店 ``token.create``/``token.refresh``; 拼多多 ``pop.oauth.token.create/refresh``; 微信
        ``/cgi-bin/stable_token``; 小红书 ``oauth.getAccessToken``/``refreshToken``)."""
        ...

    def list_updated(self, token: Token, start: datetime, end: datetime, page: str | None) -> Page:
        """Orders whose update time is in [start, end) (UTC, aware), one page at a time."""
        ...

    def fetch_orders(self, token: Token, order_nos: list[str]) -> list[IntakeOrder]:
        """The complete orders for these platform order numbers (the detail call, one or batched).
        An order number the platform does not know is left out, not an error."""
        ...

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> list[PushMessage]:
        """Check a push exactly as the platform documents its signature, and take it apart.

        Raises :class:`PushRejected` for a bad signature or a body that is not the platform's
        shape. Messages that carry no order (a URL check) are left out of the list."""
        ...

    def push_ack(self) -> PushAck:
        """What to answer once the push is safely stored (抖店 ``{"code":0,"msg":"success"}`` …)."""
        ...

    def ship(self, token: Token, shipment: Shipment) -> None:
        """Tell the platform the order shipped (抖店 ``order.logisticsAdd``; 拼多多
        ``pdd.logistics.online.send``; 微信 ``/channels/ec/order/delivery/send``; 小红书
        ``order.orderDeliver``). Already recorded with the same waybill counts as success
        (idempotent); the buyer cancelled / refunded on the platform is ``REFUSED``."""
        ...


def refuse_unmatched(platform: str, channel_order_no: str, need: Mapping[str, int], what: str) -> None:
    """A split part's units the shop's order has nothing unshipped left for: refused before any
    call (``REFUSED``, ``parcel_lines``), naming the SKUs and units, so the hold says what to fix."""
    missing = {sku: n for sku, n in need.items() if n > 0}
    if missing:
        raise PlatformError(ErrorKind.REFUSED, f"{platform} order {channel_order_no} has no unshipped {what} for "
                                               f"{', '.join(f'{k} ×{v}' for k, v in missing.items())}.",
                            code="parcel_lines")


def parse_error_body(resp: requests.Response) -> Any:
    """The JSON of an answer, or :class:`PlatformError` ``BAD_RESPONSE`` / ``BUSY`` in plain words.

    A 5xx or a 429 is transient whatever its body says; an answer that is not JSON is a
    ``BAD_RESPONSE`` (the platform or a proxy in between sent garbage)."""
    if resp.status_code == 429:
        after = resp.headers.get("Retry-After", "")
        raise PlatformError(ErrorKind.RATE_LIMITED, "The platform says we are calling too often.",
                            code="http_429", retry_after_s=float(after) if after.isdigit() else None)
    if resp.status_code >= 500:
        raise PlatformError(ErrorKind.BUSY, f"The platform answered HTTP {resp.status_code} (its side is down or busy).",
                            code=f"http_{resp.status_code}")
    try:
        return resp.json()
    except ValueError:
        raise PlatformError(ErrorKind.BAD_RESPONSE,
                            f"The platform answered HTTP {resp.status_code} with something that is not JSON.",
                            code="not_json") from None


def call(session: requests.Session, method: str, url: str, *, timeout_s: float, **kwargs: Any) -> Any:
    """One HTTP call: the answer's JSON, or :class:`PlatformError` (network errors are ``BUSY``).
    The URL is never put into the message: a query string may carry the sign or the token."""
    try:
        resp = session.request(method, url, timeout=timeout_s, **kwargs)
    except requests.Timeout:
        raise PlatformError(ErrorKind.BUSY, "The platform did not answer in time.", code="timeout") from None
    except requests.RequestException as exc:
        raise PlatformError(ErrorKind.BUSY, f"Cannot reach the platform ({type(exc).__name__}).",
                            code="network") from None
    return parse_error_body(resp)


# --- Optional addition (i12-wxhs): platforms that sign pushes in the URL query --------------------
# 微信小店 signs its pushes in the query string (``signature``, ``timestamp``, ``nonce``,
# ``msg_signature``), not in headers, and checks the push URL with a GET (echo ``echostr``) before it
# sends anything. ``verify_push(headers, body)`` cannot see the query, so such a platform also offers
# the two methods below; the engine calls :func:`verify_any_push` and :func:`url_check`, which fall
# back to ``verify_push`` / "no URL check" for every other platform. Nothing above changed.


class UrlSignedPush(Protocol):
    """Optional methods of a :class:`Platform` whose push signature lives in the URL query."""

    def verify_url_check(self, query: Mapping[str, str]) -> bytes | None:
        """The body to answer a GET URL check with (the platform's echo), ``None`` when the query
        is not a URL check; :class:`PushRejected` (401) when its signature is wrong."""
        ...

    def verify_signed_push(self, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> list[PushMessage]:
        """:meth:`Platform.verify_push` with the request's query parameters."""
        ...


class PathSignedPush(Protocol):
    """Optional: a platform whose push signature also covers the URL path (小红书)."""

    def verify_push_at(self, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                       body: bytes) -> list[PushMessage]:
        """:meth:`Platform.verify_push` with the request's path (as the platform posted to it, e.g.
        ``/api/v1/channels/xiaohongshu/push``) and query parameters."""
        ...


def verify_any_push(platform: Platform, query: Mapping[str, str], headers: Mapping[str, str],
                    body: bytes, *, path: str = "") -> list[PushMessage]:
    """Verify a POSTed push with whatever the platform signs: query-signed platforms get the query,
    path-signed ones the path too (pass the request's URL path)."""
    at = getattr(platform, "verify_push_at", None)
    if at is not None:
        found: list[PushMessage] = at(path, query, headers, body)
        return found
    signed = getattr(platform, "verify_signed_push", None)
    if signed is not None:
        messages: list[PushMessage] = signed(query, headers, body)
        return messages
    return platform.verify_push(headers, body)


def url_check(platform: Platform, query: Mapping[str, str]) -> bytes | None:
    """The answer to a GET on the push URL (WeChat's server check), or ``None`` if the platform has
    none: the engine then answers 405/404 as for any unknown GET."""
    check = getattr(platform, "verify_url_check", None)
    if check is None:
        return None
    answer: bytes | None = check(query)
    return answer
