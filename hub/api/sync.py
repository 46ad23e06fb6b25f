"""What a bench's sync engine talks to: the changes feed (and its long-poll), the snapshot, action batches.

docs/api.md "Sync": a client starts from ``GET /sync/snapshot``, follows ``GET /changes`` from the
cursor it got (``wait`` > 0 parks the request in :mod:`hub.longpoll` until something changes), and
sends its outbox as ``POST /actions`` batches, each answered action by action.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.engine import Connection

from hub import db, feed, longpoll
from hub.actions import process_batch
from hub.api.deps import HubDep
from hub.api.http import BoundedRoute, Text
from hub.textcheck import check_depth, check_payload, check_text
from hub.writer import Actor

router = APIRouter(route_class=BoundedRoute)


class ActionIn(BaseModel):
    action_id: Text = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1, le=2**62)
    order_id: Text = Field(min_length=1, max_length=32)
    type: Text = Field(min_length=1, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict)
    base_version: int | None = Field(default=None, ge=0, le=2**31)
    operator: Text | None = Field(default=None, max_length=32)
    done_at: Text | None = Field(default=None, max_length=40)
    #: proof that ``operator`` wrote it on this device (core/action_sig.py); needed when that is
    #: not the token's operator
    key_id: Text | None = Field(default=None, max_length=32)
    sig: Text | None = Field(default=None, max_length=64)

    @field_validator("payload")
    @classmethod
    def _storable_payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        return dict(check_payload(check_text(check_depth(value, "payload"), "payload"), "payload"))


class ActionBatch(BaseModel):
    actions: list[ActionIn] = Field(max_length=500)


@router.get("/api/v1/changes", response_model=None)
async def changes(hub: HubDep, request: Request, cursor: int = Query(0, ge=0),
                  limit: int = Query(500, ge=1, le=feed.MAX_LIMIT), wait: float = Query(0, ge=0, le=30),
                  kinds: str | None = Query(None, max_length=40)) -> Response:
    wanted = feed.parse_kinds(kinds)  # absent: orders only (docs/sync.md "Entity kinds")
    if wait <= 0:
        page = await hub.read_async(lambda c: feed.read_changes(c, hub.actor(c, request), cursor, limit, wanted))
        return Response(feed.dumps(page), media_type="application/json")

    async def read_page(actor: Actor, cur: int, lim: int) -> feed.Page:
        return feed.Page.of(await hub.read_async(lambda c: feed.read_changes(c, actor, cur, lim, wanted)))
    return await longpoll.serve(hub.tail, hub.tokens, read_page, request.headers.get("authorization"),
                                cursor, limit, wait, wanted)


@router.get("/api/v1/sync/snapshot")
def snapshot(hub: HubDep, request: Request, after: str | None = Query(None, max_length=32),
             limit: int = Query(500, ge=1, le=2000)) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor = hub.actor(c, request)
        # The head first: on PostgreSQL each statement sees the commits made before it, so a
        # head read after the page could already count a change the page does not show, and
        # a client starting from that cursor would never see it.
        cursor = feed.head(c)
        return {**feed.working_set(c, actor, after, limit), "cursor": cursor}
    return hub.read(run)


@router.post("/api/v1/actions")
def actions(hub: HubDep, request: Request, body: ActionBatch) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor = hub.actor(c, request)
        return process_batch(c, hub.settings, hub.rules, actor, [a.model_dump() for a in body.actions])
    return hub.tx(run, notify=True)


@router.get("/api/v1/devices/me")
def device(hub: HubDep, request: Request) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor = hub.actor(c, request)
        row = c.execute(select(db.devices.c.last_applied_seq).where(db.devices.c.device_id == actor.device_id)).first()
        return {"device_id": actor.device_id, "station": actor.station, "last_applied_seq": int(row[0]) if row else 0}
    return hub.read(run)
