"""PySide6 6.12.0 drops a reference to None on every binding call that returns None, which kills
CPython 3.11 (``Fatal Python error: none_dealloc``) after some thousands of calls. We pin below 6.12;
this test makes such calls in a loop in a child interpreter so a bad version fails loudly here."""

from __future__ import annotations

import subprocess
import sys


def test_many_binding_calls_returning_none_do_not_crash_python() -> None:
    code = (
        "import os; os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
        "from PySide6.QtCore import QObject\n"
        "o = QObject()\n"
        "for _ in range(50_000):\n"
        "    assert o.parent() is None\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
