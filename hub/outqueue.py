"""The leased outbound queue, once: claim due rows, finish, refuse or reschedule them.

Every outbound queue of the hub whose rows carry ``attempts``, ``next_attempt_at``, ``done_at``,
``refused_at``, ``outcome`` and ``last_error`` (``waybill_queue``: hub/carriers/queue.py,
``notify_queue``: hub/notify/queue.py) is drained the same way: a row is claimed by pushing its
``next_attempt_at`` out by a lease in a short transaction (PostgreSQL's ``SKIP LOCKED`` keeps two
hubs from claiming one row), the partner is called outside any transaction, and the outcome is
written in another. A process that dies mid-call leaves the row to be taken again after the lease:
delivery is at least once. Each queue module stays the one door to its table; it calls these with
its own table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from core.timeutil import as_utc
from hub import db


def pending(table: Table) -> ColumnElement[bool]:
    """Rows still to be sent: neither done nor refused."""
    return and_(table.c.done_at.is_(None), table.c.refused_at.is_(None))


def claim(conn: Connection, table: Table, now: datetime, lease_s: float, limit: int = 20) -> list[Row[Any]]:
    """Take up to ``limit`` due rows (oldest first) by pushing their ``next_attempt_at`` out by the lease."""
    q = table.c
    stmt = select(table).where(pending(table), q.next_attempt_at <= now).order_by(q.id).limit(limit)
    if db.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(conn.execute(stmt))
    if rows:
        conn.execute(update(table).where(q.id.in_([r.id for r in rows]))
                     .values(next_attempt_at=now + timedelta(seconds=lease_s)))
    return rows


def anything_due(conn: Connection, table: Table, now: datetime) -> bool:
    q = table.c
    return conn.execute(select(q.id).where(pending(table), q.next_attempt_at <= now).limit(1)).first() is not None


def next_due_in(conn: Connection, table: Table, now: datetime) -> float | None:
    """Seconds until the next pending row is due (0 if one is due now), None when nothing waits."""
    row = conn.execute(select(func.min(table.c.next_attempt_at)).where(pending(table))).scalar()
    if row is None:
        return None
    return max(0.0, (as_utc(row) - now).total_seconds())


def done(conn: Connection, table: Table, row_id: int, now: datetime, outcome: str, **values: Any) -> None:
    """The row's work is finished (``outcome`` says how); ``values`` sets columns of the queue's own."""
    conn.execute(update(table).where(table.c.id == row_id).values(
        done_at=now, outcome=outcome, attempts=table.c.attempts + 1, last_error=None, **values))


def refused(conn: Connection, table: Table, row_id: int, now: datetime, words: str, outcome: str = "refused") -> None:
    """The partner said no (or the row can never be sent): kept with the words, never retried."""
    conn.execute(update(table).where(table.c.id == row_id).values(
        refused_at=now, outcome=outcome, attempts=table.c.attempts + 1, last_error=words[:1000]))


def retry(conn: Connection, table: Table, row_id: int, error: str, next_at: datetime, *, count: bool = True) -> None:
    """Try again at ``next_at``; ``count=False`` reschedules without counting an attempt (nothing was sent)."""
    values: dict[str, Any] = {"last_error": error[:1000], "next_attempt_at": next_at}
    if count:
        values["attempts"] = table.c.attempts + 1
    conn.execute(update(table).where(table.c.id == row_id).values(**values))
