"""The ``tickets`` table (store version 8): customer tickets a desk PC sees, hub document + local view.

Every statement on the table is here. A ticket's ``local_json`` is always rebuilt as the hub's
document (``hub_json``) with this PC's queued ticket actions (outbox rows whose payload names the
ticket) replayed on it (:func:`core.ticket_view.replay_ticket`), so a newer document from the hub
never hides a reply still waiting to be sent. A ticket opened here has no ``hub_json`` until the
hub answers. Packers never get tickets (docs/sync.md "Entity kinds").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from core.store import outbox
from core.store.outbox import OutboxAction
from core.ticket_view import replay_ticket
from core.tickets import TICKET_ACTIONS as TICKET_ACTIONS

_CHUNK = 900
_TYPES = tuple(TICKET_ACTIONS)
_TYPE_MARKS = ", ".join("?" for _t in _TYPES)


@dataclass(frozen=True)
class LocalTicket:
    """A ticket as this PC shows it."""

    ticket_id: str
    order_id: str
    doc: dict[str, Any]
    hub_version: int
    pending: int
    conflict: dict[str, Any] | None

    @property
    def status(self) -> str:
        return str(self.doc.get("status") or "open")


def _row(r: Any) -> LocalTicket:
    return LocalTicket(r.ticket_id, r.order_id, json.loads(r.local_json), int(r.hub_version), int(r.pending),
                       json.loads(r.conflict_json) if r.conflict_json else None)


def get(conn: Connection, ticket_id: str) -> LocalTicket | None:
    r = conn.exec_driver_sql("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).first()
    return _row(r) if r is not None else None


def hub_doc(conn: Connection, ticket_id: str) -> dict[str, Any] | None:
    r = conn.exec_driver_sql("SELECT hub_json FROM tickets WHERE ticket_id = ?", (ticket_id,)).first()
    return json.loads(r[0]) if r is not None and r[0] else None


def listed(conn: Connection, *, open_only: bool = False) -> list[LocalTicket]:
    sql = "SELECT * FROM tickets" + (" WHERE status = 'open'" if open_only else "")
    return [_row(r) for r in conn.exec_driver_sql(sql).all()]


def for_order(conn: Connection, order_id: str) -> list[LocalTicket]:
    return [_row(r) for r in conn.exec_driver_sql("SELECT * FROM tickets WHERE order_id = ?", (order_id,)).all()]


def count(conn: Connection, *, open_only: bool = True) -> int:
    sql = "SELECT count(*) FROM tickets" + (" WHERE status = 'open'" if open_only else "")
    return int(conn.exec_driver_sql(sql).scalar_one())


def queued(conn: Connection, ticket_ids: Iterable[str]) -> dict[str, list[OutboxAction]]:
    """The outbox's ticket actions of these tickets, in seq order (ticket ID -> actions)."""
    wanted = set(ticket_ids)
    found: dict[str, list[OutboxAction]] = {}
    if not wanted:
        return found
    for a in pending_ticket_actions(conn):
        tid = str(a.payload.get("ticket_id") or "")
        if tid in wanted:
            found.setdefault(tid, []).append(a)
    return found


def pending_ticket_actions(conn: Connection) -> list[OutboxAction]:
    """Every queued ticket action (a desk's outbox is small: read them all, filter in Python)."""
    rows = conn.exec_driver_sql(f"SELECT * FROM outbox WHERE type IN ({_TYPE_MARKS}) ORDER BY seq", _TYPES).all()
    return [outbox._row_action(r) for r in rows]


def _order_view(conn: Connection, order_id: str) -> dict[str, Any] | None:
    r = conn.exec_driver_sql("SELECT local_json FROM orders WHERE order_id = ?", (order_id,)).first()
    return json.loads(r[0]) if r is not None else None


def rebuild(conn: Connection, ticket_ids: Iterable[str]) -> list[str]:
    """Rebuild the local view of these tickets from their hub document and the outbox.

    A ticket with neither (opened here, the opening refused by the hub) keeps its last view while
    it is flagged with the refusal: it is shown until the desk resolves the conflict.
    """
    wanted = list(dict.fromkeys(ticket_ids))
    if not wanted:
        return []
    acts = queued(conn, wanted)
    changed = []
    for tid in wanted:
        r = conn.exec_driver_sql("SELECT * FROM tickets WHERE ticket_id = ?", (tid,)).first()
        mine = acts.get(tid, [])
        base = json.loads(r.hub_json) if r is not None and r.hub_json else None
        if base is None and not mine:
            if r is not None and not r.conflict_json:
                conn.exec_driver_sql("DELETE FROM tickets WHERE ticket_id = ?", (tid,))
                changed.append(tid)
            elif r is not None:
                conn.exec_driver_sql("UPDATE tickets SET pending = 0 WHERE ticket_id = ?", (tid,))
                changed.append(tid)
            continue
        order_id = base["order_id"] if base else mine[0].order_id
        view = replay_ticket(base, [a.pending_action() for a in mine], _order_view(conn, order_id)) if mine else base
        if view is None:  # only actions that do not apply (the hub will refuse them): keep the row as it was
            if r is not None:
                conn.exec_driver_sql("UPDATE tickets SET pending = ? WHERE ticket_id = ?", (len(mine), tid))
            continue
        _upsert(conn, view, base, len(mine), r.conflict_json if r is not None else None,
                int(r.seen_gen) if r is not None else 0)
        changed.append(tid)
    return changed


_UPSERT = (
    "INSERT INTO tickets(ticket_id, order_id, status, due_at, hub_version, hub_json, local_json, pending,"
    " conflict_json, seen_gen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(ticket_id) DO UPDATE SET order_id = excluded.order_id, status = excluded.status,"
    " due_at = excluded.due_at, hub_version = excluded.hub_version, hub_json = excluded.hub_json,"
    " local_json = excluded.local_json, pending = excluded.pending, conflict_json = excluded.conflict_json,"
    " seen_gen = excluded.seen_gen"
)


def _upsert(conn: Connection, view: dict[str, Any], base: dict[str, Any] | None, pending: int,
            conflict_json: str | None, seen_gen: int) -> None:
    conn.exec_driver_sql(_UPSERT, (
        view["ticket_id"], view["order_id"], str(view.get("status") or "open"), view.get("due_at"),
        int(base["version"]) if base else 0, json.dumps(base, ensure_ascii=False) if base else None,
        json.dumps(view, ensure_ascii=False), pending, conflict_json, seen_gen))


def check_doc(doc: Any) -> bool:
    """Whether a ticket document from the hub has what the store needs (else it is skipped, logged by the caller)."""
    return (isinstance(doc, dict) and isinstance(doc.get("ticket_id"), str) and bool(doc["ticket_id"])
            and isinstance(doc.get("order_id"), str) and isinstance(doc.get("version"), int))


def apply_docs(conn: Connection, docs: Iterable[dict[str, Any]], *, seen_gen: int | None = None) -> list[str]:
    """Take hub ticket documents (caller's transaction): a newer version replaces the hub document
    and the view is rebuilt with the pending actions; an older or equal one only marks it seen."""
    latest: dict[str, dict[str, Any]] = {}
    for d in docs:
        held = latest.get(d["ticket_id"])
        if held is None or int(d["version"]) > int(held["version"]):
            latest[d["ticket_id"]] = d
    if not latest:
        return []
    ids = list(latest)
    current: dict[str, tuple[int, str | None, int]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        for r in conn.exec_driver_sql(
            f"SELECT ticket_id, hub_version, hub_json IS NULL AS fresh, conflict_json, seen_gen FROM tickets"
            f" WHERE ticket_id IN ({', '.join('?' for _x in chunk)})", tuple(chunk)).all():
            current[r.ticket_id] = (-1 if r.fresh else int(r.hub_version), r.conflict_json, int(r.seen_gen))
    acts = queued(conn, [t for t in ids if t in current]) if current else {}
    rows = []
    seen_only = []
    changed = []
    for tid, doc in latest.items():
        have = current.get(tid)
        if have is not None and int(doc["version"]) <= have[0]:
            seen_only.append(tid)
            continue
        gen = seen_gen if seen_gen is not None else (have[2] if have else 0)
        mine = acts.get(tid, [])
        view = replay_ticket(doc, [a.pending_action() for a in mine]) if mine else doc
        assert view is not None
        hub_json = json.dumps(doc, ensure_ascii=False)
        rows.append((view["ticket_id"], view["order_id"], str(view.get("status") or "open"), view.get("due_at"),
                     int(doc["version"]), hub_json, json.dumps(view, ensure_ascii=False) if view is not doc else hub_json,
                     len(mine), have[1] if have else None, gen))
        changed.append(tid)
    if rows:
        conn.exec_driver_sql(_UPSERT, rows)
    if seen_gen is not None and seen_only:
        conn.exec_driver_sql("UPDATE tickets SET seen_gen = ? WHERE ticket_id = ?", [(seen_gen, t) for t in seen_only])
    return changed


def insert_local(conn: Connection, view: dict[str, Any], pending: int) -> None:
    """A ticket opened on this PC (no hub document yet)."""
    _upsert(conn, view, None, pending, None, 0)


def set_conflict(conn: Connection, ticket_id: str, summary: dict[str, Any] | None) -> None:
    conn.exec_driver_sql("UPDATE tickets SET conflict_json = ? WHERE ticket_id = ?",
                         (json.dumps(summary, ensure_ascii=False) if summary is not None else None, ticket_id))


def resolve_order(conn: Connection, order_id: str) -> list[str]:
    """The desk dealt with an order's conflicts: clear its tickets' flags; a refused ticket that never
    reached the hub (no document, nothing queued) goes."""
    ids = [r[0] for r in conn.exec_driver_sql(
        "SELECT ticket_id FROM tickets WHERE order_id = ? AND conflict_json IS NOT NULL", (order_id,)).all()]
    conn.exec_driver_sql("UPDATE tickets SET conflict_json = NULL WHERE order_id = ?", (order_id,))
    return rebuild(conn, ids)


def drop_unseen(conn: Connection, gen: int) -> list[str]:
    """After a full re-sync of tickets: drop those the hub no longer lists as open, unless work waits on them."""
    busy = {str(a.payload.get("ticket_id")) for a in pending_ticket_actions(conn)}
    gone = [r[0] for r in conn.exec_driver_sql(
        "SELECT ticket_id FROM tickets WHERE seen_gen != ? AND conflict_json IS NULL", (gen,)).all()
            if r[0] not in busy]
    if gone:
        conn.exec_driver_sql("DELETE FROM tickets WHERE ticket_id = ?", [(t,) for t in gone])
    return gone


QueueDoc = tuple[dict[str, Any], int, dict[str, Any] | None, dict[str, Any] | None]


def queue_docs(conn: Connection, ticket_ids: Iterable[str] | None = None) -> list[QueueDoc]:
    """What the desk's ticket queue is built from: (ticket view, pending, conflict, its order's view or None)."""
    sql = ("SELECT t.local_json, t.pending, t.conflict_json, t.order_id, o.local_json FROM tickets t"
           " LEFT JOIN orders o ON o.order_id = t.order_id")
    if ticket_ids is None:
        rows = conn.exec_driver_sql(sql).all()
    else:
        ids = list(dict.fromkeys(ticket_ids))
        rows = []
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            rows += conn.exec_driver_sql(f"{sql} WHERE t.ticket_id IN ({', '.join('?' for _x in chunk)})",
                                         tuple(chunk)).all()
    orders: dict[str, dict[str, Any] | None] = {}  # an order with many tickets is parsed once
    out: list[QueueDoc] = []
    for r in rows:
        if r[3] not in orders:
            orders[r[3]] = json.loads(r[4]) if r[4] else None
        out.append((json.loads(r[0]), int(r[1]), json.loads(r[2]) if r[2] else None, orders[r[3]]))
    return out
