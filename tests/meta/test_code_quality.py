"""The house rules a command can check: ruff and mypy clean, PySide6 pinned (the layers: test_layers.py)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    r = run("ruff", "check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean_on_all_packages() -> None:
    r = run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr


def test_pyside6_is_pinned_below_the_release_that_crashes_python_311() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pyside = [d for d in deps if d.lower().startswith("pyside6")]
    assert pyside and all("<6.12" in d for d in pyside), pyside
    # Addons (QtCharts, the dashboard) must be the very release of Essentials: one range for both
    ranges = {d.lower().removeprefix("pyside6-essentials").removeprefix("pyside6-addons") for d in pyside}
    assert {d.lower().split(">")[0] for d in pyside} == {"pyside6-essentials", "pyside6-addons"}, pyside
    assert len(ranges) == 1, pyside
