"""The change feed: cursor reads, long-poll wake-ups, the working-set snapshot and pruning.

A read first takes the head (highest committed seq), then the visible rows up to it. Because seqs
commit in order (``hub.db``), everything at or below the head is committed, so moving the cursor
to the head never skips a change — even when the rows in between were filtered out for a packer.

Wake-ups: commits in this process set an :class:`asyncio.Event`; on PostgreSQL a LISTEN thread
turns other processes' NOTIFYs into the same wake-up. The data always comes from the table; the
wake-up is only a hint, and waiters re-check at least every second anyway.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Connection, Engine

from core.errors import UserError
from core.timeutil import iso, utcnow
from hub import db
from hub.writer import Actor

log = logging.getLogger("packdesk.hub.feed")

MAX_LIMIT = 1000
CLOSED_VISIBLE_FOR = timedelta(hours=48)


class CursorExpired(UserError):
    code = "cursor_expired"


def _visible(actor: Actor) -> Any:
    if actor.role == "packer":
        return or_(db.changes.c.bench == actor.bench, db.changes.c.prev_bench == actor.bench)
    return None


def read_changes(conn: Connection, actor: Actor, cursor: int, limit: int) -> dict[str, Any]:
    pruned = db.read_counter(conn, "changes_pruned")
    if cursor < pruned:
        raise CursorExpired(
            f"Cursor {cursor} is older than the hub keeps (changes up to {pruned} were pruned); do a full re-sync.",
            details={"cursor": cursor, "oldest_cursor": pruned})
    top = head(conn)
    if cursor > top:
        raise UserError(f"Cursor {cursor} is ahead of the hub's head {top}; is this the right hub?",
                        code="bad_cursor", details={"head": top})
    stmt = select(db.changes.c.seq, db.changes.c.order_id, db.changes.c.doc).where(
        db.changes.c.seq > cursor, db.changes.c.seq <= top)
    vis = _visible(actor)
    if vis is not None:
        stmt = stmt.where(vis)
    rows = conn.execute(stmt.order_by(db.changes.c.seq).limit(limit)).all()
    if db.read_counter(conn, "changes_pruned") > cursor:
        # A prune committed between the first check and the read (PostgreSQL reads see each
        # statement's own snapshot): the rows just read may have holes; never serve them.
        return read_changes(conn, actor, cursor, limit)
    more = len(rows) == limit
    next_cursor = rows[-1].seq if more else top
    return {"changes": [{"seq": r.seq, "order_id": r.order_id, "order": r.doc} for r in rows],
            "next_cursor": next_cursor, "more": more}


def head(conn: Connection) -> int:
    """The newest committed seq: the counter commits with its rows, so it never runs ahead of them."""
    return db.read_counter(conn, "changes")


def working_set(conn: Connection, actor: Actor, after: str | None, limit: int) -> dict[str, Any]:
    """One page of the caller's orders: open ones and those closed in the last 48 h."""
    o = db.orders.c
    stmt = select(o.doc).where(or_(o.state != "closed", o.updated_at >= utcnow() - CLOSED_VISIBLE_FOR))
    if actor.role == "packer":
        stmt = stmt.where(o.bench == actor.bench)
    if after:
        stmt = stmt.where(o.order_id > after)
    docs = [r[0] for r in conn.execute(stmt.order_by(o.order_id).limit(limit))]
    return {"orders": docs, "next_after": docs[-1]["order_id"] if len(docs) == limit else None}


def prune(conn: Connection, older_than: timedelta) -> int:
    """Delete change rows older than ``older_than`` and remember how far the feed was cut."""
    cutoff = utcnow() - older_than
    top = conn.execute(select(func.max(db.changes.c.seq)).where(db.changes.c.at < cutoff)).scalar()
    if not top:
        return 0
    n = conn.execute(delete(db.changes).where(db.changes.c.seq <= top)).rowcount
    current = db.read_counter(conn, "changes_pruned")
    if top > current:
        db.next_counter(conn, "changes_pruned", int(top) - current)
    log.info("pruned %d change rows up to seq %d", n, top)
    return int(n)


class Notifier:
    """Wakes long-polls when changes commit (here, or in another hub process via PostgreSQL)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        assert self._event is not None, "Notifier.bind() first"
        return self._event

    def _fire(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    def notify(self) -> None:
        """Thread-safe: call after a commit that added changes."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire)

    def listen_postgres(self, engine: Engine) -> None:
        """Start the LISTEN thread (other hub processes' commits wake our long-polls)."""
        self._thread = threading.Thread(target=self._listen, args=(engine,), name="pg-listen", daemon=True)
        self._thread.start()

    def _listen(self, engine: Engine) -> None:
        import psycopg

        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as pg:
                    pg.execute("LISTEN packdesk_changes")
                    while not self._stop.is_set():
                        for _ in pg.notifies(timeout=1.0, stop_after=1):
                            self.notify()
            except Exception as exc:  # the fallback poll keeps long-polls working meanwhile
                log.warning("LISTEN connection lost (%s); retrying in 1 s", exc)
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()


def iso_now() -> str:
    return iso(utcnow()) or ""
