"""One PackDesk per PC: a second launch of the real app brings the first forward and exits 0.

Two real processes (``python main.py``) on one data folder, offscreen. The first stops at its login
dialog (its hub address leads nowhere, so nothing else starts); the second must exit 0 without
opening the store, and the first must log that it brought its window to the front.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.helpers.waiting import wait_until
from tests.hubproc import ROOT, free_port
from ui.single_instance import SingleInstance, server_name


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PACKDESK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}


def test_a_second_launch_raises_the_first_and_exits_0(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    settings = {"station": "B1-PC", "bench": "B1", "device_id": str(uuid.uuid4()),
                "hub_url": f"http://127.0.0.1:{free_port()}"}  # nobody there: the login dialog waits
    (home / "data" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    log = home / "logs" / "app.log"
    first = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=_env(home),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: log.exists() and "single instance: listening" in log.read_text(encoding="utf-8"),
                   60, "the first instance to listen")
        second = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=_env(home), capture_output=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr.decode(errors="replace")
        text = log.read_text(encoding="utf-8")
        assert "another PackDesk runs here; asked it to come forward (done)" in text
        wait_until(lambda: "brought the window to the front" in log.read_text(encoding="utf-8"), 30,
                   "the first instance to come forward")
        assert first.poll() is None  # the first goes on running
        assert "cannot open the local store" not in log.read_text(encoding="utf-8")
    finally:
        first.terminate()
        first.wait(30)


def test_the_guard_in_one_process(tmp_path: Path, qtbot: Any) -> None:
    """The same guard object by object: a crashed owner's lock is taken over; the names differ per folder."""
    a = SingleInstance(tmp_path)
    assert a.acquire()
    raised: list[bool] = []
    a.raise_requested.connect(lambda: raised.append(True))
    b = SingleInstance(tmp_path)
    assert b.lock.tryLock(0) is False  # held (QLockFile locks per process: same process, same answer)
    assert b.tell_first(3000)
    qtbot.waitUntil(lambda: raised == [True], timeout=5000)
    a.release()
    c = SingleInstance(tmp_path)
    assert c.acquire()
    c.release()
    assert server_name(tmp_path) != server_name(tmp_path / "other")
    # a lock file left by a process that no longer runs is not a running PackDesk
    (tmp_path / "packdesk.lock").write_text("999999\nPackDesk\n" + os.uname().nodename + "\n", encoding="utf-8")
    d = SingleInstance(tmp_path)
    assert d.acquire()
    d.release()
