"""Shift change (Ctrl+Shift+Q): log out to the login dialog without quitting; the outbox stays and is
pushed as the operator who did the work; the next operator gets their own role's queues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.helpers.hubapi import Session
from tests.helpers.station import open_window, start_demo_hub
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.login_dialog import LoginDialog


def test_packer_hands_over_to_a_desk_clerk_and_the_pending_work_stays_the_packers(
        qtbot: Any, tmp_path: Path, station: StationFactory) -> None:
    hub = start_demo_hub(tmp_path / "hub", 80)
    try:
        st = station(hub.url, operator="P001", pin="1111", bench="B1")
        w = open_window(qtbot, st.services)
        assert {r.bench for r in w.models["all"]._all} == {"B1"}
        order = next(r for r in w.models["bench"]._all if not r.held)
        st.services.perform(order.order_id, "hold_raised",
                            {"type": "item_missing", "reason": "shift test", "details": {}})
        qtbot.waitUntil(lambda: st.store.pending_count() == 1, timeout=5000)  # the engine is not running

        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        qtbot.keyClick(w.scan, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(lambda: isinstance(w.login_dialog, LoginDialog) and w.login_dialog.isVisible(), timeout=5000)
        dialog = w.login_dialog
        assert st.services.operator is None and w.isVisible()  # logged out, not quit
        assert "not logged in" in w.operator_label.text()
        assert st.store.pending_count() == 1 and "1 actions wait to sync" in dialog.message.text()

        dialog.code.setFocus()
        qtbot.keyClicks(dialog.code, "D001")
        qtbot.keyClick(dialog.code, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.pin, "2222")
        with qtbot.waitSignal(w.operator_switched, timeout=15_000):
            qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        assert st.services.operator is not None and st.services.operator.role == "desk"
        assert w.queue_actions[-1].isEnabled() and w.import_action.isEnabled()  # the desk's keys
        assert all(m.bench_scope is None for m in w.models.values())  # every bench, not B1 only
        assert "logged in" in w.notice.text()

        st.engine.sync_once()  # pushes the packer's hold, then the desk's view of every bench
        assert st.store.pending_count() == 0
        qtbot.waitUntil(lambda: len({r.bench for r in w.models["all"]._all}) > 1, timeout=15_000)
        w.select_queue("all")
        assert w.current_queue == "all"
        desk = Session(hub.url, operator="D001", pin="2222", station="DESK-audit", bench=None).login()
        entries = desk.get(f"/api/v1/orders/{order.order_id}/audit").json()["entries"]
        raised = [e for e in entries if e["what"] == "hold_raised"]
        assert raised and raised[-1]["operator"] == "P001"  # the packer's work, synced by the clerk's login
    finally:
        hub.stop()


def test_cancel_at_the_shift_change_closes_the_window(qtbot: Any, demo_hub: HubProcess,
                                                      station: StationFactory) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    w.switch_action.trigger()
    dialog = w.login_dialog
    assert isinstance(dialog, LoginDialog)
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "Quit PackDesk"
    qtbot.keyClick(dialog.code, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)  # nobody logged in: the bench is not left open
    assert st.services.operator is None
