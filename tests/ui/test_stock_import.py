"""The stock sheet import from the stock view, by keyboard, over one real hub process
(ui/stock_import.py, docs/stock.md "Stock sheet import"): Ctrl+I in the stock view opens it, Ctrl+O
chooses the sheet (the file picker is the only thing stood in for), the preview lists the changes
and nothing is written yet, Enter imports, the stock view refreshes; a sheet with bad rows shows
them in Chinese and cannot be imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QTableWidget

from core import i18n
from hub import db
from hub.api.deps import Hub
from hub.config import HubSettings
from tests.hubproc import HubProcess
from tests.ui.test_stock_view import seed, services_for
from ui.services import AppServices
from ui.stock_import import StockImportDialog
from ui.stock_view import StockDialog


@pytest.fixture
def desk(tmp_path: Path, qapp: Any, sqlite_hub: HubProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    seed(sqlite_hub.db_url)  # TEA@SH 12 among others
    svc = services_for(tmp_path, sqlite_hub, "D001", "2222", "desk", "张丽")
    yield svc
    svc.shutdown()


def on_hand(db_url: str) -> dict[tuple[str, str], int]:
    hub = Hub(HubSettings(database_url=db_url))
    try:
        s = db.stock.c
        rows = hub.read(lambda c: c.execute(db.stock.select()).all())
        return {(r._mapping[s.sku], r._mapping[s.warehouse]): r._mapping[s.on_hand] for r in rows}
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def press(qtbot: Any, widget: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
    qtbot.keyClick(widget, key, modifier)


def test_stock_sheet_import_by_keyboard_preview_then_apply(desk: AppServices, sqlite_hub: HubProcess, qtbot: Any,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "库存0606.csv"
    good.write_text("商品编码,仓库,库存,备注\nSKU-TEA-001,WH-SH,30,到货\nSKU-NEW-001,WH-SH,8,\n", encoding="utf-8-sig")
    bad = tmp_path / "库存-错.csv"
    bad.write_text("商品编码,仓库,库存\nSKU-TEA-001,WH-XX,5\nSKU-TEA-002,WH-BJ,-1\n", encoding="utf-8-sig")
    picked: list[Path] = [bad, good]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(picked.pop(0)), ""))
    before = on_hand(sqlite_hub.db_url)
    i18n.set_language("zh_CN")
    try:
        view = StockDialog(desk)
        qtbot.addWidget(view)
        view.resize(1000, 560)
        view.show()
        assert view.import_button.text() == "导入库存表…"
        press(qtbot, view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: view.import_dialog is not None and view.import_dialog.isVisible(), timeout=5000)
        dialog: StockImportDialog = view.import_dialog

        # a sheet with bad rows: each reason in Chinese, Import stays off, nothing written
        press(qtbot, dialog, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: dialog.answered == 1, timeout=10_000)
        assert dialog.errors is not None and dialog.errors.rowCount() == 2
        reasons = [cell(dialog.errors, i, 1) for i in range(2)]
        assert "WH-XX" in reasons[0] and "不是本站点的仓库" in reasons[0]
        assert "小于 0" in reasons[1]
        assert not dialog.apply_button.isEnabled() and "2 行有错误" in dialog.summary.text()
        assert on_hand(sqlite_hub.db_url) == before

        # a good sheet: the preview lists the changes, nothing is written until Enter
        press(qtbot, dialog, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: dialog.answered == 2, timeout=10_000)
        assert dialog.errors is None and dialog.apply_button.isEnabled() and dialog.apply_button.isDefault()
        rows = [[cell(dialog.changes, i, c) for c in range(4)] for i in range(dialog.changes.rowCount())]
        assert rows == [["2", "SKU-TEA-001", "WH-SH", "12 → 30"], ["3", "SKU-NEW-001", "WH-SH", "新建 → 8"]]
        assert "预览" in dialog.summary.text() and "按“导入”生效" in dialog.summary.text()
        assert on_hand(sqlite_hub.db_url) == before
        assert dialog.width() <= 1366 and dialog.height() <= 768
        if os.environ.get("PACKDESK_SCREENSHOTS"):
            assert dialog.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "stock-import.png"))

        answered = view.answered
        press(qtbot, dialog, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.answered == 3, timeout=10_000)
        assert dialog.outcome is not None and dialog.outcome["applied"] is True
        assert dialog.summary.text().startswith("✓ ") and "已导入" in dialog.summary.text()
        after = on_hand(sqlite_hub.db_url)
        assert after[("SKU-TEA-001", "WH-SH")] == 30 and after[("SKU-NEW-001", "WH-SH")] == 8
        qtbot.waitUntil(lambda: view.answered > answered, timeout=10_000)  # the view asked the hub again
        assert {(r["sku"], r["on_hand"]) for r in view.rows if r["warehouse"] == "WH-SH"} >= {
            ("SKU-TEA-001", 30), ("SKU-NEW-001", 8)}
        press(qtbot, dialog, Qt.Key.Key_Escape)
        assert not dialog.isVisible()
    finally:
        i18n.set_language("en")


def test_the_saved_template_is_a_sheet_the_hub_takes(desk: AppServices, sqlite_hub: HubProcess, qtbot: Any,
                                                     tmp_path: Path) -> None:
    """下载模板 writes our headers and an example row (XLSX or CSV); chosen again, the hub previews it clean."""
    from openpyxl import load_workbook

    dialog = StockImportDialog(desk)
    qtbot.addWidget(dialog)
    dialog.show()
    xlsx, csv_path = tmp_path / "库存模板.xlsx", tmp_path / "库存模板.csv"
    dialog.save_template(str(xlsx))
    qtbot.waitUntil(lambda: dialog.answered == 1, timeout=10_000)
    assert str(xlsx) in dialog.summary.text()
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["商品编码", "仓库", "库存", "备注"]
    dialog.save_template(str(csv_path))
    qtbot.waitUntil(lambda: dialog.answered == 2, timeout=10_000)
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[0] == "商品编码,仓库,库存,备注"
    for n, path in enumerate((xlsx, csv_path), start=3):
        dialog.choose(str(path))
        qtbot.waitUntil(lambda n=n: dialog.answered == n, timeout=10_000)
        assert dialog.errors is None and dialog.preview is not None, dialog.summary.text()
        assert [c["sku"] for c in dialog.preview["changes"]] == ["SKU-TEA-001"]
    dialog.save_template(str(tmp_path / "no-such-dir" / "t.xlsx"))  # cannot be written: said, nothing else
    qtbot.waitUntil(lambda: dialog.answered == 5, timeout=10_000)
    assert dialog.summary.text().startswith("✖ ")
