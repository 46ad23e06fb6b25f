"""The outbound e-waybill queue: the one door to ``waybill_queue`` (pattern of hub/channels/queues.py;
the lease machinery is hub/outqueue.py's, shared with the notification queue).

Rows are written in the transaction that allocates or voids an order (:func:`enqueue_fetch`,
:func:`enqueue_cancel`) and drained by :class:`hub.carriers.worker.WaybillWorker`: a row is claimed
by pushing its ``next_attempt_at`` out by a lease (a process that dies mid-call leaves it to be
taken again after the lease; PostgreSQL's ``SKIP LOCKED`` keeps two hubs from claiming one row),
then finished or rescheduled with back-off. Rows are never deleted: a done row is the record of
which number the provider gave for which order code, and of each number given back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from core.timeutil import as_utc, iso
from hub import db, outqueue

Q = db.waybill_queue.c
FETCH = "fetch"
CANCEL = "cancel"

_PENDING = outqueue.pending(db.waybill_queue)


def _insert_ignore(conn: Connection, row: dict[str, Any]) -> bool:
    dialect = postgresql if db.is_postgres(conn) else sqlite
    res = conn.execute(dialect.insert(db.waybill_queue).on_conflict_do_nothing(), [row])
    return bool(res.rowcount)


def enqueue_fetch(conn: Connection, order_id: str, carrier: str, account_id: int, now: datetime) -> str:
    """Queue a fetch of the order's waybill; returns the order code the provider will be sent.

    The first fetch of an order sends the order ID; after N-1 earlier fetches (a void, another
    carrier) it is ``<order ID>-N``, so the provider, which dedupes by order code, gives a new
    number. An earlier fetch still waiting is superseded (its answer, if one comes, is given back).
    """
    n = conn.execute(select(func.count()).select_from(db.waybill_queue)
                     .where(Q.order_id == order_id, Q.op == FETCH)).scalar_one()
    supersede_fetches(conn, order_id, now)
    code = order_id if n == 0 else f"{order_id}-{n + 1}"
    _insert_ignore(conn, {"op": FETCH, "dedupe_key": f"{FETCH}:{code}", "order_id": order_id, "order_code": code,
                          "carrier": carrier, "account_id": account_id, "attempts": 0, "next_attempt_at": now,
                          "created_at": now})
    return code


def supersede_fetches(conn: Connection, order_id: str, now: datetime) -> None:
    conn.execute(update(db.waybill_queue).where(Q.order_id == order_id, Q.op == FETCH, _PENDING)
                 .values(done_at=now, outcome="superseded"))


def has_fetch(conn: Connection, order_id: str) -> bool:
    """Whether a provider was (or is being) asked for this order's waybill (False: demo numbers)."""
    return conn.execute(select(Q.id).where(Q.order_id == order_id, Q.op == FETCH).limit(1)).first() is not None


def issued(conn: Connection, order_id: str, waybill: str) -> Row[Any] | None:
    """The fetch row that got ``waybill`` for the order (None: a demo number, or not ours)."""
    return conn.execute(select(db.waybill_queue).where(Q.order_id == order_id, Q.op == FETCH, Q.waybill == waybill)
                        .order_by(Q.id.desc()).limit(1)).first()


def enqueue_cancel(conn: Connection, fetch_row: Row[Any], now: datetime) -> bool:
    """Queue giving back the number ``fetch_row`` got (once per carrier and number)."""
    return _insert_ignore(conn, {
        "op": CANCEL, "dedupe_key": f"{CANCEL}:{fetch_row.carrier}:{fetch_row.waybill}"[:80],
        "order_id": fetch_row.order_id, "order_code": fetch_row.order_code, "carrier": fetch_row.carrier,
        "account_id": fetch_row.account_id, "waybill": fetch_row.waybill, "attempts": 0, "next_attempt_at": now,
        "created_at": now})


def anything_due(conn: Connection, now: datetime) -> bool:
    return outqueue.anything_due(conn, db.waybill_queue, now)


def next_due_in(conn: Connection, now: datetime) -> float | None:
    return outqueue.next_due_in(conn, db.waybill_queue, now)


def claim(conn: Connection, now: datetime, lease_s: float, limit: int = 20) -> list[Row[Any]]:
    """Take up to ``limit`` due rows by pushing their ``next_attempt_at`` out by the lease."""
    return outqueue.claim(conn, db.waybill_queue, now, lease_s, limit)


def is_pending(conn: Connection, row_id: int) -> bool:
    """Whether the row still waits (not superseded, done or refused meanwhile); locks it on PostgreSQL."""
    stmt = select(Q.id).where(Q.id == row_id, _PENDING)
    if db.is_postgres(conn):
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first() is not None


def done(conn: Connection, row_id: int, now: datetime, outcome: str, *, waybill: str | None = None) -> None:
    values: dict[str, Any] = {"done_at": now, "outcome": outcome, "attempts": Q.attempts + 1, "last_error": None}
    if waybill is not None:
        values["waybill"] = waybill
    conn.execute(update(db.waybill_queue).where(Q.id == row_id).values(**values))


def refused(conn: Connection, row_id: int, now: datetime, words: str, outcome: str = "refused") -> None:
    outqueue.refused(conn, db.waybill_queue, row_id, now, words, outcome)


def retry(conn: Connection, row_id: int, error: str, next_at: datetime) -> None:
    outqueue.retry(conn, db.waybill_queue, row_id, error, next_at)


def waiting(conn: Connection) -> dict[str, dict[str, int]]:
    """Per carrier: orders still waiting for their waybill (the pool's low-water figure: benches
    can print offline only what has arrived) and numbers still to be given back."""
    out: dict[str, dict[str, int]] = {}
    for carrier, op, n in conn.execute(select(Q.carrier, Q.op, func.count()).where(_PENDING)
                                       .group_by(Q.carrier, Q.op)):
        out.setdefault(carrier, {"awaiting_waybill": 0, "cancels_pending": 0})
        out[carrier]["awaiting_waybill" if op == FETCH else "cancels_pending"] = int(n)
    return out


def rows_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """An order's queue rows, oldest first (for the order's detail and the tests)."""
    rows = conn.execute(select(db.waybill_queue).where(Q.order_id == order_id).order_by(Q.id))
    return [{"id": r.id, "op": r.op, "order_code": r.order_code, "carrier": r.carrier, "waybill": r.waybill,
             "attempts": r.attempts, "done_at": iso(as_utc(r.done_at)) if r.done_at else None,
             "refused_at": iso(as_utc(r.refused_at)) if r.refused_at else None, "outcome": r.outcome,
             "last_error": r.last_error} for r in rows]
