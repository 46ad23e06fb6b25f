"""The supervisor's figures over HTTP (issue 16, docs/metrics.md): supervisor and above.

Every endpoint takes the same slice parameters — ``warehouse``, ``channel``, ``bench``, ``from`` /
``to`` (site days ``YYYY-MM-DD``, default today) and ``hours`` (``10-24``: orders that came in from
10:00) — and answers the slice it used beside the figure, so a drill-down can be repeated exactly.
``/api/v1/metrics/dashboard`` answers every figure in one read (the app and the phone page refresh
every 30 s with one request).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Connection

from core.errors import ValidationFailed
from core.roles import Role
from core.timeutil import iso, local_day, utcnow
from hub import auth, metrics
from hub.api.deps import Hub, HubDep
from hub.api.http import BoundedRoute
from hub.api.stock import short_stock

router = APIRouter(route_class=BoundedRoute)

_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class SliceArgs:
    """The slice parameters every figure takes, checked once."""

    def __init__(self,
                 warehouse: Annotated[str | None, Query(max_length=32)] = None,
                 channel: Annotated[str | None, Query(max_length=32)] = None,
                 bench: Annotated[str | None, Query(max_length=32)] = None,
                 first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                 last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                 hours: Annotated[str | None, Query(max_length=5)] = None) -> None:
        self.warehouse, self.channel, self.bench = warehouse or None, channel or None, bench or None
        self.first, self.last, self.hours = first, last, hours

    def slice(self, tz: str, now: datetime) -> metrics.Slice:
        today = local_day(now, tz)
        first = _day(self.first, "from") if self.first else None
        last = _day(self.last, "to") if self.last else None
        first = first or last or today
        last = last or (today if first <= today else first)
        span: tuple[int, int] | None = None
        if self.hours:
            m = _HOURS.match(self.hours)
            if not m:
                raise ValidationFailed(f"hours {self.hours!r} must look like 10-24 (from 10:00 to midnight).",
                                       details={"field": "hours"})
            span = (int(m.group(1)), int(m.group(2)))
        try:
            return metrics.Slice(first, last, tz, self.warehouse, self.channel, self.bench, span)
        except metrics.SliceError as exc:
            raise ValidationFailed(f"Cannot take this slice: {exc}.", details={"field": "from/to/hours"}) from None


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field}={text!r} must be a day such as 2026-12-06.", details={"field": field}) from None


SliceDep = Annotated[SliceArgs, Depends()]


def _described(sl: metrics.Slice) -> dict[str, Any]:
    return {"from": sl.first.isoformat(), "to": sl.last.isoformat(), "tz": sl.tz, "warehouse": sl.warehouse,
            "channel": sl.channel, "bench": sl.bench,
            "hours": f"{sl.hours[0]}-{sl.hours[1]}" if sl.hours else None}


def _figure(hub: Hub, request: Request, args: SliceArgs, fn: Any) -> dict[str, Any]:
    now = utcnow()

    def run(c: Connection) -> dict[str, Any]:
        auth.require(hub.actor(c, request), Role.SUPERVISOR)
        sl = args.slice(hub.settings.timezone, now)
        return {"slice": _described(sl), "at": iso(now), **fn(c, sl, now)}
    return hub.read(run)


@router.get("/api/v1/metrics/states")
def get_states(hub: HubDep, request: Request, args: SliceDep) -> dict[str, Any]:
    """Orders of the slice (by when they came in) per state."""
    return _figure(hub, request, args, lambda c, sl, now: metrics.orders_by_state(c, sl))


@router.get("/api/v1/metrics/fulfilment")
def get_fulfilment(hub: HubDep, request: Request, args: SliceDep) -> dict[str, Any]:
    """Per hour of the slice's last day: due, shipped on time, the rate; the same weekday last week."""
    return _figure(hub, request, args, metrics.fulfilment_per_hour)


@router.get("/api/v1/metrics/delay")
def get_delay(hub: HubDep, request: Request, args: SliceDep) -> dict[str, Any]:
    """Of the slice's orders already due: how many left late or have not left."""
    return _figure(hub, request, args, metrics.delay_rate)


@router.get("/api/v1/metrics/exceptions")
def get_exceptions(hub: HubDep, request: Request, args: SliceDep,
                   top: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Holds raised in the slice: by type, and the words of the reasons people wrote."""
    return _figure(hub, request, args, lambda c, sl, now: metrics.exception_reasons(c, sl, top=top))


@router.get("/api/v1/metrics/benches")
def get_benches(hub: HubDep, request: Request, args: SliceDep) -> dict[str, Any]:
    """Who is behind: per bench backlog, oldest waiting, packed; per packer packed."""
    return _figure(hub, request, args, metrics.benches)


@router.get("/api/v1/metrics/connectors")
def get_connectors(hub: HubDep, request: Request, args: SliceDep) -> dict[str, Any]:
    """The shop connectors' health."""
    return _figure(hub, request, args, lambda c, sl, now: metrics.connectors(c, now))


@router.get("/api/v1/metrics/dashboard")
def get_dashboard(hub: HubDep, request: Request, args: SliceDep,
                  top: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Every figure of the dashboard in one read (one consistent moment)."""
    def all_of(c: Connection, sl: metrics.Slice, now: datetime) -> dict[str, Any]:
        return {"states": metrics.orders_by_state(c, sl), "fulfilment": metrics.fulfilment_per_hour(c, sl, now),
                "delay": metrics.delay_rate(c, sl, now), "exceptions": metrics.exception_reasons(c, sl, top=top),
                "benches": metrics.benches(c, sl, now), "short_stock": short_stock(c, sl.warehouse, 5),
                "connectors": metrics.connectors(c, now)}
    return _figure(hub, request, args, all_of)


@router.get("/api/v1/metrics/orders")
def get_orders_behind(hub: HubDep, request: Request, args: SliceDep,
                      figure: Annotated[str, Query(max_length=32)],
                      value: Annotated[str, Query(max_length=64)] = "") -> dict[str, Any]:
    """The order IDs behind one figure of the slice (the dashboard's click-through, hub/metrics_drill.py)."""
    from hub import metrics_drill

    def ids(c: Connection, sl: metrics.Slice, now: datetime) -> dict[str, Any]:
        try:
            return metrics_drill.answer(c, sl, figure, value, now)
        except metrics_drill.DrillError as exc:
            raise ValidationFailed(f"Cannot open the orders behind this figure: {exc}.",
                                   details={"field": "figure/value"}) from None
    return _figure(hub, request, args, ids)
