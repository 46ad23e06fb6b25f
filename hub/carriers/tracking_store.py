"""The one door to ``tracking_subscriptions``, ``tracking_inbox`` and ``tracking_events``.

Both queues work like the connectors' (:mod:`hub.channels.queues`): a row is claimed by pushing
its ``next_attempt_at`` out by a lease (a process that dies mid-work leaves it to be taken again),
then finished or rescheduled with back-off. Done rows stay: they are the record of what was sent
and received.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from core.timeutil import as_utc, iso
from hub import db
from hub.carriers.kuaidi100 import TrackEvent

SUB = db.tracking_subscriptions.c
IN = db.tracking_inbox.c
EV = db.tracking_events.c


def _iso(dt: datetime | None) -> str | None:
    return iso(as_utc(dt)) if dt is not None else None


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those a unique constraint already holds; returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if db.is_postgres(conn) else sqlite
    res = conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)
    return max(0, res.rowcount or 0)


def _claim(conn: Connection, table: Table, due: Any, now: datetime, lease_s: float, limit: int) -> list[Row[Any]]:
    stmt = select(table).where(due).order_by(table.c.id).limit(limit)
    if db.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(conn.execute(stmt))
    if rows:
        conn.execute(update(table).where(table.c.id.in_([r.id for r in rows]))
                     .values(next_attempt_at=now + timedelta(seconds=lease_s)))
    return rows


# -- subscriptions -----------------------------------------------------------------------------------

def enqueue_subscriptions(conn: Connection, shipped: Iterable[dict[str, Any]], now: datetime, provider: str) -> int:
    """Queue a subscription per shipped order with a waybill (``order_id``, ``carrier``, ``waybill``);
    the same order and waybill is queued once. Called by the Writer in the shipping transaction."""
    rows = [{"order_id": s["order_id"], "carrier": (s.get("carrier") or "")[:16], "waybill": s["waybill"][:40],
             "provider": provider, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for s in shipped if s.get("waybill")]
    return _insert_ignore(conn, db.tracking_subscriptions, rows)


def subscriptions_due(conn: Connection, now: datetime) -> bool:
    row = conn.execute(select(SUB.id).where(SUB.subscribed_at.is_(None), SUB.refused_at.is_(None),
                                            SUB.next_attempt_at <= now).limit(1)).first()
    return row is not None


def claim_subscriptions(conn: Connection, now: datetime, lease_s: float, limit: int = 50) -> list[Row[Any]]:
    return _claim(conn, db.tracking_subscriptions,
                  and_(SUB.subscribed_at.is_(None), SUB.refused_at.is_(None), SUB.next_attempt_at <= now),
                  now, lease_s, limit)


def subscribed(conn: Connection, sub_id: int, now: datetime, note: str | None = None) -> None:
    conn.execute(update(db.tracking_subscriptions).where(SUB.id == sub_id)
                 .values(subscribed_at=now, attempts=SUB.attempts + 1, last_error=note))


def subscription_refused(conn: Connection, sub_id: int, now: datetime, words: str) -> None:
    conn.execute(update(db.tracking_subscriptions).where(SUB.id == sub_id)
                 .values(refused_at=now, attempts=SUB.attempts + 1, last_error=words[:1000]))


def subscription_retry(conn: Connection, sub_id: int, error: str, next_at: datetime) -> None:
    conn.execute(update(db.tracking_subscriptions).where(SUB.id == sub_id)
                 .values(attempts=SUB.attempts + 1, last_error=error[:1000], next_attempt_at=next_at))


def subscriptions_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(db.tracking_subscriptions).where(SUB.order_id == order_id).order_by(SUB.id))
    return [{"id": r.id, "carrier": r.carrier, "waybill": r.waybill, "provider": r.provider,
             "attempts": r.attempts, "subscribed_at": _iso(r.subscribed_at), "refused_at": _iso(r.refused_at),
             "last_error": r.last_error} for r in rows]


# -- inbox --------------------------------------------------------------------------------------------

def msg_key(body: str) -> str:
    """A push's identity: the digest of what it says (a replay of the same push is the same key)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def store_pushes(conn: Connection, pushes: list[dict[str, Any]], now: datetime) -> int:
    """Store verified pushes (``provider``, ``waybill``, ``body`` each); returns how many were new
    (the same push stored before, or twice in this list, is stored once)."""
    rows = {}
    for p in pushes:
        key = msg_key(p["body"])
        rows[(p["provider"], key)] = {"provider": p["provider"], "msg_key": key, "waybill": p["waybill"][:64],
                                      "body": p["body"], "received_at": now, "attempts": 0, "next_attempt_at": now}
    return _insert_ignore(conn, db.tracking_inbox, list(rows.values()))


def inbox_due(conn: Connection, now: datetime) -> bool:
    row = conn.execute(select(IN.id).where(IN.applied_at.is_(None), IN.next_attempt_at <= now).limit(1)).first()
    return row is not None


def claim_inbox(conn: Connection, now: datetime, lease_s: float, limit: int) -> list[Row[Any]]:
    return _claim(conn, db.tracking_inbox, and_(IN.applied_at.is_(None), IN.next_attempt_at <= now), now,
                  lease_s, limit)


def inbox_done(conn: Connection, outcomes: dict[int, str], now: datetime, error: str | None = None) -> None:
    """Mark rows applied, grouped by outcome (``applied``, ``unknown_waybill``, ``unreadable``, …)."""
    by: dict[str, list[int]] = {}
    for rid, outcome in outcomes.items():
        by.setdefault(outcome, []).append(rid)
    for outcome, ids in by.items():
        conn.execute(update(db.tracking_inbox).where(IN.id.in_(ids))
                     .values(applied_at=now, outcome=outcome, last_error=error))


def inbox_retry(conn: Connection, ids: list[int], error: str, next_at: datetime) -> None:
    if ids:
        conn.execute(update(db.tracking_inbox).where(IN.id.in_(ids))
                     .values(attempts=IN.attempts + 1, last_error=error[:1000], next_attempt_at=next_at))


def inbox_counts(conn: Connection) -> dict[str, int]:
    """How many pushes are waiting and how each applied one ended (health, bench, tests)."""
    waiting = conn.execute(select(func.count()).select_from(db.tracking_inbox)
                           .where(IN.applied_at.is_(None))).scalar_one()
    out = {"waiting": int(waiting)}
    for outcome, n in conn.execute(select(IN.outcome, func.count()).where(IN.applied_at.is_not(None))
                                   .group_by(IN.outcome)):
        out[str(outcome)] = int(n)
    return out


# -- events -------------------------------------------------------------------------------------------

def event_key(e: TrackEvent) -> str:
    """An event's identity within its order: its time and its words."""
    return hashlib.sha1(f"{iso(e.at)}|{e.text}".encode()).hexdigest()


def add_events(conn: Connection, batch: Iterable[tuple[str, str, str, Iterable[TrackEvent]]], now: datetime) -> int:
    """Store the events not yet known, for many orders at once: ``(order_id, waybill, provider, events)``
    each. Returns how many were new."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for order_id, waybill, provider, events in batch:
        for e in events:
            key = event_key(e)
            rows[(order_id, key)] = {"order_id": order_id, "waybill": waybill[:40], "event_key": key, "at": e.at,
                                     "place": e.place[:100], "text": e.text, "status": e.status,
                                     "raw_code": e.raw_code[:16], "provider": provider, "received_at": now}
    # in key order: two hub processes inserting overlapping events wait on each other, never deadlock
    return _insert_ignore(conn, db.tracking_events, [rows[k] for k in sorted(rows)])


def events_of(conn: Connection, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each order's events, newest first (ties: the later stored first)."""
    out: dict[str, list[dict[str, Any]]] = {oid: [] for oid in order_ids}
    if not order_ids:
        return out
    rows = conn.execute(select(EV.order_id, EV.at, EV.place, EV.text, EV.status, EV.raw_code)
                        .where(EV.order_id.in_(order_ids)).order_by(EV.order_id, EV.at.desc(), EV.id.desc()))
    for r in rows:
        out[r.order_id].append({"at": iso(as_utc(r.at)), "place": r.place, "text": r.text, "status": r.status,
                                "raw_code": r.raw_code})
    return out


def orders_by_waybill(conn: Connection, waybills: list[str]) -> dict[str, str]:
    """waybill → order ID for the orders that carry these waybills now."""
    o = db.orders.c
    if not waybills:
        return {}
    rows = conn.execute(select(o.waybill_no, o.order_id).where(o.waybill_no.in_(sorted(set(waybills)))))
    return {r.waybill_no: r.order_id for r in rows}
