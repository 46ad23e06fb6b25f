"""The ``conflicts`` table: actions the hub answered ``conflict`` or ``rejected``, until resolved.

A conflict is recorded with the action, the hub's reason and snapshot; the order is flagged with a
summary (``orders.conflict_json``) and the audit says so. The guided dialog resolves them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection

from core.store import audit, orders
from core.store.outbox import OutboxAction

log = logging.getLogger("packdesk.store")


def record(
    conn: Connection,
    action: OutboxAction,
    outcome: str,
    result: dict[str, Any],
    snap: dict[str, Any] | None,
    now: str | None,
) -> None:
    """Keep the hub's refusal of ``action``, flag its order and audit it (caller's transaction)."""
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
    orders.set_conflict(conn, action.order_id, {
        "outcome": outcome,
        "error": error,
        "reason": str(reason),
        "action_id": action.action_id,
        "type": action.type,
        "operator": action.operator,
        "done_at": action.done_at,
        "at": now,
    })
    audit.add(
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


def listed(conn: Connection, order_id: str | None = None, *, unresolved_only: bool = True) -> list[dict[str, Any]]:
    """Recorded conflicts and rejections (newest last)."""
    where, args = [], []
    if order_id is not None:
        where.append("order_id = ?")
        args.append(order_id)
    if unresolved_only:
        where.append("resolved_at IS NULL")
    sql = "SELECT * FROM conflicts" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    out = []
    for r in conn.exec_driver_sql(sql, tuple(args)).all():
        d = dict(r._mapping)
        d["payload"] = json.loads(d["payload"])
        d["snapshot"] = json.loads(d.pop("snapshot_json")) if d.get("snapshot_json") else None
        out.append(d)
    return out


def unresolved_count(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL").scalar_one())


def resolve(conn: Connection, order_id: str, operator: str, resolution: str, now: str | None) -> None:
    """Mark an order's conflicts as dealt with and clear its flag (the caller rebuilds the view)."""
    conn.exec_driver_sql(
        "UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? "
        "WHERE order_id = ? AND resolved_at IS NULL",
        (now, operator, resolution, order_id),
    )
    orders.set_conflict(conn, order_id, None)
