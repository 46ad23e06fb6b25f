"""The ``scan_progress`` table: how many units of each SKU a bench has verified on a half-packed order.

A packer who quits (or whose PC restarts) with an order half scanned must find the count where it
was: every counted scan is saved here (:func:`save`) and read back when the order is opened again
(:func:`load`); the row goes (:func:`clear`) once the order is packed or found past the bench.
:mod:`core.packing` decides when; this module owns the statements on the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import Connection


def save(conn: Connection, order_id: str, counted: Mapping[str, int], operator: str, at: str) -> None:
    """Store the count of ``order_id`` (units per SKU); an empty count removes the row."""
    if not any(n > 0 for n in counted.values()):
        clear(conn, order_id)
        return
    conn.exec_driver_sql(
        "INSERT INTO scan_progress(order_id, counted, operator, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(order_id) DO UPDATE SET counted = excluded.counted, operator = excluded.operator, "
        "at = excluded.at",
        (order_id, json.dumps({k: int(v) for k, v in counted.items() if v > 0}, sort_keys=True), operator, at),
    )


def load(conn: Connection, order_id: str) -> dict[str, int]:
    """The saved count of ``order_id`` (empty when none, or when the row is unreadable)."""
    row = conn.exec_driver_sql("SELECT counted FROM scan_progress WHERE order_id = ?", (order_id,)).first()
    if row is None:
        return {}
    try:
        data = json.loads(row[0])
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0}


def clear(conn: Connection, order_id: str) -> None:
    conn.exec_driver_sql("DELETE FROM scan_progress WHERE order_id = ?", (order_id,))
