"""The change feed: cursor reads, long-poll wake-ups, the working-set snapshot and pruning.

A read first takes the head (highest committed seq), then the visible rows up to it. Because seqs
commit in order (``hub.db``), everything at or below the head is committed, so moving the cursor
to the head never skips a change — even when the rows in between were filtered out for a packer.

Wake-ups: commits in this process set an :class:`asyncio.Event`; on PostgreSQL a LISTEN thread
turns other processes' NOTIFYs into the same wake-up. The data always comes from the table; the
wake-up is only a hint, and the :class:`ChangeTail` re-checks every ``longpoll_fallback_s`` anyway.

Long-polls are served by one :class:`ChangeTail` per process: on each wake-up ONE task reads the
new committed rows into a bounded in-memory buffer and wakes only the waiters they concern, which
filter the buffer for themselves without touching the database. A waiting long-poll costs no
query, no connection and no thread until a change it may see commits (docs/sync.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.engine import Connection, Engine

from core.errors import UserError
from core.timeutil import iso, utcnow
from hub import db
from hub.writer import Actor

log = logging.getLogger("packdesk.hub.feed")

MAX_LIMIT = 1000
CLOSED_VISIBLE_FOR = timedelta(hours=48)
#: The entity kinds the feed carries (docs/sync.md "Entity kinds"); a caller that names none gets orders only,
#: so a client that knows nothing of tickets never receives one.
KINDS: frozenset[str] = frozenset({"order", "ticket"})
ORDERS_ONLY: frozenset[str] = frozenset({"order"})


def parse_kinds(text: str | None) -> frozenset[str]:
    """``kinds=order,ticket`` as a set; empty or absent: orders only.

    Raises:
        UserError: ``bad_kinds`` (400) for a kind the feed does not carry.
    """
    if not text:
        return ORDERS_ONLY
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = sorted(kinds - KINDS)
    if unknown or not kinds:
        raise UserError(f"Unknown entity kind(s) {', '.join(unknown)!s}; the feed carries {', '.join(sorted(KINDS))}.",
                        code="bad_kinds", details={"kinds": sorted(KINDS)})
    return kinds


class CursorExpired(UserError):
    code = "cursor_expired"


def _visible(actor: Actor) -> Any:
    """The packer rule as SQL; :func:`_sees` is the same rule for the tail's buffer: keep them alike."""
    if actor.role == "packer":
        return or_(db.changes.c.bench == actor.bench, db.changes.c.prev_bench == actor.bench)
    return None


def _sees(actor: Actor, bench: str | None, prev_bench: str | None) -> bool:
    if actor.role == "packer":
        # SQL's ``bench = NULL`` is never true: a packer without a bench sees nothing there either.
        return actor.bench is not None and actor.bench in (bench, prev_bench)
    return True


def read_changes(conn: Connection, actor: Actor, cursor: int, limit: int,
                 kinds: frozenset[str] = ORDERS_ONLY) -> dict[str, Any]:
    pruned = db.read_counter(conn, "changes_pruned")
    if cursor < pruned:
        raise CursorExpired(
            f"Cursor {cursor} is older than the hub keeps (changes up to {pruned} were pruned); do a full re-sync.",
            details={"cursor": cursor, "oldest_cursor": pruned})
    top = head(conn)
    if cursor > top:
        raise UserError(f"Cursor {cursor} is ahead of the hub's head {top}; is this the right hub?",
                        code="bad_cursor", details={"head": top})
    stmt = select(db.changes.c.seq, db.changes.c.order_id, db.changes.c.doc, db.changes.c.kind).where(
        db.changes.c.seq > cursor, db.changes.c.seq <= top)
    if kinds != KINDS:
        stmt = stmt.where(db.changes.c.kind.in_(sorted(kinds)))
    vis = _visible(actor)
    if vis is not None:
        stmt = stmt.where(vis)
    rows = conn.execute(stmt.order_by(db.changes.c.seq).limit(limit)).all()
    if db.read_counter(conn, "changes_pruned") > cursor:
        # A prune committed between the first check and the read (PostgreSQL reads see each
        # statement's own snapshot): the rows just read may have holes; never serve them.
        return read_changes(conn, actor, cursor, limit, kinds)
    more = len(rows) == limit
    next_cursor = rows[-1].seq if more else top
    return {"changes": [_change(r.seq, r.order_id, r.doc, r.kind) for r in rows],
            "next_cursor": next_cursor, "more": more}


def _change(seq: int, order_id: str, doc: Any, kind: str = "order") -> dict[str, Any]:
    """One change as served: an order's as it always was; a ticket's says its kind (docs/sync.md)."""
    if kind == "order":
        return {"seq": seq, "order_id": order_id, "order": doc}
    return {"seq": seq, "kind": kind, "order_id": order_id, kind: doc}


def _body(seq: int, order_id: str, doc: str, kind: str) -> bytes:
    """One change as served (``dumps(_change(...))``), from its snapshot's stored JSON text.

    An order's snapshot goes in as stored, not parsed and serialised again: the writer stores it
    as compact JSON (hub/writer.py), the very bytes ``dumps`` would make of it (issue 18).
    """
    if kind == "order":
        return b'{"seq":%d,"order_id":%s,"order":%s}' % (seq, dumps(order_id), doc.encode())
    return dumps(_change(seq, order_id, json.loads(doc), kind))


def dumps(obj: Any) -> bytes:
    """JSON as the hub's responses write it (FastAPI's JSONResponse settings)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


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


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of ``GET /changes``, already encoded: ``count`` changes, ``next_cursor``."""

    body: bytes
    count: int
    next_cursor: int

    @classmethod
    def of(cls, page: dict[str, Any]) -> Page:
        return cls(dumps(page), len(page["changes"]), int(page["next_cursor"]))


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    bench: str | None
    prev_bench: str | None
    body: bytes  #: the change as served, encoded once for every waiter that sees it
    kind: str = "order"


#: The key of the waiters that see every bench (desk, supervisor, admin).
_ALL = "\x00all"


class ChangeTail:
    """The newest committed changes of the feed, read once per commit for all long-polls here.

    The buffer holds exactly the changes with ``start < seq <= head``, contiguous: a reader that
    finds a hole (a prune that committed between its two statements) drops what it read and
    starts again empty at the head; waiters with an older cursor read the table as before, which
    keeps 410 ``cursor_expired`` and 400 ``bad_cursor`` where they are decided. The buffer starts
    empty at the head when the hub starts and keeps the last ``capacity`` changes.

    Waiters sleep on an event per bench (one for those who see all benches); a batch of new rows
    sets the events of the benches it touches (``bench`` and ``prev_bench``), so a commit on B1
    does not wake B2's packers at all.
    """

    def __init__(self, read: Callable[[Callable[[Connection], Any]], Awaitable[Any]], wake: Notifier, *,
                 fallback_s: float, capacity: int = 5000) -> None:
        """Args:
            read: runs a function with a read-only connection off the event loop.
            wake: the hub's commit notifier (local commits and PostgreSQL NOTIFY).
            fallback_s: re-read this often without a wake-up (a lost NOTIFY, another writer).
        """
        self._read = read
        self._wake = wake
        self.fallback_s = fallback_s
        self.capacity = capacity
        self.start: int | None = None
        self.head = 0
        self._rows: list[_Row] = []
        self._events: dict[str, asyncio.Event] = {}
        #: Set when the hub process is asked to stop: every waiter answers at once (see :meth:`stop`).
        self.stopping = False

    def stop(self) -> None:
        """Answer every waiting long-poll now (on the event loop's thread).

        uvicorn waits for open requests before it stops, and a long-poll holds one for up to 30 s:
        without this a stopping hub (a restart, the app closing its embedded hub) hung that long.
        A waiter answers with what it has, as at the end of its ``wait``; the client polls again.
        """
        self.stopping = True
        for ev in self._events.values():
            ev.set()
        self._events.clear()

    def event_for(self, actor: Actor) -> asyncio.Event:
        """The event set when changes ``actor`` may see arrive (take it before checking the buffer)."""
        key = (actor.bench or "") if actor.role == "packer" else _ALL
        ev = self._events.get(key)
        if ev is None:
            ev = self._events[key] = asyncio.Event()
        return ev

    def page(self, actor: Actor, cursor: int, limit: int, kinds: frozenset[str] = ORDERS_ONLY) -> Page | None:
        """``GET /changes`` from the buffer, or None when ``cursor`` is outside it (read the table)."""
        if self.start is None or not self.start <= cursor <= self.head:
            return None
        parts: list[bytes] = []
        last = cursor
        for i in range(cursor - self.start, len(self._rows)):
            row = self._rows[i]
            if row.kind not in kinds or not _sees(actor, row.bench, row.prev_bench):
                continue
            parts.append(row.body)
            last = row.seq
            if len(parts) == limit:
                break
        more = len(parts) == limit
        next_cursor = last if more else self.head
        body = b'{"changes":[%s],"next_cursor":%d,"more":%s}' % (b",".join(parts), next_cursor,
                                                                   b"true" if more else b"false")
        return Page(body, len(parts), next_cursor)

    async def run(self) -> None:
        """Until cancelled: wait for a commit (or the fallback tick), then read what it added."""
        while True:
            woken = self._wake.current()
            try:
                await self.refresh()
            except Exception as exc:  # the database is away: waiters keep their cursors, retry next tick
                log.warning("reading new changes failed (%s: %s); retrying", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=self.fallback_s)

    async def refresh(self) -> None:
        """Read the changes committed since the last read (one or two statements) and wake their waiters."""
        after = self.head if self.start is not None else None
        lo, top, pruned, rows = await self._read(lambda c: self._fetch(c, after))
        if after is not None and lo == after and top >= self.head:
            self._rows.extend(rows)
            assert self.start is not None
            if pruned > self.start:  # what the table no longer keeps, the buffer does not serve
                del self._rows[:pruned - self.start]
                self.start = pruned
            touched = {k for r in rows for k in (r.bench or "", r.prev_bench or "")}
            wake_all = False
        else:  # first read, a jump past the buffer, a hole, or a head that went back: start again
            self._rows = rows
            self.start = lo
            touched = set()
            wake_all = True
        self.head = top
        extra = len(self._rows) - self.capacity
        if extra > 0:
            del self._rows[:extra]
            assert self.start is not None
            self.start += extra
        if not rows and not wake_all:
            return
        for key, ev in list(self._events.items()):
            if wake_all or key == _ALL or key in touched:
                ev.set()
                del self._events[key]

    def _fetch(self, conn: Connection, after: int | None) -> tuple[int, int, int, list[_Row]]:
        """(start, head, pruned, rows): the rows ``start < seq <= head``, or none with ``start == head``."""
        c = db.counters.c
        values = dict(conn.execute(select(c.key, c.value).where(c.key.in_(["changes", "changes_pruned"]))).all())
        top = int(values.get("changes", 0))
        pruned = int(values.get("changes_pruned", 0))
        if after is None or after > top:
            return top, top, pruned, []
        lo = max(after, pruned, top - self.capacity)
        if lo >= top:
            return top, top, pruned, []
        ch = db.changes.c
        found = conn.execute(select(ch.seq, ch.order_id, ch.bench, ch.prev_bench, cast(ch.doc, Text), ch.kind)
                             .where(ch.seq > lo, ch.seq <= top).order_by(ch.seq)).all()
        if len(found) != top - lo or (found and int(found[0].seq) != lo + 1):
            return top, top, pruned, []  # a prune cut in between the two statements
        return lo, top, pruned, [_Row(int(seq), bench, prev, _body(int(seq), order_id, doc, kind), kind)
                                 for seq, order_id, bench, prev, doc, kind in found]


def iso_now() -> str:
    return iso(utcnow()) or ""
