"""The bench's local store (SQLite via SQLAlchemy): orders, outbox, cursor, conflicts, journal, audit.

See :mod:`core.store.db` for the store and :mod:`core.store.overlay` for how pending actions are
shown on top of the hub's snapshots.
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
