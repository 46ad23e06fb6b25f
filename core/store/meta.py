"""The ``meta`` table: small named values of this station.

The change-feed cursor and its scope, the full re-sync generation, the device's next outbox
``seq``, the last successful sync, the action key per operator and the offline-login records.
Every statement on the table is here; callers name the key, this module owns the SQL.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import Connection

log = logging.getLogger("packdesk.store")

#: Key prefix of the action key stored per operator (:func:`set_action_key`).
ACTION_KEY_PREFIX = "action_key:"


def get(conn: Connection, key: str) -> str | None:
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).first()
    return None if row is None else str(row[0])


def put(conn: Connection, key: str, value: str | None) -> None:
    """Set a value; None removes the key."""
    if value is None:
        conn.exec_driver_sql("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.exec_driver_sql(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def next_seq(conn: Connection) -> int:
    """Take the device's next outbox seq (inside the caller's write transaction)."""
    seq = int(get(conn, "next_seq") or 1)
    put(conn, "next_seq", str(seq + 1))
    return seq


def cursor(conn: Connection) -> int | None:
    """The change-feed cursor, or None when the station has never finished a full sync."""
    value = get(conn, "cursor")
    return None if value is None else int(value)


def next_resync_gen(conn: Connection) -> int:
    """Start a full re-sync: forget the cursor and take this pass's generation number."""
    gen = int(get(conn, "resync_gen") or 0) + 1
    put(conn, "resync_gen", str(gen))
    put(conn, "cursor", None)
    return gen


def set_action_key(conn: Connection, operator: str, key: dict[str, str]) -> None:
    """Keep the action key an online login gave this device for ``operator`` (the newest one only)."""
    put(conn, ACTION_KEY_PREFIX + operator, json.dumps(
        {"key_id": key["key_id"], "key": key["key"], "expires_at": key["expires_at"]}))


def action_key(conn: Connection, operator: str) -> dict[str, str] | None:
    """The stored action key for ``operator`` (``{"key_id", "key", "expires_at"}``), or None."""
    raw = get(conn, ACTION_KEY_PREFIX + operator)
    if raw is None:
        return None
    try:
        rec = json.loads(raw)
        return {"key_id": str(rec["key_id"]), "key": str(rec["key"]), "expires_at": str(rec["expires_at"])}
    except (ValueError, KeyError, TypeError):
        log.warning("The action key stored for %s is unreadable; actions are sent unsigned", operator)
        return None
