"""What the shop platforms' own e-waybill providers (抖店, 拼多多) share: the shop's connector.

A platform's e-waybill is a call of the same open platform the order came from, signed with the
same app and made with the same shop's access token. So a platform provider does not hold keys of
its own: its :class:`~hub.carriers.base.CarrierAccount` names the connector (``settings
["connector_id"]``, see ``python -m hub connector list``), and :class:`ShopSession` calls through
that connector's platform client (:mod:`hub.channels.douyin`, :mod:`hub.channels.pinduoduo`: their
signing, their error mapping) with the token the connector engine keeps (:class:`hub.channels.engine
.Tokens`: read from the connectors table, refreshed under the engine's per-connector lock, a
``TOKEN_EXPIRED`` answer refreshed once and retried).

The hub keeps no buyer ciphertext (the connectors show the masked recipient and keep the ciphertext
only in the intake's ``extra``): :meth:`ShopSession.platform_order` reads the order's detail again
at fetch time, which also gives the newest ciphertext after a buyer changed the address.

Secrets: errors leave as :class:`~hub.carriers.base.CarrierError` in the platform client's plain
words (never a token or a sign). 抖店 carries ``access_token`` and ``sign`` in the URL query as its
SDKs do; urllib3 logs that URL at DEBUG, so :class:`QueryRedactor` blanks both in its records.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import requests

from core.model import ChannelStatus, IntakeOrder
from hub.carriers.base import Address, CarrierAccount, CarrierError, ErrorKind, WaybillRequest
from hub.channels import platform_class, store
from hub.channels.base import ConnectorConfig, Platform, PlatformError, Token

if TYPE_CHECKING:  # the engine imports hub.orders: no import cycle when hub.orders imports carriers
    from hub.channels.engine import Tokens

log = logging.getLogger("packdesk.hub.carriers")

T = TypeVar("T")

#: Words a platform uses when the problem is the shop's e-waybill service, not this one address: no
#: waybills left (余额不足), the carrier not subscribed (未订购 / 未开通), the net site gone. Such a
#: refusal stops the account (``BAD_CREDENTIALS``: the admin must act) instead of holding one order.
ACCOUNT_WORDS = ("余额不足", "单号不足", "未订购", "未开通", "未授权", "未签约", "网点不存在", "网点已停用")
#: Words of a refusal that is a carrier or platform hiccup, worth retrying.
BUSY_WORDS = ("繁忙", "超时", "稍后重试", "稍后再试", "系统异常")
#: Words that mean "that waybill is cancelled already" — a cancel that counts as done.
ALREADY_CANCELLED_WORDS = ("已取消", "已回收", "已作废", "重复取消")


class QueryRedactor(logging.Filter):
    """Blanks ``access_token`` and ``sign`` query values in urllib3's request log lines."""

    _PATTERN = re.compile(r"((?:^|[?&])(?:access_token|sign)=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(self._PATTERN.sub(r"\1***", a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = self._PATTERN.sub(r"\1***", record.msg)
        return True


def install_redactor() -> None:
    """Put :class:`QueryRedactor` on urllib3's request logger (once per process)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, QueryRedactor) for f in logger.filters):
        logger.addFilter(QueryRedactor())


install_redactor()


def carrier_error(exc: PlatformError) -> CarrierError:
    """A connector's :class:`PlatformError` as the carriers' error, same kind, words and code."""
    if isinstance(exc, CarrierError):
        return exc
    return CarrierError(exc.kind, exc.message, code=exc.code, retry_after_s=exc.retry_after_s)


def refusal_kind(words: str, default: ErrorKind = ErrorKind.REFUSED) -> ErrorKind:
    """What a platform's "no" means for the queue: account-wide, transient, or about this order."""
    if any(w in words for w in ACCOUNT_WORDS):
        return ErrorKind.BAD_CREDENTIALS
    if any(w in words for w in BUSY_WORDS):
        return ErrorKind.BUSY
    return default


def already_cancelled(words: str) -> bool:
    return any(w in words for w in ALREADY_CANCELLED_WORDS)


def looks_masked(a: Address) -> bool:
    """A recipient as the platforms show it masked (``张*``, ``138****5678``) or hidden."""
    return any("*" in v or "已隐藏" in v for v in (a.name, a.phone, a.address))


def same_recipient(a: Address, order: IntakeOrder) -> bool:
    """The request's recipient is the platform's (masked) one, unchanged by the desk."""
    r = order.recipient
    return all(x.strip() == y.strip() for x, y in ((a.name, r.name), (a.phone, r.phone), (a.province, r.province),
                                                   (a.city, r.city), (a.district, r.district),
                                                   (a.address, r.address)))


_hub_tokens: Tokens | None = None


def use_tokens(tokens: Tokens | None) -> None:
    """Wire the platform providers to the hub's token keeper, once at hub start-up:
    ``use_tokens(hub.connectors.tokens)`` (the connector engine's, so the waybill worker and the
    connector refresh one shop's token under one lock). A provider given ``tokens`` itself ignores it."""
    global _hub_tokens
    _hub_tokens = tokens


class ShopSession:
    """Calls a shop platform's API through the shop's connector (see the module docstring).

    Args:
        account: the carrier account; ``settings["connector_id"]`` names the connector.
        platform: the connector's platform this provider speaks (``douyin`` / ``pinduoduo``).
        tokens: the hub's token keeper; ``None``: the one given to :func:`use_tokens`.
        session: an HTTP session (a new one when ``None``).
        timeout_s: per HTTP call.
    """

    def __init__(self, account: CarrierAccount, platform: str, tokens: Tokens | None, *,
                 session: requests.Session | None = None, timeout_s: float = 10.0) -> None:
        self.account = account
        self.platform = platform
        self._tokens = tokens
        self.session = session or requests.Session()
        self.timeout_s = timeout_s
        self._client: tuple[ConnectorConfig, Platform] | None = None

    @property
    def tokens(self) -> Tokens:
        tokens = self._tokens or _hub_tokens
        if tokens is None:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"The {self.platform} e-waybill is not connected to the hub's "
                               "shop connectors (hub start-up must call hub.carriers.platform_session.use_tokens).",
                               code="not_wired")
        return tokens

    def connector_id(self) -> int:
        raw = self.account.settings.get("connector_id", "")
        if not str(raw).strip().isdigit():
            raise CarrierError(ErrorKind.BAD_CREDENTIALS,
                               f"Carrier account {self.account.account_id} has no connector_id: give it the id of "
                               f"the shop's {self.platform} connector (python -m hub connector list).", code="config")
        return int(str(raw).strip())

    def client(self) -> tuple[ConnectorConfig, Platform]:
        """The connector's config (the account's ``base_url`` when set) and its platform client."""
        cid = self.connector_id()
        try:
            cfg = self.tokens.read(lambda c: store.config(c, cid))
        except store.ConnectorNotFound:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"Carrier account {self.account.account_id} names "
                               f"connector {cid}, which does not exist.", code="config") from None
        if cfg.platform != self.platform:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"Carrier account {self.account.account_id} names connector "
                               f"{cid}, a {cfg.platform} connector, not a {self.platform} one.", code="config")
        if self.account.base_url:
            cfg = replace(cfg, base_url=self.account.base_url)
        if self._client is None or self._client[0] != cfg:
            self._client = (cfg, platform_class(cfg.platform)(cfg, self.session, timeout_s=self.timeout_s))
        return self._client

    def call(self, fn: Callable[[Platform, Token], T]) -> T:
        """``fn(platform client, token)`` with the shop's token; errors as :class:`CarrierError`."""
        cfg, plat = self.client()
        try:
            return self.tokens.call(cfg, plat, lambda token: fn(plat, token))
        except PlatformError as exc:
            err = carrier_error(exc)
            kind = refusal_kind(err.message) if err.kind is ErrorKind.REFUSED else err.kind
            if kind is not err.kind:
                err = CarrierError(kind, err.message, code=err.code, retry_after_s=err.retry_after_s)
            raise err from None

    def platform_order(self, req: WaybillRequest, channel: str, label: str) -> IntakeOrder:
        """The order's detail on the platform now (ciphertext, status), or ``REFUSED`` in plain words."""
        if req.channel != channel or not req.channel_order_no:
            raise CarrierError(ErrorKind.REFUSED, f"Order {req.order_id} is not a {label} order: {label}'s own "
                               "e-waybill serves only that shop's orders; give this carrier another account "
                               "for other channels.", code="not_platform_order")
        found = self.call(lambda plat, token: plat.fetch_orders(token, [req.channel_order_no]))
        if not found:
            raise CarrierError(ErrorKind.REFUSED, f"{label} does not know order {req.channel_order_no} for this shop "
                               "(check the carrier account's connector).", code="order_not_found")
        order = found[0]
        if order.status is ChannelStatus.CANCELLED:
            raise CarrierError(ErrorKind.REFUSED, f"{label} order {req.channel_order_no} was cancelled or refunded on "
                               f"{label}: no waybill is taken for it.", code="order_closed")
        return order


class PlatformProvider:
    """What both platform providers share: how they are built and their per-account sessions.

    Built as the carrier registry builds every provider — ``cls(session, timeout_s=…)``, one instance
    per worker thread, the account passed to each call — with the hub's token keeper from
    :func:`use_tokens`, or ``cls(session, tokens=hub.connectors.tokens)`` to pass it directly.
    Not thread-safe (one ``requests.Session``): one instance per thread.
    """

    PLATFORM: ClassVar[str]  # the connector platform: "douyin" / "pinduoduo"

    def __init__(self, session: requests.Session | None = None, *, timeout_s: float = 10.0,
                 tokens: Tokens | None = None) -> None:
        self.session = session or requests.Session()
        self.timeout_s = timeout_s
        self.tokens = tokens
        self._shops: dict[int, ShopSession] = {}

    def shop(self, account: CarrierAccount) -> ShopSession:
        """The account's session with its shop (a new one when the account's settings changed)."""
        have = self._shops.get(account.account_id)
        if have is None or have.account != account:
            have = ShopSession(account, self.PLATFORM, self.tokens, session=self.session, timeout_s=self.timeout_s)
            self._shops[account.account_id] = have
        return have


def describe(value: Any, limit: int = 200) -> str:
    """A platform's message as plain text, cut to ``limit`` characters."""
    return str(value if value is not None else "").strip()[:limit]
