"""The benches the hub knows, for the desk's "move to bench" picker (``GET /api/v1/benches``).

A bench is known from two places: the routing rules (each warehouse's ``benches`` and
``vip_benches``) and the orders (an order's ``bench``: a bench the rules no longer list still has
orders on it). Each comes with its warehouse and how many orders wait at it (bench-workable states:
allocated, label printed) — what a desk needs to choose where to move an order. Counted in one
grouped read of ``ix_orders_backlog`` (state, bench, …, warehouse), not a pass over the orders.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.states import BENCH_STATES
from hub import db


def known_benches(conn: Connection, rules: Any) -> list[dict[str, Any]]:
    """Every bench, sorted by warehouse then name: ``{bench, warehouse, warehouse_name, vip, in_rules, open_orders}``.

    ``warehouse`` is the rules' (a bench is site-wide unique there); a bench known only from orders
    takes the warehouse most of its open orders are in. ``open_orders``: orders at the bench in a
    state the bench works on.
    """
    out: dict[str, dict[str, Any]] = {}
    for code, wh in rules.warehouses.items():
        for bench, vip in [*((b, False) for b in wh.benches), *((b, True) for b in wh.vip_benches)]:
            out[bench] = {"bench": bench, "warehouse": code, "warehouse_name": wh.name, "vip": vip,
                          "in_rules": True, "open_orders": 0}
    o = db.orders.c
    rows = conn.execute(select(o.bench, o.warehouse, func.count())
                        .where(o.state.in_([s.value for s in BENCH_STATES]), o.bench.is_not(None))
                        .group_by(o.bench, o.warehouse).order_by(func.count().desc())).all()
    for bench, warehouse, n in rows:
        entry = out.get(bench)
        if entry is None:
            wh = rules.warehouses.get(warehouse)
            entry = out[bench] = {"bench": bench, "warehouse": warehouse, "warehouse_name": wh.name if wh else None,
                                  "vip": False, "in_rules": False, "open_orders": 0}
        entry["open_orders"] += int(n)
    return sorted(out.values(), key=lambda e: (e["warehouse"] or "", e["bench"]))
