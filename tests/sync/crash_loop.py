"""The kill -9 loop shared by tests/sync/test_crash.py and bench/crash_replay.py."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.store import open_store

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
MODES = ("random", "random", "after_commit", "mid_batch", "after_send")
# Modes whose worker kills itself whatever the machine's speed; "random" depends on timing (a fast
# worker may finish first) and "after_send" sometimes survives on purpose to resend duplicates.
ALWAYS_DIES = ("after_commit", "mid_batch")


@dataclass
class CrashResult:
    rounds: int
    actions: int
    lost: int
    duplicated: int
    killed: int
    forced: int  # rounds whose mode always dies; each of them did


def run_worker(hub_url: str, store: Path, mode: str, seed: int, n: int, kill_after: float | None) -> int:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), hub_url, str(store), mode, str(seed), str(n)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.kill()
    out, _ = proc.communicate(timeout=120)
    if proc.returncode not in (0, -9):
        raise AssertionError(
            f"crash worker {mode} exited {proc.returncode}:\n{out.decode(errors='replace')[-3000:]}"
        )
    return proc.returncode


def crash_rounds(
    hub_url: str, store: Path, rounds: int, *, seed: int = 1, actions_per_round: int = 12
) -> CrashResult:
    from tests.sync.conftest import hub_action_counts

    rng = random.Random(seed)
    killed = forced = 0
    for r in range(rounds):
        mode = rng.choice(MODES)
        kill_after = rng.uniform(0.25, 0.9) if mode == "random" else None
        rc = run_worker(hub_url, store, mode, seed * 100_000 + r, actions_per_round, kill_after)
        if mode in ALWAYS_DIES:
            forced += 1
            if rc != -9:
                raise AssertionError(f"round {r}: crash worker {mode} was meant to die but exited {rc}")
        if rc == -9:
            killed += 1
    run_worker(hub_url, store, "finish", 0, 0, None)
    s = open_store(store)
    try:
        expected = {e["action_id"] for e in s.local_audit() if e["what"] == "hold_raised"}
        orders = sorted({e["order_id"] for e in s.local_audit() if e["what"] == "hold_raised"})
        assert s.pending_count() == 0, "outbox not empty after the final sync"
    finally:
        s.close()
    counts = hub_action_counts(hub_url, orders)
    lost = len(expected - counts.keys())
    duplicated = sum(n - 1 for aid, n in counts.items() if aid in expected and n > 1)
    return CrashResult(rounds, len(expected), lost, duplicated, killed, forced)
