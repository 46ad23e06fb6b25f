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

Everything is built from ``core/playbooks.py``; nothing here knows a hold type except for the
optional label reprint after an address change (playbook action ``reprint_label``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QGuiApplication, QShowEvent
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

from core.errors import UserError
from core.i18n import _
from core.playbooks import PLAYBOOKS, Field, Options, Playbook, check, summary, validate
from core.roles import Role
from core.store import LocalOrder
from printing.common import mask_phone as label_mask_phone
from ui.errors import show_error
from ui.services import AppServices

log = logging.getLogger("packdesk.ui.exception_dialog")

#: Body text size: readable at arm's length on a bench PC (≥ 13 pt).
BODY_PT = 14
TITLE_PT = 18

# A style sheet on a label stops it inheriting the dialog's font size: every sheet says its size.
_EN_STYLE = "color: #555555; font-size: 13pt;"
_LOCK_STYLE = "color: #b71c1c; font-weight: bold; font-size: 14pt;"


def fit_to_screen(widget: QWidget, width: int, height: int) -> QSize:
    """``width`` × ``height``, shrunk to the screen the widget is on (a 1366×768 bench monitor).

    A dialog taller than the screen hides its Submit button below the taskbar.
    """
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(width, height)
    room = screen.availableGeometry()
    return QSize(min(width, room.width() - 40), min(height, room.height() - 60))


def mask_phone(phone: str) -> str:
    """The phone as labels show it (``138****5678``); "—" when there is none."""
    return label_mask_phone(phone) or "—"


@lru_cache(maxsize=1)
def _rules() -> Any:
    """The routing rules this client ships with (gift stock, carriers, coverage); None if unreadable.

    The hub checks again with the site's own rules; these only fill the dialog's choices.
    """
    try:
        from hub.routing import Rules

        return Rules.default()
    except Exception:  # choices are a convenience; the hub decides
        log.warning("routing rules not readable here; the dialog offers free codes", exc_info=True)
        return None


def order_options(snapshot: dict[str, Any]) -> Options:
    """Valid SKUs and carriers for this order, computed the way the hub computes them."""
    rules = _rules()
    if rules is None:
        return Options()
    from hub.actions import playbook_options

    return playbook_options(rules, snapshot)


def _bilingual(text_zh: str, text_en: str, *, pt: int = BODY_PT, bold: bool = False) -> QLabel:
    label = QLabel(f"{text_zh}<br><span style='{_EN_STYLE} font-size: {max(pt - 1, 13)}pt;'>{text_en}</span>")
    label.setTextFormat(Qt.TextFormat.RichText)
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
        self.widgets: dict[str, QWidget] = {}
        self.layout = QFormLayout()
        self.layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for f in playbook.fields:
            w = self._widget(f, order, options, on_change)
            w.setObjectName(f"field_{f.name}")
            self.widgets[f.name] = w
            label = QLabel(f"{f.label.zh}\n{f.label.en}")
            label.setBuddy(w)
            if f.kind == "confirm":
                self.layout.addRow(w)
            else:
                self.layout.addRow(label, w)
            if f.help is not None:
                hint = QLabel(f"{f.help.zh} · {f.help.en}")
                hint.setStyleSheet(_EN_STYLE)
                hint.setWordWrap(True)
                self.layout.addRow("", hint)

    def _widget(self, f: Field, order: LocalOrder, options: Options, on_change: Any) -> QWidget:
        if f.kind == "confirm":
            box = QCheckBox(f"{f.label.zh} / {f.label.en}")
            box.toggled.connect(on_change)
            return box
        if f.kind in ("choice", "sku", "carrier"):
            combo = QComboBox()
            combo.addItem(_("— choose —"), None)
            for value, text in self._items(f, self.playbook, options):
                combo.addItem(text, value)
            combo.currentIndexChanged.connect(on_change)
            return combo
        edit = QLineEdit()
        if f.name == "confirmed_address":
            edit.setPlaceholderText(str(order.snapshot.get("recipient", {}).get("address", "")))
        elif f.kind == "phone":
            edit.setPlaceholderText("13800138000 / 0571-88886666")
        edit.textChanged.connect(on_change)
        return edit

    @staticmethod
    def _items(f: Field, playbook: Playbook, options: Options) -> list[tuple[str, str]]:
        if f.kind == "choice":
            return [(c.value, f"{c.label.zh} / {c.label.en}") for c in f.choices]
        rules = _rules()
        catalogue = rules.catalogue if rules is not None else {}
        if f.kind == "sku":
            pool = options.gift_skus if playbook.type == "gift_stock" else options.skus
            return [(sku, f"{sku}  {catalogue[sku].name}" if sku in catalogue else sku) for sku in sorted(pool or ())]
        # carriers: every carrier the rules know, saying which ones deliver to this area
        covering = set(options.covering_carriers or ())
        out = []
        for code in sorted(options.carriers or ()):
            name = rules.carrier_specs[code].name if rules is not None else code
            mark = _("covers this area") if code in covering else _("does not cover this area")
            out.append((code, f"{code}  {name} — {mark}"))
        return out

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self.widgets.items():
            if isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QComboBox):
                if w.currentData() is not None:
                    out[name] = w.currentData()
            elif isinstance(w, QLineEdit) and w.text().strip():
                out[name] = w.text().strip()
        return out


class ExceptionDialog(QDialog):
    """One hold's guided dialog (see the module docstring).

    Attributes (for tests and the keyboard): ``submit_button``, ``cancel_button``, ``reasons_label``,
    ``role_label``, ``form`` (field widgets by name), ``reprint_box`` (address change only).
    """

    def __init__(self, services: AppServices, order: LocalOrder, hold: dict[str, Any] | None,
                 playbook: Playbook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.order = order
        self.hold = hold
        self.playbook = playbook
        self.options = order_options(order.snapshot)
        self.role = Role(services.role)
        self.submitted = False
        self.reprint_box: QCheckBox | None = None
        self.setObjectName("exceptionDialog")
        self.setModal(True)
        self.setWindowTitle(f"{playbook.title.zh} / {playbook.title.en} — {order.order_id}")
        font = QFont(self.font())
        font.setPointSize(BODY_PT)
        self.setFont(font)
        self._build()
        self._update()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        pb = self.playbook
        root = QVBoxLayout(self)
        root.addWidget(_bilingual(pb.title.zh, pb.title.en, pt=TITLE_PT, bold=True))
        reason = (self.hold or {}).get("reason") or ""
        if reason:
            reason_label = QLabel(reason)
            reason_label.setObjectName("holdReason")
            reason_label.setWordWrap(True)
            reason_label.setStyleSheet("background: #fff3c4; color: #000000; padding: 6px; font-size: 14pt;")
            root.addWidget(reason_label)

        # Left: what happened and what to do; right: the order's facts with the tools (copy phone),
        # the form and Submit, always in view (the lock reasons sit next to the button they lock).
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 0, 0)
        if self.hold is None:
            col.addWidget(self._what_happened())
        col.addWidget(self._guidance())
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        columns = QHBoxLayout()
        columns.addWidget(scroll, 2)
        right = QVBoxLayout()
        columns.addLayout(right, 3)
        root.addLayout(columns, 1)

        form_box = QGroupBox(_("Resolution"))
        self.form = _Form(pb, self.order, self.options, self._update)
        form_layout = QVBoxLayout(form_box)
        form_layout.addLayout(self.form.layout)
        if any(a.name == "reprint_label" for a in pb.actions) and _print_service_available():
            self.reprint_box = QCheckBox(_("Reprint the label after release"))
            self.reprint_box.setObjectName("reprintBox")
            self.reprint_box.setChecked(True)
            form_layout.addWidget(self.reprint_box)
        # The facts and the form scroll on a small screen; the lock reasons and the buttons never do.
        right_body = QWidget()
        right_col = QVBoxLayout(right_body)
        right_col.setContentsMargins(0, 0, 0, 0)
        right_col.addWidget(self._facts())
        right_col.addWidget(form_box)
        right_col.addStretch(1)
        right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_scroll.setWidget(right_body)
        right.addWidget(right_scroll, 1)
        self._right_scroll = right_scroll
        self.role_label = QLabel()
        self.role_label.setObjectName("roleLine")
        self.role_label.setStyleSheet(_LOCK_STYLE)
        self.role_label.setWordWrap(True)
        right.addWidget(self.role_label)

        self.reasons_label = QLabel()
        self.reasons_label.setObjectName("lockReasons")
        self.reasons_label.setWordWrap(True)
        self.reasons_label.setStyleSheet(_LOCK_STYLE)
        right.addWidget(self.reasons_label)
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
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.submit_button)
        right.addLayout(bottom)

        # Tab order: the fields first, top to bottom, then Submit, then Cancel.
        chain: list[QWidget] = [w for w in self.form.widgets.values()]
        if self.reprint_box is not None:
            chain.append(self.reprint_box)
        chain += [self.submit_button, self.cancel_button]
        for a, b in pairwise(chain):
            QWidget.setTabOrder(a, b)
        if chain:
            chain[0].setFocus()
        self.resize(fit_to_screen(self, 1240, 860))

    def showEvent(self, event: QShowEvent) -> None:
        # The form column is never narrower than it needs (check boxes do not wrap): the guidance
        # column gives way. Measured here, once the widgets are polished with the dialog's font.
        body = self._right_scroll.widget()
        if body is not None:
            bar = self._right_scroll.verticalScrollBar().sizeHint().width()
            self._right_scroll.setMinimumWidth(body.minimumSizeHint().width() + bar)
        super().showEvent(event)

    def _guidance(self) -> QWidget:
        box = QGroupBox(_("What to do"))
        lay = QVBoxLayout(box)
        for i, step in enumerate(self.playbook.guidance, 1):
            lay.addWidget(_bilingual(f"{i}. {step.zh}", f"{i}. {step.en}"))
        effect = _bilingual("提交后：" + self.playbook.effect.zh, "On submit: " + self.playbook.effect.en)
        effect.setObjectName("effectLabel")
        lay.addWidget(effect)
        return box

    def _what_happened(self) -> QWidget:
        """Offline conflict: what was done here, why the hub refused it, where the order stands now."""
        box = QGroupBox(_("What happened"))
        lay = QVBoxLayout(box)
        for c in self.services.store.conflicts(self.order.order_id):
            text = _("{action} done offline by {operator} at {at} was {outcome} by the hub: {reason}").format(
                action=c.get("type"), operator=c.get("operator"), at=c.get("done_at"),
                outcome=c.get("outcome"), reason=c.get("reason"))
            label = QLabel(text)
            label.setWordWrap(True)
            label.setObjectName("conflictLine")
            lay.addWidget(label)
        state = QLabel(_("The order is now: {state}").format(state=self.order.state))
        state.setStyleSheet("font-weight: bold; font-size: 14pt;")
        lay.addWidget(state)
        return box

    def _facts(self) -> QWidget:
        snap = self.order.snapshot
        r = snap.get("recipient") or {}
        box = QGroupBox(_("Order {order}").format(order=self.order.order_id))
        form = QFormLayout(box)
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
            row.addWidget(copy)
        row.addStretch(1)
        form.addRow(_("Phone"), _wrap(row))
        if "call_phone" in names:
            hint = QLabel(_("Call from the desk phone; if there is no usable number, write to the buyer in the shop chat."))
            hint.setObjectName("callHint")
            hint.setWordWrap(True)
            hint.setStyleSheet(_EN_STYLE)
            form.addRow("", hint)
        address = QLabel(f"{r.get('province', '')}{r.get('city', '')}{r.get('district', '')}{r.get('address', '')}")
        address.setWordWrap(True)
        address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(_("Address"), address)
        lines = "\n".join(
            f"{ln.get('sku')}  {ln.get('name')} × {ln.get('qty')}" + ("  (赠品 gift)" if ln.get("is_gift") else "")
            + (f"  [{ln.get('bin')}]" if ln.get("bin") else "")
            for ln in snap.get("lines") or [])
        lines_label = QLabel(lines)
        lines_label.setObjectName("orderLines")
        lines_label.setWordWrap(True)
        form.addRow(_("Items"), lines_label)
        carrier = f"{snap.get('carrier') or '—'}  {snap.get('waybill_no') or ''}"
        form.addRow(_("Carrier / waybill"), QLabel(carrier))
        if snap.get("buyer_note"):
            form.addRow(_("Buyer note"), QLabel(str(snap["buyer_note"])))
        if "escalate" in names:
            esc = QLabel(_("Cannot resolve it? Hand it to a supervisor: they open this order from the Exceptions queue."))
            esc.setWordWrap(True)
            esc.setStyleSheet(_EN_STYLE)
            form.addRow("", esc)
        return box

    # -- lock ------------------------------------------------------------------------------------
    def reasons(self) -> list[str]:
        """Why Submit is locked right now (empty: it may be submitted)."""
        return validate(self.playbook, self.form.values(), role=self.role, options=self.options)

    def _update(self, *_args: object) -> None:
        problems = check(self.playbook, self.form.values(), role=self.role, options=self.options)
        # The operator's role stands on its own line above the list (it is not a field to fill);
        # the list says only what the fields still need.
        role_lines = [p.message for p in problems if p.forbidden and not p.field]
        self.role_label.setText("\n".join(role_lines))
        self.role_label.setVisible(bool(role_lines))
        self.reasons_label.setText("\n".join(f"• {p.message}" for p in problems if p.field or not p.forbidden))
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
        if self.reprint_box is not None and self.reprint_box.isChecked():
            _reprint(self.services, self.order.order_id, self.parentWidget())
        self.accept()

    def _failed(self, error: UserError) -> None:
        self.submitted = False
        self._update()
        show_error(self, error)


def _wrap(layout: QHBoxLayout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w


def _print_service_available() -> bool:
    try:
        import ui.print_service  # noqa: F401
    except ImportError:
        return False
    return True


def _reprint(services: AppServices, order_id: str, parent: QWidget | None) -> None:
    """Queue the new label (address changed: new address, new waybill) through the print service."""
    from ui.print_service import PrintService

    service = getattr(services, "print_service", None)
    if not isinstance(service, PrintService):
        service = PrintService(services, services)  # parented: lives as long as the services
    service.print_label(order_id, parent=parent, reprint_reason="地址变更 / address changed")


def build_exception_dialog(services: AppServices, order_id: str, hold_id: str | None,
                           parent: QWidget | None = None) -> ExceptionDialog | None:
    """The dialog for one hold (or the order's offline conflict), not yet shown; None if nothing to resolve.

    Says why in a message box when there is nothing to resolve (order not here, hold already released).
    """
    order = services.store.get_order(order_id)
    if order is None:
        show_error(parent, _("Order {order} is not on this station.").format(order=order_id))
        return None
    if not hold_id:
        if not order.has_conflict:
            show_error(parent, _("Order {order} has no offline conflict to resolve.").format(order=order_id))
            return None
        return ExceptionDialog(services, order, None, PLAYBOOKS["offline_conflict"], parent)
    hold = next((h for h in order.snapshot.get("holds") or [] if h.get("hold_id") == hold_id), None)
    if hold is None:
        show_error(parent, _("This exception on order {order} is already resolved.").format(order=order_id))
        return None
    playbook = PLAYBOOKS.get(str(hold.get("type")))
    if playbook is None:
        show_error(parent, _("This version of PackDesk does not know this exception type: {type}").format(
            type=hold.get("type")))
        return None
    return ExceptionDialog(services, order, hold, playbook, parent)


def open_exception_dialog(services: AppServices, order_id: str, hold_id: str | None,
                          parent: QWidget | None) -> bool:
    """Show the guided dialog for ``hold_id`` on ``order_id`` (modal); True if it was resolved.

    ``hold_id`` None or ``""`` means the order's local offline conflict (playbook 8).
    """
    dialog = build_exception_dialog(services, order_id, hold_id, parent)
    if dialog is None:
        return False
    try:
        return bool(dialog.exec() == QDialog.DialogCode.Accepted)
    finally:
        dialog.deleteLater()
