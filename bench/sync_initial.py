"""First start: a fresh desk station pulls its whole working set from the hub.

    python bench/sync_initial.py [--orders 10000]

Times login + full sync (``/sync/snapshot`` pages written to the local store) until the station
has every order; the hub is a real process on 127.0.0.1 with a SQLite database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._client_common import hub_with_orders
from core.store import open_store
from core.sync.engine import SyncConfig, SyncEngine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        hub = hub_with_orders(Path(tmp) / "hub", args.orders)
        try:
            store = open_store(Path(tmp) / "desk.sqlite3")
            engine = SyncEngine(
                store,
                SyncConfig(
                    hub_url=hub.url, station="DESK-BENCH", bench=None, device_id="bench-desk", page_size=1000
                ),
            )
            t0 = time.perf_counter()
            engine.login("D001", "2222")
            report = engine.sync_once()
            elapsed = time.perf_counter() - t0
            count = store.count_orders()
            store.close()
        finally:
            hub.stop()
    print(f"orders in store: {count} (pulled {report.pulled}, full re-sync {report.full_resync})")
    print(f"rate: {count / elapsed:.0f} orders/s")
    print(f"sync_initial: {elapsed:.2f} s (target < 5 s for 10,000 orders)")
    return 0 if count >= args.orders * 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
