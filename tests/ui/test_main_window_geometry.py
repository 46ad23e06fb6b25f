"""The main window fits the screen (the status bar stays on it), starts maximised on a bench and
remembers its geometry per station — on offscreen screens of 1366×768 and 1920×1080."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSize

from tests.hubproc import ROOT
from ui.window_geometry import PREFERRED, fits, initial_geometry, within


def probe(home: Path, screen: str, bench: str = "", move: str = "") -> dict[str, Any]:
    """The real window shown on an offscreen screen of ``screen`` size, in a fresh process."""
    args = [sys.executable, "-m", "tests.ui.window_probe", screen, bench or "-", str(home / f"{screen}.png")]
    if move:
        args.append(move)
    env = {**os.environ, "PACKDESK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def test_initial_geometry_fits_the_available_area() -> None:
    small = QRect(0, 0, 1366, 728)  # 1366×768 less a 40 px task bar
    assert initial_geometry(small) is None  # 1280×800 cannot fit: maximised
    big = QRect(0, 0, 1920, 1040)
    rect = initial_geometry(big)
    assert rect is not None and rect.size() == PREFERRED and fits(rect, big)
    assert rect.center() == big.center()
    assert initial_geometry(QRect(0, 0, 1280, 800), QSize(1280, 800)) is None  # no room for the frame
    # Maximised, its normal size still fits with the frame (un-maximised, or with no window manager).
    inner = within(small)
    assert fits(inner.adjusted(-8, -40, 8, 8), small) and inner.width() > 1300


def test_a_1366x768_desk_shows_the_whole_window_with_its_status_bar(tmp_path: Path) -> None:
    got = probe(tmp_path, "1366x768")
    x, y, w, h = got["available"]
    assert got["maximized"] and got["status_visible"]
    assert got["status_bottom"] <= y + h and got["sync_right"] <= x + w  # "离线 · N 待同步" is on screen


def test_a_1920x1080_desk_opens_at_its_preferred_size_and_remembers_where_it_was(tmp_path: Path) -> None:
    first = probe(tmp_path, "1920x1080", move="100,120,1500,900")  # the clerk moves and resizes it
    assert not first["maximized"] and first["geometry"][2:] == [1500, 900]
    again = probe(tmp_path, "1920x1080")
    assert again["geometry"] == [100, 120, 1500, 900] and not again["maximized"]
    assert (tmp_path / "data" / "window.ini").exists()  # in the user data folder


def test_a_fresh_1920x1080_desk_is_centred_at_the_preferred_size(tmp_path: Path) -> None:
    got = probe(tmp_path, "1920x1080")
    assert got["geometry"][2:] == [PREFERRED.width(), PREFERRED.height()] and not got["maximized"]
    assert got["status_bottom"] <= 1080


@pytest.mark.parametrize("screen", ["1366x768", "1920x1080"])
def test_a_bench_pc_starts_maximised(tmp_path: Path, screen: str) -> None:
    got = probe(tmp_path, screen, bench="B1")
    assert got["maximized"] and got["status_bottom"] <= got["available"][3]


def test_geometry_remembered_on_a_big_screen_is_fitted_again_on_a_small_one(tmp_path: Path) -> None:
    probe(tmp_path, "1920x1080", move="300,200,1600,950")
    got = probe(tmp_path, "1366x768")
    x, y, w, h = got["available"]
    assert got["status_bottom"] <= y + h and got["sync_right"] <= x + w
