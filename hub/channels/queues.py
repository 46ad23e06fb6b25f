"""The push inbox and the ship write-back queue: the one door to ``channel_inbox`` and ``ship_queue``.

Both are persisted work lists the engine drains with retries: a row is claimed by pushing its
``next_attempt_at`` out by a lease (a process that dies mid-work leaves it to be taken again after
the lease), then finished or rescheduled with back-off. Rows are never deleted by the engine: a
done row is the record of what was received or sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from core.model import intake_to_json
from core.timeutil import iso
from hub import db
from hub.channels.base import PushMessage

IN = db.channel_inbox.c
S = db.ship_queue.c


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those a unique constraint already holds; returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if db.is_postgres(conn) else sqlite
    res = conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)
    return max(0, res.rowcount or 0)


def msg_key(m: PushMessage) -> str:
    """The message's own id, or (a platform that sends none) a digest of what it says: the same
    message delivered twice is stored once."""
    if m.msg_id:
        return m.msg_id[:128]
    what = {"no": m.channel_order_no, "status": m.status.value if m.status else None, "at": iso(m.updated_at),
            "order": intake_to_json(m.order) if m.order else None}
    return "sha1:" + hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def store_push(conn: Connection, platform: str, messages: Iterable[tuple[int, PushMessage]], now: datetime) -> int:
    """Store a verified push's messages (connector id, message); returns how many were new."""
    rows = []
    for connector_id, m in messages:
        rows.append({
            "platform": platform, "msg_key": msg_key(m), "connector_id": connector_id,
            "channel_order_no": m.channel_order_no[:64], "status": m.status.value if m.status else None,
            "channel_updated_at": m.updated_at, "order_json": intake_to_json(m.order) if m.order else None,
            "received_at": now, "attempts": 0, "next_attempt_at": now,
        })
    return _insert_ignore(conn, db.channel_inbox, rows)


def anything_due(conn: Connection, now: datetime) -> tuple[bool, bool]:
    """Whether any inbox row / any shipment is due (a cheap read before claiming in a write)."""
    inbox = conn.execute(select(IN.id).where(IN.applied_at.is_(None), IN.next_attempt_at <= now).limit(1)).first()
    ship = conn.execute(select(S.id).where(S.sent_at.is_(None), S.refused_at.is_(None), S.next_attempt_at <= now)
                        .limit(1)).first()
    return inbox is not None, ship is not None


def _claim(conn: Connection, table: Table, due: Any, now: datetime, lease_s: float, limit: int) -> list[Row[Any]]:
    """Take up to ``limit`` due rows by pushing their ``next_attempt_at`` out by the lease."""
    stmt = select(table).where(due).order_by(table.c.id).limit(limit)
    if db.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(conn.execute(stmt))
    if rows:
        conn.execute(update(table).where(table.c.id.in_([r.id for r in rows]))
                     .values(next_attempt_at=now + timedelta(seconds=lease_s)))
    return rows


def claim_inbox(conn: Connection, now: datetime, lease_s: float, limit: int = 200) -> list[Row[Any]]:
    return _claim(conn, db.channel_inbox, and_(IN.applied_at.is_(None), IN.next_attempt_at <= now), now, lease_s,
                  limit)


def inbox_done(conn: Connection, ids: list[int], outcome: str, now: datetime, error: str | None = None) -> None:
    if ids:
        conn.execute(update(db.channel_inbox).where(IN.id.in_(ids))
                     .values(applied_at=now, outcome=outcome, last_error=error))


def inbox_retry(conn: Connection, ids: list[int], error: str, next_at: datetime) -> None:
    if ids:
        conn.execute(update(db.channel_inbox).where(IN.id.in_(ids))
                     .values(attempts=IN.attempts + 1, last_error=error[:1000], next_attempt_at=next_at))


def inbox_waiting(conn: Connection) -> dict[int, int]:
    """Messages not yet applied, per connector (shown in health: a backlog means the API is down)."""
    rows = conn.execute(select(IN.connector_id, func.count()).where(IN.applied_at.is_(None)).group_by(IN.connector_id))
    return {int(c): int(n) for c, n in rows}


# -- ship write-back ---------------------------------------------------------------------------------

def enqueue_ships(conn: Connection, shipped: list[dict[str, Any]], now: datetime) -> int:
    """Queue a write-back for each shipped order that a connector brought in (called by the
    :class:`hub.writer.Writer` in the transaction that shipped them). ``shipped`` items hold
    ``order_id``, ``channel_order_no``, ``carrier``, ``waybill``. Orders with no connector (import,
    generic push) get nothing; the same order and waybill is queued once."""
    co = db.connector_orders.c
    ids = [s["order_id"] for s in shipped]
    by_order = {r.order_id: int(r.connector_id)
                for r in conn.execute(select(co.order_id, co.connector_id).where(co.order_id.in_(ids)))}
    rows = [{"order_id": s["order_id"], "connector_id": by_order[s["order_id"]],
             "channel_order_no": s["channel_order_no"], "carrier": (s["carrier"] or "")[:16],
             "waybill": (s["waybill"] or "")[:40], "shipped_at": now, "attempts": 0, "next_attempt_at": now,
             "created_at": now} for s in shipped if s["order_id"] in by_order]
    return _insert_ignore(conn, db.ship_queue, rows)


def claim_ships(conn: Connection, now: datetime, lease_s: float, limit: int = 50) -> list[Row[Any]]:
    return _claim(conn, db.ship_queue, and_(S.sent_at.is_(None), S.refused_at.is_(None), S.next_attempt_at <= now),
                  now, lease_s, limit)


def ship_sent(conn: Connection, ship_id: int, now: datetime) -> None:
    conn.execute(update(db.ship_queue).where(S.id == ship_id)
                 .values(sent_at=now, attempts=S.attempts + 1, last_error=None))


def ship_refused(conn: Connection, ship_id: int, now: datetime, words: str) -> None:
    conn.execute(update(db.ship_queue).where(S.id == ship_id)
                 .values(refused_at=now, attempts=S.attempts + 1, last_error=words[:1000]))


def ship_retry(conn: Connection, ship_id: int, error: str, next_at: datetime) -> int:
    conn.execute(update(db.ship_queue).where(S.id == ship_id)
                 .values(attempts=S.attempts + 1, last_error=error[:1000], next_attempt_at=next_at))
    row = conn.execute(select(S.attempts).where(S.id == ship_id)).one()
    return int(row[0])


def ships_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """An order's write-back rows (for the order's detail and the tests)."""
    rows = conn.execute(select(db.ship_queue).where(S.order_id == order_id).order_by(S.id))
    return [{"id": r.id, "carrier": r.carrier, "waybill": r.waybill, "attempts": r.attempts,
             "sent_at": iso(r.sent_at), "refused_at": iso(r.refused_at), "last_error": r.last_error}
            for r in rows]


def ships_waiting(conn: Connection) -> dict[int, int]:
    rows = conn.execute(select(S.connector_id, func.count()).where(S.sent_at.is_(None), S.refused_at.is_(None))
                        .group_by(S.connector_id))
    return {int(c): int(n) for c, n in rows}


