"""Returns mode (退货入库): scan the return parcel, scan and grade each item, finish with what is missing.

Keyboard and scanner only. The first scan (the parcel's waybill, the order ID or the shop's order
number) brings up the order's lines; each item scanned out of the parcel waits for its grade —
**F2** good (back to stock) or **F3** damaged (quarantine); **F4** takes the last unit back; **F6**
moves to the note field (Enter saves it and returns to the scan field); **F8** finishes (a second F8 confirms
when units are missing) and queues ONE ``return_received`` action through the outbox — the refund
then waits in the desk's Exceptions queue. **F12** twice drops the return. Esc goes back to the
queues; the return being counted is stored at every scan and grade (store v7), so it comes back
after Esc, a shift change or a restart, until it is finished or dropped.

What a scan or key means is :class:`core.returns.ReturnFlow`'s decision; this widget draws its
:class:`core.returns.Outcome` and runs the work it asks for on the database worker (the GUI thread
never touches the store). Scans and keys made while one is being answered wait their turn.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import returns as rt
from core.errors import UserError
from core.i18n import N_, _
from core.roles import Role
from ui.bench_banner import BenchBanner
from ui.pack_view import BANNER_STYLES as PACK_BANNER_STYLES
from ui.scan import ScanField
from ui.services import AppServices
from ui.sounds import Sounds

log = logging.getLogger("packdesk.ui.returns")

#: The pack view's looks (one look for OK / error / working on every bench screen), plus the
#: question "good or damaged?" and a finish waiting for its confirmation. Never colour alone.
BANNER_STYLES: dict[str, tuple[str, str, str]] = {
    **PACK_BANNER_STYLES,
    "grade": ("#1565c0", "#ffffff", "◈"),
}
BANNER_PT = 28
REASON_PT = 17
TABLE_PT = 15
COLUMNS = (N_("SKU"), N_("Item"), N_("May come back"), N_("✓ Good"), N_("✖ Damaged"), N_("○ Missing"))
SKU, ITEM, EXPECTED, GOOD, DAMAGED, MISSING = range(len(COLUMNS))


class ReturnsView(BenchBanner, QWidget):
    """The returns page: scan field, banner, the order's lines with their grades, note, keys.

    Args:
        services: the app's service layer (store, outbox, operator, task runner).

    Signals:
        closed(): Esc — back to the queues.
        answered(object): a scan or key was answered (the :class:`core.returns.Outcome` drawn).
        recorded(object): a return was queued (the order as it now looks on this station).
    """

    banner_styles = BANNER_STYLES

    closed = Signal()
    answered = Signal(object)
    recorded = Signal(object)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("returnsView")
        self.services = services
        self.sounds = Sounds(self)
        self.flow = rt.ReturnFlow()
        self.status_kind = "idle"
        self.last_outcome: rt.Outcome | None = None
        self.keys_box: QMessageBox | None = None
        self.shortcuts: list[QShortcut] = []
        self._queue: deque[str | Callable[[], rt.Outcome]] = deque()
        self._busy = 0
        self._build()
        self.sounds.requested.connect(self._flash)
        out = self.flow.idle()
        self._set_banner("idle", out.text, out.reason)

    @property
    def busy(self) -> bool:
        return self._busy > 0

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel(_("Returns · receive"), self)
        self.title.setObjectName("returnsTitle")
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        head.addWidget(self.title)
        self.order_label = QLabel(self)
        self.order_label.setObjectName("returnsOrder")
        self.order_label.setStyleSheet("font-size: 15pt; color: #0d47a1; font-weight: bold;")
        head.addWidget(self.order_label, 1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("returnsCount")
        self.count_label.setStyleSheet("font-size: 18pt; font-weight: bold; padding: 0 8px;")
        head.addWidget(self.count_label)
        root.addLayout(head)
        self.role_note = QLabel(_("▲ Recording a return needs the desk role: you can count and grade, but a desk "
                                  "operator must finish it (F8)."), self)
        self.role_note.setObjectName("returnsRoleNote")
        self.role_note.setWordWrap(True)
        self.role_note.setStyleSheet("color: #e65100; font-weight: bold;")
        self.role_note.setVisible(False)
        root.addWidget(self.role_note)

        self.scan_field = ScanField(self)
        self.scan_field.setPlaceholderText(_("Scan the return parcel's waybill or order ID, then each item…"))
        self.scan_field.setStyleSheet("font-size: 20pt; padding: 5px; border: 3px solid #0d47a1;")
        self.scan_field.scanned.connect(self.handle_scan)
        self.scan_field.typed.connect(self.handle_scan)  # a torn label keyed in by hand
        root.addWidget(self.scan_field)

        self._build_banner(root, "returns", BANNER_PT, REASON_PT)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("returnsLines")
        self.table.setHorizontalHeaderLabels([_(c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setStyleSheet(f"QTableWidget {{ font-size: {TABLE_PT}pt; }} "
                                 "QHeaderView::section { font-size: 13pt; font-weight: bold; }")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ITEM, QHeaderView.ResizeMode.Stretch)
        root.addWidget(self.table, 1)

        note_row = QHBoxLayout()
        note_label = QLabel(_("Note (F6)"), self)
        note_label.setStyleSheet("font-size: 13pt; font-weight: bold;")
        note_row.addWidget(note_label)
        self.note = QLineEdit(self)
        self.note.setObjectName("returnsNote")
        self.note.setMaxLength(500)
        self.note.setPlaceholderText(_("What the parcel looked like, what the buyer wrote… Enter: back to scanning"))
        self.note.setStyleSheet("font-size: 13pt; padding: 3px;")
        self.note.textChanged.connect(self.flow.set_note)
        self.note.returnPressed.connect(self._note_done)
        note_row.addWidget(self.note, 1)
        root.addLayout(note_row)

        keys = QHBoxLayout()
        self.good_button = self._button(_("✓ Good (F2)"), rt.KEY_GOOD, self.grade_good,
                                        _("The item just scanned is good: back to stock"))
        self.damaged_button = self._button(_("✖ Damaged (F3)"), rt.KEY_DAMAGED, self.grade_damaged,
                                           _("The item just scanned is damaged: quarantine, not for sale"))
        self.undo_button = self._button(_("Take back (F4)"), rt.KEY_UNDO, self.undo,
                                        _("Take back the last item counted"))
        self._shortcut(rt.KEY_NOTE, self.focus_note, _("Write a note on the return (Enter: back to scanning)"))
        self.finish_button = self._button(_("Finish (F8)"), rt.KEY_FINISH, self.finish,
                                          _("Finish: record the return (press again to confirm missing units)"))
        self.cancel_button = self._button(_("Drop (F12)"), rt.KEY_CANCEL, self.cancel,
                                          _("Drop the return being counted (press twice): nothing is recorded"))
        self.back_button = self._button(_("Back (Esc)"), "Esc", self.leave, _("Back to the queues"))
        self._shortcut("F1", self.show_keys, _("This list of keys"))
        for b in (self.good_button, self.damaged_button, self.undo_button, self.finish_button, self.cancel_button,
                  self.back_button):
            keys.addWidget(b)
        root.addLayout(keys)
        self._render()

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
        if flow.order_id:
            self.order_label.setText(_("Order {order}").format(order=flow.order_id))
            t = flow.totals()
            self.count_label.setText(_("✓ {good} · ✖ {damaged} · ○ {missing}").format(**t))
        else:
            self.order_label.setText(_("Last return: {order}").format(order=flow.last_done) if flow.last_done
                                     else _("No return open"))
            self.count_label.setText("")
        lines = list(flow.lines.values())
        self.table.setRowCount(len(lines))
        pending = flow.pending
        for i, ln in enumerate(lines):
            cells = [ln.sku, ln.name or "—", str(ln.expected), str(ln.good), str(ln.damaged), str(ln.missing)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= EXPECTED:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if c == GOOD and ln.good:
                    item.setForeground(QColor("#1b5e20"))
                elif c == DAMAGED and ln.damaged:
                    item.setForeground(QColor("#b71c1c"))
                elif c == MISSING and ln.missing:
                    item.setForeground(QColor("#e65100"))
                if pending is not None and pending.sku == ln.sku:
                    item.setBackground(QColor("#bbdefb"))  # the row waiting for F2 / F3
                self.table.setItem(i, c, item)
        if not flow.order_id and self.note.text():
            self.note.blockSignals(True)
            self.note.clear()
            self.note.blockSignals(False)
        has = bool(flow.order_id)
        for b in (self.finish_button, self.cancel_button, self.undo_button):
            b.setEnabled(has)
        self.good_button.setEnabled(pending is not None)
        self.damaged_button.setEnabled(pending is not None)

    def _draw(self, outcome: rt.Outcome) -> None:
        if outcome.banner is not None:
            self._set_banner(outcome.banner, outcome.text, outcome.reason)
            self.last_outcome = outcome
            self._render()
        if outcome.tone is not None:
            getattr(self.sounds, outcome.tone)()
        if outcome.banner is not None:
            self.answered.emit(outcome)
        for work in outcome.work:
            self._start(work)

    # -- work -----------------------------------------------------------------------------------
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

    def _start(self, work: rt.Work) -> None:
        store = self.services.store
        op = self.services.operator
        operator = op.code if op is not None else ""
        if isinstance(work, rt.FindOrder):
            self._run(lambda: rt.find_order(store, work.code), lambda r: self._draw(self.flow.found(r, work.code)))
            return
        if isinstance(work, rt.SaveDraft):
            self._run(lambda: rt.save_draft(store, work, operator), lambda _r: None)
            return
        if isinstance(work, rt.LoadDraft):
            self._run(lambda: rt.load_draft(store), self._restored)
            return
        outbox, role = self.services.outbox, self.services.role
        self._run(lambda: rt.record(outbox, work.order_id, work.payload, operator, role=role, initiator=self),
                  self._recorded, lambda exc: self._draw(self.flow.record_failed(exc)))

    def _restored(self, found: rt.Restored) -> None:
        out = self.flow.restored(found)
        if out.banner is not None and not out.refused:
            self.note.blockSignals(True)
            self.note.setText(self.flow.note)
            self.note.blockSignals(False)
        self._draw(out)

    def _note_done(self) -> None:
        """Enter in the note: save it with the return, back to the scanner."""
        self.scan_field.setFocus()
        self._key(self.flow.note_done)

    def _recorded(self, order: Any) -> None:
        self.recorded.emit(order)
        self._draw(self.flow.recorded(order))

    # -- scans and keys -------------------------------------------------------------------------
    def enter(self) -> None:
        """Returns mode was entered (a return being counted is still here, as it was)."""
        try:
            desk = Role(self.services.role).at_least(Role.DESK)
        except ValueError:
            desk = False
        self.role_note.setVisible(not desk)
        self.scan_field.setFocus()
        self._key(self.flow.start)  # a return left in progress (a restart) comes back

    def handle_scan(self, code: str) -> None:
        code = code.strip()
        if code:
            self._queue.append(code)
            self._drain()

    def _drain(self) -> None:
        while self._queue and not self.busy:
            item = self._queue.popleft()
            self._draw(self.flow.scan(item) if isinstance(item, str) else item())

    def _key(self, step: Callable[[], rt.Outcome]) -> None:
        self._queue.append(step)
        self._drain()

    def grade_good(self) -> None:
        """F2: the item just scanned is good."""
        self._key(lambda: self.flow.grade(rt.GOOD))

    def grade_damaged(self) -> None:
        """F3: the item just scanned is damaged."""
        self._key(lambda: self.flow.grade(rt.DAMAGED))

    def undo(self) -> None:
        """F4: take back the last item counted."""
        self._key(self.flow.undo)

    def focus_note(self) -> None:
        """F6: the note field (Enter goes back to the scan field)."""
        self.note.setFocus()

    def finish(self) -> None:
        """F8: record the return (again to confirm when units are missing)."""
        self._key(self.flow.finish)

    def cancel(self) -> None:
        """F12 (twice): drop the return being counted."""
        self._key(self.flow.cancel)

    def leave(self) -> None:
        """Esc: back to the queues."""
        self.closed.emit()

    def key_list(self) -> list[tuple[str, str]]:
        return [(sc.key().toString(QKeySequence.SequenceFormat.NativeText), sc.whatsThis()) for sc in self.shortcuts]

    def show_keys(self) -> None:
        """F1: the returns screen's keys, read from the live shortcuts."""
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.key_list())
        box = QMessageBox(QMessageBox.Icon.Information, _("Returns keys"), f"<table>{rows}</table>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("returnsKeysBox")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.finished.connect(lambda _r: self._keys_closed(box))
        self.keys_box = box
        box.open()

    def _keys_closed(self, box: QMessageBox) -> None:
        if self.keys_box is box:
            self.keys_box = None
        box.deleteLater()
        self.scan_field.setFocus()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.scan_field.setFocus()
