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
- Writes happen at once on the writer's connection; :meth:`hub.writer.Writer.restore` undoes
  those made after its checkpoint (a refused action leaves the stock as it was).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.states import State, Trigger
from hub import db

if TYPE_CHECKING:
    from hub.routing import HoldSpec, Rules
    from hub.writer import Writer

__all__ = ["available", "consume", "held", "needed", "on_transition", "release", "reserve",
           "seed_gift_stock", "tracked"]

#: Triggers that take the parcel out of the warehouse: the reservation is consumed.
SHIP_TRIGGERS = frozenset({Trigger.SHIPPED_BY_STATION, Trigger.PICKED_UP_BY_CARRIER})

_S = db.stock.c
_M = db.stock_moves.c


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
    skus = list(skus)
    if not skus:
        return {}
    rows = conn.execute(select(_S.sku, _S.on_hand, _S.reserved).where(
        and_(_S.warehouse == warehouse, _S.sku.in_(skus))))
    return {sku: (on_hand, reserved) for sku, on_hand, reserved in rows}


def available(conn: Connection, warehouse: str, skus: Iterable[str]) -> dict[str, int]:
    """on_hand - reserved of the tracked SKUs among ``skus`` at ``warehouse``."""
    return {sku: on_hand - reserved for sku, (on_hand, reserved) in tracked(conn, warehouse, skus).items()}


def gift_levels(conn: Connection, rules: Rules, warehouse: str | None) -> dict[str, int]:
    """Available units of the catalogue's gift SKUs counted at ``warehouse`` (for the gift choices)."""
    if not warehouse:
        return {}
    return available(conn, warehouse, [sku for sku, item in rules.catalogue.items() if item.is_gift])


def held(conn: Connection, order_id: str) -> dict[tuple[str, str], int]:
    """What the order holds reserved now: (sku, warehouse) -> units (only non-zero)."""
    rows = conn.execute(select(_M.sku, _M.warehouse, func.sum(_M.delta_reserved)).where(
        _M.order_id == order_id).group_by(_M.sku, _M.warehouse))
    return {(sku, wh): int(total) for sku, wh, total in rows if total}


def _move(w: Writer, order_id: str | None, reason: str, sku: str, warehouse: str, d_on_hand: int,
          d_reserved: int) -> None:
    """Apply a delta to a stock row (unconditionally) and audit it; undone by ``w.restore``."""
    _shift(w.conn, sku, warehouse, d_on_hand, d_reserved, w.now)
    move_id = w.conn.execute(insert(db.stock_moves).values(
        order_id=order_id, reason=reason, sku=sku, warehouse=warehouse, delta_on_hand=d_on_hand,
        delta_reserved=d_reserved, at=w.now, by=w.actor.operator[:64]).returning(_M.id)).scalar_one()
    w.on_restore(_undoer(w, move_id, sku, warehouse, d_on_hand, d_reserved))


def _shift(conn: Connection, sku: str, warehouse: str, d_on_hand: int, d_reserved: int, now: datetime) -> None:
    conn.execute(update(db.stock).where(and_(_S.sku == sku, _S.warehouse == warehouse)).values(
        on_hand=_S.on_hand + d_on_hand, reserved=_S.reserved + d_reserved, updated_at=now))


def _undoer(w: Writer, move_id: int, sku: str, warehouse: str, d_on_hand: int,
            d_reserved: int) -> Callable[[], None]:
    return lambda: _undo(w.conn, move_id, sku, warehouse, d_on_hand, d_reserved, w.now)


def _undo(conn: Connection, move_id: int, sku: str, warehouse: str, d_on_hand: int, d_reserved: int,
          now: datetime) -> None:
    _shift(conn, sku, warehouse, -d_on_hand, -d_reserved, now)
    conn.execute(delete(db.stock_moves).where(_M.id == move_id))


def allocation_holds(conn: Connection, rules: Rules, warehouse: str, routed: Iterable[HoldSpec],
                     short: list[dict[str, Any]]) -> list[HoldSpec]:
    """The holds of an allocation: routing's, with gifts counted at ``warehouse`` judged by stock.

    Routing's ``gift_stock`` hold reads the rules' static table; a gift SKU tracked at the warehouse
    is taken off it (its stock row decides). Short tracked gifts make a ``gift_stock`` hold (its
    playbook: substitute / without gift / split), short goods a ``stock_short`` hold.
    """
    from hub.options import gift_options
    from hub.routing import _REASON_GIFT, HOLD_GIFT_STOCK, HoldSpec

    counted = set(tracked(conn, warehouse, rules.gift_stock)) if rules.gift_stock else set()
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
        options = gift_options(rules, gift_levels(conn, rules, warehouse)).to_wire()
        out.append(HoldSpec(HOLD_GIFT_STOCK, _REASON_GIFT, {"short": static + gift_short, "warehouse": warehouse,
                                                            "options": options}))
    goods_short = [s for s in short if not s["is_gift"]]
    if goods_short:
        out.append(HoldSpec(HOLD_STOCK_SHORT, STOCK_SHORT_REASON, {"short": goods_short, "warehouse": warehouse}))
    return out


def reserve(w: Writer, doc: dict[str, Any], warehouse: str) -> list[dict[str, Any]]:
    """Reserve the order's tracked lines at ``warehouse``, all or nothing.

    Returns the short SKUs (``{sku, name, needed, available, is_gift}``); when the list is not
    empty nothing was reserved. An order that already holds a reservation is not reserved twice.
    """
    want = needed(doc)
    levels = tracked(w.conn, warehouse, want)
    if not levels or held(w.conn, doc["order_id"]):
        return []  # nothing counted here (one read for an untracked site), or reserved already
    short = [sku for sku, q in want.items() if sku in levels and levels[sku][0] - levels[sku][1] < q]
    if not short:
        for sku, q in want.items():
            if sku not in levels:
                continue  # untracked: not counted
            took = w.conn.execute(update(db.stock).where(and_(
                _S.sku == sku, _S.warehouse == warehouse, _S.on_hand - _S.reserved >= q)).values(
                reserved=_S.reserved + q, updated_at=w.now)).rowcount
            if took != 1:  # another transaction took it since we read: short after all
                short = [sku]
                break
            move_id = w.conn.execute(insert(db.stock_moves).values(
                order_id=doc["order_id"], reason="reserve", sku=sku, warehouse=warehouse, delta_on_hand=0,
                delta_reserved=q, at=w.now, by=w.actor.operator[:64]).returning(_M.id)).scalar_one()
            w.on_restore(_undoer(w, move_id, sku, warehouse, 0, q))
    if not short:
        return []
    release(w, doc, "reserve_undone")  # the lines reserved before the short one
    levels = tracked(w.conn, warehouse, short)
    gifts = {ln["sku"] for ln in doc["lines"] if ln.get("is_gift")}
    names = {ln["sku"]: ln.get("name", "") for ln in doc["lines"]}
    return [{"sku": sku, "name": names.get(sku, ""), "needed": want[sku],
             "available": max(0, levels[sku][0] - levels[sku][1]) if sku in levels else 0,
             "is_gift": sku in gifts} for sku in short]


def release(w: Writer, doc: dict[str, Any], reason: str = "release") -> None:
    """Give back everything the order holds reserved (nothing held: nothing happens)."""
    for (sku, wh), q in sorted(held(w.conn, doc["order_id"]).items()):
        _move(w, doc["order_id"], reason, sku, wh, 0, -q)


def consume(w: Writer, doc: dict[str, Any]) -> None:
    """The parcel left: what the order holds reserved leaves on hand and reserved both."""
    for (sku, wh), q in sorted(held(w.conn, doc["order_id"]).items()):
        _move(w, doc["order_id"], "ship", sku, wh, -q, -q)


def on_transition(w: Writer, doc: dict[str, Any], trigger: Trigger, to_state: State) -> None:
    """The stock side of a transition (called by the writer after every one).

    Closing (cancel, refund, payment timeout, return) releases; shipping consumes; a reallocation
    to another warehouse releases and reserves there (short: a ``stock_short`` hold, nothing held).
    """
    if trigger in (Trigger.HOLD_RAISED, Trigger.HOLD_RELEASED, Trigger.CREATED):
        return
    if trigger in SHIP_TRIGGERS:
        consume(w, doc)
    elif to_state is State.CLOSED:
        release(w, doc, "close:" + trigger.value)
    elif trigger is Trigger.REALLOCATED:
        now_held = held(w.conn, doc["order_id"])
        if now_held and {wh for _sku, wh in now_held} != {doc.get("warehouse")}:
            release(w, doc, "reallocate")
            short = reserve(w, doc, doc["warehouse"])
            if short:
                raise_short(w, doc, short)


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
    short = reserve(w, doc, doc["warehouse"])
    if short:
        text = ", ".join(f"{s['sku']} ({s['available']}/{s['needed']})" for s in short)
        raise StockShort(f"Still short of stock at {doc['warehouse']}: {text} (available/needed). "
                         f"Wait for stock or substitute.", details={"short": short})


def raise_short(w: Writer, doc: dict[str, Any], short: list[dict[str, Any]], *,
                action_id: str | None = None) -> None:
    """A ``stock_short`` hold naming the short SKUs (the order holds nothing reserved)."""
    w.raise_hold(doc, HOLD_STOCK_SHORT, STOCK_SHORT_REASON, {"short": short, "warehouse": doc.get("warehouse")},
                 action_id=action_id)


def seed_gift_stock(conn: Connection, rules: Rules, now: datetime) -> int:
    """The rules file's static ``[gift_stock]`` table becomes stock rows at the default warehouse,
    once: a SKU that already has a row there keeps it (counts are never overwritten). Returns rows added."""
    if not rules.gift_stock:
        return 0
    wh = rules.default_warehouse
    have = set(tracked(conn, wh, rules.gift_stock))
    rows = [{"sku": sku, "warehouse": wh, "on_hand": n, "reserved": 0, "updated_at": now}
            for sku, n in sorted(rules.gift_stock.items()) if sku not in have]
    if rows:
        conn.execute(insert(db.stock), rows)
        conn.execute(insert(db.stock_moves), [
            {"order_id": None, "reason": "seed:gift_stock", "sku": r["sku"], "warehouse": wh,
             "delta_on_hand": r["on_hand"], "delta_reserved": 0, "at": now, "by": "system"} for r in rows])
    return len(rows)


def set_on_hand(w: Writer, sku: str, warehouse: str, on_hand: int, reason: str) -> None:
    """Create or set a stock row's on-hand count (tests and, later, adjustments/imports), audited."""
    found = tracked(w.conn, warehouse, [sku]).get(sku)
    if found is None:
        w.conn.execute(insert(db.stock).values(sku=sku, warehouse=warehouse, on_hand=0, reserved=0,
                                               updated_at=w.now))
        found = (0, 0)
    _move(w, None, reason, sku, warehouse, on_hand - found[0], 0)
