"""The ``local_audit`` table: who did what on this station, when (actions, prints, conflicts)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from core.timeutil import iso, utcnow


def add(
    conn: Connection,
    operator: str,
    what: str,
    *,
    order_id: str | None = None,
    action_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: str | None = None,
) -> None:
    """Append one entry (inside the caller's write transaction, beside the change it records)."""
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


def entries(conn: Connection, order_id: str | None = None) -> list[dict[str, Any]]:
    """The entries (of one order, or all), oldest first."""
    sql = "SELECT id, at, operator, what, order_id, action_id, details FROM local_audit"
    args: tuple[Any, ...] = ()
    if order_id is not None:
        sql += " WHERE order_id = ?"
        args = (order_id,)
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
