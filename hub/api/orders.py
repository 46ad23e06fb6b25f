"""Reading orders: one order, its audit trail, its hold options, the search, the day's figures.

A packer sees only the orders of the bench the token is for (:func:`visible_doc`: another bench's
order is a 403, an unknown one a 404 ``unknown_order``); desk and above see every order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.phones import is_phone_needle, phone_digits, tail_matches
from core.roles import Role
from core.timeutil import as_utc, iso, local_day, utcnow
from hub import auth, db, stock
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute
from hub.benches import known_benches
from hub.options import playbook_options
from hub.orders import load_docs
from hub.writer import Actor

router = APIRouter(route_class=BoundedRoute)


def visible_doc(c: Connection, actor: Actor, order_id: str) -> dict[str, Any]:
    """The stored order as a caller sees it (no private keys), if ``actor`` may see it.

    Raises:
        UserError: ``unknown_order`` (404).
        auth.Forbidden: a packer asking for another bench's order (403).
    """
    docs = load_docs(c, [order_id.strip().upper()])
    if not docs:
        raise UserError(f"No order {order_id} at the hub.", code="unknown_order")
    doc = next(iter(docs.values()))
    if actor.role == Role.PACKER.value and doc.get("bench") != actor.bench:
        # The bench in the details lets the bench PC say where the parcel goes (core/queue_scan.py).
        raise auth.Forbidden(f"Order {doc['order_id']} belongs to bench {doc.get('bench')}, not {actor.bench}.",
                             details={"bench": doc.get("bench")})
    return {k: v for k, v in doc.items() if not k.startswith("_")}


@router.get("/api/v1/orders/{order_id}")
def get_order(hub: HubDep, request: Request, order_id: str) -> dict[str, Any]:
    return hub.read(lambda c: visible_doc(c, hub.actor(c, request), order_id))


@router.get("/api/v1/orders/{order_id}/audit")
def get_audit(hub: HubDep, request: Request, order_id: str) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        doc = visible_doc(c, hub.actor(c, request), order_id)
        a = db.audit.c
        rows = c.execute(select(db.audit).where(a.order_id == doc["order_id"]).order_by(a.id)).all()
        return {"order_id": doc["order_id"], "entries": [
            {"at": iso(as_utc(r.at)), "operator": r.operator, "station": r.station, "what": r.what,
             "from_state": r.from_state, "to_state": r.to_state, "why": r.why, "action_id": r.action_id,
             "details": r.details} for r in rows]}
    return hub.read(run)


@router.get("/api/v1/orders/{order_id}/options")
def get_options(hub: HubDep, request: Request, order_id: str) -> dict[str, Any]:
    """What a hold dialog may offer for this order (docs/api.md "Hold options"): the hub's rules, not the desk's."""
    def run(c: Connection) -> dict[str, Any]:
        doc = visible_doc(c, hub.actor(c, request), order_id)
        return {"order_id": doc["order_id"], "options": playbook_options(
            hub.rules, doc, stock.gift_levels(c, hub.rules, doc.get("warehouse"))).to_wire()}
    return hub.read(run)


@router.get("/api/v1/benches")
def get_benches(hub: HubDep, request: Request) -> dict[str, Any]:
    """The benches the hub knows, with warehouse and open orders: the desk's "move to bench" picker (desk+)."""
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.DESK)
        return {"benches": known_benches(c, hub.rules)}
    return hub.read(run)


def _found_besides_phone(doc: dict[str, Any], q: str) -> bool:
    """Whether a search text matches an order by anything but its phone (the SQL's other branches)."""
    name = str((doc.get("recipient") or {}).get("name") or "")
    return q.upper() == doc.get("order_id") or q in (doc.get("channel_order_no"), doc.get("waybill_no")) \
        or name.startswith(q)


@router.get("/api/v1/orders")
def search(hub: HubDep, request: Request, q: str = Query("", max_length=64),
           state: str | None = Query(None, max_length=20), bench: str | None = Query(None, max_length=32),
           limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor = hub.actor(c, request)
        o = db.orders.c
        stmt = select(o.doc)
        text_q = q.strip()
        if text_q:
            # A name prefix: %, _ and the escape character itself match only themselves.
            prefix = text_q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            match = [o.order_id == text_q.upper(), o.channel_order_no == text_q, o.waybill_no == text_q,
                     o.recipient_name.like(prefix + "%", escape="\\")]
            if is_phone_needle(text_q):  # a phone by its tail (core/phones.py, as the bench searches)
                match.append(o.phone_tail == text_q[-4:])
            stmt = stmt.where(or_(*match))
        if state:
            stmt = stmt.where(o.state == state)
        if actor.role == Role.PACKER.value:
            stmt = stmt.where(o.bench == actor.bench)
        elif bench:
            stmt = stmt.where(o.bench == bench)
        docs = [r[0] for r in c.execute(stmt.order_by(o.created_at.desc()).limit(limit))]
        if is_phone_needle(text_q) and len(text_q) > 4:  # the index holds 4 digits: the rest of the tail here
            docs = [d for d in docs if _found_besides_phone(d, text_q) or tail_matches(
                phone_digits(str((d.get("recipient") or {}).get("phone") or "")), text_q)]
        return {"orders": docs}
    return hub.read(run)


@router.get("/api/v1/metrics/summary")
def metrics(hub: HubDep, request: Request) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        auth.require(hub.actor(c, request), Role.SUPERVISOR)
        tz = ZoneInfo(hub.settings.timezone)
        o = db.orders.c
        by_state = {s: n for s, n in c.execute(select(o.state, func.count()).group_by(o.state))}
        holds: dict[str, int] = {}
        for (doc,) in c.execute(select(o.doc).where(o.held.is_(True))):
            for h in doc.get("holds", []):
                holds[h["type"]] = holds.get(h["type"], 0) + 1
        day = local_day(utcnow(), hub.settings.timezone)
        # As UTC: SQLite drops a zone from the bound value and would compare local wall-clock time.
        start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
        a = db.audit.c
        per_hour: dict[str, int] = {}
        for (at,) in c.execute(select(a.at).where(a.what.in_(["shipped_by_station", "picked_up_by_carrier"]),
                                                  a.at >= start)):
            hour = as_utc(at).astimezone(tz).strftime("%H:00")
            per_hour[hour] = per_hour.get(hour, 0) + 1
        return {"by_state": by_state, "open_holds": holds, "shipped_per_hour": dict(sorted(per_hour.items()))}
    return hub.read(run)
