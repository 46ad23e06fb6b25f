"""A platform's own message push into a real hub (SQLite and PostgreSQL): verified with the
platform's scheme, stored and acknowledged at once, applied by the engine — a thin message becomes a
detail fetch, a status-only message for an order the hub holds applies without one, a push while the
platform API is down waits in the inbox, a bad signature is a 4xx that stores nothing, and the same
order by pull and by push is one order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from core.model import ChannelStatus
from hub.channels import platform_class
from hub.channels.base import ConnectorConfig, verify_any_push
from tests.channels.engine_kit import Feed, add_connector, admin, connector, make_shop, platforms_param
from tests.helpers.fake_shop import FakeShop, split_push_query
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess


@pytest.fixture
def shop(platform: str) -> Iterator[FakeShop]:
    s = make_shop(platform)
    if hasattr(s, "push_path"):  # 小红书 signs over the path it posts to
        s.push_path = PUSH_PATH.format(platform)
    yield s
    s.close()


def no() -> str:
    return str(uuid.uuid4().int % 10**15).rjust(15, "1")


def push(hub: HubProcess, shop: FakeShop, headers: dict[str, str], body: bytes) -> requests.Response:
    """POST a push as the platform does: a platform that signs in the URL query gets it there."""
    query, real = split_push_query(headers)
    return requests.post(f"{hub.url}{PUSH_PATH.format(shop.platform)}", params=query, data=body, headers=real,
                         timeout=10)


PUSH_PATH = "/api/v1/channels/{}/push"


def off(value: str) -> str:
    """The value with its last character changed (a tampered signature)."""
    return value[:-1] + ("1" if value[-1:] != "1" else "2") if value else "x"


def message_status(shop: FakeShop, headers: dict[str, str], body: bytes) -> ChannelStatus | None:
    """What the platform's message says about the order's status, as its module reads it."""
    cfg = ConnectorConfig(id=0, platform=shop.platform, shop_id=shop.shop_id, app_key=shop.app_key,
                          app_secret=shop.app_secret, base_url=shop.url, extra=dict(shop.extra))
    query, real = split_push_query(headers)
    [m] = verify_any_push(platform_class(shop.platform)(cfg, requests.Session()), query, real, body,
                          path=PUSH_PATH.format(shop.platform))
    return m.status


def quiet_connector(hub: HubProcess, shop: FakeShop) -> tuple[Feed, int]:
    """A connector whose pulls stay out of the way (one at the start, then hourly): what arrives, came by push."""
    s = admin(hub.url)
    cid = add_connector(s, shop, interval_s=3600, lookback_s=0)["id"]
    wait_until(lambda: connector(s, cid)["health"]["state"] == "ok", what="the first pull done")
    return Feed(s), cid


@platforms_param()
def test_a_thin_push_is_acknowledged_at_once_and_fetched(hub: HubProcess, shop: FakeShop, platform: str) -> None:
    feed, _ = quiet_connector(hub, shop)
    x = no()
    shop.add_order(x, status="paid")
    headers, body = shop.push_request([x], thin=True)
    r = push(hub, shop, headers, body)
    assert r.status_code == 200, r.text
    wait_until(lambda: feed.state(platform, x) in ("paid", "allocated"), what="the pushed order fetched")
    # The platform delivers the same message again: stored once, still one order.
    assert push(hub, shop, headers, body).status_code == 200
    y = no()
    shop.add_order(y, status="paid")
    assert push(hub, shop, *shop.push_request([y], thin=True)).status_code == 200
    wait_until(lambda: feed.state(platform, y), what="a later push applied")
    assert len(feed.ids[(platform, x)]) == 1


@platforms_param()
def test_the_same_order_by_pull_and_by_push_is_one_order(hub: HubProcess, shop: FakeShop, platform: str) -> None:
    s = admin(hub.url)
    add_connector(s, shop, interval_s=1)
    feed = Feed(s)
    x = no()
    shop.add_order(x, status="paid")
    assert push(hub, shop, *shop.push_request([x], thin=True)).status_code == 200
    assert push(hub, shop, *shop.push_request([x], thin=False)).status_code == 200
    wait_until(lambda: feed.state(platform, x), what="the order in")
    shop.set_status(x, "cancelled")
    assert push(hub, shop, *shop.push_request([x], thin=True)).status_code == 200
    wait_until(lambda: feed.state(platform, x) == "closed", what="the cancel applied")
    before = feed.cursor
    # A pull round after all of it (the connector pulls every second) changes nothing more.
    cid = connector(s, 1)["id"]
    last = connector(s, cid)["health"]["last_pull_at"]
    wait_until(lambda: connector(s, cid)["health"]["last_pull_at"] != last, what="another pull round")
    feed.read()
    assert feed.ids[(platform, x)] == {feed.by_no[(platform, x)]["order_id"]}
    assert feed.cursor == before or feed.by_no[(platform, x)]["state"] == "closed"


@platforms_param()
def test_a_status_only_push_for_an_order_we_hold_applies_without_a_fetch(hub: HubProcess, shop: FakeShop,
                                                                       platform: str) -> None:
    feed, _ = quiet_connector(hub, shop)
    x = no()
    shop.add_order(x, status="paid")
    assert push(hub, shop, *shop.push_request([x], thin=False)).status_code == 200
    wait_until(lambda: feed.state(platform, x), what="the order in")
    calls = list(shop.calls.names)
    shop.set_status(x, "cancelled")
    headers, body = shop.push_request([x], thin=True)
    says = message_status(shop, headers, body)
    if says is not ChannelStatus.CANCELLED:
        pytest.skip(f"{platform}'s cancel message says {says}: the engine rightly fetches the detail")
    assert push(hub, shop, headers, body).status_code == 200
    wait_until(lambda: feed.state(platform, x) == "closed", what="the refund applied")
    assert shop.calls.names == calls  # no detail fetch, no token call: the message was enough


@platforms_param()
def test_a_push_while_the_platform_is_down_is_kept_and_fetched_later(hub: HubProcess, shop: FakeShop,
                                                                     platform: str) -> None:
    feed, cid = quiet_connector(hub, shop)
    x = no()
    shop.add_order(x, status="paid")
    shop.fail_next("http_500", times=3)
    assert push(hub, shop, *shop.push_request([x], thin=True)).status_code == 200
    wait_until(lambda: feed.state(platform, x), timeout=60, what="the pushed order fetched once the API is back")
    s = admin(hub.url)
    assert connector(s, cid)["health"]["push_backlog"] == 0


@platforms_param()
def test_a_push_with_a_bad_signature_is_a_4xx_and_stores_nothing(hub: HubProcess, shop: FakeShop,
                                                               platform: str) -> None:
    x = no()
    shop.add_order(x, status="paid")
    headers, body = shop.push_request([x], thin=False)
    assert push(hub, shop, headers, body).status_code == 404  # no connector for the platform yet
    feed, cid = quiet_connector(hub, shop)
    x = no()  # after the connector's first pull: only a push could bring it
    shop.add_order(x, status="paid")
    headers, body = shop.push_request([x], thin=False)
    query, real = split_push_query(headers)
    url = f"{hub.url}{PUSH_PATH.format(platform)}"
    # (Not a tampered body: 小红书's documented push sign covers the path and query, not the body.)
    # Every signature, timestamp and nonce the platform sent, one character off.
    r = requests.post(url, params={k: off(v) for k, v in query.items()}, data=body, timeout=10,
                      headers={k: v if k.lower() == "content-type" else off(v) for k, v in real.items()})
    assert 400 <= r.status_code < 500 and r.json()["error"], r.text
    # No signature at all.
    r = requests.post(url, data=body, headers={k: v for k, v in real.items() if k.lower() == "content-type"},
                      timeout=10)
    assert 400 <= r.status_code < 500 and r.json()["error"], r.text
    s = admin(hub.url)
    assert connector(s, cid)["health"]["push_backlog"] == 0
    assert feed.order(platform, x) is None
    assert requests.post(f"{hub.url}/api/v1/channels/nosuch/push", data=body, timeout=10).status_code == 404
