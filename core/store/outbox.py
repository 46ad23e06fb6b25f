"""The ``outbox`` table: actions done on this station and not yet answered by the hub.

Every statement on the table is here: :func:`insert` (the action API, in the same transaction as
the local change), :func:`pending` and :func:`for_orders` (what the sync engine sends, what the
local view replays), :func:`mark_attempt` (a batch sent without a final answer) and
:func:`delete` (the hub answered). A row's ``seq`` is the device's order of actions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from core.store.overlay import PendingAction

_CHUNK = 900  # stay well under SQLite's bound-parameter limit


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
        """The action as the hub's ``POST /api/v1/actions`` takes it (and as it was signed)."""
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
        """The action as the overlay replays it on the hub's snapshot."""
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


def stored_payload(payload: dict[str, Any]) -> str:
    """The payload as the outbox keeps it: the bytes a signature covers are the bytes sent later."""
    return json.dumps(payload, ensure_ascii=False)


def insert(conn: Connection, action: OutboxAction) -> None:
    """Queue an action (inside the caller's write transaction, beside the local change it made)."""
    conn.exec_driver_sql(
        "INSERT INTO outbox(seq, action_id, order_id, type, payload, base_version, operator, done_at, key_id, sig)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            action.seq,
            action.action_id,
            action.order_id,
            action.type,
            stored_payload(action.payload),
            action.base_version,
            action.operator,
            action.done_at,
            action.key_id,
            action.sig,
        ),
    )


def pending(conn: Connection, limit: int = 500) -> list[OutboxAction]:
    """The oldest queued actions, in seq order."""
    rows = conn.exec_driver_sql("SELECT * FROM outbox ORDER BY seq LIMIT ?", (limit,)).all()
    return [_row_action(r) for r in rows]


def count(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one())


def for_orders(conn: Connection, order_ids: Iterable[str]) -> dict[str, list[OutboxAction]]:
    """The queued actions of these orders (order ID -> actions in seq order; absent: none)."""
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


def mark_attempt(conn: Connection, seqs: list[int], error: str | None) -> None:
    """Count one more send without a final answer (and why), for support."""
    if seqs:
        conn.exec_driver_sql(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            [(error, s) for s in seqs],
        )


def delete(conn: Connection, seqs: list[int]) -> None:
    """Forget actions the hub gave a final answer to."""
    if seqs:
        conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
