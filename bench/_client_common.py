"""Shared set-up for the client sync benchmarks: a real hub process with N demo orders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hubproc import HubProcess  # noqa: E402


def hub_with_orders(home: Path, n: int, *, seed: int = 1) -> HubProcess:
    """Load ``n`` demo orders into a fresh hub database (intake path, offline), then serve it."""
    hub = HubProcess(home)
    env = {**os.environ, "PACKDESK_HOME": str(home), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "hub", "--db", hub.db_url, "demo", str(n), "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return hub.start()
