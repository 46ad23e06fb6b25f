"""The small service layer between widgets and ``core/`` (STYLE.md §2–3).

Widgets never call the store, outbox or network directly: they call :class:`AppServices`, which
runs the work on the task runner and re-emits core's plain-callback events as Qt Signals on the
GUI thread (core events fire on worker threads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from core.errors import UserError
from core.outbox import OrdersChanged, Outbox
from core.print_journal import PrintJournal
from core.settings import Settings
from core.store import LocalOrder, LocalStore
from core.sync import SyncEngine, SyncState
from core.ticket_desk import TicketDesk
from ui.scale_service import ScaleService
from ui.tasks import TaskRunner

log = logging.getLogger("packdesk.ui.services")


@dataclass(frozen=True)
class Operator:
    code: str
    name: str
    role: str  # packer | desk | supervisor | admin


class AppServices(QObject):
    """Everything the widgets need, in one place.

    Signals:
        orders_changed(list, object): (order IDs whose local view changed, initiator) — the
            initiator is whatever a view passed to :meth:`perform` (None for the hub's changes and
            the print journal's), so a view can skip the echo of its own action.
        sync_state_changed(object): a :class:`core.sync.SyncState`.
        operator_changed(object): the logged-in :class:`Operator` (or None after logout).
    """

    orders_changed = Signal(list, object)
    #: ticket IDs whose local view changed (this PC's ticket actions and the hub's), docs/tickets.md
    tickets_changed = Signal(list)
    sync_state_changed = Signal(object)
    operator_changed = Signal(object)

    def __init__(self, settings: Settings, store: LocalStore, engine: SyncEngine | None,
                 tasks: TaskRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.outbox = Outbox(store)
        self.journal = PrintJournal(store, self.outbox)
        self.tickets = TicketDesk(self.outbox)  # the desk's customer tickets (ui/ticket_view.py)
        self.engine = engine
        self.tasks = tasks or TaskRunner(self)
        #: the bench scale (reads nothing until started, and nothing without a port in the settings)
        self.scale = ScaleService(settings, self)
        self.operator: Operator | None = None
        #: the shared ui.print_service.PrintService, set by the main window (dialogs reprint through it)
        self.print_service: Any = None
        # Core events arrive on worker threads: hop to the GUI thread through queued signals.
        self.outbox.orders_changed.connect(self._relay_orders)
        self.tickets.tickets_changed.connect(lambda change: self._tickets_relay.emit(list(change.ids)))
        if engine is not None:
            engine.orders_changed.connect(self._relay_orders)
            engine.tickets_changed.connect(lambda ids: self._tickets_relay.emit(list(ids)))
            engine.sync_state_changed.connect(self._relay_state)
            engine.watch_outbox(self.outbox)
        self._orders_relay.connect(self.orders_changed, Qt.ConnectionType.QueuedConnection)
        self._state_relay.connect(self.sync_state_changed, Qt.ConnectionType.QueuedConnection)
        self._tickets_relay.connect(self.tickets_changed, Qt.ConnectionType.QueuedConnection)

    _orders_relay = Signal(list, object)
    _tickets_relay = Signal(list)
    _state_relay = Signal(object)

    def _relay_orders(self, change: OrdersChanged) -> None:
        self._orders_relay.emit(list(change.ids), change.initiator)

    def _relay_state(self, state: SyncState) -> None:
        self._state_relay.emit(state)

    # -- who --------------------------------------------------------------------------------------
    def set_operator(self, operator: Operator | None) -> None:
        self.operator = operator
        self.operator_changed.emit(operator)

    @property
    def role(self) -> str:
        return self.operator.role if self.operator else "packer"

    # -- actions ----------------------------------------------------------------------------------
    def perform(self, order_id: str, type_: str, payload: dict[str, Any] | None = None, *,
                on_done: Callable[[LocalOrder], None] | None = None,
                on_error: Callable[[UserError], None] | None = None,
                initiator: object | None = None) -> None:
        """Do a user action: local change + outbox row in one transaction, on the database worker.

        ``initiator`` comes back with the ``orders_changed`` echo (a view passes itself to skip it).
        """
        self.perform_many(order_id, [(type_, payload)], on_done=on_done, on_error=on_error, initiator=initiator)

    def perform_many(self, order_id: str, actions: Sequence[tuple[str, dict[str, Any] | None]], *,
                     on_done: Callable[[LocalOrder], None] | None = None,
                     on_error: Callable[[UserError], None] | None = None,
                     initiator: object | None = None) -> None:
        """Several actions on one order, all or nothing, in one transaction on the database worker."""
        if self.operator is None:
            raise UserError("Log in first.", code="not_logged_in")
        code, role = self.operator.code, self.operator.role
        todo = list(actions)
        self.tasks.run_db(lambda: self.outbox.perform_many(order_id, todo, code, role=role, initiator=initiator),
                          on_done, on_error)

    def sync_state(self) -> SyncState | None:
        return self.engine.state if self.engine is not None else None

    def shutdown(self) -> None:
        self.scale.stop()
        if self.engine is not None:
            self.engine.stop()
        self.tasks.shutdown()
        self.store.close()
