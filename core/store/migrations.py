"""Versioned schema migrations for the local store, tracked in ``PRAGMA user_version``.

Each step takes the store from version N-1 to N and is never edited once released: an upgraded
client opens a store made by any older one by running the steps it has not yet seen, each in its
own transaction. A store newer than this client is refused (with a clear message), never touched.
Alembic would be heavier than this needs: the store is one file owned by one client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

log = logging.getLogger("packdesk.store")


def _v1(conn: Connection) -> None:
    """The first store: orders (hub base + local view), meta, outbox, conflicts."""
    for ddl in (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE orders (
            order_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            bench TEXT,
            waybill_no TEXT,
            channel_order_no TEXT,
            phone_tail TEXT,
            name TEXT,
            ship_by TEXT,
            created_at TEXT,
            flags TEXT NOT NULL DEFAULT '',
            severity INTEGER NOT NULL DEFAULT 0,
            hub_version INTEGER NOT NULL,
            hub_json TEXT NOT NULL,
            local_json TEXT NOT NULL,
            pending INTEGER NOT NULL DEFAULT 0,
            conflict_json TEXT,
            seen_gen INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX ix_orders_state ON orders(state)",
        "CREATE INDEX ix_orders_bench ON orders(bench)",
        "CREATE INDEX ix_orders_waybill ON orders(waybill_no)",
        "CREATE INDEX ix_orders_channel_no ON orders(channel_order_no)",
        "CREATE INDEX ix_orders_phone_tail ON orders(phone_tail)",
        "CREATE INDEX ix_orders_name ON orders(name)",
        "CREATE INDEX ix_orders_sort ON orders(severity DESC, ship_by, created_at)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            action_id TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            base_version INTEGER NOT NULL,
            operator TEXT NOT NULL,
            done_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
        "CREATE INDEX ix_outbox_order ON outbox(order_id)",
        """CREATE TABLE conflicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            action_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            order_id TEXT NOT NULL,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            operator TEXT NOT NULL,
            done_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT,
            reason TEXT,
            snapshot_json TEXT,
            at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT
        )""",
        "CREATE INDEX ix_conflicts_order ON conflicts(order_id)",
    ):
        conn.exec_driver_sql(ddl)


def _v2(conn: Connection) -> None:
    """Print journal, audit of local actions, and the lane as a sortable column."""
    for ddl in (
        """CREATE TABLE print_jobs (
            job_id TEXT PRIMARY KEY,
            doc_type TEXT NOT NULL,
            order_ids TEXT NOT NULL,
            printer TEXT NOT NULL,
            ok INTEGER NOT NULL,
            error TEXT,
            operator TEXT NOT NULL,
            at TEXT NOT NULL,
            reprint_reason TEXT,
            action_ids TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX ix_print_jobs_at ON print_jobs(at)",
        """CREATE TABLE local_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            operator TEXT NOT NULL,
            what TEXT NOT NULL,
            order_id TEXT,
            action_id TEXT,
            details TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX ix_local_audit_order ON local_audit(order_id)",
        "ALTER TABLE orders ADD COLUMN lane TEXT NOT NULL DEFAULT 'normal'",
        "CREATE INDEX ix_orders_lane ON orders(lane)",
    ):
        conn.exec_driver_sql(ddl)


def _v3(conn: Connection) -> None:
    """Each outbox action's signature by the key of the operator who wrote it (core/action_sig.py)."""
    conn.exec_driver_sql("ALTER TABLE outbox ADD COLUMN key_id TEXT")
    conn.exec_driver_sql("ALTER TABLE outbox ADD COLUMN sig TEXT")


#: Columns of ``orders`` that only ``LocalStore.list_orders`` read (filter, sort, search in SQL)
#: while the queues computed the same from the local view: dropped in v4, with their indexes.
_V4_DEAD_INDEXES = ("ix_orders_state", "ix_orders_bench", "ix_orders_phone_tail", "ix_orders_name",
                    "ix_orders_sort", "ix_orders_lane")
_V4_DEAD_COLUMNS = ("state", "bench", "phone_tail", "name", "ship_by", "created_at", "flags", "severity", "lane")


def _v4(conn: Connection) -> None:
    """Queues, flags and search come from the local view (core/queues.py): their copies in columns go.

    Dropping a column rewrites the table once; every upsert after that writes 9 columns and 3
    indexes instead of 18 and 9. SQLite refuses to drop an indexed column, so the indexes go first.
    """
    for index in _V4_DEAD_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    for column in _V4_DEAD_COLUMNS:
        conn.exec_driver_sql(f"ALTER TABLE orders DROP COLUMN {column}")


def _v5(conn: Connection) -> None:
    """The bench's scan count of each half-packed order survives a restart (core/store/scan_progress.py)."""
    conn.exec_driver_sql(
        """CREATE TABLE scan_progress (
            order_id TEXT PRIMARY KEY,
            counted TEXT NOT NULL,
            operator TEXT NOT NULL,
            at TEXT NOT NULL
        )""")


def _v6(conn: Connection) -> None:
    """The bench's handover batches (交接) and the parcels scanned into them (core/store/handover.py).

    An open batch lives here, not in memory: a restart finds it with every parcel scanned so far.
    """
    for ddl in (
        """CREATE TABLE handover_batches (
            batch_id TEXT PRIMARY KEY,
            carrier TEXT NOT NULL,
            station TEXT NOT NULL,
            bench TEXT NOT NULL,
            operator TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',
            closed_at TEXT,
            closed_by TEXT
        )""",
        "CREATE INDEX ix_handover_batches_status ON handover_batches(status)",
        """CREATE TABLE handover_parcels (
            batch_id TEXT NOT NULL REFERENCES handover_batches(batch_id),
            order_id TEXT NOT NULL,
            waybill_no TEXT NOT NULL,
            operator TEXT NOT NULL,
            scanned_at TEXT NOT NULL,
            PRIMARY KEY (batch_id, order_id)
        )""",
        "CREATE INDEX ix_handover_parcels_order ON handover_parcels(order_id)",
    ):
        conn.exec_driver_sql(ddl)


def _v7(conn: Connection) -> None:
    """The return being counted at this bench (退货入库, core/store/returns.py): one row at most.

    Every scan and grade is written here at once, so a restart (or a crash) finds the return as it
    was; recording the return deletes the row in the transaction that queues the action.
    """
    conn.exec_driver_sql("""CREATE TABLE return_drafts (
        order_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        units TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""")


def _v8(conn: Connection) -> None:
    """Customer tickets a desk PC sees (工单, core/store/tickets.py, docs/tickets.md).

    ``hub_json`` is the hub's document (NULL for a ticket opened here and not yet answered);
    ``local_json`` the view shown: that document with this PC's queued ticket actions replayed on
    it. The few columns beside them are what the queue sorts and filters by without parsing JSON.
    """
    for ddl in (
        """CREATE TABLE tickets (
            ticket_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL,
            status TEXT NOT NULL,
            due_at TEXT,
            hub_version INTEGER NOT NULL DEFAULT 0,
            hub_json TEXT,
            local_json TEXT NOT NULL,
            pending INTEGER NOT NULL DEFAULT 0,
            conflict_json TEXT,
            seen_gen INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX ix_tickets_order ON tickets(order_id)",
        "CREATE INDEX ix_tickets_status_due ON tickets(status, due_at)",
    ):
        conn.exec_driver_sql(ddl)


def _v9(conn: Connection) -> None:
    """Each order's queue facts in columns (``queue_rows``, core/store/orders.py; issue 18).

    A desk's load read and parsed 100,000 JSON views; it now reads these columns. Keyed by the
    queue sort key's ship-by, order-time and ID fields (WITHOUT ROWID: the table is that index),
    so a load reads them in queue order within each severity; the unique index finds an order by
    ID. Triggers keep ``pending`` and ``conflict`` and removals in step with ``orders``. Filled
    from the views when the store is opened (``LocalStore._open``: the meta key
    ``queue_rows_rule`` is not yet set), the step itself only makes the table.
    """
    for ddl in (
        """CREATE TABLE queue_rows (
            ship_key TEXT NOT NULL,
            created_key TEXT NOT NULL,
            order_id TEXT NOT NULL,
            state TEXT NOT NULL,
            bench TEXT NOT NULL,
            recipient TEXT NOT NULL,
            phone TEXT NOT NULL,
            items INTEGER NOT NULL,
            updated_at TEXT,
            handover_due TEXT,
            carrier TEXT NOT NULL,
            cutoff TEXT NOT NULL,
            search TEXT NOT NULL,
            vip INTEGER NOT NULL,
            gift INTEGER NOT NULL,
            held INTEGER NOT NULL,
            extra TEXT,
            pending INTEGER NOT NULL,
            conflict INTEGER NOT NULL,
            PRIMARY KEY (ship_key, created_key, order_id)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX ix_queue_rows_order ON queue_rows(order_id)",
        # The two columns that change without the view changing, and a removal, follow ``orders``
        # whoever writes it; the facts of a view are written with it (core/store/orders.py).
        """CREATE TRIGGER queue_rows_pending_conflict AFTER UPDATE OF pending, conflict_json ON orders
           WHEN NEW.pending IS NOT OLD.pending OR (NEW.conflict_json IS NULL) IS NOT (OLD.conflict_json IS NULL)
           BEGIN
               UPDATE queue_rows SET pending = NEW.pending, conflict = NEW.conflict_json IS NOT NULL
               WHERE order_id = NEW.order_id;
           END""",
        """CREATE TRIGGER queue_rows_deleted AFTER DELETE ON orders
           BEGIN
               DELETE FROM queue_rows WHERE order_id = OLD.order_id;
           END""",
    ):
        conn.exec_driver_sql(ddl)


#: The migration steps, in order; index i takes the store to version i + 1.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9)
LATEST = len(MIGRATIONS)


def user_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def migrate(conn: Connection, target: int = LATEST) -> int:
    """Bring the store up to ``target``, one committed step at a time; returns the version reached.

    ``conn`` must not be inside a transaction (each step opens its own ``BEGIN IMMEDIATE``).
    """
    version = user_version(conn)
    if conn.in_transaction():
        conn.rollback()  # the read above auto-began one; each step below opens its own
    while version < target:
        step = MIGRATIONS[version]
        log.info("Migrating local store from version %d to %d", version, version + 1)
        with conn.begin():
            step(conn)
            # PRAGMA takes no bound parameters; the value is our own int.
            conn.exec_driver_sql(f"PRAGMA user_version = {version + 1}")
        version += 1
    return version
