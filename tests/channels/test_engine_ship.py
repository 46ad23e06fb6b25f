"""Ship write-back through the persisted queue, against a fake shop over real HTTP (SQLite and
PostgreSQL): an order shipped at the bench is told to its shop once — retried after a failure, never
sent twice, not again after a restart; a refusal raises a visible hold with the platform's words;
an order from a generic push or an import has nothing to write back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.engine_kit import Feed, add_connector, admin, connector, make_shop, platforms_param
from tests.helpers.fake_shop import FakeShop
from tests.helpers.hubapi import Session, push
from tests.helpers.waiting import wait_until
from tests.hub.test_transitions_http import clean_orders
from tests.hubproc import HubProcess


@pytest.fixture
def shop(platform: str) -> Iterator[FakeShop]:
    s = make_shop(platform)
    yield s
    s.close()


def no() -> str:
    return str(uuid.uuid4().int % 10**15).rjust(15, "1")


def ship(s: Session, order: dict[str, Any]) -> dict[str, Any]:
    """Print the label and hand the parcel over at the bench (the admin may act on any bench)."""
    oid = order["order_id"]
    for hold in s.order(oid)["holds"]:  # routing's own holds (none expected on these addresses)
        raise AssertionError(f"unexpected hold {hold['type']} on {oid}")
    r = s.do(oid, "label_printed", {"printer": "pdf", "job_id": uuid.uuid4().hex},
             base_version=s.order(oid)["version"])
    assert r["outcome"] == "applied", r
    r = s.do(oid, "shipped_by_station", {"reason": "handed over"}, base_version=r["order"]["version"])
    assert r["outcome"] == "applied", r
    result: dict[str, Any] = r["order"]
    return result


def pulled(hub: HubProcess, shop: FakeShop, n: int, *,
           skus: list[tuple[str, int]] | None = None) -> tuple[Session, Feed, int, list[dict[str, Any]]]:
    """``n`` paid orders (of ``skus``, else the fake's default line) added to the shop, pulled and
    allocated at the hub: the admin session, the feed, the connector id and the orders."""
    s = admin(hub.url)
    cid = add_connector(s, shop, interval_s=3600, lookback_s=600)["id"]
    nos = [no() for _ in range(n)]
    for x in nos:
        shop.add_order(x, status="paid", skus=skus)
    feed = Feed(s)
    last_poke = [0.0]

    def arrived() -> bool:
        # The hourly connector is asked to pull now (resume), at most twice a second, until a pull
        # that began after the orders' update time (plus the engine's settle delay) has brought them.
        if time.monotonic() - last_poke[0] > 0.5:
            last_poke[0] = time.monotonic()
            assert s.post(f"/api/v1/connectors/{cid}/resume", {}).status_code == 200
        return all(feed.state(shop.platform, x) == "allocated" for x in nos)
    wait_until(arrived, what="orders allocated")
    return s, feed, cid, [feed.order(shop.platform, x) or {} for x in nos]


@platforms_param()
def test_write_back_is_retried_after_a_failure_and_never_sent_twice(hub: HubProcess, shop: FakeShop,
                                                                    platform: str) -> None:
    s, _feed, cid, (first, second) = pulled(hub, shop, 2)
    shop.fail_next("busy", times=2)
    shipped = ship(s, first)
    wait_until(lambda: len(shop.shipped) == 1, timeout=30, what="the shipment written back after the failures")
    rec = shop.shipped[0]
    assert rec.order_no == first["channel_order_no"] and rec.waybill == shipped["waybill_no"]
    wait_until(lambda: connector(s, cid)["health"]["ships_waiting"] == 0, what="the row marked sent")
    hub.kill()
    hub.start()
    s = admin(hub.url)
    ship(s, second)
    wait_until(lambda: len(shop.shipped) == 2, timeout=30, what="the second shipment after a restart")
    # Rows are sent in queue order: had the first been left pending, it would have gone again before this one.
    assert [r.order_no for r in shop.shipped] == [first["channel_order_no"], second["channel_order_no"]]
    wait_until(lambda: connector(s, cid)["health"]["ships_waiting"] == 0, what="the queue empty")


@platforms_param()
def test_a_refusal_raises_a_visible_hold_with_the_platforms_words(hub: HubProcess, shop: FakeShop,
                                                                  platform: str) -> None:
    s, _feed, _, (order,) = pulled(hub, shop, 1)
    shop.refuse_ship(order["channel_order_no"])
    ship(s, order)
    held = wait_until(lambda: [h for h in s.order(order["order_id"])["holds"] if h["type"] == "ship_writeback_failed"],
                      what="the hold raised")
    assert platform in held[0]["reason"] and held[0]["details"]["platform_says"]
    assert shop.shipped == []


@platforms_param()
def test_a_generic_push_order_has_nothing_to_write_back(hub: HubProcess, shop: FakeShop, platform: str) -> None:
    s, _feed, _, (order,) = pulled(hub, shop, 1)
    [body] = clean_orders(1, seed=7)
    r = push(hub.url, "generic", {"orders": [body]})
    assert r.status_code == 200, r.text
    generic = s.order(r.json()["orders"][0]["order_id"])
    ship(s, generic)
    ship(s, order)  # after the generic one: once this is sent, the generic one would have been too
    wait_until(lambda: len(shop.shipped) == 1, what="the connector order written back")
    assert [r.order_no for r in shop.shipped] == [order["channel_order_no"]]
