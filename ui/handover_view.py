"""Handover mode (交接 / 扫描出库): scan each parcel into the courier's bag, close the batch, print the 交接单.

The packer stands at the bench with the scanner; the courier waits. Everything is keyboard (and
scanner) only: ↑ ↓ and Enter pick the carrier, or the first parcel scanned opens a batch for its
own carrier; every scan is answered with a big banner — green ✔ with the count, blue ↻ for a
parcel already in the batch, red ✖ with the reason and the error tone for a parcel that must not
leave (held, cancelled, not printed, shipped, another carrier's, unknown: the 拦截 moment). F8
closes the batch (a second F8 confirms when printed parcels are still missing): every parcel is
shipped in one local transaction and the manifest prints. F12 twice cancels the batch. Esc goes
back to the queues; the batch stays open (it is stored) for when the packer comes back.

What a scan means is :class:`core.handover.HandoverFlow`'s decision; this widget draws its
:class:`core.handover.Outcome` and runs the work it asks for on the database worker (the GUI
thread never touches the store). Scans made while one is being answered wait their turn.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import handover as ho
from core.display_names import carrier_name
from core.errors import UserError
from core.i18n import N_, _
from ui.bench_banner import BenchBanner
from ui.pack_view import BANNER_STYLES as PACK_BANNER_STYLES
from ui.print_service import PrintOutcome, PrintService
from ui.scan import ScanField
from ui.services import AppServices
from ui.sounds import Sounds

log = logging.getLogger("packdesk.ui.handover")

#: banner look per kind: the pack view's (one look for OK / error / working on every bench screen),
#: plus a repeated scan and a close waiting for its confirmation. Never colour alone: icon + words too.
BANNER_STYLES: dict[str, tuple[str, str, str]] = {
    **PACK_BANNER_STYLES,
    "repeat": ("#1565c0", "#ffffff", "↻"),
}
BANNER_PT = 28
REASON_PT = 17
LIST_PT = 14
#: at most this many rows in each list (the counts above them are always whole)
LIST_ROWS = 200


class HandoverScanField(ScanField):
    """The scan field of handover mode: ↑ ↓ move the carrier picker, Enter on an empty field picks.

    Signals:
        moved(int): ↑ (-1) or ↓ (+1) pressed.
        enter_on_empty(): Enter with nothing typed.
    """

    moved = Signal(int)
    enter_on_empty = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            event.accept()
            self.moved.emit(-1 if key == Qt.Key.Key_Up else 1)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.text().strip():
            event.accept()
            self.detector.reset()
            self.enter_on_empty.emit()
            return
        super().keyPressEvent(event)


class HandoverView(BenchBanner, QWidget):
    """The handover page: carrier, scan field, banner, count, scanned and still-missing lists, keys.

    Args:
        services: the app's service layer (store, outbox, settings, operator, task runner).
        print_service: prints the manifest; one is made on ``services`` when not given.

    Signals:
        closed(): Esc — back to the queues (an open batch stays open, stored).
        answered(object): a scan was answered (the :class:`core.handover.Outcome` drawn).
        batch_closed(object): a batch was closed and shipped (the closed :class:`core.handover.HandoverBatch`).
        manifest_printed(object): the manifest's :class:`ui.print_service.PrintOutcome`.
    """

    banner_styles = BANNER_STYLES

    closed = Signal()
    answered = Signal(object)
    batch_closed = Signal(object)
    manifest_printed = Signal(object)

    #: Keys a widget handles itself, for F1 and docs/keys.md.
    FIELD_KEYS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("↑ ↓", N_("Choose the carrier (no batch open)")),
        ("Enter", N_("On an empty scan field: open a batch for the chosen carrier")),
    )

    def __init__(self, services: AppServices, print_service: PrintService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("handoverView")
        self.services = services
        self.print_service = print_service or PrintService(services, self)
        self.sounds = Sounds(self)
        self.flow = ho.HandoverFlow()
        self.status_kind = "idle"
        self.last_outcome: ho.Outcome | None = None
        self.keys_box: QMessageBox | None = None
        self.shortcuts: list[QShortcut] = []
        #: scans and key presses waiting for the store step in flight (answered in the order made)
        self._queue: deque[str | Callable[[], ho.Outcome]] = deque()
        self._busy = 0
        self._missing_items: dict[str, QListWidgetItem] = {}  # the missing list's rows by order ID
        self._build()
        self.sounds.requested.connect(self._flash)
        services.orders_changed.connect(self._orders_changed)
        self._set_banner("idle", _("Handover: choose the carrier (↑ ↓, Enter) or scan the first parcel"))

    @property
    def busy(self) -> bool:
        """A scan (or another store step) is being answered; later scans wait for it."""
        return self._busy > 0

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel(_("Handover · scan out"), self)
        self.title.setObjectName("handoverTitle")
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        head.addWidget(self.title)
        self.batch_label = QLabel(self)
        self.batch_label.setObjectName("handoverBatch")
        self.batch_label.setStyleSheet("font-size: 15pt; color: #0d47a1; font-weight: bold;")
        head.addWidget(self.batch_label, 1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("handoverCount")
        self.count_label.setStyleSheet("font-size: 26pt; font-weight: bold; padding: 0 8px;")
        head.addWidget(self.count_label)
        root.addLayout(head)
        # A bench whose pack flow ships at once (setting "Hand-over": at_pack) finds its packed parcels
        # already shipped here: say why every scan is refused, and where the setting is.
        self.mode_note = QLabel(_("▲ This station ships each parcel when it is packed, so packed parcels are "
                                  "refused here as already shipped. To ship by handover batches, set "
                                  "Settings → Hand-over to \"Ship at the handover scan\"."), self)
        self.mode_note.setObjectName("handoverModeNote")
        self.mode_note.setWordWrap(True)
        self.mode_note.setStyleSheet("color: #e65100; font-weight: bold;")
        self.mode_note.setVisible(False)
        root.addWidget(self.mode_note)

        self.scan_field = HandoverScanField(self)
        self.scan_field.setPlaceholderText(_("Scan each parcel's waybill as it goes into the courier's bag…"))
        self.scan_field.setStyleSheet("font-size: 20pt; padding: 5px; border: 3px solid #0d47a1;")
        self.scan_field.scanned.connect(self.handle_scan)
        self.scan_field.typed.connect(self.handle_scan)  # a torn waybill keyed in by hand
        self.scan_field.moved.connect(self._move_carrier)
        self.scan_field.enter_on_empty.connect(self.choose_carrier)
        root.addWidget(self.scan_field)

        self._build_banner(root, "handover", BANNER_PT, REASON_PT, reason_lines=3)

        lists = QHBoxLayout()
        self.carrier_box, self.carrier_title, self.carrier_list = self._list(_("Carrier"), "carrierList")
        self.scanned_box, self.scanned_title, self.scanned_list = self._list(_("In the bag"), "scannedList")
        self.missing_box, self.missing_title, self.missing_list = self._list(_("Still missing"), "missingList")
        lists.addWidget(self.carrier_box, 2)
        lists.addWidget(self.scanned_box, 4)
        lists.addWidget(self.missing_box, 5)
        root.addLayout(lists, 1)

        keys = QHBoxLayout()
        self.close_button = self._button(_("Close batch and print manifest (F8)"), "F8", self.close_batch,
                                         _("Close the batch: ship every parcel in it and print the manifest "
                                           "(press again to confirm when parcels are missing)"))
        self.cancel_button = self._button(_("Cancel batch (F12)"), "F12", self.cancel_batch,
                                          _("Cancel the open batch (press twice): nothing is shipped"))
        self.reprint_button = self._button(_("Manifest again (F7)"), "F7", self.reprint_manifest,
                                           _("Print the last closed batch's manifest again"))
        self.refresh_button = self._button(_("Refresh (F5)"), "F5", self.refresh,
                                           _("Read the carriers and the missing parcels again"))
        self.back_button = self._button(_("Back (Esc)"), "Esc", self.leave,
                                        _("Back to the queues (an open batch stays open)"))
        self._shortcut("F1", self.show_keys, _("This list of keys"))
        for b in (self.close_button, self.cancel_button, self.reprint_button, self.refresh_button, self.back_button):
            keys.addWidget(b)
        root.addLayout(keys)
        self._render()

    def _list(self, title: str, name: str) -> tuple[QFrame, QLabel, QListWidget]:
        box = QFrame(self)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        label = QLabel(title, box)
        label.setObjectName(name + "Title")
        label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        col.addWidget(label)
        lst = QListWidget(box)
        lst.setObjectName(name)
        lst.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        lst.setUniformItemSizes(True)
        lst.setStyleSheet(f"QListWidget {{ font-size: {LIST_PT}pt; }} QListWidget::item {{ padding: 3px; }}")
        col.addWidget(lst, 1)
        return box, label, lst

    def _button(self, text: str, key: str, slot: Any, what: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setStyleSheet("font-size: 13pt; padding: 6px 10px;")
        button.clicked.connect(slot)
        self._shortcut(key, slot, what)
        return button

    def _shortcut(self, key: str, slot: Any, what: str) -> QShortcut:
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.setWhatsThis(what)
        shortcut.activated.connect(slot)
        self.shortcuts.append(shortcut)
        return shortcut

    # -- drawing --------------------------------------------------------------------------------
    def _render(self) -> None:
        flow = self.flow
        batch = flow.batch
        if batch is None:
            last = flow.last_closed
            self.batch_label.setText(_("No batch open") if last is None else _(
                "Last batch {batch}: {n} parcel(s) shipped").format(batch=last.batch_id, n=last.count))
            self.count_label.setText("")
        else:
            self.batch_label.setText(_("{carrier} · batch {batch}").format(
                carrier=carrier_name(batch.carrier), batch=batch.batch_id))
            self.count_label.setText(_("{n} in the bag").format(n=batch.count))
        self._render_carriers()
        self._render_scanned()
        self._render_missing()
        has = batch is not None
        self.close_button.setEnabled(has)
        self.cancel_button.setEnabled(has)
        self.reprint_button.setEnabled(flow.last_closed is not None)

    def _render_carriers(self) -> None:
        batch = self.flow.batch
        current = self.carrier_list.currentRow()
        self.carrier_list.clear()
        if batch is not None:
            self.carrier_title.setText(_("Carrier"))
            item = QListWidgetItem("● " + carrier_name(batch.carrier))
            item.setData(Qt.ItemDataRole.UserRole, batch.carrier)
            self.carrier_list.addItem(item)
            self.carrier_list.setCurrentRow(0)
            self.carrier_list.setEnabled(False)
            return
        self.carrier_list.setEnabled(True)
        self.carrier_title.setText(_("Carrier (↑ ↓, Enter)"))
        for code, n in self.flow.carriers:
            item = QListWidgetItem(_("{carrier} · {n} printed").format(carrier=carrier_name(code), n=n))
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.carrier_list.addItem(item)
        if self.carrier_list.count():
            self.carrier_list.setCurrentRow(min(max(current, 0), self.carrier_list.count() - 1))

    def _render_scanned(self) -> None:
        batch = self.flow.batch
        parcels = batch.parcels if batch is not None else []
        self.scanned_title.setText(_("In the bag ({n})").format(n=len(parcels)))
        lst = self.scanned_list
        lst.setUpdatesEnabled(False)
        lst.clear()
        shown = list(reversed(parcels))[:LIST_ROWS]  # newest first
        total = len(parcels)
        lst.addItems([f"✔ {total - i}. {p.waybill_no} · {p.order_id}" for i, p in enumerate(shown)])
        lst.setUpdatesEnabled(True)

    def _missing_title(self) -> None:
        flow = self.flow
        title = _("Still missing ({n})").format(n=len(flow.missing) if flow.batch is not None else 0)
        if flow.batch is not None and flow.held_back:
            title += "  " + _("▲ {n} held back: keep them out").format(n=len(flow.held_back))
        self.missing_title.setText(title)

    def _render_missing(self) -> None:
        flow = self.flow
        missing = flow.missing_list() if flow.batch is not None else []
        self._missing_title()
        lst = self.missing_list
        lst.setUpdatesEnabled(False)
        lst.clear()
        texts = []
        for m in missing[:LIST_ROWS]:
            when = _("▲ printed {day}").format(day=m.printed_day[5:]) + " · " if m.earlier else "○ "
            texts.append(f"{when}{m.waybill_no} · {m.order_id}")
        if len(missing) > LIST_ROWS:
            texts.append(_("… and {n} more").format(n=len(missing) - LIST_ROWS))
        lst.addItems(texts)
        earlier = QBrush(QColor("#e65100"))
        self._missing_items = {}
        for i, m in enumerate(missing[:LIST_ROWS]):
            item = lst.item(i)
            self._missing_items[m.order_id] = item
            if m.earlier:
                item.setForeground(earlier)
        lst.setUpdatesEnabled(True)

    def _head(self) -> None:
        batch = self.flow.batch
        if batch is not None:
            self.count_label.setText(_("{n} in the bag").format(n=batch.count))
        self.scanned_title.setText(_("In the bag ({n})").format(n=batch.count if batch is not None else 0))
        self._missing_title()

    def _added(self, parcel: ho.Parcel) -> None:
        """One parcel went into the bag: one row in, its "missing" row out — not the whole page again."""
        self._head()
        self.scanned_list.insertItem(0, f"✔ {self.flow.count}. {parcel.waybill_no} · {parcel.order_id}")
        if self.scanned_list.count() > LIST_ROWS:
            self.scanned_list.takeItem(self.scanned_list.count() - 1)
        item = self._missing_items.pop(parcel.order_id, None)
        if item is not None:
            self.missing_list.takeItem(self.missing_list.row(item))

    def _draw(self, outcome: ho.Outcome, added: ho.Parcel | None = None) -> None:
        """Show one answer of the flow and start the work it asks for."""
        if outcome.banner is not None:
            self._set_banner(outcome.banner, outcome.text, outcome.reason)
            self.last_outcome = outcome
        if added is not None and not outcome.work:
            self._added(added)
        elif outcome.banner is not None and outcome.banner not in ("error", "repeat"):  # a refusal changes no list
            self._render()
        if outcome.tone is not None:
            getattr(self.sounds, outcome.tone)()
        if outcome.banner is not None:
            self.answered.emit(outcome)
        for work in outcome.work:
            self._start(work)

    # -- work -----------------------------------------------------------------------------------
    def _who(self) -> tuple[str, str, str]:
        op = self.services.operator
        settings = self.services.settings
        return (op.code if op is not None else ""), settings.station, settings.bench

    def _run(self, fn: Any, then: Any, failed: Any = None) -> None:
        self._busy += 1

        def done(result: Any) -> None:
            self._busy -= 1
            then(result)
            self._drain()

        def error(exc: UserError) -> None:
            self._busy -= 1
            (failed or (lambda e: self._draw(self.flow.failed(e.message))))(exc)
            self._drain()

        self.services.tasks.run_db(fn, done, error)

    def _start(self, work: ho.Work) -> None:
        store = self.services.store
        operator, station, bench = self._who()
        if isinstance(work, ho.LoadOpen):
            self._run(lambda: ho.load_open(store), lambda r: self._draw(self.flow.loaded(r)))
        elif isinstance(work, ho.ReadCarriers):
            self._run(lambda: ho.carrier_counts(store), lambda r: self._redraw(self.flow.carriers_read(r)))
        elif isinstance(work, ho.Check):
            self._run(lambda: ho.scan_parcel(store, work, station=station, bench=bench, operator=operator),
                      lambda r: self._draw(self.flow.checked(r), r.parcel))
        elif isinstance(work, ho.OpenBatch):
            self._run(lambda: ho.open_batch(store, work.carrier, station=station, bench=bench, operator=operator),
                      lambda r: self._draw(self.flow.opened(r)))
        elif isinstance(work, ho.ReadMissing):
            self._run(lambda: ho.read_missing(store, work.batch_id, work.carrier),
                      lambda r: self._redraw(self.flow.missing_read(r)))
        elif isinstance(work, ho.CloseBatch):
            outbox, role = self.services.outbox, self.services.role
            self._run(lambda: ho.close_batch(store, outbox, work.batch_id, operator, role=role, drop=work.drop,
                                             initiator=self),
                      self._closed, lambda exc: self._draw(self.flow.close_failed(exc)))
        elif isinstance(work, ho.CancelBatch):
            self._run(lambda: ho.cancel_batch(store, work.batch_id, operator),
                      lambda _r: self._draw(self.flow.cancelled()))
        else:
            op = self.services.operator
            self.print_service.print_manifest(work.batch, operator_name=op.name if op is not None else "",
                                              parent=self, on_done=self._manifest_done)

    def _redraw(self, outcome: ho.Outcome) -> None:
        """An outcome that changed what the lists show (read again from the store)."""
        self._render()
        self._draw(outcome)

    def _closed(self, closed: ho.Closed) -> None:
        self.batch_closed.emit(closed.batch)
        self._draw(self.flow.closed(closed))

    def _manifest_done(self, outcome: PrintOutcome) -> None:
        self.manifest_printed.emit(outcome)
        self._draw(self.flow.printed(outcome.ok, outcome.message))

    # -- scans and keys -------------------------------------------------------------------------
    def enter(self) -> None:
        """Handover mode was entered: read the batch left open and the carriers."""
        self.mode_note.setVisible(self.services.settings.handover != "batch")
        self.scan_field.setFocus()
        self._key(self.flow.start)

    def handle_scan(self, code: str) -> None:
        """Answer one scan (in the order scanned: one waits while another is being answered)."""
        code = code.strip()
        if not code:
            return
        self._queue.append(code)
        self._drain()

    def _drain(self) -> None:
        while self._queue and not self.busy:
            item = self._queue.popleft()
            self._draw(self.flow.scan(item) if isinstance(item, str) else item())

    def _key(self, step: Callable[[], ho.Outcome]) -> None:
        """A key's step, after the scans and steps before it (a key pressed while a scan is answered waits)."""
        self._queue.append(step)
        self._drain()

    def _move_carrier(self, step: int) -> None:
        lst = self.carrier_list
        if self.flow.batch is None and lst.count():
            lst.setCurrentRow(min(max(lst.currentRow() + step, 0), lst.count() - 1))

    def selected_carrier(self) -> str:
        item = self.carrier_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def choose_carrier(self) -> None:
        """Enter on an empty scan field: open a batch for the chosen carrier (none open yet)."""
        if self.flow.batch is None:
            carrier = self.selected_carrier()
            self._key(lambda: self.flow.choose(carrier))

    def close_batch(self) -> None:
        """F8: close the batch (ship all, print the manifest); asks again when parcels are missing."""
        self._key(self.flow.close)

    def cancel_batch(self) -> None:
        """F12 (twice): cancel the open batch."""
        self._key(self.flow.cancel)

    def reprint_manifest(self) -> None:
        """F7: the last closed batch's manifest again."""
        self._key(self.flow.reprint)

    def refresh(self) -> None:
        """F5: read the batch, the carriers and the missing parcels again."""
        self._key(self.flow.start)

    def leave(self) -> None:
        """Esc: back to the queues; an open batch stays open (it is stored)."""
        self.closed.emit()

    def key_list(self) -> list[tuple[str, str]]:
        keys = [(sc.key().toString(QKeySequence.SequenceFormat.NativeText), sc.whatsThis()) for sc in self.shortcuts]
        return keys + [(k, _(w)) for k, w in self.FIELD_KEYS]

    def show_keys(self) -> None:
        """F1: handover mode's keys, read from the live shortcuts."""
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.key_list())
        box = QMessageBox(QMessageBox.Icon.Information, _("Handover keys"), f"<table>{rows}</table>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("handoverKeysBox")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.finished.connect(lambda _r: self._keys_closed(box))
        self.keys_box = box
        box.open()

    def _keys_closed(self, box: QMessageBox) -> None:
        if self.keys_box is box:
            self.keys_box = None
        box.deleteLater()
        self.scan_field.setFocus()

    # -- changes from elsewhere -----------------------------------------------------------------
    def _orders_changed(self, ids: list[str], initiator: object = None) -> None:
        """The hub or the desk changed orders: keep "missing" current, and shout about a parcel in the
        bag that is now stopped. Our own close's echo is skipped."""
        if initiator is self or self.flow.batch is None or not self.isVisible():
            return
        if len(ids) > LIST_ROWS:  # a full re-sync: one read of the whole list beats one read per order
            self._draw(ho.Outcome(work=(ho.ReadMissing(self.flow.batch.batch_id, self.flow.batch.carrier),)))
            return
        store = self.services.store
        wanted = list(ids)
        self.services.tasks.run_db(lambda: [o for o in (store.get_order(i) for i in wanted) if o is not None],
                                   self._changed, lambda exc: log.warning("could not re-read %s: %s", wanted, exc))

    def _changed(self, orders: list[Any]) -> None:
        alerts = [out for out in (self.flow.order_changed(o) for o in orders) if out.banner is not None]
        self._render()
        if alerts:
            self._draw(alerts[-1])

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.scan_field.setFocus()
