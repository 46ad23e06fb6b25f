"""The desk's ticket actions: applied to the local ticket at once and queued for the hub, in one transaction.

:meth:`TicketDesk.perform` is :meth:`core.outbox.Outbox.perform` for tickets (docs/tickets.md
"Actions"): it checks the action with the hub's rules (role: desk or above; payload:
:func:`core.tickets.check_ticket_payload`; the ticket's state: :func:`core.ticket_view.apply_ticket_local`)
*before* writing anything, then in one local transaction takes the device's next seq, inserts the
outbox row (signed like any action, with the ticket's order as its ``order_id``), writes the local
audit and rebuilds the ticket's view. The sync engine sends it with the order actions; the hub's
refusal comes back as a conflict on the order and on the ticket (never silently resolved).

A ticket opened here gets a UUID as its ID (docs/tickets.md), so a reply queued offline right
after the opening can name it.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from core.actions import ROLE_NAMES, Forbidden
from core.errors import ValidationFailed
from core.events import Event
from core.i18n import _
from core.outbox import OrdersChanged, Outbox, UnknownOrder
from core.roles import Role
from core.store import OutboxAction
from core.store import tickets as store_tickets
from core.store.outbox import stored_payload
from core.store.overlay import PendingAction
from core.store.tickets import LocalTicket
from core.ticket_view import apply_ticket_local
from core.tickets import TICKET_ACTIONS
from core.timeutil import iso, utcnow

log = logging.getLogger("packdesk.tickets")


@dataclass(frozen=True)
class TicketsChanged:
    """Which tickets' local view changed, and who started it (as :class:`core.outbox.OrdersChanged`)."""

    ids: list[str]
    initiator: object | None = None


class TicketDesk:
    """Ticket actions against the local store, through the order outbox.

    Events:
        tickets_changed(TicketsChanged): tickets whose local view changed here.
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.store = outbox.store
        self.tickets_changed: Event[TicketsChanged] = Event("tickets.tickets_changed")

    @staticmethod
    def new_ticket_id() -> str:
        return str(uuid.uuid4())

    def order_for(self, code: str) -> str:
        """The order ID a typed or scanned code names: an order ID, or the parcel's waybill number or
        the shop's order number (as the queue's scan field reads them); else the code as typed."""
        code = code.strip()
        if self.store.get_order(code.upper()) is not None:
            return code.upper()
        return self.store.find_by_code(code) or code.upper()

    def perform(self, order_id: str, type_: str, payload: dict[str, Any], operator: str, *,
                role: Role | str | None = None, initiator: object | None = None) -> LocalTicket:
        """Do a ticket action now: the ticket's local view updated and the action queued, in one transaction.

        Args:
            order_id: the ticket's order (for ``ticket_opened``: the order the contact is about).
            type_: ``ticket_opened``, ``ticket_contact``, ``ticket_replied``, ``ticket_closed``,
                ``ticket_reopened`` or ``ticket_assigned``.
            payload: as docs/tickets.md (``ticket_id`` included; :meth:`new_ticket_id` for a new one).
            operator: the logged-in operator; role: theirs (desk or above, else ``Forbidden``).

        Returns:
            the ticket as it now looks here (``pending`` > 0).

        Raises:
            UnknownOrder, Forbidden, core.actions.BadPayload, core.ticket_view.UnknownTicket,
            core.ticket_view.TicketExists, core.errors.IllegalTransition: nothing was written.
        """
        spec = TICKET_ACTIONS.get(type_)
        if spec is None:
            raise ValidationFailed(f"'{type_}' is not a ticket action.", details={"field": "type"})
        if not operator:
            raise ValidationFailed("An action needs the operator who did it.", details={"field": "operator"})
        if role is not None and not Role(role).at_least(spec.role):
            raise Forbidden(_("Customer tickets are for the desk; you are logged in with the {role}.").format(
                role=_(ROLE_NAMES[Role(role)])), details={"type": type_, "needed": spec.role.value, "role": Role(role).value})
        payload = dict(payload)
        with self.store.write() as conn:
            order = self.store.get_order(order_id, conn)
            tid = str(payload.get("ticket_id") or "")
            current = store_tickets.get(conn, tid) if tid else None
            # A ticket's order may have left this PC's working set (closed more than 48 h ago, a refund
            # case): the ticket is here, so its actions are too. A new ticket needs its order here.
            if order is None and (type_ == "ticket_opened" or current is None or current.order_id != order_id):
                raise UnknownOrder(
                    _("Order {order} is not on this PC. Check the ID, or sync and try again.").format(order=order_id),
                    details={"order_id": order_id})
            base_version = order.hub_version if order is not None else 0
            action_id = str(uuid.uuid4())
            done_at = iso(utcnow()) or ""
            pending = PendingAction(action_id, order_id, type_, payload, operator, done_at)
            # Refuses with the hub's own error classes, before any write.
            view = apply_ticket_local(current.doc if current is not None else None, pending,
                                      order.snapshot if order is not None else None)
            seq = self.store.next_seq(conn)
            wire = {"action_id": action_id, "seq": seq, "order_id": order_id, "type": type_,
                    "payload": json.loads(stored_payload(payload)), "base_version": base_version,
                    "operator": operator, "done_at": done_at}
            key_id, sig = self.outbox._signature(conn, operator, wire)  # the one signing rule
            self.store.queue_action(conn, OutboxAction(seq, action_id, order_id, type_, payload, base_version,
                                                       operator, done_at, key_id=key_id, sig=sig))
            self.store.audit(conn, operator, type_, order_id=order_id, action_id=action_id,
                             details={"seq": seq, "payload": payload, "base_version": base_version}, at=done_at)
            if current is None:
                store_tickets.insert_local(conn, view, 1)
            store_tickets.rebuild(conn, [tid])
            self.store.refresh_views(conn, [order_id])
            ticket = store_tickets.get(conn, tid)
            assert ticket is not None
        log.debug("Queued %s on ticket %s (%s) as seq %d", type_, tid, order_id, seq)
        self.tickets_changed.emit(TicketsChanged([tid], initiator))
        self.outbox.orders_changed.emit(OrdersChanged([order_id], initiator))
        self.outbox.enqueued.emit(seq)
        return ticket
