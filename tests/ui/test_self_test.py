"""``packdesk --self-test`` from source (the bundle runs the same code in CI: .ci/run).

The whole path once for real — embedded hub child process, demo login over HTTP, label PDF, its
barcodes read back with zbarimg — and a broken installation once: a hub that cannot start must
give exit 1, a ✖ line that says why, and keep the temporary folder for the person looking into it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ui import embedded_hub
from ui.app import use_language
from ui.self_test import SelfTest

ROOT = Path(__file__).resolve().parents[2]


def self_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python main.py --self-test`` with its temporary folders under ``tmp_path``."""
    full = {**os.environ, "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", **env}
    full.pop("PACKDESK_HOME", None)  # the self-test makes its own
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--self-test"], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg not installed (zbar-tools)")
def test_self_test_passes_every_step_and_leaves_nothing_behind(tmp_path: Path) -> None:
    r = self_test(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    assert [line[0] for line in lines[:-1]] == ["✓"] * 6, r.stdout  # six steps, each passed
    # the label's own barcodes, read back: waybill number, then the order ID twice (Code 128 + QR)
    codes = re.search(r"(\w+), (BL\d{8}-\d{6}), \2(?![\w-])", lines[5])
    assert codes, r.stdout
    assert not list(tmp_path.glob("packdesk-selftest-*")), "a passed self-test removes its folder"
    report = (tmp_path / "packdesk-self-test.txt").read_text(encoding="utf-8")
    assert report.strip().splitlines() == lines  # the same lines for a windowed exe without a console


def test_self_test_fails_plainly_when_the_hub_cannot_start(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (no second app start): the real steps, with a hub command that exits at once."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(embedded_hub, "hub_command",
                        lambda: [sys.executable, "-c", "import sys; sys.exit('no hub in this installation')"])
    lines: list[str] = []
    home_before = os.environ.get("PACKDESK_HOME")
    font_before = qapp.font()
    try:
        code = SelfTest(lines.append).run()
    finally:  # the self-test switched this process to Chinese and the UI font: later tests expect neither
        use_language(qapp, "en")
        qapp.setFont(font_before)
    assert code == 1, lines
    assert [line[0] for line in lines[:2]] == ["✓", "✓"], lines  # translations and Qt were fine
    assert lines[2].startswith("✖ ") and "no hub in this installation" in lines[2], lines  # says why
    assert len(lines) == 4, lines  # and stops there
    kept = list(tmp_path.glob("packdesk-selftest-*"))
    assert len(kept) == 1 and str(kept[0]) in lines[-1], lines  # kept, and named for the person
    assert os.environ.get("PACKDESK_HOME") == home_before  # the temporary home was this run's only
