"""The bench's local store: one SQLite file, opened through SQLAlchemy.

It holds every order this station sees (the last hub snapshot *and* the local view with pending
actions replayed on it), the change-feed cursor, the outbox, conflicts, the print journal and the
audit of local actions. WAL with ``synchronous=FULL``: a committed action survives a crash or a
power cut. Every write is one ``BEGIN IMMEDIATE`` transaction, so the GUI's actions and the sync
thread's updates never interleave half-way. A file that is not a SQLite database, is damaged, is
locked by another program, or was written by a newer client is reported in plain words and kept
exactly as it is.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DatabaseError

from core.address import phone_tail
from core.errors import UserError
from core.flags import stored_rank
from core.i18n import _
from core.states import DONE_STATES
from core.store import migrations
from core.store.overlay import PendingAction, replay
from core.timeutil import iso, utcnow

log = logging.getLogger("packdesk.store")

#: Orders in these states are "done" (green/grey in the queues).

_CHUNK = 900  # stay well under SQLite's bound-parameter limit

#: ``meta`` key prefix of the action key stored per operator (``set_action_key``).
ACTION_KEY_PREFIX = "action_key:"


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


KeepFn = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class LocalOrder:
    """An order as the bench shows it: the hub's snapshot with this station's pending actions applied.

    Attributes:
        snapshot: the local view (a :class:`core.model.Snapshot`-shaped dict).
        hub_version: the version of the last snapshot received from the hub.
        pending: how many of this station's actions on it the hub has not answered yet.
        conflict: the latest unresolved conflict/rejection (outcome, error, reason, action…), or None.
        flags: flags for the queues: hub flags plus ``conflict``, ``exception``, ``pending``, ``done``.
    """

    order_id: str
    snapshot: dict[str, Any]
    hub_version: int
    pending: int
    conflict: dict[str, Any] | None
    flags: tuple[str, ...]

    @property
    def state(self) -> str:
        return str(self.snapshot["state"])

    @property
    def bench(self) -> str | None:
        return self.snapshot.get("bench")

    @property
    def is_pending(self) -> bool:
        return self.pending > 0

    @property
    def has_conflict(self) -> bool:
        return self.conflict is not None


@dataclass(frozen=True)
class OutboxAction:
    """One queued action, as sent to ``POST /api/v1/actions``."""

    seq: int
    action_id: str
    order_id: str
    type: str
    payload: dict[str, Any]
    base_version: int
    operator: str
    done_at: str
    attempts: int = 0
    #: the signature made when the action was written (None: no key for the operator then)
    key_id: str | None = None
    sig: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "action_id": self.action_id,
            "seq": self.seq,
            "order_id": self.order_id,
            "type": self.type,
            "payload": self.payload,
            "base_version": self.base_version,
            "operator": self.operator,
            "done_at": self.done_at,
        }
        if self.key_id and self.sig:
            wire["key_id"], wire["sig"] = self.key_id, self.sig
        return wire

    def pending_action(self) -> PendingAction:
        return PendingAction(
            self.action_id, self.order_id, self.type, self.payload, self.operator, self.done_at
        )


def _row_action(row: Any) -> OutboxAction:
    return OutboxAction(
        seq=row.seq,
        action_id=row.action_id,
        order_id=row.order_id,
        type=row.type,
        payload=json.loads(row.payload),
        base_version=row.base_version,
        operator=row.operator,
        done_at=row.done_at,
        attempts=row.attempts,
        key_id=row.key_id,
        sig=row.sig,
    )


def derive_flags(view: dict[str, Any], pending: int, conflict: dict[str, Any] | None) -> list[str]:
    """The queue flags of a local view (time-based overdue/at-risk are left to the UI)."""
    flags = [f for f in view.get("flags") or [] if isinstance(f, str)]
    if conflict is not None:
        flags.append("conflict")
    if view.get("holds"):
        flags.append("exception")
    if view.get("cancel_requested"):
        flags.append("cancel_requested")
    if pending:
        flags.append("pending")
    if view.get("state") in DONE_STATES:
        flags.append("done")
    return flags


class LocalStore:
    """The local SQLite store. Thread-safe: each call takes its own connection from the engine.

    Args:
        path: the SQLite file (created with the latest schema if missing).
        busy_timeout_s: how long a write waits for another writer before giving up.
    """

    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self._busy_ms = int(busy_timeout_s * 1000)
        self._lock = threading.Lock()
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

    # -- meta --------------------------------------------------------------------------------

    @staticmethod
    def get_meta(conn: Connection, key: str) -> str | None:
        row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).first()
        return None if row is None else str(row[0])

    @staticmethod
    def set_meta(conn: Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.exec_driver_sql("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.exec_driver_sql(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str) -> str | None:
        with self.read() as conn:
            return self.get_meta(conn, key)

    def set_action_key(self, conn: Connection, operator: str, key: dict[str, str]) -> None:
        """Keep the action key an online login gave this device for ``operator`` (the newest one only).

        Kept beside the offline-login PIN records in ``meta``: the outbox signs each action with it
        while the operator is logged in, online or offline (:mod:`core.action_sig`).
        """
        self.set_meta(conn, ACTION_KEY_PREFIX + operator, json.dumps(
            {"key_id": key["key_id"], "key": key["key"], "expires_at": key["expires_at"]}))

    def action_key(self, conn: Connection, operator: str) -> dict[str, str] | None:
        """The stored action key for ``operator`` (``{"key_id", "key", "expires_at"}``), or None."""
        raw = self.get_meta(conn, ACTION_KEY_PREFIX + operator)
        if raw is None:
            return None
        try:
            rec = json.loads(raw)
            return {"key_id": str(rec["key_id"]), "key": str(rec["key"]), "expires_at": str(rec["expires_at"])}
        except (ValueError, KeyError, TypeError):
            log.warning("The action key stored for %s is unreadable; actions are sent unsigned", operator)
            return None

    def cursor(self) -> int | None:
        """The change-feed cursor, or None when the station has never finished a full sync."""
        value = self.meta("cursor")
        return None if value is None else int(value)

    def next_seq(self, conn: Connection) -> int:
        """Take the device's next outbox seq (inside the caller's write transaction)."""
        seq = int(self.get_meta(conn, "next_seq") or 1)
        self.set_meta(conn, "next_seq", str(seq + 1))
        return seq

    # -- audit -------------------------------------------------------------------------------

    @staticmethod
    def audit(
        conn: Connection,
        operator: str,
        what: str,
        *,
        order_id: str | None = None,
        action_id: str | None = None,
        details: dict[str, Any] | None = None,
        at: str | None = None,
    ) -> None:
        conn.exec_driver_sql(
            "INSERT INTO local_audit(at, operator, what, order_id, action_id, details) VALUES (?, ?, ?, ?, ?, ?)",
            (
                at or iso(utcnow()),
                operator,
                what,
                order_id,
                action_id,
                json.dumps(details or {}, ensure_ascii=False),
            ),
        )

    def local_audit(self, order_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, at, operator, what, order_id, action_id, details FROM local_audit"
        args: tuple[Any, ...] = ()
        if order_id is not None:
            sql += " WHERE order_id = ?"
            args = (order_id,)
        with self.read() as conn:
            rows = conn.exec_driver_sql(sql + " ORDER BY id", args).all()
        return [
            {
                "id": r.id,
                "at": r.at,
                "operator": r.operator,
                "what": r.what,
                "order_id": r.order_id,
                "action_id": r.action_id,
                "details": json.loads(r.details),
            }
            for r in rows
        ]

    # -- orders ------------------------------------------------------------------------------

    @staticmethod
    def _row_order(row: Any) -> LocalOrder:
        conflict = json.loads(row.conflict_json) if row.conflict_json else None
        return LocalOrder(
            order_id=row.order_id,
            snapshot=json.loads(row.local_json),
            hub_version=row.hub_version,
            pending=row.pending,
            conflict=conflict,
            flags=tuple(row.flags.split()) if row.flags else (),
        )

    _ORDER_COLS = "order_id, local_json, hub_version, pending, conflict_json, flags"

    def get_order(self, order_id: str, conn: Connection | None = None) -> LocalOrder | None:
        sql = f"SELECT {self._ORDER_COLS} FROM orders WHERE order_id = ?"
        if conn is not None:
            row = conn.exec_driver_sql(sql, (order_id,)).first()
        else:
            with self.read() as c:
                row = c.exec_driver_sql(sql, (order_id,)).first()
        return None if row is None else self._row_order(row)

    def hub_snapshot(self, order_id: str, conn: Connection | None = None) -> dict[str, Any] | None:
        """The last snapshot the hub sent for an order (without local pending changes)."""
        sql = "SELECT hub_json FROM orders WHERE order_id = ?"
        if conn is not None:
            row = conn.exec_driver_sql(sql, (order_id,)).first()
        else:
            with self.read() as c:
                row = c.exec_driver_sql(sql, (order_id,)).first()
        return None if row is None else dict(json.loads(row[0]))

    def list_orders(
        self,
        *,
        state: str | Iterable[str] | None = None,
        bench: str | None = None,
        q: str | None = None,
        flag: str | None = None,
        limit: int | None = None,
    ) -> list[LocalOrder]:
        """Orders in queue order (flag severity, ship-by, order time), optionally filtered.

        Args:
            state: one state or several.
            bench: only this bench's orders.
            q: an order ID, channel order number, waybill number, phone tail (4 digits) or name prefix.
            flag: only orders carrying this flag (e.g. ``conflict``, ``pending``).
            limit: at most this many.
        """
        where: list[str] = []
        args: list[Any] = []
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            where.append(f"state IN ({', '.join('?' for _x in states)})")
            args += states
        if bench is not None:
            where.append("bench = ?")
            args.append(bench)
        if q:
            text = q.strip()
            where.append(
                "(order_id = ? OR channel_order_no = ? OR waybill_no = ? OR phone_tail = ? OR name LIKE ? ESCAPE '\\')"
            )
            like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [text.upper(), text, text, text, like]
        if flag:
            where.append("(' ' || flags || ' ') LIKE ?")
            args.append(f"% {flag} %")
        sql = f"SELECT {self._ORDER_COLS} FROM orders"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY severity DESC, ship_by IS NULL, ship_by, created_at, order_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.read() as conn:
            return [self._row_order(r) for r in conn.exec_driver_sql(sql, tuple(args)).all()]

    def count_orders(self) -> int:
        with self.read() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM orders").scalar_one())

    def order_ids(self) -> set[str]:
        with self.read() as conn:
            return {r[0] for r in conn.exec_driver_sql("SELECT order_id FROM orders").all()}

    @staticmethod
    def _pending_for(conn: Connection, order_ids: Iterable[str]) -> dict[str, list[OutboxAction]]:
        ids = list(dict.fromkeys(order_ids))
        found: dict[str, list[OutboxAction]] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            rows = conn.exec_driver_sql(
                f"SELECT * FROM outbox WHERE order_id IN ({', '.join('?' for _x in chunk)}) ORDER BY seq",
                tuple(chunk),
            ).all()
            for r in rows:
                found.setdefault(r.order_id, []).append(_row_action(r))
        return found

    _UPSERT = """
        INSERT INTO orders(order_id, state, bench, waybill_no, channel_order_no, phone_tail, name, ship_by,
                           created_at, flags, severity, hub_version, hub_json, local_json, pending, conflict_json,
                           seen_gen, lane)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(order_id) DO UPDATE SET
            state = excluded.state, bench = excluded.bench, waybill_no = excluded.waybill_no,
            channel_order_no = excluded.channel_order_no, phone_tail = excluded.phone_tail, name = excluded.name,
            ship_by = excluded.ship_by, created_at = excluded.created_at, flags = excluded.flags,
            severity = excluded.severity, hub_version = excluded.hub_version, hub_json = excluded.hub_json,
            local_json = excluded.local_json, pending = excluded.pending, conflict_json = excluded.conflict_json,
            seen_gen = excluded.seen_gen, lane = excluded.lane
    """

    @staticmethod
    def _order_row(
        base: dict[str, Any],
        base_json: str | None,
        pending: list[OutboxAction],
        conflict: dict[str, Any] | None,
        seen_gen: int,
    ) -> tuple[Any, ...]:
        view = replay(base, [a.pending_action() for a in pending]) if pending else base
        flags = derive_flags(view, len(pending), conflict)
        rec = view.get("recipient") or {}
        hub_json = base_json if base_json is not None else json.dumps(base, ensure_ascii=False)
        local_json = hub_json if view is base else json.dumps(view, ensure_ascii=False)
        return (
            view["order_id"],
            view["state"],
            view.get("bench"),
            view.get("waybill_no"),
            view.get("channel_order_no"),
            phone_tail(str(rec.get("phone") or "")),
            str(rec.get("name") or ""),
            view.get("ship_by"),
            view.get("created_at"),
            " ".join(flags),
            stored_rank(flags),
            int(base["version"]),
            hub_json,
            local_json,
            len(pending),
            json.dumps(conflict, ensure_ascii=False) if conflict is not None else None,
            seen_gen,
            str(view.get("lane") or "normal"),
        )

    def apply_snapshots(
        self,
        conn: Connection,
        snapshots: Iterable[dict[str, Any]],
        *,
        keep: KeepFn | None = None,
        seen_gen: int | None = None,
    ) -> list[str]:
        """Take hub snapshots into the store (inside the caller's write transaction).

        A snapshot replaces the hub base only when its version is newer than the one held; the
        local view is then rebuilt as base + pending actions, so nothing pending is undone on
        screen. An order ``keep`` says is no longer this station's (moved to another bench) is
        dropped, unless it still has pending actions or an unresolved conflict.

        Returns:
            the IDs of orders whose local view changed or that were dropped.
        """
        snaps = list(snapshots)
        if not snaps:
            return []
        ids = list(dict.fromkeys(s["order_id"] for s in snaps))
        current: dict[str, tuple[int, str | None, int]] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            for r in conn.exec_driver_sql(
                f"SELECT order_id, hub_version, conflict_json, seen_gen FROM orders WHERE order_id IN "
                f"({', '.join('?' for _x in chunk)})",
                tuple(chunk),
            ).all():
                current[r.order_id] = (r.hub_version, r.conflict_json, r.seen_gen)
        pending = self._pending_for(conn, [i for i in ids if i in current]) if current else {}
        rows: dict[str, tuple[Any, ...]] = {}
        drop: set[str] = set()
        seen_only: set[str] = set()
        for snap in snaps:
            oid = snap["order_id"]
            have = current.get(oid)
            version = int(snap["version"])
            if have is not None and version <= have[0]:
                seen_only.add(oid)
                continue
            conflict = json.loads(have[1]) if have and have[1] else None
            acts = pending.get(oid, [])
            if keep is not None and not keep(snap) and not acts and conflict is None:
                if have is not None:
                    drop.add(oid)
                rows.pop(oid, None)
                current.pop(oid, None)
                continue
            drop.discard(oid)
            gen = seen_gen if seen_gen is not None else (have[2] if have else 0)
            rows[oid] = self._order_row(snap, None, acts, conflict, gen)
            current[oid] = (version, have[1] if have else None, gen)
        if rows:
            conn.exec_driver_sql(self._UPSERT, list(rows.values()))
        if drop:
            conn.exec_driver_sql(
                "DELETE FROM orders WHERE order_id IN (" + ", ".join("?" for _x in drop) + ")", tuple(drop)
            )
        if seen_gen is not None:
            marks = [(seen_gen, oid) for oid in seen_only - rows.keys() - drop]
            if marks:
                conn.exec_driver_sql("UPDATE orders SET seen_gen = ? WHERE order_id = ?", marks)
        return list(rows.keys()) + sorted(drop)

    def refresh_views(self, conn: Connection, order_ids: Iterable[str]) -> list[str]:
        """Rebuild the local view of orders from their hub base and the outbox (caller's transaction)."""
        ids = list(dict.fromkeys(order_ids))
        if not ids:
            return []
        pending = self._pending_for(conn, ids)
        rows = []
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            for r in conn.exec_driver_sql(
                f"SELECT order_id, hub_json, conflict_json, seen_gen FROM orders WHERE order_id IN "
                f"({', '.join('?' for _x in chunk)})",
                tuple(chunk),
            ).all():
                conflict = json.loads(r.conflict_json) if r.conflict_json else None
                rows.append(
                    self._order_row(
                        json.loads(r.hub_json), r.hub_json, pending.get(r.order_id, []), conflict, r.seen_gen
                    )
                )
        if rows:
            conn.exec_driver_sql(self._UPSERT, rows)
        return [r[0] for r in rows]

    # -- outbox ------------------------------------------------------------------------------

    def pending_actions(self, limit: int = 500) -> list[OutboxAction]:
        """The oldest queued actions, in seq order."""
        with self.read() as conn:
            rows = conn.exec_driver_sql("SELECT * FROM outbox ORDER BY seq LIMIT ?", (limit,)).all()
        return [_row_action(r) for r in rows]

    def pending_count(self) -> int:
        with self.read() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one())

    def mark_attempt(self, seqs: list[int], error: str | None) -> None:
        """Remember that a batch was sent without a final answer (and why), for support."""
        if not seqs:
            return
        with self.write() as conn:
            conn.exec_driver_sql(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [(error, s) for s in seqs],
            )

    def apply_results(
        self, sent: list[OutboxAction], results: list[dict[str, Any]], *, keep: KeepFn | None = None
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
        with self.write() as conn:
            done_seqs: list[tuple[int]] = []
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
                done_seqs.append((action.seq,))
                finished += 1
                touched.append(action.order_id)
                if effective in ("conflict", "rejected"):
                    self._record_conflict(
                        conn, action, str(effective), r, snap if isinstance(snap, dict) else None, now
                    )
            if done_seqs:
                conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", done_seqs)
            changed = self.apply_snapshots(conn, snaps, keep=keep)
            rest = [oid for oid in dict.fromkeys(touched) if oid not in set(changed)]
            changed += self.refresh_views(conn, rest)
        return list(dict.fromkeys(changed)), finished

    def _record_conflict(
        self,
        conn: Connection,
        action: OutboxAction,
        outcome: str,
        result: dict[str, Any],
        snap: dict[str, Any] | None,
        now: str | None,
    ) -> None:
        error = result.get("error")
        reason = result.get("reason") or result.get("message") or error or "The hub refused this action."
        conn.exec_driver_sql(
            "INSERT INTO conflicts(action_id, seq, order_id, type, payload, operator, done_at, outcome, error, reason,"
            " snapshot_json, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                action.action_id,
                action.seq,
                action.order_id,
                action.type,
                json.dumps(action.payload, ensure_ascii=False),
                action.operator,
                action.done_at,
                outcome,
                error,
                str(reason),
                json.dumps(snap, ensure_ascii=False) if snap else None,
                now,
            ),
        )
        summary = {
            "outcome": outcome,
            "error": error,
            "reason": str(reason),
            "action_id": action.action_id,
            "type": action.type,
            "operator": action.operator,
            "done_at": action.done_at,
            "at": now,
        }
        conn.exec_driver_sql(
            "UPDATE orders SET conflict_json = ? WHERE order_id = ?",
            (json.dumps(summary, ensure_ascii=False), action.order_id),
        )
        self.audit(
            conn,
            action.operator,
            f"sync_{outcome}",
            order_id=action.order_id,
            action_id=action.action_id,
            details={"type": action.type, "error": error, "reason": str(reason)},
            at=now,
        )
        log.warning(
            "Action %s (%s on %s) was %s by the hub: %s",
            action.action_id,
            action.type,
            action.order_id,
            outcome,
            reason,
        )

    def conflicts(self, order_id: str | None = None, *, unresolved_only: bool = True) -> list[dict[str, Any]]:
        """Recorded conflicts and rejections (newest last)."""
        where, args = [], []
        if order_id is not None:
            where.append("order_id = ?")
            args.append(order_id)
        if unresolved_only:
            where.append("resolved_at IS NULL")
        sql = "SELECT * FROM conflicts" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self.read() as conn:
            rows = conn.exec_driver_sql(sql, tuple(args)).all()
        out = []
        for r in rows:
            d = dict(r._mapping)
            d["payload"] = json.loads(d["payload"])
            d["snapshot"] = json.loads(d.pop("snapshot_json")) if d.get("snapshot_json") else None
            out.append(d)
        return out

    def conflict_count(self) -> int:
        with self.read() as conn:
            return int(
                conn.exec_driver_sql("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL").scalar_one()
            )

    def resolve_conflict(self, order_id: str, operator: str, resolution: str) -> LocalOrder | None:
        """Mark an order's conflicts as dealt with (after the guided dialog) and clear its flag."""
        now = iso(utcnow())
        with self.write() as conn:
            conn.exec_driver_sql(
                "UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? "
                "WHERE order_id = ? AND resolved_at IS NULL",
                (now, operator, resolution, order_id),
            )
            conn.exec_driver_sql("UPDATE orders SET conflict_json = NULL WHERE order_id = ?", (order_id,))
            self.refresh_views(conn, [order_id])
            self.audit(
                conn,
                operator,
                "conflict_resolved",
                order_id=order_id,
                details={"resolution": resolution},
                at=now,
            )
            return self.get_order(order_id, conn)

    # -- full re-sync ------------------------------------------------------------------------

    def begin_full_resync(self) -> int:
        """Start a full re-sync: forget the cursor and return this pass's generation number."""
        with self.write() as conn:
            gen = int(self.get_meta(conn, "resync_gen") or 0) + 1
            self.set_meta(conn, "resync_gen", str(gen))
            self.set_meta(conn, "cursor", None)
        return gen

    def finish_full_resync(self, gen: int, cursor: int, *, scope: str | None = None) -> list[str]:
        """Drop orders the hub no longer lists for us (keeping any with pending work) and set the cursor.

        ``scope`` names the view the copy was built for (``all``, ``bench:B1``), stored with the cursor.
        """
        with self.write() as conn:
            gone = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT order_id FROM orders WHERE seen_gen != ? AND pending = 0 AND conflict_json IS NULL",
                    (gen,),
                ).all()
            ]
            if gone:
                conn.exec_driver_sql("DELETE FROM orders WHERE order_id = ?", [(g,) for g in gone])
            self.set_meta(conn, "cursor", str(cursor))
            if scope is not None:
                self.set_meta(conn, "cursor_scope", scope)
        return gone


def open_store(path: Path | None = None, *, busy_timeout_s: float = 10.0) -> LocalStore:
    """Open (creating or upgrading) the local store; by default the one in the user data folder.

    Raises:
        StoreCorrupt, StoreLocked, StoreTooNew: with a message for the operator; the file is kept.
    """
    from core import paths

    return LocalStore(path or paths.store_path(), busy_timeout_s=busy_timeout_s)
