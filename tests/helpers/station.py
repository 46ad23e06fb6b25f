"""Stations in tests — one copy for the sync, UI and end-to-end tests.

A station is what a bench or desk PC runs: a local store, its outbox and a sync engine against a
real hub, and for the UI tests the app's services (settings, task runner) on top.
:func:`bench_station` builds the Qt-free kind (the sync tests), :func:`app_station` the kind
with :class:`ui.services.AppServices` (imported only there, so sync tests never load Qt).
Both use short sync timings, so a test sees the engine back off and recover in a fraction of a
second. The fixtures (``make_station`` in tests/sync, ``station`` in tests/ui and tests/e2e) only
keep a list and close what they made.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.outbox import Outbox
from core.store import LocalStore, open_store
from core.sync.engine import SyncConfig, SyncEngine
from tests.hubproc import ROOT, HubProcess

if TYPE_CHECKING:
    from core.settings import Settings
    from ui.main_window import MainWindow
    from ui.services import AppServices

#: Sync timings for tests: long-polls short enough to stop quickly, back-off in tenths of a second.
FAST_SYNC: dict[str, Any] = {"long_poll_s": 1.0, "backoff_base_s": 0.05, "backoff_cap_s": 0.3,
                             "connect_timeout_s": 1.0, "read_timeout_s": 10.0}


def sync_config(hub_url: str, *, station: str = "B1-PC", bench: str | None = "B1", device_id: str | None = None,
                **over: Any) -> SyncConfig:
    """A :class:`SyncConfig` with :data:`FAST_SYNC` timings (``over`` changes any field)."""
    return SyncConfig(**{"hub_url": hub_url, "station": station, "bench": bench,
                         "device_id": device_id or f"dev-{station}", **FAST_SYNC, **over})


@dataclass
class Station:
    """One station of a test. ``settings``/``services`` are set for an :func:`app_station` only."""

    store: LocalStore
    outbox: Outbox
    engine: SyncEngine
    operator: str
    settings: Settings | None = None
    services: AppServices | None = None

    def sync(self) -> None:
        """One full sync round now (push, then pull), on the test's thread."""
        self.engine.sync_once()

    def order(self, order_id: str) -> Any:
        """The station's local copy of an order (it must be there)."""
        order = self.store.get_order(order_id)
        assert order is not None, order_id
        return order

    def close(self) -> None:
        if self.services is not None:
            self.services.shutdown()  # stops the engine, the task runner, closes the store
        else:
            self.engine.stop()
            self.store.close()


StationFactory = Callable[..., Station]


def bench_station(folder: Path, hub_url: str, *, name: str = "B1-PC", bench: str | None = "B1",
                  operator: str = "P001", pin: str = "1111", busy_timeout_s: float = 10.0, **cfg: Any) -> Station:
    """A store, outbox and engine with the operator's credentials set (it logs in on first use)."""
    store = open_store(folder / f"{name}.sqlite3", busy_timeout_s=busy_timeout_s)
    engine = SyncEngine(store, sync_config(hub_url, station=name, bench=bench, **cfg))
    engine.set_credentials(operator, pin)
    outbox = Outbox(store)
    engine.watch_outbox(outbox)
    return Station(store, outbox, engine, operator)


def app_station(folder: Path, hub_url: str, *, name: str, bench: str | None, operator: str = "P001",
                pin: str = "1111", role: str | None = None, login: bool = True, sync: bool = True,
                printers: tuple[str, ...] = ("label", "pick_list", "packing_slip"), **cfg: Any) -> Station:
    """A station with the app's services, printing to PDF files in ``folder / "prints"``.

    Args:
        login: log in now (the operator comes from the hub's answer) and, with ``sync``, sync once;
            False: only set the credentials and take the operator as ``operator``/``role``.
    """
    from core.settings import load_settings
    from ui.services import AppServices, Operator

    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings(folder / "settings.json")
    settings.station = name
    settings.bench = bench or ""
    settings.printers = {doc: f"pdf:{folder / 'prints'}" for doc in printers}
    store = open_store(folder / "bench.sqlite3")
    engine = SyncEngine(store, sync_config(hub_url, station=name, bench=bench or None,
                                           device_id=settings.device_id, **cfg))
    if login:
        info = engine.login(operator, pin)
        if sync:
            engine.sync_once()
        who = Operator(info.operator, info.operator_name, info.role)
    else:
        engine.set_credentials(operator, pin)
        who = Operator(operator, operator, role or "packer")
    services = AppServices(settings, store, engine)
    services.set_operator(who)
    return Station(store, services.outbox, engine, operator, settings, services)


def load_demo(hub: HubProcess, n: int = 300) -> None:
    """Put ``n`` demo orders into a hub's database with the hub's CLI (before it starts, or while it runs)."""
    r = subprocess.run([sys.executable, "-m", "hub", "--db", hub.db_url, "demo", str(n)], cwd=ROOT,
                       env={**os.environ, "PACKDESK_HOME": str(hub.home)}, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr


def start_demo_hub(folder: Path, n: int) -> HubProcess:
    """A started hub process with ``n`` demo orders (the caller stops it)."""
    hub = HubProcess(folder)
    load_demo(hub, n)
    return hub.start()


def open_window(qtbot: Any, services: AppServices, queue: str = "bench", timeout_ms: int = 15_000) -> MainWindow:
    """The main window, shown, once its ``queue`` has rows."""
    from ui.main_window import MainWindow

    w = MainWindow(services)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.models[queue].total > 0, timeout=timeout_ms)
    return w
