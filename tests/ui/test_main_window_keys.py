"""Every key the queue page names, pressed on the real window, does its thing; pack mode keeps its own keys.

A desk clerk's window (every key enabled) on a real hub with demo orders, printing to PDF folders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.keys import help_html, mode_keys
from ui.main_window import QUEUES, MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier


def press(qtbot: Any, w: MainWindow, key: Qt.Key, mods: Qt.KeyboardModifier = NONE) -> None:
    """Press a key where the bench's keyboard is: in the queue page's scan field."""
    w.scan.setFocus()
    qtbot.keyClick(w.scan, key, mods)


def select_printable(w: MainWindow) -> str:
    w.select_queue("to_print")
    row = next(r for r in w.models["to_print"]._all if not r.held and not r.conflict)
    assert w.select_order(row.order_id)
    return row.order_id


def job_of(qtbot: Any, w: MainWindow, doc_type: str, key: Qt.Key, mods: Qt.KeyboardModifier) -> None:
    oid = select_printable(w)
    with qtbot.waitSignal(w.print_service.job_finished, timeout=20_000,
                          check_params_cb=lambda out: out.doc_type == doc_type) as sig:
        press(qtbot, w, key, mods)
    assert sig.args[0].ok and oid in sig.args[0].order_ids


def check_print(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    job_of(qtbot, w, "label", Qt.Key.Key_P, CTRL)


def check_wave(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    select_printable(w)
    press(qtbot, w, Qt.Key.Key_W, CTRL)
    qtbot.waitUntil(lambda: w.wave_box is not None and w.wave_box.isVisible(), timeout=5000)
    assert w.wave_box is not None
    qtbot.keyClick(w.wave_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.wave_box is None, timeout=5000)


def check_picklist(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    job_of(qtbot, w, "pick_list", Qt.Key.Key_L, CTRL)
    qtbot.waitUntil(lambda: "Pick list printed" in w.notice.text(), timeout=5000)


def check_slip(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    job_of(qtbot, w, "packing_slip", Qt.Key.Key_P, CTRL | SHIFT)


def check_preview(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    from ui.print_preview import PrintPreviewDialog

    select_printable(w)
    press(qtbot, w, Qt.Key.Key_L, CTRL | SHIFT)

    def shown() -> PrintPreviewDialog | None:
        return next((d for d in QApplication.topLevelWidgets()
                     if isinstance(d, PrintPreviewDialog) and d.isVisible()), None)

    qtbot.waitUntil(lambda: shown() is not None, timeout=15_000)
    dialog = shown()
    assert dialog is not None
    dialog.close()


def check_import(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_I, CTRL)
    # The import's start dialog (choose a file, or download the template) opens.
    qtbot.waitUntil(lambda: getattr(w, "import_start", None) is not None and w.import_start.isVisible(),
                    timeout=5000)
    w.import_start.close()


def check_refresh(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        press(qtbot, w, Qt.Key.Key_F5)


def check_search(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_F, CTRL)
    assert w.search.hasFocus()


def check_settings(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_Comma, CTRL)
    qtbot.waitUntil(lambda: w.settings_dialog is not None and w.settings_dialog.isVisible(), timeout=5000)
    w.settings_dialog.reject()


def check_help(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    assert w.findChild(QMessageBox, "helpBox") is None
    press(qtbot, w, Qt.Key.Key_F1)
    box = w.findChild(QMessageBox, "helpBox")
    assert box is not None and box.isVisible() and box.text() == help_html(mode_keys(w, "queue"))
    assert all(k in box.text() for k in ("Ctrl+W", "Ctrl+L", "F5", "Ctrl+Shift+Q"))
    box.close()


def check_enter(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    oid = select_printable(w)
    assert w.scan.text() == ""
    press(qtbot, w, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.pack_view, timeout=5000)
    qtbot.waitUntil(lambda: w.pack_view.order is not None, timeout=5000)
    assert w.pack_view.order is not None and w.pack_view.order.order_id == oid


def check_switch(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_Q, CTRL | SHIFT)
    qtbot.waitUntil(lambda: w.login_dialog is not None and w.login_dialog.isVisible(), timeout=5000)
    w.login_dialog.reject()


def check_handover(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_H, CTRL)
    assert w.stack.currentWidget() is w.handover_view and not w.toolbar.isVisible()
    assert not w.refresh_action.isEnabled()  # F5 is the handover page's own there
    qtbot.waitUntil(lambda: not w.handover_view.busy, timeout=5000)
    qtbot.keyClick(w.handover_view.scan_field, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page, timeout=5000)


def check_stock(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_S, CTRL | SHIFT)
    qtbot.waitUntil(lambda: getattr(w, "stock_dialog", None) is not None and w.stock_dialog.answered > 0,
                    timeout=5000)
    assert w.stock_dialog.isVisible() and "#c62828" not in w.stock_dialog.message.styleSheet()
    w.stock_dialog.reject()


def check_export(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    asked: list[str] = []
    w.report_actions.ask_path = lambda _p, _t, name, _f: asked.append(name) or ""  # cancelled: nothing written
    press(qtbot, w, Qt.Key.Key_E, CTRL | SHIFT)
    assert asked and asked[0].endswith(".csv")  # tests/ui/test_reports.py writes and reads the file
def check_dashboard(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    """A desk login: Ctrl+D opens nothing (supervisors' key; tests/ui/test_dashboard.py presses it as one)."""
    press(qtbot, w, Qt.Key.Key_D, CTRL)
    assert w.dashboard is None and not w.dashboard_action.isEnabled()


def check_returns(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_R, CTRL)
    assert w.stack.currentWidget() is w.returns_view and not w.toolbar.isVisible()
    assert w.returns_view.scan_field.hasFocus() and not w.returns_view.role_note.isVisible()  # a desk
    qtbot.keyClick(w.returns_view.scan_field, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page, timeout=5000)


def check_tickets(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    press(qtbot, w, Qt.Key.Key_T, CTRL)
    assert w.stack.currentWidget() is w.ticket_view and not w.toolbar.isVisible()
    qtbot.waitUntil(lambda: w.ticket_view._loaded_once, timeout=5000)
    qtbot.keyClick(w.ticket_view.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page, timeout=5000)


def check_split(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    oid = select_printable(w)
    press(qtbot, w, Qt.Key.Key_X, CTRL | SHIFT)
    qtbot.waitUntil(lambda: getattr(w, "split_merge_dialog", None) is not None and w.split_merge_dialog.isVisible(),
                    timeout=5000)
    assert w.split_merge_dialog.objectName() == "splitDialog" and oid in w.split_merge_dialog.windowTitle()
    w.split_merge_dialog.reject()


def check_merge(qtbot: Any, w: MainWindow, _mp: Any) -> None:
    oid = select_printable(w)
    press(qtbot, w, Qt.Key.Key_M, CTRL | SHIFT)
    qtbot.waitUntil(lambda: getattr(w, "split_merge_dialog", None) is not None and w.split_merge_dialog.isVisible(),
                    timeout=5000)
    dialog = w.split_merge_dialog
    assert dialog.objectName() == "mergeDialog" and oid in dialog.windowTitle()
    qtbot.waitUntil(lambda: dialog.status.text()[:1] in ("✓", "○"), timeout=5000)  # the hub answered
    dialog.reject()
def desk_check(kind: str) -> Callable[[Any, MainWindow, Any], None]:
    """A desk key opens its dialog for the selected order, or says why the order's state does not allow it."""
    def check(qtbot: Any, w: MainWindow, _mp: Any) -> None:
        w.select_queue("all")
        row = next(r for r in w.models["all"]._all if r.state == "allocated")
        assert w.select_order(row.order_id)
        press(qtbot, w, {"address": Qt.Key.Key_A, "cancel": Qt.Key.Key_C, "refund": Qt.Key.Key_R,
                         "reallocate": Qt.Key.Key_B, "delivered": Qt.Key.Key_D, "payment": Qt.Key.Key_F}[kind],
              CTRL | SHIFT)
        desk = w.desk_actions
        qtbot.waitUntil(lambda: (desk.dialog is not None and desk.dialog.isVisible())
                        or "not possible" in w.notice.text(), timeout=5000)
        if desk.dialog is not None:
            assert kind in ("address", "cancel", "refund", "reallocate") and desk.dialog.order.order_id == row.order_id
            qtbot.keyClick(desk.dialog, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda: desk.dialog is not None and not desk.dialog.isVisible(), timeout=5000)
        else:
            assert kind in ("delivered", "payment")
    return check


def queue_check(n: int) -> Callable[[Any, MainWindow, Any], None]:
    def check(qtbot: Any, w: MainWindow, _mp: Any) -> None:
        target = QUEUES[n - 1][0]
        w.select_queue("vip" if target != "vip" else "all")
        press(qtbot, w, getattr(Qt.Key, f"Key_{n}"), CTRL)
        assert w.current_queue == target and w.queue_list.currentRow() == n - 1
    return check


KEYS: list[tuple[str, Callable[[Any, MainWindow, Any], None]]] = [
    ("Ctrl+P", check_print), ("Ctrl+W", check_wave), ("Ctrl+L", check_picklist), ("Ctrl+Shift+P", check_slip),
    ("Ctrl+Shift+L", check_preview), ("Ctrl+I", check_import), ("F5", check_refresh), ("Ctrl+F", check_search),
    ("Ctrl+,", check_settings), ("F1", check_help), ("Enter", check_enter), ("Ctrl+Shift+Q", check_switch),
    ("Ctrl+H", check_handover), ("Ctrl+Shift+S", check_stock), ("Ctrl+R", check_returns),
    ("Ctrl+Shift+E", check_export),
    ("Ctrl+T", check_tickets),
    ("Ctrl+Shift+X", check_split), ("Ctrl+Shift+M", check_merge), ("Ctrl+D", check_dashboard),
    ("Ctrl+Shift+A", desk_check("address")), ("Ctrl+Shift+C", desk_check("cancel")),
    ("Ctrl+Shift+R", desk_check("refund")), ("Ctrl+Shift+B", desk_check("reallocate")),
    ("Ctrl+Shift+D", desk_check("delivered")), ("Ctrl+Shift+F", desk_check("payment")),
    *[(f"Ctrl+{n}", queue_check(n)) for n in range(1, len(QUEUES) + 1)],
]


def test_every_named_key_is_tested_here(qtbot: Any, home: Any, qapp: Any) -> None:
    """The list above covers every key F1 names on the queue page (a new key needs a test)."""
    from core.settings import load_settings
    from core.store import open_store
    from ui.services import AppServices, Operator

    services = AppServices(load_settings(home / "s.json"), open_store(home / "b.sqlite3"), None)
    try:
        services.set_operator(Operator("D001", "客服", "desk"))
        w = MainWindow(services)
        qtbot.addWidget(w)
        named = {k.key for k in mode_keys(w, "queue")} - {"↑ ↓ PgUp PgDn", "Esc"}
        assert named == {k for k, _c in KEYS}
    finally:
        services.shutdown()


@pytest.mark.parametrize(("key", "check"), KEYS, ids=[k for k, _c in KEYS])
def test_queue_page_key_does_its_thing(qtbot: Any, demo_hub: HubProcess, station: StationFactory,
                                       monkeypatch: pytest.MonkeyPatch, key: str,
                                       check: Callable[[Any, MainWindow, Any], None]) -> None:
    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    w = open_window(qtbot, desk.services, "all")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    check(qtbot, w, monkeypatch)


def test_pack_mode_keeps_its_own_keys(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    """In pack mode the window's queue keys are off, so F5 and the rest reach the pack page."""
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.open_order(next(r for r in w.models["bench"]._all if not r.held).order_id)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.pack_view and w.pack_view.order is not None, timeout=5000)
    assert not w.refresh_action.isEnabled() and not w.help_action.isEnabled() and not w.toolbar.isVisible()
    assert w.switch_action.isEnabled()  # the shift change works everywhere
    f5 = next(sc for sc in w.pack_view.findChildren(QShortcut) if QKeySequence("F5") in QShortcut.keys(sc))
    with qtbot.waitSignal(f5.activated, timeout=5000):
        qtbot.keyClick(w.pack_view.scan_field, Qt.Key.Key_F5)
    qtbot.keyClick(w.pack_view.scan_field, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page, timeout=5000)
    assert w.refresh_action.isEnabled() and w.toolbar.isVisible()
