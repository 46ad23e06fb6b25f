"""The reports over HTTP (issue 16 "Reports", docs/reports.md): the daily and weekly workbook and
headline CSV (supervisor and above), and any queue of orders as CSV (desk and above).

``/api/v1/orders.csv`` is streamed: it reads the orders in keyset pages by order ID (one short read
transaction per page) and writes each page out before reading the next, so 100,000 orders never
sit in the hub's memory at once. Who may ask is checked before the first byte, so a refusal is an
ordinary 401/403 JSON answer, not a cut-off file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.engine import Connection

from core.errors import ValidationFailed
from core.holds import HOLD_TYPES
from core.order_csv import bilingual_headers, csv_chunks, order_cells
from core.roles import Role
from core.states import State
from core.timeutil import as_utc, iso, local_day, utcnow
from hub import db, reports
from hub.api.deps import Hub, HubDep, actor_at_least
from hub.api.http import BoundedRoute

router = APIRouter(route_class=BoundedRoute)

#: Orders read per page of ``orders.csv`` (each page is one short read transaction).
PAGE = 1000
_Short = Annotated[str | None, Query(max_length=32)]
_Day = Annotated[str | None, Query(max_length=10)]


def _report(hub: Hub, request: Request, kind: reports.Kind, day: str | None, warehouse: str | None,
            channel: str | None) -> dict[str, Any]:
    now = utcnow()

    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.SUPERVISOR)
        tz = hub.settings.timezone
        period = reports.Period.parse(kind, day, reports.today(now, tz))
        return reports.figures(c, period, period.slice(tz, warehouse, channel), now)
    out: dict[str, Any] = hub.read(run)
    return out


def _file(body: bytes, name: str, media: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _name(f: dict[str, Any], ext: str) -> str:
    return f"packdesk-{f['kind']}-{f['from']}.{ext}"


@router.get("/api/v1/reports/daily.xlsx", response_model=None)
def daily_xlsx(hub: HubDep, request: Request, day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
               warehouse: _Short = None, channel: _Short = None) -> Response:
    """One site day's report as a workbook with charts (default: today)."""
    f = _report(hub, request, "daily", day, warehouse, channel)
    return _file(reports.workbook(f), _name(f, "xlsx"), reports.XLSX_TYPE)


@router.get("/api/v1/reports/weekly.xlsx", response_model=None)
def weekly_xlsx(hub: HubDep, request: Request, week: _Day = None, warehouse: _Short = None,
                channel: _Short = None) -> Response:
    """One Monday-to-Sunday week's report with the per-day trend (``week``: its Monday; default this week)."""
    f = _report(hub, request, "weekly", week, warehouse, channel)
    return _file(reports.workbook(f), _name(f, "xlsx"), reports.XLSX_TYPE)


@router.get("/api/v1/reports/daily.csv", response_model=None)
def daily_csv(hub: HubDep, request: Request, day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
              warehouse: _Short = None, channel: _Short = None) -> Response:
    """The daily report's headline table (概览) as CSV."""
    f = _report(hub, request, "daily", day, warehouse, channel)
    return _file(reports.headline_csv(f), _name(f, "csv"), "text/csv; charset=utf-8")


@router.get("/api/v1/reports/weekly.csv", response_model=None)
def weekly_csv(hub: HubDep, request: Request, week: _Day = None, warehouse: _Short = None,
               channel: _Short = None) -> Response:
    """The weekly report's headline table (概览) as CSV."""
    f = _report(hub, request, "weekly", week, warehouse, channel)
    return _file(reports.headline_csv(f), _name(f, "csv"), "text/csv; charset=utf-8")


# -- any queue of orders as CSV ---------------------------------------------------------------------

def _hold_filter(hold: str | None) -> str | None:
    """``any`` (held), ``none`` (not held), a hold type, or None (either)."""
    if not hold:
        return None
    hold = hold.strip()
    if hold not in ("any", "none") and hold not in HOLD_TYPES:
        raise ValidationFailed(f"hold={hold[:32]!r}: any, none or a hold type ({', '.join(sorted(HOLD_TYPES))}).",
                               details={"field": "hold"})
    return hold


def _state_filter(state: str | None) -> str | None:
    if not state:
        return None
    try:
        return State(state.strip()).value
    except ValueError:
        raise ValidationFailed(f"state={state[:32]!r}: one of {', '.join(s.value for s in State)}.",
                               details={"field": "state"}) from None


def order_rows(hub: Hub, *, state: str | None, bench: str | None, warehouse: str | None, hold: str | None,
               page: int = PAGE) -> Iterator[list[Any]]:
    """The matching orders as CSV rows, read page by page after the last order ID sent (keyset)."""
    o = db.orders.c
    cond = []
    if state:
        cond.append(o.state == state)
    if bench:
        cond.append(o.bench == bench)
    if warehouse:
        cond.append(o.warehouse == warehouse)
    if hold == "none":
        cond.append(o.held.is_(False))
    elif hold:
        cond.append(o.held.is_(True))
    tz = hub.settings.timezone
    after = ""
    while True:
        stmt = select(o.order_id, o.doc, o.created_at).where(o.order_id > after, *cond).order_by(o.order_id).limit(page)

        def read(c: Connection, q: Any = stmt) -> list[Any]:
            return list(c.execute(q).all())
        rows = hub.read(read)
        for _oid, doc, created in rows:
            if hold not in (None, "any", "none") and not any(
                    isinstance(h, dict) and h.get("type") == hold for h in doc.get("holds") or []):
                continue
            if not doc.get("created_at"):
                doc = {**doc, "created_at": iso(as_utc(created))}
            yield order_cells(doc, tz=tz, lang="zh_CN")
        if len(rows) < page:
            return
        after = rows[-1][0]


@router.get("/api/v1/orders.csv", response_model=None)
def orders_csv(hub: HubDep, request: Request, state: _Short = None, bench: _Short = None, warehouse: _Short = None,
               hold: _Short = None) -> StreamingResponse:
    """The orders of any queue as CSV (desk and above), streamed; UTF-8 with BOM, Chinese/English headers."""
    hub.read(lambda c: actor_at_least(hub, c, request, Role.DESK))
    st, hd = _state_filter(state), _hold_filter(hold)
    rows = order_rows(hub, state=st, bench=(bench or "").strip() or None, warehouse=(warehouse or "").strip() or None,
                      hold=hd)
    name = f"packdesk-orders-{local_day(utcnow(), hub.settings.timezone).isoformat()}.csv"
    return StreamingResponse(csv_chunks(bilingual_headers(), rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
