"""kill -9 loop: a bench client killed at random points during actions and push, restarted, many times.

    python bench/crash_replay.py [--rounds 500] [--actions 8]

Each round starts a client process (tests/sync/crash_worker.py) on the same local store, which
queues actions and pushes them; it dies by SIGKILL after a local commit, mid-batch, after the
hub answered but before the answer was stored, or at a random moment. After all rounds a final
sync empties the outbox and every action the bench committed is looked up in the hub's audit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._client_common import hub_with_orders
from tests.sync.crash_loop import crash_rounds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=500)
    ap.add_argument("--actions", type=int, default=8, help="actions queued per round")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        hub = hub_with_orders(Path(tmp) / "hub", 300)
        try:
            t0 = time.perf_counter()
            r = crash_rounds(
                hub.url,
                Path(tmp) / "crash.sqlite3",
                args.rounds,
                seed=args.seed,
                actions_per_round=args.actions,
            )
            elapsed = time.perf_counter() - t0
        finally:
            hub.stop()
    print(f"rounds: {r.rounds}  killed: {r.killed}  actions: {r.actions}  in {elapsed:.0f} s")
    print(
        f"crash_replay: {r.rounds} rounds, lost {r.lost}, duplicated {r.duplicated} (target 0 lost, 0 duplicated)"
    )
    return 0 if r.lost == r.duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
