"""Fixtures for the main window, queue and start-up tests.

* ``home``: a temp ``PACKDESK_HOME`` (settings, store, logs, compiled catalogues).
* ``demo_hub``: a real hub process with 300 demo orders (shared by a test module: loading them
  takes a few seconds). Stations get unique names so tests never collide on it.
* ``station``: a factory for an :class:`AppServices` over a temp store and a logged-in SyncEngine
  that has done one full sync.
* Qt warnings fail every test (pytest-qt ``qt_log_level_fail`` in pyproject.toml, STYLE.md §15).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.i18n import set_language
from tests.helpers.station import Station, StationFactory, app_station, load_demo, start_demo_hub
from tests.hubproc import HubProcess

__all__ = ["Station", "StationFactory", "load_demo"]  # the UI tests import them from here


@pytest.fixture
def qt_warnings() -> list[str]:
    """Kept for tests that still ask for it: every test now fails on a Qt warning
    (``qt_log_level_fail = "WARNING"`` and ``qt_log_ignore`` in pyproject.toml, STYLE.md §15)."""
    return []


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("PACKDESK_HOME", str(path))
    set_language("en")
    return path


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_demo_hub(tmp_path_factory.mktemp("demo-hub"), 300)
    yield hub
    hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-4000:]


@pytest.fixture
def station(tmp_path: Path, home: Path, qapp: Any) -> Iterator[StationFactory]:
    """``station(hub_url, operator=, pin=, bench=, name=, sync=)``: a logged-in station with app services."""
    made: list[Station] = []

    def make(hub_url: str, *, operator: str = "P001", pin: str = "1111", bench: str = "B1",
             name: str | None = None, sync: bool = True) -> Station:
        st = app_station(tmp_path / f"st{len(made)}", hub_url, name=name or f"{bench or 'DESK'}-{uuid.uuid4().hex[:6]}",
                         bench=bench, operator=operator, pin=pin, sync=sync, long_poll_s=2.0,
                         backoff_base_s=0.1, backoff_cap_s=0.5, read_timeout_s=5.0)
        made.append(st)
        return st

    yield make
    for st in made:
        st.close()
