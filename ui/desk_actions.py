"""The desk's actions on the selected order, each a dialog with its required reason (issue 15).

Change address, cancel / intercept, approve refund, move to another bench, mark delivered by
hand, confirm payment: one :class:`DeskActionDialog` draws each (fields, the reason, what the
action will do, what is still missing), :mod:`core.desk` decides (which states, the checks, the
payload, the words for the hub's re-routing). Submitting queues the action in the outbox like
every action — with the hub stopped too — and the dialog closes once the local change is written.
:class:`DeskActions` puts the six on the queue page (keys in :data:`core.desk.DESK_ACTIONS`, also
under "More"), enabled for desk staff and above only; the hub refuses them from packers anyway.
When the hub has answered (the order has nothing pending), the queue page's answer line says
what the hub did: for an address change the new carrier, warehouse and holds; for a refusal, why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.actions import RECIPIENT_FIELDS
from core.benches import BenchChoice
from core.benches import from_wire as benches_from_wire
from core.desk import (
    BY_KIND,
    DESK_ACTIONS,
    DESK_ROLE,
    DeskAction,
    cancel_is_intercept,
    check_reason,
    check_recipient,
    effect_text,
    not_applicable,
    payload_for,
    recipient_warnings,
    reroute_outcome,
)
from core.display_names import refusal_text
from core.errors import UserError
from core.i18n import N_, _, language
from core.roles import Role
from core.states import state_label
from core.store import LocalOrder
from ui.services import AppServices

log = logging.getLogger("packdesk.ui.desk")

BODY_PT = 13

#: The address fields in the dialog, in the order a clerk types them.
ADDRESS_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", N_("Recipient name")), ("phone", N_("Phone")), ("province", N_("Province")), ("city", N_("City")),
    ("district", N_("District / county")), ("address", N_("Street address")), ("postcode", N_("Postcode")),
)
assert {k for k, _l in ADDRESS_FIELDS} >= set(RECIPIENT_FIELDS)

#: The submit button's words per dialog.
SUBMIT_WORDS: dict[str, str] = {
    "address": N_("Change address"), "cancel": N_("Cancel the order"), "intercept": N_("Request intercept"),
    "refund": N_("Approve refund"), "reallocate": N_("Move"), "delivered": N_("Mark delivered"),
    "payment": N_("Confirm payment"),
}


class DeskActionDialog(QDialog):
    """One desk action on one order: its fields, the required reason, and what it will do.

    Enter submits once nothing is missing (the button stays disabled, the missing things listed in
    red beside an icon), Esc cancels. A refusal by this station's own checks (the order changed
    meanwhile) is shown in the dialog, which stays open with everything typed.

    Signals:
        submitted(str, str, object): order ID, dialog kind, the order as it was before (a dict),
            after the action is in the outbox.
    """

    submitted = Signal(str, str, object)

    def __init__(self, services: AppServices, order: LocalOrder, action: DeskAction, *,
                 benches: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.order = order
        self.action = action
        self.setObjectName(f"desk_{action.kind}")
        self.setModal(True)
        font = QFont(self.font())
        font.setPointSize(max(font.pointSize(), BODY_PT))
        self.setFont(font)
        self.setWindowTitle(_(action.title).rstrip("…"))
        self.setMinimumWidth(560)
        s = order.snapshot
        layout = QVBoxLayout(self)
        head = QLabel(_("Order {order} · {state} · bench {bench}").format(
            order=order.order_id, state=state_label(order.state, "zh_CN" if _is_zh() else "en"),
            bench=s.get("bench") or "—"))
        head.setStyleSheet("font-weight: bold;")
        layout.addWidget(head)
        self.effect = QLabel(effect_text(action.kind, order.state))
        self.effect.setObjectName("deskEffect")
        self.effect.setWordWrap(True)
        self.effect.setStyleSheet("background: #e3f2fd; padding: 6px;")
        layout.addWidget(self.effect)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        self.bench_box: QComboBox | None = None
        #: the bench list came from the hub (``GET /benches``), not from this PC's orders
        self.hub_benches = False
        if action.kind == "address":
            rec = s.get("recipient") or {}
            for key, label in ADDRESS_FIELDS:
                edit = QLineEdit(str(rec.get(key) or ""))
                edit.setObjectName(f"field_{key}")
                edit.textChanged.connect(self._update)
                self.fields[key] = edit
                form.addRow(_(label), edit)
        elif action.kind == "reallocate":
            box = QComboBox()
            box.setObjectName("field_bench")
            box.setEditable(True)  # a bench this PC has no order of yet can be typed; the hub checks it
            for b in benches or []:
                if b != s.get("bench"):
                    box.addItem(b, b)
            box.setCurrentIndex(-1)
            line = box.lineEdit()
            if line is not None:  # an empty editable box says nothing by itself: say what goes in it
                line.setPlaceholderText(_("Pick a bench from the list (↓) or type its code"))
            box.setMinimumContentsLength(28)
            box.currentTextChanged.connect(self._update)
            self.bench_box = box
            form.addRow(_("Bench"), box)
        self.reason = QLineEdit()
        self.reason.setObjectName("deskReason")
        self.reason.setPlaceholderText(_("Who asked, how it was confirmed (required)"))
        self.reason.textChanged.connect(self._update)
        form.addRow(_("Reason"), self.reason)
        layout.addLayout(form)
        self.warning = QLabel()
        self.warning.setObjectName("deskWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #e65100;")
        layout.addWidget(self.warning)
        self.hint = QLabel()
        self.hint.setObjectName("deskHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b71c1c;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        words = "intercept" if action.kind == "cancel" and cancel_is_intercept(order.state) else action.kind
        self.submit: QPushButton = self.buttons.addButton(_(SUBMIT_WORDS[words]),
                                                          QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("deskSubmit")
        # Enter submits from any field (when nothing is missing), never Cancel: a dialog whose default
        # button starts disabled hands "default" to the next auto-default button, here Cancel.
        for button in self.buttons.findChildren(QPushButton):
            button.setAutoDefault(False)
        self.submit.setDefault(True)
        for edit in [*self.fields.values(), self.reason]:
            edit.returnPressed.connect(self._accept)
        typed = self.bench_box.lineEdit() if self.bench_box is not None else None
        if typed is not None:
            typed.returnPressed.connect(self._accept)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.busy = False
        self._update()
        first = next(iter(self.fields.values()), None) or self.bench_box or self.reason
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- input -----------------------------------------------------------------------------------
    def recipient(self) -> dict[str, str]:
        return {k: e.text() for k, e in self.fields.items()}

    def problems(self) -> list[str]:
        """What is still missing, in words (empty: the action can be submitted)."""
        found = []
        if self.action.kind == "address":
            found += [p.message for p in check_recipient(self.recipient())]
            if {k: v.strip() for k, v in self.recipient().items()} == {
                    k: str((self.order.snapshot.get("recipient") or {}).get(k) or "").strip() for k in self.fields}:
                found.append(_("The address is unchanged: change a field first."))
        if self.bench_box is not None and not self.chosen_bench():
            found.append(_("Choose the bench the order moves to."))
        found += [p.message for p in check_reason(self.reason.text())]
        return found

    def _update(self) -> None:
        problems = self.problems()
        self.hint.setText("\n".join(f"✖ {p}" for p in problems))
        self.submit.setEnabled(not problems and not self.busy)
        warnings = recipient_warnings(self.recipient()) if self.action.kind == "address" else []
        self.warning.setText("\n".join(f"▲ {w}" for w in warnings))

    def payload(self) -> dict[str, Any]:
        return payload_for(self.action.kind, self.reason.text(), recipient=self.recipient(),
                           bench=self.chosen_bench())

    def chosen_bench(self) -> str:
        """The bench picked (an entry of the list: its code, not its label) or typed."""
        box = self.bench_box
        if box is None:
            return ""
        text = box.currentText().strip()
        i = box.findText(text)
        data = box.itemData(i) if i >= 0 else None
        return str(data) if data else text

    def set_hub_benches(self, choices: list[BenchChoice]) -> None:
        """Offer the hub's benches (warehouse, open orders) instead of the ones this PC knows; a bench
        being typed stays as typed."""
        box = self.bench_box
        if box is None or not choices:
            return
        current = self.order.snapshot.get("bench")
        typed = box.currentText()
        box.blockSignals(True)
        box.clear()
        for c in choices:
            if c.bench != current:
                box.addItem(c.label(), c.bench)
        box.setCurrentIndex(-1)
        box.setEditText(typed)
        box.blockSignals(False)
        self.hub_benches = True
        self._update()

    # -- submit ----------------------------------------------------------------------------------
    def _accept(self) -> None:
        if self.problems() or self.busy:
            self._update()
            return
        self.busy = True
        self.submit.setEnabled(False)
        before = dict(self.order.snapshot)
        self.services.perform(self.order.order_id, self.action.type, self.payload(),
                              on_done=lambda _o: self._done(before), on_error=self._failed)

    def _done(self, before: dict[str, Any]) -> None:
        self.busy = False
        self.submitted.emit(self.order.order_id, self.action.kind, before)
        self.accept()

    def _failed(self, exc: UserError) -> None:
        self.busy = False
        self.hint.setText("✖ " + refusal_text(exc.code, exc.message))
        self.submit.setEnabled(True)


def _is_zh() -> bool:
    return language().startswith("zh")


class DeskActions(QObject):
    """The desk actions of the main window's queue page, on the selected order.

    Args:
        window: the main window (``selected_row``, ``tell``, ``role``, ``models``).
        make_action: the window's own action factory (text, keys, slot, name, on_bar, what), so the
            keys are listed by F1 and docs/keys.md like every window action.
        menu: the window's "More" menu; the six go into a submenu of it.
    """

    def __init__(self, window: Any, make_action: Callable[..., QAction], menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.services: AppServices = window.services
        self.actions: dict[str, QAction] = {}
        self.submenu = menu.addMenu(_("Desk actions"))
        self.submenu.setObjectName("deskMenu")
        for a in DESK_ACTIONS:
            act = make_action(_(a.title), a.key, lambda k=a.kind: self.open(k), f"desk_{a.kind}", False,
                              what=_("Desk (selected order): {action}").format(action=_(a.title).rstrip("…")))
            self.submenu.addAction(act)
            self.actions[a.kind] = act
        self.dialog: DeskActionDialog | None = None
        #: orders whose desk action waits for the hub's answer: order ID -> (kind, the order before)
        self.waiting: dict[str, tuple[str, dict[str, Any]]] = {}
        #: the hub's last answer per order, as told on the answer line (kind: "ok" or "error", text)
        self.answers: dict[str, tuple[str, str]] = {}
        self.services.orders_changed.connect(self._orders_changed)

    def allowed(self, has_order: bool) -> dict[QAction, bool]:
        """Enabled per action: desk and above, with an order selected (the state is checked on open)."""
        desk = self._role().at_least(DESK_ROLE)
        self.submenu.menuAction().setVisible(desk)  # packers do not see what they may not do
        return {act: desk and has_order for act in self.actions.values()}

    def _role(self) -> Role:
        try:
            return Role(self.services.role)
        except ValueError:
            return Role.PACKER

    def benches(self) -> list[str]:
        """The benches this PC knows of (the orders it holds); the hub checks any other typed."""
        found: set[str] = set()
        for model in self.window.models.values():
            for i in range(model.rowCount()):
                row = model.row_at(i)
                if row is not None and row.bench:
                    found.add(row.bench)
        bench = self.services.settings.bench
        if bench:
            found.add(bench)
        return sorted(found)

    # -- opening ---------------------------------------------------------------------------------
    def open(self, kind: str, order_id: str | None = None) -> None:
        """Open the dialog of ``kind`` for ``order_id`` (default: the queue's selected order)."""
        if not self._role().at_least(DESK_ROLE):
            self.window.tell(_("Only desk staff and above do this."), "error")
            return
        if order_id is None:
            row = self.window.selected_row()
            if row is None:
                self.window.tell(_("Select an order first."), "error")
                return
            order_id = row.order_id
        store = self.services.store
        oid = order_id
        self.services.tasks.run_db(lambda: store.get_order(oid), lambda o: self._loaded(kind, oid, o))

    def _loaded(self, kind: str, order_id: str, order: LocalOrder | None) -> None:
        if order is None:
            self.window.tell(_("Order {order} is not on this station.").format(order=order_id), "error")
            return
        action = BY_KIND[kind]
        why = not_applicable(action, order.state)
        if why:
            self.window.tell(why, "error")
            return
        self.dialog = DeskActionDialog(self.services, order, action,
                                       benches=self.benches() if kind == "reallocate" else None, parent=self.window)
        self.dialog.submitted.connect(self._submitted)
        self.dialog.open()
        if kind == "reallocate":
            self.fetch_benches(self.dialog)

    def fetch_benches(self, dialog: DeskActionDialog) -> bool:
        """Ask the hub for its benches (network pool) to fill ``dialog``'s picker; False when offline.

        Until the answer (or without one) the picker offers the benches this PC knows and a bench
        can be typed; the hub checks the bench when the move reaches it.
        """
        engine = self.services.engine
        state = self.services.sync_state()
        if engine is None or engine.login_info is None or (state is not None and state.status == "offline"):
            return False

        def fetch() -> list[BenchChoice]:
            return benches_from_wire(engine.call_hub(lambda c: c.benches(), read_timeout_s=5.0))

        def got(choices: list[BenchChoice]) -> None:
            if dialog.isVisible():
                dialog.set_hub_benches(choices)

        def failed(exc: UserError) -> None:
            log.info("benches not fetched from the hub (%s); offering this PC's", exc.message)
        self.services.tasks.run_net(fetch, got, failed)
        return True

    # -- the hub's answer --------------------------------------------------------------------------
    def _submitted(self, order_id: str, kind: str, before: dict[str, Any]) -> None:
        self.waiting[order_id] = (kind, before)
        state = self.services.sync_state()
        # "syncing" right after the action was queued may still be the hub that cannot be reached
        offline = state is not None and (state.status == "offline" or state.last_error is not None)
        title = _(BY_KIND[kind].title).rstrip("…")
        if offline:
            self.window.tell(_("{action}: recorded for {order}; the hub is offline, it is sent when the hub is "
                               "back.").format(action=title, order=order_id), "info")
        else:
            self.window.tell(_("{action}: recorded for {order}; waiting for the hub.").format(
                action=title, order=order_id), "info")

    def _orders_changed(self, ids: list[str], _initiator: object = None) -> None:
        for oid in [i for i in ids if i in self.waiting]:
            self._read_answer(oid)

    def _read_answer(self, order_id: str) -> None:
        store = self.services.store
        self.services.tasks.run_db(lambda: store.get_order(order_id), lambda order: self._answered(order_id, order))

    def _answered(self, order_id: str, order: LocalOrder | None) -> None:
        if order_id not in self.waiting or order is None or order.pending:
            return  # still in the outbox (or already told)
        kind, before = self.waiting.pop(order_id)
        title = _(BY_KIND[kind].title).rstrip("…")
        if order.conflict:
            why = refusal_text(order.conflict.get("error"), order.conflict.get("reason"))
            self.answers[order_id] = ("error", why)
            self.window.tell(_("{action} on {order} was refused by the hub").format(action=title, order=order_id),
                             "error", why)
            return
        if kind == "address":
            text = reroute_outcome(before, order.snapshot)
        elif kind == "cancel" and order.snapshot.get("cancel_requested"):
            text = _("intercept requested: the bench must pull the parcel")
        else:
            text = state_label(order.state, "zh_CN" if _is_zh() else "en")
        self.answers[order_id] = ("ok", text)
        self.window.tell(_("{action} on {order} done by the hub: {outcome}").format(
            action=title, order=order_id, outcome=text), "ok")
