"""What the platform clients' own tests (``test_<platform>.py``) check the same way for each
platform, with the client on its fake shop over real HTTP:

* the ``shop`` and ``client`` fixtures (:func:`shop_and_client`), and that the engine finds the
  module by its platform name and the fake keeps the engine tests' :class:`FakeShop` surface;
* a wrong app secret is a credentials error that names the setting and not the secret;
* the failure matrix: each documented failure (:data:`FAILURES`) reaches the engine as the right
  :class:`ErrorKind`, puts no secret in its message, and loses nothing — the same page asked again
  (the engine's retry) brings the order;
* an expired token, then a refresh that brings a new one that works;
* the write-back: a failed ship call retried is recorded once; the platform's refusals (refused,
  cancelled there, a carrier it has no code for, an unknown order) are ``REFUSED``.

Each helper returns what it saw, so a platform's test adds what is its own (error codes, words,
retry hints) beside the shared assertions. Signing vectors, paging and push shapes stay in the
platform's file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import requests

from hub.channels import platform_class
from hub.channels.base import ConnectorConfig, ErrorKind, Platform, PlatformError, Shipment, Token
from tests.helpers.fake_shop import Failure, FakeShop

S = TypeVar("S", bound=FakeShop)

#: Every failure a fake shop plays (``FakeShop.fail_next``) but token expiry, and what the engine
#: must be told: wait and retry (busy, limited, timed out), or ask the admin (credentials).
FAILURES: list[tuple[Failure, ErrorKind]] = [
    ("rate_limited", ErrorKind.RATE_LIMITED),
    ("busy", ErrorKind.BUSY),
    ("http_500", ErrorKind.BUSY),
    ("garbage", ErrorKind.BAD_RESPONSE),
    ("slow", ErrorKind.BUSY),
    ("bad_credentials", ErrorKind.BAD_CREDENTIALS),
]

#: The pull window a test asks for, computed when it is needed (from the fake shop's clock).
Window = Callable[[], tuple[datetime, datetime]]


def shop_and_client(fake: Callable[[], S], platform: type[Platform],
                    config: Callable[[S], ConnectorConfig]) -> tuple[Any, Any]:
    """The ``shop`` fixture (a fresh fake shop, closed after the test) and the ``client`` fixture
    (``platform``'s client configured by ``config(shop)``, 1 s timeout) of a platform's test file,
    assigned at its module level: ``shop, client = shop_and_client(FakeWechatShop, WechatPlatform, _config)``."""

    @pytest.fixture(name="shop")
    def shop_fixture() -> Iterator[S]:
        made = fake()
        try:
            yield made
        finally:
            made.close()

    @pytest.fixture(name="client")
    def client_fixture(shop: S) -> Iterator[Platform]:
        with requests.Session() as session:
            yield platform(config(shop), session, timeout_s=1.0)

    return shop_fixture, client_fixture


def module_is_found(name: str, platform: type[Platform], shop: FakeShop) -> None:
    """The engine finds ``platform`` by ``name``; the fake (typed as the engine tests'
    :class:`FakeShop` here, so a type checker sees it keep that surface) is that platform's."""
    assert platform_class(name) is platform
    assert shop.platform == platform.NAME == name


def wrong_secret_is_named(client: Platform, secret: str, setting: str) -> None:
    """``client``, configured with the wrong app ``secret``, asks for a token: a credentials error
    that names the ``setting`` to fix and shows the secret nowhere."""
    with pytest.raises(PlatformError) as exc:
        client.fetch_token(None)
    assert exc.value.kind is ErrorKind.BAD_CREDENTIALS and setting in exc.value.message
    assert secret not in str(exc.value) and secret not in repr(exc.value)


def shipment(order_no: str, carrier: str = "ZTO", waybill: str = "ZT7300000001") -> Shipment:
    """A shipment of ``order_no`` as the engine hands it to a platform's ``ship``."""
    return Shipment(channel_order_no=order_no, carrier=carrier, waybill=waybill, shipped_at=datetime.now(UTC))


def failure_is_mapped_and_nothing_is_lost(shop: FakeShop, client: Platform, failure: Failure, kind: ErrorKind, *,
                                          order_no: str, method: str, window: Window) -> PlatformError:
    """One pull whose ``method`` call fails this way: the error the engine gets (returned)."""
    shop.add_order(order_no)
    token = client.fetch_token(None)
    start, end = window()
    shop.fail_next(failure, method=method)
    with pytest.raises(PlatformError) as exc:
        client.list_updated(token, start, end, None)
    assert exc.value.kind is kind
    assert shop.app_secret not in exc.value.message and token.access_token not in exc.value.message
    # the same page asked again (the engine's retry) brings the order
    assert [o.channel_order_no for o in client.list_updated(token, start, end, None).orders] == [order_no]
    return exc.value


def token_expiry_then_refresh(shop: FakeShop, client: Platform, *, order_no: str, method: str, window: Window,
                              expired: Callable[[Token], None] | None = None) -> PlatformError:
    """The platform says the token expired (on ``method``); ``expired(old token)`` may check the
    platform's own rules then; a refresh brings a new token that pulls the order. Returns the error."""
    shop.add_order(order_no)
    token = client.fetch_token(None)
    shop.fail_next("token_expired", method=method)
    start, end = window()
    with pytest.raises(PlatformError) as exc:
        client.list_updated(token, start, end, None)
    assert exc.value.kind is ErrorKind.TOKEN_EXPIRED
    if expired is not None:
        expired(token)
    fresh = client.fetch_token(token)
    assert fresh.access_token != token.access_token
    assert [o.channel_order_no for o in client.list_updated(fresh, start, end, None).orders] == [order_no]
    return exc.value


def ship_is_recorded_once(shop: FakeShop, client: Platform, *, order_no: str, failure: Failure, method: str,
                          carrier_code: str) -> None:
    """A ship call of ``order_no`` (already on the shop) that fails (``failure`` on ``method``), is
    retried, and is retried again after a lost answer: the platform records one shipment (``ZTO`` as
    its ``carrier_code``) from two calls."""
    token = client.fetch_token(None)
    shop.fail_next(failure, method=method)
    with pytest.raises(PlatformError) as down:
        client.ship(token, shipment(order_no))
    assert down.value.kind is ErrorKind.BUSY
    client.ship(token, shipment(order_no))
    client.ship(token, shipment(order_no))  # a retry after a lost answer: already recorded, no second call
    assert [(s.order_no, s.carrier_code, s.waybill) for s in shop.shipped] == [(order_no, carrier_code, "ZT7300000001")]
    assert shop.calls.count(method) == 2  # the failed one and the one that worked


def ship_refusals(shop: FakeShop, client: Platform, *, refused: str, cancelled: str,
                  unknown: str) -> dict[str, PlatformError]:
    """The platform refuses ``refused``; ``cancelled`` is cancelled there (and then shipped with a
    carrier the platform has no code for); ``unknown`` it never had. Nothing is recorded; the four
    errors, all ``REFUSED``, are returned by name for the platform's own words."""
    shop.add_order(refused)
    shop.add_order(cancelled)
    token = client.fetch_token(None)
    shop.refuse_ship(refused)
    errors: dict[str, PlatformError] = {}

    def refuses(name: str, ship: Shipment) -> None:
        with pytest.raises(PlatformError) as exc:
            client.ship(token, ship)
        assert exc.value.kind is ErrorKind.REFUSED, name
        errors[name] = exc.value

    refuses("refused", shipment(refused))
    shop.set_status(cancelled, "cancelled")
    refuses("cancelled", shipment(cancelled))
    refuses("carrier", shipment(cancelled, carrier="DHL"))
    refuses("unknown", shipment(unknown))
    assert "cancelled" in errors["cancelled"].message
    assert shop.shipped == []
    return errors
