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


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
UNFAMILIAR = "单号,姓名,电话,地区,城市,区域,街道地址,货品,件数,金额,备用列\n"


def test_in_chinese_every_refused_row_is_one_chinese_line(
        qtbot: Any, tmp_path: Path, sqlite_hub: HubProcess, station: StationFactory, qapp: Any) -> None:
    """Reasons used to be English first then Chinese, wrapped into rows several lines tall."""
    from ui.app import use_language

    desk = station(sqlite_hub.url, operator="D001", pin="2222", bench="")
    desk.engine.start()
    try:
        use_language(qapp, "zh_CN")
        w = _window(qtbot, desk.services)
        unknown_sku = GOOD2.replace("XL-1003", "XL-1009").replace("SKU-TEA-001", "SKU-NOPE-1")
        w.import_orders(str(_sheet(tmp_path, GOOD, BAD_QTY, unknown_sku)))
        qtbot.waitUntil(lambda: isinstance(getattr(w, "import_result", None), ImportResultDialog), timeout=20_000)
        result = w.import_result
        reasons = [result.table.item(i, 1).text() for i in range(result.table.rowCount())]
        assert reasons == ["“数量”中的“两个”不是 1 到 100000 之间的整数。",
                           "“商品编码（SKU）”中的“SKU-NOPE-1”不在商品目录中：请核对编码（或把商品加入目录）后重新导入。"]
        assert "导入 1 个订单" in result.summary.text() or "1" in result.summary.text()
        assert not any(word in " ".join(reasons) for word in ("is not", "qty", "sku", "Order"))
        line = result.table.fontMetrics().height()
        assert all(result.table.rowHeight(i) < 2 * line for i in range(result.table.rowCount()))
        # A platform export: its notices, then an unfamiliar sheet's mapping step, as a clerk sees them.
        w.import_orders(str(FIXTURES / "douyin.csv"))
        qtbot.waitUntil(lambda: w.import_result is not result, timeout=20_000)
        assert "已识别为抖店导出的订单表" in w.import_result.notices.text()
        assert w.import_result.table.item(0, 1).text() == "“订单状态”是“已发货”：平台上这笔订单已发货或已完成，未导入。"
        _shoot(w.import_result, "import-result.png", tmp_path)
        sheet = tmp_path / "小程序.csv"
        sheet.write_bytes((UNFAMILIAR + "M-9,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,2,10,x\n")
                          .encode("utf-8-sig"))
        w.import_orders(str(sheet))
        qtbot.waitUntil(lambda: getattr(w, "import_mapping", None) is not None, timeout=20_000)
        assert "订单号" in w.import_mapping.missing_label.text()
        _shoot(w.import_mapping, "import-mapping.png", tmp_path)
        w.import_mapping.reject()
    finally:
        use_language(qapp, "en")


def _shoot(dialog: Any, name: str, tmp_path: Path) -> None:
    """A dialog as shown (PACKDESK_SCREENSHOTS=1 writes docs/screenshots/, else a temp folder)."""
    import os

    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    folder = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    assert dialog.grab().save(str((folder if os.environ.get("PACKDESK_SCREENSHOTS") else tmp_path) / name))


def test_an_unfamiliar_sheet_is_mapped_once_saved_and_the_next_one_imports_directly(
        qtbot: Any, tmp_path: Path, sqlite_hub: HubProcess, station: StationFactory) -> None:
    from PySide6.QtCore import Qt

    from ui.import_dialog import ColumnMappingDialog

    desk = station(sqlite_hub.url, operator="D001", pin="2222", bench="")
    desk.engine.start()
    w = _window(qtbot, desk.services)
    first = tmp_path / "小程序-周一.csv"
    first.write_bytes((UNFAMILIAR + "M-1,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,2,10,x\n")
                      .encode("utf-8-sig"))
    w.import_orders(str(first))
    qtbot.waitUntil(lambda: isinstance(getattr(w, "import_mapping", None), ColumnMappingDialog), timeout=20_000)
    dlg = w.import_mapping
    assert dlg.columns()["电话"] == "phone" and dlg.columns()["件数"] == "qty"  # what the hub recognised
    assert not dlg.import_button.isEnabled() and "Order number" in dlg.missing_label.text()
    for header, typed, label in (("单号", "Order", "Order number"), ("姓名", "Recip", "Recipient"),
                                 ("地区", "Prov", "Province"), ("城市", "City", "City"), ("区域", "Distr", "District"),
                                 ("街道地址", "Detail", "Detailed address"), ("货品", "SKU", "SKU code"),
                                 ("金额", "Unit", "Unit price")):
        combo = dlg.combos[header]
        combo.setFocus()
        qtbot.keyClicks(combo, typed)  # the keyboard picks the field by its name, as a clerk types it
        assert combo.currentText().startswith(label), (header, combo.currentText())
    assert dlg.import_button.isEnabled() and dlg.columns()["备用列"] == ""
    dlg.save_box.setFocus()
    qtbot.keyClick(dlg.save_box, Qt.Key.Key_Space)
    dlg.name_edit.setFocus()
    dlg.name_edit.selectAll()
    qtbot.keyClicks(dlg.name_edit, "mini-shop")  # (Chinese needs an input method: QTest types ASCII)
    qtbot.keyClick(dlg.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(getattr(w, "import_result", None), ImportResultDialog), timeout=20_000)
    assert w.import_result.answer["imported"] == 1 and "备用列" in w.import_result.notices.text()
    # The next sheet of the same shape goes straight in, with the saved mapping named.
    second = tmp_path / "小程序-周二.csv"
    second.write_bytes((UNFAMILIAR + "M-2,李娜,13912345678,江苏省,南京市,鼓楼区,中山路1号,SKU-TEA-002,1,20,\n")
                       .encode("utf-8-sig"))
    before = w.import_result
    w.import_orders(str(second))
    qtbot.waitUntil(lambda: w.import_result is not before, timeout=20_000)
    assert w.import_result.answer["imported"] == 1 and w.import_result.answer["mapping"] == "mini-shop"
    assert "mini-shop" in w.import_result.notices.text() and w.import_mapping is dlg  # no second mapping step


def test_a_platform_export_imports_and_the_template_round_trips(
        qtbot: Any, tmp_path: Path, sqlite_hub: HubProcess, station: StationFactory) -> None:
    from ui.import_dialog import ImportStartDialog

    desk = station(sqlite_hub.url, operator="D001", pin="2222", bench="")
    desk.engine.start()
    w = _window(qtbot, desk.services)
    w.import_orders()  # Import…: the start dialog, with the template at hand
    start = w.import_start
    assert isinstance(start, ImportStartDialog) and start.template_button.text() == "Download template"
    template = tmp_path / "模板.xlsx"
    start.save_template(str(template))
    qtbot.waitUntil(lambda: "Template saved" in start.status.text(), timeout=10_000)
    start.choose(str(template))
    qtbot.waitUntil(lambda: isinstance(getattr(w, "import_result", None), ImportResultDialog), timeout=20_000)
    assert w.import_result.answer["imported"] == 1 and w.import_result.answer["errors"] == []
    assert w.import_result.answer["ignored_columns"] == []  # every template column is read
    before = w.import_result
    w.import_orders(str(FIXTURES / "pinduoduo.csv"))
    qtbot.waitUntil(lambda: w.import_result is not before, timeout=20_000)
    result = w.import_result
    assert result.answer["imported"] == 1 and "Pinduoduo" in result.notices.text()
    assert result.table.item(0, 1).text().startswith("Order status is “已发货，待收货”")
