"""Health, login and logout, stations, operators and the admin tools (docs/api.md "Auth", "Stations").

Sign-in writes even when it refuses (failure counts, the station's request), so a refusal comes
back from :func:`hub.auth.attempt_login` as a value and is raised after its transaction commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.roles import Role
from core.timeutil import iso, utcnow
from hub import auth, db, feed
from hub.api.deps import Hub, HubDep, actor_at_least
from hub.api.http import BoundedRoute, Text
from hub.carriers import queue as waybill_queue
from hub.notify import dispatch as notify_dispatch
from hub.notify import queue as notify_queue

router = APIRouter(route_class=BoundedRoute)


class LoginIn(BaseModel):
    operator: Text = Field(min_length=1, max_length=32)
    pin: Text = Field(min_length=1, max_length=16)
    station: Text = Field(min_length=1, max_length=64)
    bench: Text | None = Field(default=None, max_length=32)
    device_id: Text = Field(min_length=1, max_length=64)


class StationBenchIn(BaseModel):
    bench: Text | None = Field(default=None, max_length=32)
    device_id: Text | None = Field(default=None, max_length=64)


class UnlockIn(BaseModel):
    operator: Text | None = Field(default=None, max_length=32)
    station: Text | None = Field(default=None, max_length=64)


class PruneIn(BaseModel):
    older_than_s: int = Field(ge=0, le=100 * 366 * 86400)  # a century: now minus more is no date


@router.get("/api/v1/health")
def health(hub: HubDep) -> dict[str, Any]:
    """Is the hub up, and where is its feed: answered without a login (a station checks it before
    anyone logs in). Nothing about partners: robot names, queues and their errors are in
    :func:`health_detail`, for supervisors."""
    out: dict[str, Any] = {"status": "ok", "db": hub.engine.dialect.name, "head": hub.read(feed.head),
                           "time": iso(utcnow()), "min_client_version": hub.settings.min_client_version}
    if hub.statements is not None:  # a test hub's statement counter (PACKDESK_HUB_COUNT_STATEMENTS)
        out["statements"] = dict(hub.statements)
    return out


def health_detail(hub: Hub) -> dict[str, Any]:
    """The hub's health with its outbound queues: e-waybills and notifications."""
    return {**health(hub),
            # per carrier: allocated orders still waiting for their e-waybill, numbers still to give back
            "waybills": hub.read(waybill_queue.waiting),
            # WeCom robots (key set or not) and SMS, and per robot / template: due, later, sent, refused, last error
            "notify": {**notify_dispatch.status(hub.settings, hub.rules.notify),
                       "queue": hub.read(lambda c: notify_queue.health(c, utcnow()))}}


@router.get("/api/v1/health/detail")
def health_detail_route(hub: HubDep, request: Request) -> dict[str, Any]:
    hub.read(lambda c: actor_at_least(hub, c, request, Role.SUPERVISOR))
    return health_detail(hub)


@router.post("/api/v1/auth/login")
def login(hub: HubDep, body: LoginIn) -> dict[str, Any]:
    # A refusal comes back as a value: what it wrote (failure count, attempt, station request)
    # is committed before the error answer goes out.
    answer = hub.tx(lambda c: auth.attempt_login(c, hub.settings, operator=body.operator, pin=body.pin,
                                                 station=body.station, bench=body.bench,
                                                 device_id=body.device_id, benches=hub.rules.benches))
    if isinstance(answer, UserError):
        raise answer
    return answer


@router.post("/api/v1/auth/logout")
def logout(hub: HubDep, request: Request) -> dict[str, Any]:
    return {"logged_out": hub.tx(lambda c: auth.logout(c, request.headers.get("authorization")))}


@router.get("/api/v1/stations")
def stations(hub: HubDep, request: Request,
             status: str | None = Query(None, pattern="^(pending|approved|revoked)$")) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.SUPERVISOR)
        return {"stations": auth.list_stations(c, status)}
    return hub.tx(run)


@router.post("/api/v1/stations/{name}/approve")
def approve_station(hub: HubDep, request: Request, name: str, body: StationBenchIn) -> dict[str, Any]:
    return hub.tx(lambda c: auth.approve_station(
        c, name, bench=body.bench, device_id=body.device_id,
        by=actor_at_least(hub, c, request, Role.SUPERVISOR).operator, benches=hub.rules.benches))


@router.post("/api/v1/stations/{name}/revoke")
def revoke_station(hub: HubDep, request: Request, name: str) -> dict[str, Any]:
    return hub.tx(lambda c: auth.revoke_station(c, name, by=actor_at_least(hub, c, request, Role.SUPERVISOR).operator))


@router.post("/api/v1/stations/{name}/bench")
def move_station(hub: HubDep, request: Request, name: str, body: StationBenchIn) -> dict[str, Any]:
    return hub.tx(lambda c: auth.move_station(c, name, bench=body.bench,
                                              by=actor_at_least(hub, c, request, Role.SUPERVISOR).operator,
                                              benches=hub.rules.benches))


@router.post("/api/v1/admin/unlock")
def unlock(hub: HubDep, request: Request, body: UnlockIn) -> dict[str, Any]:
    return hub.tx(lambda c: {"cleared": auth.unlock(c, operator=body.operator, station=body.station,
                                                    by=actor_at_least(hub, c, request, Role.ADMIN).operator)})


@router.get("/api/v1/admin/login-attempts")
def login_attempts(hub: HubDep, request: Request, operator: str | None = Query(None, max_length=32),
                   limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        return {"attempts": auth.login_attempts(c, operator=operator, limit=limit)}
    return hub.tx(run)


@router.get("/api/v1/admin/security-events")
def security_events(hub: HubDep, request: Request, limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        return {"events": auth.security_events(c, limit=limit)}
    return hub.tx(run)


@router.post("/api/v1/admin/operators/{code}/deactivate")
def deactivate(hub: HubDep, request: Request, code: str) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        auth.deactivate_operator(c, code, by=actor_at_least(hub, c, request, Role.ADMIN).operator)
        return {"operator": code, "active": False}
    return hub.tx(run)


@router.post("/api/v1/admin/prune-changes")
def prune(hub: HubDep, request: Request, body: PruneIn) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        return {"pruned": feed.prune(c, timedelta(seconds=body.older_than_s)),
                "oldest_cursor": db.read_counter(c, "changes_pruned")}
    return hub.tx(run, notify=True)  # the long-poll tail drops what was pruned
