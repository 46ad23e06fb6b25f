"""Customer tickets (工单): the types, the action table and the SLA clock, shared by hub and desk.

The hub (:mod:`hub.tickets`) applies ticket actions; a desk PC (next: the ticket queue screen)
queues the same actions in its outbox while offline. Both read the rules from here, so a payload
the desk refuses the hub refuses too, with the same ``bad_payload`` code (docs/tickets.md).

A ticket action travels like an order action (``POST /api/v1/actions``): its ``order_id`` is the
order the ticket is about, its payload names the ticket by ``ticket_id`` — made by whoever opens
the ticket (a UUID on a desk PC), so a reply queued offline after the opening can name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from core.actions import Field, check_fields
from core.i18n import N_, _
from core.roles import Role

#: Ticket types (issue 15): wire code -> label msgid (shown through ``_()``).
TICKET_TYPES: dict[str, str] = {
    "urge_ship": N_("Chasing shipment"),  # 催发货
    "tracking": N_("Where is my parcel"),  # 查物流
    "address_change": N_("Address change"),  # 改地址
    "return_refund": N_("Return / refund"),  # 退货退款
    "complaint": N_("Complaint"),  # 投诉
    "other": N_("Other request"),  # 其他
}

#: How a customer reached the desk (recorded by a person) -> label msgid.
CONTACT_CHANNELS: dict[str, str] = {
    "phone": N_("Phone"),
    "wecom": N_("WeCom"),
    "shop_chat": N_("Shop chat"),
    "sms": N_("SMS"),
}

#: Where a ticket the hub opened by itself came from (not a customer contact: no clock starts).
AUTO_SOURCES: dict[str, str] = {
    "tracking": N_("Carrier tracking"),
    "connector": N_("Shop message"),
    "system": N_("Hub rule"),
}

STATUSES: tuple[str, ...] = ("open", "closed")

_TICKET_ID = Field("ticket_id")
_AT = Field("at", required=False)  # when the customer called / the reply went out (ISO 8601); default: done_at
_CHANNEL = Field("channel", choices=tuple(CONTACT_CHANNELS))
_TEXT = Field("text", required=False, allow_empty=True)

#: The longest ``ticket_id`` (``tickets.ticket_id``).
TICKET_ID_LEN = 40
#: The longest text a contact or reply keeps (the rest is refused, not cut).
TEXT_LEN = 2000


@dataclass(frozen=True)
class TicketAction:
    """The rules of one ticket action type (all need the desk role or above)."""

    type: str
    fields: tuple[Field, ...]
    role: Role = Role.DESK


#: Every ticket action type the hub accepts (docs/tickets.md "Actions").
TICKET_ACTIONS: dict[str, TicketAction] = {
    s.type: s
    for s in (
        TicketAction("ticket_opened", (_TICKET_ID, Field("type", choices=tuple(TICKET_TYPES)), _CHANNEL, _TEXT, _AT)),
        TicketAction("ticket_contact", (_TICKET_ID, _CHANNEL, _TEXT, _AT)),
        TicketAction("ticket_assigned", (_TICKET_ID, Field("assignee"))),
        TicketAction("ticket_replied", (_TICKET_ID, _CHANNEL, Field("text"), _AT)),
        TicketAction("ticket_closed", (_TICKET_ID, Field("resolution"))),
        TicketAction("ticket_reopened", (_TICKET_ID, Field("reason"))),
    )
}


def check_ticket_payload(type_: str, payload: Any) -> None:
    """Check a ticket action's payload (desk before queuing, hub on arrival).

    Raises:
        core.actions.BadPayload: a field is missing, of the wrong shape or too long.
    """
    from core.actions import BadPayload

    spec = TICKET_ACTIONS[type_]
    check_fields(spec.fields, payload)
    if len(payload["ticket_id"]) > TICKET_ID_LEN:
        raise BadPayload(_("'{field}' must be at most {n} characters.").format(field="ticket_id", n=TICKET_ID_LEN),
                         details={"field": "ticket_id"})
    for key in ("text", "resolution", "reason"):
        if isinstance(payload.get(key), str) and len(payload[key]) > TEXT_LEN:
            raise BadPayload(_("'{field}' must be at most {n} characters.").format(field=key, n=TEXT_LEN),
                             details={"field": key})


SlaState = Literal["ok", "due_soon", "overdue", "done"]

#: How an SLA state is shown: (glyph, label msgid); never colour alone.
SLA_LOOKS: dict[str, tuple[str, str]] = {
    "ok": ("○", N_("On time")),
    "due_soon": ("◐", N_("Due soon")),
    "overdue": ("▲", N_("Overdue")),
    "done": ("✓", N_("Closed")),
}


def sla_state(due_at: datetime | None, now: datetime, due_soon: timedelta) -> SlaState:
    """Where a ticket's SLA clock stands at ``now``.

    Args:
        due_at: the ticket's next deadline (``None``: closed, nothing is due).
        now: the time to judge at (injected in tests).
        due_soon: how long before the deadline it counts as due soon.
    """
    if due_at is None:
        return "done"
    if now >= due_at:
        return "overdue"
    if now >= due_at - due_soon:
        return "due_soon"
    return "ok"
