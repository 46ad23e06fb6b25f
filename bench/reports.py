"""The reports (issue 16, docs/reports.md) over a large hub: the daily and weekly workbook and the
streamed orders CSV.

Loads orders the way ``bench/metrics.py`` does (a month, a peak day today, 3 warehouses, 4 shops, 20
benches, holds with reasons; same generator), each with a realistic order document (recipient,
address, two lines, waybill), then over real HTTP as a supervisor:

* ``/api/v1/reports/daily.xlsx`` (today) and ``/api/v1/reports/weekly.xlsx`` (this week): median and
  worst of ``--runs``;
* ``/api/v1/orders.csv`` of every order: time and rows per second;
* and in process, the same CSV stream (:func:`hub.api.reports.order_rows` → ``csv_chunks``) under
  ``tracemalloc``: the peak Python memory while streaming beside the file's size — it stays at a few
  pages' worth, not the file.

    python bench/reports.py [--orders 1000000] [--runs 3] [--sqlite]

Last line: ``reports_weekly_xlsx_<n>: … ms (target < 10000 ms)`` — a download a supervisor waits for,
not a live figure (those are bench/metrics.py's).
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from bench import metrics as bench_metrics
from core.order_csv import bilingual_headers, csv_chunks
from core.timeutil import iso, local_day, utcnow
from hub import auth, db
from hub.api.deps import Hub
from hub.api.reports import order_rows
from hub.config import HubSettings

TZ = bench_metrics.TZ
TARGET_MS = 10_000.0


def with_docs(batches: bench_metrics.Batches) -> bench_metrics.Batches:
    """bench/metrics.py's orders with a document of the size a real order has (~700 bytes)."""
    for orders, audit in batches:
        for i, o in enumerate(orders):
            o["doc"] = {"order_id": o["order_id"], "channel": o["channel"], "channel_order_no": o["channel_order_no"],
                        "state": o["state"], "warehouse": o["warehouse"], "bench": o["bench"],
                        "waybill_no": f"7730{i:010d}", "carrier": "zto", "created_at": iso(o["created_at"]),
                        "ship_by": iso(o["ship_by"]),
                        "recipient": {"name": "王小明", "phone": "13812345678", "province": "浙江省", "city": "杭州市",
                                      "district": "西湖区", "address": f"文三路 {i % 500} 号 {i % 30} 楼"},
                        "lines": [{"sku": "SKU-TEA-001", "name": "西湖龙井 250g", "qty": 1, "unit_price_fen": 12800},
                                  {"sku": "GIFT-CUP-01", "name": "赠品：玻璃杯", "qty": 1, "unit_price_fen": 0}],
                        "holds": [{"type": "item_missing", "reason": "赠品缺货"}] if o["held"] else []}
        yield orders, audit


def timed_get(s: requests.Session, url: str, headers: dict[str, str], params: dict[str, str], runs: int
              ) -> tuple[float, float, int]:
    s.get(url, params=params, headers=headers, timeout=600).raise_for_status()  # warm: jieba's dictionary, plans
    times, size = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        r = s.get(url, params=params, headers=headers, timeout=600)
        r.raise_for_status()
        times.append((time.perf_counter() - t) * 1000)
        size = len(r.content)
    return statistics.median(times), max(times), size


def measure(url_db: str, n: int, runs: int) -> float:
    hub = Hub(HubSettings(database_url=url_db, timezone=TZ, demo=True))
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    now = utcnow()
    bench_metrics.load(hub, n, now, with_docs)
    today = local_day(now, TZ)
    monday = today - timedelta(days=today.weekday())
    with bench_metrics.served(hub) as url:
        s = requests.Session()
        r = s.post(url + "/api/v1/auth/login", json={"operator": "S001", "pin": "3333", "station": "BENCH-R",
                                                   "bench": None, "device_id": "bench-reports"}, timeout=30)
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        med, worst_daily, size = timed_get(s, url + "/api/v1/reports/daily.xlsx", headers,
                                           {"date": today.isoformat()}, runs)
        print(f"  daily.xlsx  (today)      median {med:8.0f} ms  worst {worst_daily:8.0f} ms  {size / 1024:.0f} KB")
        med, worst_weekly, size = timed_get(s, url + "/api/v1/reports/weekly.xlsx", headers,
                                            {"week": monday.isoformat()}, runs)
        print(f"  weekly.xlsx (this week)  median {med:8.0f} ms  worst {worst_weekly:8.0f} ms  {size / 1024:.0f} KB")
        t = time.perf_counter()
        rows = 0
        with s.get(url + "/api/v1/orders.csv", headers=headers, stream=True, timeout=600) as got:
            got.raise_for_status()
            for line in got.iter_lines():
                rows += 1 if line else 0
        took = time.perf_counter() - t
        print(f"  orders.csv  (all, HTTP)  {took:8.1f} s  about {n / took:,.0f} orders/s ({rows:,} lines)")
    tracemalloc.start()
    size = 0
    for chunk in csv_chunks(bilingual_headers(), order_rows(hub, state=None, bench=None, warehouse=None, hold=None)):
        size += len(chunk)
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  orders.csv  in process: file {size / 2**20:.1f} MB, peak Python memory while streaming "
          f"{peak / 2**20:.1f} MB")
    hub.engine.dispose()
    hub.reader.dispose()
    return worst_weekly


def main() -> int:
    return bench_metrics.run_main(measure, 3, "reports_weekly_xlsx", ".0f", TARGET_MS)

if __name__ == "__main__":
    sys.exit(main())
