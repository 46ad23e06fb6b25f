"""Customer tickets and the touchpoint metric over HTTP (docs/tickets.md, docs/api.md "Tickets").

Reads only: tickets change through ``POST /api/v1/actions`` (ticket actions, :mod:`hub.tickets`),
so a desk PC queues them offline like order actions. The desk and above see tickets (a packer's
bench never handles customers); the metric and its export are for supervisors and above.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.roles import Role
from core.tickets import TICKET_ID_LEN, TICKET_TYPES
from core.timeutil import local_day, utcnow
from hub import feed, metrics_touchpoint, tickets
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute

router = APIRouter(route_class=BoundedRoute)


def _type(value: str | None) -> str | None:
    if value and value not in TICKET_TYPES:
        raise UserError(f"'type' must be one of {', '.join(TICKET_TYPES)}, not {value[:20]!r}.",
                        code="validation_failed", details={"field": "type"})
    return value or None


@router.get("/api/v1/tickets")
def list_tickets(hub: HubDep, request: Request, mine: bool = False,
                 status: str = Query("open", pattern="^(open|closed|all)$"), overdue: bool = False,
                 type: str | None = Query(None, max_length=20), order: str | None = Query(None, max_length=32),
                 limit: int = Query(200, ge=1, le=1000),
                 after: str | None = Query(None, max_length=TICKET_ID_LEN)) -> dict[str, Any]:
    """The desk's queue (most urgent first), or with ``after`` keyset pages by ticket ID.

    ``after`` (``""`` for the first page) is how a desk PC's first sync brings 50,000 open tickets
    down: pages ordered by ``ticket_id``, each answer's ``next_after`` (null on the last page) is
    the next request's ``after``; the ``cursor`` to follow the feed from is the first page's.
    """
    def run(c: Connection) -> dict[str, Any]:
        actor = actor_at_least(hub, c, request, Role.DESK)
        # The feed's head first (as /sync/snapshot): a desk following ticket changes from it misses none.
        cursor = feed.head(c)
        now = utcnow()
        found = tickets.list_tickets(
            c, actor, hub.rules.tickets, now, mine=mine, status=status, overdue=overdue, type_=_type(type),
            order_id=order, limit=limit, after=after)
        out: dict[str, Any] = {"now": now.isoformat().replace("+00:00", "Z"), "cursor": cursor, "tickets": found}
        if after is not None:
            out["next_after"] = found[-1]["ticket_id"] if len(found) == limit else None
        return out
    return hub.read(run)


@router.get("/api/v1/tickets/{ticket_id}")
def get_ticket(hub: HubDep, request: Request, ticket_id: str) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.DESK)
        doc = tickets.load(c, ticket_id) if len(ticket_id) <= TICKET_ID_LEN else None
        if doc is None:
            raise UserError(f"No ticket {ticket_id[:40]} at the hub.", code="not_found")
        return {**tickets.with_sla(doc, utcnow(), hub.rules.tickets), "events": tickets.events(c, doc["ticket_id"])}
    return hub.read(run)


def _figures(hub: Any, request: Request, first: str | None, last: str | None, by: str,
             ticket_type: str | None) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.SUPERVISOR)
        now = utcnow()
        rng = metrics_touchpoint.Range.parse(first, last, by, local_day(now, hub.settings.timezone))
        return metrics_touchpoint.touchpoint(c, rng, now, _type(ticket_type))
    out: dict[str, Any] = hub.read(run)
    return out


@router.get("/api/v1/metrics/touchpoint")
def touchpoint(hub: HubDep, request: Request, first: str | None = Query(None, alias="from", max_length=10),
               last: str | None = Query(None, alias="to", max_length=10), by: str = Query("day", max_length=8),
               type: str | None = Query(None, max_length=20)) -> dict[str, Any]:
    return _figures(hub, request, first, last, by, type)


@router.get("/api/v1/metrics/touchpoint.xlsx", response_model=None)
def touchpoint_xlsx(hub: HubDep, request: Request, first: str | None = Query(None, alias="from", max_length=10),
                    last: str | None = Query(None, alias="to", max_length=10),
                    type: str | None = Query(None, max_length=20)) -> Response:
    """The weekly export: the same figures by week, as a workbook with a trend chart."""
    figures = _figures(hub, request, first, last, "week", type)
    body = metrics_touchpoint.weekly_xlsx(figures)
    name = f"touchpoint-{figures['from']}-{figures['to']}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
