"""Change propagation: an action accepted from one bench → seen on another bench's long-poll.

    python bench/propagation.py [--actions 1000] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess, fresh_pg_database


def measure(url: str, n: int, watch_url: str | None = None) -> tuple[list[float], list[float]]:
    """Latencies (accepted → seen, sent → seen) for ``n`` actions done on ``url``, watched on ``watch_url``."""
    demo(url, 50, seed=5)
    desk = Session(url, operator="D001", pin="2222", station="DESK-A", bench=None).login()
    watcher = Session(watch_url or url, operator="S001", pin="3333", station="DESK-B", bench=None).login()
    orders = [o for o in desk.get("/api/v1/orders", limit=100).json()["orders"]
              if o["state"] == "allocated" and not o["holds"]]
    head = desk.get("/api/v1/health").json()["head"]
    seen: dict[tuple[str, int], float] = {}
    stop = threading.Event()

    def poll() -> None:
        cursor = head
        while not stop.is_set():
            page = watcher.get("/api/v1/changes", cursor=cursor, wait=5).json()
            now = time.perf_counter()
            for ch in page["changes"]:
                seen[(ch["order_id"], ch["order"]["version"])] = now
            cursor = page["next_cursor"]

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(0.3)
    accepted: dict[tuple[str, int], float] = {}
    sent_at: dict[tuple[str, int], float] = {}
    versions = {o["order_id"]: o["version"] for o in orders}
    for i in range(n):
        oid = orders[i % len(orders)]["order_id"]
        t_sent = time.perf_counter()
        # A bench step: the commonest action there is, and it changes the order every time.
        r = desk.do(oid, "step", {"step": "picked", "detail": {"round": i}}, base_version=versions[oid])
        assert r["outcome"] == "applied", r
        versions[oid] = r["order"]["version"]
        accepted[(oid, versions[oid])] = time.perf_counter()
        sent_at[(oid, versions[oid])] = t_sent
        time.sleep(0.002)
    deadline = time.time() + 10
    while len(seen.keys() & accepted.keys()) < len(accepted) and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    missing = len(accepted.keys() - seen.keys())
    if missing:
        print(f"missing: {missing} changes never arrived")
    keys = [k for k in accepted if k in seen]
    return [max(0.0, seen[k] - accepted[k]) for k in keys], [seen[k] - sent_at[k] for k in keys]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--two-hubs", action="store_true",
                    help="PostgreSQL only: act on one hub process, watch on another (LISTEN/NOTIFY wake-up)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        if args.db == "postgres":
            with fresh_pg_database() as url:
                hub = HubProcess(Path(tmp) / "a", db_url=url).start()
                other = HubProcess(Path(tmp) / "b", db_url=url).start() if args.two_hubs else None
                try:
                    lat, from_sent = measure(hub.url, args.actions, other.url if other else None)
                finally:
                    hub.stop()
                    if other:
                        other.stop()
        else:
            hub = HubProcess(Path(tmp)).start()
            try:
                lat, from_sent = measure(hub.url, args.actions)
            finally:
                hub.stop()
    where = args.db + (" (two hub processes)" if args.two_hubs else "")
    for name, values in (("accepted→seen", lat), ("sent→seen", from_sent)):
        values.sort()
        p50 = statistics.median(values) * 1000
        p99 = values[int(len(values) * 0.99) - 1] * 1000
        print(f"{where} {name}: {len(values)} actions, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {values[-1] * 1000:.1f} ms")
    lat.sort()
    print(f"propagation: {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms p99 (target < 1000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
