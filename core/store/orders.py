"""The ``orders`` table: the hub's last snapshot of each order and the local view built on it.

A row holds the hub base (``hub_json``, ``hub_version``), the local view (``local_json``: the base
with this station's pending actions replayed on it), how many actions are pending, the latest
unresolved conflict, the full re-sync generation that last saw it, and the two codes a scanner
reads off a parcel (waybill and channel order number, indexed for scan-to-open). Queues, flags
and search are computed from the view by :mod:`core.queues`.

Beside it, ``queue_rows`` (store v9) caches each view's facts (:func:`core.queue_facts.facts_of`:
what a queue row needs, in plain columns) plus ``pending`` and ``conflict``, written here in the
same transaction as every change of the view (the pending count, the conflict and a removal follow
``orders`` by triggers, whoever writes them), so a
desk's load of 100,000 orders reads columns instead of parsing 100,000 JSON documents (issue 18).
:func:`rebuild_facts` fills it from the views (after the upgrade to v9, or when the facts' rule
changed: :data:`core.queue_facts.FACTS_RULE`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from core.flags import local_flags
from core.queue_facts import FACT_COLUMNS, FACTS_RULE, facts_of
from core.store import meta, outbox
from core.store.outbox import OutboxAction
from core.store.overlay import replay

_CHUNK = 900  # stay well under SQLite's bound-parameter limit

KeepFn = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class LocalOrder:
    """An order as the bench shows it: the hub's snapshot with this station's pending actions applied.

    Attributes:
        snapshot: the local view (a :class:`core.model.Snapshot`-shaped dict).
        hub_version: the version of the last snapshot received from the hub.
        pending: how many of this station's actions on it the hub has not answered yet.
        conflict: the latest unresolved conflict/rejection (outcome, error, reason, action…), or None.
        flags: hub flags plus ``conflict``, ``exception``, ``cancel_requested``, ``pending``, ``done``
            (:func:`core.flags.local_flags`; the queues' clock-based flags are :mod:`core.queues`').
    """

    order_id: str
    snapshot: dict[str, Any]
    hub_version: int
    pending: int
    conflict: dict[str, Any] | None
    flags: tuple[str, ...]

    @property
    def state(self) -> str:
        return str(self.snapshot["state"])

    @property
    def bench(self) -> str | None:
        return self.snapshot.get("bench")

    @property
    def is_pending(self) -> bool:
        return self.pending > 0

    @property
    def has_conflict(self) -> bool:
        return self.conflict is not None


#: One queue view row: (order_id, local_json, pending, has an unresolved conflict).
ViewRow = tuple[str, str, int, bool]

_VIEW_SELECT = "SELECT order_id, local_json, pending, conflict_json IS NOT NULL FROM orders"
_ORDER_SELECT = "SELECT order_id, local_json, hub_version, pending, conflict_json FROM orders"

_UPSERT = """
    INSERT INTO orders(order_id, waybill_no, channel_order_no, hub_version, hub_json, local_json, pending,
                       conflict_json, seen_gen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(order_id) DO UPDATE SET
        waybill_no = excluded.waybill_no, channel_order_no = excluded.channel_order_no,
        hub_version = excluded.hub_version, hub_json = excluded.hub_json, local_json = excluded.local_json,
        pending = excluded.pending, conflict_json = excluded.conflict_json, seen_gen = excluded.seen_gen
"""


#: One row of ``queue_rows``: the facts (:data:`core.queue_facts.FACT_COLUMNS`), pending, conflict.
FactsRow = tuple[Any, ...]

_FACTS_COLUMNS = (*FACT_COLUMNS, "pending", "conflict")
_FACTS_SELECT = f"SELECT {', '.join(_FACTS_COLUMNS)} FROM queue_rows"
#: REPLACE: the row of the same order ID goes first (the unique index), whatever its sort key was.
_FACTS_INSERT = (f"INSERT OR REPLACE INTO queue_rows({', '.join(_FACTS_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _c in _FACTS_COLUMNS)})")
#: The meta key holding the :data:`core.queue_facts.FACTS_RULE` the cache was built with.
FACTS_RULE_KEY = "queue_rows_rule"


def _row_order(row: Any) -> LocalOrder:
    conflict = json.loads(row.conflict_json) if row.conflict_json else None
    snap = json.loads(row.local_json)
    return LocalOrder(
        order_id=row.order_id,
        snapshot=snap,
        hub_version=row.hub_version,
        pending=row.pending,
        conflict=conflict,
        flags=local_flags(snap, row.pending, conflict),
    )


def _chunks(ids: list[str]) -> Iterable[tuple[list[str], str]]:
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        yield chunk, ", ".join("?" for _x in chunk)


def get(conn: Connection, order_id: str) -> LocalOrder | None:
    row = conn.exec_driver_sql(f"{_ORDER_SELECT} WHERE order_id = ?", (order_id,)).first()
    return None if row is None else _row_order(row)


def hub_snapshot(conn: Connection, order_id: str) -> dict[str, Any] | None:
    """The last snapshot the hub sent for an order (without local pending changes)."""
    row = conn.exec_driver_sql("SELECT hub_json FROM orders WHERE order_id = ?", (order_id,)).first()
    return None if row is None else dict(json.loads(row[0]))


def count(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM orders").scalar_one())


def ids(conn: Connection) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql("SELECT order_id FROM orders").all()}


def views(conn: Connection, order_ids: Iterable[str] | None = None, limit: int | None = None) -> list[ViewRow]:
    """What the queues are built from: every order's local view (or only these orders'; or the
    first ``limit`` in storage order: a desk's first screen while the rest is read)."""
    if order_ids is None:
        sql, args = (_VIEW_SELECT, ()) if limit is None else (f"{_VIEW_SELECT} LIMIT ?", (limit,))
        return [(r[0], r[1], int(r[2]), bool(r[3])) for r in conn.exec_driver_sql(sql, args).all()]
    out: list[ViewRow] = []
    for chunk, marks in _chunks(list(dict.fromkeys(order_ids))):
        out += [(r[0], r[1], int(r[2]), bool(r[3]))
                for r in conn.exec_driver_sql(f"{_VIEW_SELECT} WHERE order_id IN ({marks})", tuple(chunk)).all()]
    return out


def facts(conn: Connection, order_ids: Iterable[str] | None = None, limit: int | None = None) -> list[FactsRow]:
    """What the queues are built from: every order's facts from the cache (or only these orders';
    or the first ``limit`` by ship-by), every order's in queue order within each severity (the
    table's primary key: ship-by key, order-time key, ID)."""
    raw = conn.connection.driver_connection  # the sqlite3 connection: no SQLAlchemy row per order
    assert raw is not None
    if order_ids is None:
        sql = f"{_FACTS_SELECT} ORDER BY ship_key, created_key, order_id"
        cur = raw.execute(sql) if limit is None else raw.execute(f"{sql} LIMIT ?", (limit,))
        return cur.fetchall()
    out: list[FactsRow] = []
    for chunk, marks in _chunks(list(dict.fromkeys(order_ids))):
        out += raw.execute(f"{_FACTS_SELECT} WHERE order_id IN ({marks})", tuple(chunk)).fetchall()
    return out


def _put_facts(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Write the facts of these ``orders`` rows (as :func:`_order_row` makes them) to the cache."""
    conn.exec_driver_sql(_FACTS_INSERT, [(*facts_of(r[-1]), r[6], r[7] is not None) for r in rows])


def rebuild_facts(conn: Connection) -> int:
    """Fill ``queue_rows`` from every order's view (caller's write transaction); how many orders."""
    conn.exec_driver_sql("DELETE FROM queue_rows")
    done, last = 0, ""
    while True:  # in pages: a 100,000-order store is not held in memory as documents at once
        page = conn.exec_driver_sql(
            "SELECT order_id, local_json, pending, conflict_json IS NOT NULL FROM orders WHERE order_id > ? "
            "ORDER BY order_id LIMIT 2000", (last,)).all()
        if not page:
            break
        conn.exec_driver_sql(_FACTS_INSERT, [(*facts_of(json.loads(r[1])), int(r[2]), bool(r[3])) for r in page])
        done += len(page)
        last = page[-1][0]
    meta.put(conn, FACTS_RULE_KEY, str(FACTS_RULE))
    return done


def facts_current(conn: Connection) -> bool:
    """Whether the cache was built by this version's rule (else :func:`rebuild_facts`)."""
    return meta.get(conn, FACTS_RULE_KEY) == str(FACTS_RULE)


def find_by_code(conn: Connection, code: str) -> str | None:
    """The order whose waybill number or channel order number is ``code`` (indexed lookups)."""
    row = conn.exec_driver_sql(
        "SELECT order_id FROM orders WHERE waybill_no = ? UNION SELECT order_id FROM orders "
        "WHERE channel_order_no = ? LIMIT 1",
        (code, code),
    ).first()
    return None if row is None else str(row[0])


def set_conflict(conn: Connection, order_id: str, summary: dict[str, Any] | None) -> None:
    """Flag an order with its latest unresolved conflict (None: resolved). The view is not rebuilt."""
    conn.exec_driver_sql(
        "UPDATE orders SET conflict_json = ? WHERE order_id = ?",
        (json.dumps(summary, ensure_ascii=False) if summary is not None else None, order_id),
    )


def _order_row(
    base: dict[str, Any],
    base_json: str | None,
    pending: list[OutboxAction],
    conflict_json: str | None,
    seen_gen: int,
) -> tuple[Any, ...]:
    view = replay(base, [a.pending_action() for a in pending]) if pending else base
    hub_json = base_json if base_json is not None else json.dumps(base, ensure_ascii=False)
    local_json = hub_json if view is base else json.dumps(view, ensure_ascii=False)
    return (
        view["order_id"],
        view.get("waybill_no"),
        view.get("channel_order_no"),
        int(base["version"]),
        hub_json,
        local_json,
        len(pending),
        conflict_json,
        seen_gen,
        view,  # not a column of ``orders``: its facts go to ``queue_rows`` (_put_facts)
    )


def apply_snapshots(
    conn: Connection,
    snapshots: Iterable[dict[str, Any]],
    *,
    keep: KeepFn | None = None,
    seen_gen: int | None = None,
) -> list[str]:
    """Take hub snapshots into the store (inside the caller's write transaction).

    A snapshot replaces the hub base only when its version is newer than the one held; the local
    view is then rebuilt as base + pending actions, so nothing pending is undone on screen. An
    order ``keep`` says is no longer this station's (moved to another bench) is dropped, unless it
    still has pending actions or an unresolved conflict.

    Returns:
        the IDs of orders whose local view changed or that were dropped.
    """
    snaps = list(snapshots)
    if not snaps:
        return []
    wanted = list(dict.fromkeys(s["order_id"] for s in snaps))
    current: dict[str, tuple[int, str | None, int]] = {}
    for chunk, marks in _chunks(wanted):
        for r in conn.exec_driver_sql(
            f"SELECT order_id, hub_version, conflict_json, seen_gen FROM orders WHERE order_id IN ({marks})",
            tuple(chunk),
        ).all():
            current[r.order_id] = (r.hub_version, r.conflict_json, r.seen_gen)
    pending = outbox.for_orders(conn, [i for i in wanted if i in current]) if current else {}
    rows: dict[str, tuple[Any, ...]] = {}
    drop: set[str] = set()
    seen_only: set[str] = set()
    for snap in snaps:
        oid = snap["order_id"]
        have = current.get(oid)
        version = int(snap["version"])
        if have is not None and version <= have[0]:
            seen_only.add(oid)
            continue
        conflict_json = have[1] if have else None
        acts = pending.get(oid, [])
        if keep is not None and not keep(snap) and not acts and conflict_json is None:
            if have is not None:
                drop.add(oid)
            rows.pop(oid, None)
            current.pop(oid, None)
            continue
        drop.discard(oid)
        gen = seen_gen if seen_gen is not None else (have[2] if have else 0)
        rows[oid] = _order_row(snap, None, acts, conflict_json, gen)
        current[oid] = (version, conflict_json, gen)
    if rows:
        conn.exec_driver_sql(_UPSERT, [r[:-1] for r in rows.values()])
        _put_facts(conn, list(rows.values()))
    if drop:
        delete(conn, drop)
    if seen_gen is not None:
        marks_ = [(seen_gen, oid) for oid in seen_only - rows.keys() - drop]
        if marks_:
            conn.exec_driver_sql("UPDATE orders SET seen_gen = ? WHERE order_id = ?", marks_)
    return list(rows.keys()) + sorted(drop)


def refresh_views(conn: Connection, order_ids: Iterable[str]) -> list[str]:
    """Rebuild the local view of orders from their hub base and the outbox (caller's transaction)."""
    wanted = list(dict.fromkeys(order_ids))
    if not wanted:
        return []
    pending = outbox.for_orders(conn, wanted)
    rows = []
    for chunk, marks in _chunks(wanted):
        for r in conn.exec_driver_sql(
            f"SELECT order_id, hub_json, conflict_json, seen_gen FROM orders WHERE order_id IN ({marks})",
            tuple(chunk),
        ).all():
            rows.append(
                _order_row(json.loads(r.hub_json), r.hub_json, pending.get(r.order_id, []), r.conflict_json,
                           r.seen_gen)
            )
    if rows:
        conn.exec_driver_sql(_UPSERT, [r[:-1] for r in rows])
        _put_facts(conn, rows)
    return [r[0] for r in rows]


def unseen(conn: Connection, gen: int) -> list[str]:
    """Orders the full re-sync ``gen`` did not see and that hold no pending work or conflict."""
    return [
        r[0]
        for r in conn.exec_driver_sql(
            "SELECT order_id FROM orders WHERE seen_gen != ? AND pending = 0 AND conflict_json IS NULL", (gen,)
        ).all()
    ]


def delete(conn: Connection, order_ids: Iterable[str]) -> None:
    conn.exec_driver_sql("DELETE FROM orders WHERE order_id = ?", [(oid,) for oid in order_ids])  # and its facts:
    # the trigger queue_rows_deleted (store v9)


#: One printed parcel as the handover's missing list needs it (no full JSON parse per order):
#: (order_id, waybill_no, updated_at, stopped) — stopped: held, cancel requested or in conflict.
ParcelRow = tuple[str, str, str, bool]


def printed_parcels(conn: Connection, carrier: str) -> list[ParcelRow]:
    """The printed (``label_printed``) parcels of ``carrier`` in the local views, read in SQL."""
    rows = conn.exec_driver_sql(
        "SELECT order_id, waybill_no, "
        "coalesce(json_extract(local_json, '$.label_printed_at'), json_extract(local_json, '$.updated_at')), "
        "coalesce(json_array_length(local_json, '$.holds'), 0) > 0 "
        "OR coalesce(json_extract(local_json, '$.cancel_requested'), 0) = 1 OR conflict_json IS NOT NULL FROM orders "
        "WHERE json_extract(local_json, '$.state') = 'label_printed' AND json_extract(local_json, '$.carrier') = ?",
        (carrier,)).all()
    return [(str(r[0]), str(r[1] or ""), str(r[2] or ""), bool(r[3])) for r in rows]


def printed_by_carrier(conn: Connection) -> dict[str, int]:
    """How many printed parcels each carrier has in the local views, not counting stopped ones."""
    rows = conn.exec_driver_sql(
        "SELECT json_extract(local_json, '$.carrier') AS c, count(*) FROM orders "
        "WHERE json_extract(local_json, '$.state') = 'label_printed' "
        "AND coalesce(json_array_length(local_json, '$.holds'), 0) = 0 "
        "AND coalesce(json_extract(local_json, '$.cancel_requested'), 0) = 0 AND conflict_json IS NULL "
        "GROUP BY c").all()
    return {str(r[0]): int(r[1]) for r in rows if r[0]}
