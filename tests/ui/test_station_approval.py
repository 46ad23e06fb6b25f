"""Stations in the app: a pending station says so in the operator's language, a supervisor approves
it in the Stations dialog, and a real (non-demo) embedded hub approves its own PC's station.

Real hubs (no demo operators, no auto-approval), real HTTP; every hub call off the GUI thread.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import set_language
from core.settings import Settings, load_settings
from core.store import open_store
from core.sync import HubUnauthorized, SyncConfig, SyncEngine
from tests.hub.realhub import OPERATORS, add_operators, start_real_hub
from tests.hubproc import ROOT, free_port
from tests.ui.conftest import StationFactory
from ui.embedded_hub import EmbeddedHub
from ui.login_dialog import LoginDialog
from ui.services import AppServices
from ui.stations_dialog import StationsDialog


def _shot(widget: Any, folder: Path, name: str) -> None:
    """Render the widget offscreen (to look at: set PACKDESK_SHOTS to a folder to keep the PNGs)."""
    import os

    image = widget.grab()
    assert not image.isNull()
    image.save(str(folder / f"{name}.png"))
    if os.environ.get("PACKDESK_SHOTS"):
        image.save(str(Path(os.environ["PACKDESK_SHOTS"]) / f"{name}.png"))


def _pc(tmp_path: Path, hub_url: str, station: str, bench: str | None) -> AppServices:
    """A bench PC nobody has logged in on yet."""
    folder = tmp_path / f"pc-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    settings: Settings = load_settings(folder / "settings.json")
    settings.station, settings.bench = station, bench
    store = open_store(folder / "bench.sqlite3")
    engine = SyncEngine(store, SyncConfig(hub_url, station, bench, settings.device_id, connect_timeout_s=1.0,
                                          read_timeout_s=10.0))
    return AppServices(settings, store, engine)


def _submit(qtbot: Any, services: AppServices, code: str) -> LoginDialog:
    dialog = LoginDialog(services)
    qtbot.addWidget(dialog)
    dialog.code.setText(code)
    dialog.pin.setText(OPERATORS[code][2])
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=15_000)
    return dialog


def test_a_pending_station_says_so_and_a_supervisor_approves_it_in_the_app(
        qtbot: Any, tmp_path: Path, home: Path, station: StationFactory, qt_warnings: list[str]) -> None:
    hub = start_real_hub(tmp_path / "hub", f"sqlite:///{tmp_path / 'hub.db'}")
    packer_pc: AppServices | None = None
    try:
        add_operators(hub)
        packer_pc = _pc(tmp_path, hub.url, "B3-NEW", "B3")
        dialog = _submit(qtbot, packer_pc, "P001")
        assert not dialog.result() and dialog.message.property("waiting") is True
        assert "waits for a supervisor's approval" in dialog.message.text(), dialog.message.text()
        _shot(dialog, tmp_path, "login-pending-en")
        set_language("zh_CN")
        zh = _submit(qtbot, packer_pc, "P001")
        assert "等待主管批准" in zh.message.text(), zh.message.text()
        _shot(zh, tmp_path, "login-pending-zh")
        set_language("en")

        sup = station(hub.url, operator="S001", pin=OPERATORS["S001"][2], bench="", name="SUP-PC", sync=False)
        stations = StationsDialog(sup.services)
        qtbot.addWidget(stations)
        stations.show()
        stations.refresh()
        qtbot.waitUntil(lambda: bool(stations.rows), timeout=15_000)
        first = stations.rows[0]
        assert (first["name"], first["status"], first["requested_by"]) == ("B3-NEW", "pending", "P001")
        assert stations.table.item(0, 1).text() == "waiting for approval"
        # the hub's UTC time on the site's clock, not the ISO text cut short
        asked = datetime.fromisoformat(first["requested_at"].replace("Z", "+00:00"))
        assert stations.table.item(0, 5).text() == asked.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        assert stations.bench.currentText() == "B3" and stations.approve_button.isEnabled()
        assert "1 stations wait" in stations.message.text()
        _shot(stations, tmp_path, "stations")
        stations.approve_selected()
        qtbot.waitUntil(lambda: stations.refresh_button.isEnabled(), timeout=15_000)
        assert "Station B3-NEW approved on bench B3. No station waits" in stations.message.text()
        assert {r["name"]: r["status"] for r in stations.rows}["B3-NEW"] == "approved"
        listed = hub.cli("station", "list").stdout
        assert f"device {packer_pc.settings.device_id}" in listed

        ok = LoginDialog(packer_pc)
        qtbot.addWidget(ok)
        ok.code.setText("P001")
        ok.pin.setText(OPERATORS["P001"][2])
        with qtbot.waitSignal(ok.accepted, timeout=15_000):
            ok.submit()
        assert ok.result_value is not None and not ok.result_value.offline

        selected = stations.selected()  # still the station acted on, though the rows were re-sorted
        assert selected is not None and selected["name"] == "B3-NEW"
        stations.revoke_selected()
        qtbot.waitUntil(lambda: stations.refresh_button.isEnabled(), timeout=15_000)
        assert "B3-NEW revoked" in stations.message.text()
        assert {r["name"]: r["status"] for r in stations.rows}["B3-NEW"] == "revoked"
        selected = stations.selected()
        assert selected is not None and selected["name"] == "B3-NEW"
        _shot(stations, tmp_path, "stations-after")
        set_language("zh_CN")
        zh_stations = StationsDialog(sup.services)
        qtbot.addWidget(zh_stations)
        zh_stations._show(stations.rows)
        assert zh_stations.table.item(0, 1).text() in ("已批准", "已停用")
        _shot(zh_stations, tmp_path, "stations-zh")
        set_language("en")
    finally:
        if packer_pc is not None:
            packer_pc.shutdown()
        hub.stop()
    assert "Traceback" not in hub.errors_logged()


def test_the_stations_entry_is_for_supervisors_only(qtbot: Any, tmp_path: Path, station: StationFactory,
                                                   qt_warnings: list[str]) -> None:
    from ui.main_window import MainWindow

    hub = start_real_hub(tmp_path / "hub", f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        add_operators(hub)
        sup = station(hub.url, operator="S001", pin=OPERATORS["S001"][2], bench="B1", name="B1-PC", sync=False)
        w = MainWindow(sup.services)
        qtbot.addWidget(w)
        assert w.stations_action.isEnabled()
        hub.cli("station", "approve", "B2-PC", "--bench", "B2")  # approved ahead: its first login binds it
        packer = station(hub.url, operator="P001", pin=OPERATORS["P001"][2], bench="B2", name="B2-PC", sync=False)
        assert packer.engine.login_info is not None
        wp = MainWindow(packer.services)
        qtbot.addWidget(wp)
        assert not wp.stations_action.isEnabled()
    finally:
        hub.stop()


def test_a_real_embedded_hub_approves_this_pcs_station_and_no_other(home: Path) -> None:
    hub = EmbeddedHub(home / "data", port=free_port())
    device = "4b0a3f7e-0000-4000-8000-00000000abcd"
    assert "approved" in hub.approve_local_station("SHOP-PC", "B1", device)
    r = subprocess.run([sys.executable, "-m", "hub", "--db", hub.db_url, "set-pin", "A001", "--name", "Boss",
                        "--role", "admin", "--pin", "80412"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    url = hub.start()
    store = open_store(home / "b.sqlite3")
    try:
        engine = SyncEngine(store, SyncConfig(url, "SHOP-PC", "B1", device))
        assert engine.login("A001", "80412").bench == "B1"
        other = SyncEngine(store, SyncConfig(url, "SHOP-PC", "B1", "another-device"))
        try:
            other.login("A001", "80412")
            raise AssertionError("another PC got the shop PC's station")
        except HubUnauthorized as exc:
            assert exc.code == "station_device_mismatch"
        demo = SyncEngine(store, SyncConfig(url, "SHOP-PC", "B1", device))
        try:
            demo.login("A001", "0000")
            raise AssertionError("a demo PIN worked on a real embedded hub")
        except HubUnauthorized as exc:
            assert exc.code == "bad_credentials"
    finally:
        store.close()
        hub.stop()
