"""Allocation with stock reservation, and the short-stock query at 1,000,000 orders (issue 14).

1. **Allocations/s**, SQLite and PostgreSQL, in the same run: demo orders pushed unpaid (not
   timed), then paid in transactions of ``--batch`` (``confirm_payment``: routing, waybill, the
   reservation, the audit) — once with no stock rows (today's allocation: every SKU untracked) and
   once with every catalogue SKU counted at every warehouse (each line a conditional UPDATE and a
   ``stock_moves`` row). Target: reservation costs < 25 % of throughput.
2. **The short-stock query** (``GET /api/v1/metrics/short-stock``: ``hub.api.stock.short_stock``)
   on PostgreSQL over ``--big`` orders and ``--skus`` SKUs at two warehouses, bulk-loaded with Core
   inserts: 90 % shipped or closed, 8 % open promised holding their lines reserved, 2 % open and
   held (``--short`` of them by ``stock_short``, the rest by other holds). Median of 5 runs after
   one warm-up. Target < 200 ms.

    python bench/allocation.py [--orders 2000] [--batch 50] [--rounds 3] [--big 1000000] [--skus 10000]
        [--short 5000]

The last line: ``allocation: <reservation cost> % (target < 25 %); short-stock query <ms> ms (target < 200 ms)``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from core.demo import generate_orders
from core.model import ChannelStatus
from hub import db, stock
from hub.api.deps import Hub
from hub.api.stock import short_stock
from hub.config import HubSettings
from hub.orders import confirm_payment, intake, load_docs
from hub.writer import Actor, Writer
from tests.hubproc import fresh_pg_database, postgres_available

ACTOR = Actor.system("bench")


# -- 1. allocations/s ------------------------------------------------------------------------------

def allocation_rate(url: str, n: int, batch: int, *, counted: bool) -> tuple[float, float]:
    """Orders allocated per second on a fresh hub database at ``url``: (wall clock, CPU of this
    process). On SQLite the database works inside this process, so the CPU rate is the whole work
    and hardly moves with the machine's load; on PostgreSQL it leaves out the server's share."""
    hub = Hub(HubSettings(database_url=url))
    db.migrate(hub.engine)
    try:
        orders = generate_orders(n, seed=14)
        for o in orders:
            o.status = ChannelStatus.UNPAID
        ids: list[str] = []
        for i in range(0, n, 200):
            def push(c: Any, chunk: list[Any] = orders[i:i + 200]) -> list[str]:
                w = Writer(c, hub.settings, ACTOR)
                out = [r["order_id"] for r in intake(w, hub.rules, chunk)]
                w.flush()
                return out
            ids += hub.tx(push)
        if counted:
            now = datetime.now(UTC)
            with hub.engine.begin() as c:
                c.execute(insert(db.stock), [
                    {"sku": sku, "warehouse": wh, "on_hand": 10 * n, "reserved": 0, "updated_at": now}
                    for sku in hub.rules.catalogue for wh in hub.rules.warehouses])
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(ids), batch):
            def pay(c: Any, chunk: list[str] = ids[i:i + batch]) -> None:
                w = Writer(c, hub.settings, ACTOR)
                docs = load_docs(c, chunk, for_update=True)
                w.track(docs)
                for oid in chunk:
                    if docs[oid]["state"] == "pending_payment":
                        confirm_payment(w, hub.rules, docs[oid], "paid")
                w.flush()
            hub.tx(pay)
        rate = len(ids) / (time.perf_counter() - t0)
        cpu_rate = len(ids) / max(time.process_time() - c0, 1e-9)
        if counted:  # the reservation really ran
            with hub.engine.begin() as c:
                n_moves = c.execute(text("SELECT count(*) FROM stock_moves WHERE reason = 'reserve'")).scalar_one()
            assert n_moves > 0, "no reservation was made: the counted run measured nothing"
        return rate, cpu_rate
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def allocation_pair(name: str, make_url: Any, n: int, batch: int, rounds: int) -> float:
    """Untracked vs counted on the same kind of database, alternating ``rounds`` times (the machine
    is shared: the best of each kind is compared); returns the reservation's cost in %."""
    plain = counted = plain_cpu = counted_cpu = 0.0
    for _ in range(rounds):
        with make_url() as url:
            wall, cpu = allocation_rate(url, n, batch, counted=False)
            plain, plain_cpu = max(plain, wall), max(plain_cpu, cpu)
        with make_url() as url:
            wall, cpu = allocation_rate(url, n, batch, counted=True)
            counted, counted_cpu = max(counted, wall), max(counted_cpu, cpu)
    cost = 100 * (1 - counted / plain)
    print(f"{name:<11} allocation without stock {plain:7.0f} orders/s   with reservation {counted:7.0f} orders/s"
          f"   cost {cost:5.1f} %   ({n} orders, transactions of {batch}, best of {rounds})")
    if name.startswith("sqlite"):  # the whole work is in this process: a figure the machine's load hardly moves
        print(f"{name:<11} CPU of the process: without {plain_cpu:7.0f} orders/s   with {counted_cpu:7.0f} orders/s"
              f"   cost {100 * (1 - counted_cpu / plain_cpu):5.1f} %")
    return cost


class _SqliteUrl:
    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)

    def __enter__(self) -> str:
        return f"sqlite:///{Path(self.dir.name) / 'hub.db'}"

    def __exit__(self, *exc: object) -> None:
        self.dir.cleanup()


# -- 2. the short-stock query at 1,000,000 orders -------------------------------------------------

WAREHOUSES = ("WH-SH", "WH-GZ")
OPEN_STATES = ("allocated", "label_printed")
DONE_STATES = ("shipped", "delivered", "closed")


def _doc(oid: str, i: int, state: str, wh: str, lines: list[tuple[str, int]], holds: list[dict[str, Any]],
         at: datetime) -> dict[str, Any]:
    return {"order_id": oid, "channel": "generic", "channel_order_no": f"B{i}", "state": state, "version": 3,
            "warehouse": wh, "bench": "B1", "carrier": "SF", "lane": "A", "waybill_no": f"SF{i:012d}",
            "created_at": at.isoformat(), "paid_at": at.isoformat(), "ship_by": (at + timedelta(hours=24)).isoformat(),
            "recipient": {"name": "张三", "phone": "13800138000", "province": "上海市", "city": "上海市",
                          "district": "浦东新区", "address": f"世纪大道 {i % 999} 号", "postcode": ""},
            "lines": [{"sku": s, "name": "商品", "qty": q, "price_fen": 1000, "bin": "A-01", "is_gift": False}
                      for s, q in lines],
            "holds": holds, "flags": [], "total_fen": 1000 * sum(q for _s, q in lines)}


def load_big(url: str, n: int, n_skus: int, n_short: int) -> None:
    """Bulk-load ``n`` orders with Core inserts (not the API), their stock rows and reservations."""
    engine = db.make_engine(url)
    db.migrate(engine)
    rnd = random.Random(14)
    skus = [f"SKU-{k:05d}" for k in range(n_skus)]
    now = datetime.now(UTC)
    n_held = n // 50
    n_open = n * 8 // 100
    reserved: dict[tuple[str, str], int] = {}
    t0 = time.perf_counter()
    chunk = 5000
    with engine.begin() as c:
        for start in range(0, n, chunk):
            orders, moves = [], []
            for i in range(start, min(n, start + chunk)):
                oid = f"BL{i:010d}"
                wh = WAREHOUSES[i % 2]
                lines = [(rnd.choice(skus), rnd.randint(1, 3)) for _ in range(rnd.choice((1, 1, 2, 3)))]
                at = now - timedelta(minutes=n - i)
                holds: list[dict[str, Any]] = []
                if i % 50 == 0 and i // 50 < n_held:  # open and held
                    state = OPEN_STATES[i % 4 // 2]
                    if (i // 50) < n_short:
                        holds = [{"hold_id": f"h{i}", "type": "stock_short", "reason": stock.STOCK_SHORT_REASON,
                                  "raised_at": at.isoformat(), "raised_by": "system",
                                  "details": {"warehouse": wh, "short": [{"sku": lines[0][0], "name": "商品",
                                                                          "needed": lines[0][1], "available": 0,
                                                                          "is_gift": False}]}}]
                    else:
                        holds = [{"hold_id": f"h{i}", "type": "rural_no_phone", "reason": "x", "raised_at":
                                  at.isoformat(), "raised_by": "system", "details": {}}]
                elif i % 100 < 9 and i % 50 != 0:  # open promised, holding its lines
                    state = OPEN_STATES[i % 2]
                else:
                    state = DONE_STATES[i % 3]
                if state in OPEN_STATES and not (holds and holds[0]["type"] == "stock_short"):
                    merged: dict[str, int] = {}
                    for s, q in lines:
                        merged[s] = merged.get(s, 0) + q
                    for s, q in merged.items():
                        moves.append({"order_id": oid, "reason": "reserve", "sku": s, "warehouse": wh,
                                      "delta_on_hand": 0, "delta_reserved": q, "at": at, "by": "system"})
                        reserved[(s, wh)] = reserved.get((s, wh), 0) + q
                doc = _doc(oid, i, state, wh, lines, holds, at)
                orders.append({"order_id": oid, "channel": "generic", "channel_order_no": f"B{i}",
                               "channel_status": "paid", "channel_updated_at": at, "state": state, "version": 3,
                               "bench": "B1", "warehouse": wh, "waybill_no": doc["waybill_no"], "phone_tail": "8000",
                               "recipient_name": "张三", "held": bool(holds), "created_at": at, "updated_at": at,
                               "stock_wait": any(h["type"] == "stock_short" for h in holds),
                               "doc": doc})
            c.execute(insert(db.orders), orders)
            if moves:
                c.execute(insert(db.stock_moves), moves)
        rows = []
        for s in skus:
            for wh in WAREHOUSES:
                r = reserved.get((s, wh), 0)
                rows.append({"sku": s, "warehouse": wh, "on_hand": r + rnd.choice((0, 0, 1, 5, 50)), "reserved": r,
                             "updated_at": now})
        c.execute(insert(db.stock), rows)
    with engine.connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    print(f"postgresql: loaded {n} orders ({n_open} open promised, {n_held} held, {min(n_short, n_held)} by "
          f"stock_short), {n_skus} SKUs x {len(WAREHOUSES)} warehouses in {time.perf_counter() - t0:.0f} s")
    engine.dispose()


def query_ms(url: str) -> float:
    engine = db.make_engine(url)
    try:
        times = []
        for _ in range(6):
            with engine.connect() as c:
                t0 = time.perf_counter()
                got = short_stock(c, None, 5)
                times.append(1000 * (time.perf_counter() - t0))
        assert got["warehouses"] and got["warehouses"][0]["skus"], "the figure found nothing short"
        return statistics.median(times[1:])
    finally:
        engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000, help="orders allocated per run")
    ap.add_argument("--batch", type=int, default=50, help="orders per transaction")
    ap.add_argument("--big", type=int, default=1_000_000, help="orders for the short-stock query")
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--short", type=int, default=5000, help="orders held by stock_short among them")
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs of each kind (best kept)")
    ap.add_argument("--skip-allocation", action="store_true", help="only the short-stock query")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only (the suite's toy run)")
    ap.add_argument("--skip-query", action="store_true", help="only the allocations/s")
    args = ap.parse_args()
    costs = [] if args.skip_allocation else [allocation_pair("sqlite:", _SqliteUrl, args.orders, args.batch,
                                                              args.rounds)]
    reason = "--no-postgres" if args.no_postgres else postgres_available()
    ms = float("nan")
    if reason:
        print(f"postgresql: skipped ({reason})")
    else:
        if not args.skip_allocation:
            costs.append(allocation_pair("postgresql:", fresh_pg_database, args.orders, args.batch, args.rounds))
        if not args.skip_query:
            with fresh_pg_database() as url:
                load_big(url, args.big, args.skus, args.short)
                ms = query_ms(url)
            print(f"postgresql: short-stock query {ms:.0f} ms (median of 5, {args.big} orders)")
    print(f"allocation: {max(costs, default=float('nan')):.1f} % reservation cost, short-stock query {ms:.0f} ms "
          f"(target < 25 % and < 200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
