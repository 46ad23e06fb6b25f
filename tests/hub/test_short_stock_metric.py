"""``GET /api/v1/metrics/short-stock`` and ``GET /api/v1/stock/levels`` (hub/api/stock.py,
docs/stock.md "Views") against a hand-computed fixture.

In process: the hub app over a real SQLite file, served by uvicorn on a thread (no lifespan: no
background workers) and spoken to over real HTTP; orders come in through
the real intake and allocation (which reserve or raise the short holds), stock through
``stock.set_on_hand``.

The fixture (on hand / reserved after the orders, by hand):

* WH-SH: TEA on hand 3; NUTS on hand 1.
  - A: TEA 2 → reserved (TEA 3/2, available 1).
  - B: TEA 2 → short (1 < 2): ``stock_short``, holds nothing.
  - C: TEA 1 + NUTS 2 → NUTS short: ``stock_short``, all or nothing, holds nothing.
  - D: NUTS 1 → reserved (NUTS 1/1, available 0).
  - E: TEA 5 → short, then cancelled by the buyer: closed, not counted.
  → TEA waits for B 2 + C 1 = 3, available 1: **short 2, 2 orders**;
    NUTS waits for C 2, available 0: **short 2, 1 order**. TEA first (more orders blocked).
* WH-GZ: TEA on hand 2.
  - G1: TEA 1 + gift GIFT-TEA-01 (static gift table says 0, not counted at GZ) → a ``gift_stock``
    hold, and TEA 1 *is* reserved (GZ 2/1, available 1).
  - G2: TEA 2 → short: ``stock_short``.
  → TEA waits for G1 1−1 held = 0 and G2 2: 2, available 1: **short 1, 1 order** (counting G1's held
    unit again would say short 2, 2 orders). The untracked gift is not listed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from hub import auth, db
from hub.api import stock as stock_api
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from tests.helpers.waiting import wait_until
from tests.hub.test_stock import NUTS, SH, TEA, act, doc, holds_of, level, order, push, set_stock
from tests.hubproc import free_port

GZ = "WH-GZ"


class Site:
    def __init__(self, hub: Hub, url: str) -> None:
        self.hub, self.url = hub, url
        self.session = requests.Session()
        self.tokens: dict[str, str] = {}

    def get(self, path: str, who: str | None, **params: Any) -> requests.Response:
        if who is not None and who not in self.tokens:
            pin = {"P001": "1111", "D001": "2222", "S001": "3333"}[who]
            r = self.session.post(self.url + "/api/v1/auth/login", timeout=10, json={
                "operator": who, "pin": pin, "station": f"ST-{who}", "bench": "B1" if who == "P001" else None,
                "device_id": f"dev-{who}"})
            assert r.status_code == 200, r.text
            self.tokens[who] = r.json()["token"]
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who is not None else {}
        return self.session.get(self.url + path, params=params, headers=headers, timeout=10)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = create_app(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", demo=True))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    site = Site(hub, f"http://127.0.0.1:{port}")
    try:
        yield site
    finally:
        site.session.close()
        server.should_exit = True
        thread.join(timeout=10)
        hub.engine.dispose()
        hub.reader.dispose()


def load_fixture(hub: Hub) -> dict[str, str]:
    set_stock(hub, TEA, 3)
    set_stock(hub, NUTS, 1)
    set_stock(hub, TEA, 2, GZ)
    ids: dict[str, str] = {}
    for name, lines, kw in [("A", [(TEA, 2)], {}), ("B", [(TEA, 2)], {}), ("C", [(TEA, 1), (NUTS, 2)], {}),
                            ("D", [(NUTS, 1)], {}), ("E", [(TEA, 5)], {}),
                            ("G1", [(TEA, 1)], {"province": "广东省", "gift": "GIFT-TEA-01"}),
                            ("G2", [(TEA, 2)], {"province": "广东省"})]:
        ids[name], = push(hub, order(lines, **kw))
    assert act(hub, ids["E"], "cancelled_by_buyer", {"reason": "buyer asked"})["outcome"] == "applied"
    # The fixture is what the docstring says (else the figures below test nothing).
    assert level(hub, TEA) == (3, 2) and level(hub, NUTS) == (1, 1) and level(hub, TEA, GZ) == (2, 1)
    for name in ("B", "C", "G2"):
        assert holds_of(doc(hub, ids[name]), "stock_short"), name
    assert holds_of(doc(hub, ids["G1"]), "gift_stock") and not holds_of(doc(hub, ids["G1"]), "stock_short")
    assert doc(hub, ids["E"])["state"] == "closed"
    return ids


@pytest.mark.parametrize("max_in", [500, 0], ids=["by_sku", "whole_warehouses"])
def test_short_stock_top_n_per_warehouse_by_hand(site: Site, max_in: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stock_api, "_MAX_IN", max_in)  # 0: the stock rows read per warehouse, as at thousands of SKUs
    load_fixture(site.hub)
    r = site.get("/api/v1/metrics/short-stock", "S001")
    assert r.status_code == 200, r.text
    assert r.json() == {"top": 5, "warehouses": [
        {"warehouse": GZ, "skus": [
            {"sku": TEA, "name": "商品", "short": 1, "waiting": 2, "available": 1, "on_hand": 2, "reserved": 1,
             "orders": 1}]},
        {"warehouse": SH, "skus": [
            {"sku": TEA, "name": "商品", "short": 2, "waiting": 3, "available": 1, "on_hand": 3, "reserved": 2,
             "orders": 2},
            {"sku": NUTS, "name": "商品", "short": 2, "waiting": 2, "available": 0, "on_hand": 1, "reserved": 1,
             "orders": 1}]}]}
    top1 = site.get("/api/v1/metrics/short-stock", "S001", warehouse=SH, top=1).json()
    assert top1 == {"top": 1, "warehouses": [{"warehouse": SH, "skus": [
        {"sku": TEA, "name": "商品", "short": 2, "waiting": 3, "available": 1, "on_hand": 3, "reserved": 2,
         "orders": 2}]}]}
    # Stock arrives for TEA at SH: 3 more cover B and C's TEA; NUTS is still short.
    set_stock(site.hub, TEA, 6)
    skus = site.get("/api/v1/metrics/short-stock", "S001", warehouse=SH).json()["warehouses"][0]["skus"]
    assert [(s["sku"], s["short"], s["orders"]) for s in skus] == [(NUTS, 2, 1)]
    assert site.get("/api/v1/metrics/short-stock", "S001", warehouse="WH-XX").json()["warehouses"] == []


def test_short_stock_and_levels_roles_and_bad_input(site: Site) -> None:
    load_fixture(site.hub)
    assert site.get("/api/v1/metrics/short-stock", None).status_code == 401
    assert site.get("/api/v1/metrics/short-stock", "D001").status_code == 403
    assert site.get("/api/v1/stock/levels", "P001").status_code == 403
    for bad in ({"top": 0}, {"top": 101}, {"top": "five"}, {"warehouse": "W" * 40}):
        assert site.get("/api/v1/metrics/short-stock", "S001", **bad).status_code in (400, 422), bad
    r = site.get("/api/v1/stock/levels", "D001")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["truncated"] is False
    got = {(row["sku"], row["warehouse"]): (row["on_hand"], row["reserved"], row["available"])
           for row in body["rows"]}
    assert got == {(TEA, SH): (3, 2, 1), (NUTS, SH): (1, 1, 0), (TEA, GZ): (2, 1, 1)}
    assert all(row["updated_at"].endswith("Z") or "+" in row["updated_at"] for row in body["rows"])
    assert [row["warehouse"] for row in site.get("/api/v1/stock/levels", "D001", warehouse=GZ).json()["rows"]] == [GZ]
