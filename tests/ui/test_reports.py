"""Reports from the app (ui/reports.py, docs/reports.md): the queue export and the reports dialog.

The save dialog is replaced through the one seam :attr:`ui.reports.ReportActions.ask_path` (a fixed
path); everything else is real: the window, its models, the database worker, the CSV read back as
Excel reads it, and for the reports dialog a real hub process and its workbook.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt

from core.i18n import set_language
from core.order_csv import BOM
from core.settings import load_settings
from core.store import open_store
from tests.helpers.snapshots import snapshot
from tests.hubproc import HubProcess
from ui.queue_model import Column
from ui.services import AppServices, Operator

TRICKY = '李, "四"\n收'


def orders() -> list[dict[str, Any]]:
    out = []
    for i in range(1, 31):
        rec = {"name": TRICKY if i == 7 else f"收件人{i:02d}", "phone": "13912345678", "province": "江苏省",
               "city": "南京市", "district": "玄武区", "address": f"中山路 {i} 号", "postcode": ""}
        extra: dict[str, Any] = {"recipient": rec, "waybill_no": f"YT{i:010d}"}
        if i % 6 == 0:
            extra["holds"] = [{"type": "gift_stock", "reason": "赠品缺货", "raised_by": "system",
                               "raised_at": "2026-12-06T01:00:00Z"}]
        out.append(snapshot(f"BL20261206-{i:06d}", bench="B1" if i % 2 else "B2", **extra))
    return out


@pytest.fixture
def local(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    """A desk PC with 30 orders in its store and no hub (the export is this PC's own)."""
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language("zh_CN")
    store = open_store(tmp_path / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, orders())
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()
    set_language("en")


def window(qtbot: Any, services: AppServices) -> Any:
    from ui.main_window import MainWindow

    w = MainWindow(services)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    qtbot.waitUntil(lambda: w.models["all"].total == 30, timeout=5000)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    return w


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM.encode("utf-8"))  # Excel and WPS read it as UTF-8, not GBK
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_ctrl_shift_e_exports_the_queue_as_shown(qtbot: Any, local: AppServices, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ui.reports.EXPORT_PAGE", 4)  # nine rows: pages of 4, 4 and 1
    w = window(qtbot, local)
    w.select_queue("all")
    w.search.setText("BL20261206-00000")  # the search box: orders 1-9
    qtbot.waitUntil(lambda: w.model.rowCount() == 9, timeout=5000)
    w.model.sort(Column.RECIPIENT, Qt.SortOrder.DescendingOrder)  # a header click's sort
    shown = [w.model.row_at(i).order_id for i in range(w.model.rowCount())]
    assert len(shown) == 9
    target = tmp_path / "队列导出"  # no suffix typed: .csv is added
    asked: list[str] = []
    w.report_actions.ask_path = lambda _p, _t, name, _f: asked.append(name) or str(target)
    w.scan.setFocus()
    qtbot.keyClick(w.scan, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.report_actions.exported >= 0, timeout=5000)
    assert asked and asked[0].startswith("packdesk-all-") and asked[0].endswith(".csv")
    rows = read_csv(tmp_path / "队列导出.csv")
    visible = [w.model.headerData(c, Qt.Orientation.Horizontal) for c, _h in w.report_actions.visible_columns()]
    assert rows[0][:len(visible)] == visible and "订单号" in rows[0]
    assert rows[0][len(visible):] == ["渠道", "渠道订单号", "仓库", "异常", "电话（已隐藏中间四位）", "地址", "商品",
                                      "运单号", "快递", "承诺发货时间", "下单时间"]  # ID, state, bench, name: shown
    oid_col = rows[0].index("订单号")
    assert [r[oid_col] for r in rows[1:]] == shown  # the visible rows, in the table's order
    names = rows[0].index("收件人")
    assert [r[names] for r in rows[1:]] == [w.model.cell_text(w.model.row_at(i), Column.RECIPIENT) for i in range(9)]
    seven = next(r for r in rows if r[oid_col] == "BL20261206-000007")
    assert seven[names] == TRICKY  # a comma, a quote and a line break survive
    full = dict(zip(rows[0], seven, strict=True))
    assert full["电话（已隐藏中间四位）"] == "139****5678" and full["地址"] == "江苏省 南京市 玄武区 中山路 7 号"
    assert full["商品"] == "SKU1 茶杯 ×1" and full["承诺发货时间"] == "2026-11-26 09:00"  # site time
    assert "已导出 9 个订单" in w.notice.text()


def test_a_failed_export_says_why_and_leaves_nothing(qtbot: Any, local: AppServices, tmp_path: Path) -> None:
    w = window(qtbot, local)
    w.select_queue("exceptions")
    assert w.model.rowCount() == 5  # held: 6, 12, … 30
    w.report_actions.ask_path = lambda *_a: str(tmp_path / "no-such-folder" / "x.csv")
    w.report_actions.export_action.trigger()
    qtbot.waitUntil(lambda: w.notice_kind == "error", timeout=5000)
    assert "无法保存" in w.notice.text() and not (tmp_path / "no-such-folder").exists()
    w.report_actions.ask_path = lambda *_a: str(tmp_path / "held.csv")
    w.report_actions.export_action.trigger()
    qtbot.waitUntil(lambda: w.report_actions.exported == 5, timeout=5000)
    rows = read_csv(tmp_path / "held.csv")
    # The exceptions queue shows the hold beside the flags and hides state and ship-by: the file follows,
    # and gives the state and promise among the full fields instead.
    assert rows[0][:3] == ["标记", "异常（发起人）· 已等待", "订单号"] and "异常" not in rows[0]
    assert {"状态", "承诺发货时间"} <= set(rows[0]) and all(r[1].startswith("赠品缺货") for r in rows[1:])
    w.search.setText("没有这个订单")
    qtbot.waitUntil(lambda: w.model.rowCount() == 0, timeout=5000)
    w.report_actions.export_action.trigger()
    assert "无可导出" in w.notice.text()


# -- the reports dialog, over a real hub --------------------------------------------------------------

@pytest.fixture
def supervisor(tmp_path: Path, qapp: Any, sqlite_hub: HubProcess, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[AppServices]:
    from tests.ui.test_stock_view import services_for

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    svc = services_for(tmp_path, sqlite_hub, "S001", "3333", "supervisor", "王主管")
    yield svc
    svc.shutdown()


def test_the_reports_dialog_saves_the_hubs_workbook(qtbot: Any, supervisor: AppServices, tmp_path: Path) -> None:
    from ui.main_window import MainWindow
    from ui.reports import ReportsDialog

    set_language("zh_CN")
    try:
        w = MainWindow(supervisor)
        qtbot.addWidget(w)
        assert w.report_actions.reports_action.isVisible() and w.report_actions.reports_action.isEnabled()
        w.report_actions.ask_path = lambda *_a: str(tmp_path / "周报")
        w.report_actions.reports_action.trigger()
        dialog = w.report_actions.dialog
        assert isinstance(dialog, ReportsDialog) and dialog.isVisible()
        dialog.kind.setCurrentIndex(1)  # weekly
        dialog.day.setDate(QDate(2026, 11, 25))  # a Wednesday: its week starts on Monday the 23rd
        assert dialog.picked()[1].isoformat() == "2026-11-23" and "2026-11-29" in dialog.period.text()
        assert not any(ch.isascii() and ch.isalpha() for ch in dialog.windowTitle())
        if os.environ.get("PACKDESK_SCREENSHOTS"):
            assert dialog.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "reports-dialog.png"))
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.answered == 1, timeout=20_000)
        assert dialog.saved == tmp_path / "周报.xlsx", dialog.message.text()
        wb = load_workbook(tmp_path / "周报.xlsx")
        assert wb.sheetnames[0] == "概览" and wb.sheetnames[-1] == "每日趋势"
        assert "已保存" in dialog.message.text()
        # Saving where it cannot: said in plain words, the button works again.
        dialog.ask_path = lambda *_a: str(tmp_path / "nowhere" / "r.xlsx")
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.answered == 2, timeout=20_000)
        assert "无法保存" in dialog.message.text() and "#c62828" in dialog.message.styleSheet()
        assert dialog.download_button.isEnabled()
    finally:
        set_language("en")


def test_a_desk_login_gets_no_reports(qtbot: Any, local: AppServices) -> None:
    w = window(qtbot, local)
    assert not w.report_actions.reports_action.isVisible()
    w.report_actions.open_reports()
    assert w.report_actions.dialog is None and "只有主管" in w.notice.text()
