"""The ``return_drafts`` table: the return being counted at this bench (退货入库, store v7).

One row at most: the parcel's order, every unit taken out of it with its grade (``""`` while it
waits for F2 / F3), and the note. Written at every scan and grade, so a restart finds the return
as it was; deleted when the return is recorded (in that transaction) or dropped.
:mod:`core.returns` decides what the units mean; this module owns the statements on the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class DraftRow:
    """The return in progress as stored. ``units``: ``(sku, n, grade)`` in scan order."""

    order_id: str
    operator: str
    units: tuple[tuple[str, int, str], ...]
    note: str
    started_at: str
    updated_at: str


def save(conn: Connection, row: DraftRow) -> None:
    """Store ``row`` as the one return in progress (another order's draft is replaced)."""
    old = conn.exec_driver_sql("SELECT started_at FROM return_drafts WHERE order_id = ?", (row.order_id,)).first()
    conn.exec_driver_sql("DELETE FROM return_drafts")
    conn.exec_driver_sql(
        "INSERT INTO return_drafts(order_id, operator, units, note, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (row.order_id, row.operator, json.dumps([list(u) for u in row.units], ensure_ascii=False), row.note,
         old[0] if old is not None else row.started_at, row.updated_at))


def load(conn: Connection) -> DraftRow | None:
    r = conn.exec_driver_sql(
        "SELECT order_id, operator, units, note, started_at, updated_at FROM return_drafts "
        "ORDER BY updated_at DESC LIMIT 1").first()
    if r is None:
        return None
    units: list[tuple[str, int, str]] = []
    try:
        raw = json.loads(r[2])
    except ValueError:
        raw = []
    for u in raw if isinstance(raw, list) else []:
        if (isinstance(u, list) and len(u) == 3 and isinstance(u[0], str) and isinstance(u[1], int)
                and isinstance(u[2], str)):
            units.append((u[0], u[1], u[2]))
    return DraftRow(r[0], r[1], tuple(units), r[3], r[4], r[5])


def clear(conn: Connection) -> None:
    conn.exec_driver_sql("DELETE FROM return_drafts")
