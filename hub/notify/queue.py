"""The one door to ``notify_queue`` (docs/notifications.md); the lease machinery is hub/outqueue.py's.

Rows are written by :mod:`hub.notify.dispatch` in the transaction of the change that caused them
and drained by :class:`hub.notify.worker.NotifyWorker`. Each row has a ``dedupe_key``: the same
event for the same order (or ticket) and the same robot or template is queued once, however often
the change is replayed. Rows are kept: a done row is the record of what was sent, refused or
skipped and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from core.timeutil import as_utc, iso
from hub import db, outqueue

T = db.notify_queue
Q = T.c
WECOM = "wecom"
SMS = "sms"
LEASE_S = 60.0


def enqueue(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    """Queue ``rows`` (``dedupe_key``, ``channel``, ``target``, ``event``, ``order_id``, ``body`` and,
    for a row to send later, ``next_attempt_at``); a key already queued is left alone. Returns how many
    were new."""
    if not rows:
        return 0
    dialect = postgresql if db.is_postgres(conn) else sqlite
    full = [{"attempts": 0, "created_at": now, "next_attempt_at": now, "order_id": None, **r} for r in rows]
    res = conn.execute(dialect.insert(T).on_conflict_do_nothing(index_elements=["dedupe_key"]), full)
    return int(res.rowcount or 0)


def skipped(conn: Connection, rows: list[dict[str, Any]], now: datetime, reason: str) -> None:
    """Record rows that can never be sent (an encrypted buyer phone), with the reason, as refused."""
    for r in rows:
        enqueue(conn, [{**r, "refused_at": now, "outcome": "skipped", "last_error": reason[:1000]}], now)


def claim(conn: Connection, now: datetime, limit: int = 20) -> list[Row[Any]]:
    return outqueue.claim(conn, T, now, LEASE_S, limit)


def anything_due(conn: Connection, now: datetime) -> bool:
    return outqueue.anything_due(conn, T, now)


def next_due_in(conn: Connection, now: datetime) -> float | None:
    return outqueue.next_due_in(conn, T, now)


def is_pending(conn: Connection, row_id: int) -> bool:
    return conn.execute(select(Q.id).where(Q.id == row_id, outqueue.pending(T))).first() is not None


def done(conn: Connection, row_id: int, now: datetime, outcome: str = "sent") -> None:
    outqueue.done(conn, T, row_id, now, outcome)


def refused(conn: Connection, row_id: int, now: datetime, words: str, outcome: str = "refused") -> None:
    outqueue.refused(conn, T, row_id, now, words, outcome)


def retry(conn: Connection, row_id: int, error: str, next_at: datetime, *, count: bool = True) -> None:
    outqueue.retry(conn, T, row_id, error, next_at, count=count)


def health(conn: Connection, now: datetime) -> dict[str, dict[str, Any]]:
    """Per ``channel:target``: rows due now, rows waiting for later (a VIP order's ship-by), rows refused
    or skipped, and the last error of a row still pending (words without secrets or phone numbers)."""
    out: dict[str, dict[str, Any]] = {}

    def slot(channel: str, target: str) -> dict[str, Any]:
        return out.setdefault(f"{channel}:{target}", {"due": 0, "later": 0, "sent": 0, "refused": 0, "last_error": None})

    pending = outqueue.pending(T)
    for name, when in (("due", Q.next_attempt_at <= now), ("later", Q.next_attempt_at > now)):
        for channel, target, n in conn.execute(select(Q.channel, Q.target, func.count()).where(pending, when)
                                               .group_by(Q.channel, Q.target)):
            slot(channel, target)[name] += int(n)
    for channel, target, n in conn.execute(select(Q.channel, Q.target, func.count()).where(Q.done_at.is_not(None))
                                           .group_by(Q.channel, Q.target)):
        slot(channel, target)["sent"] += int(n)
    for channel, target, n in conn.execute(select(Q.channel, Q.target, func.count()).where(Q.refused_at.is_not(None))
                                           .group_by(Q.channel, Q.target)):
        slot(channel, target)["refused"] += int(n)
    for channel, target, err in conn.execute(select(Q.channel, Q.target, Q.last_error)
                                             .where(pending, Q.last_error.is_not(None)).order_by(Q.id)):
        slot(channel, target)["last_error"] = err
    return out


def rows_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """An order's notification rows, oldest first (phones masked: this may be shown)."""
    from hub.notify.sms import mask_phone

    out = []
    for r in conn.execute(select(T).where(Q.order_id == order_id).order_by(Q.id)):
        body = dict(r.body)
        if "phone" in body:
            body["phone"] = mask_phone(str(body["phone"]))
        out.append({"id": r.id, "channel": r.channel, "target": r.target, "event": r.event, "body": body,
                    "attempts": r.attempts, "outcome": r.outcome, "last_error": r.last_error,
                    "done_at": iso(as_utc(r.done_at)) if r.done_at else None,
                    "refused_at": iso(as_utc(r.refused_at)) if r.refused_at else None})
    return out
