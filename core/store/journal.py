"""The ``print_jobs`` table: the print journal (every job, its printer, result and reprint reason).

:mod:`core.print_journal` decides what a job means (label printed, reprint needs a reason); this
module owns the statements on the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class JobRow:
    """One journal row as written."""

    job_id: str
    doc_type: str
    order_ids: list[str]
    printer: str
    ok: bool
    error: str | None
    operator: str
    at: str
    reprint_reason: str | None
    action_ids: list[str]


def insert(conn: Connection, job: JobRow) -> None:
    conn.exec_driver_sql(
        "INSERT INTO print_jobs(job_id, doc_type, order_ids, printer, ok, error, operator, at, reprint_reason,"
        " action_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job.job_id,
            job.doc_type,
            json.dumps(job.order_ids),
            job.printer,
            int(job.ok),
            job.error,
            job.operator,
            job.at,
            job.reprint_reason,
            json.dumps(job.action_ids),
        ),
    )


def label_printed_here(conn: Connection, order_id: str) -> bool:
    """Whether this station's journal holds a successful label job for the order."""
    row = conn.exec_driver_sql(
        "SELECT 1 FROM print_jobs WHERE doc_type = 'label' AND ok = 1 AND EXISTS "
        "(SELECT 1 FROM json_each(print_jobs.order_ids) WHERE json_each.value = ?) LIMIT 1",
        (order_id,),
    ).first()
    return row is not None


def jobs(conn: Connection, order_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Journal entries, newest first (optionally those that include ``order_id``)."""
    sql = "SELECT * FROM print_jobs"
    args: tuple[Any, ...] = ()
    if order_id is not None:
        sql += " WHERE EXISTS (SELECT 1 FROM json_each(print_jobs.order_ids) WHERE json_each.value = ?)"
        args = (order_id,)
    sql += f" ORDER BY at DESC, rowid DESC LIMIT {int(limit)}"
    out = []
    for r in conn.exec_driver_sql(sql, args).all():
        d = dict(r._mapping)
        d["order_ids"] = json.loads(d["order_ids"])
        d["action_ids"] = json.loads(d["action_ids"])
        d["ok"] = bool(d["ok"])
        out.append(d)
    return out


def batch_order_ids(conn: Connection, doc_type: str, batch_id: str) -> list[str] | None:
    """The orders of the latest job ``batch_id`` (or a retry ``<batch>.<n>``) of ``doc_type``, or None.

    A job that printed wins over a failed one; then the newest.
    """
    row = conn.exec_driver_sql(
        "SELECT order_ids FROM print_jobs WHERE doc_type = ? AND (job_id = ? OR job_id LIKE ?) "
        "ORDER BY ok DESC, at DESC LIMIT 1",
        (doc_type, batch_id, batch_id + ".%"),
    ).first()
    return None if row is None else [str(x) for x in json.loads(row[0])]
