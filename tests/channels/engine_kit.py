"""What the engine's tests share: a fake shop of each platform whose module is merged in, an admin
session on a real hub, a connector added through the API, and the hub's orders read from its
change feed (the same feed the benches read).

A platform whose module or fake is not in this tree is skipped with the reason, so the engine
tests run against every platform the branch has and at least one.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.helpers.fake_shop import FakeShop
from tests.helpers.hubapi import Session

#: platform -> (fake module, fake class)
FAKES: dict[str, tuple[str, str]] = {
    "douyin": ("tests.channels.fake_douyin", "FakeDouyin"),
    "pinduoduo": ("tests.channels.fake_pinduoduo", "FakePinduoduo"),
    "wechat": ("tests.channels.fake_wechat", "FakeWechat"),
    "xiaohongshu": ("tests.channels.fake_xiaohongshu", "FakeXiaohongshu"),
}


def available() -> list[str]:
    """The platforms whose connector module and fake shop are both in this tree."""
    out = []
    for platform, (mod, cls) in FAKES.items():
        try:
            importlib.import_module(f"hub.channels.{platform}")
            if not hasattr(importlib.import_module(mod), cls):
                continue
        except ImportError:
            continue
        out.append(platform)
    return out


PLATFORMS = available()


def make_shop(platform: str, **kwargs: Any) -> FakeShop:
    mod, cls = FAKES[platform]
    shop: FakeShop = getattr(importlib.import_module(mod), cls)(**kwargs)
    return shop


def platforms_param() -> Any:
    """``@platforms_param()`` on a test taking ``platform``: once per merged-in platform."""
    if not PLATFORMS:
        return pytest.mark.skip(reason="no platform connector module is merged into this branch")
    return pytest.mark.parametrize("platform", PLATFORMS)


def admin(url: str) -> Session:
    return Session(url, operator="A001", pin="0000", station="ADMIN-PC", bench=None).login()


def add_connector(s: Session, shop: FakeShop, *, interval_s: float = 1.0, lookback_s: float = 3600.0,
                  app_secret: str | None = None, enabled: bool = True) -> dict[str, Any]:
    r = s.post("/api/v1/connectors", {
        "platform": shop.platform, "shop_id": shop.shop_id, "app_key": shop.app_key,
        "app_secret": app_secret if app_secret is not None else shop.app_secret, "base_url": shop.url,
        "interval_s": interval_s, "lookback_s": lookback_s, "extra": dict(shop.extra), "enabled": enabled})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def connector(s: Session, cid: int) -> dict[str, Any]:
    r = s.get("/api/v1/connectors")
    assert r.status_code == 200, r.text
    found: dict[str, Any] = next(c for c in r.json()["connectors"] if c["id"] == cid)
    return found


class Feed:
    """The hub's orders as the change feed shows them to an admin: channel order no -> latest snapshot,
    and every order id each number ever had (one order per number is the dedupe rule)."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.cursor = 0
        self.by_no: dict[tuple[str, str], dict[str, Any]] = {}
        self.ids: dict[tuple[str, str], set[str]] = {}

    def read(self) -> Feed:
        while True:
            r = self.s.get("/api/v1/changes", cursor=self.cursor, limit=1000)
            assert r.status_code == 200, r.text
            page = r.json()
            for ch in page["changes"]:
                o = ch["order"]
                key = (o["channel"], o["channel_order_no"])
                self.by_no[key] = o
                self.ids.setdefault(key, set()).add(o["order_id"])
            self.cursor = page["next_cursor"]
            if not page["more"]:
                return self

    def state(self, platform: str, no: str) -> str | None:
        o = self.read().by_no.get((platform, no))
        return None if o is None else str(o["state"])

    def order(self, platform: str, no: str) -> dict[str, Any] | None:
        return self.read().by_no.get((platform, no))

    def count(self, platform: str) -> int:
        return sum(1 for k in self.read().by_no if k[0] == platform)
