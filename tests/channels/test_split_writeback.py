"""A split part's shipment written back to its shop (docs/split-merge.md "Write-back"), against the
fake 抖店 and 拼多多 over real HTTP (each fake checks the platform's signature and parameters):

- 抖店: each part is one pack of ``order.logisticsAddMultiPack`` naming the sub-orders and units it
  carries; the shop order is 101 部分发货 until the last unit left, then 3 已发货; a repeat with the
  same ``request_id`` records nothing twice.
- 拼多多: no per-line shipment; the first part ships the order (``pdd.logistics.online.send``), each
  further part's waybill is added with ``pdd.order.upload.extra.logistics`` (type 1 分包发货).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hub.channels.base import ErrorKind, PlatformError, Shipment
from tests.channels.fake_douyin import FakeDouyinShop
from tests.channels.fake_pinduoduo import FakePinduoduo
from tests.channels.test_douyin import connector as douyin_connector
from tests.channels.test_douyin import shop
from tests.channels.test_pinduoduo import connector as pdd_connector
from tests.channels.test_pinduoduo import fake

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
