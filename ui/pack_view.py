"""Pack mode: scan an order, scan each item, get a big clear OK / wrong answer, finish by the bench flow.

Everything here is for a packer standing at a bench with a scanner in one hand: the scan field
always has focus, every answer is colour + icon + text + a tone (never colour alone), fonts are
readable from a step back, and the happy path needs no mouse and no dialog.

What a scan means and what happens next is decided by :class:`core.packing.PackFlow` (the
phases, the verified+packed → print → ship chain, the wrong-scan limit, batches); this widget
only draws its :class:`core.packing.Outcome` and runs the work it asks for: store reads on the
database worker (``services.tasks.run_db``; the GUI thread never reads the store), outbox actions
through ``services.perform_many`` (finishing an order is one transaction), labels through the
print service. Scans that arrive while a read is under way wait their turn, so they are answered
in the order they were made.

* No order open: an order ID, waybill number or channel order number opens that order (from the
  local store); a pick-list batch barcode opens the batch's first unfinished order.
* An order open: an item code is verified against the order's lines (:class:`core.scan_rules.PackSession`);
  a wrong item or one too many is refused with the reason and nothing is counted. Another order's
  code switches to that order; the partial count stays in memory for when it comes back.
* Complete: ``step verified`` {sku: qty} and ``step packed`` are recorded, then by ``bench_flow``
  the label is printed if it is not yet (``label_printed`` is queued by the print journal only
  after the printer took the job) and ``shipped_by_station`` follows. Each step is an outbox
  action; the header shows "pending sync" until the hub has them.
* A held order (or one with an offline conflict) cannot be packed: its holds are shown and the
  main window is asked to open the guided exception dialog. Three wrong scans raise a
  ``scan_mismatch`` hold; F9 reports an item missing or damaged (``item_missing``).
* Many identical units: scan one, press ``*`` (or F6), type how many, Enter — counted as that many,
  up to the station's ``max_qty_entry``. A scanner's code arriving in the quantity box is taken as
  a scan (by its keystroke timing), never as a number.
* Every counted scan is saved in the local store (:mod:`core.store.scan_progress`), so a restart
  finds a half-scanned order where it was left.
* With a scale in the station settings the live weight is shown; a packed parcel waits for the
  scale's settled weight, recorded as ``step weighed`` (a weight off the expected one raises a
  ``weight_mismatch`` hold instead of printing and shipping). F5 goes on without a weight only
  while the scale is not working. Without a scale nothing of this shows and the flow is unchanged.
* The pack page's keys are its own (F1 F5 F6 F7 F9 Esc, ``*``): each shortcut carries its
  description (``whatsThis``), which F1 lists and docs/keys.md is generated from.

The view passes itself as the initiator of its actions and skips their ``orders_changed`` echo:
the action's result already carries the updated order.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
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

from core.display_names import carrier_name, refusal_text, says_gift
from core.errors import UserError
from core.holds import hold_label
from core.i18n import _, language
from core.packing import (
    Batch,
    Found,
    Lookup,
    Outcome,
    PackFlow,
    Phase,
    Record,
    SaveProgress,
    Work,
    look_up,
    save_progress,
    state_text,
)
from core.scale import Reading
from core.scan_rules import PackSession, ScanKind, normalise_code
from core.store import LocalOrder
from ui.print_service import PrintOutcome, PrintService
from ui.scale_service import link_text, reading_text
from ui.scan import ScanField
from ui.services import AppServices
from ui.sounds import Sounds

log = logging.getLogger("packdesk.ui.pack")


#: banner look per status: (background, text colour, icon). Never colour alone: icon + words too.
BANNER_STYLES: dict[str, tuple[str, str, str]] = {
    "idle": ("#37474f", "#ffffff", "▶"),
    "ready": ("#0d47a1", "#ffffff", "▶"),
    "ok": ("#1b5e20", "#ffffff", "✔"),
    "done": ("#1b5e20", "#ffffff", "✔"),
    "error": ("#b71c1c", "#ffffff", "✖"),
    "held": ("#ffd600", "#000000", "▲"),
    "working": ("#4a148c", "#ffffff", "◐"),
    # an action waiting for its second press (the handover's close, a return's finish with missing units)
    "confirm": ("#e65100", "#ffffff", "▲"),
}
BANNER_PT = 30
REASON_PT = 20
LINE_PT = 20
HEADER_PT = 24


class ProblemDialog(QDialog):
    """F9 "Report problem": which item is missing or damaged (raises an ``item_missing`` hold)."""

    KINDS = ("missing", "damaged")

    def __init__(self, lines: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemDialog")
        self.setWindowTitle(_("Report problem"))
        font = QFont(self.font())
        font.setPointSize(16)
        self.setFont(font)
        form = QFormLayout(self)
        self.sku_box = QComboBox()
        for line in lines:
            self.sku_box.addItem(f"{line['sku']} — {line.get('name', '')}", line["sku"])
        form.addRow(_("Item"), self.sku_box)
        self.kind_box = QComboBox()
        self.kind_box.addItem(_("Missing at pick"), "missing")
        self.kind_box.addItem(_("Damaged"), "damaged")
        form.addRow(_("Problem"), self.kind_box)
        self.note = QLineEdit()
        self.note.setPlaceholderText(_("What you saw (optional)"))
        form.addRow(_("Note"), self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton(_("Report"), QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def sku(self) -> str:
        return str(self.sku_box.currentData())

    def kind(self) -> str:
        return str(self.kind_box.currentData())

    def reason(self) -> str:
        if self.kind() == "damaged":
            text = _("Item {sku} is damaged.").format(sku=self.sku())
        else:
            text = _("Item {sku} is missing at pick.").format(sku=self.sku())
        note = self.note.text().strip()
        return f"{text} {note}" if note else text


class PackView(QWidget):
    """The pack page: scan field, status banner, order header, lines with counts, keyboard actions.

    Args:
        services: the app's service layer (store, outbox actions, settings, operator).
        print_service: prints labels; one is made on ``services`` when not given.

    Signals:
        activated(): a scan opened an order — the main window should show the pack page.
        closed(): the open order was closed (Esc).
        order_finished(str): an order was verified, packed and shipped by the station.
        exception_requested(str, str): (order_id, hold_id) — open the guided exception dialog for
            this hold; hold_id is "" for an offline conflict.
    """

    activated = Signal()
    closed = Signal()
    order_finished = Signal(str)
    exception_requested = Signal(str, str)

    def __init__(self, services: AppServices, print_service: PrintService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packView")
        self.services = services
        self.print_service = print_service or PrintService(services, self)
        self.sounds = Sounds(self)
        self.flow = PackFlow(lambda: services.settings.bench_flow, lambda: services.scale.configured,
                             lambda: services.settings.handover != "batch")
        self.status_kind = "idle"
        self.problem_dialog: ProblemDialog | None = None
        self.keys_box: QMessageBox | None = None
        #: the pack page's own keys, each with its description (F1 lists them; docs/keys.md too)
        self.shortcuts: list[QShortcut] = []
        self.flashing = False
        #: scans (or orders to open) waiting for the store read in flight to be answered
        self._queue: deque[str | Lookup] = deque()
        self._reads = 0
        self._build()
        self.sounds.requested.connect(self._flash)
        services.orders_changed.connect(self._orders_changed)
        services.scale.reading.connect(self._scale_reading)
        services.scale.link_changed.connect(lambda _link, _detail: self._render_weight())
        self._show_idle()
        services.scale.start()

    # -- the flow's state, for drawing (and tests) -----------------------------------------------
    @property
    def order(self) -> LocalOrder | None:
        return self.flow.order

    @property
    def session(self) -> PackSession | None:
        return self.flow.session

    @property
    def batch(self) -> Batch | None:
        return self.flow.batch

    @property
    def phase(self) -> Phase:
        """idle | scanning | blocked | finishing | print_failed | done (see :class:`core.packing.Phase`)."""
        return self.flow.phase

    @property
    def busy(self) -> bool:
        """A store read for a scan (or an order to open) is under way; later scans wait for it."""
        return self._reads > 0

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        root.setSpacing(8)
        self.scan_field = ScanField(self)
        self.scan_field.setPlaceholderText(_("Scan an order, waybill, pick list or item…"))
        self.scan_field.setStyleSheet("font-size: 20pt; padding: 6px; border: 3px solid #0d47a1;")
        self.scan_field.scanned.connect(self.handle_scan)
        self.scan_field.typed.connect(self.handle_scan)  # a damaged barcode keyed in by hand
        self.scan_field.star_is_key = True  # "*" on an empty field: quantity entry
        self.scan_field.star_on_empty.connect(self.open_quantity)
        root.addWidget(self.scan_field)

        self.qty_box = QFrame(self)
        self.qty_box.setObjectName("qtyBox")
        self.qty_box.setStyleSheet("#qtyBox { background: #e3f2fd; border: 3px solid #0d47a1; border-radius: 6px; }")
        qty_row = QHBoxLayout(self.qty_box)
        qty_row.setContentsMargins(10, 4, 10, 4)
        self.qty_label = QLabel(self.qty_box)
        self.qty_label.setObjectName("qtyLabel")
        self.qty_label.setStyleSheet("font-size: 18pt; font-weight: bold; color: #0d47a1;")
        qty_row.addWidget(self.qty_label, 1)
        self.qty_field = ScanField(self.qty_box)
        self.qty_field.setObjectName("qtyField")
        self.qty_field.setMaxLength(32)
        self.qty_field.setFixedWidth(160)
        self.qty_field.setStyleSheet("font-size: 20pt; padding: 4px;")
        self.qty_field.typed.connect(self._quantity_typed)
        self.qty_field.scanned.connect(self._quantity_scanned)
        qty_row.addWidget(self.qty_field)
        self.qty_box.hide()
        root.addWidget(self.qty_box)

        self.banner = QFrame(self)
        self.banner.setObjectName("packBanner")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(16, 10, 16, 10)
        self.banner_icon = QLabel(self.banner)
        self.banner_icon.setObjectName("bannerIcon")
        self.banner_text = QLabel(self.banner)
        self.banner_text.setObjectName("bannerText")
        self.banner_text.setWordWrap(True)
        row.addWidget(self.banner_icon, 0)
        row.addWidget(self.banner_text, 1)
        root.addWidget(self.banner)
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("reasonLabel")
        self.reason_label.setWordWrap(True)
        self.reason_label.setStyleSheet(f"font-size: {REASON_PT}pt; font-weight: bold; color: #b71c1c;")
        root.addWidget(self.reason_label)

        self.hold_banner = QLabel(self)
        self.hold_banner.setObjectName("holdBanner")
        self.hold_banner.setWordWrap(True)
        self.hold_banner.setStyleSheet(
            f"background: #ffd600; color: #000000; font-size: {REASON_PT}pt; padding: 8px;"
            " border: 4px dashed #000000;")
        root.addWidget(self.hold_banner)

        head = QHBoxLayout()
        self.order_label = QLabel(self)
        self.order_label.setObjectName("orderLabel")
        self.order_label.setStyleSheet(f"font-size: {HEADER_PT}pt; font-weight: bold;")
        self.order_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.order_label, 1)
        self.batch_label = QLabel(self)
        self.batch_label.setObjectName("batchLabel")
        self.batch_label.setStyleSheet("font-size: 18pt; color: #0d47a1; font-weight: bold;")
        head.addWidget(self.batch_label)
        self.sync_label = QLabel(self)
        self.sync_label.setObjectName("syncLabel")
        head.addWidget(self.sync_label)
        root.addLayout(head)
        self.weight_label = QLabel(self)
        self.weight_label.setObjectName("weightLabel")
        self.weight_label.setStyleSheet(
            f"font-size: {HEADER_PT}pt; font-weight: bold; padding: 4px 10px; background: #eceff1; color: #000000;"
            " border-radius: 4px;")
        self.weight_label.setVisible(False)
        root.addWidget(self.weight_label)
        self.info_label = QLabel(self)
        self.info_label.setObjectName("infoLabel")
        self.info_label.setWordWrap(True)
        self.info_label.setStyleSheet("font-size: 16pt; color: #263238;")
        root.addWidget(self.info_label)
        self.note_label = QLabel(self)
        self.note_label.setObjectName("packingNote")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(
            f"background: #fff3e0; color: #000000; font-size: {REASON_PT}pt; font-weight: bold; padding: 8px;"
            " border-left: 10px solid #e65100;")
        self.note_label.hide()
        root.addWidget(self.note_label)

        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("packLines")
        self.table.setHorizontalHeaderLabels([_("Status"), _("Item code"), _("Item"), _("Bin"), _("Scanned")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setStyleSheet(f"QTableWidget {{ font-size: {LINE_PT}pt; }} "
                                 "QHeaderView::section { font-size: 14pt; font-weight: bold; padding: 4px; }")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(LINE_PT * 2 + 12)
        root.addWidget(self.table, 1)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("totalLabel")
        self.total_label.setStyleSheet(f"font-size: {HEADER_PT}pt; font-weight: bold;")
        root.addWidget(self.total_label)

        keys = QHBoxLayout()
        self.problem_button = self._button(_("Report problem (F9)"), "F9", self.report_problem,
                                           _("Report an item missing or damaged (raises a hold)"))
        self.print_button = self._button(_("Print label (F7)"), "F7", self.print_label,
                                         _("Print the label; a label printed before asks for a reason"))
        self.retry_button = self._button(_("Finish / retry print (F5)"), "F5", self.retry_finish,
                                         _("After a failed print: print again and hand the order over; "
                                           "waiting for a weight while the scale is down: go on without it"))
        self.close_button = self._button(_("Close order (Esc)"), "Esc", self.close_order,
                                         _("Close the quantity box, or the order (its count is kept); "
                                           "with no order open: back to the queues"))
        self._shortcut("F6", self.open_quantity,
                       _("Quantity: after scanning an item, press * or F6, type how many, Enter"))
        self._shortcut("F1", self.show_keys, _("This list of keys"))
        for b in (self.problem_button, self.print_button, self.retry_button, self.close_button):
            keys.addWidget(b)
        root.addLayout(keys)

    def _button(self, text: str, key: str, slot: Any, what: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        button.setStyleSheet("font-size: 14pt; padding: 8px 14px;")
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

    def key_sequences(self) -> list[QKeySequence]:
        """The keys pack mode owns: while it is shown, other actions of the window must not take them."""
        return [sc.key() for sc in self.shortcuts]

    def key_list(self) -> list[tuple[str, str]]:
        """(key, description) of every pack-mode key, in the screen's language, for F1 and docs/keys.md."""
        keys = [(sc.key().toString(QKeySequence.SequenceFormat.NativeText), sc.whatsThis()) for sc in self.shortcuts]
        keys.insert(0, ("*", _("Quantity: after scanning an item, press * or F6, type how many, Enter")))
        keys.insert(0, (_("Scan"), _("An order, waybill or pick list opens it; an item (SKU or product barcode) "
                                     "counts it; a case barcode counts its units")))
        return sorted(keys, key=lambda k: (not k[0].startswith("F"), k[0] != "*", k[0]))

    # -- screen state ----------------------------------------------------------------------------
    def _set_banner(self, kind: str, text: str, reason: str = "") -> None:
        bg, fg, icon = BANNER_STYLES[kind]
        self.status_kind = kind
        self.banner.setStyleSheet(f"#packBanner {{ background: {bg}; border-radius: 6px; }}")
        self.banner_icon.setStyleSheet(f"color: {fg}; font-size: {BANNER_PT + 8}pt; font-weight: bold;")
        self.banner_text.setStyleSheet(f"color: {fg}; font-size: {BANNER_PT}pt; font-weight: bold;")
        self.banner_icon.setText(icon)
        self.banner_text.setText(text)
        self.reason_label.setText(reason)
        self.reason_label.setVisible(bool(reason))

    def _flash(self, tone: str) -> None:
        """A visual answer to every tone (the PC may have no speaker): a thick frame for a moment."""
        colour = {"ok": "#00e676", "done": "#00e676"}.get(tone, "#ff1744")
        bg = BANNER_STYLES[self.status_kind][0]
        self.banner.setStyleSheet(
            f"#packBanner {{ background: {bg}; border-radius: 6px; border: 6px solid {colour}; }}")
        self.flashing = True
        QTimer.singleShot(250, self._unflash)

    def _unflash(self) -> None:
        self.flashing = False
        bg = BANNER_STYLES[self.status_kind][0]
        self.banner.setStyleSheet(f"#packBanner {{ background: {bg}; border-radius: 6px; }}")

    def _show_idle(self) -> None:
        self._set_banner("idle", _("Scan an order or pick list to start packing"))
        self._clear_order()

    def _clear_order(self) -> None:
        self.order_label.setText("")
        self.info_label.setText("")
        self.sync_label.setText("")
        self.batch_label.setText("")
        self.hold_banner.hide()
        self.note_label.hide()
        self.table.setRowCount(0)
        self.total_label.setText("")
        self._render_weight()
        self.close_quantity()
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.order is not None
        self.problem_button.setEnabled(has and self.phase in ("scanning", "print_failed"))
        self.print_button.setEnabled(has)
        self.retry_button.setEnabled(has and self.phase in ("print_failed", "weighing"))
        self.close_button.setEnabled(has)


    def _render_note(self) -> None:
        """The supervisor's packing note and the seller's note: what must be done with this box."""
        order = self.order
        notes = []
        if order is not None:
            snap = order.snapshot
            if snap.get("packing_note"):
                notes.append("※ " + _("Packing note: {note}").format(note=snap["packing_note"]))
            if snap.get("seller_note"):
                notes.append("※ " + _("Seller's note: {note}").format(note=snap["seller_note"]))
        self.note_label.setText("\n".join(notes))
        self.note_label.setVisible(bool(notes))

    def _render_order(self, highlight: str | None = None) -> None:
        order, session = self.order, self.session
        if order is None or session is None:
            self._clear_order()
            return
        snap = order.snapshot
        self.order_label.setText(order.order_id)
        rec = snap.get("recipient") or {}
        flags = []
        if "vip" in order.flags or snap.get("lane") == "vip":
            flags.append("★ VIP")
        if "gift" in order.flags:
            flags.append("◆ " + _("Gift"))
        if snap.get("custom_packaging"):
            flags.append("▣ " + _("Custom packaging"))
        parts = [
            _("Channel no. {no}").format(no=snap.get("channel_order_no", "")),
            str(rec.get("name") or ""),
            (f"{carrier_name(snap.get('carrier'))} "
             f"{snap.get('waybill_no') or '◐ ' + _('waybill number not yet received')}" if snap.get("carrier") else ""),
            _("State: {state}").format(state=state_text(order.state)),
        ]
        if snap.get("buyer_note"):
            parts.append(_("Buyer note: {note}").format(note=snap["buyer_note"]))
        self.info_label.setText("  ·  ".join([p for p in parts if p] + flags))
        self._render_sync()
        self._render_batch()
        self._render_holds()
        self._render_note()
        self._render_weight()
        self._render_lines(highlight)
        self._update_buttons()

    def _render_weight(self) -> None:
        """The scale's live weight (and the open order's expected weight); hidden without a scale."""
        scale = self.services.scale
        self.weight_label.setVisible(scale.configured)
        if not scale.configured:
            return
        if scale.connected:
            parts = ["◈ " + _("Scale") + ": " + reading_text(scale.last)]
        else:
            parts = [link_text(scale.link, scale.port or self.services.settings.scale_port)]
        expected = self.flow.expected()
        if expected:
            parts.append(expected)
        self.weight_label.setText("    ".join(parts))

    def _scale_reading(self, reading: Reading | None) -> None:
        self._render_weight()
        outcome = self.flow.reading(reading)
        if outcome is not None:
            self._draw(outcome)

    def _render_sync(self) -> None:
        order = self.order
        if order is None:
            self.sync_label.setText("")
            return
        if order.is_pending:
            text, bg, fg = "◐ " + _("Pending sync ({n})").format(n=order.pending), "#0d47a1", "#ffffff"
        else:
            text, bg, fg = "✔ " + _("Synced"), "#e8f5e9", "#1b5e20"
        self.sync_label.setText(text)
        self.sync_label.setStyleSheet(
            f"font-size: 16pt; font-weight: bold; padding: 4px 10px; background: {bg}; color: {fg};"
            " border-radius: 4px;")

    def _render_batch(self) -> None:
        progress = self.flow.batch_progress()
        if progress is None:
            self.batch_label.setText("")
            return
        batch_id, slot, done, total = progress
        self.batch_label.setText(_("Batch {batch} · slot #{slot} · {done}/{total} done").format(
            batch=batch_id, slot=slot, done=done, total=total))

    def _render_holds(self) -> None:
        order = self.order
        if order is None:
            self.hold_banner.hide()
            return
        lines = []
        if order.has_conflict:
            why = refusal_text((order.conflict or {}).get("error"), (order.conflict or {}).get("reason"))
            lines.append("↯ " + _("Offline conflict: {why}").format(why=why))
        lang = language()
        for hold in order.snapshot.get("holds") or []:
            lines.append(f"▲ {hold_label(str(hold.get('type')), lang)}: {hold.get('reason', '')}")
        if lines:
            self.hold_banner.setText("\n".join(lines))
            self.hold_banner.show()
        else:
            self.hold_banner.hide()

    def _render_lines(self, highlight: str | None) -> None:
        order, session = self.order, self.session
        assert order is not None and session is not None
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for line in order.snapshot.get("lines") or []:
            if line["sku"] in seen:
                continue
            seen.add(line["sku"])
            rows.append(line)
        self.table.setRowCount(len(rows))
        for r, line in enumerate(rows):
            sku = str(line["sku"])
            need = session.expected.get(sku, 0)
            got = session.done(sku)
            if got >= need:
                icon, bg = "✔ " + _("Done"), QColor("#c8e6c9")
            elif got:
                icon, bg = "◐ " + _("Partly"), QColor("#fff9c4")
            else:
                icon, bg = "○ " + _("To scan"), QColor("#ffffff")
            name = str(line.get("name") or "")
            if line.get("is_gift") and not says_gift(name):
                name += " (" + _("gift") + ")"
            cells = [icon, sku, name, str(line.get("bin") or ""), f"{got} / {need}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(bg))
                item.setForeground(QBrush(QColor("#000000")))
                if sku == highlight or c == 4:
                    font = item.font()
                    font.setBold(True)
                    if c == 4:  # the count is what the packer checks from a step back
                        font.setPointSize(LINE_PT + 4)
                    item.setFont(font)
                if c == 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        self.total_label.setText(_("Scanned {done} of {total} units").format(
            done=session.verified_units, total=session.total_units))


    # -- outcomes ---------------------------------------------------------------------------------
    def _draw(self, outcome: Outcome) -> None:
        """Show one answer of the flow, emit what it says, and start the work it asks for."""
        if self.order is not None:
            self._render_order(outcome.highlight)
        else:
            self._clear_order()
        if outcome.banner is not None:
            self._set_banner(outcome.banner, outcome.text, outcome.reason)
            colour = "#000000" if outcome.banner == "held" else "#b71c1c"
            self.reason_label.setStyleSheet(f"font-size: {REASON_PT}pt; font-weight: bold; color: {colour};")
        if outcome.tone is not None:
            getattr(self.sounds, outcome.tone)()
        if outcome.activated:
            self.activated.emit()
        if outcome.exception is not None:
            self.exception_requested.emit(*outcome.exception)
        if outcome.finished:
            self.order_finished.emit(outcome.finished)
        for work in outcome.work:
            self._start(work)

    def _start(self, work: Work) -> None:
        if isinstance(work, Lookup):
            self._reads += 1
            store = self.services.store
            self.services.tasks.run_db(lambda: look_up(store, work), self._found,
                                       lambda exc: self._read_failed(work, exc))
        elif isinstance(work, SaveProgress):
            store, op = self.services.store, self.services.operator
            code = op.code if op is not None else ""
            self.services.tasks.run_db(lambda: save_progress(store, work, code), lambda _r: None,
                                       lambda exc: log.warning("scan count of %s not saved: %s", work.order_id, exc))
        elif isinstance(work, Record):
            self._record(work)
        else:
            oid = work.order_id
            self.print_service.print_label(oid, parent=self, on_done=lambda out: self._printed(oid, out))

    def _found(self, found: Found) -> None:
        self._reads -= 1
        self._draw(self.flow.found(found))
        self._drain()

    def _read_failed(self, lookup: Lookup, exc: UserError) -> None:
        self._reads -= 1
        self._draw(self.flow.lookup_failed(lookup, exc.message))
        self._drain()

    def _record(self, record: Record) -> None:
        def failed(exc: UserError) -> None:
            self._draw(self.flow.record_failed(record, exc.message))

        try:
            self.services.perform_many(record.order_id, record.actions, initiator=self,
                                       on_done=lambda order: self._draw(self.flow.recorded(record, order)),
                                       on_error=failed)
        except UserError as exc:
            failed(exc)

    def _printed(self, order_id: str, outcome: PrintOutcome) -> None:
        self._draw(self.flow.printed(order_id, outcome.ok, outcome.message))

    # -- scans ------------------------------------------------------------------------------------
    def handle_scan(self, code: str) -> None:
        """Answer one scan (see the module docstring for what each kind of code does)."""
        code = normalise_code(code)
        if not code:
            return
        self._queue.append(code)
        self._drain()

    def open_order(self, order_id: str) -> None:
        """Open an order for packing (held and conflicted orders are shown but blocked)."""
        self._queue.append(Lookup(ScanKind.ORDER_ID, order_id.strip().upper()))
        self._drain()

    def _drain(self) -> None:
        """Answer waiting scans in order; stop while a store read is under way."""
        while self._queue and not self.busy:
            item = self._queue.popleft()
            if isinstance(item, Lookup):
                self._start(item)
            else:
                self._draw(self.flow.scan(item))

    # -- keys -------------------------------------------------------------------------------------
    def report_problem(self) -> None:
        """F9: an item is missing or damaged at pick — raise ``item_missing`` with the chosen SKU."""
        order = self.order
        if order is None:
            self._draw(self.flow.need_order() or Outcome())
            return
        dlg = ProblemDialog(list(order.snapshot.get("lines") or []), self)
        self.problem_dialog = dlg

        def finished(code: int) -> None:
            self.problem_dialog = None
            dlg.deleteLater()
            self.scan_field.setFocus()
            if code != QDialog.DialogCode.Accepted or self.order is None:
                return
            self._draw(self.flow.report_problem(dlg.sku(), dlg.kind(), dlg.reason()))

        dlg.finished.connect(finished)
        dlg.open()

    def retry_finish(self) -> None:
        """F5: after a failed print (or for an order packed earlier), print if needed and ship.

        While a packed parcel waits for its weight: go on without one, if the scale is not working.
        """
        if self.phase == Phase.WEIGHING:
            outcome = self.flow.skip_weighing(self.services.scale.connected)
        else:
            outcome = self.flow.retry()
        if outcome is not None:
            self._draw(outcome)

    def print_label(self) -> None:
        """F7: print (or reprint, with a reason) the open order's label."""
        if self.order is None:
            self._draw(self.flow.need_order() or Outcome())
            return
        self.print_service.print_label(self.order.order_id, parent=self)

    def close_order(self) -> None:
        """Esc: close the quantity box if open; else the open order (its count is kept); else back to the queues."""
        if self.qty_box.isVisible():
            self.close_quantity()
            return
        if self.order is None:
            self.closed.emit()
            return
        self.flow.close()
        self._show_idle()
        self.closed.emit()
        self.scan_field.setFocus()

    def show_keys(self) -> None:
        """F1: the pack page's keys (not the queues'), read from the live shortcuts."""
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.key_list())
        box = QMessageBox(QMessageBox.Icon.Information, _("Pack mode keys"), f"<table>{rows}</table>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("packKeysBox")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.finished.connect(lambda _r: self._keys_closed(box))
        self.keys_box = box
        box.open()

    def _keys_closed(self, box: QMessageBox) -> None:
        if self.keys_box is box:
            self.keys_box = None
        box.deleteLater()
        self.scan_field.setFocus()

    # -- quantity entry ---------------------------------------------------------------------------
    def open_quantity(self) -> None:
        """``*`` or F6 after an item scan: a box for how many identical units that scan stands for."""
        if not self.flow.can_enter_quantity():
            self._draw(self.flow.quantity("", self.services.settings.max_qty_entry))
            return
        sku, _units = self.flow.last_scan or ("", 1)
        self.qty_label.setText(_("How many {sku}? Type the number, Enter (Esc: cancel)").format(sku=sku))
        self.qty_field.clear()
        self.qty_box.show()
        self.qty_field.setFocus()

    def close_quantity(self) -> None:
        """Hide the quantity box (nothing counted) and give the keyboard back to the scan field."""
        if not self.qty_box.isVisible():
            return
        self.qty_box.hide()
        self.qty_field.clear()
        self.scan_field.setFocus()

    def _quantity_typed(self, text: str) -> None:
        self.close_quantity()
        self._draw(self.flow.quantity(text, self.services.settings.max_qty_entry))

    def _quantity_scanned(self, code: str) -> None:
        """A scanner typed into the quantity box: that is a scan, not a number — answer it as one."""
        self.close_quantity()
        self.handle_scan(code)

    # -- changes from elsewhere -------------------------------------------------------------------
    def _orders_changed(self, ids: list[str], initiator: object = None) -> None:
        """A change from this station or the hub: keep the open order's header, holds and batch current.

        Our own actions' echoes are skipped: their result already gave us the updated order.
        """
        if initiator is self:
            return
        wanted = sorted(self.flow.watched() & set(ids))
        if not wanted:
            return
        store = self.services.store
        self.services.tasks.run_db(lambda: [o for o in (store.get_order(oid) for oid in wanted) if o is not None],
                                   self._changed, lambda exc: log.warning("could not re-read %s: %s", wanted, exc))

    def _changed(self, orders: list[LocalOrder]) -> None:
        outcomes = [out for out in (self.flow.order_changed(o) for o in orders) if out is not None]
        for outcome in outcomes:
            self._draw(outcome)
        if not outcomes and self.order is not None:
            self._render_batch()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.scan_field.setFocus()
