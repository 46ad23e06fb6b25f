"""The hub's tables and database engine.

Tables are SQLAlchemy Core: the hub writes in batches (intake, action replay) and Core keeps that
fast. The schema is created and changed only by Alembic migrations (``hub/migrations``); see
:func:`migrate`.

Ordering of changes: every change row gets its ``seq`` from the ``counters`` row ``changes``,
incremented with ``UPDATE … RETURNING`` inside the writing transaction. The row lock is held until
commit, so seqs become visible in commit order — a reader that sees 102 has already seen 101 (the
commit-order gap of a plain PostgreSQL sequence cannot happen).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    text,
    true,
)
from sqlalchemy.engine import Connection

log = logging.getLogger("packdesk.hub.db")

metadata = MetaData()

#: PostgreSQL advisory lock taken while migrating ("PackDesk" in ASCII, as a number).
MIGRATION_LOCK_KEY = 0x5061636B4465736B

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(32), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("channel_order_no", String(64), nullable=False),
    Column("channel_status", String(16), nullable=False),
    Column("channel_updated_at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("bench", String(32)),
    Column("warehouse", String(32)),
    Column("waybill_no", String(40)),
    Column("phone_tail", String(4)),
    Column("recipient_name", String(64)),
    Column("held", Boolean, nullable=False, default=False),
    #: Held for stock (an open ``stock_short`` or ``gift_stock`` hold): the short-stock figure's rows (0011).
    Column("stock_wait", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("doc", JSON, nullable=False),
    # The dashboard's facts (hub/facts.py, migration 0018): filtered and grouped on in SQL.
    Column("paid_at", DateTime(timezone=True)),
    Column("ship_by", DateTime(timezone=True)),
    Column("shipped_at", DateTime(timezone=True)),
    Column("packed_by", String(32)),
    Column("packed_at", DateTime(timezone=True)),
    UniqueConstraint("channel", "channel_order_no", name="uq_orders_channel_no"),
)
Index("ix_orders_bench_state", orders.c.bench, orders.c.state)
Index("ix_orders_state", orders.c.state)
Index("ix_orders_waybill", orders.c.waybill_no)
Index("ix_orders_phone_tail", orders.c.phone_tail)
Index("ix_orders_updated", orders.c.updated_at)
# The dashboard's figures (hub/metrics.py) read these without touching the wide rows (index-only
# scans on PostgreSQL): by intake, by promise, by packing, and the benches' backlog.
Index("ix_orders_intake", orders.c.created_at, orders.c.state, orders.c.held, orders.c.warehouse, orders.c.channel,
      orders.c.bench, orders.c.ship_by, orders.c.shipped_at)
Index("ix_orders_promise", orders.c.ship_by, orders.c.shipped_at, orders.c.state, orders.c.warehouse,
      orders.c.channel, orders.c.bench)
Index("ix_orders_packed", orders.c.packed_at, orders.c.bench, orders.c.packed_by, orders.c.warehouse, orders.c.channel)
Index("ix_orders_backlog", orders.c.state, orders.c.bench, orders.c.paid_at, orders.c.warehouse, orders.c.channel)
Index("ix_orders_stock_wait", orders.c.warehouse, orders.c.state, postgresql_where=orders.c.stock_wait,
      sqlite_where=orders.c.stock_wait == true())  # only the orders waiting for stock (short-stock figure, queue): 0011

counters = Table(
    "counters",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", String(32), nullable=False),
    Column("bench", String(32)),
    Column("prev_bench", String(32)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("doc", JSON, nullable=False),
    #: ``order`` or ``ticket`` (docs/sync.md "Entity kinds"); a ticket row's ``order_id`` is its order's
    Column("kind", String(8), nullable=False, server_default="order"),
)
Index("ix_changes_at", changes.c.at)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("station", String(64)),
    Column("last_applied_seq", BigInteger, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Each device's answers, by its own ``action_id``: the idempotency key is (device_id, action_id),
#: so another device reusing an ``action_id`` gets its own action processed, never this one's answer.
action_results = Table(
    "action_results",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("action_id", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("order_id", String(32)),
    Column("outcome", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("response", JSON, nullable=False),
)
Index("ix_action_results_device_seq", action_results.c.device_id, action_results.c.seq)

audit = Table(
    "audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("operator", String(32), nullable=False),
    Column("station", String(64), nullable=False),
    Column("what", String(32), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20)),
    Column("why", Text, nullable=False, default=""),
    Column("action_id", String(64)),
    Column("details", JSON, nullable=False),
)
Index("ix_audit_order", audit.c.order_id, audit.c.id)
Index("ix_audit_action", audit.c.action_id)
Index("ix_audit_what_at", audit.c.what, audit.c.at)

operators = Table(
    "operators",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

#: A named PC. Only an ``approved`` station can act; it is bound to one ``device_id`` (a replaced PC
#: needs approval again). A login on an unknown, revoked or re-bound station leaves its request in
#: the ``requested_*`` columns for a supervisor to approve (docs/security.md).
stations = Table(
    "stations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("bench", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("device_id", String(64)),
    Column("requested_bench", String(32)),
    Column("requested_device_id", String(64)),
    Column("requested_by", String(32)),
    Column("requested_at", DateTime(timezone=True)),
    Column("approved_by", String(32)),
    Column("approved_at", DateTime(timezone=True)),
)

#: Failed-login counters, one row per operator code given (``op:P001``) and per station
#: (``st:B1-PC``): several hub processes and restarts share the back-off and the lockout.
login_guard = Table(
    "login_guard",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("blocked_until", DateTime(timezone=True)),
    Column("last_failure_at", DateTime(timezone=True)),
)

#: Every login attempt and its result (never the PIN): the trail an admin reads after a lockout.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("operator", String(32), nullable=False),
    Column("station", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("result", String(32), nullable=False),
)
Index("ix_login_attempts_at", login_attempts.c.at)
Index("ix_login_attempts_operator", login_attempts.c.operator, login_attempts.c.id)

#: Who approved, revoked or moved a station, unlocked a login, changed an operator (not per order).
security_events = Table(
    "security_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("what", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("details", JSON, nullable=False),
)

#: Who has logged in on which station (kept for good, unlike tokens). Crediting offline work to
#: the operator who did it now needs that operator's action-key signature (``action_keys``).
station_logins = Table(
    "station_logins",
    metadata,
    Column("station", String(64), primary_key=True),
    Column("operator", String(32), primary_key=True),
    Column("last_login_at", DateTime(timezone=True), nullable=False),
)

#: One per successful login (``hub/action_keys.py``): the secret a device signs that operator's
#: outbox actions with, so work queued offline can be credited to them after a shift change.
action_keys = Table(
    "action_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("operator", String(32), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("secret", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_action_keys_expires", action_keys.c.expires_at)

tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("operator", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("station", String(64), nullable=False),
    Column("bench", String(32)),
    Column("device_id", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_tokens_operator", tokens.c.operator)
Index("ix_tokens_station", tokens.c.station)

#: Column mappings a site saved for order sheets of one shape (``hub/import_mappings.py``).
import_mappings = Table(
    "import_mappings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("headers", JSON, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("updated_by", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

webhook_queue = Table(
    "webhook_queue",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("subscriber", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_webhook_due", webhook_queue.c.delivered_at, webhook_queue.c.next_attempt_at)


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def _set_wal(cur: Any) -> None:
    """Switch a SQLite file to WAL, waiting for others doing the same.

    The switch needs the file to itself and SQLite answers "database is locked" at once rather than
    waiting out the busy timeout, so processes opening a new hub file together (a hub and a
    ``hub demo`` started side by side) take turns here.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class JsonText(str):
    """A value for a JSON column that is already serialised: written as it is.

    An order's snapshot goes to ``orders.doc`` and ``changes.doc`` in the same flush; serialised
    once (hub/writer.py) instead of once per column (issue 18).
    """

    __slots__ = ()


def dumps_json(value: Any) -> str:
    """The engines' JSON serialiser: :class:`JsonText` as it is, anything else as ``json.dumps`` did."""
    return value if type(value) is JsonText else json.dumps(value)


_INSERTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(table.insert(), rows)``; on SQLite without SQLAlchemy's per-row statement work.

    SQLite: one executemany at the driver, each value through its column type's own bind
    processor (the same stored form: datetime text, booleans as 0/1, JSON through
    :func:`dumps_json`), positional, no per-row parameter dictionaries; through the statement
    layer the writer's orders, audit and change rows cost more than SQLite's own work (issue 18).
    PostgreSQL keeps SQLAlchemy's multi-row INSERT (psycopg's executemany sends a statement per
    row, and a hand-made multi-row statement costs psycopg more to parse than it saves).
    Every row has the first row's keys.
    """
    if not rows:
        return
    if conn.dialect.paramstyle != "qmark":
        if conn.dialect.name == "postgresql":
            _insert_unnest(conn, table, rows)
        else:
            conn.execute(table.insert(), rows)
        return
    cols = tuple(rows[0])
    found = _INSERTS.get((table.name, cols))
    if found is None:
        names = ", ".join('"' + c + '"' for c in cols)
        procs = [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in cols]
        found = _INSERTS[(table.name, cols)] = (
            f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(cols))})", procs)
    sql, procs = found
    columns = []
    for c, p in zip(cols, procs, strict=True):  # column by column: one loop per column, not per value
        values = [r[c] for r in rows]
        if p is not None:
            if isinstance(table.c[c].type, DateTime):  # mostly the one time object of the transaction
                # by identity, not equality: 12:00Z and 20:00+08:00 are equal and stored apart
                done = {k: p(v) for k, v in {id(v): v for v in values}.items()}
                values = [done[id(v)] for v in values]
            else:
                values = list(map(p, values))
        columns.append(values)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


_UNNESTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[bool]]] = {}


def _array_type(column: Column[Any]) -> str:
    """The PostgreSQL array type :func:`_insert_unnest` sends a column's values as.

    Text goes as ``text[]``, never ``varchar(n)[]``: an explicit cast to ``varchar(n)`` would cut
    a value that is too long, where the INSERT's own assignment refuses it, as before.
    """
    t = column.type
    if isinstance(t, JSON):
        return "json[]"
    if isinstance(t, String):  # Text too
        return "text[]"
    if isinstance(t, Boolean):
        return "boolean[]"
    if isinstance(t, BigInteger):
        return "bigint[]"
    if isinstance(t, Integer):
        return "integer[]"
    if isinstance(t, Float):
        return "double precision[]"
    if isinstance(t, DateTime):
        return "timestamptz[]" if t.timezone else "timestamp[]"
    raise TypeError(f"{column}: no array type for {t!r}")


def _insert_unnest(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: all the rows in one statement, each column as one array (``unnest``).

    psycopg's executemany sends one INSERT per row (pipelined) and a multi-row VALUES statement
    differs in text with every row count; this one is the same statement for any number of rows
    (prepared once per connection), with a handful of parameters, and the server inserts the rows
    in array order (``WITH ORDINALITY``: identity columns rise in the order given, as before).
    JSON values go through :func:`dumps_json`, as the engine's serialiser would send them.
    """
    cols = tuple(rows[0])
    found = _UNNESTS.get((table.name, cols))
    if found is None:
        names = ", ".join('"' + c + '"' for c in cols)
        arrays = ", ".join(f"%b::{_array_type(table.c[c])}" for c in cols)
        found = _UNNESTS[(table.name, cols)] = (
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM unnest({arrays}) "
            f"WITH ORDINALITY AS u({names}, _n) ORDER BY _n",
            [isinstance(table.c[c].type, JSON) for c in cols])
    sql, is_json = found
    params = tuple([dumps_json(r[c]) for r in rows] if j else [r[c] for r in rows]
                   for c, j in zip(cols, is_json, strict=True))
    conn.exec_driver_sql(sql, params)


def driver_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (the driver's own parameter marks) on the connection's DBAPI cursor, inside its
    transaction, and return the rows (``[]`` for a statement that returns none).

    For the few statements run once per order at allocation (hub/stock.py): SQLAlchemy's
    ``exec_driver_sql`` costs about 27 µs of Python per call here and the cursor 6 µs, which is most
    of what reserving stock adds to an allocation (bench/allocation.py). Values must already be in
    the driver's form (see ``hub.stock._time``); no SQLAlchemy events run for them.
    """
    cur = conn.connection.cursor()
    try:
        cur.execute(sql, tuple(params))
        return list(cur.fetchall()) if cur.description else []
    finally:
        cur.close()


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions.

    ``BEGIN IMMEDIATE`` takes SQLite's write lock at the start of every transaction: two writers
    queue instead of both reading and then failing to upgrade ("database is locked").

    ``read_only=True`` makes the engine of the hub's read path (GET handlers, the long-poll tail):
    its own small pool, so readers never hold a connection a writer waits for; on SQLite a plain
    deferred ``BEGIN`` under WAL (a snapshot of the last commit that takes no lock, so readers and
    the one writer never queue behind each other) with ``query_only``; on PostgreSQL ``BEGIN READ
    ONLY``. A write through it fails at once instead of taking a lock it was not built for. Commit
    order still holds for its readers: a snapshot (SQLite) or a statement (PostgreSQL) sees a
    prefix of the committed seqs, because seqs are taken under the counter's row lock.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=dumps_json,
                               **({"pool_size": 4, "max_overflow": 8} if read_only else {}))

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            _set_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if read_only:
        engine = create_engine(url, pool_size=4, max_overflow=8, pool_pre_ping=True, json_serializer=dumps_json)

        @event.listens_for(engine, "connect")
        def _pg_read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.read_only = True  # psycopg sends BEGIN READ ONLY: no extra round trip

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_serializer=dumps_json)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (safe on a live database: migrations only)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        if is_postgres(conn):
            # Several hub processes starting at once over one database: one migrates, the others
            # wait here and then find the schema at head (instead of failing on CREATE TABLE).
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def next_counter(conn: Connection, key: str, n: int = 1) -> int:
    """Add ``n`` to counter ``key`` (created at 0) and return the new value; the row stays locked until commit.

    One upsert statement, so two transactions creating the same new counter (the first order of a
    day) queue on the row instead of one failing on the primary key.
    """
    row = conn.execute(
        text("INSERT INTO counters (key, value) VALUES (:k, :n) "
             "ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value RETURNING value"),
        {"n": n, "k": key},
    ).first()
    assert row is not None
    return int(row[0])


def read_counter(conn: Connection, key: str) -> int:
    row = conn.execute(text("SELECT value FROM counters WHERE key = :k"), {"k": key}).first()
    return int(row[0]) if row else 0


# -- shop connectors (issue 12; hub/channels/store.py is the one door to these tables) ----------------

#: One shop on one platform (docs/channels.md "Connectors"). ``app_secret`` and the tokens are
#: stored because the engine needs them; they are never logged and never served by an API.
#: ``pull_cursor`` is the end of the last window pulled whole: it moves in the same transaction as
#: the orders of that window's last page. ``lease_*`` keeps two hub processes from pulling one
#: connector at once; ``next_pull_at`` / ``attempts`` schedule it and its back-off; the rest is health.
connectors = Table(
    "connectors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("shop_id", String(64), nullable=False),
    Column("app_key", String(128), nullable=False),
    Column("app_secret", Text, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("interval_s", Float, nullable=False, default=15.0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("extra", JSON, nullable=False),
    Column("access_token", Text),
    Column("token_expires_at", DateTime(timezone=True)),
    Column("refresh_token", Text),
    Column("refresh_expires_at", DateTime(timezone=True)),
    Column("pull_cursor", DateTime(timezone=True), nullable=False),
    Column("next_pull_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_pull_at", DateTime(timezone=True)),
    Column("newest_update_at", DateTime(timezone=True)),
    Column("orders_day", String(10)),
    Column("orders_today", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_kind", String(32)),
    Column("failing_since", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "shop_id", name="uq_connectors_platform_shop"),
)

#: Which connector brought an order in (pull or push): the shop a shipment is written back to.
#: Orders from import or a generic push have no row, so nothing is written back for them.
connector_orders = Table(
    "connector_orders",
    metadata,
    Column("order_id", String(32), primary_key=True),
    Column("connector_id", Integer, nullable=False),
)

#: Pushed messages, stored before the platform gets its answer and applied by the engine after:
#: a push that arrives while the platform API is down waits here. One row per (platform, message,
#: order): a message delivered twice is stored once.
channel_inbox = Table(
    "channel_inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("msg_key", String(128), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("channel_order_no", String(64), nullable=False),
    Column("status", String(16)),
    Column("channel_updated_at", DateTime(timezone=True)),
    Column("order_json", JSON),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Column("outcome", String(32)),
    Column("last_error", Text),
    UniqueConstraint("platform", "msg_key", "channel_order_no", name="uq_channel_inbox_msg"),
)
Index("ix_channel_inbox_due", channel_inbox.c.applied_at, channel_inbox.c.next_attempt_at)

#: Shipments to write back to the shop, enqueued in the transaction that shipped the order. A row
#: is done when ``sent_at`` (the platform recorded it) or ``refused_at`` (it said no: a hold was
#: raised) is set; until then it is retried with back-off, across restarts.
ship_queue = Table(
    "ship_queue",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("channel_order_no", String(64), nullable=False),
    Column("carrier", String(16), nullable=False),
    Column("waybill", String(40), nullable=False),
    Column("shipped_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("refused_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("order_id", "waybill", name="uq_ship_queue_order_waybill"),
)
Index("ix_ship_queue_due", ship_queue.c.sent_at, ship_queue.c.refused_at, ship_queue.c.next_attempt_at)

#: E-waybill accounts (hub/carriers/store.py): which provider serves which carrier, with its secrets
#: in ``settings`` (never served: :func:`hub.carriers.store.public_row`). One account per carrier;
#: a carrier without one is numbered by the demo provider (hub/carriers/demo.py).
carrier_accounts = Table(
    "carrier_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("carrier", String(16), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("base_url", Text, nullable=False),
    Column("sender", JSON, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("last_ok_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("last_error_kind", String(32)),
    Column("failing_since", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("carrier", name="uq_carrier_accounts_carrier"),
)

#: The outbound e-waybill queue (hub/carriers/queue.py): ``fetch`` asks the provider for an
#: order's waybill (``order_code`` is what the provider dedupes on: the order ID, plus ``-N`` after
#: N-1 voids), ``cancel`` gives a voided one back (回收). A row is done when ``done_at`` is set
#: (``outcome`` says how) or ``refused_at`` (the provider said no, or a cancel gave up); until then
#: it is retried with back-off, across restarts. ``dedupe_key`` makes each fetch / cancel one row.
waybill_queue = Table(
    "waybill_queue",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("op", String(8), nullable=False),
    Column("dedupe_key", String(80), nullable=False),
    Column("order_id", String(32), nullable=False),
    Column("order_code", String(40), nullable=False),
    Column("carrier", String(16), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("waybill", String(40)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("refused_at", DateTime(timezone=True)),
    Column("outcome", String(32)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_waybill_queue_dedupe"),
)
Index("ix_waybill_queue_due", waybill_queue.c.done_at, waybill_queue.c.refused_at, waybill_queue.c.next_attempt_at)
Index("ix_waybill_queue_order", waybill_queue.c.order_id)


# -- carrier tracking (issue 13; hub/carriers/tracking_store.py is the one door to these tables) -------

#: Tracking subscriptions to send (快递100 /poll), enqueued in the transaction that shipped the order
#: and retried with back-off until the provider accepts (``subscribed_at``) or refuses (``refused_at``).
tracking_subscriptions = Table(
    "tracking_subscriptions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False),
    Column("carrier", String(16), nullable=False),
    Column("waybill", String(40), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("subscribed_at", DateTime(timezone=True)),
    Column("refused_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("order_id", "waybill", name="uq_tracking_sub_order_waybill"),
)
Index("ix_tracking_sub_due", tracking_subscriptions.c.subscribed_at, tracking_subscriptions.c.refused_at,
      tracking_subscriptions.c.next_attempt_at)

#: Verified tracking pushes, stored before the provider gets its answer and applied in batches
#: after. One row per distinct push (``msg_key`` is a digest of what it says): a replay is stored once.
tracking_inbox = Table(
    "tracking_inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("msg_key", String(64), nullable=False),
    Column("waybill", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Column("outcome", String(32)),
    Column("last_error", Text),
    UniqueConstraint("provider", "msg_key", name="uq_tracking_inbox_msg"),
)
Index("ix_tracking_inbox_due", tracking_inbox.c.applied_at, tracking_inbox.c.next_attempt_at)

#: Every tracking event of every order, once (``event_key`` digests time and text): pushes that
#: repeat or overlap merge here, in any order; the order's ``tracking`` list is read from it.
tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False),
    Column("waybill", String(40), nullable=False),
    Column("event_key", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("place", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("raw_code", String(16), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("order_id", "event_key", name="uq_tracking_events_key"),
)
Index("ix_tracking_events_order_at", tracking_events.c.order_id, tracking_events.c.at)

#: Stock per SKU per warehouse (docs/stock.md): ``on_hand - reserved`` is what allocation may still
#: promise. Only :mod:`hub.stock` writes it; a SKU with no row here is not counted (untracked).
stock = Table(
    "stock",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: the as-of time of the WMS count last applied to this row (``hub.stock.apply_wms``): older ones are ignored
    Column("wms_as_of", DateTime(timezone=True)),
    #: returned units graded damaged (docs/returns.md): not on hand, not available (migration 0012)
    Column("quarantine", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("sku", "warehouse", name="uq_stock_sku_warehouse"),
)

#: One row per change of a stock row: who, why (an order or a reason), by how much. An order's
#: open reservation is the sum of its rows' ``delta_reserved`` (release and consume read it).
stock_moves = Table(
    "stock_moves",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", String(32)),
    Column("reason", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("delta_on_hand", Integer, nullable=False),
    Column("delta_reserved", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(64), nullable=False),
    Column("note", String(200)),  # an adjustment's note, a WMS push's message ID
    Column("delta_quarantine", Integer, nullable=False, default=0, server_default="0"),  # returns (0012)
)
Index("ix_stock_moves_order", stock_moves.c.order_id)

#: Notifications out (hub/notify/, docs/notifications.md): one row per message to a WeCom group robot
#: or one buyer SMS, written in the transaction of the change that caused it; drained like
#: ``waybill_queue`` (hub/outqueue.py). ``body`` is what will be sent (the robot's message JSON, the
#: SMS template, its params and the phone); ``outcome``: sent, refused, skipped (never sendable, e.g.
#: an encrypted phone), gave_up, not_needed (a VIP order shipped before it was overdue).
notify_queue = Table(
    "notify_queue",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("dedupe_key", String(160), nullable=False),
    Column("channel", String(8), nullable=False),  # wecom | sms
    Column("target", String(64), nullable=False),  # the robot's name / the SMS template's name
    Column("event", String(40), nullable=False),
    Column("order_id", String(32)),
    Column("body", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("refused_at", DateTime(timezone=True)),
    Column("outcome", String(32)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_notify_queue_dedupe"),
)
Index("ix_notify_queue_due", notify_queue.c.done_at, notify_queue.c.refused_at, notify_queue.c.next_attempt_at)
Index("ix_notify_queue_order", notify_queue.c.order_id)

# -- customer tickets (issue 15; hub/tickets.py is the one door to these tables, docs/tickets.md) -------

#: One customer ticket (工单), linked to an order. ``ticket_id`` is made by whoever opens it (a desk
#: PC offline makes a UUID), so later actions queued offline can name it. ``due_at`` is the next
#: SLA deadline (first reply while a contact waits, else closing); NULL when closed.
tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String(40), primary_key=True),
    Column("order_id", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("status", String(8), nullable=False),  # open | closed
    Column("source", String(16), nullable=False),
    Column("vip", Boolean, nullable=False, default=False),
    Column("assignee", String(32)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("doc", JSON, nullable=False),
    # the SLA watcher (hub/sla_watch.py, migration 0019): the deadline still to be told when it passes
    # (NULL: told, or nothing due), and the last deadline told, so one deadline is told once
    Column("sla_watch_at", DateTime(timezone=True)),
    Column("sla_notified_due", DateTime(timezone=True)),
)
Index("ix_tickets_order", tickets.c.order_id)
Index("ix_tickets_sla_watch", tickets.c.sla_watch_at)
Index("ix_tickets_status_due", tickets.c.status, tickets.c.due_at)
Index("ix_tickets_assignee_status", tickets.c.assignee, tickets.c.status)

#: Every event of every ticket (opened, contact, assigned, replied, closed, reopened): the trail.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("operator", String(32), nullable=False),
    Column("channel", String(16)),
    Column("text", Text, nullable=False, default=""),
    Column("action_id", String(64)),
    Column("details", JSON, nullable=False),
)
Index("ix_ticket_events_ticket", ticket_events.c.ticket_id, ticket_events.c.id)

#: One row per contact episode (docs/tickets.md "The touchpoint metric"): what the metric reads.
#: ``day`` / ``week`` (site-local date, the week's Monday) are the episode start's, as text.
ticket_episodes = Table(
    "ticket_episodes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("type", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("day", String(10), nullable=False),
    Column("week", String(10), nullable=False),
    Column("replied_at", DateTime(timezone=True)),
    Column("first_reply_s", Integer),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_s", Integer),
)
Index("ix_ticket_episodes_day", ticket_episodes.c.day)
Index("ix_ticket_episodes_week", ticket_episodes.c.week)
Index("ix_ticket_episodes_ticket", ticket_episodes.c.ticket_id)
# the touchpoint metric's rank reads (hub/metrics_touchpoint.py, migration 0019): each bucket's values in
# order, so the k-th is read by walking the index, not by sorting the bucket; ``type`` is carried for the
# per-type filter (read from the index, no table visit)
for _bucket in ("day", "week"):
    for _value in ("first_reply_s", "closed_s"):
        Index(f"ix_ticket_episodes_{_bucket}_{_value}", ticket_episodes.c[_bucket], ticket_episodes.c[_value],
              ticket_episodes.c.type, postgresql_where=ticket_episodes.c[_value].is_not(None),
              sqlite_where=ticket_episodes.c[_value].is_not(None))
