"""The benchmark scripts still run (at toy sizes) and end with a `name: value unit (target …)` line.

They are not timed here — figures come from running them at full size — but a script that broke
since its last run must fail the suite, not the next person who wants a number.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(r"^[a-z_0-9]+: .+ \(target .+\)$")

SMALL = {
    "allocation.py": ["--orders", "60", "--rounds", "1", "--no-postgres"],
    "hub_intake.py": ["--orders", "300"],
    "import_large.py": ["--rows", "2000", "--xlsx-rows", "300"],
    "propagation.py": ["--actions", "30"],
    "sync_initial.py": ["--orders", "200"],
    "replay.py": ["--actions", "200"],
    "crash_replay.py": ["--rounds", "3"],
    "queue_model.py": ["--orders", "2000", "--changes", "200"],
    "dashboard_stall.py": ["--orders", "100", "--refreshes", "2", "--dashboard-only"],
    "labels.py": ["--labels", "10"],
    "handover_scan.py": ["--printed", "200", "--scans", "30", "--background", "50"],
    "tracking.py": ["--parcels", "20", "--threads", "2", "--no-postgres", "--printed", "200", "--scans", "30",
                    "--background", "50"],
    "demo_orders.py": ["--orders", "200", "--runs", "1"],
    "startup.py": ["--runs", "1"],
    "connector_catchup.py": ["--orders", "300", "--lag-orders", "20", "--push-orders", "20", "--interval", "2"],
    "reports.py": ["--orders", "500", "--runs", "1", "--sqlite"],
    "ticket_queue.py": ["--tickets", "600", "--orders", "200", "--runs", "1"],
    "touchpoint.py": ["--contacts", "2000", "--tickets", "600", "--runs", "1", "--sqlite"],
    "longpoll_load.py": ["--clients", "8", "--desks", "2", "--rate", "5", "--duration", "2", "--baseline", "1",
                         "--idle", "1", "--orders", "60"],
}


@pytest.mark.parametrize("script", sorted(SMALL))
def test_bench_script_runs_small_and_prints_its_figure(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "PACKDESK_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, str(ROOT / "bench" / script), *SMALL[script]], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last
    if script == "tracking.py":  # issue 13's two figures, the pushes last
        assert last.startswith("tracking_pushes_per_s: "), last
        assert r.stdout.strip().splitlines()[-2].startswith("handover_scan_p99: "), r.stdout[-500:]
