"""What the platform e-waybill tests share: a real hub database (SQLite file, migrated once per
module), a shop connector in its connectors table, the engine's :class:`Tokens`, and per platform the
fake, the provider and the request the hub would send for one of the fake's orders."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.engine import Connection, Engine

from hub import db
from hub.carriers.base import Address, CarrierAccount, WaybillProvider, WaybillRequest
from hub.carriers.douyin_waybill import DouyinWaybillProvider
from hub.carriers.pdd_waybill import PddWaybillProvider
from hub.channels import platform_class, store
from hub.channels.engine import Tokens
from tests.carriers.fake_douyin_waybill import FakeDouyinWaybill
from tests.carriers.fake_pdd_waybill import FakePddWaybill

SENDER = Address(name="包装台", phone="13900001111", province="浙江省", city="杭州市", district="余杭区",
                 address="文一西路 969 号 3 号仓")
_shop_ids = itertools.count(4_400_001)


def hub_database(folder: Path) -> Iterator[Engine]:
    engine = db.make_engine(f"sqlite:///{folder / 'hub.sqlite'}")
    db.migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def tokens_for(engine: Engine) -> Tokens:
    def tx(fn: Callable[[Connection], Any]) -> Any:
        with engine.begin() as conn:
            return fn(conn)
    return Tokens(tx, tx)


@dataclass
class Kit:
    """One platform's fake shop with a connector, and a provider for a carrier account on it."""

    platform: str
    fake: Any  # FakeDouyinWaybill | FakePddWaybill
    connector_id: int
    tokens: Tokens
    provider: Any  # DouyinWaybillProvider | PddWaybillProvider
    account: CarrierAccount
    create: str  # the platform's method names
    cancel: str

    def add_order(self, no: str, **kwargs: Any) -> None:
        self.fake.add_order(no, **kwargs)

    def request(self, no: str, *, recipient: Address | None = None, carrier: str = "ZTO") -> WaybillRequest:
        """What the hub sends for this order: the recipient as the connector brought it in (masked)."""
        if recipient is None:
            cfg = self.tokens.read(lambda c: store.config(c, self.connector_id))
            plat = platform_class(self.platform)(cfg, requests.Session(), timeout_s=5.0)
            order = self.tokens.call(cfg, plat, lambda tok: plat.fetch_orders(tok, [no]))[0]
            r = order.recipient
            recipient = Address(r.name, r.phone, r.province, r.city, r.district, r.address)
        return WaybillRequest(order_id=f"BL20261206-{no[-6:]}", carrier=carrier, recipient=recipient,
                              goods_name="商品 SKU-A", quantity=2, weight_g=800, channel=self.platform,
                              channel_order_no=no)

    def refuse_area(self, district: str) -> None:
        if self.platform == "douyin":
            self.fake.refuse_area(district)
        else:
            self.fake.refused_areas.add(district)

    def sent_receivers(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.fake.receivers if self.platform == "douyin" else self.fake.recipients
        return out

    def ciphertext(self, no: str) -> tuple[str, str, str]:
        """The (name, mobile, detail) ciphertext the platform holds for this order."""
        if self.platform == "douyin":
            o = self.fake.orders[no]
            return o["encrypt_post_receiver"], o["encrypt_post_tel"], o["post_addr"]["encrypt_detail"]
        info = self.fake._order_info(self.fake._orders[no])
        return info["receiver_name"], info["receiver_phone"], info["receiver_address"]

    def tokens_issued(self) -> list[str]:
        """Every access and refresh token the fake platform handed out."""
        if self.platform == "douyin":
            return [*self.fake.tokens, *self.fake.refresh_tokens]
        return [*self.fake._access, *(t for t in self.fake._refresh_tokens if not t.startswith("rt-initial"))]

    def close(self) -> None:
        self.fake.close()


def make_kit(platform: str, engine: Engine, *, timeout_s: float = 2.0, **settings: str) -> Kit:
    shop_id = str(next(_shop_ids))
    tokens = tokens_for(engine)
    fake: Any
    if platform == "douyin":
        fake = FakeDouyinWaybill(shop_id=shop_id, slow_s=timeout_s + 0.5)
        methods = ("logistics.newCreateOrder", "logistics.cancelOrder")
    else:
        fake = FakePddWaybill(shop_id=shop_id, slow_s=timeout_s + 0.5)
        methods = ("pdd.waybill.get", "pdd.waybill.cancel")
    with engine.begin() as conn:
        cid = store.add(conn, platform=platform, shop_id=shop_id, app_key=fake.app_key, app_secret=fake.app_secret,
                        base_url=fake.url, extra=dict(fake.extra))
    account = CarrierAccount(account_id=cid, carrier="ZTO", provider=platform, base_url="", sender=SENDER,
                             settings={"connector_id": str(cid), **settings})
    cls = DouyinWaybillProvider if platform == "douyin" else PddWaybillProvider
    provider = cls(requests.Session(), timeout_s=timeout_s, tokens=tokens)
    _: WaybillProvider = provider  # the class keeps the contract
    return Kit(platform, fake, cid, tokens, provider, account, *methods)
