"""The desk's stock view (ui/stock_view.py) over a real hub process: Ctrl+Shift+S opens it for a desk
login, the rows come from ``GET /api/v1/stock/levels`` on the network pool, the short ones first
in red with ✘ and the word, search and sort work, Chinese first and it fits 1366×768; a packer's
login gets the hub's refusal in words, and a garbage answer is refused by the client.

One hub process (``sqlite_hub``); the stock is seeded in process through ``hub.stock.set_on_hand``
on the hub's own database file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from core import i18n
from core.settings import load_settings
from core.store import open_store
from core.sync import SyncConfig, SyncEngine
from core.sync.client import HubClient, HubMalformed
from hub import db, stock
from hub.api.deps import Hub
from hub.config import HubSettings
from hub.writer import Actor, Writer
from tests.hubproc import HubProcess
from ui.services import AppServices, Operator
from ui.stock_view import AVAILABLE, HEADERS, QUARANTINE, STATUS, StockDialog

#: (sku, warehouse, on hand); reserved is 0 (no orders at this hub) but TEA at GZ, set by hand below.
SEED = [("SKU-TEA-001", "WH-SH", 12), ("SKU-SNK-001", "WH-SH", 0), ("SKU-TEA-001", "WH-GZ", 3),
        ("GIFT-CUP-01", "WH-SH", 0), ("SKU-TEA-002", "WH-BJ", 40)]


def seed(db_url: str) -> None:
    hub = Hub(HubSettings(database_url=db_url))
    try:
        def run(c: Any) -> None:
            # The hub seeded its rules' gift table at start: start from an empty stock instead.
            c.execute(db.stock_moves.delete())
            c.execute(db.stock.delete())
            w = Writer(c, hub.settings, Actor.system("test"))
            for sku, wh, n in SEED:
                stock.set_on_hand(w, sku, wh, n, "test")
            # One reservation by hand (as an allocation would): TEA at GZ 3 on hand, 3 reserved → short.
            c.execute(db.stock.update().where(db.stock.c.sku == "SKU-TEA-001", db.stock.c.warehouse == "WH-GZ")
                      .values(reserved=3))
        hub.tx(run)
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def services_for(tmp_path: Path, hub: HubProcess, code: str, pin: str, role: str, name: str,
                 bench: str | None = None) -> AppServices:
    store = open_store(tmp_path / f"{code}.sqlite3")
    engine = SyncEngine(store, SyncConfig(hub.url, f"ST-{code}", bench, f"4b0a3f7e-0000-4000-8000-00000000{pin}"))
    engine.login(code, pin)
    svc = AppServices(load_settings(tmp_path / f"{code}.json"), store, engine)
    svc.set_operator(Operator(code, name, role))
    return svc


@pytest.fixture
def desk(tmp_path: Path, qapp: Any, sqlite_hub: HubProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    seed(sqlite_hub.db_url)
    svc = services_for(tmp_path, sqlite_hub, "D001", "2222", "desk", "张丽")
    yield svc
    svc.shutdown()


def answered(dialog: StockDialog, qtbot: Any, before: int) -> None:
    qtbot.waitUntil(lambda: dialog.answered > before, timeout=10_000)


def column(dialog: StockDialog, col: int) -> list[str]:
    return [dialog.table.item(i, col).text() for i in range(dialog.table.rowCount())]


def test_stock_view_short_first_search_sort_in_chinese(desk: AppServices, sqlite_hub: HubProcess, qtbot: Any,
                                                       tmp_path: Path) -> None:
    from ui.main_window import MainWindow

    i18n.set_language("zh_CN")
    try:
        w = MainWindow(desk)
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        assert w.stock_action.isEnabled()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        w.scan.setFocus()
        qtbot.keyClick(w.scan, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(lambda: getattr(w, "stock_dialog", None) is not None, timeout=5_000)
        dialog: StockDialog = w.stock_dialog
        answered(dialog, qtbot, 0)
        assert dialog.isVisible()
        # Short ones first (available ≤ 0), least available first, then by SKU; each flag has icon and text.
        keys = [(r["sku"], r["warehouse"]) for r in dialog.shown]
        # The three with 0 available by SKU, then TEA@SH (12), then TEA-002@BJ (40).
        assert keys == [("GIFT-CUP-01", "WH-SH"), ("SKU-SNK-001", "WH-SH"), ("SKU-TEA-001", "WH-GZ"),
                        ("SKU-TEA-001", "WH-SH"), ("SKU-TEA-002", "WH-BJ")]
        assert column(dialog, STATUS) == ["✘ 缺货"] * 3 + ["✓ 有货"] * 2
        assert dialog.table.item(0, STATUS).foreground().color().name() == "#c62828"
        assert dialog.table.item(4, STATUS).foreground().color().name() == "#2e7d32"
        gz = dialog.shown[2]
        assert (gz["on_hand"], gz["reserved"], gz["available"]) == (3, 3, 0)
        assert column(dialog, AVAILABLE) == ["0", "0", "0", "12", "40"]
        assert column(dialog, QUARANTINE) == ["0"] * 5  # no damaged returns yet (docs/returns.md)
        headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(len(HEADERS))]
        assert headers[0] == "库存状态" and "可用" in headers and not any(h.isascii() and h != "SKU" for h in headers)
        assert [b.text() for b in dialog.findChildren(QPushButton)] and all(
            not b.text().isascii() for b in dialog.findChildren(QPushButton))  # 刷新, 关闭: no English
        assert "5 条库存" in dialog.message.text() and "3 条缺货" in dialog.message.text()
        # It fits a 1366×768 screen with every column readable.
        assert dialog.width() <= 1366 and dialog.height() <= 768
        if os.environ.get("PACKDESK_SCREENSHOTS"):  # to look at it (docs/ui.md)
            assert dialog.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "stock-view.png"))
        # Sort by available: a click on its header sorts one way, a second click the other way.
        header = dialog.table.horizontalHeader()
        at = QPoint(header.sectionViewportPosition(AVAILABLE) + 5, header.height() // 2)
        orders: list[Qt.SortOrder] = []
        for _click in range(2):
            qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
            assert header.sortIndicatorSection() == AVAILABLE
            orders.append(header.sortIndicatorOrder())
            want = ["0", "0", "0", "12", "40"]
            assert column(dialog, AVAILABLE) == (want if orders[-1] == Qt.SortOrder.AscendingOrder else want[::-1])
        assert orders[0] != orders[1]
        # Search: SKU, name or warehouse, any case.
        dialog.search.setText("wh-gz")
        assert [(r["sku"], r["warehouse"]) for r in dialog.shown] == [("SKU-TEA-001", "WH-GZ")]
        dialog.search.setText("tea-00")
        assert {r["warehouse"] for r in dialog.shown} == {"WH-SH", "WH-GZ", "WH-BJ"}
        dialog.search.setText("nothing-like-this")
        assert dialog.table.rowCount() == 0 and "0 / 5" in dialog.message.text()
        # A refresh reads the hub again (stock arrived for the snacks).
        seed_more(sqlite_hub.db_url)
        dialog.search.clear()
        header.setSortIndicator(STATUS, Qt.SortOrder.AscendingOrder)
        before = dialog.answered
        dialog.refresh_button.click()
        answered(dialog, qtbot, before)
        assert [r["sku"] for r in dialog.shown if r["available"] <= 0] == ["GIFT-CUP-01", "SKU-TEA-001"]
        dialog.close()
    finally:
        i18n.set_language("en")


def seed_more(db_url: str) -> None:
    hub = Hub(HubSettings(database_url=db_url))
    try:
        hub.tx(lambda c: stock.set_on_hand(Writer(c, hub.settings, Actor.system("test")), "SKU-SNK-001", "WH-SH", 7,
                                           "test"))
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def test_packer_is_refused_and_garbage_is_refused(desk: AppServices, sqlite_hub: HubProcess, qtbot: Any,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packer = services_for(tmp_path, sqlite_hub, "P001", "1111", "packer", "王小明", "B1")
    try:
        dialog = StockDialog(packer)
        qtbot.addWidget(dialog)
        dialog.refresh()
        answered(dialog, qtbot, 0)
        assert dialog.shown == [] and dialog.message.text() and "#c62828" in dialog.message.styleSheet()
    finally:
        packer.shutdown()
    client = HubClient(sqlite_hub.url)
    try:
        for bad in ({"rows": [{"sku": "X", "warehouse": "W", "on_hand": "1", "reserved": 0, "available": 1}]},
                    {"rows": "nope"}, [], {"rows": [{"sku": "X", "warehouse": "W", "on_hand": True,
                                                     "reserved": 0, "available": 1}]}):
            monkeypatch.setattr(client, "_request", lambda *_a, _bad=bad, **_k: _bad)
            with pytest.raises(HubMalformed):
                client.stock_levels()
    finally:
        client.close()


def set_quarantine(db_url: str, sku: str, warehouse: str, n: int) -> None:
    """Damaged returns graded at a bench (docs/returns.md), put in by hand on the hub's database."""
    hub = Hub(HubSettings(database_url=db_url))
    try:
        hub.tx(lambda c: c.execute(db.stock.update().where(db.stock.c.sku == sku, db.stock.c.warehouse == warehouse)
                                   .values(quarantine=n)))
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def row_of(dialog: StockDialog, sku: str, warehouse: str) -> dict[str, Any]:
    return next(r for r in dialog.shown if (r["sku"], r["warehouse"]) == (sku, warehouse))


def select(dialog: StockDialog, sku: str, warehouse: str) -> None:
    dialog.table.selectRow(dialog.shown.index(row_of(dialog, sku, warehouse)))


def press(dialog: StockDialog, qtbot: Any, key: Qt.Key) -> None:
    """A key on the stock table once its window is active again (a closed child dialog gave focus back)."""
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog.table, key)


def test_desk_counts_a_row_and_takes_damaged_returns_out_of_quarantine_by_keyboard(
        desk: AppServices, sqlite_hub: HubProcess, qtbot: Any) -> None:
    from ui.stock_change import StockChangeDialog

    set_quarantine(sqlite_hub.db_url, "SKU-TEA-001", "WH-SH", 2)
    dialog = StockDialog(desk)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.refresh()
    answered(dialog, qtbot, 0)
    assert not dialog.adjust_button.isEnabled()  # nothing selected yet
    press(dialog, qtbot, Qt.Key.Key_F2)
    assert dialog.change_dialog is None and "#c62828" in dialog.message.styleSheet()
    select(dialog, "SKU-SNK-001", "WH-SH")
    assert dialog.adjust_button.isEnabled() and not dialog.quarantine_button.isEnabled()
    press(dialog, qtbot, Qt.Key.Key_F3)  # nothing in quarantine there: said, no dialog
    assert dialog.change_dialog is None and "SKU-SNK-001" in dialog.message.text()

    # F2 on TEA@SH (12 on hand): a cycle count of 10, typed; Enter applies it at the hub.
    select(dialog, "SKU-TEA-001", "WH-SH")
    press(dialog, qtbot, Qt.Key.Key_F2)
    change: StockChangeDialog = dialog.change_dialog
    assert change.isVisible() and change.kind.currentData() == "cycle_count"
    assert not change.send_button.isEnabled()  # the count is what the hub has: nothing to send
    change.number.selectAll()
    qtbot.keyClicks(change.number, "10")
    assert "12 → 10" in change.preview.text() and change.send_button.isEnabled()
    before = dialog.answered
    qtbot.keyClick(change.number, Qt.Key.Key_Return)
    answered(dialog, qtbot, before)
    assert change.answer is not None and change.answer["on_hand"] == 10
    assert row_of(dialog, "SKU-TEA-001", "WH-SH")["on_hand"] == 10
    assert "SKU-TEA-001" in dialog.message.text() and dialog.selected_row() == row_of(dialog, "SKU-TEA-001", "WH-SH")

    # F3: one damaged unit re-checked and good goes back on the shelf.
    assert dialog.quarantine_button.isEnabled()
    press(dialog, qtbot, Qt.Key.Key_F3)
    change = dialog.change_dialog
    assert change.number.maximum() == 2 and change.number.value() == 2
    change.kind.setCurrentIndex(change.kind.findData("restock"))
    change.number.setValue(1)
    assert "2 → 1" in change.preview.text() and "10 → 11" in change.preview.text()
    before = dialog.answered
    qtbot.keyClick(change.note, Qt.Key.Key_Return)
    answered(dialog, qtbot, before)
    tea = row_of(dialog, "SKU-TEA-001", "WH-SH")
    assert (tea["on_hand"], tea["quarantine"]) == (11, 1)

    # Another desk scrapped the last unit meanwhile: the hub refuses, said in words; what was typed stays.
    press(dialog, qtbot, Qt.Key.Key_F3)
    change = dialog.change_dialog
    change.note.setText("外箱压坏")
    set_quarantine(sqlite_hub.db_url, "SKU-TEA-001", "WH-SH", 0)
    change.send_button.click()
    qtbot.waitUntil(lambda: bool(change.problem.text()), timeout=10_000)
    assert "0" in change.problem.text() and change.isVisible() and change.note.text() == "外箱压坏"
    assert change.send_button.isEnabled()

    # The hub goes away: said, nothing lost, the dialog stays open.
    sqlite_hub.stop()
    change.problem.setText("")
    change.send_button.click()
    qtbot.waitUntil(lambda: bool(change.problem.text()), timeout=20_000)
    assert change.isVisible() and change.note.text() == "外箱压坏" and change.send_button.isEnabled()
    change.reject()
