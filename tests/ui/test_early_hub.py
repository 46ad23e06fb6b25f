"""main.py launches a set-up PC's embedded hub before the GUI's imports (ui.embedded_hub.launch_early).

Only the decision and the arguments here (no process: the whole start from source runs in
bench/startup.py, which tests/meta/test_bench_scripts.py runs once).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ui import embedded_hub
from ui.embedded_hub import EmbeddedHub, launch_early


@pytest.fixture
def launched(home: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def launch(self: EmbeddedHub, *, approve: Any = None) -> None:
        calls.append({"approve": approve, "db": self.db_url, "demo": self.demo})

    monkeypatch.setattr(EmbeddedHub, "launch", launch)
    return calls


def _settings(home: Path, **values: str) -> None:
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "settings.json").write_text(
        json.dumps({"device_id": "0b0a3f7e-0000-4000-8000-000000000001", **values}), encoding="utf-8")


def test_a_set_up_pc_gets_its_real_hub_with_its_own_station_approved(home: Path, launched: list) -> None:
    _settings(home, station="B2-PC", bench="B2")
    hub = launch_early(["--measure-startup"])
    assert isinstance(hub, EmbeddedHub)
    assert launched == [{"approve": ("B2-PC", "B2", "0b0a3f7e-0000-4000-8000-000000000001"),
                         "db": f"sqlite:///{home / 'data' / 'hub.db'}", "demo": False}]
    _settings(home, station="DESK-PC", bench="")
    launch_early([])
    assert launched[-1]["approve"] == ("DESK-PC", None, "0b0a3f7e-0000-4000-8000-000000000001")  # a desk PC


@pytest.mark.parametrize("argv", [["--demo"], ["--hub", "http://10.0.0.2:8765"], ["--hub=http://h:1"], ["--help"]])
def test_not_for_demo_a_given_hub_or_help(home: Path, launched: list, argv: list[str]) -> None:
    _settings(home, station="B1-PC", bench="B1")
    assert launch_early(argv) is None and launched == []


def test_not_before_the_first_run_nor_with_a_site_hub(home: Path, launched: list) -> None:
    _settings(home)  # no station yet: the first-run dialog comes first
    assert launch_early([]) is None
    _settings(home, station="B1-PC", bench="B1", hub_url="http://10.0.0.2:8765")
    assert launch_early([]) is None
    assert launched == []


def test_a_hub_that_cannot_be_started_early_is_left_to_the_app(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(home, station="B1-PC", bench="B1")
    monkeypatch.setattr(embedded_hub, "hub_command", lambda: [str(home / "no-such-program")])
    assert launch_early([]) is None  # the app then starts it the ordinary way and shows what is wrong
