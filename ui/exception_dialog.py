"""The guided exception dialog: one modal dialog per open hold, built from its playbook.

DESIGN.md "Guided exception handling": (1) a rule raised the hold; (2) this dialog says what to do,
with the tools at hand (copy the phone, pick a substitute gift or another carrier, reprint); (3) the
Submit button stays disabled — with the reasons shown in plain words beside it — until the
playbook's required fields are filled and the operator's role may resolve it. The check is
:func:`core.playbooks.validate`, the same one the hub runs, so what the dialog lets through the hub
accepts.

Submitting queues a ``hold_released`` action through :meth:`AppServices.perform` (the outbox: works
offline, synced, idempotent). An order's local offline conflict (no hub hold: ``hold_id`` empty)
is resolved on this station with ``LocalStore.resolve_conflict`` on the database worker.

The choices offered (gifts in stock, carriers that cover the address, their names) come from the
hub, never from a rules file shipped with the client: the hold's ``details.options`` as the hub
raised it (works offline), refined when online by ``GET /orders/{id}/options`` on the network pool
(the site's stock and carriers now). Knowing neither, the fields take any code and the hub checks.
Everything the dialog shows is read on the database worker (:func:`read_exception`) before it opens.

Everything is built from ``core/playbooks.py``; nothing here knows a hold type except for the
optional label reprint after an address change (playbook action ``reprint_label``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.display_names import audit_what, carrier_name, one_language, refusal_text, says_gift
from core.errors import UserError
from core.i18n import _, language
from core.phones import mask_phone as masked
from core.playbooks import PLAYBOOKS, Field, Options, Playbook, check, summary, validate
from core.returns_rule import returned_text
from core.roles import Role
from core.states import state_label
from core.store import LocalOrder, LocalStore
from core.store.overlay import find_hold
from core.sync import SyncEngine
from core.timeutil import local_text
from ui.errors import show_error
from ui.print_service import PrintService
from ui.services import AppServices
from ui.toast import show_toast

log = logging.getLogger("packdesk.ui.exception_dialog")

#: Body text size: readable at arm's length on a bench PC (≥ 13 pt).
BODY_PT = 14
TITLE_PT = 18

# A style sheet on a label stops it inheriting the dialog's font size: every sheet says its size.
_HINT_STYLE = "color: #555555; font-size: 13pt;"
_LOCK_STYLE = "color: #b71c1c; font-weight: bold; font-size: 14pt;"


def fit_to_screen(widget: QWidget, width: int, height: int, room: QSize | None = None) -> QSize:
    """``width`` × ``height``, shrunk to the screen the widget is on (a 1366×768 bench monitor).

    A dialog taller than the screen hides its Submit button below the taskbar. ``room``: the
    screen's available size, when not the widget's screen (tests measure a 1366×768 bench).
    """
    if room is None:
        screen = widget.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return QSize(width, height)
        room = screen.availableGeometry().size()
    return QSize(min(width, room.width() - 40), min(height, room.height() - 60))


def short_lines(details: Any) -> str:
    """One line per short SKU of a stock hold's ``details.short`` (hub/stock.py, hub/routing.py):
    what the order needs and what the warehouse has free; "" when the hold names none."""
    listed = details.get("short") if isinstance(details, dict) else None
    out = []
    for s in listed if isinstance(listed, list) else []:
        if not isinstance(s, dict) or not s.get("sku"):
            continue
        free = s.get("available", s.get("in_stock"))
        text = _("{sku} {name}: needs {needed}, {free} available").format(
            sku=s["sku"], name=s.get("name") or "", needed=s.get("needed", "?"),
            free=free if isinstance(free, int) else "?")
        out.append(("▲ " + text).replace("  ", " "))
    return "\n".join(out)


def mask_phone(phone: str) -> str:
    """The phone as every screen shows it (``138****5678``, :mod:`core.phones`); "—" when there is none."""
    return masked(phone) or "—"


def hold_options(hold: dict[str, Any] | None) -> Options:
    """The choices the hub sent with the hold (``details.options``); ``Options()`` when it sent none."""
    details = (hold or {}).get("details")
    return Options.from_wire(details.get("options") if isinstance(details, dict) else None)


def fetch_options(engine: SyncEngine, order_id: str) -> Options:
    """The hub's current choices for the order (network call: run it on the network pool)."""
    return Options.from_wire(engine.call_hub(lambda c: c.order_options(order_id), read_timeout_s=5.0))


@dataclass(frozen=True)
class ExceptionContext:
    """Everything the dialog shows, read on the database worker (:func:`read_exception`).

    Attributes:
        order: the order as this station has it.
        hold: the hold to resolve (None: the order's local offline conflict).
        playbook: the hold's playbook.
        options: the choices known so far (the hold's ``details.options``).
        conflicts: the offline conflict's refused actions (offline conflict only).
    """

    order: LocalOrder
    hold: dict[str, Any] | None
    playbook: Playbook
    options: Options = field(default_factory=Options)
    conflicts: tuple[dict[str, Any], ...] = ()


def read_exception(store: LocalStore, order_id: str, hold_id: str | None, *,
                   pick_first: bool = False) -> ExceptionContext | str:
    """What the dialog for ``hold_id`` needs, or plain words saying why there is nothing to resolve.

    A store read: run it on the database worker. ``hold_id`` None or ``""`` means the order's local
    offline conflict; ``pick_first`` picks the offline conflict if there is one, else the first hold.
    """
    order = store.get_order(order_id)
    if order is None:
        return _("Order {order} is not on this station.").format(order=order_id)
    holds = order.snapshot.get("holds") or []
    if pick_first and not hold_id and not order.has_conflict and holds:
        hold_id = str(holds[0].get("hold_id") or "")
    if not hold_id:
        if not order.has_conflict:
            return _("Order {order} has no offline conflict to resolve.").format(order=order_id)
        return ExceptionContext(order, None, PLAYBOOKS["offline_conflict"],
                                conflicts=tuple(store.conflicts(order_id)))
    hold = find_hold(holds, hold_id)  # a bench-raised hold's local ID still finds it once the hub numbered it
    if hold is None:
        return _("This exception on order {order} is already resolved.").format(order=order_id)
    playbook = PLAYBOOKS.get(str(hold.get("type")))
    if playbook is None:
        return _("This version of PackDesk does not know this exception type: {type}").format(type=hold.get("type"))
    return ExceptionContext(order, dict(hold), playbook, hold_options(hold))


def _words(text: str, *, pt: int = BODY_PT, bold: bool = False) -> QLabel:
    """A wrapped label in the operator's language (one language per screen, issue 11)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    font = QFont(label.font())
    font.setPointSize(pt)
    font.setBold(bold)
    label.setFont(font)
    return label


class _Form:
    """The playbook's fields as widgets, and their current values."""

    def __init__(self, playbook: Playbook, order: LocalOrder, options: Options, on_change: Any) -> None:
        self.playbook = playbook
        self.lang = language()
        self.widgets: dict[str, QWidget] = {}
        self.fields = {f.name: f for f in playbook.fields}
        self.layout = QFormLayout()
        self.layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # a narrow column: label above field
        for f in playbook.fields:
            w = self._widget(f, order, options, on_change)
            w.setObjectName(f"field_{f.name}")
            self.widgets[f.name] = w
            label = QLabel(f.label.get(self.lang))
            label.setBuddy(w)
            if f.kind == "confirm":
                self.layout.addRow(w)
            else:
                self.layout.addRow(label, w)
            if f.help is not None:
                hint = QLabel(f.help.get(self.lang))
                hint.setStyleSheet(_HINT_STYLE)
                hint.setWordWrap(True)
                self.layout.addRow("", hint)

    def _widget(self, f: Field, order: LocalOrder, options: Options, on_change: Any) -> QWidget:
        if f.kind == "confirm":
            box = QCheckBox(f.label.get(self.lang))
            box.toggled.connect(on_change)
            return box
        if f.kind in ("choice", "sku", "carrier"):
            combo = QComboBox()
            self._fill(combo, f, options)
            combo.currentIndexChanged.connect(on_change)
            combo.editTextChanged.connect(on_change)
            return combo
        edit = QLineEdit()
        if f.name == "confirmed_address":
            edit.setPlaceholderText(str(order.snapshot.get("recipient", {}).get("address", "")))
        elif f.kind == "phone":
            edit.setPlaceholderText("13800138000 / 0571-88886666")
        edit.textChanged.connect(on_change)
        return edit

    def _fill(self, combo: QComboBox, f: Field, options: Options) -> None:
        """The choices; when nothing is known here (no hub answer, no hold details) the code is typed in."""
        free = f.kind != "choice" and not self._known(f, options)
        combo.setEditable(free)
        if free:
            line = combo.lineEdit()
            if line is not None:
                line.setPlaceholderText(_("Type the code (the hub checks it)"))
            return
        combo.addItem(_("— choose —"), None)
        for value, text in self._items(f, self.playbook, options, self.lang):
            combo.addItem(text, value)

    def _known(self, f: Field, options: Options) -> bool:
        if f.kind == "sku":
            return (options.gift_skus if self.playbook.type == "gift_stock" else options.skus) is not None
        return options.carriers is not None or options.covering_carriers is not None

    def set_options(self, options: Options) -> None:
        """Offer new SKU / carrier choices (the hub's answer came in); a choice still offered stays chosen."""
        for name, w in self.widgets.items():
            f = self.fields[name]
            if f.kind not in ("sku", "carrier") or not isinstance(w, QComboBox):
                continue
            current = w.currentText().strip() if w.isEditable() else w.currentData()
            w.blockSignals(True)
            try:
                w.clear()
                self._fill(w, f, options)
                if w.isEditable():
                    w.setEditText(current or "")
                else:
                    w.setCurrentIndex(max(0, w.findData(current)) if current else 0)
            finally:
                w.blockSignals(False)

    @staticmethod
    def _items(f: Field, playbook: Playbook, options: Options, lang: str) -> list[tuple[str, str]]:
        if f.kind == "choice":
            return [(c.value, c.label.get(lang)) for c in f.choices]
        names = options.names or {}

        def shown(code: str) -> str:
            if f.kind == "carrier":  # one table of carrier names; the rules' own name for one it lacks
                name = carrier_name(code)
                return name if name != code else (one_language(names[code]) if names.get(code) else code)
            return f"{code}  {names[code]}" if names.get(code) else code

        if f.kind == "sku":
            pool = options.gift_skus if playbook.type == "gift_stock" else options.skus
            return [(sku, shown(sku)) for sku in sorted(pool or ())]
        # carriers: every carrier the hub knows, saying which ones deliver to this area
        covering = set(options.covering_carriers or ())
        out = []
        for code in sorted(set(options.carriers or ()) | covering):
            mark = _("covers this area") if code in covering else _("does not cover this area")
            out.append((code, f"{shown(code)} — {mark}"))
        return out

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self.widgets.items():
            if isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QComboBox):
                if w.isEditable():
                    if w.currentText().strip():
                        out[name] = w.currentText().strip()
                elif w.currentData() is not None:
                    out[name] = w.currentData()
            elif isinstance(w, QLineEdit) and w.text().strip():
                out[name] = w.text().strip()
        return out


class ExceptionDialog(QDialog):
    """One hold's guided dialog (see the module docstring).

    Attributes (for tests and the keyboard): ``submit_button``, ``cancel_button``, ``reasons_label``,
    ``role_label``, ``form`` (field widgets by name), ``reprint_box`` (address change only).

    Signals:
        options_settled(object): the hub's choices came in (or could not be had): the offered
            :class:`core.playbooks.Options` are final.
    """

    options_settled = Signal(object)

    def __init__(self, services: AppServices, context: ExceptionContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.context = context
        self.order = context.order
        self.hold = context.hold
        self.playbook = context.playbook
        self.options = context.options
        #: a request for the hub's current choices is on its way (see :meth:`fetch_hub_options`)
        self.fetching_options = False
        #: None while open; True once resolved (accepted), False if cancelled. A plain attribute: still
        #: readable after the dialog is gone (it deletes itself when closed).
        self.resolved: bool | None = None
        self.role = Role(services.role)
        self.submitted = False
        self.reprint_box: QCheckBox | None = None
        #: what the operator was told after a successful release or escalation (also shown as a toast)
        self.confirmation = ""
        #: handed to a supervisor from this dialog (``hold_escalated`` queued); the hold stays open
        self.escalated = False
        self.escalate_why: QLineEdit | None = None
        self.escalate_button: QPushButton | None = None
        self.setObjectName("exceptionDialog")
        self.setModal(True)
        self.lang = language()
        self.setWindowTitle(f"{self.playbook.title.get(self.lang)} — {self.order.order_id}")
        font = QFont(self.font())
        font.setPointSize(BODY_PT)
        self.setFont(font)
        self._build()
        self._update()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        pb = self.playbook
        root = QVBoxLayout(self)
        root.addWidget(_words(pb.title.get(self.lang), pt=TITLE_PT, bold=True))
        reason = one_language((self.hold or {}).get("reason") or "")
        if reason:
            reason_label = QLabel(reason)
            reason_label.setObjectName("holdReason")
            reason_label.setWordWrap(True)
            reason_label.setStyleSheet("background: #fff3c4; color: #000000; padding: 6px; font-size: 14pt;")
            root.addWidget(reason_label)

        # Three columns side by side — what happened, what to do and the escalation · the order's
        # facts with the tools (copy phone) · the form with what Submit does and, right under it,
        # why Submit is locked — and the buttons under them, always in view. Side by side, every playbook fits a 1366×768 bench screen in one
        # language without scrolling (tests/ui/test_exception_dialog_fit.py); the scroll areas are
        # the last resort for a larger system font.
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        if self.hold is None:
            col.addWidget(self._what_happened())
        col.addWidget(self._guidance())
        came_back = returned_text(self.order.snapshot)  # a return graded at the bench: the refund's facts
        if came_back:
            box = QGroupBox(_("Came back"))
            QVBoxLayout(box).addWidget(_words(_("✓ good · ✖ damaged · ○ missing") + "\n" + came_back))
            col.addWidget(box)
        escalation = self._escalation()  # after the steps that say when to escalate
        if escalation is not None:
            col.addWidget(escalation)
        col.addStretch(1)
        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addWidget(self._facts())
        mid.addStretch(1)

        form_box = QGroupBox(_("Resolution"))
        self.form = _Form(pb, self.order, self.options, self._update)
        form_layout = QVBoxLayout(form_box)
        form_layout.addLayout(self.form.layout)
        if any(a.name == "reprint_label" for a in pb.actions):
            self.reprint_box = QCheckBox(_("Reprint the label after release"))
            self.reprint_box.setObjectName("reprintBox")
            self.reprint_box.setChecked(True)
            form_layout.addWidget(self.reprint_box)
        right_body = QWidget()
        right_col = QVBoxLayout(right_body)
        right_col.setContentsMargins(0, 0, 0, 0)
        right_col.addWidget(form_box)
        # What Submit does, beside the form it submits.
        effect = _words(_("On submit: {effect}").format(effect=pb.effect.get(self.lang)))
        effect.setObjectName("effectLabel")
        right_col.addWidget(effect)
        self.role_label = QLabel()
        self.role_label.setObjectName("roleLine")
        self.role_label.setStyleSheet(_LOCK_STYLE)
        self.role_label.setWordWrap(True)
        self.reasons_label = QLabel()
        self.reasons_label.setObjectName("lockReasons")
        self.reasons_label.setWordWrap(True)
        self.reasons_label.setStyleSheet(_LOCK_STYLE)
        right_col.addWidget(self.role_label)
        right_col.addWidget(self.reasons_label)
        right_col.addStretch(1)

        columns = QHBoxLayout()
        for widget in (left, middle, right_body):
            columns.addWidget(_scrolled(widget), 1)
        root.addLayout(columns, 1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.cancel_button = QPushButton(_("Cancel (Esc)"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button = QPushButton(_("Submit (Enter)"))
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self._submit)
        bottom.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignBottom)
        bottom.addWidget(self.submit_button, 0, Qt.AlignmentFlag.AlignBottom)
        root.addLayout(bottom)

        # Tab order: the fields first, top to bottom, then Submit, then Cancel.
        chain: list[QWidget] = [w for w in self.form.widgets.values()]
        if self.reprint_box is not None:
            chain.append(self.reprint_box)
        if self.escalate_why is not None and self.escalate_button is not None:
            chain += [self.escalate_why, self.escalate_button]
        chain += [self.submit_button, self.cancel_button]
        for a, b in pairwise(chain):
            QWidget.setTabOrder(a, b)
        if chain:
            chain[0].setFocus()
        self.resize(fit_to_screen(self, 1240, 860))

    def _guidance(self) -> QWidget:
        box = QGroupBox(_("What to do"))
        lay = QVBoxLayout(box)
        for i, step in enumerate(self.playbook.guidance, 1):
            lay.addWidget(_words(f"{i}. {step.get(self.lang)}"))
        return box

    def _what_happened(self) -> QWidget:
        """Offline conflict: what was done here, why the hub refused it, where the order stands now."""
        box = QGroupBox(_("What happened"))
        lay = QVBoxLayout(box)
        for c in self.context.conflicts:
            text = _("{action} done offline by {operator} at {at} was refused by the hub: {reason}").format(
                action=audit_what(c.get("type")), operator=c.get("operator"), at=_local_time(c.get("done_at")),
                reason=refusal_text(c.get("error"), c.get("reason")))
            label = QLabel(text)
            label.setWordWrap(True)
            label.setObjectName("conflictLine")
            lay.addWidget(label)
        state = QLabel(_("The order is now: {state}").format(state=state_label(self.order.state, self.lang)))
        state.setStyleSheet("font-weight: bold; font-size: 14pt;")
        lay.addWidget(state)
        return box

    def _facts(self) -> QWidget:
        snap = self.order.snapshot
        r = snap.get("recipient") or {}
        box = QGroupBox(_("Order {order}").format(order=self.order.order_id))
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow column: never cut off
        form.addRow(_("Recipient"), QLabel(str(r.get("name", ""))))
        phone = str(r.get("phone") or "")
        row = QHBoxLayout()
        phone_label = QLabel(mask_phone(phone) if phone else _("(no phone)"))
        phone_label.setObjectName("maskedPhone")
        row.addWidget(phone_label)
        names = {a.name for a in self.playbook.actions}
        if "copy_phone" in names or "call_phone" in names:
            copy = QPushButton(_("Copy phone"))
            copy.setObjectName("copyPhone")
            copy.setAutoDefault(False)
            copy.setEnabled(bool(phone) and "*" not in phone)  # a channel-masked number cannot be dialled
            copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(phone))
            # The full number is copied (the desk dials it); the screen shows it masked like everywhere.
            copy.setToolTip(_("Call from the desk phone; if there is no usable number, write to the buyer in the shop chat."))
            row.addWidget(copy)
        row.addStretch(1)
        form.addRow(_("Phone"), _wrap(row))

        address = QLabel(f"{r.get('province', '')}{r.get('city', '')}{r.get('district', '')}{r.get('address', '')}")
        address.setWordWrap(True)
        address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(_("Address"), address)
        # One short line per item (the bin where it matters: missing item, recount); the SKU codes
        # are in the pick list and the pack screen.
        lines = "\n".join(
            f"{ln.get('qty')} × {ln.get('name')}" + (_gift_mark(str(ln.get("name") or "")) if ln.get("is_gift") else "")
            + (f"  [{ln.get('bin')}]" if ln.get("bin") else "")
            for ln in snap.get("lines") or [])
        lines_label = QLabel(lines)
        lines_label.setObjectName("orderLines")
        lines_label.setWordWrap(True)
        form.addRow(_("Items"), lines_label)
        short = short_lines((self.hold or {}).get("details"))
        if short:
            # Stock holds: the guidance's first step is "look at what is short"; here it is.
            short_label = QLabel(short)
            short_label.setObjectName("shortLines")
            short_label.setWordWrap(True)
            short_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
            form.addRow(_("Short"), short_label)
        carrier = f"{carrier_name(snap.get('carrier')) if snap.get('carrier') else '—'}  {snap.get('waybill_no') or ''}"
        form.addRow(_("Carrier"), QLabel(carrier))
        # The seller's note carries what the desk or the shop wrote down (a VIP's custom packaging:
        # the sign-off's first step is to check it), so both notes are shown, as in the detail pane.
        for key, label in (("buyer_note", _("Buyer note")), ("seller_note", _("Seller note"))):
            if snap.get(key):
                note = QLabel(str(snap[key]))
                note.setObjectName(key)
                note.setWordWrap(True)
                note.setTextFormat(Qt.TextFormat.PlainText)
                form.addRow(label, note)
        return box

    def _escalation(self) -> QWidget | None:
        """Hand the hold to a supervisor (playbooks with the ``escalate`` action), or who already did.

        Issue 11: a desk clerk who chose "escalate" met a disabled Submit, and nothing was recorded
        and nobody told. Escalating queues ``hold_escalated`` (who, why; synced and audited), the
        hold stays open and reads "escalated" in the Exceptions queue, and the clerk is told what
        happens next.
        """
        record = (self.hold or {}).get("escalated")
        record = record if isinstance(record, dict) else None
        offered = self.hold is not None and any(a.name == "escalate" for a in self.playbook.actions)
        if record is None and not (offered and not self.role.at_least(Role.SUPERVISOR)):
            return None
        box = QGroupBox(_("Escalation"))
        lay = QVBoxLayout(box)
        if record is not None:
            done = QLabel(_("Escalated to a supervisor by {operator} at {at}: {why}").format(
                operator=record.get("by") or "?", at=_local_time(record.get("at")), why=record.get("why") or ""))
            done.setObjectName("escalatedLine")
            done.setWordWrap(True)
            lay.addWidget(done)
        if offered and record is None and not self.role.at_least(Role.SUPERVISOR):
            why = QLineEdit()
            why.setObjectName("escalateWhy")
            why.setPlaceholderText(_("What you tried, and why a supervisor must decide"))
            button = QPushButton(_("Escalate to a supervisor"))
            button.setObjectName("escalateButton")
            button.setAutoDefault(False)
            button.setEnabled(False)
            why.textChanged.connect(lambda text: button.setEnabled(len(text.strip()) >= 4 and not self.submitted))
            why.returnPressed.connect(self._escalate)
            button.clicked.connect(self._escalate)
            lay.addWidget(why)
            lay.addWidget(button)
            self.escalate_why, self.escalate_button = why, button
        return box

    # -- the hub's choices -----------------------------------------------------------------------
    def fetch_hub_options(self) -> bool:
        """Ask the hub for the order's current choices (network pool); False when offline (nothing asked).

        The hold's own ``details.options`` stay in use until the answer comes; a failed request
        keeps them (the hub checks the release again anyway).
        """
        engine = self.services.engine
        state = self.services.sync_state()
        if (engine is None or engine.login_info is None or self.playbook.local
                or (state is not None and state.status == "offline")
                or not any(f.kind in ("sku", "carrier") for f in self.playbook.fields)):
            return False
        oid = self.order.order_id
        self.fetching_options = True
        self.services.tasks.run_net(lambda: fetch_options(engine, oid), self._hub_options, self._no_hub_options)
        return True

    def done(self, result: int) -> None:
        self.resolved = result == QDialog.DialogCode.Accepted
        super().done(result)

    def _hub_options(self, fetched: Options) -> None:
        if self.resolved is not None:
            return  # the operator finished before the hub answered
        self.fetching_options = False
        self.set_options(fetched.merged(self.context.options))
        self.options_settled.emit(self.options)

    def _no_hub_options(self, exc: UserError) -> None:
        if self.resolved is not None:
            return
        self.fetching_options = False
        log.info("choices for %s not fetched from the hub (%s); offering the hold's own", self.order.order_id,
                 exc.message)
        self.options_settled.emit(self.options)

    def set_options(self, options: Options) -> None:
        """Offer these SKU / carrier choices and check the form against them."""
        self.options = options
        self.form.set_options(options)
        self._update()

    # -- lock ------------------------------------------------------------------------------------
    def reasons(self) -> list[str]:
        """Why Submit is locked right now (empty: it may be submitted)."""
        return validate(self.playbook, self.form.values(), role=self.role, options=self.options)

    def _update(self, *_args: object) -> None:
        problems = check(self.playbook, self.form.values(), role=self.role, options=self.options)
        # The operator's role stands on its own line above the list (it is not a field to fill);
        # the list says only what the fields still need.
        role_lines = [p.shown(self.lang) for p in problems if p.forbidden and not p.field]
        self.role_label.setText("\n".join(role_lines))
        self.role_label.setVisible(bool(role_lines))
        self.reasons_label.setText("\n".join(f"• {p.shown(self.lang)}" for p in problems if p.field or not p.forbidden))
        self.submit_button.setEnabled(not problems and not self.submitted)

    # -- submit ----------------------------------------------------------------------------------
    def _submit(self) -> None:
        if self.reasons() or self.submitted:  # Enter on a locked form does nothing
            return
        values = self.form.values()
        self.submitted = True
        self._update()
        if self.hold is None:
            self._resolve_conflict(values)
            return
        payload = {"hold_id": self.hold["hold_id"], "reason": summary(self.playbook, values), "resolution": values}
        self.services.perform(self.order.order_id, "hold_released", payload,
                              on_done=self._done, on_error=self._failed)

    def _resolve_conflict(self, values: dict[str, Any]) -> None:
        operator = self.services.operator.code if self.services.operator else "?"
        text = summary(self.playbook, values)
        store, oid = self.services.store, self.order.order_id
        self.services.tasks.run_db(lambda: store.resolve_conflict(oid, operator, text),
                                   self._done, self._failed)

    def _done(self, order: LocalOrder | None) -> None:
        self.confirmation = self._confirmation(order)
        show_toast(self.parentWidget(), self.confirmation)
        if self.reprint_box is not None and self.reprint_box.isChecked():
            _reprint(self.services, self.order.order_id, self.parentWidget())
        self.accept()

    def _confirmation(self, order: LocalOrder | None) -> str:
        """What the operator is told after a release: what was resolved, and what holds the order still."""
        words = [_("Resolved: {what} on order {order}.").format(what=self.playbook.title.get(self.lang),
                                                               order=self.order.order_id)]
        left = len((order.snapshot.get("holds") or []) if order is not None else [])
        if left:
            words.append(_("{n} more exception(s) still open on it.").format(n=left))
        elif order is not None and not order.has_conflict:
            words.append(_("Nothing holds the order any more."))
        state = self.services.sync_state()
        if state is not None and state.status == "offline":
            words.append(_("Saved on this PC: it reaches the hub when the network is back."))
        return ("" if self.lang.startswith("zh") else " ").join(words)  # Chinese sentences run on

    def _escalate(self) -> None:
        why = self.escalate_why.text().strip() if self.escalate_why is not None else ""
        if len(why) < 4 or self.submitted or self.hold is None:
            return
        self.submitted = True
        self._update()
        if self.escalate_button is not None:
            self.escalate_button.setEnabled(False)
        payload = {"hold_id": self.hold["hold_id"], "reason": why, "to": "supervisor"}
        self.services.perform(self.order.order_id, "hold_escalated", payload,
                              on_done=self._escalated, on_error=self._failed)

    def _escalated(self, _order: LocalOrder | None) -> None:
        self.escalated = True
        self.confirmation = _("Escalated to a supervisor: order {order} stays held until they decide. Supervisors "
                              "see it in the Exceptions queue marked “escalated”.").format(order=self.order.order_id)
        show_toast(self.parentWidget(), self.confirmation)
        self.reject()

    def _failed(self, error: UserError) -> None:
        self.submitted = False
        self._update()
        if self.escalate_why is not None and self.escalate_button is not None:
            self.escalate_button.setEnabled(len(self.escalate_why.text().strip()) >= 4)
        show_error(self, error)


def _gift_mark(name: str) -> str:
    """"（赠品）" after a gift line, unless its name says so already ("茶叶试饮装 (赠品) （赠品）")."""
    return "" if says_gift(name) else "  " + _("(gift)")


def _local_time(text: Any) -> str:
    """An ISO time as the site reads it ("11-25 10:00"); what was recorded when it cannot be read."""
    return local_text(text)


def _scrolled(widget: QWidget) -> QScrollArea:
    """A column that scrolls vertically only when it must (a larger system font), never sideways."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(widget)
    return scroll


def _wrap(layout: QHBoxLayout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w


def _reprint(services: AppServices, order_id: str, parent: QWidget | None) -> None:
    """Queue the new label (address changed: new address, new waybill) through the print service."""
    service = services.print_service
    if not isinstance(service, PrintService):
        service = PrintService(services, services)  # parented: lives as long as the services
    service.print_label(order_id, parent=parent, reprint_reason="地址变更 / address changed")


def open_exception_dialog(services: AppServices, order_id: str, hold_id: str | None, parent: QWidget | None, *,
                          pick_first: bool = False,
                          on_opened: Callable[[ExceptionDialog], None] | None = None,
                          on_finished: Callable[[bool], None] | None = None) -> None:
    """Open the guided dialog for ``hold_id`` on ``order_id`` (modal, not blocking the event loop).

    The order is read on the database worker; the dialog opens when it is back (or a message box
    says why there is nothing to resolve), then asks the hub for its current choices when online.

    Args:
        hold_id: the hold; None or ``""`` means the order's local offline conflict (playbook 8).
        pick_first: no ``hold_id`` given: the offline conflict if any, else the order's first hold.
        on_opened: called with the dialog once it is shown (tests drive it).
        on_finished: called with True when the hold was resolved, False otherwise.
    """
    store = services.store

    def ready(found: ExceptionContext | str) -> None:
        if isinstance(found, str):
            show_error(parent, found)
            if on_finished is not None:
                on_finished(False)
            return
        dialog = ExceptionDialog(services, found, parent)

        def finished(_code: int) -> None:
            dialog.deleteLater()
            if on_finished is not None:
                on_finished(bool(dialog.resolved))

        dialog.finished.connect(finished)
        dialog.open()
        dialog.fetch_hub_options()
        if on_opened is not None:
            on_opened(dialog)

    services.tasks.run_db(lambda: read_exception(store, order_id, hold_id, pick_first=pick_first), ready)
