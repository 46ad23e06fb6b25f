"""The ``handover_batches`` and ``handover_parcels`` tables: the bench's handover batches (交接).

A batch is opened for one carrier, parcels are scanned into it one by one, and it is closed
(every parcel shipped, the manifest printed) or cancelled (nothing shipped). Each scan is a row
the moment it is accepted, so a batch that is open when the PC restarts comes back whole.
:mod:`core.handover` decides what a scan means; this module owns the statements on the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"


@dataclass(frozen=True)
class BatchRow:
    """One batch as stored."""

    batch_id: str
    carrier: str
    station: str
    bench: str
    operator: str
    opened_at: str
    status: str = OPEN
    closed_at: str | None = None
    closed_by: str | None = None


@dataclass(frozen=True)
class ParcelRow:
    """One parcel scanned into a batch."""

    batch_id: str
    order_id: str
    waybill_no: str
    operator: str
    scanned_at: str


_BATCH_COLS = "batch_id, carrier, station, bench, operator, opened_at, status, closed_at, closed_by"


def insert_batch(conn: Connection, row: BatchRow) -> None:
    conn.exec_driver_sql(
        f"INSERT INTO handover_batches({_BATCH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row.batch_id, row.carrier, row.station, row.bench, row.operator, row.opened_at, row.status,
         row.closed_at, row.closed_by),
    )


def get_batch(conn: Connection, batch_id: str) -> BatchRow | None:
    r = conn.exec_driver_sql(f"SELECT {_BATCH_COLS} FROM handover_batches WHERE batch_id = ?", (batch_id,)).first()
    return None if r is None else BatchRow(*r)


def open_batch(conn: Connection) -> BatchRow | None:
    """The batch still open on this station (the newest, should there ever be two), or None."""
    r = conn.exec_driver_sql(
        f"SELECT {_BATCH_COLS} FROM handover_batches WHERE status = ? ORDER BY opened_at DESC, rowid DESC LIMIT 1",
        (OPEN,),
    ).first()
    return None if r is None else BatchRow(*r)


def batch_exists(conn: Connection, batch_id: str) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM handover_batches WHERE batch_id = ?", (batch_id,)).first() is not None


def set_status(conn: Connection, batch_id: str, status: str, at: str, by: str) -> None:
    conn.exec_driver_sql(
        "UPDATE handover_batches SET status = ?, closed_at = ?, closed_by = ? WHERE batch_id = ?",
        (status, at, by, batch_id),
    )


def add_parcel(conn: Connection, row: ParcelRow) -> None:
    conn.exec_driver_sql(
        "INSERT INTO handover_parcels(batch_id, order_id, waybill_no, operator, scanned_at) VALUES (?, ?, ?, ?, ?)",
        (row.batch_id, row.order_id, row.waybill_no, row.operator, row.scanned_at),
    )


def parcels(conn: Connection, batch_id: str) -> list[ParcelRow]:
    """A batch's parcels in the order they were scanned."""
    return [ParcelRow(*r) for r in conn.exec_driver_sql(
        "SELECT batch_id, order_id, waybill_no, operator, scanned_at FROM handover_parcels WHERE batch_id = ? "
        "ORDER BY rowid", (batch_id,)).all()]


def open_batch_of(conn: Connection, order_id: str) -> str | None:
    """The open batch that already holds ``order_id`` (any on this station), or None."""
    r = conn.exec_driver_sql(
        "SELECT p.batch_id FROM handover_parcels p JOIN handover_batches b ON b.batch_id = p.batch_id "
        "WHERE p.order_id = ? AND b.status = ? LIMIT 1", (order_id, OPEN)).first()
    return None if r is None else str(r[0])


def remove_parcels(conn: Connection, batch_id: str, order_ids: Iterable[str]) -> None:
    conn.exec_driver_sql("DELETE FROM handover_parcels WHERE batch_id = ? AND order_id = ?",
                         [(batch_id, oid) for oid in order_ids])
