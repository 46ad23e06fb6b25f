"""The desk's ticket queue (工单, Ctrl+T): open tickets by due time, the order beside, quick actions by key.

Issue 15, docs/tickets.md "The desk". Each row is flagged by its SLA state with a colour, a glyph
and words (○ on time · ◐ due soon · ▲ overdue · ✓ closed — :data:`core.tickets.SLA_LOOKS`), and
shows the type, the customer's channel, the assignee, the order and how long the customer has
waited. The filter (Ctrl+F: text over order ID, buyer name, phone tail and the tickets' words;
Ctrl+M mine / all; Ctrl+O overdue only; Ctrl+D closed too; the type box) runs on the GUI thread
over rows built on the database worker (:func:`core.ticket_view.filter_rows`, 50,000 rows in well
under a frame: bench/ticket_queue.py). A timer re-flags the rows as time passes; it only repaints.

Keys: F2 a customer contact (on the selected ticket, or a new ticket on the selected or a typed /
scanned order), F3 reply, F4 close with the resolution, F6 reopen, F7 assign, F8 change the order's
address (the desk's own dialog, ui/desk_actions.py), F10 copy the phone, Enter open the order in the
queues, Esc back. Each action is a small dialog with its required fields; it is queued in the
outbox with the hub stopped too (core/ticket_desk.py) and shows at once, marked "waiting for the hub".
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.display_names import refusal_text
from core.errors import UserError
from core.i18n import N_, _, language
from core.roles import Role
from core.states import state_label
from core.store.tickets import QueueDoc
from core.ticket_view import PreparedRows, QueueFilter, TicketRow, filter_rows, make_row
from core.tickets import AUTO_SOURCES, CONTACT_CHANNELS, SLA_LOOKS, TICKET_TYPES
from core.timeutil import parse_iso, to_local, utcnow
from ui.services import AppServices

log = logging.getLogger("packdesk.ui.tickets")

#: SLA state -> (background, text colour); the glyph and words come from core.tickets.SLA_LOOKS.
SLA_COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#e8f5e9", "#1b5e20"),
    "due_soon": ("#fff3e0", "#e65100"),
    "overdue": ("#ffebee", "#b71c1c"),
    "done": ("#eceff1", "#37474f"),
}
COLUMNS = (N_("SLA"), N_("Type"), N_("Channel"), N_("Assignee"), N_("Order"), N_("Waiting"), N_("Buyer"))
SLA, TYPE, CHANNEL, ASSIGNEE, ORDER, WAITING, BUYER = range(len(COLUMNS))
#: How often the rows are re-flagged (SLA states move with the clock; nothing is read).
TICK_MS = 30_000
TABLE_PT = 12


#: Ticket refusals in words (the hub's own reason is English; core.display_names has the order ones).
TICKET_REFUSALS: dict[str, str] = {
    "unknown_ticket": N_("The hub has no such ticket on this order."),
    "ticket_exists": N_("A ticket with this ID exists at the hub already."),
    "illegal_transition": N_("The ticket was already changed (closed or reopened) meanwhile."),
}
#: Refusals made on this PC whose message is already in the operator's language (core.i18n).
LOCAL_WORDS = frozenset({"unknown_order", "forbidden", "bad_payload", "validation_failed"})


def why(code: Any, reason: Any) -> str:
    """Why a ticket action was refused, in the operator's language."""
    if str(code) in TICKET_REFUSALS and language().startswith("zh"):
        return _(TICKET_REFUSALS[str(code)])
    return refusal_text(code, reason)


def waited(since: datetime | None, now: datetime) -> str:
    """How long the customer has waited, short ("2 h 05 min", "12 min", "—")."""
    if since is None:
        return "—"
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return _("{m} min").format(m=minutes)
    if minutes < 48 * 60:
        return _("{h} h {m:02d} min").format(h=minutes // 60, m=minutes % 60)
    return _("{d} days").format(d=minutes // (24 * 60))


def channel_words(code: str) -> str:
    label = CONTACT_CHANNELS.get(code) or AUTO_SOURCES.get(code)
    return _(label) if label else code or "—"


def sla_words(state: str) -> str:
    glyph, label = SLA_LOOKS[state]
    return f"{glyph} {_(label)}"


class TicketModel(QAbstractTableModel):
    """The filtered rows of the queue; ``now`` is the time the SLA flags are drawn at (the timer moves it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prepared = PreparedRows([])
        self.rows: list[TicketRow] = []
        self.flt = QueueFilter()
        self.me = ""
        self.now = utcnow()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _(COLUMNS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        state = r.sla(self.now)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == SLA:
                mark = " ⇅" if r.pending else ""
                return sla_words(state) + mark + (" ✖" if r.conflict else "")
            if col == TYPE:
                return _(TICKET_TYPES.get(r.type, r.type)) + (" ★" if r.vip else "")
            if col == CHANNEL:
                return channel_words(r.source)
            if col == ASSIGNEE:
                return r.assignee or _("unassigned")
            if col == ORDER:
                return r.order_id
            if col == WAITING:
                return waited(r.waiting_since, self.now) if r.status == "open" else "—"
            if col == BUYER:
                return f"{r.buyer} ·{r.phone[-4:]}" if r.phone else r.buyer or "—"
        if role == Qt.ItemDataRole.BackgroundRole and col == SLA:
            return QBrush(QColor(SLA_COLOURS[state][0]))
        if role == Qt.ItemDataRole.ForegroundRole and col == SLA:
            return QBrush(QColor(SLA_COLOURS[state][1]))
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = []
            if r.pending:
                tips.append(_("⇅ waiting for the hub ({n} actions)").format(n=r.pending))
            if r.conflict:
                tips.append("✖ " + why(r.conflict.get("error"), r.conflict.get("reason")))
            return "\n".join(tips) or None
        return None

    # -- content ---------------------------------------------------------------------------------
    def load(self, rows: list[TicketRow]) -> None:
        """Sort and prepare ``rows`` here (the bench; the screen prepares them on the database worker)."""
        self.set_prepared(PreparedRows(rows))

    def set_prepared(self, prepared: PreparedRows) -> None:
        self.prepared = prepared
        self.refilter()

    def refilter(self) -> None:
        self.beginResetModel()
        self.rows = filter_rows(self.prepared, self.flt, self.now, self.me)
        self.endResetModel()

    def tick(self, now: datetime) -> None:
        """Re-flag the rows at ``now`` (a repaint of two columns; the filter's 'overdue' is re-run)."""
        self.now = now
        if self.flt.overdue:
            self.refilter()
        elif self.rows:
            self.dataChanged.emit(self.index(0, SLA), self.index(len(self.rows) - 1, WAITING))

    def row_at(self, i: int) -> TicketRow | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None


def build_rows(docs: list[QueueDoc]) -> list[TicketRow]:
    """Queue rows from the store's tickets (on the database worker: JSON already parsed there)."""
    return [make_row(doc, order, pending=pending, conflict=conflict) for doc, pending, conflict, order in docs]


# -- the dialogs ---------------------------------------------------------------------------------------

#: kind -> (title msgid, submit msgid)
DIALOGS: dict[str, tuple[str, str]] = {
    "contact": (N_("Customer contact"), N_("Record contact")),
    "reply": (N_("Reply to the customer"), N_("Record reply")),
    "close": (N_("Close the ticket"), N_("Close ticket")),
    "reopen": (N_("Reopen the ticket"), N_("Reopen")),
    "assign": (N_("Assign the ticket"), N_("Assign")),
}


class TicketDialog(QDialog):
    """One ticket action: its required fields; Enter submits once nothing is missing, Esc cancels.

    Signals:
        submitted(object): the ticket as it now looks here (:class:`core.store.tickets.LocalTicket`).
    """

    submitted = Signal(object)

    def __init__(self, services: AppServices, kind: str, row: TicketRow | None, *, order_id: str = "",
                 people: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.kind, self.row = services, kind, row
        self.setObjectName(f"ticket_{kind}")
        self.setModal(True)
        self.setMinimumWidth(520)
        title, submit = DIALOGS[kind]
        self.setWindowTitle(_(title))
        layout = QVBoxLayout(self)
        if row is not None:
            head = QLabel(_("Ticket on {order} · {type} · {state}").format(
                order=row.order_id, type=_(TICKET_TYPES.get(row.type, row.type)),
                state=sla_words(row.sla(utcnow()))))
            head.setStyleSheet("font-weight: bold;")
            layout.addWidget(head)
        form = QFormLayout()
        self.order = QLineEdit(order_id)
        self.order.setObjectName("ticketOrder")
        self.add_to = QCheckBox()
        self.add_to.setObjectName("ticketAddTo")
        self.type_box = QComboBox()
        self.type_box.setObjectName("ticketType")
        self.channel = QComboBox()
        self.channel.setObjectName("ticketChannel")
        self.assignee = QComboBox()
        self.assignee.setObjectName("ticketAssignee")
        self.text = QLineEdit()
        self.text.setObjectName("ticketText")
        if kind == "contact":
            self.order.setPlaceholderText(_("Order ID, or scan the parcel"))
            form.addRow(_("Order"), self.order)
            if row is not None and row.status == "open":
                self.add_to.setText(_("Add to the selected ticket (the customer is chasing)"))
                self.add_to.setChecked(True)
                form.addRow("", self.add_to)
            for code, label in TICKET_TYPES.items():
                self.type_box.addItem(_(label), code)
            if row is not None:
                self.type_box.setCurrentIndex(max(0, self.type_box.findData(row.type)))
            form.addRow(_("Type"), self.type_box)
        if kind in ("contact", "reply"):
            for code, label in CONTACT_CHANNELS.items():
                self.channel.addItem(_(label), code)
            if row is not None and row.source in CONTACT_CHANNELS:
                self.channel.setCurrentIndex(self.channel.findData(row.source))
            form.addRow(_("Channel"), self.channel)
        if kind == "assign":
            self.assignee.setEditable(True)
            self.assignee.addItems(people or [])
            self.assignee.setCurrentIndex(-1)
            self.assignee.currentTextChanged.connect(self._update)
            form.addRow(_("Assign to (operator code)"), self.assignee)
        if kind != "assign":
            self.text.setPlaceholderText({
                "contact": _("What the customer said (optional)"), "reply": _("What we told the customer (required)"),
                "close": _("How it was resolved (required)"), "reopen": _("Why it is reopened (required)"),
            }[kind])
            form.addRow({"contact": _("Note"), "reply": _("Reply"), "close": _("Resolution"),
                         "reopen": _("Reason")}[kind], self.text)
        layout.addLayout(form)
        self.hint = QLabel()
        self.hint.setObjectName("ticketHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b71c1c;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit: QPushButton = self.buttons.addButton(_(submit), QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("ticketSubmit")
        for button in self.buttons.findChildren(QPushButton):
            button.setAutoDefault(False)
        self.submit.setDefault(True)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in (self.order, self.text):
            edit.textChanged.connect(self._update)
            edit.returnPressed.connect(self._accept)
        typed = self.assignee.lineEdit()
        if typed is not None:
            typed.returnPressed.connect(self._accept)
        self.order.textChanged.connect(self._order_typed)
        self.add_to.toggled.connect(lambda _on: self._adding_changed())
        self._adding_changed()
        self.busy = False
        self._update()
        first: QWidget = self.text
        if kind == "contact" and not order_id:
            first = self.order
        elif kind == "assign":
            first = self.assignee
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _order_typed(self, text: str) -> None:
        same = self.row is not None and text.strip().upper() == self.row.order_id
        self.add_to.setEnabled(same)
        if not same:
            self.add_to.setChecked(False)
        self._adding_changed()

    def _adding_changed(self) -> None:
        """A contact added to the selected ticket keeps that ticket's type: the type box is for a new one."""
        self.type_box.setEnabled(not (self.add_to.isChecked() and self.add_to.isEnabled()))

    def problems(self) -> list[str]:
        found = []
        if self.kind == "contact" and not self.order.text().strip():
            found.append(_("Type or scan the order the customer asks about."))
        if self.kind in ("reply", "close", "reopen") and not self.text.text().strip():
            found.append({"reply": _("Write the reply."), "close": _("Write how it was resolved."),
                          "reopen": _("Write why it is reopened.")}[self.kind])
        if self.kind == "assign" and not self.assignee.currentText().strip():
            found.append(_("Choose who takes the ticket."))
        return found

    def _update(self) -> None:
        problems = self.problems()
        self.hint.setText("\n".join(f"✖ {p}" for p in problems))
        self.submit.setEnabled(not problems and not self.busy)

    def action(self) -> tuple[str, str, dict[str, Any]]:
        """(order ID, action type, payload) the dialog stands for."""
        text = self.text.text().strip()
        if self.kind == "contact":
            order_id = self.order.text().strip()  # an order ID, or a scanned code: TicketDesk.order_for
            if self.row is not None and self.add_to.isChecked() and self.add_to.isEnabled():
                return self.row.order_id, "ticket_contact", {"ticket_id": self.row.ticket_id,
                                                             "channel": self.channel.currentData(), "text": text}
            return order_id, "ticket_opened", {"ticket_id": self.services.tickets.new_ticket_id(),
                                               "type": self.type_box.currentData(),
                                               "channel": self.channel.currentData(), "text": text}
        assert self.row is not None
        tid, oid = self.row.ticket_id, self.row.order_id
        if self.kind == "reply":
            return oid, "ticket_replied", {"ticket_id": tid, "channel": self.channel.currentData(), "text": text}
        if self.kind == "close":
            return oid, "ticket_closed", {"ticket_id": tid, "resolution": text}
        if self.kind == "reopen":
            return oid, "ticket_reopened", {"ticket_id": tid, "reason": text}
        return oid, "ticket_assigned", {"ticket_id": tid, "assignee": self.assignee.currentText().strip().upper()}

    def _accept(self) -> None:
        if self.problems() or self.busy:
            self._update()
            return
        op = self.services.operator
        if op is None:
            self.hint.setText("✖ " + _("Log in first."))
            return
        self.busy = True
        self.submit.setEnabled(False)
        order_id, type_, payload = self.action()
        tickets, code, role = self.services.tickets, op.code, op.role
        typed = type_ == "ticket_opened"  # typed or scanned: an order ID, a waybill or the shop's order number
        self.services.tasks.run_db(
            lambda: tickets.perform(tickets.order_for(order_id) if typed else order_id, type_, payload, code,
                                    role=role), self._done, self._failed)

    def _done(self, ticket: Any) -> None:
        self.busy = False
        self.submitted.emit(ticket)
        self.accept()

    def _failed(self, exc: UserError) -> None:
        self.busy = False
        self.hint.setText("✖ " + (exc.message if exc.code in LOCAL_WORDS else why(exc.code, exc.message)))
        self.submit.setEnabled(True)


# -- the page ----------------------------------------------------------------------------------------


class TicketView(QWidget):
    """The ticket queue page: filter bar, the table, the ticket and its order beside it, the keys.

    Signals:
        closed(): Esc — back to the queues.
        open_order(str): Enter — show this order in the queues.
        change_address(str): F8 — the desk's address dialog for this order.
        loaded(): the rows were (re)read from the store.
    """

    #: Keys the page handles itself (F1 and docs/keys.md list them, ui/keys.py).
    FIELD_KEYS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Enter", N_("Open the ticket's order in the queues")),
        ("↑ ↓ PgUp PgDn", N_("Move in the list")),
    )

    closed = Signal()
    open_order = Signal(str)
    change_address = Signal(str)
    loaded = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ticketView")
        self.services = services
        self.model = TicketModel(self)
        self.dialog: TicketDialog | None = None
        self.shortcuts: list[QShortcut] = []
        self._loaded_once = False
        self._dirty = False
        self._rows: dict[str, TicketRow] = {}  # the database worker's (see reload)
        self._waiting: str | None = None  # the ticket of the last action, until the hub has it
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        services.tickets_changed.connect(self._tickets_changed)
        services.orders_changed.connect(self._orders_changed)

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        title = QLabel(_("Customer tickets"))
        title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        bar.addWidget(title)
        self.search = QLineEdit()
        self.search.setObjectName("ticketSearch")
        self.search.setPlaceholderText(_("Filter: order ID, buyer, phone tail, words (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter_changed)
        bar.addWidget(self.search, 3)
        self.mine = QComboBox()
        self.mine.setObjectName("ticketMine")
        self.mine.addItem(_("All tickets"), False)
        self.mine.addItem(_("Mine"), True)
        self.mine.currentIndexChanged.connect(self._filter_changed)
        bar.addWidget(self.mine)
        self.type_box = QComboBox()
        self.type_box.setObjectName("ticketTypeFilter")
        self.type_box.addItem(_("Every type"), "")
        for code, label in TICKET_TYPES.items():
            self.type_box.addItem(_(label), code)
        self.type_box.currentIndexChanged.connect(self._filter_changed)
        bar.addWidget(self.type_box)
        self.overdue = QCheckBox(_("▲ Overdue only"))
        self.overdue.setObjectName("ticketOverdue")
        self.overdue.toggled.connect(self._filter_changed)
        bar.addWidget(self.overdue)
        self.closed_too = QCheckBox(_("✓ Closed too"))
        self.closed_too.setObjectName("ticketClosedToo")
        self.closed_too.toggled.connect(self._filter_changed)
        bar.addWidget(self.closed_too)
        self.count = QLabel()
        self.count.setObjectName("ticketCount")
        bar.addWidget(self.count)
        root.addLayout(bar)
        self.notice = QLabel()
        self.notice.setObjectName("ticketNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        root.addWidget(self.notice)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.table = QTableView(split)
        self.table.setObjectName("ticketTable")
        self.search.returnPressed.connect(self.table.setFocus)  # Enter in the filter: back to the list
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setStyleSheet(f"QTableView {{ font-size: {TABLE_PT}pt; }}")
        head = self.table.horizontalHeader()
        for col, width in ((SLA, 108), (TYPE, 92), (CHANNEL, 80), (ASSIGNEE, 70), (ORDER, 196), (WAITING, 104)):
            head.resizeSection(col, width)
        head.setSectionResizeMode(BUYER, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._show_detail())
        self.model.modelReset.connect(self._after_reset)
        self.detail = QTextBrowser(split)
        self.detail.setObjectName("ticketDetail")
        self.detail.setOpenLinks(False)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([800, 520])
        root.addWidget(split, 1)
        keys = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, key, slot, what in (
            ("contact", _("Contact (F2)"), "F2", lambda: self.act("contact"),
             _("Record a customer contact: on the selected ticket, or a new ticket on an order")),
            ("reply", _("Reply (F3)"), "F3", lambda: self.act("reply"), _("Record a reply to the customer")),
            ("close", _("Close (F4)"), "F4", lambda: self.act("close"), _("Close the ticket with its resolution")),
            ("reopen", _("Reopen (F6)"), "F6", lambda: self.act("reopen"), _("Reopen a closed ticket")),
            ("assign", _("Assign (F7)"), "F7", lambda: self.act("assign"), _("Hand the ticket to someone")),
            ("address", _("Change address (F8)"), "F8", self.address, _("Change the order's address in one step")),
            ("phone", _("Copy phone (F10)"), "F10", self.copy_phone, _("Copy the buyer's phone to the clipboard")),
            ("back", _("Back (Esc)"), "Esc", self.closed.emit, _("Back to the queues")),
        ):
            button = QPushButton(text)
            button.setObjectName(f"ticketKey_{name}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=slot: s())
            keys.addWidget(button)
            self.buttons[name] = button
            self._shortcut(key, slot, what)
        root.addLayout(keys)
        self._shortcut("Ctrl+F", self.focus_search, _("Filter the tickets"))
        self._shortcut("Ctrl+M", lambda: self.mine.setCurrentIndex(1 - self.mine.currentIndex()),
                       _("Mine / all tickets"))
        self._shortcut("Ctrl+O", self.overdue.toggle, _("Overdue only"))
        self._shortcut("Ctrl+D", self.closed_too.toggle, _("Show closed tickets too"))
        self.table.installEventFilter(self)  # Enter: the table would take it for itself (FIELD_KEYS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.open_selected()
            return True
        return super().eventFilter(watched, event)

    def _shortcut(self, key: str, slot: Any, what: str) -> QShortcut:
        sc = QShortcut(QKeySequence(key), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.setWhatsThis(what)
        sc.activated.connect(slot)
        self.shortcuts.append(sc)
        return sc

    # -- entering, loading --------------------------------------------------------------------------
    def enter(self) -> None:
        """Shown (Ctrl+T): read the tickets on the database worker, start re-flagging."""
        self.timer.start()
        self.reload()
        self.table.setFocus()

    def leave(self) -> None:
        self.timer.stop()

    # Every row is read, sorted and prepared on the database worker (one thread: ``_rows`` is only
    # touched there, in submission order); the GUI thread only swaps the prepared rows in.
    def reload(self) -> None:
        self._dirty = False
        store = self.services.store

        def read() -> PreparedRows:
            self._rows = {r.ticket_id: r for r in build_rows(store.ticket_queue())}
            return PreparedRows(list(self._rows.values()))
        self.services.tasks.run_db(read, self._loaded)

    def _tickets_changed(self, ids: list[str]) -> None:
        if not ids:
            return
        if not self.isVisible():  # read again on entering; a sync of thousands costs nothing meanwhile
            self._dirty = True
            return
        store, wanted = self.services.store, list(ids)

        def read() -> PreparedRows:
            rows = build_rows(store.ticket_queue(wanted))
            for tid in wanted:
                self._rows.pop(tid, None)
            self._rows.update((r.ticket_id, r) for r in rows)
            return PreparedRows(list(self._rows.values()))
        self.services.tasks.run_db(read, self._loaded)

    def _loaded(self, prepared: PreparedRows) -> None:
        keep = self.selected()
        self.model.me = self.services.operator.code if self.services.operator else ""
        self.model.now = utcnow()
        self.model.set_prepared(prepared)
        self._reselect(keep.ticket_id if keep else None)
        self._loaded_once = True
        self._answered(prepared)
        self.loaded.emit()

    def _answered(self, prepared: PreparedRows) -> None:
        """The answer line after an action: once the hub has it (nothing pending), say so, or why it refused."""
        if self._waiting is None:
            return
        row = next((r for r in prepared.rows if r.ticket_id == self._waiting), None)
        if row is None or row.pending:
            return
        self._waiting = None
        if row.conflict:
            self.tell(_("Refused by the hub: {why}").format(
                why=why(row.conflict.get("error"), row.conflict.get("reason"))), "error")
        else:
            self.tell(_("The hub has it: {type} on {order}.").format(
                type=_(TICKET_TYPES.get(row.type, row.type)), order=row.order_id), "ok")

    def _orders_changed(self, ids: list[str], _initiator: object = None) -> None:
        row = self.selected()
        if row is not None and row.order_id in ids and self.isVisible():
            self._show_detail()

    def tick(self) -> None:
        """The timer: re-flag every row at the time now (no database)."""
        self.model.tick(utcnow())

    # -- filter, selection --------------------------------------------------------------------------
    def current_filter(self) -> QueueFilter:
        return QueueFilter(mine=bool(self.mine.currentData()), type=str(self.type_box.currentData() or ""),
                           overdue=self.overdue.isChecked(), text=self.search.text(),
                           closed=self.closed_too.isChecked())

    def _filter_changed(self, *_args: Any) -> None:
        keep = self.selected()
        self.model.flt = self.current_filter()
        self.model.refilter()
        self._reselect(keep.ticket_id if keep else None)

    def _after_reset(self) -> None:
        shown, total = len(self.model.rows), len(self.model.prepared.open)
        self.count.setText(_("{shown} shown · {open} open").format(shown=shown, open=total))

    def _reselect(self, ticket_id: str | None) -> None:
        i = next((n for n, r in enumerate(self.model.rows) if r.ticket_id == ticket_id), 0) if ticket_id else 0
        if self.model.rows:
            self.table.selectRow(i)
        self._show_detail()

    def selected(self) -> TicketRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def select_ticket(self, ticket_id: str) -> bool:
        for n, r in enumerate(self.model.rows):
            if r.ticket_id == ticket_id:
                self.table.selectRow(n)
                return True
        return False

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- the detail pane ----------------------------------------------------------------------------
    def _show_detail(self) -> None:
        row = self.selected()
        if row is None:
            self.detail.setHtml(f"<p>{html.escape(_('No ticket here. F2 records a customer contact.'))}</p>")
            return
        store, oid = self.services.store, row.order_id
        self.services.tasks.run_db(lambda: store.get_order(oid), lambda order: self._render(row, order))

    def _render(self, row: TicketRow, order: Any) -> None:
        if self.selected() is not row:
            return
        from ui.order_detail import tracking_html

        e = html.escape
        now = utcnow()
        state = row.sla(now)
        bg, fg = SLA_COLOURS[state]
        doc = row.doc
        parts = [f"<h3 style='margin:0'>{e(_(TICKET_TYPES.get(row.type, row.type)))} · "
                 f"<span style='background:{bg};color:{fg}'>&nbsp;{e(sla_words(state))}&nbsp;</span></h3>"]
        facts = [(_("Ticket"), row.ticket_id), (_("Channel"), channel_words(row.source)),
                 (_("Assignee"), row.assignee or _("unassigned")),
                 (_("Due"), _local(doc.get("due_at"))), (_("Waiting"), waited(row.waiting_since, now)),
                 (_("Contacts / replies"), f"{doc.get('contacts', 0)} / {doc.get('replies', 0)}")]
        if row.pending:
            facts.append(("⇅", _("waiting for the hub ({n} actions)").format(n=row.pending)))
        if row.conflict:
            facts.append(("✖", _("Refused by the hub: {why}").format(
                why=why(row.conflict.get("error"), row.conflict.get("reason")))))
        parts.append("<table>" + "".join(f"<tr><td><b>{e(k)}</b>&nbsp;</td><td>{e(str(v))}</td></tr>"
                                         for k, v in facts) + "</table>")
        events = doc.get("events") or []
        if events:
            parts.append(f"<p><b>{e(_('History'))}</b></p><ul style='margin:0'>")
            for ev in events[:8]:
                words = EVENT_WORDS.get(str(ev.get("kind")), str(ev.get("kind")))
                parts.append(f"<li>{e(_local(ev.get('at')))} {e(_(words))} · {e(str(ev.get('operator') or ''))}"
                             f"{(' — ' + e(str(ev.get('text')))) if ev.get('text') else ''}</li>")
            parts.append("</ul>")
        parts.append("<hr>")
        if order is None:
            parts.append(f"<p>{e(_('Order {order} is not on this PC.').format(order=row.order_id))}</p>")
        else:
            s = order.snapshot
            rec = s.get("recipient") or {}
            lang = "zh_CN" if language().startswith("zh") else "en"
            parts.append(f"<p><b>{e(row.order_id)}</b> · {e(state_label(order.state, lang))}</p>")
            address = " ".join(str(rec.get(k) or "") for k in ("province", "city", "district", "address"))
            parts.append(f"<p>{e(str(rec.get('name') or ''))} · {e(str(rec.get('phone') or ''))}<br>{e(address)}</p>")
            if s.get("carrier") or s.get("waybill_no"):
                parts.append(f"<p>{e(str(s.get('carrier') or ''))} {e(str(s.get('waybill_no') or ''))}</p>")
            if s.get("tracking"):
                parts.append(tracking_html(s))
        self.detail.setHtml("".join(parts))

    # -- actions ------------------------------------------------------------------------------------
    def tell(self, text: str, kind: str = "info") -> None:
        look = {"ok": ("#1b5e20", "✔"), "error": ("#b71c1c", "✖"), "info": ("#0d47a1", "▶")}[kind]
        self.notice.setStyleSheet(f"background: {look[0]}; color: white; font-size: 13pt; font-weight: bold;"
                                  " padding: 4px 10px;")
        self.notice.setText(f"{look[1]}  {text}")
        self.notice.setVisible(bool(text))

    def _desk(self) -> bool:
        try:
            return Role(self.services.role).at_least(Role.DESK)
        except ValueError:
            return False

    def act(self, kind: str) -> None:
        """Open the dialog of ``kind`` (contact, reply, close, reopen, assign) for the selected ticket."""
        if not self._desk():
            self.tell(_("Only desk staff and above do this."), "error")
            return
        row = self.selected()
        if kind != "contact":
            if row is None:
                self.tell(_("Select a ticket first."), "error")
                return
            if kind == "reopen" and row.status != "closed":
                self.tell(_("Only a closed ticket can be reopened (Ctrl+D shows closed tickets)."), "error")
                return
            if kind in ("close", "assign") and row.status != "open":
                self.tell(_("This ticket is closed; F6 reopens it."), "error")
                return
        people = sorted({str(a) for a in self.model.prepared.by_assignee if a}
                        | ({self.services.operator.code} if self.services.operator else set()))
        self.dialog = TicketDialog(self.services, kind, row, order_id=row.order_id if row else "", people=people,
                                   parent=self)
        self.dialog.submitted.connect(self._submitted)
        self.dialog.open()

    def _submitted(self, ticket: Any) -> None:
        state = self.services.sync_state()
        offline = state is None or state.status == "offline" or state.last_error is not None
        self.tell(_("Recorded; the hub is offline, it is sent when the hub is back.") if offline
                  else _("Recorded; waiting for the hub."), "info")
        tid = ticket.ticket_id
        self._waiting = tid
        self.closed_too.setChecked(self.closed_too.isChecked() or ticket.status == "closed")

        def reselect() -> None:
            self.select_ticket(tid)
            self.loaded.disconnect(reselect)
        self.loaded.connect(reselect)

    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_order.emit(row.order_id)

    def address(self) -> None:
        row = self.selected()
        if row is None:
            self.tell(_("Select a ticket first."), "error")
            return
        self.change_address.emit(row.order_id)

    def copy_phone(self) -> None:
        row = self.selected()
        if row is None or not row.phone:
            self.tell(_("No phone number on this order."), "error")
            return
        QGuiApplication.clipboard().setText(row.phone)
        self.tell(_("Phone {tail} copied.").format(tail="…" + row.phone[-4:]), "ok")


#: Ticket event kind -> words.
EVENT_WORDS: dict[str, str] = {
    "opened": N_("opened"), "contact": N_("customer contact"), "assigned": N_("assigned"),
    "replied": N_("replied"), "closed": N_("closed"), "reopened": N_("reopened"), "note": N_("note"),
}


def _local(text: Any) -> str:
    """An ISO time on the site's clock (as the rest of the app shows times): HH:MM today, else with the date."""
    try:
        at = parse_iso(text) if isinstance(text, str) else None
    except ValueError:
        at = None
    if at is None:
        return "—"
    local = to_local(at)
    return local.strftime("%H:%M") if local.date() == to_local(utcnow()).date() else local.strftime("%m-%d %H:%M")
