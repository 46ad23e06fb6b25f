"""``GET /api/v1/benches`` (hub/benches.py): the benches the rules and the orders know, each with its
warehouse and open orders, for the desk's "move to bench" picker; desk and above only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from sqlalchemy import update

from hub import db
from tests.helpers.hubapi import bearer
from tests.hub.ticket_helpers import new_order, serve


def test_benches_from_the_rules_and_the_orders_with_open_counts_for_desk_staff_only(tmp_path: Path) -> None:
    with serve(f"sqlite:///{tmp_path / 'hub.db'}") as (hub, url), requests.Session() as http:
        def token(who: str, pin: str, bench: str | None = None) -> dict[str, str]:
            return bearer(url, who, pin, bench)

        def benches(who: dict[str, str]) -> requests.Response:
            return http.get(url + "/api/v1/benches", headers=who, timeout=10)
        desk, packer = token("D001", "2222"), token("P001", "1111", "B1")
        ids = [new_order(hub) for _ in range(3)]
        # one order sits at a bench the rules no longer list; one is done (not counted)
        o = db.orders.c
        hub.tx(lambda c: c.execute(update(db.orders).where(o.order_id == ids[0]).values(bench="OLD-7")))
        hub.tx(lambda c: c.execute(update(db.orders).where(o.order_id == ids[2]).values(state="shipped")))
        r = benches(desk)
        assert r.status_code == 200, r.text
        got: dict[str, dict[str, Any]] = {b["bench"]: b for b in r.json()["benches"]}
        rules = {b for wh in hub.rules.warehouses.values() for b in (*wh.benches, *wh.vip_benches)}
        assert rules | {"OLD-7"} == set(got)
        assert got["VIP1"]["vip"] is True and got["VIP1"]["warehouse"] == "WH-SH"
        assert got["B1"]["warehouse_name"] == hub.rules.warehouses["WH-SH"].name and got["B1"]["in_rules"] is True
        old = got["OLD-7"]
        assert (old["in_rules"], old["open_orders"]) == (False, 1) and old["warehouse"] in hub.rules.warehouses
        assert sum(b["open_orders"] for b in got.values()) == 2  # the shipped one is not waiting at a bench
        assert [b["warehouse"] for b in r.json()["benches"]] == sorted(b["warehouse"] for b in r.json()["benches"])
        assert benches(packer).status_code == 403
        assert benches({}).status_code == 401
