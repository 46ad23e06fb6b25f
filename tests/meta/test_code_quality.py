"""The house rules a command can check: ruff and mypy clean, no Qt below ui/, PySide6 pinned."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    r = run("ruff", "check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean_on_all_packages() -> None:
    r = run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("package", ["core", "hub", "printing"])
def test_package_loads_without_qt(package: str) -> None:
    """core/, hub/ and printing/ must work on a machine with no screen and no Qt."""
    mods = [p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
            for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    mods = [m.removesuffix(".__init__") for m in mods]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods) +
            "bad=[m for m in sys.modules if m.startswith(('PySide6','shiboken6'))]\nprint(','.join(bad))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"{package} pulled in Qt: {r.stdout}"


def test_pyside6_is_pinned_below_the_release_that_crashes_python_311() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pyside = [d for d in deps if d.lower().startswith("pyside6")]
    assert pyside and all("<6.12" in d for d in pyside), pyside
