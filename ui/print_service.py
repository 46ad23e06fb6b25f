"""The bench's print path: render, send, journal — off the GUI thread, never marked printed by hope.

One call per document (:meth:`PrintService.print_label`, :meth:`~PrintService.print_labels`,
:meth:`~PrintService.print_picklist`, :meth:`~PrintService.print_slip`):

1. reads the orders (and, for labels, which were printed before) on the database worker, then checks
   on the GUI thread: the order exists, is not held, can take a label; a label printed before needs
   a reason (:class:`ui.reprint_dialog.ReprintDialog`);
2. renders and sends on the task runner's network pool (a thermal printer or a system printer can
   hang for seconds; the GUI must not);
3. records the result with :meth:`core.print_journal.PrintJournal.record_print` on the database
   worker — which queues ``label_printed`` only for a job that succeeded. A failed job is journaled,
   changes no order, and is shown in plain words with a Retry button.

The printer comes from the station settings per document type (``settings.printers``):
``pdf:<folder>`` saves PDFs there; ``tcp:<host>:<port>`` sends ZPL to a networked thermal printer
(labels only: pick lists and slips are PDF documents); anything else is a system printer's name.
Unset: the document is saved as PDF into ``<data dir>/prints`` and the status says so.

Batch IDs: a pick list of several orders gets a new batch ID (:func:`core.scan_rules.make_batch_id`),
which is also its journal ``job_id`` (``<batch>.<n>`` for a retry) — that is how a later scan of
the batch barcode finds the batch's orders (:func:`core.scan_rules.batch_order_ids`).
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from core import paths
from core.errors import UserError
from core.handover import HandoverBatch
from core.i18n import _
from core.packing import label_refusal
from core.print_journal import PrintJobResult, PrintJournal, PrintRecord
from core.scan_rules import make_batch_id
from core.split_merge import merged_with, parcel_view
from core.store import LocalOrder, LocalStore
from core.timeutil import parse_iso, utcnow
from printing import (
    Manifest,
    ManifestParcel,
    PrintJob,
    PrintResult,
    labels_zpl,
    render_labels,
    render_manifest,
    render_picklist,
    render_slip,
    try_send,
    wave_order,
)
from printing.backends import PDF, ZPL, PrintBackend
from printing.targets import parse_printer
from ui.print_qt import QtPrinterBackend
from ui.services import AppServices

#: journal / settings document type -> printing.PrintJob document type
JOB_DOC = {"label": "label", "pick_list": "picklist", "packing_slip": "slip", "handover_manifest": "manifest"}
TCP_TIMEOUT_S = 5.0
TCP_CONNECT_TIMEOUT_S = 3.0


class _Cancelled(Exception):
    """The operator cancelled a batch before it was sent."""


@dataclass(frozen=True)
class PrintTarget:
    """Where a document type goes: the back-end, what it takes (PDF or ZPL) and a note for the status."""

    backend: PrintBackend
    content_type: str
    note: str = ""


@dataclass(frozen=True)
class PrintOutcome:
    """What became of one print request (emitted by ``job_finished`` and passed to ``on_done``).

    Attributes:
        ok: the printer (or folder) took the job and the journal recorded it.
        doc_type: ``label``, ``pick_list`` or ``packing_slip``.
        order_ids: the orders on it, in print order.
        job_id: the journal's job ID (a batch ID for a pick list).
        printer: the printer's display name.
        message: plain words for the screen (the error when not ok).
        result: the back-end's :class:`printing.PrintResult` (None when nothing was sent).
        record: the journal's :class:`core.print_journal.PrintRecord` (None when not recorded).
        cancelled: the operator cancelled before anything was sent.
    """

    ok: bool
    doc_type: str
    order_ids: list[str]
    job_id: str
    printer: str
    message: str
    result: PrintResult | None = None
    record: PrintRecord | None = None
    cancelled: bool = False

    @property
    def output_path(self) -> Path | None:
        return self.result.output_path if self.result is not None else None


OnDone = Callable[[PrintOutcome], None]
Render = Callable[[str, Callable[[int, int], None] | None], bytes]


@dataclass
class _Request:
    doc_type: str
    order_ids: list[str]
    render: Render
    target: PrintTarget
    reprint_reason: str | None
    on_done: OnDone | None
    parent: QWidget | None
    batch_id: str | None = None
    job: PrintJob | None = None
    attempt: int = 1
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    progress: bool = False


@dataclass(frozen=True)
class _Orders:
    """What :func:`read_orders` found: the orders asked for, in order, and which are not here."""

    asked: list[str]
    found: list[LocalOrder]
    missing: list[str]
    reprints: list[str] = dataclasses.field(default_factory=list)


def read_orders(store: LocalStore, journal: PrintJournal, order_ids: list[str], *, reprints: bool = False) -> _Orders:
    """The orders to print, and (``reprints``) which already had a label. Store reads: the database worker."""
    found: list[LocalOrder] = []
    missing: list[str] = []
    with store.read() as conn:
        for oid in order_ids:
            order = store.get_order(oid, conn)
            if order is None:
                missing.append(oid)
            else:
                found.append(order)
        found = _parcels(store, conn, found)
    return _Orders(list(order_ids), found, missing, reprinted(journal, order_ids) if reprints else [])


def _parcels(store: LocalStore, conn: Any, found: list[LocalOrder]) -> list[LocalOrder]:
    """A merged parcel (合单, docs/split-merge.md) prints once: the first of its orders asked for
    carries the lines of all (:func:`core.split_merge.parcel_view`); the others asked for are left out
    (their label is that one; the hub moves them with it)."""
    out: list[LocalOrder] = []
    covered: set[str] = set()
    for order in found:
        if order.order_id in covered:
            continue
        members = merged_with(order.snapshot)
        if not members:
            out.append(order)
            continue
        snaps = [m.snapshot for m in (store.get_order(oid, conn) for oid in members) if m is not None]
        covered.update(members)
        out.append(dataclasses.replace(order, snapshot=parcel_view(order.snapshot, snaps)))
    return out


def reprinted(journal: PrintJournal, order_ids: Sequence[str]) -> list[str]:
    """Which of these orders already had a label (label count, or a printed label in the journal)."""
    found = set(journal.reprints(list(order_ids)))
    for oid in order_ids:
        if oid not in found and any(j["ok"] and j["doc_type"] == "label" for j in journal.jobs(oid, limit=20)):
            found.add(oid)
    return [oid for oid in order_ids if oid in found]


class PrintService(QObject):
    """Prints the bench's documents through the task runner and the print journal.

    Signals:
        job_finished(object): a :class:`PrintOutcome` for a job that printed and was recorded.
        job_failed(str): a job did not print (or could not start) — the message in plain words.
        status_changed(str): a one-line status for the status bar ("Label saved as PDF in …").
        _progress(int, int): internal; render progress from the worker to the progress dialog.
    """

    job_finished = Signal(object)
    job_failed = Signal(str)
    status_changed = Signal(str)
    _progress = Signal(int, int)

    def __init__(self, services: AppServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.last_status = ""
        self.last_outcome: PrintOutcome | None = None
        #: the dialogs currently open (tests drive them; the bench uses the keyboard)
        self.error_box: QMessageBox | None = None
        self.reprint_dialog: Any = None  # the open ReprintDialog (imported lazily)
        self.progress_dialog: QProgressDialog | None = None
        self._failed: _Request | None = None
        #: orders whose label job is between sent and journaled: a second label for them now would
        #: not yet count as a reprint (the journal has not seen the first) and would print twice
        self._labels_flying: set[str] = set()
        self._progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    # -- where ------------------------------------------------------------------------------------
    def target_for(self, doc_type: str) -> PrintTarget:
        """The configured printer for a document type (the values: :mod:`printing.targets`)."""
        setting = parse_printer(self.services.settings.printer_for(doc_type))
        folder = paths.data_dir() / "prints"
        backend = setting.backend(folder, timeout_s=TCP_TIMEOUT_S, connect_timeout_s=TCP_CONNECT_TIMEOUT_S)
        if backend is None:  # a system printer: handed a PDF through Qt
            backend = QtPrinterBackend(setting.name, self._paper_mm(doc_type))
        note = (_("No printer set for this document: saved as PDF in {folder}.").format(folder=folder)
                if setting.kind == "unset" else "")
        return PrintTarget(backend, setting.content_type(doc_type), note)

    def _paper_mm(self, doc_type: str) -> tuple[float, float] | None:
        if doc_type != "label":
            return None  # pick lists and slips use the printer's own paper (A4/A5 set in its driver)
        w, h = self.services.settings.label_size.split("x")
        return float(w), float(h)

    # -- what -------------------------------------------------------------------------------------
    def _read(self, order_ids: Sequence[str], then: Callable[[_Orders], None], *, reprints: bool = False) -> None:
        """Read the orders on the database worker (never on the GUI thread), then ``then(found)`` on it."""
        store, journal, ids = self.services.store, self.services.journal, list(order_ids)
        def failed(exc: UserError) -> None:
            self._close_progress()
            self._show_error(None, exc.message, retry=False)

        self.services.tasks.run_db(lambda: read_orders(store, journal, ids, reprints=reprints), then, failed)

    def _label_problem(self, order: LocalOrder) -> str | None:
        """Why no label can be printed for ``order`` here (the rule, reprint until handover included: core)."""
        return label_refusal(order, self.services.settings.bench)

    # -- public calls -----------------------------------------------------------------------------
    def print_label(self, order_id: str, *, parent: QWidget | None = None, reprint_reason: str | None = None,
                    on_done: OnDone | None = None) -> None:
        """Print one order's shipping label (asks for a reason first when it is a reprint)."""
        self._labels([order_id], parent=parent, reprint_reason=reprint_reason, on_done=on_done, batch=False)

    def print_labels(self, order_ids: list[str], *, parent: QWidget | None = None,
                     reprint_reason: str | None = None, on_done: OnDone | None = None) -> None:
        """Print a batch's labels as one job, grouped by carrier then in walking order (the pick list's
        slot order, :func:`printing.common.wave_order`), with a cancellable progress dialog."""
        self._labels(order_ids, parent=parent, reprint_reason=reprint_reason, on_done=on_done, batch=True)

    def _labels(self, order_ids: list[str], *, parent: QWidget | None, reprint_reason: str | None,
                on_done: OnDone | None, batch: bool) -> None:
        cancel = threading.Event()
        if batch:  # said at once: the orders are read first, on the database worker
            self._open_progress(len(order_ids), cancel, parent)
        self._read(order_ids, lambda read: self._labels_read(read, parent=parent, reprint_reason=reprint_reason,
                                                             on_done=on_done, batch=batch, cancel=cancel),
                   reprints=True)

    def _labels_read(self, read: _Orders, *, parent: QWidget | None, reprint_reason: str | None,
                     on_done: OnDone | None, batch: bool, cancel: threading.Event) -> None:
        order_ids = read.asked
        problems = [_("Order {order} is not on this station.").format(order=oid) for oid in read.missing]
        problems += [p for p in (self._label_problem(o) for o in read.found) if p]
        if problems:
            self._close_progress()
            self._refuse("label", order_ids, "\n".join(problems), parent, on_done)
            return
        if read.reprints and not (reprint_reason or "").strip():
            self._close_progress()
            self._ask_reason(read.reprints, parent, lambda reason: self._labels(
                order_ids, parent=parent, reprint_reason=reason, on_done=on_done, batch=batch), order_ids, on_done)
            return
        snaps = wave_order([o.snapshot for o in read.found])  # type: ignore[misc]
        size = self.services.settings.label_size

        def render(content_type: str, progress: Callable[[int, int], None] | None) -> bytes:
            if content_type == ZPL:
                return labels_zpl(snaps, size, progress=progress).encode("utf-8")
            return render_labels(snaps, size, progress=progress)

        req = _Request("label", [s["order_id"] for s in snaps], render, self.target_for("label"),
                       reprint_reason, on_done, parent, progress=batch, cancel=cancel)
        self._start(req)

    def print_picklist(self, order_ids: list[str], *, parent: QWidget | None = None,
                       on_done: OnDone | None = None) -> str:
        """Print a pick list; returns its batch ID (the order ID itself for a one-order list).

        The journal keeps the job under the batch ID with the orders in slot (walking) order, so
        scanning the pick list's barcode at the bench opens the batch.
        """
        ids = list(order_ids)
        batch_id = make_batch_id() if len(ids) > 1 else (ids[0] if ids else "")
        self._read(ids, lambda read: self._picklist_read(read, batch_id, parent, on_done))
        return batch_id

    def _picklist_read(self, read: _Orders, batch_id: str, parent: QWidget | None, on_done: OnDone | None) -> None:
        snaps = wave_order([o.snapshot for o in read.found])  # type: ignore[misc]
        if read.missing or not snaps:
            text = "\n".join(_("Order {order} is not on this station.").format(order=oid) for oid in read.missing)
            self._refuse("pick_list", read.asked, text or _("No orders to print."), parent, on_done)
            return
        code = batch_id if len(snaps) > 1 else None

        def render(_content_type: str, _progress: Callable[[int, int], None] | None) -> bytes:
            return render_picklist(snaps, code)

        req = _Request("pick_list", [s["order_id"] for s in snaps], render, self._pdf_target("pick_list"),
                       None, on_done, parent, batch_id=code)
        self._start(req)

    def print_slip(self, order_id: str, *, parent: QWidget | None = None, on_done: OnDone | None = None) -> None:
        """Print one order's packing slip."""
        self._read([order_id], lambda read: self._slip_read(read, order_id, parent, on_done))

    def _slip_read(self, read: _Orders, order_id: str, parent: QWidget | None, on_done: OnDone | None) -> None:
        if read.missing:
            self._refuse("packing_slip", [order_id], _("Order {order} is not on this station.").format(
                order=order_id), parent, on_done)
            return
        snap = read.found[0].snapshot

        def render(_content_type: str, _progress: Callable[[int, int], None] | None) -> bytes:
            return render_slip(snap)  # type: ignore[arg-type]

        self._start(_Request("packing_slip", [order_id], render, self._pdf_target("packing_slip"), None,
                             on_done, parent))

    def print_manifest(self, batch: HandoverBatch, *, operator_name: str = "", parent: QWidget | None = None,
                       on_done: OnDone | None = None) -> None:
        """Print a closed handover batch's manifest (交接单, A4): through the journal like every document.

        The printer is the station's ``handover_manifest`` printer, else its pick-list printer (both
        are A4 document printers), else a PDF in the prints folder.
        """
        who = f"{batch.closed_by or batch.operator} {operator_name}".strip()
        manifest = Manifest(batch.batch_id, batch.carrier, batch.bench, batch.station, who,
                            parse_iso(batch.opened_at) or utcnow(), parse_iso(batch.closed_at),
                            [ManifestParcel(p.waybill_no, p.order_id) for p in batch.parcels])

        def render(_content_type: str, _progress: Callable[[int, int], None] | None) -> bytes:
            return render_manifest(manifest)

        doc = "handover_manifest" if self.services.settings.printer_for("handover_manifest") else "pick_list"
        self._start(_Request("handover_manifest", [p.order_id for p in batch.parcels], render,
                             self._pdf_target(doc), None, on_done, parent))

    def preview_label(self, order_id: str, *, parent: QWidget | None = None) -> None:
        """Show the order's label as this station would print it; prints and records nothing.

        Allowed for held orders too: a desk clerk checks an address change before releasing it.
        The render runs on the pool (a label takes milliseconds, a slow font load longer).
        """
        self._read([order_id], lambda read: self._preview_read(read, order_id, parent))

    def _preview_read(self, read: _Orders, order_id: str, parent: QWidget | None) -> None:
        if read.missing:
            self._show_error(parent, _("Order {order} is not on this station.").format(order=order_id), retry=False)
            return
        snap, size = read.found[0].snapshot, self.services.settings.label_size

        def shown(pdf: bytes) -> None:
            self.preview(pdf, parent)

        self.services.tasks.run_net(lambda: render_labels([snap], size), shown,  # type: ignore[list-item]
                                    lambda exc: self._show_error(parent, exc.message, retry=False))

    def preview(self, doc: bytes, parent: QWidget | None = None) -> QWidget:
        """Show a PDF in a preview window (on demand, never on the bench's happy path)."""
        from ui.print_preview import PrintPreviewDialog

        dlg = PrintPreviewDialog(doc, parent)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg

    def retry(self) -> bool:
        """Send the last failed job again (same document, new job ID). False if nothing failed."""
        req, self._failed = self._failed, None
        if req is None:
            return False
        self._close_error_box()
        req.attempt += 1
        if req.job is not None:
            job_id = f"{req.batch_id}.{req.attempt}" if req.batch_id else uuid.uuid4().hex
            req.job = dataclasses.replace(req.job, job_id=job_id)
        self._start(req)
        return True

    # -- the pipeline -----------------------------------------------------------------------------
    def _pdf_target(self, doc_type: str) -> PrintTarget:
        target = self.target_for(doc_type)
        if target.content_type == PDF:
            return target
        return dataclasses.replace(target, content_type=PDF)

    def _start(self, req: _Request) -> None:
        """Render and send on the network pool (a batch's progress dialog is already open: :meth:`_labels`)."""
        if self.services.operator is None:
            self._refuse_start(req, _("Log in first."))
            return
        if req.doc_type == "label":
            busy = [oid for oid in req.order_ids if oid in self._labels_flying]
            if busy:
                self._refuse_start(req, _("The label of {order} is printing right now; wait for it "
                                          "before printing it again.").format(order=busy[0]))
                return
            self._labels_flying.update(req.order_ids)
        self._set_status(_("Printing {doc} for {n} order(s) on {printer}…").format(
            doc=_doc_name(req.doc_type), n=len(req.order_ids), printer=req.target.backend.name))

        def work() -> tuple[PrintJob, PrintResult] | None:
            try:
                if req.job is None:
                    def progress(done: int, total: int) -> None:
                        if req.cancel.is_set():
                            raise _Cancelled
                        self._progress.emit(done, total)

                    payload = req.render(req.target.content_type, progress if req.progress else None)
                    req.job = PrintJob(JOB_DOC[req.doc_type], tuple(req.order_ids), payload,
                                       req.target.content_type, job_id=req.batch_id or uuid.uuid4().hex)
                if req.cancel.is_set():
                    raise _Cancelled
            except _Cancelled:
                return None
            return req.job, try_send(req.target.backend, req.job)

        self.services.tasks.run_net(work, lambda sent: self._sent(req, sent),
                                    lambda exc: self._sent_error(req, exc))

    def _refuse_start(self, req: _Request, message: str) -> None:
        if req.progress:
            self._close_progress()
        self._refuse(req.doc_type, req.order_ids, message, req.parent, req.on_done)

    def _landed(self, req: _Request) -> None:
        """The job is over (journaled, failed or cancelled): its orders may be printed again."""
        if req.doc_type == "label":
            self._labels_flying.difference_update(req.order_ids)

    def _sent_error(self, req: _Request, exc: UserError) -> None:
        self._close_progress()
        self._landed(req)
        self._fail(req, exc.message, None)

    def _sent(self, req: _Request, sent: tuple[PrintJob, PrintResult] | None) -> None:
        self._close_progress()
        if sent is None:
            self._landed(req)
            message = _("Cancelled: nothing was sent to the printer.")
            self._set_status(message)
            outcome = PrintOutcome(False, req.doc_type, req.order_ids, "", req.target.backend.name, message,
                                   cancelled=True)
            self.last_outcome = outcome
            if req.on_done is not None:
                req.on_done(outcome)
            return
        job, result = sent
        operator = self.services.operator
        assert operator is not None
        entry = PrintJobResult(req.doc_type, list(req.order_ids), result.printer, result.ok,
                               result.message or None, job.job_id)
        journal = self.services.journal

        def record() -> PrintRecord:
            return journal.record_print(entry, operator.code, reprint_reason=req.reprint_reason, role=operator.role)

        def not_recorded(exc: UserError) -> None:
            self._landed(req)
            if result.ok:  # on paper already: say so, and offer no retry that would print it twice
                self._printed_but(req, result, exc.message)
            else:
                self._fail(req, exc.message, result)

        self.services.tasks.run_db(record, lambda rec: self._recorded(req, result, rec), not_recorded)

    def _printed_but(self, req: _Request, result: PrintResult, why: str) -> None:
        text = _("{doc} printed, but the order could not be marked printed:\n{why}").format(
            doc=_doc_name(req.doc_type), why=why)
        self._set_status(text.replace("\n", " "))
        outcome = PrintOutcome(False, req.doc_type, req.order_ids, req.job.job_id if req.job else "",
                               result.printer, why, result)
        self.last_outcome = outcome
        self._show_error(req.parent, text, retry=False)
        self.job_failed.emit(why)
        if req.on_done is not None:
            req.on_done(outcome)

    def _recorded(self, req: _Request, result: PrintResult, record: PrintRecord) -> None:
        self._landed(req)
        if not result.ok:
            self._fail(req, result.message or _("The printer did not take the job."), result, record)
            return
        if record.not_marked:
            self._printed_but(req, result, "\n".join(f"{oid}: {why}" for oid, why in record.not_marked.items()))
            return
        where = str(result.output_path) if result.output_path is not None else result.printer
        message = _("{doc} printed: {where}").format(doc=_doc_name(req.doc_type), where=where)
        if req.target.note:
            message = f"{message} — {req.target.note}"
        self._set_status(message)
        outcome = PrintOutcome(True, req.doc_type, req.order_ids, record.job_id, result.printer, message,
                               result, record)
        self.last_outcome = outcome
        self.job_finished.emit(outcome)
        if req.on_done is not None:
            req.on_done(outcome)

    def _fail(self, req: _Request, message: str, result: PrintResult | None,
              record: PrintRecord | None = None) -> None:
        text = _("{doc} did not print. Nothing was marked printed.\n{why}").format(
            doc=_doc_name(req.doc_type), why=message)
        self._set_status(text.replace("\n", " "))
        outcome = PrintOutcome(False, req.doc_type, req.order_ids, req.job.job_id if req.job else "",
                               result.printer if result else req.target.backend.name, message, result, record)
        self.last_outcome = outcome
        self._failed = req
        self._show_error(req.parent, text, retry=True)
        self.job_failed.emit(message)
        if req.on_done is not None:
            req.on_done(outcome)

    def _refuse(self, doc_type: str, order_ids: list[str], message: str, parent: QWidget | None,
                on_done: OnDone | None) -> None:
        """A print that cannot even start (held order, not logged in): say why; nothing to retry."""
        self._set_status(message.replace("\n", " "))
        outcome = PrintOutcome(False, doc_type, list(order_ids), "", "", message)
        self.last_outcome = outcome
        self._show_error(parent, message, retry=False)
        self.job_failed.emit(message)
        if on_done is not None:
            on_done(outcome)

    # -- dialogs (non-blocking: the bench keeps scanning; tests drive them) --------------------
    def _show_error(self, parent: QWidget | None, text: str, *, retry: bool) -> None:
        self._close_error_box()
        box = QMessageBox(QMessageBox.Icon.Warning, _("Printing failed"), text, QMessageBox.StandardButton.NoButton,
                          parent)
        box.setObjectName("printErrorBox")
        if retry:
            retry_btn = box.addButton(_("Retry"), QMessageBox.ButtonRole.AcceptRole)
            retry_btn.setObjectName("printRetry")
            retry_btn.setAutoDefault(False)
        close = box.addButton(_("Close"), QMessageBox.ButtonRole.RejectRole)
        close.setAutoDefault(False)
        box.setEscapeButton(close)
        box.finished.connect(lambda _r: self._error_closed(box))
        self.error_box = box
        # Not modal and not focused: the scanner keeps typing into the bench's scan field, and a
        # scan's Enter must never press Retry (that would print a label nobody asked for).
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        box.show()

    def _error_closed(self, box: QMessageBox) -> None:
        clicked = box.clickedButton()
        if self.error_box is box:
            self.error_box = None
        if clicked is not None and clicked.objectName() == "printRetry":
            self.retry()

    def _close_error_box(self) -> None:
        box, self.error_box = self.error_box, None
        if box is not None:
            box.finished.disconnect()
            box.close()
            box.deleteLater()

    def _ask_reason(self, reprints: list[str], parent: QWidget | None, then: Callable[[str], None],
                    order_ids: list[str], on_done: OnDone | None) -> None:
        from ui.reprint_dialog import ReprintDialog

        dlg = ReprintDialog(reprints, parent)
        self.reprint_dialog = dlg

        def finished(code: int) -> None:
            self.reprint_dialog = None
            dlg.deleteLater()
            if code == ReprintDialog.DialogCode.Accepted and dlg.reason():
                then(dlg.reason())
            else:
                message = _("Reprint cancelled: nothing was printed.")
                self._set_status(message)
                if on_done is not None:
                    on_done(PrintOutcome(False, "label", order_ids, "", "", message, cancelled=True))

        dlg.finished.connect(finished)
        dlg.open()

    def _open_progress(self, n: int, cancel: threading.Event, parent: QWidget | None) -> None:
        self._close_progress()
        dlg = QProgressDialog(_("Rendering {n} labels in walking order…").format(n=n),
                              _("Cancel"), 0, n, parent)
        dlg.setObjectName("printProgress")
        dlg.setWindowTitle(_("Printing labels"))
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setValue(0)
        dlg.canceled.connect(cancel.set)
        self.progress_dialog = dlg
        dlg.show()

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setMaximum(total)
            self.progress_dialog.setValue(done)

    def _close_progress(self) -> None:
        dlg, self.progress_dialog = self.progress_dialog, None
        if dlg is not None:
            dlg.canceled.disconnect()
            dlg.close()
            dlg.deleteLater()

    def _set_status(self, text: str) -> None:
        self.last_status = text
        self.status_changed.emit(text)


def _doc_name(doc_type: str) -> str:
    return {"label": _("Label"), "pick_list": _("Pick list"), "packing_slip": _("Packing slip"),
            "handover_manifest": _("Handover manifest")}.get(doc_type, doc_type)
