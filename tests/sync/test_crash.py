"""kill -9 at random points while a bench does actions and pushes: nothing lost, nothing applied twice.

A worker process (tests/sync/crash_worker.py) is SIGKILLed after a local commit, while the hub's
answers are being stored (mid-batch), after the hub answered but before the answer was stored,
or at a random moment; then restarted on the same store. After all rounds a final sync empties the
outbox, and a set check compares every action the bench committed (its local audit) with the
hub's audit: 0 missing, 0 duplicated.
"""

from __future__ import annotations

from pathlib import Path

from tests.hubproc import HubProcess
from tests.sync.crash_loop import crash_rounds


def test_kill_9_during_actions_and_push_loses_nothing_and_doubles_nothing(
    seeded_hub: HubProcess, tmp_path: Path
) -> None:
    result = crash_rounds(seeded_hub.url, tmp_path / "crash.sqlite3", rounds=50, seed=11, actions_per_round=8)
    # Which rounds die on their own is fixed by the seed; the random-moment kills depend on the
    # machine's speed, so only the forced deaths are counted on.
    assert result.actions > 0 and result.forced >= 15 and result.killed >= result.forced
    assert (result.lost, result.duplicated) == (0, 0), result
