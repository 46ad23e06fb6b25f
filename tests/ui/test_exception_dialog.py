"""The guided dialog on its own (no hub): lock, reasons, role line, keyboard, readability, outbox payload.

End-to-end runs against a real hub are in tests/e2e/test_playbooks_hub.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QWidget

import ui.exception_dialog as mod
from core.settings import load_settings
from core.store import open_store
from tests.helpers.snapshots import snapshot
from ui.exception_dialog import ExceptionDialog, build_exception_dialog, mask_phone, open_exception_dialog
from ui.services import AppServices, Operator

OID = "BL20261125-000042"
HOLD = {"hold_id": "h-rural", "type": "rural_no_phone", "reason": "农村地址且无有效电话 / rural address without a usable phone",
        "raised_at": "2026-11-25T01:00:00Z", "raised_by": "system", "details": {}}
RECIPIENT = {"name": "李桂兰", "phone": "", "province": "河南省", "city": "周口市", "district": "郸城县",
             "address": "汲冢镇丁楼村3组", "postcode": ""}


@pytest.fixture
def services(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    store = open_store(tmp_path / "bench.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(OID, recipient=RECIPIENT, holds=[HOLD])])
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()


def make(services: AppServices, qtbot: Any) -> ExceptionDialog:
    dlg = build_exception_dialog(services, OID, "h-rural")
    assert dlg is not None
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def fill(dlg: ExceptionDialog) -> None:
    combo = dlg.form.widgets["confirmed_via"]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("phone_call"))
    edit = dlg.form.widgets["confirmed_address"]
    assert isinstance(edit, QLineEdit)
    edit.setText("汲冢镇丁楼村3组12号")


def test_locked_until_complete_then_enter_submits_hold_released(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    assert not dlg.submit_button.isEnabled()
    assert "请选择买家如何确认" in dlg.reasons_label.text() and "fill in: Confirmed address" in dlg.reasons_label.text()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Enter on a locked form does nothing
    services.tasks.wait_idle()
    assert dlg.isVisible() and services.store.pending_count() == 0
    fill(dlg)
    assert dlg.submit_button.isEnabled() and dlg.reasons_label.text() == ""
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dlg.result() == dlg.DialogCode.Accepted, timeout=5000)
    [action] = services.store.pending_actions()
    assert action.type == "hold_released"
    assert action.payload["hold_id"] == "h-rural"
    assert action.payload["resolution"] == {"confirmed_via": "phone_call", "confirmed_address": "汲冢镇丁楼村3组12号"}
    assert action.payload["reason"].startswith("电话")
    order = services.store.get_order(OID)
    assert order is not None and order.snapshot["holds"] == [] and order.is_pending


def test_escape_cancels_and_tab_starts_at_the_first_field(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    dlg.activateWindow()
    assert dlg.focusWidget() is dlg.form.widgets["confirmed_via"]
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.result() == dlg.DialogCode.Rejected and not dlg.isVisible()
    assert services.store.pending_count() == 0


def test_text_is_readable_and_phone_is_masked(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    for label in dlg.findChildren(QLabel):
        if label.text():
            assert label.font().pointSize() >= 13 or "font-size" in label.styleSheet(), label.text()
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138****0000") == "138****0000"
    copy = dlg.findChild(QWidget, "copyPhone")
    assert copy is not None and copy.isEnabled() is False  # no phone to copy


def test_packer_sees_needs_desk_and_no_submit(services: AppServices, qtbot: Any) -> None:
    services.set_operator(Operator("P001", "打包员", "packer"))
    dlg = make(services, qtbot)
    fill(dlg)
    assert dlg.role_label.text() == "需要客服 / needs desk" and dlg.role_label.isVisible()
    assert not dlg.submit_button.isEnabled()


def test_open_exception_dialog_is_modal_and_returns_whether_resolved(services: AppServices, qtbot: Any) -> None:
    def drive() -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, ExceptionDialog)
        fill(dlg)
        dlg.submit_button.click()

    QTimer.singleShot(0, drive)
    assert open_exception_dialog(services, OID, "h-rural", None) is True


def test_nothing_to_resolve_says_why(services: AppServices, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(mod, "show_error", lambda _parent, text, *a: shown.append(str(text)))
    assert open_exception_dialog(services, OID, "gone", None) is False
    assert open_exception_dialog(services, OID, "", None) is False
    assert open_exception_dialog(services, "BL20261125-999999", "x", None) is False
    assert ["already resolved" in shown[0], "no offline conflict" in shown[1], "not on this station" in shown[2]] == [
        True, True, True]
