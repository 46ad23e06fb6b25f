"""Stock at the hub, one router (docs/stock.md, docs/api.md): the desk's list, levels and adjustments,
the WMS's signed push, and the supervisor's short-stock figure.

Every change runs in one transaction with the short holds it releases (oldest promise first),
so the stock, the audit and the change feed never disagree. The reads (:func:`levels`,
:func:`short_stock`) write nothing; ``hub/stock.py`` stays the one door that writes the tables.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select, true
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from core.roles import Role
from core.states import State
from core.timeutil import as_utc, iso
from hub import auth, db, stock
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute, Text
from hub.intake import SIGNATURE_HEADER, verify_signature
from hub.writer import Actor, Writer

router = APIRouter(route_class=BoundedRoute)


class AdjustIn(BaseModel):
    sku: Text = Field(min_length=1, max_length=64)
    warehouse: Text = Field(min_length=1, max_length=32)
    #: 盘点 cycle_count, 破损 damage, 到货 receipt, other
    reason: Literal["cycle_count", "damage", "receipt", "other"]
    delta: int | None = Field(None, ge=-2_000_000_000, le=2_000_000_000)
    on_hand: int | None = Field(None, ge=0, le=2_000_000_000)
    note: Text = Field("", max_length=200)


@router.get("/api/v1/stock")
def list_stock(hub: HubDep, request: Request, warehouse: str = Query("", max_length=32),
               q: str = Query("", max_length=64), short: int = Query(0, ge=0, le=1),
               limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
    """Stock rows (desk+): on hand, reserved, available, orders waiting; ``short=1`` only the short ones."""
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.DESK)
        return {"rows": stock.listing(c, warehouse=warehouse.strip(), q=q, short=bool(short), limit=limit)}
    return hub.read(run)


@router.post("/api/v1/stock/adjust")
def adjust_stock(hub: HubDep, request: Request, body: AdjustIn) -> dict[str, Any]:
    """An adjustment with a reason (desk+), audited in stock_moves with the operator."""
    def run(c: Connection) -> dict[str, Any]:
        actor = actor_at_least(hub, c, request, Role.DESK)
        w = Writer(c, hub.settings, actor)
        out = stock.adjust(w, body.sku.strip(), body.warehouse.strip(), reason=body.reason, delta=body.delta,
                           on_hand=body.on_hand, note=body.note)
        w.flush()
        return out
    return hub.tx(run, notify=True)


class QuarantineIn(BaseModel):
    sku: Text = Field(min_length=1, max_length=64)
    warehouse: Text = Field(min_length=1, max_length=32)
    #: 报废 scrap, 复检合格上架 restock
    outcome: Literal["scrap", "restock"]
    units: int = Field(ge=1, le=2_000_000_000)
    note: Text = Field("", max_length=200)


@router.post("/api/v1/stock/quarantine")
def dispose_quarantine(hub: HubDep, request: Request, body: QuarantineIn) -> dict[str, Any]:
    """Quarantined units (damaged returns) scrapped or put back on the shelf (desk+), audited in stock_moves."""
    def run(c: Connection) -> dict[str, Any]:
        actor = actor_at_least(hub, c, request, Role.DESK)
        w = Writer(c, hub.settings, actor)
        out = stock.dispose_quarantine(w, body.sku.strip(), body.warehouse.strip(), outcome=body.outcome,
                                       units=body.units, note=body.note)
        w.flush()
        return out
    return hub.tx(run, notify=True)


@router.post("/api/v1/stock/wms")
async def wms_push(hub: HubDep, request: Request) -> dict[str, Any]:
    """The WMS's absolute counts, signed like the channels' pushes (docs/stock.md "WMS push")."""
    if not hub.settings.wms_secret:
        raise auth.Forbidden("This hub takes no WMS pushes: no wms_secret is configured.")
    body = await request.body()
    verify_signature(hub.settings.wms_secret.encode(), body, request.headers.get(SIGNATURE_HEADER))
    message_id, rows = await run_in_threadpool(stock.parse_wms, body)

    def run(c: Connection) -> dict[str, Any]:
        w = Writer(c, hub.settings, Actor.system("wms"))
        out = stock.apply_wms(w, message_id, rows)
        w.flush()
        return out
    return await run_in_threadpool(hub.tx, run, notify=True)


class _PreviewOnly(Exception):
    """Raised at the end of a dry run to roll its transaction back, carrying what it would have done."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.answer = answer


@router.post("/api/v1/stock/import")
async def import_stock(hub: HubDep, request: Request, filename: str = Query(..., min_length=1, max_length=200),
                       dry_run: int = Query(0, ge=0, le=1),
                       columns: str | None = Query(None, max_length=12_000)) -> dict[str, Any]:
    """A stock sheet (desk+): absolute counts per SKU and warehouse (docs/stock.md "Stock sheet import").

    Any refused row: nothing applied (``applied: false``, the rows in ``errors``). ``dry_run=1``:
    the whole import runs and is rolled back, so the preview shows exactly what it would change,
    reserve, hold and release.
    """
    from hub.api.intake import _columns
    from hub.stock_import import read_stock_sheet

    mapping = _columns(columns)
    actor = await run_in_threadpool(hub.tx, lambda c: hub.actor(c, request))
    auth.require(actor, Role.DESK)
    data = await request.body()
    sheet = await run_in_threadpool(functools.partial(
        read_stock_sheet, filename, data, list(hub.rules.warehouses), max_rows=hub.settings.max_import_rows,
        max_uncompressed_bytes=hub.settings.max_import_uncompressed_bytes, columns=mapping))
    del data
    head = {"file": filename, "dry_run": bool(dry_run), "errors": [e.to_wire() for e in sheet.errors],
            "ignored_columns": sheet.ignored}
    if sheet.errors:
        return {**head, "applied": False, "rows": sheet.count, "changed": 0, "unchanged": 0, "new_rows": 0,
                "changes": [], "changes_truncated": False, "released": [], "reserved_late": [], "held_short": [],
                "shed": []}

    def run(c: Connection) -> dict[str, Any]:
        w = Writer(c, hub.settings, actor)
        out = stock.import_counts(w, filename, sheet.rows)
        w.flush()
        if dry_run:
            raise _PreviewOnly(out)
        return out

    def tx() -> dict[str, Any]:
        try:
            return {**head, "applied": True, **hub.tx(run, notify=True)}
        except _PreviewOnly as preview:
            return {**head, "applied": False, **preview.answer}
    return await run_in_threadpool(tx)
# -- reads: the levels of the stock view, the short-stock figure (issue 14 "Views") --------------

#: Promised and not yet out of the door: what the short-stock figure counts.
OPEN_PROMISED = (State.ALLOCATED.value, State.LABEL_PRINTED.value)
#: Most rows one levels answer carries (``truncated`` says when there were more).
MAX_LEVELS = 5000
_MAX_IN = 500  # most SKUs read by name; more: the warehouses' stock rows whole


def levels(conn: Connection, warehouse: str | None = None, limit: int = MAX_LEVELS) -> dict[str, Any]:
    """Every stock row (SKU, warehouse, on hand, reserved, available, quarantine, updated_at), SKU then warehouse."""
    s = db.stock.c
    q = select(s.sku, s.warehouse, s.on_hand, s.reserved, s.quarantine, s.updated_at).order_by(s.sku, s.warehouse)
    if warehouse:
        q = q.where(s.warehouse == warehouse)
    rows = conn.execute(q.limit(limit + 1)).all()
    return {"rows": [{"sku": r.sku, "warehouse": r.warehouse, "on_hand": r.on_hand, "reserved": r.reserved,
                      "available": r.on_hand - r.reserved, "quarantine": r.quarantine,
                      "updated_at": iso(as_utc(r.updated_at))}
                     for r in rows[:limit]],
            "truncated": len(rows) > limit}


def short_stock(conn: Connection, warehouse: str | None = None, top: int = 5) -> dict[str, Any]:
    """TOP ``top`` SKUs per warehouse by units short among open promised orders (docs/stock.md "Views").

    An order allocated at a warehouse where its lines were available holds them reserved (they are
    in ``stock.reserved``); only an order under a short-stock hold (``stock_short``/``gift_stock``)
    waits for units it does not hold. So per (SKU, warehouse): *waiting* = Σ over those orders of
    the units their lines need minus what they hold (``stock_moves``), and *short* = waiting −
    available now. Listed when short > 0, with how many of those orders need the SKU. Untracked
    SKUs (no stock row) are not counted, as at allocation.
    """
    o = db.orders.c
    # only the orders waiting for stock (``stock_wait``, its partial index), and only their lines
    # ``= true``, not ``IS true``: PostgreSQL matches a partial index's predicate only in that form
    waits = [o.stock_wait == true(), o.state.in_(OPEN_PROMISED)] + ([o.warehouse == warehouse] if warehouse else [])
    q = select(o.order_id, o.warehouse, o.doc["lines"]).where(*waits)
    waiting: list[tuple[str, str, dict[str, int], dict[str, str]]] = []
    for oid, wh, lines in conn.execute(q):
        if wh:
            names = {ln.get("sku"): str(ln.get("name") or "") for ln in lines or []}
            waiting.append((oid, wh, stock.needed({"lines": lines}), names))
    held: dict[tuple[str, str, str], int] = {}
    m = db.stock_moves.c
    if waiting:  # what those orders hold: one grouped join (the same partial index, then stock_moves' order_id)
        for oid, sku, wh, total in conn.execute(
                select(m.order_id, m.sku, m.warehouse, func.sum(m.delta_reserved))
                .join(db.orders, db.orders.c.order_id == m.order_id).where(*waits)
                .group_by(m.order_id, m.sku, m.warehouse)):
            held[(oid, sku, wh)] = int(total or 0)
    want: dict[tuple[str, str], int] = defaultdict(int)
    orders: dict[tuple[str, str], int] = defaultdict(int)
    name_of: dict[str, str] = {}
    for oid, wh, need, names in waiting:
        for sku, qty in need.items():
            rest = qty - held.get((oid, sku, wh), 0)
            if rest > 0:
                want[(sku, wh)] += rest
                orders[(sku, wh)] += 1
                name_of.setdefault(sku, names.get(sku, ""))
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if want:
        s = db.stock.c
        skus = sorted({k[0] for k in want})
        stmt = select(s.sku, s.warehouse, s.on_hand, s.reserved).where(s.warehouse.in_(sorted({k[1] for k in want})))
        # a few SKUs: by SKU; thousands: the warehouses' rows whole (a list of thousands of bound
        # parameters cost 0.5 s at 6,000 SKUs, reading 20,000 rows 75 ms: bench/allocation.py)
        rows = conn.execute(stmt.where(s.sku.in_(skus)) if len(skus) <= _MAX_IN else stmt)
        for sku, wh, on_hand, reserved in rows:
            if (sku, wh) not in want:
                continue
            avail = on_hand - reserved
            short = want[(sku, wh)] - max(0, avail)
            if short > 0:
                out[wh].append({"sku": sku, "name": name_of.get(sku, ""), "short": short,
                                "waiting": want[(sku, wh)], "available": avail, "on_hand": on_hand,
                                "reserved": reserved, "orders": orders[(sku, wh)]})
    return {"top": top, "warehouses": [
        {"warehouse": wh, "skus": sorted(items, key=lambda r: (-r["short"], -r["orders"], r["sku"]))[:top]}
        for wh, items in sorted(out.items())]}


@router.get("/api/v1/stock/levels")
def get_levels(hub: HubDep, request: Request, warehouse: str | None = Query(None, max_length=32)) -> dict[str, Any]:
    """Desk and above: the stock rows with the catalogue's name of each SKU."""
    def run(c: Connection) -> dict[str, Any]:
        auth.require(hub.actor(c, request), Role.DESK)
        got = levels(c, warehouse or None)
        for r in got["rows"]:
            item = hub.rules.catalogue.get(r["sku"])
            r["name"] = item.name if item is not None else ""
        return got
    return hub.read(run)


@router.get("/api/v1/metrics/short-stock")
def get_short_stock(hub: HubDep, request: Request, warehouse: str | None = Query(None, max_length=32),
                    top: int = Query(5, ge=1, le=100)) -> dict[str, Any]:
    """Supervisor and above: :func:`short_stock`."""
    def run(c: Connection) -> dict[str, Any]:
        auth.require(hub.actor(c, request), Role.SUPERVISOR)
        return short_stock(c, warehouse or None, top)
    return hub.read(run)
