"""Fixtures for the main window, queue and start-up tests.

* ``home``: a temp ``PACKDESK_HOME`` (settings, store, logs, compiled catalogues).
* ``demo_hub``: a real hub process with 300 demo orders (shared by a test module: loading them
  takes a few seconds). Stations get unique names so tests never collide on it.
* ``station``: a factory for an :class:`AppServices` over a temp store and a logged-in SyncEngine
  that has done one full sync.
* Qt warnings fail every test (pytest-qt ``qt_log_level_fail`` in pyproject.toml, STYLE.md §15).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.i18n import set_language
from core.settings import Settings, load_settings
from core.store import LocalStore, open_store
from core.sync import SyncConfig, SyncEngine
from tests.hubproc import ROOT, HubProcess
from ui.services import AppServices, Operator


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


def load_demo(hub: HubProcess, n: int = 300) -> None:
    r = subprocess.run([sys.executable, "-m", "hub", "--db", hub.db_url, "demo", str(n)], cwd=ROOT,
                       env={**__import__("os").environ, "PACKDESK_HOME": str(hub.home)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path_factory.mktemp("demo-hub"))
    load_demo(hub)
    hub.start()
    yield hub
    hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-4000:]


@dataclass
class Station:
    settings: Settings
    store: LocalStore
    engine: SyncEngine
    services: AppServices


StationFactory = Callable[..., Station]


@pytest.fixture
def station(tmp_path: Path, home: Path, qapp: Any) -> Iterator[StationFactory]:
    made: list[Station] = []

    def make(hub_url: str, *, operator: str = "P001", pin: str = "1111", bench: str = "B1",
             name: str | None = None, sync: bool = True) -> Station:
        folder = tmp_path / f"st{len(made)}"
        folder.mkdir()
        settings = load_settings(folder / "settings.json")
        settings.station = name or f"{bench or 'DESK'}-{uuid.uuid4().hex[:6]}"
        settings.bench = bench
        settings.printers = {d: f"pdf:{folder / 'prints'}" for d in ("label", "pick_list", "packing_slip")}
        store = open_store(folder / "bench.sqlite3")
        engine = SyncEngine(store, SyncConfig(hub_url, settings.station, bench or None, settings.device_id,
                                              long_poll_s=2.0, backoff_base_s=0.1, backoff_cap_s=0.5,
                                              connect_timeout_s=1.0, read_timeout_s=5.0))
        info = engine.login(operator, pin)
        if sync:
            engine.sync_once()
        services = AppServices(settings, store, engine)
        services.set_operator(Operator(info.operator, info.operator_name, info.role))
        st = Station(settings, store, engine, services)
        made.append(st)
        return st

    yield make
    for st in made:
        st.services.shutdown()
