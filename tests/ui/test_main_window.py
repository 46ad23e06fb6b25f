"""Main window against a real hub: role limits, live changes from another bench, status bar offline/online."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tests.helpers.hubapi import Session
from tests.helpers.station import start_demo_hub
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.main_window import MainWindow


def window(qtbot: Any, services: Any) -> MainWindow:
    w = MainWindow(services)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        pass
    return w


def test_packer_sees_own_bench_desk_sees_all(qtbot: Any, demo_hub: HubProcess, station: StationFactory,
                                             qt_warnings: list[str]) -> None:
    packer = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = window(qtbot, packer.services)
    assert w.models["bench"].total > 0
    assert {r.bench for m in w.models.values() for r in m._all} == {"B1"}
    all_item = w.queue_list.item(5)
    assert not all_item.flags() & Qt.ItemFlag.ItemIsEnabled and "own bench" in all_item.toolTip()
    assert not w.settings_action.isEnabled() and "desk staff" in w.settings_action.toolTip()
    w.select_queue("all")
    assert w.current_queue != "all"

    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    d = window(qtbot, desk.services)
    assert d.current_queue == "all" and d.models["all"].total == 300
    assert len({r.bench for r in d.models["all"]._all}) > 3
    assert d.settings_action.isEnabled()
    held = next(r for r in d.models["exceptions"]._all if r.held)
    d.select_queue("exceptions")
    assert d.select_order(held.order_id)
    assert not d.print_action.isEnabled() and "held" in d.print_action.toolTip()
    d.select_queue("to_print")
    d.table.selectRow(0)
    assert d.print_action.isEnabled()


def test_search_box_filters_the_current_queue(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    d = window(qtbot, desk.services)
    target = d.models["all"]._all[17]
    qtbot.keyClicks(d.search, target.order_id[-6:])
    assert target.order_id in d.model.order_ids() and d.model.rowCount() < 10
    with qtbot.waitSignal(d.detail.shown, timeout=5000):
        d.select_order(target.order_id)
    assert target.order_id in d.detail.text()


def test_change_from_another_bench_appears_live(qtbot: Any, demo_hub: HubProcess, station: StationFactory,
                                                qt_warnings: list[str]) -> None:
    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    d = window(qtbot, desk.services)
    desk.engine.start()
    order = next(r for r in d.models["to_print"]._all if r.bench == "B2" and not r.held)
    before = d.models["to_print"].total
    other = Session(demo_hub.url, operator="P002", pin="1111", station="B2-live", bench="B2").login()
    snap = other.get(f"/api/v1/orders/{order.order_id}").json()
    other.send(other.action(order.order_id, "label_printed", {"job_id": "t1", "printer": "pdf"},
                            base_version=snap["version"]))
    qtbot.waitUntil(lambda: order.order_id not in d.models["to_print"]._by_id, timeout=10_000)
    assert d.models["to_print"].total == before - 1
    assert order.order_id in d.models["all"]._by_id
    assert d.models["all"]._by_id[order.order_id].state == "label_printed"


def test_status_bar_online_offline_online_with_pending(qtbot: Any, tmp_path: Path, station: StationFactory,
                                                       qt_warnings: list[str]) -> None:
    hub = start_demo_hub(tmp_path / "hub", 60)
    try:
        st = station(hub.url, operator="D001", pin="2222", bench="")
        d = window(qtbot, st.services)
        st.engine.start()
        bar = d.sync_status
        qtbot.waitUntil(lambda: bar.state is not None and bar.state.status == "online", timeout=10_000)
        assert "Online" in bar.text() and "0 pending" in bar.text()
        hub.stop()
        qtbot.waitUntil(lambda: bar.state is not None and bar.state.status == "offline", timeout=15_000)
        assert "Offline" in bar.text()
        order = next(r for r in d.models["to_print"]._all if not r.held)
        st.services.perform(order.order_id, "hold_raised",
                            {"type": "item_missing", "reason": "test", "details": {}})
        qtbot.waitUntil(lambda: bar.state is not None and bar.state.pending == 1, timeout=10_000)
        assert "1 pending" in bar.text()
        qtbot.waitUntil(lambda: order.order_id in d.models["exceptions"]._by_id, timeout=5000)
        bar.click()
        assert bar.dialog is not None and bar.error_lines() and "reach" in bar.error_lines()[0]
        bar.dialog.close()
        hub.start()
        st.engine.wake()
        qtbot.waitUntil(lambda: bar.state is not None and bar.state.status == "online" and bar.state.pending == 0,
                        timeout=20_000)
        assert "0 pending" in bar.text()
    finally:
        hub.stop()


def test_detail_history_reads_in_words_and_shows_typed_text_literally(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory, qt_warnings: list[str]) -> None:
    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    d = window(qtbot, desk.services)
    order = next(r for r in d.models["to_print"]._all if not r.held)
    desk.services.perform(order.order_id, "hold_raised",
                          {"type": "item_missing", "reason": "<b>box</b> & tape", "details": {}})
    qtbot.waitUntil(lambda: order.order_id in d.models["exceptions"]._by_id, timeout=5000)
    d.select_queue("exceptions")
    with qtbot.waitSignal(d.detail.shown, timeout=5000):
        d.select_order(order.order_id)
    qtbot.waitUntil(lambda: d.detail.hub_audit is not None, timeout=5000)
    text = d.detail.text()
    assert "Order created" in text and "Allocated to a warehouse and bench" in text
    assert "paid→allocated" in text  # states in words, not pending_payment / label_printed codes
    assert "Exception raised (this station)" in text
    assert "<b>box</b> & tape" in text  # the operator's words, not markup


def test_qt_standard_buttons_speak_the_chosen_language(qapp: Any, home: Path) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.app import use_language

    try:
        use_language(qapp, "zh_CN")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        words = {b.text().replace("&", "") for b in box.buttons()}
        assert any("保存" in w for w in words) and any("取消" in w for w in words), words
    finally:
        use_language(qapp, "en")
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    assert box.buttons()[0].text().replace("&", "") == "Cancel"


def test_enter_in_exceptions_opens_the_dialog_of_the_first_hold(qtbot: Any, home: Path) -> None:
    """Read on the database worker (no hold picked on the GUI thread); choices from the hold's details."""
    from PySide6.QtWidgets import QApplication, QComboBox

    from core.playbooks import Options
    from core.settings import load_settings
    from core.store import open_store
    from tests.helpers.snapshots import snapshot
    from ui.exception_dialog import ExceptionDialog
    from ui.services import AppServices, Operator

    oid = "BL20261125-000077"
    holds = [{"hold_id": f"h-{n}", "type": "gift_stock", "reason": "赠品缺货", "raised_at": "2026-11-25T01:00:00Z",
              "raised_by": "system", "details": {"options": Options(gift_skus={f"GIFT-{n}"}).to_wire()}}
             for n in (1, 2)]
    store = open_store(home / "bench.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(oid, holds=holds)])
    services = AppServices(load_settings(home / "settings.json"), store, None)
    try:
        services.set_operator(Operator("D001", "客服", "desk"))
        w = window(qtbot, services)
        w.select_queue("exceptions")
        assert w.select_order(oid)
        w.open_selected()
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ExceptionDialog), timeout=10_000)
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, ExceptionDialog) and dlg.hold is not None and dlg.hold["hold_id"] == "h-1"
        sku = dlg.form.widgets["substitute_sku"]
        assert isinstance(sku, QComboBox) and [sku.itemData(i) for i in range(sku.count())] == [None, "GIFT-1"]
        dlg.reject()
        w.close()
    finally:
        services.shutdown()


def test_typing_in_the_search_box_reads_the_detail_once_typing_pauses(qtbot: Any, home: Path) -> None:
    """The selection follows every keystroke; the detail pane (a store read and the hub's audit) waits
    for the pause instead of reading each order the search passed on the way."""
    from core.settings import load_settings
    from core.store import open_store
    from tests.helpers.snapshots import snapshot
    from ui.services import AppServices, Operator

    store = open_store(home / "desk.sqlite3")
    ids = [f"BL20261206-0001{n:02d}" for n in range(30)]
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(oid) for oid in ids])
    services = AppServices(load_settings(home / "settings.json"), store, None)
    try:
        services.set_operator(Operator("D001", "客服", "desk"))
        w = window(qtbot, services)
        w.select_queue("all")
        asked: list[str | None] = []
        real = w.detail.show_order
        w.detail.show_order = lambda oid, **kw: (asked.append(oid), real(oid, **kw))[1]  # type: ignore[method-assign]
        w.search.setFocus()
        qtbot.keyClicks(w.search, "0001")
        qtbot.keyClicks(w.search, "2")  # BL…000120-29: the selection moved on each keystroke
        assert w.selected_row() is not None and asked == []
        qtbot.waitUntil(lambda: asked != [], timeout=5000)
        assert asked == [w.selected_row().order_id]  # one read, of the order left selected
        chosen = w.selected_row().order_id
        qtbot.waitUntil(lambda: w.detail.order_id == chosen and chosen in w.detail.text(), timeout=5000)
        w.table.setFocus()
        qtbot.keyClick(w.table, Qt.Key.Key_Down)  # moving in the table: the detail follows at once
        assert asked[-1] == w.selected_row().order_id and len(asked) == 2
    finally:
        services.shutdown()


def test_typing_in_the_search_box_on_another_page_shows_the_queue_with_the_results(qtbot: Any, home: Path) -> None:
    """The box stays at the top of the tickets, returns and handover pages; what it finds is on the
    queue page, so typing there goes to it (it used to filter the hidden table, and nothing showed)."""
    from core.settings import load_settings
    from core.store import open_store
    from tests.helpers.snapshots import snapshot
    from ui.services import AppServices, Operator

    store = open_store(home / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261206-0002{n:02d}") for n in range(12)])
    services = AppServices(load_settings(home / "settings.json"), store, None)
    try:
        services.set_operator(Operator("D001", "客服", "desk"))
        w = window(qtbot, services)
        w.show()
        w.select_queue("all")
        for show in (w.show_ticket_page, w.show_returns_page, w.show_handover_page):
            show()
            assert w.stack.currentWidget() is not w.queue_page
            # Ctrl+F is the ticket filter's on the tickets page: the box does not name it there
            assert ("Ctrl+F" in w.search.placeholderText()) == (show != w.show_ticket_page)
            w.search.setFocus()
            qtbot.keyClicks(w.search, "000207")
            assert w.stack.currentWidget() is w.queue_page and w.focusWidget() is w.search  # typing goes on there
            assert w.model.order_ids() == ["BL20261206-000207"] and w.search.text() == "000207"
            assert "Ctrl+F" in w.search.placeholderText()  # back on the queue page
            w.search.clear()
        w.show_pack_page()  # where an order is packed, typing there does not take the packer away
        qtbot.keyClicks(w.search, "000207")
        assert w.stack.currentWidget() is w.pack_view
    finally:
        services.shutdown()
