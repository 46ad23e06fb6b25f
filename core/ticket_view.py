"""A desk PC's optimistic copy of what the hub does with a ticket action, and the queue's rows.

The desk shows a ticket action's effect at once, before the hub has seen it (docs/tickets.md,
"The desk"): :func:`apply_ticket_local` applies one queued action to the hub's document with the
hub's refusals (a closed ticket cannot be closed again, only a closed one reopened), and the local
view is always *the hub's document + the pending actions replayed on it* — as for orders
(:mod:`core.store.overlay`). What only the hub decides is left to it: who gets a new ticket (the
assignment rules), the version. The SLA deadlines are recomputed with the type's durations read
back from the hub's own deadlines (``reply_due_at - waiting_since``, ``close_due_at -
clock_from``), or the hub's defaults (2 h / 24 h) for a ticket the hub has not seen yet.

:class:`TicketRow` and :func:`filter_rows` are the ticket queue's data: plain Python, no Qt, no
database, so the screen filters 50,000 rows on the GUI thread within a frame (bench/ticket_queue.py).
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import attrgetter, contains
from typing import TYPE_CHECKING, Any

from core.errors import IllegalTransition, UserError
from core.tickets import TICKET_ACTIONS, check_ticket_payload, sla_state
from core.timeutil import iso, parse_iso

if TYPE_CHECKING:  # core.store imports this module (the ticket overlay): no import back at run time
    from core.store.overlay import PendingAction

#: The hub's SLA for a type its rules do not list (docs/tickets.md "SLA clock").
DEFAULT_REPLY = timedelta(hours=2)
DEFAULT_CLOSE = timedelta(hours=24)
#: ``[tickets] due_soon_minutes``'s default: the desk PC does not get the hub's rules file.
DUE_SOON = timedelta(minutes=30)
#: The newest events a document carries (as the hub's ``DOC_EVENTS``).
DOC_EVENTS = 30


class UnknownTicket(UserError):
    """The ticket is not on this PC (the hub's code for the same refusal)."""

    code = "unknown_ticket"


class TicketExists(UserError):
    code = "ticket_exists"


def _durations(doc: dict[str, Any]) -> tuple[timedelta, timedelta]:
    """The type's reply and close SLA, read back from the hub's deadlines on the document."""
    reply, close = DEFAULT_REPLY, DEFAULT_CLOSE
    try:
        since, reply_due = parse_iso(doc.get("waiting_since")), parse_iso(doc.get("reply_due_at"))
        if since is not None and reply_due is not None and reply_due > since:
            reply = reply_due - since
        start, close_due = parse_iso(doc.get("clock_from")), parse_iso(doc.get("close_due_at"))
        if start is not None and close_due is not None and close_due > start:
            close = close_due - start
    except ValueError:
        pass
    return reply, close


def _refresh(doc: dict[str, Any], reply: timedelta, close: timedelta) -> None:
    if doc["status"] == "closed":
        doc["waiting_since"] = None
        doc["reply_due_at"] = doc["close_due_at"] = doc["due_at"] = None
        return
    since = parse_iso(doc.get("waiting_since"))
    start = parse_iso(doc.get("clock_from")) or parse_iso(doc.get("opened_at"))
    reply_due = since + reply if since is not None else None
    close_due = start + close if start is not None else None
    doc["reply_due_at"], doc["close_due_at"] = iso(reply_due), iso(close_due)
    dues = [d for d in (reply_due, close_due) if d is not None]
    doc["due_at"] = iso(min(dues)) if dues else None


def _event(doc: dict[str, Any], kind: str, at: str, operator: str, *, channel: str | None = None,
           text: str = "") -> None:
    doc["events"] = [{"kind": kind, "at": at, "operator": operator, "channel": channel, "text": text,
                      "local": True}, *(doc.get("events") or [])][:DOC_EVENTS]


def new_document(ticket_id: str, order: dict[str, Any], payload: dict[str, Any], operator: str,
                 at: str) -> dict[str, Any]:
    """A ticket opened on this PC, as it looks until the hub answers (no assignee: the hub's rules decide)."""
    return {"ticket_id": ticket_id, "order_id": order["order_id"], "type": payload["type"], "status": "open",
            "source": payload["channel"], "vip": "vip" in (order.get("flags") or []), "assignee": None,
            "opened_at": at, "opened_by": operator, "contacts": 0, "last_contact_at": None,
            "waiting_since": None, "first_reply_at": None, "last_reply_at": None, "replies": 0,
            "closed_at": None, "closed_by": None, "resolution": None, "reopened": 0, "clock_from": at,
            "reply_due_at": None, "close_due_at": None, "due_at": None, "version": 0, "updated_at": None,
            "events": []}


def _contact(doc: dict[str, Any], at: str, operator: str, channel: str, text: str) -> None:
    if doc["status"] == "closed":
        _reopen(doc, at, operator, "客户再次联系 / the customer contacted us again")
    _event(doc, "contact", at, operator, channel=channel, text=text)
    doc["contacts"] = int(doc.get("contacts") or 0) + 1
    last = doc.get("last_contact_at")
    doc["last_contact_at"] = max(at, last) if last else at
    if not doc.get("waiting_since"):
        doc["waiting_since"] = at


def _reopen(doc: dict[str, Any], at: str, operator: str, reason: str) -> None:
    doc.update(status="open", closed_at=None, closed_by=None, resolution=None,
               reopened=int(doc.get("reopened") or 0) + 1, clock_from=at)
    _event(doc, "reopened", at, operator, text=reason)


def apply_ticket_local(doc: dict[str, Any] | None, action: PendingAction,
                       order: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a new document with ``action`` applied; ``doc`` is not changed.

    Args:
        doc: the ticket as this PC sees it (None: not here — only ``ticket_opened`` applies).
        action: a ticket action (``core.tickets.TICKET_ACTIONS``).
        order: the ticket's order's local view (needed by ``ticket_opened``: VIP flag).

    Raises:
        core.actions.BadPayload: the payload breaks the hub's rules.
        UnknownTicket, TicketExists: the ticket is not here / already is.
        IllegalTransition: closing a closed ticket, reopening an open one.
    """
    if action.type not in TICKET_ACTIONS:
        raise UserError(f"'{action.type}' is not a ticket action.", code="unknown_action")
    p = action.payload
    check_ticket_payload(action.type, p)
    tid = p["ticket_id"]
    at = str(p.get("at") or action.done_at)
    if action.type == "ticket_opened":
        if doc is not None:
            raise TicketExists(f"Ticket {tid} exists already.", details={"ticket_id": tid})
        new = new_document(tid, order or {"order_id": action.order_id}, p, action.operator, at)
        reply, close = DEFAULT_REPLY, DEFAULT_CLOSE
        _event(new, "opened", action.done_at, action.operator)
        _contact(new, at, action.operator, p["channel"], p.get("text") or "")
        _refresh(new, reply, close)
        return new
    if doc is None or doc.get("order_id") != action.order_id:
        raise UnknownTicket(f"No ticket {tid} on order {action.order_id}.", details={"ticket_id": tid})
    new = copy.deepcopy(doc)
    reply, close = _durations(doc)
    kind = action.type
    if kind == "ticket_contact":
        _contact(new, at, action.operator, p["channel"], p.get("text") or "")
    elif kind == "ticket_replied":
        _event(new, "replied", at, action.operator, channel=p["channel"], text=p["text"])
        new["replies"] = int(new.get("replies") or 0) + 1
        first, last = new.get("first_reply_at"), new.get("last_reply_at")
        new["first_reply_at"] = min(at, first) if first else at
        new["last_reply_at"] = max(at, last) if last else at
        if new.get("waiting_since") and new["waiting_since"] <= at:
            new["waiting_since"] = None
    elif kind == "ticket_assigned":
        new["assignee"] = p["assignee"]
        _event(new, "assigned", action.done_at, action.operator, text=p["assignee"])
    elif kind == "ticket_closed":
        if new["status"] == "closed":
            raise IllegalTransition(f"Ticket {tid} is already closed ({new.get('resolution')}).",
                                    details={"ticket_id": tid, "status": "closed"})
        new.update(status="closed", closed_at=action.done_at, closed_by=action.operator, resolution=p["resolution"])
        _event(new, "closed", action.done_at, action.operator, text=p["resolution"])
    elif kind == "ticket_reopened":
        if new["status"] != "closed":
            raise IllegalTransition(f"Ticket {tid} is open; only a closed ticket can be reopened.",
                                    details={"ticket_id": tid, "status": new["status"]})
        _reopen(new, action.done_at, action.operator, p["reason"])
    _refresh(new, reply, close)
    return new


def replay_ticket(base: dict[str, Any] | None, actions: Iterable[PendingAction],
                  order: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The local view: ``base`` with each pending action applied that still applies (others skipped:
    they stay queued and the hub's answer flags them, as for orders)."""
    view = base
    for action in actions:
        try:
            view = apply_ticket_local(view, action, order)
        except UserError:
            continue
    return view


# -- the queue's rows --------------------------------------------------------------------------------


@dataclass(slots=True)
class TicketRow:
    """One ticket as the queue shows it; ``haystack`` is what the text filter searches (lower case)."""

    ticket_id: str
    order_id: str
    type: str
    status: str
    source: str
    assignee: str | None
    due_at: datetime | None
    waiting_since: datetime | None
    opened_at: datetime | None
    vip: bool
    pending: int
    conflict: dict[str, Any] | None
    haystack: str
    #: ``due_at`` as a POSIX timestamp (``inf``: nothing due), for cheap comparisons
    due_ts: float = float("inf")
    phone: str = ""
    buyer: str = ""
    doc: dict[str, Any] = field(default_factory=dict, repr=False)

    def sla(self, now: datetime, due_soon: timedelta = DUE_SOON) -> str:
        return sla_state(self.due_at if self.status == "open" else None, now, due_soon)

    def sort_key(self) -> tuple[float, float, str]:
        """Most urgent first: the earliest deadline, then the oldest (nothing due: last), then the ID."""
        return (self.due_ts, self.opened_at.timestamp() if self.opened_at else float("inf"), self.ticket_id)


def _dt(raw: Any) -> datetime | None:
    try:
        return parse_iso(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def make_row(doc: dict[str, Any], order: dict[str, Any] | None, *, pending: int = 0,
             conflict: dict[str, Any] | None = None) -> TicketRow:
    """A queue row from a ticket's local view and its order's (buyer name and phone come from the order)."""
    rec = (order or {}).get("recipient") or {}
    phone = str(rec.get("phone") or "")
    name = str(rec.get("name") or "")
    texts = " ".join(str(e.get("text") or "") for e in doc.get("events") or [])
    hay = " ".join((doc["order_id"], name, phone[-4:], texts, str((order or {}).get("channel_order_no") or "")))
    due = _dt(doc.get("due_at"))
    return TicketRow(ticket_id=doc["ticket_id"], order_id=doc["order_id"], type=str(doc.get("type") or "other"),
                     status=str(doc.get("status") or "open"), source=str(doc.get("source") or ""),
                     assignee=doc.get("assignee"), due_at=due,
                     waiting_since=_dt(doc.get("waiting_since")), opened_at=_dt(doc.get("opened_at")),
                     vip=bool(doc.get("vip")), pending=pending, conflict=conflict, haystack=hay.lower(),
                     due_ts=due.timestamp() if due is not None else float("inf"),
                     phone=phone, buyer=name, doc=doc)


@dataclass(frozen=True)
class QueueFilter:
    """What the desk asked to see: ``mine`` (assigned to ``me``), a type, overdue only, text, closed too."""

    mine: bool = False
    type: str = ""
    overdue: bool = False
    text: str = ""
    closed: bool = False


_HAYSTACK = attrgetter("haystack")
#: Up to this many candidate rows the text is tested row by row; above, found in the joined text.
TEXT_PASS_ROWS = 5000


class PreparedRows:
    """The queue's rows sorted by due time, prepared for fast filtering on the GUI thread.

    Built once per load or change (not per key typed): ``open`` is the open rows; ``by_assignee``
    and ``by_type`` the rows of each, in due order; ``open_due`` the open rows' deadlines as
    timestamps (sorted: the overdue ones are a prefix, found by bisection); ``text`` every row's
    haystack joined into one string, for :meth:`matching`.
    """

    __slots__ = ("by_assignee", "by_type", "open", "open_due", "rows", "starts", "text")

    def __init__(self, rows: list[TicketRow]) -> None:
        self.rows = sorted(rows, key=TicketRow.sort_key)
        self.open = [r for r in self.rows if r.status == "open"]
        self.open_due = [r.due_ts for r in self.open]  # sorted: the rows are in due order
        self.by_assignee: dict[str | None, list[TicketRow]] = {}
        self.by_type: dict[str, list[TicketRow]] = {}
        self.starts: list[int] = []
        pos = 0
        for r in self.rows:
            self.by_assignee.setdefault(r.assignee, []).append(r)
            self.by_type.setdefault(r.type, []).append(r)
            self.starts.append(pos)
            pos += len(r.haystack) + 1
        self.starts.append(pos)  # the end: row i is text[starts[i]:starts[i + 1] - 1]
        self.text = "\x00".join(r.haystack for r in self.rows)

    def matching(self, needle: str) -> list[TicketRow]:
        """The rows whose haystack contains ``needle`` (lower case), in due order: ``str.find`` over
        the joined text (C speed) and a bisection per hit, not a substring test per row."""
        found: list[TicketRow] = []
        text, starts, rows, size = self.text, self.starts, self.rows, len(needle)
        pos = text.find(needle)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            nxt = starts[i + 1]
            if pos + size < nxt:  # inside row i, not across the separator
                found.append(rows[i])
                pos = text.find(needle, nxt)
            else:
                pos = text.find(needle, pos + 1)
        return found

    def overdue(self, now: datetime) -> list[TicketRow]:
        """The open rows due at or before ``now`` (a prefix of the open rows)."""
        return self.open[: bisect_right(self.open_due, now.timestamp())]


def filter_rows(rows: Iterable[TicketRow] | PreparedRows, flt: QueueFilter, now: datetime, me: str,
                due_soon: timedelta = DUE_SOON) -> list[TicketRow]:
    """The rows the queue shows, most urgent first (plain rows are expected sorted by :meth:`TicketRow.sort_key`).

    Runs on the GUI thread at every key typed in the filter box (bench/ticket_queue.py, 50,000
    rows). With :class:`PreparedRows` it starts from the smallest ready-made candidate list (the
    assignee's rows, the type's rows, the overdue prefix, the open rows) and checks the other
    criteria on that list only; the text is matched last, without Python bytecode per row.
    """
    needle = flt.text.strip().lower()
    now_ts = now.timestamp()
    if isinstance(rows, PreparedRows):
        p = rows
        found: dict[str, list[TicketRow]] = {"status": p.rows if flt.closed else p.open}
        if flt.mine:
            found["mine"] = p.by_assignee.get(me, [])
        if flt.type:
            found["type"] = p.by_type.get(flt.type, [])
        if flt.overdue:
            found["overdue"] = p.overdue(now)
        if needle and min(len(v) for v in found.values()) > TEXT_PASS_ROWS:
            found["text"] = p.matching(needle)
        start = min(found, key=lambda k: len(found[k]))
        out = found[start]
        done = {start} | ({"status"} if start == "overdue" else set())  # the overdue prefix is open rows only
    else:
        found, out, done = {}, list(rows), set()
    # One comprehension per criterion still to check, no function call per row.
    if "status" not in done and not flt.closed:
        out = [r for r in out if r.status == "open"]
    if flt.mine and "mine" not in done:
        out = [r for r in out if r.assignee == me]
    if flt.type and "type" not in done:
        wanted = flt.type
        out = [r for r in out if r.type == wanted]
    if flt.overdue and "overdue" not in done:
        out = [r for r in out if r.status == "open" and r.due_ts <= now_ts]
    if needle and "text" not in done:  # a few thousand rows at most: one C-level pass
        out = list(compress(out, map(contains, map(_HAYSTACK, out), repeat(needle))))
    shared = isinstance(rows, PreparedRows) and any(out is v for v in found.values())
    return list(out) if shared else out  # never hand out the prepared lists themselves
