"""The bench's local store: one SQLite file, opened through SQLAlchemy.

:class:`LocalStore` is the entry point: it opens (and upgrades, :mod:`core.store.migrations`) the
file, hands out read and write transactions, turns SQLite failures into plain messages, and offers
the calls the app makes. The SQL of each table is in that table's module (:mod:`core.store`).

It holds every order this station sees (the last hub snapshot *and* the local view with pending
actions replayed on it), the change-feed cursor, the outbox, conflicts, the print journal and the
audit of local actions. WAL with ``synchronous=FULL``: a committed action survives a crash or a
power cut. Every write is one ``BEGIN IMMEDIATE`` transaction, so the GUI's actions and the sync
thread's updates never interleave half-way. A file that is not a SQLite database, is damaged, is
locked by another program, or was written by a newer client is reported in plain words and kept
exactly as it is.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DatabaseError

from core.errors import UserError
from core.i18n import _
from core.store import audit as _audit
from core.store import conflicts as _conflicts
from core.store import meta as _meta
from core.store import migrations
from core.store import orders as _orders
from core.store import outbox as _outbox
from core.store import tickets as _tickets
from core.store.orders import KeepFn, LocalOrder
from core.store.outbox import OutboxAction
from core.timeutil import iso, utcnow

log = logging.getLogger("packdesk.store")



class StoreError(UserError):
    """The local store cannot be used; the message says why and what to do. The file is kept."""

    code = "store_error"


class StoreCorrupt(StoreError):
    code = "store_corrupt"


class StoreLocked(StoreError):
    code = "store_locked"


class StoreTooNew(StoreError):
    code = "store_too_new"


class StoreUnwritable(StoreError):
    """The disk is full, read-only or failing: the file is fine, the change just made was not saved."""

    code = "store_unwritable"


def _is_store_failure(exc: BaseException) -> bool:
    """Whether a database exception is about the file (locked, damaged, disk), not a bug in our SQL."""
    orig = exc.orig if isinstance(exc, DatabaseError) else exc
    # sqlite3 raises plain DatabaseError for a damaged or foreign file, OperationalError for locks and
    # disk trouble; IntegrityError, ProgrammingError & co. are bugs and must surface as such.
    return type(orig) in (sqlite3.DatabaseError, sqlite3.OperationalError)


class LocalStore:
    """The local SQLite store. Thread-safe: each call takes its own connection from the engine.

    Args:
        path: the SQLite file (created with the latest schema if missing).
        busy_timeout_s: how long a write waits for another writer before giving up.
    """

    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self._busy_ms = int(busy_timeout_s * 1000)
        # A small pool of open connections (SQLAlchemy's default for a SQLite file; usable from any
        # thread): closing the last connection of a WAL database checkpoints it, ~1 ms per action.
        self.engine: Engine = create_engine(f"sqlite:///{self.path}", pool_size=4, max_overflow=8)
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "begin", self._on_begin)
        self._open()

    # -- connection set-up -------------------------------------------------------------------

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions defer locking badly).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    def _on_begin(self, conn: Connection) -> None:
        mode = conn.get_execution_options().get("packdesk_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    def _open(self) -> None:
        exists = self.path.exists() and self.path.stat().st_size > 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.engine.connect() as conn:
                # Look before changing anything: a file from a newer client must stay byte-identical.
                raw = conn.connection.dbapi_connection
                assert raw is not None
                cur = raw.cursor()
                tables = int(cur.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
                version = int(cur.execute("PRAGMA user_version").fetchone()[0])
                if version == 0 and tables > 0:
                    # Every PackDesk store has a user_version (the first migration sets it in the
                    # same transaction as its tables): this is some other program's database.
                    raise StoreCorrupt(
                        _("The file {path} is a database, but not a PackDesk data file. It has not been changed; "
                          "move it elsewhere (or set PACKDESK_HOME to another folder) and start again.").format(
                              path=self.path),
                        details={"path": str(self.path), "tables": tables},
                    )
                if version > migrations.LATEST:
                    raise StoreTooNew(
                        _("The local data file {path} was written by a newer PackDesk (format {version}, this "
                          "version reads up to {latest}). Update PackDesk on this PC; the file has not been "
                          "changed.").format(path=self.path, version=version, latest=migrations.LATEST),
                        details={"path": str(self.path), "version": version},
                    )
                mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                cur.close()
                if str(mode).lower() != "wal":
                    log.warning("Local store %s is not in WAL mode (%s)", self.path, mode)
                if exists and version < migrations.LATEST:
                    log.info("Upgrading local store %s from format %d", self.path, version)
                migrations.migrate(conn)
                if conn.in_transaction():
                    conn.rollback()
                with conn.begin():
                    if not _orders.facts_current(conn):  # after the upgrade to v9, or a new facts rule
                        n = _orders.rebuild_facts(conn)
                        log.info("Local store %s: queue facts of %d orders rebuilt", self.path, n)
        except StoreError:
            self.engine.dispose()
            raise
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            # The raw cursor above raises sqlite3's own errors, SQLAlchemy calls raise wrapped ones.
            self.engine.dispose()
            raise self._translate(exc) from exc

    def _translate(self, exc: DatabaseError | sqlite3.DatabaseError) -> StoreError:
        orig = exc.orig if isinstance(exc, DatabaseError) else exc
        text = str(orig) if orig is not None else str(exc)
        low = text.lower()
        where = {"path": str(self.path), "sqlite": text}
        if isinstance(orig, sqlite3.OperationalError) and ("locked" in low or "busy" in low):
            return StoreLocked(
                _("The local data file {path} is in use by another program (is PackDesk already open on this "
                  "PC?). Close it and try again.").format(path=self.path),
                details=where,
            )
        if "is full" in low:
            return StoreUnwritable(
                _("The disk holding {path} is full: the last change was not saved (everything saved before is "
                  "safe). Free some disk space and do it again.").format(path=self.path),
                code="store_disk_full",
                details=where,
            )
        if "readonly" in low or "read-only" in low:
            return StoreUnwritable(
                _("The local data file {path} cannot be written (read-only file, folder or disk): the last change "
                  "was not saved. Check the file's permissions or the disk, then do it again.").format(path=self.path),
                code="store_read_only",
                details=where,
            )
        if "disk i/o" in low:
            return StoreUnwritable(
                _("The disk holding {path} reported an error (disk I/O error): the last change may not have been "
                  "saved. Check the disk (or ask support), then start PackDesk again; the file has been "
                  "kept.").format(path=self.path),
                code="store_io_error",
                details=where,
            )
        if "unable to open" in low:
            return StoreError(
                _("The local data file {path} cannot be opened ({error}): check that its folder exists, is a "
                  "folder you may write to, and that the path is not a folder itself. Nothing was "
                  "changed.").format(path=self.path, error=text),
                code="store_unopenable",
                details=where,
            )
        return StoreCorrupt(
            _("The local data file {path} is damaged or is not a PackDesk file ({error}). It has been left as it "
              "is; move it aside (or ask support to look at it) and start again to re-download the orders. Any "
              "actions not yet synced are only in that file.").format(path=self.path, error=text),
            details=where,
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on exit, rolled back on error."""
        try:
            with self.engine.connect().execution_options(packdesk_begin="IMMEDIATE") as conn, conn.begin():
                yield conn
        except DatabaseError as exc:
            if not _is_store_failure(exc):
                raise
            raise self._translate(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read (one deferred transaction)."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except DatabaseError as exc:
            if not _is_store_failure(exc):
                raise
            raise self._translate(exc) from exc

    # -- meta and operators --------------------------------------------------------------------

    # Statements inside the caller's transaction are the table modules' own functions.
    get_meta = staticmethod(_meta.get)
    set_meta = staticmethod(_meta.put)  #: None removes the key
    set_action_key = staticmethod(_meta.set_action_key)
    action_key = staticmethod(_meta.action_key)
    next_seq = staticmethod(_meta.next_seq)

    def meta(self, key: str) -> str | None:
        with self.read() as conn:
            return _meta.get(conn, key)

    def cursor(self) -> int | None:
        """The change-feed cursor, or None when the station has never finished a full sync."""
        with self.read() as conn:
            return _meta.cursor(conn)

    # -- audit -------------------------------------------------------------------------------

    audit = staticmethod(_audit.add)  #: append to the local audit, inside the caller's write transaction

    def local_audit(self, order_id: str | None = None) -> list[dict[str, Any]]:
        with self.read() as conn:
            return _audit.entries(conn, order_id)

    # -- orders ------------------------------------------------------------------------------

    def get_order(self, order_id: str, conn: Connection | None = None) -> LocalOrder | None:
        if conn is not None:
            return _orders.get(conn, order_id)
        with self.read() as c:
            return _orders.get(c, order_id)

    def hub_snapshot(self, order_id: str, conn: Connection | None = None) -> dict[str, Any] | None:
        """The last snapshot the hub sent for an order (without local pending changes)."""
        if conn is not None:
            return _orders.hub_snapshot(conn, order_id)
        with self.read() as c:
            return _orders.hub_snapshot(c, order_id)

    def order_views(self, order_ids: Iterable[str] | None = None, *,
                    limit: int | None = None) -> list[_orders.ViewRow]:
        """Every order's local view, or these orders', or the first ``limit`` (what :mod:`core.queues`
        builds rows from)."""
        with self.read() as conn:
            return _orders.views(conn, order_ids, limit)

    def queue_facts(self, order_ids: Iterable[str] | None = None, *,
                    limit: int | None = None) -> list[_orders.FactsRow]:
        """Every order's queue facts (:mod:`core.queue_facts`, then pending and conflict), or these
        orders', or the first ``limit`` by ship-by: what :mod:`core.queues` builds rows from."""
        try:
            with self.read() as conn:
                return _orders.facts(conn, order_ids, limit)
        except sqlite3.DatabaseError as exc:  # read on the raw sqlite3 connection: its own errors
            if not _is_store_failure(exc):
                raise
            raise self._translate(exc) from exc

    def find_by_code(self, code: str) -> str | None:
        """The order whose waybill number or channel order number is ``code``, or None."""
        with self.read() as conn:
            return _orders.find_by_code(conn, code)

    def count_orders(self) -> int:
        with self.read() as conn:
            return _orders.count(conn)

    def order_ids(self) -> set[str]:
        with self.read() as conn:
            return _orders.ids(conn)

    apply_snapshots = staticmethod(_orders.apply_snapshots)
    refresh_views = staticmethod(_orders.refresh_views)

    # -- outbox ------------------------------------------------------------------------------

    queue_action = staticmethod(_outbox.insert)  #: append an action, inside the caller's write transaction

    def pending_actions(self, limit: int = 500) -> list[OutboxAction]:
        """The oldest queued actions, in seq order."""
        with self.read() as conn:
            return _outbox.pending(conn, limit)

    def pending_count(self) -> int:
        with self.read() as conn:
            return _outbox.count(conn)

    def mark_attempt(self, seqs: list[int], error: str | None) -> None:
        """Remember that a batch was sent without a final answer (and why), for support."""
        if not seqs:
            return
        with self.write() as conn:
            _outbox.mark_attempt(conn, seqs, error)

    def apply_results(
        self, sent: list[OutboxAction], results: list[dict[str, Any]], *, keep: KeepFn | None = None,
        tickets_out: list[str] | None = None,
    ) -> tuple[list[str], int]:
        """Take the hub's per-action answers for a sent batch, in one transaction.

        ``applied`` and ``duplicate`` (of an applied action) clear the action; ``conflict`` and
        ``rejected`` (also as a duplicate's ``first_outcome``) clear it from the outbox but keep a
        record in ``conflicts`` and flag the order with the hub's reason and snapshot. An action
        with no answer, or an answer we do not understand, stays queued.

        Returns:
            (IDs of orders whose view changed, how many actions got a final answer).
        """
        by_id = {r.get("action_id"): r for r in results if isinstance(r, dict)}
        now = iso(utcnow())
        touched: list[str] = []
        snaps: list[dict[str, Any]] = []
        finished = 0
        ticket_docs: list[dict[str, Any]] = []
        ticket_ids: list[str] = []
        with self.write() as conn:
            done_seqs: list[int] = []
            for action in sent:
                r = by_id.get(action.action_id)
                if r is None:
                    log.warning(
                        "Hub gave no answer for action %s (seq %d); it stays queued",
                        action.action_id,
                        action.seq,
                    )
                    continue
                outcome = r.get("outcome")
                if outcome == "duplicate":
                    first = r.get("first_outcome")
                    if first is None:
                        first = "rejected" if r.get("error") and not r.get("order") else "applied"
                    effective = first
                else:
                    effective = outcome
                if effective not in ("applied", "conflict", "rejected"):
                    log.warning("Hub answered %r for action %s; it stays queued", outcome, action.action_id)
                    continue
                snap = r.get("order")
                if isinstance(snap, dict) and isinstance(snap.get("order_id"), str):
                    snaps.append(snap)
                done_seqs.append(action.seq)
                finished += 1
                touched.append(action.order_id)
                if effective in ("conflict", "rejected"):
                    _conflicts.record(conn, action, str(effective), r, snap if isinstance(snap, dict) else None, now)
                if action.type in _tickets.TICKET_ACTIONS:  # a ticket action: the answer carries the ticket
                    tid = str(action.payload.get("ticket_id") or "")
                    ticket_ids.append(tid)
                    if _tickets.check_doc(r.get("ticket")):
                        ticket_docs.append(r["ticket"])
                    if effective in ("conflict", "rejected"):
                        _tickets.set_conflict(conn, tid, {"outcome": effective, "error": r.get("error"),
                                                          "reason": str(r.get("reason") or r.get("error") or ""),
                                                          "action_id": action.action_id, "type": action.type})
            _outbox.delete(conn, done_seqs)
            changed = _orders.apply_snapshots(conn, snaps, keep=keep)
            rest = [oid for oid in dict.fromkeys(touched) if oid not in set(changed)]
            changed += _orders.refresh_views(conn, rest)
            if ticket_ids:
                got = _tickets.apply_docs(conn, ticket_docs)
                got += _tickets.rebuild(conn, [t for t in ticket_ids if t not in set(got)])
                if tickets_out is not None:
                    tickets_out.extend(dict.fromkeys(ticket_ids))
        return list(dict.fromkeys(changed)), finished

    # -- tickets (store version 8, docs/tickets.md) -------------------------------------------

    apply_ticket_docs = staticmethod(_tickets.apply_docs)  #: hub ticket documents, caller's transaction
    rebuild_tickets = staticmethod(_tickets.rebuild)

    def get_ticket(self, ticket_id: str, conn: Connection | None = None) -> _tickets.LocalTicket | None:
        if conn is not None:
            return _tickets.get(conn, ticket_id)
        with self.read() as c:
            return _tickets.get(c, ticket_id)

    def tickets(self, *, open_only: bool = False) -> list[_tickets.LocalTicket]:
        """Every ticket on this PC (the queue's load, on the database worker)."""
        with self.read() as conn:
            return _tickets.listed(conn, open_only=open_only)

    def ticket_queue(self, ticket_ids: Iterable[str] | None = None) -> list[_tickets.QueueDoc]:
        """Tickets with their order's view, for the ticket queue (all, or only these)."""
        with self.read() as conn:
            return _tickets.queue_docs(conn, ticket_ids)

    def tickets_of(self, order_id: str) -> list[_tickets.LocalTicket]:
        with self.read() as conn:
            return _tickets.for_order(conn, order_id)

    def ticket_count(self, *, open_only: bool = True) -> int:
        with self.read() as conn:
            return _tickets.count(conn, open_only=open_only)

    def finish_ticket_resync(self, gen: int) -> list[str]:
        """Drop tickets a full re-sync ``gen`` did not list (closed meanwhile), unless work waits on them."""
        with self.write() as conn:
            return _tickets.drop_unseen(conn, gen)

    # -- conflicts ---------------------------------------------------------------------------

    def conflicts(self, order_id: str | None = None, *, unresolved_only: bool = True) -> list[dict[str, Any]]:
        """Recorded conflicts and rejections (newest last)."""
        with self.read() as conn:
            return _conflicts.listed(conn, order_id, unresolved_only=unresolved_only)

    def conflict_count(self) -> int:
        with self.read() as conn:
            return _conflicts.unresolved_count(conn)

    def resolve_conflict(self, order_id: str, operator: str, resolution: str) -> LocalOrder | None:
        """Mark an order's conflicts as dealt with (after the guided dialog) and clear its flag."""
        now = iso(utcnow())
        with self.write() as conn:
            _conflicts.resolve(conn, order_id, operator, resolution, now)
            _orders.refresh_views(conn, [order_id])
            _tickets.resolve_order(conn, order_id)
            _audit.add(
                conn,
                operator,
                "conflict_resolved",
                order_id=order_id,
                details={"resolution": resolution},
                at=now,
            )
            return _orders.get(conn, order_id)

    # -- full re-sync ------------------------------------------------------------------------

    def begin_full_resync(self) -> int:
        """Start a full re-sync: forget the cursor and return this pass's generation number."""
        with self.write() as conn:
            return _meta.next_resync_gen(conn)

    def finish_full_resync(self, gen: int, cursor: int, *, scope: str | None = None) -> list[str]:
        """Drop orders the hub no longer lists for us (keeping any with pending work) and set the cursor.

        ``scope`` names the view the copy was built for (``all``, ``bench:B1``), stored with the cursor.
        """
        with self.write() as conn:
            gone = _orders.unseen(conn, gen)
            if gone:
                _orders.delete(conn, gone)
            _meta.put(conn, "cursor", str(cursor))
            if scope is not None:
                _meta.put(conn, "cursor_scope", scope)
        return gone


def open_store(path: Path | None = None, *, busy_timeout_s: float = 10.0) -> LocalStore:
    """Open (creating or upgrading) the local store; by default the one in the user data folder.

    Raises:
        StoreCorrupt, StoreLocked, StoreTooNew: with a message for the operator; the file is kept.
    """
    from core import paths

    return LocalStore(path or paths.store_path(), busy_timeout_s=busy_timeout_s)
