"""Importing an order sheet from the desk window: good rows in, bad rows listed, offline says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.hub.test_import_api import BAD_QTY, GOOD, GOOD2, HEADER
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.import_dialog import ImportResultDialog
from ui.main_window import MainWindow


def _window(qtbot: Any, services: Any) -> MainWindow:
    w = MainWindow(services)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        pass
    return w


def _sheet(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "双十二订单.csv"
    path.write_bytes((HEADER + "".join(rows)).encode("utf-8-sig"))  # as Excel saves "CSV UTF-8"
    return path


def test_a_sheet_with_a_bad_row_imports_the_rest_and_lists_the_bad_row(
        qtbot: Any, tmp_path: Path, sqlite_hub: HubProcess, station: StationFactory) -> None:
    desk = station(sqlite_hub.url, operator="D001", pin="2222", bench="")
    desk.engine.start()
    w = _window(qtbot, desk.services)
    assert w.import_action.isEnabled()
    w.import_orders(str(_sheet(tmp_path, GOOD, BAD_QTY, GOOD2)))
    qtbot.waitUntil(lambda: isinstance(getattr(w, "import_result", None), ImportResultDialog), timeout=20_000)
    result = w.import_result
    assert "2" in result.summary.text() and "1" in result.summary.text() and "双十二订单.csv" in result.summary.text()
    assert result.table.rowCount() == 1 and result.table.item(0, 0).text() == "3"
    assert result.refused_text().startswith("3\t")
    # The new orders come down the change feed into the desk's queues without a manual refresh.
    qtbot.waitUntil(lambda: w.models["all"].total == 2, timeout=20_000)
    first_ids = sorted(o["order_id"] for o in result.answer["orders"])
    # Importing the fixed sheet again does not double the orders: the same IDs come back.
    w.import_orders(str(_sheet(tmp_path, GOOD, GOOD2)))
    qtbot.waitUntil(lambda: w.import_result is not result, timeout=20_000)
    assert w.import_result.table.rowCount() == 0 and w.import_result.table.isHidden()
    assert sorted(o["order_id"] for o in w.import_result.answer["orders"]) == first_ids


def test_import_with_the_hub_down_says_so_and_packers_cannot_import(
        qtbot: Any, tmp_path: Path, station: StationFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = HubProcess(tmp_path / "hub").start()
    desk = station(hub.url, operator="D001", pin="2222", bench="")
    packer = station(hub.url, operator="P001", pin="1111", bench="B1")
    w = _window(qtbot, desk.services)
    hub.stop()
    shown: list[str] = []
    monkeypatch.setattr("ui.errors.show_error", lambda _parent, err, *_a: shown.append(str(getattr(err, "message", err))))
    w.import_orders(str(_sheet(tmp_path, GOOD)))
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    assert "nothing was imported" in shown[0] and w.import_action.isEnabled()
    not_a_sheet = tmp_path / "orders.pdf"
    not_a_sheet.write_bytes(b"%PDF-1.4")
    w.import_orders(str(not_a_sheet))
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=10_000)
    assert "orders.pdf" in shown[1] and "CSV" in shown[1]

    p = _window(qtbot, packer.services)
    assert not p.import_action.isEnabled() and "desk" in p.import_action.toolTip()
    p.import_orders(str(_sheet(tmp_path, GOOD)))  # e.g. a stray Ctrl+I: nothing starts
    assert p.message_label.text() == "" and len(shown) == 2
