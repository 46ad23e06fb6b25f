"""The contract every fake shop platform in tests/channels/ keeps, so the engine's tests (pull,
push, write-back, kill mid-pull, clock skew, the catch-up bench) run unchanged against each platform.

Each platform's fake (``tests/channels/fake_<platform>.py``) is a real HTTP server on 127.0.0.1
(:class:`tests.helpers.fake_http.FakeHTTPServer`) that implements the requests the connector makes in
the platform's *documented* shape and checks their signatures exactly as documented. It is not our
code under test: keep it small and faithful. On top of that it offers this control surface:
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

ShopStatus = Literal["unpaid", "paid", "cancelled", "refunded", "shipped"]
Failure = Literal["token_expired", "rate_limited", "busy", "http_500", "garbage", "slow", "bad_credentials"]


@dataclass
class ShippedRecord:
    """One ship call the fake accepted (what the platform would show as 已发货)."""

    order_no: str
    carrier_code: str  # in the platform's own code list
    waybill: str


@dataclass
class ShopCalls:
    """What the connector asked, by the platform's method/path name, in order (for assertions such
    as "a status-only push fetched no detail")."""

    names: list[str] = field(default_factory=list)

    def count(self, name: str) -> int:
        return sum(1 for n in self.names if n == name)


class FakeShop(Protocol):
    platform: str  # "douyin" …
    url: str  # the base_url a connector is configured with
    shop_id: str
    app_key: str
    app_secret: str
    extra: Mapping[str, str]  # what the connector's ``extra`` needs (refresh token, push token…)
    clock_offset_s: float  # the shop's clock against ours (a shop 2 minutes fast: 120)
    shipped: list[ShippedRecord]
    calls: ShopCalls

    def add_order(self, order_no: str, *, status: ShopStatus = "paid", updated_at: datetime | None = None,
                  skus: list[tuple[str, int]] | None = None) -> None:
        """A new order on the shop (platform-shaped, with a real-looking recipient and address);
        ``updated_at`` defaults to the shop's now."""
        ...

    def set_status(self, order_no: str, status: ShopStatus, *, updated_at: datetime | None = None) -> None:
        """The order changes on the shop (paid, cancelled, refunded) and its update time moves on."""
        ...

    def fail_next(self, failure: Failure, *, times: int = 1, method: str | None = None) -> None:
        """The next ``times`` calls (of ``method`` only, if given) fail this way, in the platform's
        own error form (its error code for token expiry / rate limit / busy; a 500; a non-JSON body;
        an answer after the client's timeout)."""
        ...

    def refuse_ship(self, order_no: str) -> None:
        """The platform refuses to record a shipment for this order (the buyer cancelled there)."""
        ...

    def push_request(self, order_nos: list[str], *, thin: bool = True) -> tuple[dict[str, str], bytes]:
        """Headers and body of the platform's own message push about these orders, signed as the
        platform signs it (``thin``: ids and status only, as the platform really sends)."""
        ...

    def close(self) -> None: ...


# --- Optional addition (i12-wxhs): pushes signed in the URL query ---------------------------------
#: 微信小店 signs a push in the query string of the push URL, not in headers. Its fake returns that
#: query from :meth:`FakeShop.push_request` under this pseudo-header; a test posting the push takes it
#: out with :func:`split_push_query` and puts it into the URL, as WeChat does.
PUSH_QUERY_KEY = "X-Fake-Push-Query"


def split_push_query(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``(query parameters, real headers)`` of a fake push: the query is empty for header-signed
    platforms."""
    from urllib.parse import parse_qsl

    real = {k: v for k, v in headers.items() if k != PUSH_QUERY_KEY}
    return dict(parse_qsl(headers.get(PUSH_QUERY_KEY, ""), keep_blank_values=True)), real

#: 小红书 signs a push over the URL *path* too: its fake has a ``push_path`` attribute (default
#: ``/api/v1/channels/xiaohongshu/push``) that a test sets to the path it posts to before calling
#: ``push_request``; the hub passes ``path=`` to ``hub.channels.base.verify_any_push``.
