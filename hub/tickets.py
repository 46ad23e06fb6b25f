"""Customer tickets (工单) at the hub: open, contact, assign, reply, close, reopen; SLA; who gets one.

The one door to ``tickets``, ``ticket_events`` and ``ticket_episodes`` (docs/tickets.md). A ticket
action arrives like an order action (``POST /api/v1/actions``, deduplicated per device and
``action_id`` by :mod:`hub.actions`) and is applied here inside the batch's transaction, in a
savepoint, so a refused one leaves nothing behind. Each change puts the ticket's new document in
the change feed as a ``ticket`` change (:meth:`hub.writer.Writer.ticket_changed`).

Contact episodes (what the touchpoint metric counts, :mod:`hub.metrics_touchpoint`): a customer
contact that arrives while no earlier contact of the ticket is still waiting for a reply starts an
episode; a contact while one waits joins it (the customer's wait does not restart because they
chased). An episode's reply time is the first reply recorded at or after its start; its close time
the close that follows; reopening the ticket takes that close back (the customer's matter was not
settled), so the episode is closed again only by the next close. A close without a reply ends the
episode's reply clock: it stays without a reply time.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.engine import Connection

from core.actions import BadPayload, Forbidden
from core.errors import IllegalTransition, UserError
from core.roles import Role
from core.tickets import AUTO_SOURCES, TICKET_ACTIONS, check_ticket_payload, sla_state
from core.timeutil import as_utc, iso, parse_iso
from hub import db
from hub.ticket_rules import TicketRules
from hub.writer import Actor, Writer

#: The newest events a ticket's document carries (the whole trail: ``GET /api/v1/tickets/{id}``).
DOC_EVENTS = 30
#: How far ahead of the hub's clock a recorded time may be (a desk PC's clock a little fast).
CLOCK_SLACK = timedelta(minutes=5)


class UnknownTicket(UserError):
    code = "unknown_ticket"


class TicketExists(UserError):
    code = "ticket_exists"


class Ctx:
    """One transaction's ticket work: the writer (connection, clock, actor), the rules, the site's zone."""

    def __init__(self, w: Writer, rules: TicketRules, tz: str, action_id: str | None = None) -> None:
        self.w = w
        self.conn: Connection = w.conn
        self.rules = rules
        self.tz = ZoneInfo(tz)
        self.action_id = action_id
        #: Ticket documents saved so far; :meth:`publish` hands them to the change feed.
        self.changed: list[dict[str, Any]] = []

    def publish(self) -> None:
        """The saved tickets go out in the change feed when the writer flushes."""
        for doc in self.changed:
            self.w.ticket_changed(doc)
        self.changed = []

    @property
    def now(self) -> datetime:
        return self.w.now

    @property
    def who(self) -> str:
        return self.w.actor.operator


# -- reading ------------------------------------------------------------------------------------------

def load(conn: Connection, ticket_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    stmt = select(db.tickets.c.doc).where(db.tickets.c.ticket_id == ticket_id)
    if for_update and db.is_postgres(conn):
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return copy.deepcopy(dict(row[0])) if row is not None else None


def with_sla(doc: dict[str, Any], now: datetime, rules: TicketRules) -> dict[str, Any]:
    """The ticket as served by ``GET /api/v1/tickets``: its document plus the SLA clock at ``now``."""
    due = parse_iso(doc.get("due_at"))
    return {**doc, "sla": {"state": sla_state(due, now, rules.due_soon), "due_at": doc.get("due_at"),
                           "reply_due_at": doc.get("reply_due_at"), "close_due_at": doc.get("close_due_at")}}


def list_tickets(conn: Connection, actor: Actor, rules: TicketRules, now: datetime, *, mine: bool = False,
                 status: str = "open", overdue: bool = False, type_: str | None = None,
                 order_id: str | None = None, limit: int = 200, after: str | None = None) -> list[dict[str, Any]]:
    """Tickets for the desk's queue, most urgent first (the earliest deadline, then the oldest).

    With ``after`` (a ticket ID, ``""`` for the first page): keyset pages ordered by ticket ID
    instead, so a desk PC's first sync pages through any number of open tickets without OFFSET.
    """
    t = db.tickets.c
    stmt = select(t.doc)
    if status != "all":
        stmt = stmt.where(t.status == status)
    if mine:
        stmt = stmt.where(t.assignee == actor.operator)
    if overdue:
        stmt = stmt.where(t.status == "open", t.due_at <= now)
    if type_:
        stmt = stmt.where(t.type == type_)
    if order_id:
        stmt = stmt.where(t.order_id == order_id.strip().upper())
    if after is not None:
        stmt = stmt.where(t.ticket_id > after).order_by(t.ticket_id).limit(limit)
    else:
        stmt = stmt.order_by(t.due_at.is_(None), t.due_at, t.opened_at, t.ticket_id).limit(limit)
    return [with_sla(dict(r[0]), now, rules) for r in conn.execute(stmt)]


def events(conn: Connection, ticket_id: str) -> list[dict[str, Any]]:
    e = db.ticket_events.c
    rows = conn.execute(select(db.ticket_events).where(e.ticket_id == ticket_id).order_by(e.id)).all()
    return [{"kind": r.kind, "at": iso(as_utc(r.at)), "operator": r.operator, "channel": r.channel,
             "text": r.text, "action_id": r.action_id, "details": r.details} for r in rows]


# -- who gets a ticket ----------------------------------------------------------------------------------

def on_shift(conn: Connection, now: datetime, candidates: tuple[str, ...] = ()) -> list[str]:
    """Operators on shift at ``now``: active, with a login token that has not expired or been ended.

    "On shift" is read from the hub's logins: a login gives a token for ``token_ttl_s``; logging
    out, revoking or moving the station ends it. With ``candidates`` only those are looked at
    (whatever their role); without, every operator with the desk role.
    """
    tk, op = db.tokens.c, db.operators.c
    stmt = (select(op.code).distinct().select_from(db.tokens.join(db.operators, op.code == tk.operator))
            .where(tk.expires_at > now, op.active.is_(True)))
    stmt = stmt.where(op.code.in_(candidates)) if candidates else stmt.where(op.role == Role.DESK.value)
    return sorted(r[0] for r in conn.execute(stmt))


def pick_assignee(conn: Connection, rules: TicketRules, ticket_type: str, vip: bool,
                  now: datetime) -> tuple[str | None, str]:
    """(operator or None, the rule that decided): VIP to the named person, else round-robin on shift.

    The round-robin turn is a counter in ``counters`` (one per type with its own list, one shared by
    the types that use every desk operator), taken under its row lock, so two hub processes never
    hand out the same turn.
    """
    if vip and rules.vip_assignee:
        return rules.vip_assignee, "vip"
    candidates = rules.rule(ticket_type).assign
    staff = on_shift(conn, now, candidates)
    if not staff:
        return None, "nobody_on_shift"
    turn = db.next_counter(conn, f"ticket_rr:{ticket_type if candidates else '*'}")
    return staff[(turn - 1) % len(staff)], "round_robin"


# -- the operations -------------------------------------------------------------------------------------

def _new_doc(ctx: Ctx, ticket_id: str, order: dict[str, Any], ticket_type: str, source: str,
             opened_at: datetime) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "order_id": order["order_id"], "type": ticket_type, "status": "open",
            "source": source, "vip": "vip" in (order.get("flags") or []), "assignee": None,
            "opened_at": iso(opened_at), "opened_by": ctx.who, "contacts": 0, "last_contact_at": None,
            "waiting_since": None, "first_reply_at": None, "last_reply_at": None, "replies": 0,
            "closed_at": None, "closed_by": None, "resolution": None, "reopened": 0, "clock_from": iso(opened_at),
            "reply_due_at": None, "close_due_at": None, "due_at": None, "version": 0, "updated_at": None,
            "events": []}


def _event(ctx: Ctx, doc: dict[str, Any], kind: str, at: datetime, *, channel: str | None = None,
           text: str = "", details: dict[str, Any] | None = None) -> None:
    ctx.conn.execute(db.ticket_events.insert().values(
        ticket_id=doc["ticket_id"], kind=kind, at=at, operator=ctx.who, channel=channel, text=text,
        action_id=ctx.action_id, details=details or {}))
    doc["events"] = ([{"kind": kind, "at": iso(at), "operator": ctx.who, "channel": channel, "text": text}]
                     + doc["events"])[:DOC_EVENTS]


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _first_after(ctx: Ctx, ticket_id: str, kind: str, at: datetime) -> datetime | None:
    e = db.ticket_events.c
    found = ctx.conn.execute(select(func.min(e.at)).where(e.ticket_id == ticket_id, e.kind == kind,
                                                          e.at >= at)).scalar()
    return as_utc(found) if found is not None else None


def _start_episode(ctx: Ctx, doc: dict[str, Any], at: datetime) -> None:
    """A contact while nothing waits: a new episode (answered already if a reply recorded later in time
    arrived first — a desk PC that was offline syncs its contact after another PC's reply)."""
    day = at.astimezone(ctx.tz).date()
    replied = _first_after(ctx, doc["ticket_id"], "replied", at)
    ctx.conn.execute(db.ticket_episodes.insert().values(
        ticket_id=doc["ticket_id"], type=doc["type"], started_at=at, day=day.isoformat(),
        week=_week(day).isoformat(), replied_at=replied,
        first_reply_s=int((replied - at).total_seconds()) if replied is not None else None))


def _episodes(ctx: Ctx, ticket_id: str) -> Sequence[Any]:
    ep = db.ticket_episodes.c
    return ctx.conn.execute(select(ep.id, ep.started_at, ep.replied_at, ep.closed_at)
                            .where(ep.ticket_id == ticket_id).order_by(ep.started_at)).all()


def _refresh(ctx: Ctx, doc: dict[str, Any]) -> None:
    """Recompute what waits and the SLA deadlines from the episodes; bump the version; queue the feed row."""
    rule = ctx.rules.rule(doc["type"])
    waiting = [as_utc(r.started_at) for r in _episodes(ctx, doc["ticket_id"])
               if r.replied_at is None and r.closed_at is None]
    doc["waiting_since"] = iso(min(waiting)) if waiting and doc["status"] == "open" else None
    if doc["status"] == "closed":
        doc["reply_due_at"] = doc["close_due_at"] = doc["due_at"] = None
    else:
        since = parse_iso(doc["waiting_since"])
        reply_due = since + rule.reply if since is not None else None
        clock_from = parse_iso(doc["clock_from"])
        assert clock_from is not None
        close_due = clock_from + rule.close
        doc["reply_due_at"] = iso(reply_due)
        doc["close_due_at"] = iso(close_due)
        doc["due_at"] = iso(min(d for d in (reply_due, close_due) if d is not None))
    doc["version"] = int(doc["version"]) + 1
    doc["updated_at"] = iso(ctx.now)


def _save(ctx: Ctx, doc: dict[str, Any], *, new: bool) -> None:
    values = {"order_id": doc["order_id"], "type": doc["type"], "status": doc["status"], "source": doc["source"],
              "vip": bool(doc["vip"]), "assignee": doc["assignee"], "opened_at": parse_iso(doc["opened_at"]),
              "due_at": parse_iso(doc["due_at"]), "closed_at": parse_iso(doc["closed_at"]),
              "version": doc["version"], "updated_at": ctx.now, "doc": doc}
    t = db.tickets.c
    due = values["due_at"]
    if new:
        ctx.conn.execute(db.tickets.insert().values(ticket_id=doc["ticket_id"], sla_watch_at=due, **values))
    else:
        # arm the SLA watcher for this deadline unless it was told already (a change that left it where it was)
        watch = case((t.sla_notified_due == literal(due, t.due_at.type), None), else_=literal(due, t.due_at.type))
        ctx.conn.execute(update(db.tickets).where(t.ticket_id == doc["ticket_id"]).values(sla_watch_at=watch, **values))
    ctx.changed.append(copy.deepcopy(doc))


def _contact(ctx: Ctx, doc: dict[str, Any], channel: str, text: str, at: datetime) -> None:
    if doc["status"] == "closed":  # the customer came back: the matter is open again
        _reopen(ctx, doc, "客户再次联系 / the customer contacted us again")
    _event(ctx, doc, "contact", at, channel=channel, text=text)
    doc["contacts"] = int(doc["contacts"]) + 1
    last = parse_iso(doc["last_contact_at"])
    doc["last_contact_at"] = iso(max(at, last) if last else at)
    ep = db.ticket_episodes.c
    waiting = ctx.conn.execute(select(func.count()).where(
        ep.ticket_id == doc["ticket_id"], ep.replied_at.is_(None), ep.closed_at.is_(None),
        ep.started_at <= at)).scalar_one()
    if not waiting:
        _start_episode(ctx, doc, at)


def _assign(ctx: Ctx, doc: dict[str, Any], assignee: str | None, how: str) -> None:
    doc["assignee"] = assignee
    _event(ctx, doc, "assigned", ctx.now, text=assignee or "", details={"rule": how})


def _reopen(ctx: Ctx, doc: dict[str, Any], reason: str) -> None:
    last_close = parse_iso(doc["closed_at"])
    ep = db.ticket_episodes.c
    if last_close is not None:  # that close did not settle it: its episodes wait for the next one
        ctx.conn.execute(update(db.ticket_episodes).where(ep.ticket_id == doc["ticket_id"], ep.closed_at == last_close)
                         .values(closed_at=None, closed_s=None))
    doc.update(status="open", closed_at=None, closed_by=None, resolution=None, reopened=int(doc["reopened"]) + 1,
               clock_from=iso(ctx.now))
    _event(ctx, doc, "reopened", ctx.now, text=reason)


def _reply(ctx: Ctx, doc: dict[str, Any], channel: str, text: str, at: datetime) -> None:
    _event(ctx, doc, "replied", at, channel=channel, text=text)
    doc["replies"] = int(doc.get("replies") or 0) + 1
    first, last = parse_iso(doc["first_reply_at"]), parse_iso(doc["last_reply_at"])
    doc["first_reply_at"] = iso(min(at, first) if first else at)
    doc["last_reply_at"] = iso(max(at, last) if last else at)
    for r in _episodes(ctx, doc["ticket_id"]):
        start = as_utc(r.started_at)
        if r.replied_at is None and r.closed_at is None and start <= at:
            ctx.conn.execute(update(db.ticket_episodes).where(db.ticket_episodes.c.id == r.id).values(
                replied_at=at, first_reply_s=int((at - start).total_seconds())))


def _close(ctx: Ctx, doc: dict[str, Any], resolution: str) -> None:
    if doc["status"] == "closed":
        raise IllegalTransition(f"Ticket {doc['ticket_id']} is already closed ({doc['resolution']}).",
                                details={"ticket_id": doc["ticket_id"], "status": "closed"})
    at = ctx.now
    for r in _episodes(ctx, doc["ticket_id"]):
        start = as_utc(r.started_at)
        if r.closed_at is None and start <= at:
            ctx.conn.execute(update(db.ticket_episodes).where(db.ticket_episodes.c.id == r.id).values(
                closed_at=at, closed_s=int((at - start).total_seconds())))
    doc.update(status="closed", closed_at=iso(at), closed_by=ctx.who, resolution=resolution)
    _event(ctx, doc, "closed", at, text=resolution)


def open_ticket(ctx: Ctx, order: dict[str, Any], ticket_id: str, ticket_type: str, *, source: str,
                channel: str | None, text: str = "", at: datetime | None = None) -> dict[str, Any]:
    """A new ticket on ``order``; with ``channel`` it starts with that customer contact at ``at``.

    Raises:
        TicketExists: ``ticket_id`` is taken.
    """
    if load(ctx.conn, ticket_id) is not None:
        raise TicketExists(f"Ticket {ticket_id} exists already.", details={"ticket_id": ticket_id})
    opened = at or ctx.now
    doc = _new_doc(ctx, ticket_id, order, ticket_type, source, opened)
    _event(ctx, doc, "opened", ctx.now, text=text if channel is None else "",
           details={"source": source, "type": ticket_type})
    if channel is not None:
        _contact(ctx, doc, channel, text, opened)
    assignee, how = pick_assignee(ctx.conn, ctx.rules, ticket_type, bool(doc["vip"]), ctx.now)
    _assign(ctx, doc, assignee, how)
    _refresh(ctx, doc)
    _save(ctx, doc, new=True)
    return doc


def auto_open(w: Writer, rules: TicketRules, tz: str, order: dict[str, Any], ticket_type: str, source: str,
              text: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ticket the hub opens from an event (a failed delivery …), or a note on the open one.

    Not a customer contact: no episode starts, so the touchpoint metric does not count it until
    the customer is in touch (docs/tickets.md). One open ticket per order and type: a second event
    of the same kind is added to it as a ``note``.
    """
    if source not in AUTO_SOURCES:
        raise ValueError(f"unknown ticket source {source!r}")
    ctx = Ctx(w, rules, tz)
    t = db.tickets.c
    found = w.conn.execute(select(t.ticket_id).where(t.order_id == order["order_id"], t.type == ticket_type,
                                                     t.status == "open").order_by(t.opened_at).limit(1)).first()
    if found is not None:
        doc = load(w.conn, found[0], for_update=True)
        assert doc is not None
        _event(ctx, doc, "note", ctx.now, text=text, details={"source": source, **(details or {})})
        _refresh(ctx, doc)
        _save(ctx, doc, new=False)
    else:
        doc = open_ticket(ctx, order, "T" + uuid.uuid4().hex[:20], ticket_type, source=source, channel=None,
                          text=text)
    ctx.publish()
    return doc


# -- actions (POST /api/v1/actions) -------------------------------------------------------------------

def _when(ctx: Ctx, payload: dict[str, Any], done_at: Any) -> datetime:
    """The time an action says it happened: ``at``, else the action's ``done_at``, else now."""
    raw = payload.get("at") or done_at
    try:
        at = parse_iso(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if raw is not None and at is None:
        raise BadPayload(f"'at' {str(raw)[:40]!r} is not an ISO 8601 time (e.g. 2026-11-25T08:00:00Z).",
                         details={"field": "at"})
    at = at or ctx.now
    if at > ctx.now + CLOCK_SLACK:
        raise BadPayload(f"'at' {iso(at)} is in the future (the hub's time is {iso(ctx.now)}); check this PC's clock.",
                         details={"field": "at"})
    return at


def apply_action(ctx: Ctx, actor: Actor, a: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """Apply one ticket action; returns the ticket's new document.

    Raises:
        core.errors.UserError: ``forbidden``, ``bad_payload``, ``unknown_ticket``, ``ticket_exists``,
            ``illegal_transition``; nothing is written then (the caller's savepoint).
    """
    kind = a["type"]
    spec = TICKET_ACTIONS[kind]
    if not Role(actor.role).at_least(spec.role):
        raise Forbidden(f"A {actor.role} may not do '{kind}'; it needs {spec.role.value} or above.")
    p = a.get("payload") or {}
    check_ticket_payload(kind, p)
    tid = p["ticket_id"]
    if kind == "ticket_opened":
        return open_ticket(ctx, order, tid, p["type"], source=p["channel"], channel=p["channel"],
                           text=p.get("text") or "", at=_when(ctx, p, a.get("done_at")))
    doc = load(ctx.conn, tid, for_update=True)
    if doc is None or doc["order_id"] != order["order_id"]:
        raise UnknownTicket(f"No ticket {tid} on order {order['order_id']}.", details={"ticket_id": tid})
    if kind == "ticket_contact":
        _contact(ctx, doc, p["channel"], p.get("text") or "", _when(ctx, p, a.get("done_at")))
    elif kind == "ticket_replied":
        _reply(ctx, doc, p["channel"], p["text"], _when(ctx, p, a.get("done_at")))
    elif kind == "ticket_assigned":
        op = db.operators.c
        row = ctx.conn.execute(select(op.role).where(op.code == p["assignee"], op.active.is_(True))).first()
        if row is None or not Role(row[0]).at_least(Role.DESK):
            raise BadPayload(f"'assignee' {p['assignee'][:32]!r} is not an active desk operator.",
                             details={"field": "assignee"})
        _assign(ctx, doc, p["assignee"], "by_hand")
    elif kind == "ticket_closed":
        _close(ctx, doc, p["resolution"])
    elif kind == "ticket_reopened":
        if doc["status"] != "closed":
            raise IllegalTransition(f"Ticket {tid} is open; only a closed ticket can be reopened.",
                                    details={"ticket_id": tid, "status": doc["status"]})
        _reopen(ctx, doc, p["reason"])
    _refresh(ctx, doc)
    _save(ctx, doc, new=False)
    return doc


def answer(w: Writer, rules: TicketRules, tz: str, actor: Actor, a: dict[str, Any], order: dict[str, Any],
           reply: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """:func:`apply_action` as an action answer (``reply`` is ``hub.actions._answer``), in a savepoint."""
    ctx = Ctx(w, rules, tz, a["action_id"])
    savepoint = w.conn.begin_nested()
    try:
        doc = apply_action(ctx, actor, a, order)
    except UserError as exc:
        savepoint.rollback()
        res = reply(a, "rejected", order, exc.code, exc.message)
        res["ticket"] = load(w.conn, str((a.get("payload") or {}).get("ticket_id") or ""))
        return res
    savepoint.commit()
    ctx.publish()
    res = reply(a, "applied", order)
    res["ticket"] = doc
    return res


# -- the SLA watcher's reads and marks (hub/sla_watch.py) ---------------------------------------------

def sla_passed(conn: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Open tickets whose armed deadline (``sla_watch_at``) is at or before ``now``, oldest first.

    Index-backed (``ix_tickets_sla_watch``): only the deadlines not yet told are in range, however
    many tickets are overdue. On PostgreSQL the rows are locked and rows another hub process holds are
    skipped, so two hubs sweeping at once take different tickets.
    """
    t = db.tickets.c
    stmt = (select(t.ticket_id, t.sla_watch_at, t.doc).where(t.sla_watch_at <= now)
            .order_by(t.sla_watch_at).limit(limit))
    if db.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    return [{"ticket_id": r.ticket_id, "due": as_utc(r.sla_watch_at), "doc": dict(r.doc)} for r in conn.execute(stmt)]


def sla_any_passed(conn: Connection, now: datetime) -> bool:
    """Whether any armed deadline has passed (a read, no lock: the idle check before a write transaction)."""
    t = db.tickets.c
    return conn.execute(select(t.ticket_id).where(t.sla_watch_at <= now).limit(1)).first() is not None


def sla_told(conn: Connection, ticket_id: str, due: datetime) -> None:
    """``due`` has been told (or was not worth telling): disarm until the ticket gets another deadline."""
    t = db.tickets.c
    conn.execute(update(db.tickets).where(t.ticket_id == ticket_id)
                 .values(sla_watch_at=None, sla_notified_due=due))


def open_count(conn: Connection, order_id: str) -> int:
    t = db.tickets.c
    return int(conn.execute(select(func.count()).where(t.order_id == order_id, t.status == "open")).scalar_one())

