"""The bench's local store (SQLite via SQLAlchemy): orders, outbox, cursor, conflicts, journal, audit.

:mod:`core.store.db` is the entry point (:class:`LocalStore`: open, transactions, migrations, the
calls the app makes); each table's SQL lives in its own module and nowhere else:

* :mod:`core.store.orders` — hub snapshots and local views (``orders``);
* :mod:`core.store.outbox` — queued actions (``outbox``);
* :mod:`core.store.conflicts` — the hub's refusals until resolved (``conflicts``);
* :mod:`core.store.journal` — the print journal (``print_jobs``);
* :mod:`core.store.meta` — cursor, seq, action keys, operator records (``meta``);
* :mod:`core.store.audit` — who did what here (``local_audit``);
* :mod:`core.store.scan_progress` — half-packed orders' scan counts (``scan_progress``);
* :mod:`core.store.migrations` — the schema and its versions.

:mod:`core.store.overlay` replays pending actions on top of the hub's snapshots.
"""

from __future__ import annotations

from core.store.db import (
    LocalOrder,
    LocalStore,
    OutboxAction,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreTooNew,
    StoreUnwritable,
    open_store,
)

__all__ = [
    "LocalOrder",
    "LocalStore",
    "OutboxAction",
    "StoreCorrupt",
    "StoreError",
    "StoreLocked",
    "StoreTooNew",
    "StoreUnwritable",
    "open_store",
]
