"""Stock per SKU per warehouse: the one door to the ``stock`` and ``stock_moves`` tables (docs/stock.md).

Rules:

- A SKU is *tracked* at a warehouse when it has a ``stock`` row there. An untracked SKU is not
  checked and not reserved (a site that has not imported stock works exactly as before).
- Allocation reserves every tracked line of the order, all or nothing, in the allocating
  transaction, with a conditional UPDATE (``reserved + q`` only while ``on_hand - reserved >= q``):
  two hub processes on one PostgreSQL taking the last units at once give exactly one success
  (the loser's UPDATE waits on the row lock, re-reads the committed row and matches nothing).
- Every change writes a ``stock_moves`` row. What an order holds reserved is the sum of its
  moves' ``delta_reserved`` per (SKU, warehouse): release and consume read it there, so they give
  back exactly what was taken, never more, and do nothing twice.
- An order that closes releases its reservation; one that ships consumes it (on hand and reserved
  both go down); one moved to another warehouse releases there and reserves at the new one.
  Stock freed so runs the fair queue (:func:`release_waiting`) in the same transaction.
- A change of lines or warehouse re-reserves (:func:`rereserve`); a count below what is reserved
  takes the units back from the newest promises (:func:`shed`).
- Writes happen at once on the writer's connection; :meth:`hub.writer.Writer.restore` undoes
  those made after its checkpoint (a refused action leaves the stock as it was).
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, true, update
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.states import State, Trigger
from core.timeutil import as_utc, iso, parse_iso
from hub import db

if TYPE_CHECKING:
    from hub.routing import HoldSpec, Rules
    from hub.stock_import import StockRow
    from hub.writer import Writer

__all__ = ["ADJUST_REASONS", "QUARANTINE_OUTCOMES", "STOCK_EVENT", "Reserved", "WmsRow", "adjust", "apply_wms",
           "available", "consume", "dispose_quarantine", "enqueue_changes", "held", "import_counts", "listing",
           "needed", "on_transition", "parse_wms", "receive_return", "release", "release_waiting", "rereserve",
           "reserve", "reserve_batch", "reserve_late", "seed_gift_stock", "shed", "touch", "tracked"]

#: Triggers that take the parcel out of the warehouse: the reservation is consumed.
SHIP_TRIGGERS = frozenset({Trigger.SHIPPED_BY_STATION, Trigger.PICKED_UP_BY_CARRIER})

_S = db.stock.c
_M = db.stock_moves.c

# Built once: allocation runs these per order, and building a statement costs more than running it
# (bench/allocation.py).
_HELD = select(_M.sku, _M.warehouse, func.sum(_M.delta_reserved)).where(
    _M.order_id == bindparam("b_oid")).group_by(_M.sku, _M.warehouse)
_SHIFT = update(db.stock).where(_S.sku == bindparam("b_sku"), _S.warehouse == bindparam("b_wh")).values(
    on_hand=_S.on_hand + bindparam("b_oh"), reserved=_S.reserved + bindparam("b_r"), updated_at=bindparam("b_now"))


def needed(doc: dict[str, Any]) -> dict[str, int]:
    """Units per SKU the order's lines need (gift lines included), SKUs sorted (a fixed lock order)."""
    out: dict[str, int] = {}
    for line in doc.get("lines") or []:
        sku, qty = line.get("sku"), line.get("qty")
        if isinstance(sku, str) and sku and isinstance(qty, int) and qty > 0:
            out[sku] = out.get(sku, 0) + qty
    return dict(sorted(out.items()))


def tracked(conn: Connection, warehouse: str, skus: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(on_hand, reserved) of the SKUs that have a stock row at ``warehouse``."""
    skus = list(dict.fromkeys(skus))
    if not skus:
        return {}
    if len(skus) > _MAX_TRACKED_SQL:  # a long list (gift levels, a sheet): SQLAlchemy's expanding IN
        found = conn.execute(select(_S.sku, _S.on_hand, _S.reserved).where(_S.warehouse == warehouse,
                                                                        _S.sku.in_(skus)))
        return {sku: (on_hand, reserved) for sku, on_hand, reserved in found}
    # Read at every allocation: the driver's cursor with SQL built once per list length costs about
    # an eighth of the statement layer's CPU (bench/allocation.py: reservation's share of throughput).
    rows = db.driver_rows(conn, _tracked_sql(len(skus), _mark(conn)), (warehouse, *skus))
    return {sku: (on_hand, reserved) for sku, on_hand, reserved in rows}


_MAX_TRACKED_SQL = 64


@functools.lru_cache(maxsize=_MAX_TRACKED_SQL)
def _tracked_sql(n: int, mark: str) -> str:
    return f"SELECT sku, on_hand, reserved FROM stock WHERE warehouse = {mark} AND sku IN ({', '.join([mark] * n)})"


def available(conn: Connection, warehouse: str, skus: Iterable[str]) -> dict[str, int]:
    """on_hand - reserved of the tracked SKUs among ``skus`` at ``warehouse``."""
    return {sku: on_hand - reserved for sku, (on_hand, reserved) in tracked(conn, warehouse, skus).items()}


def gift_skus(rules: Rules) -> list[str]:
    """The catalogue's gift SKUs (the gift choices offer them)."""
    return [sku for sku, item in rules.catalogue.items() if item.is_gift]


def gift_levels(conn: Connection, rules: Rules, warehouse: str | None) -> dict[str, int]:
    """Available units of the catalogue's gift SKUs counted at ``warehouse`` (for the gift choices)."""
    if not warehouse:
        return {}
    return available(conn, warehouse, gift_skus(rules))


def held(conn: Connection, order_id: str) -> dict[tuple[str, str], int]:
    """What the order holds reserved now: (sku, warehouse) -> units (only non-zero)."""
    rows = conn.execute(_HELD, {"b_oid": order_id})
    return {(sku, wh): int(total) for sku, wh, total in rows if total}


def _move(w: Writer, order_id: str | None, reason: str, sku: str, warehouse: str, d_on_hand: int,
          d_reserved: int, note: str | None = None, d_quarantine: int = 0) -> None:
    """Apply a delta to a stock row (unconditionally) and audit it; undone by ``w.restore``."""
    touch(w, sku, warehouse)
    _shift(w.conn, sku, warehouse, d_on_hand, d_reserved, w.now, d_quarantine)
    move_id = w.conn.execute(insert(db.stock_moves).values(
        order_id=order_id, reason=reason, sku=sku, warehouse=warehouse, delta_on_hand=d_on_hand,
        delta_reserved=d_reserved, delta_quarantine=d_quarantine, at=w.now, by=w.actor.operator[:64],
        note=note).returning(_M.id)).scalar_one()
    w.on_restore(_undoer(w, move_id, sku, warehouse, d_on_hand, d_reserved, d_quarantine))


def _shift(conn: Connection, sku: str, warehouse: str, d_on_hand: int, d_reserved: int, now: datetime,
           d_quarantine: int = 0) -> None:
    if d_quarantine:  # a graded return (hub/returns.py): the rare path, built by SQLAlchemy
        conn.execute(update(db.stock).where(and_(_S.sku == sku, _S.warehouse == warehouse)).values(
            on_hand=_S.on_hand + d_on_hand, reserved=_S.reserved + d_reserved,
            quarantine=_S.quarantine + d_quarantine, updated_at=now))
        return
    conn.execute(_SHIFT, {"b_sku": sku, "b_wh": warehouse, "b_oh": d_on_hand, "b_r": d_reserved, "b_now": now})


def _undoer(w: Writer, move_id: int, sku: str, warehouse: str, d_on_hand: int,
            d_reserved: int, d_quarantine: int = 0) -> Callable[[], None]:
    return lambda: _undo(w.conn, move_id, sku, warehouse, d_on_hand, d_reserved, w.now, d_quarantine)


def _undo(conn: Connection, move_id: int, sku: str, warehouse: str, d_on_hand: int, d_reserved: int,
          now: datetime, d_quarantine: int = 0) -> None:
    _shift(conn, sku, warehouse, -d_on_hand, -d_reserved, now, -d_quarantine)
    conn.execute(delete(db.stock_moves).where(_M.id == move_id))


#: stock_moves reasons of a return, one per grade (docs/returns.md).
RETURN_GOOD = "return:good"
RETURN_DAMAGED = "return:damaged"


def receive_return(w: Writer, doc: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A return graded at the bench: good units back on hand, damaged ones into quarantine, at the
    order's warehouse; missing ones change nothing. Untracked SKUs (no stock row there) are not
    counted, as at allocation. Returns the moves made (``{sku, warehouse, good, damaged}``).
    """
    warehouse = doc.get("warehouse")
    if not warehouse:
        return []
    counted = tracked(w.conn, warehouse, sorted({str(ln["sku"]) for ln in lines}))
    made = []
    for ln in sorted(lines, key=lambda x: str(x["sku"])):  # a fixed lock order
        sku, good, damaged = str(ln["sku"]), int(ln.get("qty_good") or 0), int(ln.get("qty_damaged") or 0)
        if sku not in counted or not (good or damaged):
            continue
        if good:
            _move(w, doc["order_id"], RETURN_GOOD, sku, warehouse, good, 0)
        if damaged:
            _move(w, doc["order_id"], RETURN_DAMAGED, sku, warehouse, 0, 0, d_quarantine=damaged)
        made.append({"sku": sku, "warehouse": warehouse, "good": good, "damaged": damaged})
    return made


def allocation_holds(conn: Connection, rules: Rules, warehouse: str, routed: Iterable[HoldSpec],
                     short: list[dict[str, Any]],
                     gift_rows: dict[str, tuple[int, int]] | None = None) -> list[HoldSpec]:
    """The holds of an allocation: routing's, with gifts counted at ``warehouse`` judged by stock.

    Routing's ``gift_stock`` hold reads the rules' static table; a gift SKU tracked at the warehouse
    is taken off it (its stock row decides). Short tracked gifts make a ``gift_stock`` hold (its
    playbook: substitute / without gift / split), short goods a ``stock_short`` hold.
    ``gift_rows``: the warehouse's gift rows as :func:`reserve_batch` left them for this order
    (read from the table when None).
    """
    from hub.options import gift_options
    from hub.routing import _REASON_GIFT, HOLD_GIFT_STOCK, HoldSpec

    routed = list(routed)
    def rows(skus: Iterable[str]) -> dict[str, tuple[int, int]]:
        if gift_rows is None:
            return tracked(conn, warehouse, skus)
        return {sku: gift_rows[sku] for sku in skus if sku in gift_rows}

    counted = set(rows(rules.gift_stock)) if rules.gift_stock and any(
        h.type == HOLD_GIFT_STOCK for h in routed) else set()  # read only when routing held a gift
    gift_short = [s for s in short if s["is_gift"]]
    out: list[HoldSpec] = []
    static: list[dict[str, Any]] = []
    for h in routed:
        if h.type != HOLD_GIFT_STOCK:
            out.append(h)
            continue
        static = [s for s in h.details.get("short", []) if s["sku"] not in counted]
        if static and not gift_short and not counted:
            out.append(h)  # no gift counted here: routing's hold as it was
    if gift_short or (static and counted):
        levels = {sku: oh - r for sku, (oh, r) in rows(gift_skus(rules)).items()}
        options = gift_options(rules, levels).to_wire()
        out.append(HoldSpec(HOLD_GIFT_STOCK, _REASON_GIFT, {"short": static + gift_short, "warehouse": warehouse,
                                                            "options": options}))
    goods_short = [s for s in short if not s["is_gift"]]
    if goods_short:
        out.append(HoldSpec(HOLD_STOCK_SHORT, STOCK_SHORT_REASON, {"short": goods_short, "warehouse": warehouse}))
    return out


def reserve(w: Writer, doc: dict[str, Any], warehouse: str) -> list[dict[str, Any]]:
    """Reserve the order's tracked lines at ``warehouse``, all or nothing.

    Returns the short SKUs (``{sku, name, needed, available, is_gift}``); when the list is not
    empty nothing was reserved. An order that already holds a reservation is not reserved twice;
    one that holds it at another warehouse (routed again) gives it back there first.
    """
    want = needed(doc)
    oid = doc["order_id"]
    # a paid order being allocated holds nothing: no read for it (an untracked site: one read in all)
    now_held = held(w.conn, oid) if doc.get("state") in _WAITING_STATES else {}
    if now_held and {wh for _sku, wh in now_held} != {warehouse}:  # routed again, to another warehouse
        freed = release(w, doc, "moved")
        got = reserve(w, doc, warehouse)
        requeue(w, freed)  # after its own reservation: the order keeps its place
        return got
    # PostgreSQL: the read, the conditional UPDATE and its audit rows in one round trip; SQLite
    # (in process, no round trip) reads first and takes only when the read says it fits.
    audited = db.is_postgres(w.conn) and not now_held and bool(want)
    levels, took = (_read_take_and_audit(w, oid, warehouse, want) if audited
                    else (tracked(w.conn, warehouse, want), {}))
    if not levels or now_held:
        return []  # nothing counted here, or reserved already
    short = [sku for sku, q in want.items() if sku in levels and levels[sku][0] - levels[sku][1] < q]
    if not short:
        count = {sku: q for sku, q in want.items() if sku in levels}
        if audited:  # taken already, if it still fitted at the row locks; the rows before it:
            if _stock_hooks(w):  # the stock.changed webhook's "before", as touch() would read it
                for sku in count:
                    w.stock_before.setdefault((sku, warehouse), levels[sku])
            move_of = took  # SKU -> its reserve move's id
        else:
            for sku in count:
                touch(w, sku, warehouse)  # the stock.changed webhook's "before" (hub/stock.py touch)
            move_of = dict.fromkeys(_take(w, warehouse, count), 0)  # SKU -> 0: its move not written yet
        taken = [(sku, q) for sku, q in count.items() if sku in move_of]
        lost = sorted(set(count) - set(move_of))  # another transaction took them since we read: short after all
        if lost:
            short = lost
            for sku, q in taken:  # all or nothing: give back the lines taken (and their audit rows)
                _shift(w.conn, sku, warehouse, 0, -q, w.now)
            if audited and move_of:
                w.conn.execute(delete(db.stock_moves).where(_M.id.in_(list(move_of.values()))))
        else:
            if not audited:
                move_of = dict(zip([sku for sku, _q in taken], _add_reserve_moves(w, oid, warehouse, taken),
                                   strict=True))
            for sku, q in taken:
                w.on_restore(_undoer(w, move_of[sku], sku, warehouse, 0, q))
    if not short:
        return []
    levels = tracked(w.conn, warehouse, short)
    gifts = {ln["sku"] for ln in doc["lines"] if ln.get("is_gift")}
    names = {ln["sku"]: ln.get("name", "") for ln in doc["lines"]}
    return [{"sku": sku, "name": names.get(sku, ""), "needed": want[sku],
             "available": max(0, levels[sku][0] - levels[sku][1]) if sku in levels else 0,
             "is_gift": sku in gifts} for sku in short]


@dataclass
class Reserved:
    """One order's outcome in :func:`reserve_batch`.

    ``short`` is what :func:`reserve` returns; ``gift_rows`` the (on_hand, reserved) of the
    warehouse's tracked gift SKUs right after this order's turn (only for an order with a gift
    line): :func:`allocation_holds` reads them there instead of the table, where the orders
    behind it in the batch have already taken their units.
    """

    short: list[dict[str, Any]]
    gift_rows: dict[str, tuple[int, int]] | None = None


def reserve_batch(w: Writer, orders: Sequence[tuple[str, list[dict[str, Any]], str]],
                  gift_skus: Iterable[str] = ()) -> list[Reserved]:
    """:func:`reserve` for a push's new orders at once: the same outcome, order by order, in push order.

    ``orders``: (order ID, lines, warehouse) of orders that hold nothing yet (a push's new paid
    orders). The stock rows they need are read and, on PostgreSQL, locked in one statement in
    (warehouse, SKU) order — a stable order, so two batches never deadlock on them, and no other
    transaction changes them until commit: no oversell. Each order then takes its units in memory,
    all or nothing, exactly as :func:`reserve` would one after the other; the rows' new counts go
    back in one executemany UPDATE and the ``reserve`` moves in multi-row INSERTs.
    """
    gift_skus = sorted(set(gift_skus))
    wants = [(oid, needed({"lines": lines}), wh) for oid, lines, wh in orders]
    skus = sorted({sku for _oid, want, _wh in wants for sku in want} | set(gift_skus))
    warehouses = sorted({wh for _oid, _want, wh in wants})
    if not skus or not warehouses:
        return [Reserved([]) for _ in orders]
    stmt = select(_S.warehouse, _S.sku, _S.on_hand, _S.reserved).where(
        _S.warehouse.in_(warehouses), _S.sku.in_(skus)).order_by(_S.warehouse, _S.sku)
    if db.is_postgres(w.conn):
        stmt = stmt.with_for_update()
    rows: dict[tuple[str, str], list[int]] = {(wh, sku): [int(oh), int(r)] for wh, sku, oh, r in w.conn.execute(stmt)}
    before = {key: (v[0], v[1]) for key, v in rows.items()}
    taken: dict[tuple[str, str], int] = {}
    moves: list[tuple[str, str, str, int]] = []  # (order ID, warehouse, SKU, units)
    out: list[Reserved] = []
    for (oid, want, wh), (_oid, lines, _wh) in zip(wants, orders, strict=True):
        levels = {sku: rows[(wh, sku)] for sku in want if (wh, sku) in rows}
        short = [sku for sku, q in want.items() if sku in levels and levels[sku][0] - levels[sku][1] < q]
        if levels and not short:
            for sku in levels:
                levels[sku][1] += want[sku]
                taken[(wh, sku)] = taken.get((wh, sku), 0) + want[sku]
                moves.append((oid, wh, sku, want[sku]))
        gift_rows = None
        if any(ln.get("is_gift") for ln in lines):
            gift_rows = {sku: (rows[(wh, sku)][0], rows[(wh, sku)][1]) for sku in gift_skus if (wh, sku) in rows}
        if not short:
            out.append(Reserved([], gift_rows))
            continue
        gifts = {ln["sku"] for ln in lines if ln.get("is_gift")}
        names = {ln["sku"]: ln.get("name", "") for ln in lines}
        out.append(Reserved([{"sku": sku, "name": names.get(sku, ""), "needed": want[sku],
                              "available": max(0, levels[sku][0] - levels[sku][1]), "is_gift": sku in gifts}
                             for sku in short], gift_rows))
    if taken:
        if _stock_hooks(w):
            for key in taken:
                w.stock_before.setdefault((key[1], key[0]), before[key])
        w.conn.execute(_SHIFT, [{"b_sku": sku, "b_wh": wh, "b_oh": 0, "b_r": q, "b_now": w.now}
                                for (wh, sku), q in sorted(taken.items())])
        at, by, mark = _time(w.conn, w.now), w.actor.operator[:64], _mark(w.conn)
        for i in range(0, len(moves), 500):
            chunk = moves[i : i + 500]
            params = [x for oid, wh, sku, q in chunk for x in (oid, "reserve", sku, wh, 0, q, at, by)]
            ids = sorted(int(r[0]) for r in w.conn.exec_driver_sql(_moves_sql(len(chunk), mark), tuple(params)))
            for move_id, (_oid, wh, sku, q) in zip(ids, chunk, strict=True):
                w.on_restore(_undoer(w, move_id, sku, wh, 0, q))
    return out


# The two statements every counted allocation runs go to the driver as plain SQL, built once per
# number of SKUs and driver: through SQLAlchemy's statement layer they cost about twice the CPU
# (bench/allocation.py: reservation's share of allocation throughput). Positional parameters only;
# time values pass through the column type's own bind processor (SQLite stores them as text).

def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _time(conn: Connection, at: datetime) -> Any:
    """``at`` in the driver's form for a time column (SQLite: text; PostgreSQL: the datetime).

    A transaction's writes all carry its one ``w.now``: the last answer is kept, keyed by the
    dialect and the very object (equal instants in two time zones are stored as different text;
    the tuple keeps the object alive, so its identity cannot be reused)."""
    global _last_time
    last = _last_time  # one read of one tuple: request threads may replace it meanwhile
    if last[0] == conn.dialect.name and last[1] is at:
        return last[2]
    process = db.stock.c.updated_at.type.bind_processor(conn.dialect)
    value = process(at) if process is not None else at
    _last_time = (conn.dialect.name, at, value)
    return value


_last_time: tuple[str, Any, Any] = ("", None, None)  # (dialect, the datetime itself, its driver form)


def _take(w: Writer, warehouse: str, count: dict[str, int]) -> set[str]:
    """One conditional UPDATE for all the order's counted SKUs: each row takes its units only while
    they are available (``on_hand - reserved >= q``, re-checked by PostgreSQL after a row lock wait).
    Returns the SKUs that took them. Rows are locked in the plan's order; a deadlock between two
    allocations is retried by ``Hub.tx``."""
    case_args = [x for sku, q in count.items() for x in (sku, q)]
    params = (*case_args, _time(w.conn, w.now), warehouse, *count, *case_args)
    return {r[0] for r in db.driver_rows(w.conn, _take_sql(len(count), _mark(w.conn)), params)}


@functools.lru_cache(maxsize=64)
def _take_sql(n: int, mark: str) -> str:
    """:func:`_take`'s statement for ``n`` SKUs (SQLite ≥ 3.35 and PostgreSQL both take it)."""
    q = "CASE sku " + " ".join(f"WHEN {mark} THEN {mark}" for _ in range(n)) + " END"
    return (f"UPDATE stock SET reserved = reserved + {q}, updated_at = {mark} "
            f"WHERE warehouse = {mark} AND sku IN ({', '.join([mark] * n)}) AND on_hand - reserved >= {q} "
            f"RETURNING sku")


def _read_take_and_audit(w: Writer, oid: str, warehouse: str, want: dict[str, int]
                         ) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """PostgreSQL: :func:`reserve`'s read, :func:`_take` and the ``reserve`` rows of what it took, in
    one statement (data-modifying WITHs): one round trip per allocation instead of two.

    The UPDATE runs only when the statement's own read says every tracked line fits (all or
    nothing, as the read-then-take on SQLite); at each row lock it re-checks the row as committed
    by then, so two allocations that both read "fits" cannot both take the last units. Returns the
    tracked rows as read (SKU -> (on_hand, reserved), before this take) and SKU -> move id for the
    SKUs that took their units.
    """
    case_args = [x for sku, q in want.items() for x in (sku, q)]
    at = _time(w.conn, w.now)
    params = (warehouse, *want,  # the read
              *case_args, at, warehouse, *want, *case_args, *case_args,  # the UPDATE, if it all fits
              oid, warehouse, *case_args, at, w.actor.operator[:64])  # the audit rows of what it took
    levels: dict[str, tuple[int, int]] = {}
    took: dict[str, int] = {}
    for sku, on_hand, reserved, move_id in db.driver_rows(w.conn, _read_take_and_audit_sql(len(want)), params):
        if move_id is None:
            levels[sku] = (on_hand, reserved)
        else:
            took[sku] = int(move_id)
    return levels, took


@functools.lru_cache(maxsize=32)
def _read_take_and_audit_sql(n: int) -> str:
    def need(col: str) -> str:
        return f"CASE {col} " + " ".join("WHEN %s THEN %s" for _ in range(n)) + " END"
    skus = ", ".join(["%s"] * n)
    return (f"WITH cur AS (SELECT sku, on_hand, reserved FROM stock WHERE warehouse = %s AND sku IN ({skus})), "
            f"took AS (UPDATE stock SET reserved = reserved + {need('sku')}, updated_at = %s "
            f"WHERE warehouse = %s AND sku IN ({skus}) AND on_hand - reserved >= {need('sku')} "
            f"AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.on_hand - cur.reserved < {need('cur.sku')}) "
            "RETURNING sku), "
            "moved AS (INSERT INTO stock_moves (order_id, reason, sku, warehouse, delta_on_hand, delta_reserved, "
            'at, "by") SELECT %s, ' + "'reserve'" + f", sku, %s, 0, {need('sku')}, %s, %s FROM took RETURNING id, sku) "
            "SELECT sku, on_hand, reserved, NULL::bigint FROM cur UNION ALL SELECT sku, NULL, NULL, id FROM moved")


def _add_reserve_moves(w: Writer, oid: str, warehouse: str, taken: list[tuple[str, int]]) -> list[int]:
    """The ``reserve`` audit rows of one reservation, in one INSERT; returns their ids in ``taken``'s order."""
    at, by = _time(w.conn, w.now), w.actor.operator[:64]
    params = [x for sku, q in taken for x in (oid, "reserve", sku, warehouse, 0, q, at, by)]
    rows = db.driver_rows(w.conn, _moves_sql(len(taken), _mark(w.conn)), params)
    return sorted(int(r[0]) for r in rows)  # ids rise with the VALUES order (one statement, one writer)


@functools.lru_cache(maxsize=64)
def _moves_sql(n: int, mark: str) -> str:
    row = "(" + ", ".join([mark] * 8) + ")"
    return ('INSERT INTO stock_moves (order_id, reason, sku, warehouse, delta_on_hand, delta_reserved, at, "by") '
            f"VALUES {', '.join([row] * n)} RETURNING id")


def release(w: Writer, doc: dict[str, Any], reason: str = "release") -> set[str]:
    """Give back everything the order holds reserved (nothing held: nothing happens).

    Returns the warehouses where units were freed (the caller runs their fair queue,
    :func:`requeue`, once its own reservation is settled).
    """
    freed: set[str] = set()
    for (sku, wh), q in sorted(held(w.conn, doc["order_id"]).items()):
        _move(w, doc["order_id"], reason, sku, wh, 0, -q)
        if q > 0:
            freed.add(wh)
    return freed


def requeue(w: Writer, warehouses: Iterable[str]) -> list[str]:
    """Units were freed at ``warehouses`` (cancel, refund, reallocation, a change of lines): run the
    fair queue there, exactly as an arrival does. Returns the released order IDs."""
    return [oid for wh in sorted(set(warehouses)) for oid in release_waiting(w, wh)]


def rereserve(w: Writer, doc: dict[str, Any], reason: str = "rereserve", *,
              warehouse: str | None = None) -> list[dict[str, Any]]:
    """The order's lines or warehouse changed: give back what it holds, reserve its lines now.

    Used by a substitute chosen on an ``item_missing`` hold, a reallocation to another warehouse
    and an order routed again (an address change that moves it). ``warehouse``: where it is going
    (default: ``doc["warehouse"]``). An order waiting for stock (a short-stock hold open) or not at
    the bench keeps nothing: what it held is released, the hold's release reserves later. Short at
    the new place: a ``stock_short`` hold and nothing held. The freed units run the fair queue
    after the order's own reservation (it keeps its place: units it gives back and takes again
    are never offered to others in between). Returns the short SKUs (empty: reserved or untracked).
    """
    wh = warehouse or doc.get("warehouse")
    waiting = any(h.get("type") in SHORT_HOLDS for h in doc.get("holds", []))
    freed = release(w, doc, reason)
    short: list[dict[str, Any]] = []
    if wh and not waiting and doc.get("state") in _WAITING_STATES:
        short = reserve(w, doc, wh)
        if short:
            raise_short(w, doc, short)
    requeue(w, freed)
    return short


def consume(w: Writer, doc: dict[str, Any]) -> None:
    """The parcel left: what the order holds reserved leaves on hand and reserved both."""
    for (sku, wh), q in sorted(held(w.conn, doc["order_id"]).items()):
        _move(w, doc["order_id"], "ship", sku, wh, -q, -q)


def on_transition(w: Writer, doc: dict[str, Any], trigger: Trigger, to_state: State,
                  from_state: State | None = None) -> None:
    """The stock side of a transition (called by the writer after every one).

    Closing (cancel, refund, payment timeout, return) releases; shipping consumes; a reallocation
    to another warehouse releases and reserves there (short: a ``stock_short`` hold, nothing held).
    An order closed before payment was never allocated, so it holds nothing: no read for it (a
    push's cancelled new orders; issue 18).
    """
    if trigger in (Trigger.HOLD_RAISED, Trigger.HOLD_RELEASED, Trigger.CREATED):
        return
    if trigger in SHIP_TRIGGERS:
        consume(w, doc)
    elif to_state is State.CLOSED:
        if from_state is State.PENDING_PAYMENT:
            return
        requeue(w, release(w, doc, "close:" + trigger.value))
    elif trigger is Trigger.REALLOCATED:
        now_held = held(w.conn, doc["order_id"])
        if now_held and {wh for _sku, wh in now_held} != {doc.get("warehouse")}:
            rereserve(w, doc, "reallocate")


HOLD_STOCK_SHORT = "stock_short"
STOCK_SHORT_REASON = "库存不足，等待到货或换货 / stock is short: wait for stock, substitute or contact the buyer"


#: Holds that say the order's lines could not be reserved (nothing is held while one is open).
SHORT_HOLDS = frozenset({HOLD_STOCK_SHORT, "gift_stock"})


class StockShort(UserError):
    """Releasing the last short-stock hold needs the lines reserved, and stock is still short."""

    code = "stock_short"


def reserve_on_release(w: Writer, doc: dict[str, Any]) -> None:
    """After a short-stock hold is released (wait for stock, substitute, gift left out): when no
    other such hold is open and the order is at the bench, reserve its lines now.

    Raises:
        StockShort: still short (the caller's action is refused and the writer restored).
    """
    if any(h.get("type") in SHORT_HOLDS for h in doc.get("holds", [])):
        return
    if doc.get("state") not in (State.ALLOCATED.value, State.LABEL_PRINTED.value) or not doc.get("warehouse"):
        return
    freed = release(w, doc, "rereserve")  # a gift hold from the static table left the goods reserved
    short = reserve(w, doc, doc["warehouse"])
    if short:
        text = ", ".join(f"{s['sku']} ({s['available']}/{s['needed']})" for s in short)
        raise StockShort(f"Still short of stock at {doc['warehouse']}: {text} (available/needed). "
                         f"Wait for stock or substitute.", details={"short": short})
    requeue(w, freed)


def raise_short(w: Writer, doc: dict[str, Any], short: list[dict[str, Any]], *,
                action_id: str | None = None, reason: str = STOCK_SHORT_REASON,
                extra: dict[str, Any] | None = None) -> None:
    """A ``stock_short`` hold naming the short SKUs (the order holds nothing reserved)."""
    w.raise_hold(doc, HOLD_STOCK_SHORT, reason, {"short": short, "warehouse": doc.get("warehouse"), **(extra or {})},
                 action_id=action_id)


def seed_gift_stock(conn: Connection, rules: Rules, now: datetime) -> int:
    """The rules file's ``[gift_stock]`` counts become stock rows, once per (SKU, warehouse): the flat
    form at the default warehouse, ``[gift_stock.WH]`` tables at their warehouse. A SKU that already
    has a row there keeps it (counts are never overwritten). Returns rows added."""
    rows: list[dict[str, Any]] = []
    for wh, counts in sorted(rules.gift_stock_by_warehouse.items()):
        have = set(tracked(conn, wh, counts))
        rows += [{"sku": sku, "warehouse": wh, "on_hand": n, "reserved": 0, "updated_at": now}
                 for sku, n in sorted(counts.items()) if sku not in have]
    if rows:
        conn.execute(insert(db.stock), rows)
        conn.execute(insert(db.stock_moves), [
            {"order_id": None, "reason": "seed:gift_stock", "sku": r["sku"], "warehouse": r["warehouse"],
             "delta_on_hand": r["on_hand"], "delta_reserved": 0, "at": now, "by": "system"} for r in rows])
    return len(rows)


def set_on_hand(w: Writer, sku: str, warehouse: str, on_hand: int, reason: str) -> None:
    """Create or set a stock row's on-hand count (tests and, later, adjustments/imports), audited."""
    found = tracked(w.conn, warehouse, [sku]).get(sku)
    if found is None:
        touch(w, sku, warehouse)
        w.conn.execute(insert(db.stock).values(sku=sku, warehouse=warehouse, on_hand=0, reserved=0,
                                               updated_at=w.now))
        found = (0, 0)
    _move(w, None, reason, sku, warehouse, on_hand - found[0], 0)


# -- where stock comes from: adjustments, the WMS push, and the short holds that then release ----

#: An adjustment's reason (docs/stock.md): 盘点 cycle count, 破损 damage, 到货 receipt, other.
ADJUST_REASONS = ("cycle_count", "damage", "receipt", "other")
MAX_WMS_ROWS = 10_000


class BadStockInput(UserError):
    """An adjustment or WMS push that cannot be applied as sent (400); nothing of it is written."""

    code = "bad_payload"


def _row(conn: Connection, sku: str, warehouse: str) -> Any:
    """The row, locked on PostgreSQL until commit: a concurrent push or adjustment waits, then reads
    this one's result (its as-of check and delta are taken from the committed row)."""
    stmt = select(_S.on_hand, _S.reserved, _S.wms_as_of).where(and_(_S.sku == sku, _S.warehouse == warehouse))
    if db.is_postgres(conn):
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def _ensure_row(w: Writer, sku: str, warehouse: str,
                created: set[tuple[str, str]] | None = None) -> tuple[int, int, datetime | None]:
    """The row's (on_hand, reserved, wms_as_of); a SKU not counted here yet gets a row at 0 (tracked from
    now) and its key is added to ``created`` (the caller then runs :func:`reserve_late` for it)."""
    row = _row(w.conn, sku, warehouse)
    if row is None:
        touch(w, sku, warehouse)
        if created is not None:
            created.add((sku, warehouse))
        w.conn.execute(insert(db.stock).values(sku=sku, warehouse=warehouse, on_hand=0, reserved=0, updated_at=w.now))
        return 0, 0, None
    return int(row.on_hand), int(row.reserved), as_utc(row.wms_as_of) if row.wms_as_of is not None else None


def adjust(w: Writer, sku: str, warehouse: str, *, reason: str, delta: int | None = None,
           on_hand: int | None = None, note: str = "") -> dict[str, Any]:
    """A desk/supervisor adjustment: ``delta`` units, or set to ``on_hand``; audited as ``adjust:<reason>``.

    On hand never goes below 0; it may go below what is reserved (a count is a fact): the row is
    then short (available < 0) and no new reservation fits until stock arrives. Any increase of
    available releases waiting ``stock_short`` holds, oldest promise first (:func:`release_waiting`).

    Raises:
        BadStockInput: an unknown reason, neither or both of delta and on_hand, or a count below 0.
    """
    if reason not in ADJUST_REASONS:
        raise BadStockInput(f"Unknown adjustment reason '{reason}'; one of: {', '.join(ADJUST_REASONS)}.",
                            details={"field": "reason"})
    if (delta is None) == (on_hand is None):
        raise BadStockInput("Give either delta or on_hand (not both).", details={"field": "delta"})
    created: set[tuple[str, str]] = set()
    cur, _reserved, _as_of = _ensure_row(w, sku, warehouse, created)
    new = cur + delta if delta is not None else on_hand
    assert new is not None
    if new < 0:
        raise BadStockInput(f"{sku} at {warehouse} has {cur} on hand: it cannot go to {new}.",
                            details={"field": "delta", "on_hand": cur})
    if new != cur:
        _move(w, None, "adjust:" + reason, sku, warehouse, new - cur, 0, note=note[:200] or None)
    reserve_late(w, created)
    shed_ids = shed(w, sku, warehouse, cause="adjust:" + reason) if new < cur else []
    released = release_waiting(w, warehouse) if new > cur or shed_ids else []
    after = tracked(w.conn, warehouse, [sku])[sku]
    return {"sku": sku, "warehouse": warehouse, "on_hand": after[0], "reserved": after[1],
            "available": after[0] - after[1], "released": released, "shed": shed_ids}


#: What becomes of quarantined units (damaged returns): 报废 scrapped, or 复检合格 back on the shelf.
QUARANTINE_OUTCOMES = ("scrap", "restock")


def dispose_quarantine(w: Writer, sku: str, warehouse: str, *, outcome: str, units: int,
                       note: str = "") -> dict[str, Any]:
    """Quarantined units leave quarantine: ``scrap`` (gone: thrown away, sent back to the supplier) or
    ``restock`` (re-checked and good: on hand again, so waiting ``stock_short`` holds are released,
    oldest promise first). Audited as ``quarantine:<outcome>`` with the operator.

    Without this a damaged return stayed counted in quarantine for ever (docs/returns.md).

    Raises:
        BadStockInput: an unknown outcome, fewer than 1 unit, a row not counted here, or more units
            than are in quarantine (nothing is written).
    """
    if outcome not in QUARANTINE_OUTCOMES:
        raise BadStockInput(f"Unknown outcome '{outcome}'; one of: {', '.join(QUARANTINE_OUTCOMES)}.",
                            details={"field": "outcome"})
    if units < 1:
        raise BadStockInput("At least 1 unit leaves quarantine.", details={"field": "units"})
    stmt = select(_S.quarantine).where(and_(_S.sku == sku, _S.warehouse == warehouse))
    if db.is_postgres(w.conn):
        stmt = stmt.with_for_update()  # two desks disposing of the last unit: the second reads the first's result
    held_back = w.conn.execute(stmt).scalar_one_or_none()
    if held_back is None:
        raise BadStockInput(f"{sku} is not counted at {warehouse}: it has nothing in quarantine.",
                            details={"field": "sku"})
    if held_back < units:
        raise BadStockInput(f"{sku} at {warehouse} has {held_back} in quarantine: {units} cannot leave it.",
                            details={"field": "units", "quarantine": int(held_back)})
    back = units if outcome == "restock" else 0
    _move(w, None, "quarantine:" + outcome, sku, warehouse, back, 0, note=note[:200] or None, d_quarantine=-units)
    released = release_waiting(w, warehouse) if back else []
    row = w.conn.execute(select(_S.on_hand, _S.reserved, _S.quarantine).where(
        and_(_S.sku == sku, _S.warehouse == warehouse))).one()
    return {"sku": sku, "warehouse": warehouse, "on_hand": row.on_hand, "reserved": row.reserved,
            "available": row.on_hand - row.reserved, "quarantine": row.quarantine, "released": released}


@dataclass(frozen=True)
class WmsRow:
    sku: str
    warehouse: str
    on_hand: int
    as_of: datetime


def parse_wms(body: bytes) -> tuple[str, list[WmsRow]]:
    """A WMS push's body (docs/stock.md "WMS push") as (message_id, rows), checked whole.

    Raises:
        BadStockInput: not JSON, or any row malformed (the message is refused whole: nothing lost,
            the WMS sends it again once fixed).
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadStockInput("The WMS push is not JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
        raise BadStockInput("The WMS push needs a non-empty list 'rows'.", details={"field": "rows"})
    if len(data["rows"]) > MAX_WMS_ROWS:
        raise BadStockInput(f"At most {MAX_WMS_ROWS} rows per push.", details={"field": "rows"})
    message_id = data.get("message_id", "")
    default_wh = data.get("warehouse")
    if not isinstance(message_id, str) or len(message_id) > 200:
        raise BadStockInput("'message_id' must be text of at most 200 characters.", details={"field": "message_id"})
    rows = []
    for i, r in enumerate(data["rows"]):
        where = f"rows[{i}]"
        if not isinstance(r, dict):
            raise BadStockInput(f"{where} is not an object.", details={"field": where})
        sku, wh, n, at = r.get("sku"), r.get("warehouse", default_wh), r.get("on_hand"), r.get("as_of")
        if not isinstance(sku, str) or not 0 < len(sku.strip()) <= 64:
            raise BadStockInput(f"{where}.sku must be text of 1-64 characters.", details={"field": where + ".sku"})
        if not isinstance(wh, str) or not 0 < len(wh.strip()) <= 32:
            raise BadStockInput(f"{where}.warehouse must be text of 1-32 characters.",
                                details={"field": where + ".warehouse"})
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 2_000_000_000:
            raise BadStockInput(f"{where}.on_hand must be a whole number of units, 0 or more.",
                                details={"field": where + ".on_hand"})
        try:
            if not isinstance(at, str) or datetime.fromisoformat(at.replace("Z", "+00:00")).tzinfo is None:
                raise ValueError(at)
            when = parse_iso(at)
        except ValueError:
            when = None
        if when is None:
            raise BadStockInput(f"{where}.as_of must be an ISO 8601 time with its zone (e.g. 2026-12-06T08:00:00Z).",
                                details={"field": where + ".as_of"})
        rows.append(WmsRow(sku.strip(), wh.strip(), n, when))
    return message_id, rows


def apply_wms(w: Writer, message_id: str, rows: list[WmsRow]) -> dict[str, Any]:
    """Apply a WMS push's absolute counts: each row only when its ``as_of`` is newer than the row's last.

    An older or equal ``as_of`` changes nothing (out of order, or the same message again: one
    change). Rows are taken in (warehouse, SKU) order (a fixed lock order); increases of available
    release waiting ``stock_short`` holds at that warehouse afterwards, oldest promise first.
    """
    applied = stale = 0
    rose: set[str] = set()
    created: set[tuple[str, str]] = set()
    fell: list[tuple[str, str]] = []
    for r in sorted(rows, key=lambda r: (r.warehouse, r.sku, r.as_of)):
        cur, _reserved, last = _ensure_row(w, r.sku, r.warehouse, created)
        if last is not None and r.as_of <= last:
            stale += 1
            continue
        if r.on_hand != cur:
            _move(w, None, "wms", r.sku, r.warehouse, r.on_hand - cur, 0, note=message_id or None)
        w.conn.execute(update(db.stock).where(and_(_S.sku == r.sku, _S.warehouse == r.warehouse)).values(
            wms_as_of=r.as_of, updated_at=w.now))
        applied += 1
        if r.on_hand > cur:
            rose.add(r.warehouse)
        elif r.on_hand < cur:
            fell.append((r.warehouse, r.sku))
    reserve_late(w, created)
    shed_ids: list[str] = []
    for wh, sku in sorted(set(fell)):
        lost = shed(w, sku, wh, cause="wms", note=message_id)
        shed_ids += lost
        if lost:
            rose.add(wh)  # the orders that gave units back may have freed other SKUs there
    released = requeue(w, rose)
    return {"message_id": message_id, "applied": applied, "stale": stale, "released": released, "shed": shed_ids}


_WAITING_STATES = (State.ALLOCATED.value, State.LABEL_PRINTED.value)
_NEVER = datetime.max.replace(tzinfo=UTC)


def promise_key(doc: dict[str, Any]) -> tuple[datetime, datetime, datetime, str]:
    """The fair queue's order: the earliest promise (ship_by) first, then paid, then created, then ID."""
    def at(key: str) -> datetime:
        try:
            return parse_iso(doc.get(key)) or _NEVER
        except ValueError:
            return _NEVER
    created = at("created_at")
    paid = at("paid_at")
    return at("ship_by"), paid if paid is not _NEVER else created, created, str(doc["order_id"])


def _waiting(doc: dict[str, Any]) -> bool:
    """Held for stock only by ``stock_short`` (a ``gift_stock`` hold is the desk's choice to make)."""
    types = {h.get("type") for h in doc.get("holds", [])}
    return HOLD_STOCK_SHORT in types and "gift_stock" not in types


def release_waiting(w: Writer, warehouse: str) -> list[str]:
    """Stock arrived at ``warehouse``: release ``stock_short`` holds there, oldest promise first.

    Walks the orders held by ``stock_short`` at the warehouse in :func:`promise_key` order. An
    order whose whole need now fits gets its lines reserved and its holds released (audited, on
    the change feed, through ``w``). An order that does not fit keeps its claim: every SKU it
    needs is blocked for the orders behind it (a later, smaller order never takes the units the
    oldest is waiting for); later orders needing only other SKUs still go. Returns the released IDs.
    """
    o = db.orders.c
    ids = {r[0] for r in w.conn.execute(select(o.order_id).where(
        o.stock_wait == true(), o.warehouse == warehouse, o.state.in_(_WAITING_STATES)))}  # the partial index
    ids |= {oid for oid, d in w.in_flight().items() if d.get("warehouse") == warehouse and d.get("holds")
            and d.get("state") in _WAITING_STATES}  # held in this transaction, not written yet
    if not ids:
        return []
    queue = sorted((d for d in _docs(w, sorted(ids)).values() if _waiting(d) and d.get("warehouse") == warehouse
                    and d.get("state") in _WAITING_STATES), key=promise_key)
    blocked: set[str] = set()
    released: list[str] = []
    for doc in queue:
        want = needed(doc)
        levels = available(w.conn, warehouse, want)
        if blocked & set(levels) or any(levels[sku] < want[sku] for sku in levels):
            blocked |= set(levels)
            continue
        mark = w.checkpoint()
        before = copy.deepcopy(doc)
        for hold in [h for h in doc["holds"] if h["type"] == HOLD_STOCK_SHORT]:
            doc["holds"] = [h for h in doc["holds"] if h["hold_id"] != hold["hold_id"]]
            w.transition(doc, Trigger.HOLD_RELEASED, why="到货自动放行 / stock arrived: released automatically, "
                         "oldest promise first", details={"hold": hold, "resolution": {"auto": "stock_arrived"}})
        if reserve(w, doc, warehouse):  # another transaction took the units since we read (PostgreSQL)
            w.restore(mark)
            doc.clear()
            doc.update(before)  # the hold back on the object later steps of this transaction see
            blocked |= set(levels)
            continue
        released.append(doc["order_id"])
    return released


def _docs(w: Writer, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The orders by ID: this transaction's own objects where it has them, the rest loaded (locked)
    and remembered by the writer, so every later step of the transaction changes the same object."""
    from hub.orders import load_docs

    mine = w.in_flight()
    out = {oid: mine[oid] for oid in ids if oid in mine}
    loaded = load_docs(w.conn, [oid for oid in ids if oid not in mine], for_update=True)
    w.track(loaded)
    return {**out, **loaded}


#: The reason on the hold of an order whose units a count took back (the SKU, warehouse and count follow).
SHED_REASON = ("盘点后库存少于已预留，最新承诺的订单让出库存，等待到货或换货 / the count is below what is reserved: "
               "the newest promises give their units back; wait for stock or substitute")


def shed(w: Writer, sku: str, warehouse: str, *, cause: str, note: str = "") -> list[str]:
    """A count left ``sku`` at ``warehouse`` with less on hand than reserved: take units back.

    The orders holding the SKU there give back their whole reservation (all or nothing, as at
    allocation), **newest promise first** (the reverse of the fair queue, :func:`promise_key`),
    until reserved ≤ on hand. Each gets a ``stock_short`` hold saying why (``details.cause``:
    ``count_below_reserved``, the count and what it came from), audited through ``w``; the
    releases are ``stock_moves`` rows ``count_below_reserved``. Returns the order IDs.
    """
    found = tracked(w.conn, warehouse, [sku]).get(sku)
    if found is None or found[1] <= found[0]:
        return []
    on_hand, reserved = found
    rows = w.conn.execute(select(_M.order_id, func.sum(_M.delta_reserved)).where(
        _M.sku == sku, _M.warehouse == warehouse, _M.order_id.is_not(None)).group_by(_M.order_id))
    holding = {oid: int(q) for oid, q in rows if q and int(q) > 0}
    docs = _docs(w, sorted(holding))
    out: list[str] = []
    for doc in sorted(docs.values(), key=promise_key, reverse=True):
        if reserved <= on_hand:
            break
        if doc.get("state") not in _WAITING_STATES:
            continue
        q = holding[doc["order_id"]]
        release(w, doc, "count_below_reserved")
        reserved -= q
        name = next((str(ln.get("name") or "") for ln in doc.get("lines", []) if ln.get("sku") == sku), "")
        is_gift = any(ln.get("is_gift") for ln in doc.get("lines", []) if ln.get("sku") == sku)
        entry = {"sku": sku, "name": name, "needed": needed(doc).get(sku, q),
                 "available": max(0, on_hand - reserved), "is_gift": is_gift}
        why = f"{SHED_REASON} ({sku} @ {warehouse}: {on_hand} on hand)"
        raise_short(w, doc, [entry], reason=why, extra={
            "cause": "count_below_reserved", "count": on_hand, "by": cause, **({"note": note} if note else {})})
        out.append(doc["order_id"])
    return out


def listing(conn: Connection, *, warehouse: str = "", q: str = "", short: bool = False,
            limit: int = 500) -> list[dict[str, Any]]:
    """Stock rows for the desk: on hand, reserved, available and how many held orders wait for each.

    ``short``: only rows with nothing available or named short by an open ``stock_short`` hold;
    the rows come least available first.
    """
    waiting: dict[tuple[str, str], int] = {}
    o = db.orders.c
    stmt = select(o.doc).where(o.held.is_(True), o.state.in_(_WAITING_STATES))
    if warehouse:
        stmt = stmt.where(o.warehouse == warehouse)
    for (doc,) in conn.execute(stmt):
        for h in doc.get("holds", []):
            if h.get("type") == HOLD_STOCK_SHORT:
                for s in h.get("details", {}).get("short", []):
                    key = (s.get("sku"), h["details"].get("warehouse") or doc.get("warehouse"))
                    waiting[key] = waiting.get(key, 0) + 1
    stmt = select(_S.sku, _S.warehouse, _S.on_hand, _S.reserved, _S.quarantine, _S.updated_at, _S.wms_as_of)
    if warehouse:
        stmt = stmt.where(_S.warehouse == warehouse)
    if q.strip():
        prefix = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(_S.sku.like(prefix + "%", escape="\\"))
    out = []
    for r in conn.execute(stmt.order_by((_S.on_hand - _S.reserved), _S.sku, _S.warehouse)):
        n = waiting.get((r.sku, r.warehouse), 0)
        avail = r.on_hand - r.reserved
        if short and avail > 0 and not n:
            continue
        out.append({"sku": r.sku, "warehouse": r.warehouse, "on_hand": r.on_hand, "reserved": r.reserved,
                    "available": avail, "quarantine": r.quarantine, "waiting_orders": n, "updated_at": iso(as_utc(r.updated_at)),
                    "wms_as_of": iso(as_utc(r.wms_as_of)) if r.wms_as_of is not None else None})
        if len(out) >= limit:
            break
    return out


# -- stock rows created after orders were allocated ------------------------------------------------

#: A reservation taken when the SKU's row was created after the order was allocated (docs/stock.md).
REASON_RESERVE_LATE = "reserve_late"


def reserve_late(w: Writer, created: set[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Stock rows ``created`` in this transaction: the open orders that hold those SKUs untracked reserve now.

    Which orders count (docs/stock.md "Stock rows created after orders"): at the row's warehouse,
    state ``allocated`` or ``label_printed``, a line of the SKU, no open ``stock_short`` or
    ``gift_stock`` hold (those hold nothing and are released by the fair queue), and nothing yet
    reserved for that (SKU, warehouse). Oldest promise first (:func:`promise_key`); an order takes
    all of the new SKUs it needs or none. One that cannot be covered gives back what it held
    elsewhere and gets a ``stock_short`` hold (nothing is held while one is open), and every later
    order needing that SKU gets one too: it waits behind the older one in the fair queue
    (:func:`release_waiting`) rather than take the units first.

    Returns:
        (IDs that reserved, IDs that got a ``stock_short`` hold).
    """
    from hub.orders import load_docs

    reserved: list[str] = []
    held_short: list[str] = []
    o = db.orders.c
    for wh in sorted({wh for _sku, wh in created}):
        skus = {sku for sku, w_ in created if w_ == wh}
        rows = w.conn.execute(select(o.order_id, o.doc).where(o.warehouse == wh, o.state.in_(_WAITING_STATES)))
        ids = [oid for oid, doc in rows if skus & set(needed(doc))
               and not any(h.get("type") in SHORT_HOLDS for h in doc.get("holds", []))]
        if not ids:
            continue
        blocked: set[str] = set()
        for doc in sorted(load_docs(w.conn, ids, for_update=True).values(), key=promise_key):
            have = held(w.conn, doc["order_id"])
            want = {sku: q for sku, q in needed(doc).items() if sku in skus and (sku, wh) not in have}
            if not want:
                continue
            mark = w.checkpoint()
            short = [sku for sku in want if sku in blocked]
            if not short:
                for sku, q in want.items():
                    touch(w, sku, wh)
                    took = w.conn.execute(update(db.stock).where(and_(
                        _S.sku == sku, _S.warehouse == wh, _S.on_hand - _S.reserved >= q)).values(
                        reserved=_S.reserved + q, updated_at=w.now)).rowcount
                    if took != 1:
                        short.append(sku)
                        break
                    move_id = w.conn.execute(insert(db.stock_moves).values(
                        order_id=doc["order_id"], reason=REASON_RESERVE_LATE, sku=sku, warehouse=wh,
                        delta_on_hand=0, delta_reserved=q, at=w.now, by=w.actor.operator[:64]).returning(
                        _M.id)).scalar_one()
                    w.on_restore(_undoer(w, move_id, sku, wh, 0, q))
            if not short:
                reserved.append(doc["order_id"])
                continue
            w.restore(mark)  # the new SKUs reserved before the short one
            blocked |= set(want)
            w.track({doc["order_id"]: doc})
            release(w, doc, "reserve_undone")  # nothing is held under a short hold
            levels = available(w.conn, wh, want)
            gifts = {ln["sku"] for ln in doc["lines"] if ln.get("is_gift")}
            names = {ln["sku"]: ln.get("name", "") for ln in doc["lines"]}
            raise_short(w, doc, [{"sku": sku, "name": names.get(sku, ""), "needed": want[sku],
                                  "available": max(0, levels.get(sku, 0)), "is_gift": sku in gifts}
                                 for sku in sorted(want)])
            held_short.append(doc["order_id"])
    return reserved, held_short


# -- the stock sheet import --------------------------------------------------------------------------

#: A stock move written by a stock sheet import (its note: the file name, and the row's note).
REASON_IMPORT = "import"
#: How many changed rows an import's answer lists (the counts cover them all).
MAX_LISTED_CHANGES = 1000


def import_counts(w: Writer, filename: str, rows: Sequence[StockRow]) -> dict[str, Any]:
    """Apply a checked stock sheet: every row sets (SKU, warehouse) to its absolute count.

    Each changed row is a ``stock_moves`` row ``import`` with the file name (and the row's note) in
    ``note`` and the operator in ``by``; unchanged rows write nothing; a SKU new at a warehouse gets
    its row with the count (its move: the whole count). New rows then reserve for the open orders
    that held the SKU untracked (:func:`reserve_late`); warehouses whose on hand went up release
    waiting ``stock_short`` holds (:func:`release_waiting`, the adjustments' fair queue). Like an
    adjustment or a WMS count, a count below what is reserved sheds the newest promises' reservations
    (:func:`shed`) until reserved fits on hand.

    Written in bulk (one read, one insert, one update and one insert of moves per 500 rows of a
    warehouse) and not registered for :meth:`Writer.restore`: an import is its own transaction and
    nothing restores past it. On PostgreSQL the rows are read ``FOR UPDATE`` in SKU order.

    Returns:
        ``{rows, changed, unchanged, new_rows, changes: [{row, sku, warehouse, before, on_hand}]
        (at most :data:`MAX_LISTED_CHANGES`), changes_truncated, released, reserved_late, held_short, shed}``.
    """
    conn = w.conn
    hooks = bool(_stock_hooks(w))
    created: set[tuple[str, str]] = set()
    rose: set[str] = set()
    fell: list[tuple[str, str]] = []
    changes: list[dict[str, Any]] = []
    changed = 0
    by = w.actor.operator[:64]
    for wh in sorted({r.warehouse for r in rows}):
        mine = sorted((r for r in rows if r.warehouse == wh), key=lambda r: r.sku)  # a fixed lock order
        for i in range(0, len(mine), 500):
            part = mine[i:i + 500]
            stmt = select(_S.sku, _S.on_hand, _S.reserved).where(
                and_(_S.warehouse == wh, _S.sku.in_([r.sku for r in part])))
            if db.is_postgres(conn):
                stmt = stmt.with_for_update()
            have = {sku: (on_hand, reserved) for sku, on_hand, reserved in conn.execute(stmt)}
            fresh = [r for r in part if r.sku not in have]
            moved = [(r, have[r.sku][0]) for r in part if r.sku in have and have[r.sku][0] != r.on_hand]
            if hooks:
                for r in part:
                    w.stock_before.setdefault((r.sku, wh), have.get(r.sku))
            if fresh:
                conn.execute(insert(db.stock), [{"sku": r.sku, "warehouse": wh, "on_hand": r.on_hand, "reserved": 0,
                                                 "updated_at": w.now} for r in fresh])
                created |= {(r.sku, wh) for r in fresh}
            if moved:
                conn.execute(update(db.stock).where(and_(_S.sku == bindparam("b_sku"), _S.warehouse == wh)).values(
                    on_hand=_S.on_hand + bindparam("b_delta"), updated_at=w.now),
                    [{"b_sku": r.sku, "b_delta": r.on_hand - cur} for r, cur in moved])
            audit = [(r, 0) for r in fresh if r.on_hand] + moved
            if audit:
                conn.execute(insert(db.stock_moves), [
                    {"order_id": None, "reason": REASON_IMPORT, "sku": r.sku, "warehouse": wh,
                     "delta_on_hand": r.on_hand - cur, "delta_reserved": 0, "at": w.now, "by": by,
                     "note": (f"{filename} · {r.note}" if r.note else filename)[:200]} for r, cur in audit])
            if any(r.on_hand > cur for r, cur in moved) or any(r.on_hand for r in fresh):
                rose.add(wh)
            fell += [(wh, r.sku) for r, cur in moved if r.on_hand < cur]
            for r, before in [(r, None) for r in fresh] + [(r, cur) for r, cur in moved]:
                changed += 1
                if len(changes) < MAX_LISTED_CHANGES:
                    changes.append({"row": r.row, "sku": r.sku, "warehouse": wh, "before": before,
                                    "on_hand": r.on_hand})
    late, held_short = reserve_late(w, created)
    shed_ids: list[str] = []
    for wh, sku in sorted(set(fell)):
        lost = shed(w, sku, wh, cause="import", note=filename[:200])
        shed_ids += lost
        if lost:
            rose.add(wh)  # the orders that gave units back may have freed other SKUs there
    released = requeue(w, rose)
    changes.sort(key=lambda c: c["row"])
    return {"rows": len(rows), "changed": changed, "unchanged": len(rows) - changed, "new_rows": len(created),
            "changes": changes, "changes_truncated": changed > len(changes), "released": released,
            "reserved_late": late, "held_short": held_short, "shed": shed_ids}


# -- stock on the webhooks ---------------------------------------------------------------------------

#: The webhook event of a stock row's change (docs/api.md "Webhooks"); only hooks that list it get it.
STOCK_EVENT = "stock.changed"


def _stock_hooks(w: Writer) -> list[Any]:
    return [h for h in w.settings.webhooks if STOCK_EVENT in h.events]


def touch(w: Writer, sku: str, warehouse: str) -> None:
    """About to change the (SKU, warehouse) row: remember its counts before this transaction's first change
    (only when a webhook subscribes to :data:`STOCK_EVENT`; otherwise it costs nothing)."""
    if (sku, warehouse) not in w.stock_before and _stock_hooks(w):
        w.stock_before[(sku, warehouse)] = tracked(w.conn, warehouse, [sku]).get(sku)


def enqueue_changes(w: Writer) -> int:
    """One :data:`STOCK_EVENT` per (SKU, warehouse) whose counts this transaction changed, to the webhook
    queue (called by :meth:`hub.writer.Writer.flush`, in the same transaction). A row changed and put
    back (a refused action's restore) sends nothing. Returns the events queued."""
    hooks = _stock_hooks(w)
    if not w.stock_before or not hooks:
        return 0
    out = []
    for wh in sorted({wh for _sku, wh in w.stock_before}):
        keys = sorted(sku for sku, w_ in w.stock_before if w_ == wh)
        now = tracked(w.conn, wh, keys)
        for sku in keys:
            before, after = w.stock_before[(sku, wh)], now.get(sku)
            if after is None or after == before:
                continue
            event_id = uuid.uuid4().hex
            body = json.dumps({
                "event": STOCK_EVENT, "trigger": STOCK_EVENT, "event_id": event_id, "sku": sku, "warehouse": wh,
                "on_hand": after[0], "reserved": after[1], "available": after[0] - after[1],
                "before": None if before is None else {"on_hand": before[0], "reserved": before[1]},
                "at": iso(w.now), "operator": w.actor.operator, "station": w.actor.station}, ensure_ascii=False)
            out += [{"event_id": event_id, "subscriber": h.name, "body": body, "attempts": 0,
                     "next_attempt_at": w.now, "created_at": w.now} for h in hooks]
    w.stock_before.clear()
    if out:
        w.conn.execute(insert(db.webhook_queue), out)
    return len(out) // len(hooks)
