"""Offline replay: 10,000 actions queued while the hub was down, replayed when it is back.

    python bench/replay.py [--actions 10000]

A desk station syncs, the hub is stopped, the bench queues N actions (steps and labels on
allocated orders, one local transaction each), the hub is started again and the outbox is
pushed. Then every action_id is looked up in the hub's audit: lost and duplicated must be 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._client_common import hub_with_orders
from core.outbox import Outbox
from core.queues import load_rows
from core.store import open_store
from core.sync.client import HubClient
from core.sync.engine import SyncConfig, SyncEngine
from tests.helpers.hubapi import Session

STEPS = [
    ("step", {"step": "picked"}),
    ("step", {"step": "verified"}),
    ("step", {"step": "packed"}),
    ("step", {"step": "weighed", "detail": {"grams": 850}}),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", type=int, default=10_000)
    args = ap.parse_args()
    per_order = len(STEPS) + 1  # four steps and the label
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        hub = hub_with_orders(Path(tmp) / "hub", max(2000, args.actions // per_order * 2))
        try:
            store = open_store(Path(tmp) / "desk.sqlite3")
            engine = SyncEngine(
                store, SyncConfig(hub_url=hub.url, station="DESK-BENCH", bench=None, device_id="bench-replay")
            )
            engine.login("D001", "2222")
            engine.sync_once()
            hub.stop()  # the outage
            outbox = Outbox(store)
            orders = [r.order_id for r in load_rows(store) if r.state == "allocated" and not r.held]
            t0 = time.perf_counter()
            done = 0
            used: list[str] = []
            for oid in orders:
                if done >= args.actions:
                    break
                used.append(oid)
                for type_, payload in [
                    *STEPS,
                    ("label_printed", {"printer": "ZD420", "job_id": f"job-{oid}"}),
                ]:
                    if done >= args.actions:
                        break
                    outbox.perform(oid, type_, payload, "D001")
                    done += 1
            queue_s = time.perf_counter() - t0
            expected = {a["action_id"] for a in store.local_audit() if a["action_id"]}
            print(
                f"queued: {done} actions on {len(used)} orders in {queue_s:.2f} s "
                f"({queue_s / max(done, 1) * 1000:.2f} ms per action, WAL + synchronous=FULL)"
            )
            hub.start()
            t1 = time.perf_counter()
            client = HubClient(hub.url)
            engine.push_pending(client)
            replay_s = time.perf_counter() - t1
            pending = store.pending_count()
            conflicts = store.conflict_count()
            store.close()
            admin = Session(hub.url, operator="A001", pin="0000", station="AUDIT-PC", bench=None).login()
            seen: Counter[str] = Counter()
            for oid in used:
                for e in admin.get(f"/api/v1/orders/{oid}/audit").json()["entries"]:
                    if e.get("action_id") in expected and e["what"] != "label_voided":
                        seen[e["action_id"]] += 1
        finally:
            hub.stop()
    lost = len(expected - seen.keys())
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    print(f"replayed: {done - pending} answered, {pending} still pending, {conflicts} conflicts/rejections")
    print(f"lost: {lost}  duplicated: {duplicated}")
    print(
        f"replay: {replay_s:.2f} s for {done} actions, lost {lost}, duplicated {duplicated} (target < 10 s, 0 lost, 0 duplicated)"
    )
    return 0 if lost == duplicated == pending == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
