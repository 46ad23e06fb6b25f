"""The ``[tickets]`` section of the site's rules file: SLA per ticket type and who gets which ticket.

Read with the rest of the rules (``hub.routing.Rules.tickets``), so a mistake in it stops the hub
at start with the file and the key named, like any other rule. Absent, every type gets
:data:`DEFAULT_SLA` and tickets go round-robin among the desk staff on shift (docs/tickets.md)::

    [tickets]
    due_soon_minutes = 30          # an SLA clock is "due soon" this long before its deadline
    vip_assignee = "D002"          # every ticket of a VIP order goes to this person ("" : no one)

    [tickets.types.urge_ship]      # 催发货
    reply_minutes = 30             # first reply due this long after the contact that waits
    close_hours = 24               # closed this long after the ticket was opened
    assign = ["D001", "D003"]      # round-robin among these when on shift ([] : every desk operator)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from core.tickets import TICKET_TYPES

_TOP = {"due_soon_minutes", "vip_assignee", "types"}
_TYPE_KEYS = {"reply_minutes", "close_hours", "assign"}


@dataclass(frozen=True)
class TypeRule:
    """SLA and assignment of one ticket type."""

    reply: timedelta
    close: timedelta
    assign: tuple[str, ...] = ()


#: The SLA of a type the rules do not list: first reply within 2 hours, closed within 24 hours.
DEFAULT_SLA = TypeRule(reply=timedelta(hours=2), close=timedelta(hours=24))


@dataclass(frozen=True)
class TicketRules:
    """The parsed ``[tickets]`` section."""

    due_soon: timedelta = timedelta(minutes=30)
    vip_assignee: str = ""
    types: dict[str, TypeRule] = field(default_factory=dict)

    def rule(self, ticket_type: str) -> TypeRule:
        return self.types.get(ticket_type, DEFAULT_SLA)

    @classmethod
    def parse(cls, c: Any, data: dict[str, Any]) -> TicketRules:
        """Check and read the section with the rules file's checker (``hub.routing._Checker``).

        Raises:
            core.errors.ValidationFailed: a missing, mistyped or unknown key, named with its file.
        """
        c.known(data, _TOP, "tickets.")
        soon = c.get(data, "due_soon_minutes", int, "tickets.", 30)
        if soon < 0:
            raise c.fail("tickets.due_soon_minutes", f"must be 0 or more minutes, not {soon}.")
        vip = c.get(data, "vip_assignee", str, "tickets.", "").strip()
        if len(vip) > 32:
            raise c.fail("tickets.vip_assignee", "must be an operator code of at most 32 characters.")
        types: dict[str, TypeRule] = {}
        for name, spec in c.get(data, "types", dict, "tickets.", {}).items():
            where = f"tickets.types.{name}."
            if name not in TICKET_TYPES:
                raise c.fail(f"tickets.types.{name}", f"is not a ticket type; known: {', '.join(TICKET_TYPES)}.")
            if not isinstance(spec, dict):
                raise c.fail(f"tickets.types.{name}", "must be a [section] or table.")
            c.known(spec, _TYPE_KEYS, where)
            reply = c.get(spec, "reply_minutes", int, where, int(DEFAULT_SLA.reply.total_seconds() // 60))
            close = c.get(spec, "close_hours", int, where, int(DEFAULT_SLA.close.total_seconds() // 3600))
            if reply <= 0 or close <= 0:
                raise c.fail(where + ("reply_minutes" if reply <= 0 else "close_hours"), "must be more than 0.")
            assign = c.str_list(spec, "assign", where, empty_ok=True, default=[])
            types[name] = TypeRule(timedelta(minutes=reply), timedelta(hours=close), tuple(assign))
        return cls(timedelta(minutes=soon), vip, types)


@lru_cache(maxsize=4)
def for_rules_file(path: str) -> TicketRules:
    """The ticket rules of a rules file, for the hub's background workers that hold no ``Rules``
    (carrier tracking opens tickets). Read once per path; the hub reads its rules once at start too."""
    from hub.routing import Rules

    return (Rules.load(path) if path else Rules.default()).tickets
