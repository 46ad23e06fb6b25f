"""Pack mode: scan an order, scan each item, get a big clear OK / wrong answer, finish by the bench flow.

Everything here is for a packer standing at a bench with a scanner in one hand: the scan field
always has focus, every answer is colour + icon + text + a tone (never colour alone), fonts are
readable from a step back, and the happy path needs no mouse and no dialog.

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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.holds import hold_label
from core.i18n import _, language
from core.scan_rules import (
    WRONG_SCAN_LIMIT,
    PackSession,
    ScanKind,
    ScanResult,
    Verdict,
    batch_order_ids,
    classify,
    normalise_code,
)
from core.states import BENCH_STATES, DONE_STATES, state_label
from core.store import LocalOrder
from ui.print_service import PrintOutcome, PrintService
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
    "held": ("#ffd600", "#000000", "⚠"),
    "working": ("#4a148c", "#ffffff", "⏳"),
}
BANNER_PT = 30
REASON_PT = 20
LINE_PT = 20
HEADER_PT = 24


@dataclass
class Batch:
    """A pick-list batch being packed: its ID and orders in slot order."""

    batch_id: str
    order_ids: list[str]


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
        self.order: LocalOrder | None = None
        self.session: PackSession | None = None
        self.sessions: dict[str, PackSession] = {}
        self.batch: Batch | None = None
        #: idle | scanning | blocked | finishing | print_failed | done
        self.phase = "idle"
        self.status_kind = "idle"
        self.problem_dialog: ProblemDialog | None = None
        self._raising = False
        self.flashing = False
        self._build()
        self.sounds.requested.connect(self._flash)
        services.orders_changed.connect(self._orders_changed)
        self._show_idle()

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
        root.addWidget(self.scan_field)

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
        self.info_label = QLabel(self)
        self.info_label.setObjectName("infoLabel")
        self.info_label.setWordWrap(True)
        self.info_label.setStyleSheet("font-size: 16pt; color: #263238;")
        root.addWidget(self.info_label)

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
        self.problem_button = self._button(_("Report problem (F9)"), "F9", self.report_problem)
        self.print_button = self._button(_("Print label (F7)"), "F7", self.print_label)
        self.retry_button = self._button(_("Finish / retry print (F5)"), "F5", self.retry_finish)
        self.close_button = self._button(_("Close order (Esc)"), "Esc", self.close_order)
        for b in (self.problem_button, self.print_button, self.retry_button, self.close_button):
            keys.addWidget(b)
        root.addLayout(keys)

    def _button(self, text: str, key: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps the keyboard
        button.setStyleSheet("font-size: 14pt; padding: 8px 14px;")
        button.clicked.connect(slot)
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        return button

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
        self.order_label.setText("")
        self.info_label.setText("")
        self.sync_label.setText("")
        self.batch_label.setText("")
        self.hold_banner.hide()
        self.table.setRowCount(0)
        self.total_label.setText("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.order is not None
        self.problem_button.setEnabled(has and self.phase in ("scanning", "print_failed"))
        self.print_button.setEnabled(has)
        self.retry_button.setEnabled(has and self.phase == "print_failed")
        self.close_button.setEnabled(has)

    def _render_order(self, highlight: str | None = None) -> None:
        order, session = self.order, self.session
        if order is None or session is None:
            self._show_idle()
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
            f"{snap.get('carrier') or ''} {snap.get('waybill_no') or ''}".strip(),
            _("State: {state}").format(state=_state_text(order.state)),
        ]
        if snap.get("buyer_note"):
            parts.append(_("Buyer note: {note}").format(note=snap["buyer_note"]))
        self.info_label.setText("  ·  ".join([p for p in parts if p] + flags))
        self._render_sync()
        self._render_batch()
        self._render_holds()
        self._render_lines(highlight)
        self._update_buttons()

    def _render_sync(self) -> None:
        order = self.order
        if order is None:
            self.sync_label.setText("")
            return
        if order.is_pending:
            text, bg, fg = "⏳ " + _("Pending sync ({n})").format(n=order.pending), "#0d47a1", "#ffffff"
        else:
            text, bg, fg = "✔ " + _("Synced"), "#e8f5e9", "#1b5e20"
        self.sync_label.setText(text)
        self.sync_label.setStyleSheet(
            f"font-size: 16pt; font-weight: bold; padding: 4px 10px; background: {bg}; color: {fg};"
            " border-radius: 4px;")

    def _render_batch(self) -> None:
        batch = self.batch
        if batch is None or self.order is None or self.order.order_id not in batch.order_ids:
            self.batch_label.setText("")
            return
        slot = batch.order_ids.index(self.order.order_id) + 1
        done = sum(1 for oid in batch.order_ids if self._is_finished(oid))
        self.batch_label.setText(_("Batch {batch} · slot #{slot} · {done}/{total} done").format(
            batch=batch.batch_id, slot=slot, done=done, total=len(batch.order_ids)))

    def _render_holds(self) -> None:
        order = self.order
        if order is None:
            self.hold_banner.hide()
            return
        lines = []
        if order.has_conflict:
            why = (order.conflict or {}).get("reason") or ""
            lines.append("⚡ " + _("Offline conflict: {why}").format(why=why))
        lang = language()
        for hold in order.snapshot.get("holds") or []:
            lines.append(f"⚠ {hold_label(str(hold.get('type')), lang)}: {hold.get('reason', '')}")
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
            if line.get("is_gift") and "赠品" not in name and "gift" not in name.lower():
                name += " (" + _("gift") + ")"  # catalogue names often say 赠品 already
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

    # -- scans ------------------------------------------------------------------------------------
    def handle_scan(self, code: str) -> None:
        """Answer one scan (see the module docstring for what each kind of code does)."""
        code = normalise_code(code)
        if not code:
            return
        lines = self.order.snapshot.get("lines") if self.order is not None else None
        what = classify(code, self.services.store, lines)
        if what.kind == ScanKind.BATCH:
            self._open_batch(what.value)
        elif what.kind in (ScanKind.ORDER_ID, ScanKind.WAYBILL):
            if self.order is not None and what.value == self.order.order_id:
                if self.phase == "scanning":  # e.g. the box's own label scanned: not an error
                    self._set_banner("ready", _("Order {order} is already open: scan its items").format(
                        order=what.value))
                return
            if self.batch is not None and what.value not in self.batch.order_ids:
                self.batch = None
            self.open_order(what.value)
        elif what.kind == ScanKind.ITEM:
            self._verify(code)
        else:
            self._error(_("Not found: {code}").format(code=code),
                        _("No order, waybill, pick list or item on this station has this code. "
                          "Check the barcode, or sync and scan again."))

    def open_order(self, order_id: str) -> None:
        """Open an order for packing (held and conflicted orders are shown but blocked)."""
        order = self.services.store.get_order(order_id.strip().upper())
        if order is None:
            self._error(_("Not found: {code}").format(code=order_id),
                        _("This order is not on this station (another bench, or not synced yet)."))
            return
        self.order = order
        self.session = self.sessions.setdefault(order.order_id, PackSession.from_snapshot(order.snapshot))
        self.activated.emit()
        if self._block_if_held(order):
            return
        steps = order.snapshot.get("steps") or {}
        if order.state in DONE_STATES:
            self.phase = "done"
            self._render_order()
            self._error(_("Order {order} is already {state}").format(order=order.order_id,
                                                                     state=_state_text(order.state)),
                        _("Nothing to pack. Scan the next order."))
            return
        if order.state not in BENCH_STATES:
            self.phase = "blocked"
            self._render_order()
            self._error(_("Order {order} cannot be packed yet").format(order=order.order_id),
                        _("It is {state}; only allocated orders are packed.").format(state=_state_text(order.state)))
            return
        if "packed" in steps:
            self.session.counted = dict(self.session.expected)
            self.phase = "print_failed"
            self._render_order()
            self._set_banner("ready", _("{order} is already packed").format(order=order.order_id),
                             _("Press F5 to print the label (if needed) and ship it."))
            self._update_buttons()
            return
        self.phase = "scanning"
        self._render_order()
        self._set_banner("ready", _("Scan the items of {order}").format(order=order.order_id))
        self.sounds.ok()
        if self.session.is_complete:  # every unit counted earlier, then switched away
            self._finish()

    def _block_if_held(self, order: LocalOrder) -> bool:
        holds = order.snapshot.get("holds") or []
        if not holds and not order.has_conflict:
            return False
        self.phase = "blocked"
        self._render_order()
        self._set_banner("held", _("On hold: {order} cannot be packed").format(order=order.order_id),
                         "")
        self.reason_label.setText(_("Resolve the exception first; scanning items is blocked."))
        self.reason_label.setStyleSheet(f"font-size: {REASON_PT}pt; font-weight: bold; color: #000000;")
        self.reason_label.show()
        self.sounds.error()
        hold_id = "" if order.has_conflict else str(holds[0].get("hold_id") or "")
        self.exception_requested.emit(order.order_id, hold_id)
        return True

    def _open_batch(self, batch_id: str) -> None:
        ids = batch_order_ids(self.services.store, batch_id)
        if not ids:
            self._error(_("Not found: {code}").format(code=batch_id),
                        _("This pick list was not printed on this station."))
            return
        self.batch = Batch(batch_id, ids)
        nxt = next((oid for oid in ids if not self._is_finished(oid)), None)
        if nxt is None:
            self.activated.emit()
            self._set_banner("done", _("Batch {batch} is complete").format(batch=batch_id))
            self.sounds.done()
            return
        self.open_order(nxt)

    def _is_finished(self, order_id: str) -> bool:
        order = self.services.store.get_order(order_id)
        if order is None:
            return True
        return order.state not in BENCH_STATES or "packed" in (order.snapshot.get("steps") or {})

    def _verify(self, code: str) -> None:
        order, session = self.order, self.session
        if order is None or session is None:
            return
        if self.phase == "blocked":
            self._error(_("Order is on hold: item not counted"),
                        _("Resolve the exception first; scanning items is blocked."))
            return
        if self.phase in ("finishing", "print_failed", "done"):
            self._error(_("Order {order} is already complete").format(order=order.order_id),
                        _("Item not counted. Scan the next order."))
            return
        result = session.scan(code)
        self._render_lines(result.sku if result.counted else None)
        if result.counted:
            self._answer_ok(result)
            if result.verdict == Verdict.COMPLETE:
                self._finish()
            return
        title = _("Wrong item") if result.verdict == Verdict.WRONG_ITEM else _("Too many")
        self._error(f"{title}: {result.sku}", result.reason)
        if len(session.wrong_scans) >= WRONG_SCAN_LIMIT:
            self._raise_mismatch()

    def _answer_ok(self, result: ScanResult) -> None:
        assert self.session is not None
        name = self.session.names.get(result.sku, "")
        self._set_banner("ok", _("OK {sku} {name} ({done}/{need})").format(
            sku=result.sku, name=name, done=result.done, need=result.need))
        if result.verdict != Verdict.COMPLETE:
            self.sounds.ok()

    def _error(self, text: str, reason: str = "") -> None:
        self._set_banner("error", text, reason)
        self.reason_label.setStyleSheet(f"font-size: {REASON_PT}pt; font-weight: bold; color: #b71c1c;")
        self.sounds.error()

    # -- holds ------------------------------------------------------------------------------------
    def _raise_mismatch(self) -> None:
        order, session = self.order, self.session
        if order is None or session is None or self._raising:
            return
        scans = list(session.wrong_scans)
        session.wrong_scans.clear()
        self._raising = True
        reason = _("{n} wrong scans at the bench: {codes}").format(
            n=len(scans), codes=", ".join(s["code"] for s in scans))
        self._raise_hold(order.order_id, "scan_mismatch", reason,
                         {"scans": scans, "verified": session.detail()})

    def _raise_hold(self, order_id: str, hold_type: str, reason: str, details: dict[str, Any]) -> None:
        # Until done() runs, the order-changed echo of our own hold must not open the dialog too.
        self._raising = True

        def done(order: LocalOrder) -> None:
            self._raising = False
            if self.order is None or self.order.order_id != order_id:
                return
            self.order = order
            hold = next((h for h in reversed(order.snapshot.get("holds") or []) if h.get("type") == hold_type),
                        None)
            self.phase = "blocked"
            self._render_order()
            self._set_banner("held", _("On hold: {what}").format(what=hold_label(hold_type, language())), reason)
            self.reason_label.setStyleSheet(f"font-size: {REASON_PT}pt; font-weight: bold; color: #000000;")
            self.exception_requested.emit(order_id, str(hold.get("hold_id")) if hold else "")

        def failed(exc: UserError) -> None:
            self._raising = False
            self._error(_("Could not raise the hold"), exc.message)

        try:
            self.services.perform(order_id, "hold_raised", {"type": hold_type, "reason": reason, "details": details},
                                  on_done=done, on_error=failed)
        except UserError as exc:
            failed(exc)

    def report_problem(self) -> None:
        """F9: an item is missing or damaged at pick — raise ``item_missing`` with the chosen SKU."""
        order = self.order
        if order is None:
            self._error(_("No order open"), _("Scan an order first."))
            return
        dlg = ProblemDialog(list(order.snapshot.get("lines") or []), self)
        self.problem_dialog = dlg

        def finished(code: int) -> None:
            self.problem_dialog = None
            dlg.deleteLater()
            self.scan_field.setFocus()
            if code != QDialog.DialogCode.Accepted or self.order is None:
                return
            self._raise_hold(self.order.order_id, "item_missing", dlg.reason(),
                             {"sku": dlg.sku(), "problem": dlg.kind(),
                              "verified": self.session.detail() if self.session else {}})

        dlg.finished.connect(finished)
        dlg.open()

    # -- finishing --------------------------------------------------------------------------------
    def _finish(self) -> None:
        order, session = self.order, self.session
        assert order is not None and session is not None
        self.phase = "finishing"
        self._update_buttons()
        self.sounds.done()
        self._set_banner("working", _("All {n} units verified — recording…").format(n=session.total_units))
        oid = order.order_id
        detail = session.detail()

        def packed(updated: LocalOrder) -> None:
            self._refresh(updated)
            self._after_packed(updated)

        def verified(updated: LocalOrder) -> None:
            self._refresh(updated)
            self._perform(oid, "step", {"step": "packed", "detail": {}}, packed)

        self._perform(oid, "step", {"step": "verified", "detail": detail}, verified)

    def retry_finish(self) -> None:
        """F5: after a failed print (or for an order packed earlier), print if needed and ship."""
        if self.order is None or self.phase != "print_failed":
            return
        self.phase = "finishing"
        self._update_buttons()
        self._after_packed(self.order)

    def _after_packed(self, order: LocalOrder) -> None:
        if order.state == "label_printed":
            self._ship(order.order_id)
            return
        if self.services.settings.bench_flow == "print-first":
            text = _("Label was not printed yet — printing it now")
        else:
            text = _("Packed — printing the label")
        self._set_banner("working", text)
        oid = order.order_id
        self.print_service.print_label(oid, parent=self, on_done=lambda outcome: self._printed(oid, outcome))

    def _printed(self, order_id: str, outcome: PrintOutcome) -> None:
        if self.order is None or self.order.order_id != order_id:
            if outcome.ok:  # switched away meanwhile: still hand it over
                self._perform(order_id, "shipped_by_station", {}, lambda _o: self.order_finished.emit(order_id))
            return
        if outcome.ok:
            self._ship(order_id)
            return
        self.phase = "print_failed"
        self._update_buttons()
        self._error(_("Label did not print — not shipped"),
                    outcome.message + "\n" + _("Fix the printer, then press F5 to retry."))

    def _ship(self, order_id: str) -> None:
        self._set_banner("working", _("Handing over {order}…").format(order=order_id))
        self._perform(order_id, "shipped_by_station", {}, lambda o: self._shipped(o))

    def _shipped(self, order: LocalOrder) -> None:
        oid = order.order_id
        self.sessions.pop(oid, None)
        if self.order is not None and self.order.order_id == oid:
            self.order = order
            self.phase = "done"
            self._render_order()
        self._set_banner("done", _("Done: {order} packed and shipped").format(order=oid),
                         "")
        self.sounds.done()
        self.order_finished.emit(oid)
        if self.batch is not None and oid in self.batch.order_ids:
            nxt = next((o for o in self.batch.order_ids if not self._is_finished(o)), None)
            if nxt is not None:
                self.open_order(nxt)
                self._set_banner("ready", _("{done} done ✔ — next: {order}. Scan its items").format(
                    done=oid, order=nxt))
            else:
                self._set_banner("done", _("Batch {batch} is complete").format(batch=self.batch.batch_id))

    def _perform(self, order_id: str, type_: str, payload: dict[str, Any], then: Any) -> None:
        def failed(exc: UserError) -> None:
            if self.order is not None and self.order.order_id == order_id:
                self.phase = "print_failed" if type_ == "shipped_by_station" else "blocked"
                self._update_buttons()
            self._error(_("Could not record this step"), exc.message)

        try:
            self.services.perform(order_id, type_, payload, on_done=then, on_error=failed)
        except UserError as exc:
            failed(exc)

    def _refresh(self, order: LocalOrder) -> None:
        if self.order is not None and self.order.order_id == order.order_id:
            self.order = order
            self._render_sync()
            self._render_batch()

    # -- other actions ------------------------------------------------------------------------
    def print_label(self) -> None:
        """F7: print (or reprint, with a reason) the open order's label."""
        if self.order is None:
            self._error(_("No order open"), _("Scan an order first."))
            return
        self.print_service.print_label(self.order.order_id, parent=self)

    def close_order(self) -> None:
        """Esc: close the open order (its partial count stays in memory)."""
        if self.order is None:
            return
        self.order = None
        self.session = None
        self.batch = None
        self.phase = "idle"
        self._show_idle()
        self.closed.emit()
        self.scan_field.setFocus()

    def _orders_changed(self, ids: list[str]) -> None:
        """A change from this station or the hub: keep the open order's header and holds current."""
        order = self.order
        if order is None or order.order_id not in ids:
            return
        fresh = self.services.store.get_order(order.order_id)
        if fresh is None:
            return
        self.order = fresh
        self._render_sync()
        self._render_holds()
        newly_held = bool(fresh.snapshot.get("holds")) or fresh.has_conflict
        if self.phase == "scanning" and newly_held and not self._raising:
            self._block_if_held(fresh)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.scan_field.setFocus()


def _state_text(state: str) -> str:
    return state_label(state, language())
