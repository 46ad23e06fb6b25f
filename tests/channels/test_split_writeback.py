"""A split part's shipment written back to its shop (docs/split-merge.md "Write-back"), against the
fake 抖店 and 拼多多 over real HTTP (each fake checks the platform's signature and parameters):

- 抖店: each part is one pack of ``order.logisticsAddMultiPack`` naming the sub-orders and units it
  carries; the shop order is 101 部分发货 until the last unit left, then 3 已发货; a repeat with the
  same ``request_id`` records nothing twice.
- 拼多多: no per-line shipment; the first part ships the order (``pdd.logistics.online.send``), each
  further part's waybill is added with ``pdd.order.upload.extra.logistics`` (type 1 分包发货).
- 微信小店: each part is one package of ``order/delivery/send`` naming its products and units
  (``product_infos``); the order is 21 部分发货 until every unit is in a package, then 30.
- 小红书: each part is a 拆包发货 (``unpack``, ``skuIdList``) of whole SKU lines; 5 部分发货, then 6.

For the last two, garbage and no answer from the platform are retried and nothing ships twice; and
end to end (a hub process, the connector's pull and write-back queue): an order split at the hub
ships both parts to the shop and completes it there, and a part the shop's order no longer has
raises a visible hold with the platform's words.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from core.model import ChannelStatus
from hub.channels.base import ErrorKind, Platform, PlatformError, Shipment, Token
from hub.channels.wechat import WechatPlatform
from hub.channels.xiaohongshu import XiaohongshuPlatform
from tests.channels.engine_kit import make_shop
from tests.channels.fake_douyin import FakeDouyinShop
from tests.channels.fake_pinduoduo import FakePinduoduo
from tests.channels.fake_wechat import FakeWechatShop
from tests.channels.fake_xiaohongshu import FakeXiaohongshuShop
from tests.channels.test_douyin import connector as douyin_connector
from tests.channels.test_douyin import shop
from tests.channels.test_engine_ship import pulled, ship
from tests.channels.test_pinduoduo import connector as pdd_connector
from tests.channels.test_pinduoduo import fake
from tests.channels.test_wechat import _config as wechat_config
from tests.channels.test_xiaohongshu import _config as xhs_config
from tests.helpers.fake_shop import FakeShop
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess

__all__ = ["fake", "shop"]  # fixtures, imported


def part(no: str, waybill: str, parcel: tuple[tuple[str, int], ...], order_id: str = "BL20261206-000001-1",
         carrier: str = "ZTO") -> Shipment:
    return Shipment(channel_order_no=no, carrier=carrier, waybill=waybill, shipped_at=datetime.now(UTC),
                    parcel=parcel, request_id=f"{order_id}:{waybill}")


def test_douyin_ships_each_part_as_a_pack_of_its_sub_orders(shop: FakeDouyinShop) -> None:
    no = "4988888888888888881"
    shop.add_order(no, skus=[("SKU-TEA-001", 2), ("SKU-SNK-001", 1)])
    dy = douyin_connector(shop)
    token = dy.fetch_token(None)
    dy.ship(token, part(no, "ZT7100000001", (("SKU-TEA-001", 1),)))
    assert shop.packs == [(no, "ZT7100000001", [(f"{no}01", 1)])]
    assert shop.orders[no]["order_status"] == 101  # 部分发货
    sent = json.loads(shop.requests[-1][2])
    assert sent == {"order_id": no, "request_id": "BL20261206-000001-1:ZT7100000001",
                    "pack_list": [{"company_code": "zhongtong", "logistics_code": "ZT7100000001",
                                   "shipped_order_info": [{"shipped_num": 1, "shipped_order_id": f"{no}01"}]}]}
    second = part(no, "ZT7100000002", (("SKU-TEA-001", 1), ("SKU-SNK-001", 1)), "BL20261206-000001-2")
    dy.ship(token, second)
    dy.ship(token, second)  # a retry after a lost answer: the platform answers the first result
    assert [p[1] for p in shop.packs] == ["ZT7100000001", "ZT7100000002"]
    assert shop.orders[no]["order_status"] == 3  # 已发货: every unit left
    assert [r.waybill for r in shop.shipped] == ["ZT7100000001", "ZT7100000002"]


def test_douyin_refuses_a_part_the_shop_order_does_not_have(shop: FakeDouyinShop) -> None:
    no = "4988888888888888882"
    shop.add_order(no, skus=[("SKU-TEA-001", 1)])
    dy = douyin_connector(shop)
    with pytest.raises(PlatformError) as err:
        dy.ship(dy.fetch_token(None), part(no, "ZT7100000003", (("SKU-NOPE", 1),)))
    assert err.value.kind is ErrorKind.REFUSED and err.value.code == "parcel_lines" and shop.packs == []
    shop.set_status(no, "cancelled")
    with pytest.raises(PlatformError) as err:
        dy.ship(dy.fetch_token(None), part(no, "ZT7100000004", (("SKU-TEA-001", 1),)))
    assert err.value.kind is ErrorKind.REFUSED and "cancelled" in err.value.message


def test_pinduoduo_ships_the_order_with_the_first_part_and_adds_the_others_as_extra_waybills(
        fake: FakePinduoduo) -> None:
    no = "261206-000000000000001"
    fake.add_order(no, skus=[("SKU-TEA-001", 2), ("SKU-SNK-001", 1)])
    pdd = pdd_connector(fake)
    token = pdd.fetch_token(None)
    first = part(no, "ZT7200000001", (("SKU-TEA-001", 2),))
    pdd.ship(token, first)
    pdd.ship(token, first)  # a retry: already the order's waybill, nothing sent again
    assert fake.calls.names.count("pdd.logistics.online.send") == 1
    later = part(no, "ZT7200000002", (("SKU-SNK-001", 1),), "BL20261206-000001-2")
    pdd.ship(token, later)
    pdd.ship(token, later)  # kept once
    order = fake._orders[no]
    assert order.tracking == "ZT7200000001"
    assert [(k, t) for k, _sid, t in order.extra_tracks] == [(1, "ZT7200000002")]
    assert [r.waybill for r in fake.shipped] == ["ZT7200000001", "ZT7200000002"]


# --- 微信小店 and 小红书 --------------------------------------------------------------------------

#: The client's timeout here, and how long the fake sits on a "slow" answer before it records it.
TIMEOUT_S, SLOW_S = 0.5, 1.5


@pytest.fixture
def wx() -> Iterator[FakeWechatShop]:
    made = FakeWechatShop(decode_sensitive=False)
    made.slow_s = SLOW_S
    yield made
    made.close()


@pytest.fixture
def xhs() -> Iterator[FakeXiaohongshuShop]:
    made = FakeXiaohongshuShop()
    made.slow_s = SLOW_S
    yield made
    made.close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def wx_client(wx: FakeWechatShop, session: requests.Session) -> WechatPlatform:
    return WechatPlatform(wechat_config(wx), session, timeout_s=TIMEOUT_S)


def xhs_client(xhs: FakeXiaohongshuShop, session: requests.Session) -> XiaohongshuPlatform:
    return XiaohongshuPlatform(xhs_config(xhs), session, timeout_s=TIMEOUT_S)


def refused(client: Platform, token: Token, shipment: Shipment) -> PlatformError:
    """``client.ship`` says no (REFUSED: the engine raises a visible hold with these words)."""
    with pytest.raises(PlatformError) as err:
        client.ship(token, shipment)
    assert err.value.kind is ErrorKind.REFUSED
    return err.value


def test_wechat_ships_each_part_as_a_package_of_its_products_and_units(wx: FakeWechatShop,
                                                                         session: requests.Session) -> None:
    no = "3710000000000000001"
    wx.add_order(no, skus=[("SKU-TEA-001", 2), ("SKU-SNK-001", 1)])
    client = wx_client(wx, session)
    token = client.fetch_token(None)
    client.ship(token, part(no, "ZT7400000001", (("SKU-TEA-001", 1),)))
    [package] = wx.orders[no].packages
    assert package["product_infos"] == [{"product_id": "100001", "sku_id": "20001", "product_cnt": 1}]
    assert wx._detail(wx.orders[no])["status"] == 21  # 部分发货
    [order] = client.fetch_orders(token, [no])
    assert order.status is ChannelStatus.PAID  # the other part is still ours to ship
    second = part(no, "ZT7400000002", (("SKU-TEA-001", 1), ("SKU-SNK-001", 1)), "BL20261206-000001-2")
    client.ship(token, second)
    client.ship(token, second)  # a retry after a lost answer: the detail shows our waybill
    assert wx.orders[no].packages[1]["product_infos"] == [{"product_id": "100001", "sku_id": "20001", "product_cnt": 1},
                                                          {"product_id": "100002", "sku_id": "20002", "product_cnt": 1}]
    assert wx._detail(wx.orders[no])["status"] == 30  # every unit is in a package
    assert wx.calls.count("order/delivery/send") == 2
    assert [r.waybill for r in wx.shipped] == ["ZT7400000001", "ZT7400000002"]


def test_wechat_refuses_a_part_the_shop_order_does_not_have(wx: FakeWechatShop, session: requests.Session) -> None:
    no = "3710000000000000002"
    wx.add_order(no, skus=[("SKU-TEA-001", 2)])
    client = wx_client(wx, session)
    token = client.fetch_token(None)
    err = refused(client, token, part(no, "ZT7400000003", (("SKU-NOPE", 1),)))
    assert err.code == "parcel_lines" and "SKU-NOPE ×1" in err.message
    client.ship(token, part(no, "ZT7400000004", (("SKU-TEA-001", 1),)))
    err = refused(client, token, part(no, "ZT7400000005", (("SKU-TEA-001", 2),), "BL20261206-000001-2"))
    assert "no unshipped product for SKU-TEA-001 ×1" in err.message  # one of the two is already in a package
    assert wx.calls.count("order/delivery/send") == 1


def test_wechat_garbage_or_no_answer_is_retried_and_nothing_ships_twice(wx: FakeWechatShop,
                                                                        session: requests.Session) -> None:
    no = "3710000000000000003"
    wx.add_order(no, skus=[("SKU-TEA-001", 1), ("SKU-SNK-001", 1)])
    client = wx_client(wx, session)
    token = client.fetch_token(None)
    first = part(no, "ZT7400000006", (("SKU-TEA-001", 1),))
    wx.fail_next("garbage", method="order/delivery/send")
    with pytest.raises(PlatformError) as err:
        client.ship(token, first)
    assert err.value.kind is ErrorKind.BAD_RESPONSE and wx.shipped == []  # the engine retries later
    client.ship(token, first)
    second = part(no, "ZT7400000007", (("SKU-SNK-001", 1),), "BL20261206-000001-2")
    wx.fail_next("slow", method="order/delivery/send")  # WeChat records it; its answer comes too late
    with pytest.raises(PlatformError) as err:
        client.ship(token, second)
    assert err.value.kind is ErrorKind.BUSY
    wait_until(lambda: len(wx.shipped) == 2, what="the slow package to land on the fake platform")
    client.ship(token, second)  # the retry finds our waybill in the order's packages
    assert wx.calls.count("order/delivery/send") == 3
    assert [r.waybill for r in wx.shipped] == ["ZT7400000006", "ZT7400000007"]
    assert wx.orders[no].status == "shipped"


def test_xiaohongshu_ships_each_part_as_an_unpacked_delivery_of_its_lines(xhs: FakeXiaohongshuShop,
                                                                          session: requests.Session) -> None:
    no = "P7400000001"
    xhs.add_order(no, skus=[("SKU-TEA-001", 2), ("SKU-SNK-001", 1)])
    client = xhs_client(xhs, session)
    token = client.fetch_token(None)
    client.ship(token, part(no, "ZT7500000001", (("SKU-TEA-001", 2),)))
    assert [(p["unpack"], p["skuIdList"]) for p in xhs.orders[no].packages] == [(True, ["640000000001"])]
    detail = xhs._detail({"orderId": no})["data"]
    assert detail["orderStatus"] == 5  # 部分发货
    assert [n["status"] for n in detail["simpleDeliveryOrderList"]] == [6, 4]
    [order] = client.fetch_orders(token, [no])
    assert order.status is ChannelStatus.PAID
    second = part(no, "ZT7500000002", (("SKU-SNK-001", 1),), "BL20261206-000001-2")
    client.ship(token, second)
    client.ship(token, second)  # a retry: the waybill is in simpleDeliveryOrderList
    assert [p["skuIdList"] for p in xhs.orders[no].packages] == [["640000000001"], ["640000000002"]]
    assert xhs._detail({"orderId": no})["data"]["orderStatus"] == 6  # 待收货: every line shipped
    assert xhs.calls.count("order.orderDeliver") == 2
    assert [r.waybill for r in xhs.shipped] == ["ZT7500000001", "ZT7500000002"]


def test_xiaohongshu_refuses_a_part_it_cannot_express(xhs: FakeXiaohongshuShop, session: requests.Session) -> None:
    no = "P7400000002"
    xhs.add_order(no, skus=[("SKU-TEA-001", 2), ("SKU-SNK-001", 1)])
    client = xhs_client(xhs, session)
    token = client.fetch_token(None)
    err = refused(client, token, part(no, "ZT7500000003", (("SKU-NOPE", 1),)))
    assert err.code == "parcel_lines" and "SKU-NOPE ×1" in err.message
    err = refused(client, token, part(no, "ZT7500000004", (("SKU-TEA-001", 1), ("SKU-SNK-001", 1))))
    assert err.code == "parcel_units" and "SKU-TEA-001 (1 of the 2 on one line)" in err.message
    assert xhs.calls.count("order.orderDeliver") == 0 and xhs.shipped == []


def test_xiaohongshu_garbage_or_no_answer_is_retried_and_nothing_ships_twice(xhs: FakeXiaohongshuShop,
                                                                             session: requests.Session) -> None:
    no = "P7400000003"
    xhs.add_order(no, skus=[("SKU-TEA-001", 1), ("SKU-SNK-001", 1)])
    client = xhs_client(xhs, session)
    token = client.fetch_token(None)
    first = part(no, "ZT7500000005", (("SKU-TEA-001", 1),))
    xhs.fail_next("garbage", method="order.orderDeliver")
    with pytest.raises(PlatformError) as err:
        client.ship(token, first)
    assert err.value.kind is ErrorKind.BAD_RESPONSE and xhs.shipped == []
    client.ship(token, first)
    second = part(no, "ZT7500000006", (("SKU-SNK-001", 1),), "BL20261206-000001-2")
    xhs.fail_next("slow", method="order.orderDeliver")
    with pytest.raises(PlatformError) as err:
        client.ship(token, second)
    assert err.value.kind is ErrorKind.BUSY
    wait_until(lambda: len(xhs.shipped) == 2, what="the slow delivery to land on the fake platform")
    client.ship(token, second)
    assert xhs.calls.count("order.orderDeliver") == 3
    assert [r.waybill for r in xhs.shipped] == ["ZT7500000005", "ZT7500000006"]
    assert xhs.orders[no].status == "shipped"



# --- end to end: split at the hub, written back by the engine ------------------------------------

@pytest.fixture
def split_shop(platform: str) -> Iterator[FakeShop]:
    made = make_shop(platform)
    yield made
    made.close()


@pytest.mark.parametrize("platform", ["wechat", "xiaohongshu"])
def test_split_parts_are_written_back_and_a_part_the_shop_lacks_is_held(hub: HubProcess, split_shop: FakeShop,
                                                                        platform: str) -> None:
    shop = split_shop
    skus = [("SKU-TEA-001", 1), ("SKU-SNK-001", 1)]
    s, _feed, _cid, (whole, lacking) = pulled(hub, shop, 2, skus=skus)
    parts = {}
    for order in (whole, lacking):
        oid = order["order_id"]
        r = s.do(oid, "order_split", {"reason": "茶先发 / tea first", "lines": {"SKU-TEA-001": 1}},
                 base_version=order["version"])
        assert r["outcome"] == "applied", r
        parts[oid] = (s.order(f"{oid}-1"), s.order(f"{oid}-2"))
    sent = shop.orders  # type: ignore[attr-defined]
    # the first order: both parts ship, each as its own partial shipment, and the shop's order completes
    first, rest = parts[whole["order_id"]]
    ship(s, first)
    wait_until(lambda: len(shop.shipped) == 1, what="part one written back")
    assert sent[whole["channel_order_no"]].status == "paid"  # 部分发货 on the platform: one part is still ours
    ship(s, rest)
    wait_until(lambda: len(shop.shipped) == 2, what="part two written back")
    assert [(r.order_no, r.waybill) for r in shop.shipped] == [
        (whole["channel_order_no"], s.order(first["order_id"])["waybill_no"]),
        (whole["channel_order_no"], s.order(rest["order_id"])["waybill_no"])]
    assert sent[whole["channel_order_no"]].status == "shipped"
    # the second order: the shop's order no longer has the snacks (changed on the platform after the pull)
    sent[lacking["channel_order_no"]].skus = [("SKU-TEA-001", 1)]
    _, snacks = parts[lacking["order_id"]]
    ship(s, snacks)
    held = wait_until(lambda: [h for h in s.order(snacks["order_id"])["holds"] if h["type"] == "ship_writeback_failed"],
                      what="the hold raised")
    assert platform in held[0]["reason"] and "SKU-SNK-001 ×1" in held[0]["details"]["platform_says"]
    assert len(shop.shipped) == 2
