"""The orders behind one figure of the dashboard (issue 16: "every figure is clickable").

A click on a ring slice, an hour of the fulfilment line, an exception bar, a bench row or a short
SKU opens the orders that figure counted in the desktop queue. The figure's definition lives in
:mod:`hub.metrics` (and ``hub/api/stock.py`` for the short SKUs); this module asks the same
question with the same conditions (``_where``, ``_not_cancelled``, the words of :func:`words_of`)
and answers the order IDs instead of a count, so the queue shows exactly what the figure counted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.engine import Connection

from core.states import BENCH_STATES, State
from hub import db, metrics, stock

#: The most order IDs one answer carries (a drill-down is a working list, not an export).
MAX_IDS = 5000

#: figure name → what ``value`` names (docs/dashboard.md "Click-through").
FIGURES = ("total", "state", "held", "due_hour", "late", "hold_type", "word", "bench_backlog", "short_sku", "channel")

_OPEN_PROMISED = (State.ALLOCATED.value, State.LABEL_PRINTED.value)
_DONE = (State.SHIPPED.value, State.DELIVERED.value, State.CLOSED.value)


class DrillError(ValueError):
    """A figure or value the hub cannot drill into (the API answers 400 with these words)."""


def order_ids(conn: Connection, sl: metrics.Slice, figure: str, value: str, now: datetime) -> list[str]:
    """The IDs of the orders ``figure`` (one of :data:`FIGURES`) counted for ``value`` in ``sl``, sorted.

    Raises:
        DrillError: an unknown figure, or a value it cannot take.
    """
    o = db.orders.c
    if figure == "total":
        q = select(o.order_id).where(*metrics._where(sl))
    elif figure == "state":
        if value not in {s.value for s in State}:
            raise DrillError(f"unknown state {value!r}")
        q = select(o.order_id).where(o.state == value, *metrics._where(sl))
    elif figure == "held":
        q = select(o.order_id).where(o.held == true(), o.state.not_in(_DONE), *metrics._where(sl))
    elif figure == "due_hour":
        day, hour = _day_hour(value)
        start = metrics.local_instant(day, hour, sl.tz)
        end = metrics.local_instant(day, hour + 1, sl.tz)
        q = select(o.order_id).where(o.ship_by >= start, o.ship_by < end, metrics._not_cancelled(),
                                     *metrics._where(sl, intake=False))
    elif figure == "late":
        late = or_(o.shipped_at.is_(None), o.shipped_at > o.ship_by)
        q = select(o.order_id).where(o.ship_by.is_not(None), o.ship_by <= now, metrics._not_cancelled(), late,
                                     *metrics._where(sl))
    elif figure in ("hold_type", "word"):
        return _held_for(conn, sl, figure, value)
    elif figure == "bench_backlog":
        q = select(o.order_id).where(o.state.in_([s.value for s in BENCH_STATES]), o.bench == value,
                                     *metrics._where(sl, intake=False))
    elif figure == "short_sku":
        return _waiting_for(conn, sl, value)
    elif figure == "channel":
        q = select(o.order_id).where(o.channel == value, *metrics._where(sl))
    else:
        raise DrillError(f"unknown figure {figure!r}; known: {', '.join(FIGURES)}")
    return sorted(r[0] for r in conn.execute(q))


def _day_hour(value: str) -> tuple[date, int]:
    """``2026-12-06T10`` → (that site day, hour 10)."""
    day, _t, hour = value.partition("T")
    try:
        d, h = date.fromisoformat(day), int(hour)
    except ValueError:
        raise DrillError(f"due_hour {value!r} must look like 2026-12-06T10") from None
    if not 0 <= h <= 23:
        raise DrillError(f"due_hour {value!r}: the hour is 0 to 23")
    return d, h


def _held_for(conn: Connection, sl: metrics.Slice, figure: str, value: str) -> list[str]:
    """Orders with a hold of type ``value`` (or a typed reason with the word ``value``) raised in the slice's
    days, on the slice's orders — the rows :func:`hub.metrics.exception_reasons` counted."""
    a, o = db.audit.c, db.orders.c
    hold_type = a.details["hold"]["type"].as_string()
    start, end = sl.bounds()
    raised = conn.execute(select(a.order_id, hold_type, a.operator, a.why)
                          .where(a.what == "hold_raised", a.at >= start, a.at < end)).all()
    if figure == "hold_type":
        ids = {oid for oid, t, _op, _why in raised if str(t or "") == value}
    else:
        ids = {oid for oid, _t, op, why in raised if op != "system" and why and value in metrics.words_of(str(why))}
    if ids and (sl.warehouse or sl.channel or sl.bench or sl.hours is not None):
        keep: set[str] = set()
        todo = sorted(ids)
        for i in range(0, len(todo), 500):
            keep.update(r[0] for r in conn.execute(
                select(o.order_id).where(o.order_id.in_(todo[i:i + 500]),
                                         *metrics._where(sl, intake=sl.hours is not None))))
        ids = keep
    return sorted(ids)


def _waiting_for(conn: Connection, sl: metrics.Slice, sku: str) -> list[str]:
    """Open promised orders under a short-stock hold that still need units of ``sku`` they do not hold
    (``hub/api/stock.py short_stock``'s *orders* of that SKU)."""
    o, m = db.orders.c, db.stock_moves.c
    waits = [o.stock_wait == true(), o.state.in_(_OPEN_PROMISED)] + ([o.warehouse == sl.warehouse]
                                                                     if sl.warehouse else [])
    need = {oid: (wh, stock.needed({"lines": lines}).get(sku, 0))
            for oid, wh, lines in conn.execute(select(o.order_id, o.warehouse, o.doc["lines"]).where(*waits))}
    need = {oid: v for oid, v in need.items() if v[0] and v[1] > 0}
    if not need:
        return []
    held: dict[str, int] = {}
    for oid, wh, total in conn.execute(
            select(m.order_id, m.warehouse, m.delta_reserved).join(db.orders, db.orders.c.order_id == m.order_id)
            .where(*waits, m.sku == sku)):
        if need.get(oid, ("", 0))[0] == wh:
            held[oid] = held.get(oid, 0) + int(total or 0)
    return sorted(oid for oid, (_wh, qty) in need.items() if qty - held.get(oid, 0) > 0)


def answer(conn: Connection, sl: metrics.Slice, figure: str, value: str, now: datetime) -> dict[str, Any]:
    """The API's answer: the IDs (at most :data:`MAX_IDS`), how many there are, whether some were left off."""
    ids = order_ids(conn, sl, figure, value, now)
    return {"figure": figure, "value": value, "total": len(ids), "order_ids": ids[:MAX_IDS],
            "truncated": len(ids) > MAX_IDS}

