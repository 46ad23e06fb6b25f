"""The print service: render + send off the GUI thread, journal, label_printed only after success."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pypdfium2 as pdfium
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

import ui.print_service as print_service_mod
from core.scan_rules import batch_order_ids, looks_like_batch_id
from tests.helpers.printer import FakePrinter, closed_port
from tests.ui.conftest_pack import PackEnv, order_snap, pack_env
from ui.print_service import PrintOutcome, PrintService

__all__ = ["pack_env"]  # the fixture, re-exported for pytest


def test_the_store_is_never_read_on_the_gui_thread(qtbot: Any, pack_env: PackEnv,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """ui/services.py: widgets never call the store; the print service reads on the database worker."""
    pack_env.seed(order_snap(1, state="allocated"), order_snap(2, state="allocated"))
    store = pack_env.services.store
    real_read = store.read
    readers: list[int] = []

    @contextlib.contextmanager
    def spy() -> Iterator[Any]:
        readers.append(threading.get_ident())
        with real_read() as conn:
            yield conn

    monkeypatch.setattr(store, "read", spy)
    service = PrintService(pack_env.services)
    got: list[PrintOutcome] = []
    service.print_label("BL20261125-000001", on_done=got.append)
    service.print_labels(["BL20261125-000002"], on_done=got.append)
    service.print_picklist(["BL20261125-000001", "BL20261125-000002"], on_done=got.append)
    service.print_slip("BL20261125-000001", on_done=got.append)
    qtbot.waitUntil(lambda: len(got) == 4, timeout=20000)
    assert all(o.ok for o in got), [o.message for o in got]
    assert readers and threading.get_ident() not in readers


def test_label_to_pdf_folder_then_journal_and_label_printed_queued(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, state="allocated"))
    service = PrintService(pack_env.services)
    oid = "BL20261125-000001"
    with qtbot.waitSignal(service.job_finished, timeout=20000) as sig:
        service.print_label(oid)
    out: PrintOutcome = sig.args[0]
    assert out.ok and out.output_path is not None and out.output_path.parent == pack_env.prints
    assert out.output_path.read_bytes().startswith(b"%PDF")
    jobs = pack_env.services.journal.jobs(oid)
    assert [(j["doc_type"], j["ok"], j["operator"]) for j in jobs] == [("label", True, "P001")]
    assert pack_env.outbox(oid) == [("label_printed", {"printer": out.printer, "job_id": out.job_id})]
    order = pack_env.store.get_order(oid)
    assert order is not None and order.state == "label_printed" and order.is_pending


def test_unset_printer_saves_pdf_in_data_folder_and_says_so(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.settings.printers = {}
    pack_env.seed(order_snap(1, state="allocated"))
    service = PrintService(pack_env.services)
    with qtbot.waitSignal(service.job_finished, timeout=20000) as sig:
        service.print_label("BL20261125-000001")
    out: PrintOutcome = sig.args[0]
    assert out.output_path is not None and out.output_path.parent == pack_env.home / "data" / "prints"
    assert "saved as PDF" in service.last_status


def test_refusing_tcp_printer_then_retry_against_a_real_listener(qtbot: Any, pack_env: PackEnv) -> None:
    port = closed_port()
    pack_env.settings.printers["label"] = f"tcp:127.0.0.1:{port}"
    pack_env.seed(order_snap(1, state="allocated"))
    oid = "BL20261125-000001"
    service = PrintService(pack_env.services)
    with qtbot.waitSignal(service.job_failed, timeout=20000) as sig:
        service.print_label(oid)
    assert "refused" in sig.args[0]
    assert service.error_box is not None and service.error_box.isVisible()
    assert "Nothing was marked printed" in service.error_box.text()
    # The box must not take the scanner's keystrokes: a scan's Enter would otherwise press Retry.
    assert not service.error_box.isModal() and service.error_box.defaultButton() is None
    assert service.error_box.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    order = pack_env.store.get_order(oid)
    assert order is not None and order.state == "allocated" and not order.is_pending
    assert [j["ok"] for j in pack_env.services.journal.jobs(oid)] == [False]

    printer = FakePrinter(port)  # the printer is switched on
    try:
        retry = service.error_box.findChild(QPushButton, "printRetry")
        assert retry is not None
        with qtbot.waitSignal(service.job_finished, timeout=20000):
            retry.click()
        qtbot.waitUntil(lambda: len(printer.jobs) == 1, timeout=5000)
    finally:
        printer.close()
    job = printer.jobs[0].removeprefix(b"~HS")  # the status query that precedes every ZPL job
    assert job.startswith(b"^XA") and oid.encode() in job
    assert [j["ok"] for j in pack_env.services.journal.jobs(oid)] == [True, False]
    assert [t for t, _p in pack_env.outbox(oid)] == ["label_printed"]


def test_batch_labels_in_walking_order_with_progress(qtbot: Any, pack_env: PackEnv) -> None:
    snaps = [order_snap(i, state="allocated", lines=[
        {"sku": f"S{i}", "name": "x", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": b}])
        for i, b in ((1, "C-1"), (2, "A-10"), (3, "A-2"))]
    pack_env.seed(*snaps)
    service = PrintService(pack_env.services)
    seen: list[tuple[int, int]] = []
    service._progress.connect(lambda d, t: seen.append((d, t)))
    with qtbot.waitSignal(service.job_finished, timeout=20000) as sig:
        service.print_labels([s["order_id"] for s in snaps])
        assert service.progress_dialog is not None and service.progress_dialog.isVisible()
    out: PrintOutcome = sig.args[0]
    assert out.order_ids == ["BL20261125-000003", "BL20261125-000002", "BL20261125-000001"]  # C-1
    assert len(pdfium.PdfDocument(str(out.output_path))) == 3
    qtbot.waitUntil(lambda: (3, 3) in seen)
    assert service.progress_dialog is None  # closed when done
    assert len(pack_env.services.journal.jobs()) == 1  # one job
    assert sorted(o for o in pack_env.store.order_ids()
                  if pack_env.store.get_order(o).state == "label_printed") == sorted(out.order_ids)  # type: ignore[union-attr]


def test_batch_cancelled_before_sending_prints_nothing(qtbot: Any, pack_env: PackEnv,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pack_env.seed(order_snap(1, state="allocated"), order_snap(2, state="allocated"))
    gate = threading.Event()

    def slow_render(orders: Any, size: str, progress: Any = None) -> bytes:
        progress(1, 2)
        gate.wait(10)
        progress(2, 2)
        return b"%PDF-never"

    monkeypatch.setattr(print_service_mod, "render_labels", slow_render)
    service = PrintService(pack_env.services)
    got: list[PrintOutcome] = []
    service.print_labels(["BL20261125-000001", "BL20261125-000002"], on_done=got.append)
    dlg = service.progress_dialog
    assert dlg is not None
    qtbot.waitUntil(lambda: dlg.value() == 1)
    button = dlg.findChild(QPushButton)
    assert button is not None
    button.click()  # the packer presses Cancel while it renders
    gate.set()
    qtbot.waitUntil(lambda: bool(got))
    assert got[0].cancelled and not got[0].ok
    assert pack_env.services.journal.jobs() == [] and not list(pack_env.prints.glob("*"))
    assert pack_env.outbox() == []


def test_picklist_batch_id_is_journaled_with_its_orders(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1), order_snap(2))
    service = PrintService(pack_env.services)
    with qtbot.waitSignal(service.job_finished, timeout=20000) as sig:
        batch = service.print_picklist(["BL20261125-000002", "BL20261125-000001"])
    assert looks_like_batch_id(batch) and sig.args[0].job_id == batch
    assert set(batch_order_ids(pack_env.store, batch) or []) == {"BL20261125-000001", "BL20261125-000002"}
    assert pack_env.outbox() == []  # a pick list changes no order


def test_reprint_requires_a_reason(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))  # label_printed, label_count 1
    oid = "BL20261125-000001"
    service = PrintService(pack_env.services)
    service.print_label(oid)
    qtbot.waitUntil(lambda: service.reprint_dialog is not None)  # asked once the journal was read
    dlg = service.reprint_dialog
    assert dlg is not None and dlg.isVisible()
    assert not dlg.submit.isEnabled() and dlg.hint.text()
    dlg.reason_edit.setText("标签被撕坏")
    assert dlg.submit.isEnabled() and not dlg.hint.text()
    with qtbot.waitSignal(service.job_finished, timeout=20000):
        dlg.submit.click()
    job = pack_env.services.journal.jobs(oid)[0]
    assert job["ok"] and job["reprint_reason"] == "标签被撕坏"
    assert pack_env.outbox(oid) == []  # already label_printed: the journal row is the record


def test_reprint_cancelled_prints_nothing(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    service = PrintService(pack_env.services)
    got: list[PrintOutcome] = []
    service.print_label("BL20261125-000001", on_done=got.append)
    qtbot.waitUntil(lambda: service.reprint_dialog is not None)
    service.reprint_dialog.reject()
    qtbot.waitUntil(lambda: bool(got))
    out = got[0]
    assert out.cancelled and pack_env.services.journal.jobs() == []


def test_held_order_label_is_refused_before_printing(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, state="allocated", holds=[{
        "hold_id": "h1", "type": "carrier_area", "reason": "不覆盖", "raised_at": "", "raised_by": "hub",
        "details": {}}]))
    service = PrintService(pack_env.services)
    with qtbot.waitSignal(service.job_failed) as sig:
        service.print_label("BL20261125-000001")
    assert "held" in sig.args[0]
    assert pack_env.services.journal.jobs() == [] and not pack_env.prints.exists()


def test_slip_and_preview(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    service = PrintService(pack_env.services)
    with qtbot.waitSignal(service.job_finished, timeout=20000) as sig:
        service.print_slip("BL20261125-000001")
    out: PrintOutcome = sig.args[0]
    assert out.doc_type == "packing_slip" and out.output_path is not None
    dlg = service.preview(out.output_path.read_bytes())
    qtbot.addWidget(dlg)
    assert dlg.isVisible() and len(dlg.pages) >= 1  # type: ignore[attr-defined]


HS_PAPER_OUT = (b"\x02030,1,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n"
                b"\x021234,0\x03\r\n")


@pytest.mark.parametrize("kind", ["hangs", "paper_out"])
def test_hung_or_paper_out_tcp_printer_is_a_clear_error_and_marks_nothing(
        qtbot: Any, pack_env: PackEnv, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(print_service_mod, "TCP_TIMEOUT_S", 0.5)
    printer = FakePrinter(status=HS_PAPER_OUT) if kind == "paper_out" else FakePrinter(read=False)
    pack_env.settings.printers["label"] = f"tcp:127.0.0.1:{printer.port}"
    pack_env.seed(order_snap(1, state="allocated"))
    oid = "BL20261125-000001"
    service = PrintService(pack_env.services)
    try:
        with qtbot.waitSignal(service.job_failed, timeout=20000) as sig:
            service.print_label(oid)
    finally:
        printer.close()
    assert ("out of labels" if kind == "paper_out" else "did not read the whole job") in sig.args[0]
    assert service.error_box is not None and service.error_box.findChild(QPushButton, "printRetry") is not None
    order = pack_env.store.get_order(oid)
    assert order is not None and order.state == "allocated" and pack_env.outbox(oid) == []
    assert [j["ok"] for j in pack_env.services.journal.jobs(oid)] == [False]
    if kind == "paper_out":
        assert printer.raw == b"~HS"  # asked, and the label was never sent


def test_a_second_print_of_a_label_still_printing_is_refused_not_printed_twice(qtbot: Any,
                                                                               pack_env: PackEnv) -> None:
    """Ctrl+P twice, or a wave over an order a packer is printing: the journal has not seen the first
    job yet, so the second would not count as a reprint and a second waybill label would come out."""
    pack_env.seed(order_snap(1, state="allocated"))
    service = PrintService(pack_env.services)
    oid = "BL20261125-000001"
    refused: list[PrintOutcome] = []
    with qtbot.waitSignal(service.job_finished, timeout=20000):
        service.print_label(oid)
        service.print_label(oid, on_done=refused.append)  # while the first is still on its way
    assert len(refused) == 1 and not refused[0].ok and "printing right now" in refused[0].message
    service._close_error_box()
    assert [j["ok"] for j in pack_env.services.journal.jobs(oid)] == [True]
    assert len(list(pack_env.prints.glob("label-*.pdf"))) == 1
    assert [t for t, _p in pack_env.outbox(oid)] == ["label_printed"]
