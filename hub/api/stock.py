"""Stock: the desk's list and adjustments, and the WMS's signed push (docs/stock.md).

Every change runs in one transaction with the short holds it releases (oldest promise first),
so the stock, the audit and the change feed never disagree.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from core.roles import Role
from hub import auth, stock
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
                "changes": [], "changes_truncated": False, "released": [], "reserved_late": [], "held_short": []}

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
