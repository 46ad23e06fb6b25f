"""Reprinting a damaged label: reasons by number, and until handover even after the order is packed."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core import i18n
from tests.helpers.keyboard import wedge
from tests.ui.conftest_pack import LINES, PackEnv, order_snap, pack_env
from ui.pack_view import PackView
from ui.print_service import PrintOutcome, PrintService
from ui.reprint_dialog import ReprintDialog

__all__ = ["pack_env"]

OID = "BL20261125-000001"


def ask(qtbot: Any, service: PrintService, order_id: str = OID) -> ReprintDialog:
    service.print_label(order_id)
    qtbot.waitUntil(lambda: service.reprint_dialog is not None, timeout=10_000)
    dlg = service.reprint_dialog
    assert isinstance(dlg, ReprintDialog)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow)
    return dlg


def test_pressing_a_number_picks_that_reason(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    service = PrintService(pack_env.services)
    dlg = ask(qtbot, service)
    QTest.keyClick(dlg.reason_edit, Qt.Key.Key_2)
    assert dlg.reason() == "Printer jammed" and "2" not in dlg.reason_edit.text()
    QTest.keyClick(dlg.reason_edit, Qt.Key.Key_1)  # changed my mind
    assert dlg.reason() == "Label damaged" and dlg.submit.isEnabled()
    with qtbot.waitSignal(service.job_finished, timeout=20_000):
        QTest.keyClick(dlg.reason_edit, Qt.Key.Key_Return)
    assert pack_env.services.journal.jobs(OID)[0]["reprint_reason"] == "Label damaged"


def test_other_opens_the_free_text_where_digits_are_text(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    service = PrintService(pack_env.services)
    dlg = ask(qtbot, service)
    QTest.keyClick(dlg.reason_edit, Qt.Key.Key_5)  # 4 reasons, 5 = other
    assert dlg.free_text and dlg.reason() == "" and not dlg.submit.isEnabled()
    QTest.keyClicks(dlg.reason_edit, "box crushed 2x")
    assert dlg.reason() == "box crushed 2x"
    with qtbot.waitSignal(service.job_finished, timeout=20_000):
        QTest.keyClick(dlg.reason_edit, Qt.Key.Key_Return)
    assert pack_env.services.journal.jobs(OID)[0]["reprint_reason"] == "box crushed 2x"


def test_a_packed_and_handed_over_order_can_be_reprinted_from_the_bench(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    view = PackView(pack_env.services, PrintService(pack_env.services))
    qtbot.addWidget(view)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    wedge(view.scan_field, OID)
    qtbot.waitUntil(lambda: view.phase == "scanning", timeout=10_000)
    with qtbot.waitSignal(view.order_finished, timeout=20_000):
        for line in LINES:
            for _ in range(line["qty"]):
                wedge(view.scan_field, line["sku"])
    assert view.order is not None and view.order.state == "shipped"  # handed over, still on the bench

    QTest.keyClick(view.scan_field, Qt.Key.Key_F7)  # the label got torn
    service = view.print_service
    qtbot.waitUntil(lambda: service.reprint_dialog is not None, timeout=10_000)
    dlg = service.reprint_dialog
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow)
    QTest.keyClick(dlg.reason_edit, Qt.Key.Key_1)
    with qtbot.waitSignal(service.job_finished, timeout=20_000):
        QTest.keyClick(dlg.reason_edit, Qt.Key.Key_Return)
    jobs = pack_env.services.journal.jobs(OID)
    assert jobs[0]["ok"] and jobs[0]["reprint_reason"] == "Label damaged"
    assert [t for t, _p in pack_env.outbox(OID)].count("label_printed") == 0  # nothing new for the hub to refuse


@pytest.fixture
def chinese() -> Any:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.mark.parametrize(("extra", "words"), [
    ({"state": "shipped", "bench": "B2", "steps": {"packed": {}}}, "已发货"),  # packed at another bench
    ({"state": "shipped", "steps": {}}, "已发货"),  # shipped without being packed here (carrier pick-up)
    ({"state": "delivered", "steps": {"packed": {}}}, "已签收"),  # handed over: the carrier has it
])
def test_past_handover_is_refused_in_words_without_state_codes(qtbot: Any, pack_env: PackEnv, chinese: None,
                                                               extra: dict[str, Any], words: str) -> None:
    pack_env.seed(order_snap(1, label_count=1, **extra))
    service = PrintService(pack_env.services)
    got: list[PrintOutcome] = []
    service.print_label(OID, on_done=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert not got[0].ok and words in got[0].message
    assert "shipped" not in got[0].message and "delivered" not in got[0].message
    assert pack_env.services.journal.jobs() == []
