"""Pack mode's own keys in the real main window, quantity entry, a count that survives a restart, notes."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core import i18n
from core.store import open_store
from tests.helpers.keyboard import person, wedge
from tests.ui.conftest_pack import PackEnv, order_snap, pack_env
from ui.main_window import MainWindow
from ui.pack_view import PackView
from ui.print_service import PrintService
from ui.services import AppServices, Operator

__all__ = ["pack_env"]

OID = "BL20261125-000001"
TEA = {"sku": "TEA-250", "name": "西湖龙井 250g", "qty": 20, "unit_price_fen": 9900, "is_gift": False, "bin": "A-02",
       "barcodes": {"6901234567892": 1, "16901234567899": 6}}
CUP = {"sku": "CUP-01", "name": "玻璃茶杯", "qty": 1, "unit_price_fen": 2900, "is_gift": False, "bin": "A-10"}


def make_view(qtbot: Any, services: AppServices) -> PackView:
    view = PackView(services, PrintService(services))
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    return view


def open_order(qtbot: Any, view: PackView, order_id: str = OID) -> None:
    with qtbot.waitSignal(view.activated, timeout=10_000):
        wedge(view.scan_field, order_id)
    qtbot.waitUntil(lambda: not view.busy)


def main_window(qtbot: Any, env: PackEnv) -> MainWindow:
    w = MainWindow(env.services)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        pass
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


def test_f5_f7_f9_f1_and_esc_work_in_pack_mode_of_the_real_window(qtbot: Any, pack_env: PackEnv) -> None:
    """The window's Refresh (F5) and Keys (F1) used to make those keys ambiguous in pack mode: nothing happened."""
    packed = order_snap(1, state="allocated", steps={"verified": {}, "packed": {}})
    pack_env.seed(packed, order_snap(2))
    w = main_window(qtbot, pack_env)
    view = w.pack_view
    wedge(w.scan, OID)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is view and view.phase == "print_failed", timeout=10_000)
    assert "F5" in view.reason_label.text()

    QTest.keyClick(view.scan_field, Qt.Key.Key_F1)  # pack keys, not the queue keys
    qtbot.waitUntil(lambda: view.keys_box is not None)
    assert view.keys_box is not None
    text = view.keys_box.text()
    for key in ("F5", "F6", "F7", "F9", "Esc", "*"):
        assert f"<b>{key}</b>" in text, key
    assert "Ctrl+W" not in text and "wave" not in text
    view.keys_box.accept()
    qtbot.waitUntil(lambda: view.keys_box is None)

    with qtbot.waitSignal(view.order_finished, timeout=20_000):  # F5: print the label, hand it over
        QTest.keyClick(view.scan_field, Qt.Key.Key_F5)
    assert [t for t, _p in pack_env.outbox(OID)][-2:] == ["label_printed", "shipped_by_station"]

    assert not w.refresh_action.isEnabled() and not w.help_action.isEnabled()  # stepped aside in pack mode
    wedge(view.scan_field, "BL20261125-000002")
    qtbot.waitUntil(lambda: view.order is not None and view.order.order_id == "BL20261125-000002", timeout=10_000)
    w.activateWindow()  # the offscreen platform does not give it back after a message box
    qtbot.waitUntil(w.isActiveWindow)
    QTest.keyClick(view.scan_field, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: view.problem_dialog is not None)
    assert view.problem_dialog is not None
    view.problem_dialog.reject()
    qtbot.waitUntil(lambda: view.problem_dialog is None)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    QTest.keyClick(view.scan_field, Qt.Key.Key_F7)  # label printed before: asks for the reason
    qtbot.waitUntil(lambda: view.print_service.reprint_dialog is not None, timeout=10_000)
    view.print_service.reprint_dialog.reject()
    qtbot.waitUntil(lambda: view.print_service.reprint_dialog is None)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)

    QTest.keyClick(view.scan_field, Qt.Key.Key_Escape)  # closes the order, back to the queues
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page)
    assert view.order is None and w.refresh_action.isEnabled() and w.help_action.isEnabled()


def test_every_pack_shortcut_says_what_it_does(qtbot: Any, pack_env: PackEnv) -> None:
    view = make_view(qtbot, pack_env.services)
    keys = {sc.key().toString(): sc.whatsThis() for sc in view.shortcuts}
    assert set(keys) == {"F1", "F5", "F6", "F7", "F9", "Esc"} and all(keys.values())


def test_scan_once_then_type_the_quantity(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, lines=[TEA, CUP]))
    pack_env.settings.max_qty_entry = 15
    view = make_view(qtbot, pack_env.services)
    open_order(qtbot, view)
    wedge(view.scan_field, "6901234567892")  # the box's own EAN-13
    assert view.session is not None and view.session.done("TEA-250") == 1
    QTest.keyClick(view.scan_field, Qt.Key.Key_Asterisk)
    assert view.qty_box.isVisible() and view.qty_field.hasFocus() and "TEA-250" in view.qty_label.text()
    person(view.qty_field, "12")
    assert view.session.done("TEA-250") == 12 and not view.qty_box.isVisible()
    assert view.status_kind == "ok" and "×12" in view.banner_text.text() and view.table.item(0, 4).text() == "12 / 20"
    QTest.keyClick(view.scan_field, Qt.Key.Key_F6)  # once per scan: the quantity is not applied twice
    assert not view.qty_box.isVisible() and view.status_kind == "error" and view.session.done("TEA-250") == 12

    wedge(view.scan_field, "16901234567899")  # a case of 6: 18
    assert view.session.done("TEA-250") == 18
    wedge(view.scan_field, "16901234567899")  # another case would make 24 of 20: refused, with why
    assert view.session.done("TEA-250") == 18 and "more than the 2 still to scan" in view.reason_label.text()

    wedge(view.scan_field, "6901234567892")
    QTest.keyClick(view.scan_field, Qt.Key.Key_Asterisk)
    wedge(view.qty_field, "6901234567892")  # a scan arriving in the quantity box is a scan, not a number
    assert view.session.done("TEA-250") == 20 and not view.qty_box.isVisible()
    assert view.scan_field.hasFocus()


def test_a_quantity_over_the_site_limit_is_refused_and_esc_cancels(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, lines=[TEA, CUP]))
    pack_env.settings.max_qty_entry = 10
    view = make_view(qtbot, pack_env.services)
    open_order(qtbot, view)
    wedge(view.scan_field, "TEA-250")
    QTest.keyClick(view.scan_field, Qt.Key.Key_Asterisk)
    person(view.qty_field, "15")
    assert view.session is not None and view.session.done("TEA-250") == 1
    assert view.status_kind == "error" and "more than 10 at once" in view.banner_text.text()
    wedge(view.scan_field, "TEA-250")
    QTest.keyClick(view.scan_field, Qt.Key.Key_Asterisk)
    person(view.qty_field, "9", enter=False)
    QTest.keyClick(view.qty_field, Qt.Key.Key_Escape)  # Esc closes the box, not the order
    assert not view.qty_box.isVisible() and view.order is not None and view.session.done("TEA-250") == 2


def test_the_scan_count_survives_a_restart_and_goes_once_packed(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, lines=[{**TEA, "qty": 3}, CUP]))
    view = make_view(qtbot, pack_env.services)
    open_order(qtbot, view)
    wedge(view.scan_field, "TEA-250")
    wedge(view.scan_field, "6901234567892")
    path = pack_env.store.path
    qtbot.waitUntil(lambda: _saved(pack_env) == {"TEA-250": 2}, timeout=10_000)
    view.close()
    pack_env.services.shutdown()  # the PC restarts

    services = AppServices(pack_env.settings, open_store(path), None)
    services.set_operator(Operator("P001", "王小明", "packer"))
    try:
        again = make_view(qtbot, services)
        open_order(qtbot, again)
        assert again.session is not None and again.session.done("TEA-250") == 2
        assert again.table.item(0, 4).text() == "2 / 3" and "2 of 4" in again.total_label.text()
        wedge(again.scan_field, "TEA-250")
        with qtbot.waitSignal(again.order_finished, timeout=20_000):
            wedge(again.scan_field, "CUP-01")
        qtbot.waitUntil(lambda: _saved_in(services) == {}, timeout=10_000)
    finally:
        services.shutdown()


def _saved(env: PackEnv) -> dict[str, int]:
    return _saved_in(env.services)


def _saved_in(services: AppServices) -> dict[str, int]:
    from core.store import scan_progress

    with services.store.read() as conn:
        return scan_progress.load(conn, OID)


def test_the_packing_note_and_the_seller_note_are_shown(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, packing_note="用红色礼盒，丝带打蝴蝶结", seller_note="不放价格单"))
    view = make_view(qtbot, pack_env.services)
    open_order(qtbot, view)
    assert view.note_label.isVisible()
    assert "用红色礼盒，丝带打蝴蝶结" in view.note_label.text() and "不放价格单" in view.note_label.text()
    pack_env.seed(order_snap(2))
    wedge(view.scan_field, "BL20261125-000002")
    qtbot.waitUntil(lambda: view.order is not None and view.order.order_id == "BL20261125-000002")
    assert not view.note_label.isVisible()


@pytest.fixture
def chinese() -> Any:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_rescanning_a_shipped_order_says_its_state_once_in_chinese(qtbot: Any, pack_env: PackEnv,
                                                                  chinese: None) -> None:
    pack_env.seed(order_snap(1, state="shipped"))
    view = make_view(qtbot, pack_env.services)
    open_order(qtbot, view)
    text = view.banner_text.text()
    assert "已发货" in text and "已已" not in text and "shipped" not in text
