"""First run, login (wrong PIN, offline login), the embedded hub and an app start with --demo."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core.offline_login import check_offline
from core.settings import load_settings
from core.store import open_store
from core.sync import SyncConfig, SyncEngine
from tests.hubproc import HubProcess, free_port
from tests.ui.conftest import StationFactory
from ui.app import use_language
from ui.embedded_hub import EmbeddedHub
from ui.first_run import FirstRunDialog, known_benches
from ui.login_dialog import LoginDialog
from ui.services import AppServices


@pytest.fixture(autouse=True)
def _english_after(qapp: Any) -> Iterator[None]:
    """An app start here picks the settings' language (zh_CN); the next test file must not inherit it."""
    yield
    use_language(qapp, "en")


def test_first_run_saves_station_bench_language_printers(qtbot: Any, home: Path, qt_warnings: list[str]) -> None:
    settings = load_settings(home / "settings.json")
    dialog = FirstRunDialog(settings, printers=["Office-Laser"])
    qtbot.addWidget(dialog)
    form = dialog.form
    assert form.station.text()  # defaults to the host name
    assert form.bench_value() == "B1" and "VIP1" in known_benches() and "GZ-B1" in known_benches()
    assert form.language.currentData() == "zh_CN"
    form.station.setText("B2-PC")
    form.bench.setCurrentIndex(form.bench.findData("B2"))
    form.language.setCurrentIndex(form.language.findData("en"))
    label = form.printers["label"]
    label.kind.setCurrentIndex(label.kind.findData("tcp"))
    dialog.accept()
    assert not dialog.result() and "address" in form.problem_label.text()  # thermal printer needs a host
    label.host.setText("10.0.0.9")
    form.printers["pick_list"].kind.setCurrentIndex(0)  # the system printer
    form.flow.setCurrentIndex(form.flow.findData("pack-first"))
    dialog.accept()
    saved = load_settings(home / "settings.json")
    assert (saved.station, saved.bench, saved.language, saved.bench_flow) == ("B2-PC", "B2", "en", "pack-first")
    assert saved.printers["label"] == "tcp:10.0.0.9:9100"
    assert saved.printers["pick_list"] == "Office-Laser"
    assert saved.printers["packing_slip"].startswith("pdf:") and saved.printers["packing_slip"].endswith("prints")
    desk = FirstRunDialog(saved, printers=[])
    qtbot.addWidget(desk)
    desk.form.bench.setCurrentIndex(desk.form.bench.findData(""))
    assert desk.form.bench_value() == ""


def _login(qtbot: Any, services: AppServices, code: str, pin: str) -> LoginDialog:
    dialog = LoginDialog(services)
    qtbot.addWidget(dialog)
    dialog.code.setText(code)
    dialog.pin.setText(pin)
    return dialog


def test_login_wrong_pin_then_right_then_offline(qtbot: Any, tmp_path: Path, station: StationFactory,
                                                 qt_warnings: list[str]) -> None:
    hub = HubProcess(tmp_path / "hub").start()
    st = station(hub.url, operator="P001", pin="1111", bench="B1", sync=False)
    st.engine.logout()
    services = st.services
    dialog = _login(qtbot, services, "P001", "9999")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=10_000)
    assert "Wrong operator code or PIN" in dialog.message.text() and not dialog.result()
    assert dialog.pin.echoMode() == dialog.pin.EchoMode.Password
    dialog.pin.setText("1111")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
    assert dialog.result_value is not None and not dialog.result_value.offline
    assert services.operator is not None and services.operator.role == "packer"
    raw = services.store.meta("known_operator:P001") or ""
    assert "1111" not in raw and "pbkdf2" not in raw and '"hash"' in raw  # a salted hash, never the PIN
    assert check_offline(services.store, "P001", "1111") is not None
    assert check_offline(services.store, "P001", "2222") is None

    hub.stop()  # the network drops: offline login for the operator known here
    offline = _login(qtbot, services, "p001", "1111")
    with qtbot.waitSignal(offline.accepted, timeout=15_000):
        offline.submit()
    assert offline.result_value is not None and offline.result_value.offline
    assert offline.result_value.operator.name == "王小明"
    unknown = _login(qtbot, services, "D001", "2222")
    unknown.submit()
    qtbot.waitUntil(lambda: unknown.buttons.isEnabled(), timeout=15_000)
    assert not unknown.result() and "has not logged in on this station before" in unknown.message.text()
    wrong = _login(qtbot, services, "P001", "1234")
    wrong.submit()
    qtbot.waitUntil(lambda: wrong.buttons.isEnabled(), timeout=15_000)
    assert not wrong.result() and "Offline login is only" in wrong.message.text()


def test_embedded_hub_demo_start_stop(home: Path) -> None:
    hub = EmbeddedHub(home / "data", port=free_port())
    assert "300" in hub.load_demo()
    assert "already there" in hub.load_demo()  # idempotent: same seed, same channel orders
    url = hub.start()
    try:
        assert requests.get(url + "/api/v1/health", timeout=5).json()["status"] == "ok"
        store = open_store(home / "b.sqlite3")
        engine = SyncEngine(store, SyncConfig(url, "DESK-1", None, "4b0a3f7e-0000-4000-8000-000000000001"))
        engine.login("D001", "2222")
        engine.sync_once()
        assert store.count_orders() == 300
        store.close()
    finally:
        hub.stop()
    assert not hub.running and (home / "data" / "hub.db").exists()
    hub.stop()  # twice is fine


def test_app_start_with_demo_and_embedded_hub(qtbot: Any, home: Path, monkeypatch: pytest.MonkeyPatch,
                                              qt_warnings: list[str]) -> None:
    import ui.app as app_mod

    monkeypatch.setattr(app_mod, "setup_logging", lambda name: home / f"{name}.log")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    settings = load_settings()
    settings.station, settings.bench = "B1-PC", "B1"
    settings.save()
    app = app_mod.App(["--demo"])
    app.prepare()
    try:
        assert app.open_store() and app.first_run() and app.start_hub()
        assert app.hub is not None and app.hub.running and app.hub_url.startswith("http://127.0.0.1:")
        app.make_services()
        dialog = _login(qtbot, app.services, "P001", "1111")
        with qtbot.waitSignal(dialog.accepted, timeout=15_000):
            dialog.submit()
        app.show_main()
        w = app.window
        qtbot.waitUntil(lambda: w.models["bench"].total > 0, timeout=30_000)
        assert {r.bench for r in w.models["all"]._all} <= {"B1"}
    finally:
        hub = app.hub
        app.shutdown()
    assert hub is not None and not hub.running


@pytest.mark.allow_error_log(match="cannot open the local store")
def test_locked_or_damaged_store_stops_the_start_and_keeps_the_file(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    qapp: Any) -> None:
    import ui.app as app_mod

    monkeypatch.setattr(app_mod, "setup_logging", lambda name: home / f"{name}.log")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    shown: list[str] = []
    monkeypatch.setattr(app_mod.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    bad = home / "data" / "bench.sqlite3"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"this is not a database" * 100)
    assert app_mod.App([]).run() == 2
    assert shown and "damaged" in shown[0]
    assert bad.read_bytes() == b"this is not a database" * 100


def test_the_store_opens_off_the_gui_thread(home: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> None:
    """Opening the store may rebuild its queue cache (seconds at 100k orders after an upgrade): it runs
    on a worker while the GUI thread keeps its event loop, and the store is the app's afterwards."""
    import threading

    import ui.app as app_mod
    from core.store import open_store as real_open

    opened_on: list[threading.Thread] = []

    def open_here() -> Any:
        opened_on.append(threading.current_thread())
        return real_open(home / "data" / "bench.sqlite3")

    monkeypatch.setattr(app_mod, "open_store", open_here)
    monkeypatch.setattr(app_mod, "setup_logging", lambda name: home / f"{name}.log")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    app = app_mod.App([])
    app.prepare()
    assert app.open_store()
    assert opened_on and opened_on[0] is not threading.main_thread()
    assert app.store is not None and app.store.count_orders() == 0
    app.store.close()
