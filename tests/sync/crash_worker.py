"""A bench client process for the kill -9 tests: does actions and pushes, and may die at any point.

Run as ``python tests/sync/crash_worker.py HUB_URL STORE MODE SEED N``. MODE picks where it dies:

* ``random`` — never on its own; the parent SIGKILLs it at a random moment.
* ``after_commit`` — right after the k-th action's local commit, before any push.
* ``mid_batch`` — while the hub's answers to a batch are being written locally (transaction open);
  at a random batch, and at the latest after the last one, so this mode always dies.
* ``after_send`` — after the hub answered a batch, before the answers are stored (lost ack).
* ``finish`` — no crash: push and pull until the outbox is empty, print ``pending 0``.

Every action is a ``hold_raised`` (scan_mismatch) with a unique reason; the local audit records
each action_id in the same transaction as the outbox row, so the parent can compare what the
bench did with what the hub's audit shows.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.outbox import Outbox
from core.queues import load_rows
from core.states import FULFILMENT_STATES
from core.store import open_store
from core.sync.client import HubClient, HubError
from core.sync.engine import SyncConfig, SyncEngine


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    hub_url, store_path, mode, seed, n = argv[0], Path(argv[1]), argv[2], int(argv[3]), int(argv[4])
    rng = random.Random(seed)
    store = open_store(store_path)
    engine = SyncEngine(
        store,
        SyncConfig(
            hub_url=hub_url,
            station="CRASH-PC",
            bench="B1",
            device_id="dev-crash",
            batch_size=rng.choice([3, 7, 50]),
            long_poll_s=0,
            read_timeout_s=20,
        ),
    )
    engine.set_credentials("P001", "1111")
    client = HubClient(hub_url, read_timeout_s=20)
    if mode == "finish":
        for _ in range(50):
            try:
                engine.sync_once()
            except HubError as exc:
                print("retry:", exc.message, flush=True)
                continue
            if store.pending_count() == 0:
                break
        print("pending", store.pending_count(), flush=True)
        return 0
    if store.cursor() is None:
        engine.full_resync(client)
    orders = [r.order_id for r in load_rows(store) if r.state in FULFILMENT_STATES]
    if not orders:
        print("no orders", flush=True)
        return 3
    outbox = Outbox(store)
    kill_at = rng.randrange(n) if mode == "after_commit" else -1
    for i in range(n):
        oid = rng.choice(orders)
        outbox.perform(oid, "hold_raised", {"type": "scan_mismatch", "reason": f"crash-{seed}-{i}"}, "P001")
        if i == kill_at:
            die()
    print("queued", n, flush=True)
    if mode == "after_send":
        real = client.post_actions

        def post_then_die(actions: list[dict[str, object]]) -> object:
            real(actions)
            if rng.random() < 0.5:
                die()
            return real(actions)  # sometimes survive: the resend is all duplicates

        client.post_actions = post_then_die  # type: ignore[method-assign]
    if mode == "mid_batch":
        real_refresh = store.refresh_views

        def refresh_then_die(conn: object, ids: object) -> list[str]:
            out = real_refresh(conn, ids)  # type: ignore[arg-type]
            if rng.random() < 0.5:
                die()  # inside apply_results' write transaction: SQLite rolls it back
            return out

        store.refresh_views = refresh_then_die  # type: ignore[method-assign]
    try:
        engine.push_pending(client)
    except HubError as exc:
        print("push failed:", exc.message, flush=True)
        return 1
    if mode == "mid_batch":
        die()  # no batch drew the short straw: die once every answer is stored
    print("pushed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
