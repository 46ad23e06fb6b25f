"""The supervisor's figures at 1,000,000 orders on PostgreSQL (issue 16; DESIGN.md: every dashboard
figure p95 < 200 ms).

Loads a month of orders straight into a fresh database with Core inserts (the figures read columns;
how the orders got there does not matter): 29 ordinary days and a peak day of 86,000 orders today,
3 warehouses, 4 shops, 20 benches, 40 packers, about 4 % of orders with a hold (half with a reason a
person typed). Then each figure of ``hub/metrics.py`` is timed ``--runs`` times for three slices —
today, today from 10:00 at one warehouse, the last 7 days of one shop — and the whole
``/api/v1/metrics/dashboard`` over HTTP (the app's 30 s refresh) once per run.

    python bench/metrics.py [--orders 1000000] [--runs 20] [--sqlite]

Last line: ``metrics_p95_worst_1m: … ms (target < 200 ms)``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
import uvicorn
from sqlalchemy import insert, text

from core.timeutil import local_day, utcnow
from hub import auth, db, metrics
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from tests.hubproc import free_port, fresh_pg_database, postgres_available

TZ = "Asia/Shanghai"
TARGET_MS = 200.0
PEAK = 86_000
WAREHOUSES = ("WH-SH", "WH-GZ", "WH-CD")
CHANNELS = ("douyin", "pinduoduo", "wechat", "xiaohongshu")
BENCHES = tuple(f"B{i}" for i in range(1, 21))
REASONS = ("客户要求改地址，等待确认", "赠品缺货，客户同意不要赠品", "地址偏远快递不到", "商品破损需要换货",
           "顾客说少发了一件", "电话打不通，联系不上收件人", "包裹重量和商品不符，重新核对")


def generate(n: int, now: datetime, seed: int = 7) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of (orders, audit rows): ``PEAK`` orders today so far, the rest over the 29 days before."""
    rnd = random.Random(seed)
    today = local_day(now, TZ)
    start_today = metrics.day_start(today, TZ)
    batch: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for i in range(n):
        if i < PEAK:
            came = start_today + (now - start_today) * rnd.random()
        else:
            came = start_today - timedelta(days=rnd.randint(1, 29)) + timedelta(seconds=rnd.randint(0, 86399))
        ship_by = came + timedelta(hours=rnd.choice((24, 48, 24, 72)))
        bench = BENCHES[i % len(BENCHES)]
        r = rnd.random()
        age = now - came
        if age > timedelta(days=2) or r < 0.45:
            state = "delivered" if age > timedelta(days=3) else "shipped"
            shipped = came + timedelta(hours=rnd.uniform(2, 60))
            shipped = min(shipped, now)
            packed_at = shipped - timedelta(minutes=rnd.randint(5, 120))
        elif r < 0.75:
            state, shipped, packed_at = "allocated", None, None
        elif r < 0.9:
            state, shipped, packed_at = "label_printed", None, None
        elif r < 0.97:
            state, shipped, packed_at = "paid", None, None
        else:
            state, shipped, packed_at = "closed", None, None
        held = state in ("allocated", "label_printed", "paid") and rnd.random() < 0.04
        oid = f"BM{i:09d}"
        batch.append({"order_id": oid, "channel": CHANNELS[i % 4], "channel_order_no": oid, "channel_status": "paid",
                      "channel_updated_at": came, "state": state, "version": 3, "bench": bench,
                      "warehouse": WAREHOUSES[i % 3], "waybill_no": None, "phone_tail": f"{i % 10000:04d}",
                      "recipient_name": "客户", "held": held, "created_at": came, "updated_at": came,
                      "doc": {"order_id": oid}, "paid_at": came, "ship_by": ship_by, "shipped_at": shipped,
                      "packed_by": f"P{i % 40:03d}" if packed_at else None, "packed_at": packed_at})
        if held or rnd.random() < 0.01:
            person = rnd.random() < 0.5
            audit.append({"order_id": oid, "at": came + timedelta(minutes=30), "operator": "P001" if person else "system",
                          "station": "S", "what": "hold_raised", "from_state": state, "to_state": state,
                          "why": rnd.choice(REASONS) if person else "中通不覆盖该地区", "action_id": None,
                          "details": {"hold": {"type": rnd.choice(("item_missing", "carrier_area", "stock_short"))}}})
        if len(batch) >= 20_000:
            yield batch, audit
            batch, audit = [], []
    if batch:
        yield batch, audit


Batches = Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def load(hub: Hub, n: int, now: datetime, shape: Callable[[Batches], Batches] | None = None) -> None:
    """Bulk-load ``n`` generated orders; ``shape`` may dress the batches first (bench/reports.py adds documents)."""
    t = time.perf_counter()
    batches = generate(n, now)
    for orders, audit in shape(batches) if shape else batches:
        with hub.engine.begin() as c:
            c.execute(insert(db.orders), orders)
            if audit:
                c.execute(insert(db.audit), audit)
    # A live hub's autovacuum keeps statistics and the visibility map (index-only scans) current;
    # right after a bulk load the bench does it once (migration 0018 makes autovacuum eager on orders).
    with hub.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE" if db.is_postgres(c) else "ANALYZE"))
    print(f"loaded {n:,} orders in {time.perf_counter() - t:.0f} s")


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm: plans cached, jieba's dictionary loaded
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


@contextmanager
def served(hub: Hub) -> Iterator[str]:
    app = create_app(hub.settings)
    app.state.hub.engine.dispose()
    app.state.hub = hub
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def measure(url_db: str, n: int, runs: int) -> float:
    hub = Hub(HubSettings(database_url=url_db, timezone=TZ, demo=True))
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    now = utcnow()
    load(hub, n, now)
    today = local_day(now, TZ)
    slices = {
        "today": metrics.Slice(today, today, TZ),
        "today 10:00+ WH-SH": metrics.Slice(today, today, TZ, warehouse="WH-SH", hours=(10, 24)),
        "7 days douyin": metrics.Slice(today - timedelta(days=6), today, TZ, channel="douyin"),
    }
    figures: dict[str, Callable[[Any, metrics.Slice], Any]] = {
        "states": lambda c, s: metrics.orders_by_state(c, s),
        "fulfilment": lambda c, s: metrics.fulfilment_per_hour(c, s, now),
        "delay": lambda c, s: metrics.delay_rate(c, s, now),
        "exceptions": lambda c, s: metrics.exception_reasons(c, s),
        "benches": lambda c, s: metrics.benches(c, s, now),
    }
    worst = 0.0
    with hub.reader.connect() as c:
        for sname, sl in slices.items():
            for fname, fn in figures.items():
                med, p95 = timed(lambda fn=fn, sl=sl: fn(c, sl), runs)
                worst = max(worst, p95)
                print(f"  {fname:<11} {sname:<20} median {med:7.1f} ms  p95 {p95:7.1f} ms")
    with served(hub) as url:
        s = requests.Session()
        r = s.post(url + "/api/v1/auth/login", json={"operator": "S001", "pin": "3333", "station": "BENCH-S",
                                                   "bench": None, "device_id": "bench-metrics"}, timeout=30)
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}

        def dashboard() -> None:
            got = s.get(url + "/api/v1/metrics/dashboard", headers=headers, timeout=60)
            got.raise_for_status()
        med, p95 = timed(dashboard, runs)
        print(f"  /api/v1/metrics/dashboard (all figures, HTTP, today)  median {med:7.1f} ms  p95 {p95:7.1f} ms")
    hub.engine.dispose()
    hub.reader.dispose()
    return worst


def run_main(measure_fn: Callable[[str, int, int], float], runs: int, figure: str, unit_fmt: str,
             target_ms: float) -> int:
    """The command line every hub-figure bench shares: ``--orders``, ``--runs``, ``--sqlite`` (else a fresh
    PostgreSQL database); prints ``<figure>_<1m|n|sqlite>: … ms (target < …)`` last."""
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=runs)
    p.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = p.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            worst = measure_fn(f"sqlite:///{Path(tmp) / 'hub.db'}", args.orders, args.runs)
        name = "sqlite"
    else:
        why = postgres_available()
        if why is not None:
            print(f"{why}; run with --sqlite")
            return 1
        with fresh_pg_database() as url:
            worst = measure_fn(url, args.orders, args.runs)
        name = "1m" if args.orders == 1_000_000 else f"{args.orders}"
    print(f"{figure}_{name}: {worst:{unit_fmt}} ms (target < {target_ms:.0f} ms)")
    return 0


def main() -> int:
    return run_main(measure, 20, "metrics_p95_worst", ".1f", TARGET_MS)

if __name__ == "__main__":
    sys.exit(main())
