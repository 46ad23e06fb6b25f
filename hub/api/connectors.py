"""Shop connectors over HTTP (docs/api.md "Connectors"): the admin's add / list / pause / resume /
test, the desks' health summary, and each platform's own message push.

The push endpoint carries no PackDesk signature: it is verified with the platform's own scheme by
the platform module (:meth:`hub.channels.base.Platform.verify_push`), stored in the inbox in one
transaction, and answered with the platform's acknowledgement at once; the engine applies it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from core.errors import UserError
from core.roles import Role
from core.timeutil import utcnow
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute, Text, error_response
from hub.channels import PLATFORM_MODULES, platform_class, queues, store
from hub.channels.base import PlatformError, PushAck, PushRejected, url_check, verify_any_push
from hub.channels.engine import check_connector, explain

log = logging.getLogger("packdesk.hub.api")

router = APIRouter(route_class=BoundedRoute)

#: verify_push makes no HTTP call; a platform module still wants a session to be built with.
_NO_HTTP = requests.Session()


class ConnectorIn(BaseModel):
    platform: Text = Field(min_length=1, max_length=16)
    shop_id: Text = Field(min_length=1, max_length=64)
    app_key: Text = Field(min_length=1, max_length=128)
    app_secret: Text = Field(min_length=1, max_length=512)
    base_url: Text = Field(min_length=1, max_length=500)
    interval_s: float = Field(default=15.0, ge=1.0, le=3600.0)
    enabled: bool = True
    extra: dict[str, Text] = Field(default_factory=dict, max_length=50)
    #: How far back a new connector starts pulling (default one day).
    lookback_s: float = Field(default=store.DEFAULT_LOOKBACK_S, ge=0, le=90 * 86400)


@router.get("/api/v1/connectors")
def list_connectors(hub: HubDep, request: Request) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        rows = store.list_connectors(c)
        inbox, ships = queues.inbox_waiting(c), queues.ships_waiting(c)
        for r in rows:
            r["health"]["push_backlog"] = inbox.get(r["id"], 0)
            r["health"]["ships_waiting"] = ships.get(r["id"], 0)
        return {"connectors": rows}
    return hub.tx(run)


@router.get("/api/v1/connectors/health")
def connectors_health(hub: HubDep, request: Request) -> dict[str, Any]:
    """Any logged-in operator: each shop's state, lag and last error (no keys, no URLs, no secrets)."""
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.PACKER)
        return store.health_summary(c)
    return hub.tx(run)


@router.post("/api/v1/connectors")
def add_connector(hub: HubDep, request: Request, body: ConnectorIn) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        cid = store.add(c, platform=body.platform, shop_id=body.shop_id, app_key=body.app_key,
                        app_secret=body.app_secret, base_url=body.base_url, interval_s=body.interval_s,
                        extra=body.extra, enabled=body.enabled, lookback_s=body.lookback_s)
        return store.get_public(c, cid)
    out = hub.tx(run)
    hub.connectors.wake_pull()
    log.info("connector %s added (%s shop %s)", out["id"], body.platform, body.shop_id)
    return out


def _set_enabled(hub: Any, request: Request, connector_id: int, enabled: bool) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        store.set_enabled(c, connector_id, enabled)
        return store.get_public(c, connector_id)
    out: dict[str, Any] = hub.tx(run)
    hub.connectors.wake_pull()
    hub.connectors.wake_push()
    return out


@router.post("/api/v1/connectors/{connector_id}/pause")
def pause_connector(hub: HubDep, request: Request, connector_id: int) -> dict[str, Any]:
    return _set_enabled(hub, request, connector_id, False)


@router.post("/api/v1/connectors/{connector_id}/resume")
def resume_connector(hub: HubDep, request: Request, connector_id: int) -> dict[str, Any]:
    return _set_enabled(hub, request, connector_id, True)


@router.post("/api/v1/connectors/{connector_id}/test", response_model=None)
def test_connector(hub: HubDep, request: Request, connector_id: int) -> dict[str, Any] | Response:
    """Acquire a token and list the last five minutes; a failure answers 422 with the platform's
    problem in plain words and what to do about it."""
    def load(c: Connection) -> Any:
        actor_at_least(hub, c, request, Role.ADMIN)
        return store.config(c, connector_id)
    cfg = hub.tx(load)
    try:
        result = check_connector(cfg)
    except PlatformError as exc:
        return error_response(422, "connector_test_failed", explain(exc),
                              {"kind": exc.kind.value, "platform_code": exc.code, "connector_id": connector_id})
    hub.tx(lambda c: store.save_token(c, connector_id, result["token"]))
    return {"ok": True, "connector_id": connector_id, "orders_in_window": result["orders_in_window"],
            "more_pages": result["more_pages"]}


@router.post("/api/v1/channels/{platform}/push", response_model=None)
async def channel_push(hub: HubDep, platform: str, request: Request) -> Response:
    if platform not in PLATFORM_MODULES:
        raise UserError(f"No shop platform {platform!r}; known: {', '.join(PLATFORM_MODULES)}.",
                        code="unknown_channel")
    body = await request.body()
    headers: Mapping[str, str] = request.headers
    query = dict(request.query_params)
    path = request.url.path

    def run(c: Connection) -> PushAck | PushRejected:
        cfgs = store.find(c, platform)
        if not cfgs:
            return PushRejected(404, "unknown_shop", f"This hub has no {platform} connector: add the shop first "
                                                     "(python main.py hub connector add).")
        cls = platform_class(platform)
        by_shop = {cfg.shop_id: cfg for cfg in cfgs}
        first: PushRejected | None = None
        for cfg in cfgs:  # several shops may have several apps: the push is signed by one of them
            plat = cls(cfg, _NO_HTTP)
            try:
                messages = verify_any_push(plat, query, headers, body, path=path)
            except PushRejected as rej:
                first = first or rej
                continue
            pairs = []
            for m in messages:
                target = by_shop.get(m.shop_id)
                if target is None:
                    return PushRejected(404, "unknown_shop", f"No connector serves {platform} shop {m.shop_id!r}.")
                pairs.append((target.id, m))
            queues.store_push(c, platform, pairs, utcnow())
            return plat.push_ack()
        assert first is not None
        return first

    answer = await run_in_threadpool(hub.tx, run)
    if isinstance(answer, PushRejected):
        return error_response(answer.status, answer.code, answer.message)
    hub.connectors.wake_push()
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


@router.get("/api/v1/channels/{platform}/push", response_model=None)
def channel_push_check(hub: HubDep, platform: str, request: Request) -> Response:
    """A platform's check of the push URL before it sends anything (微信: echo ``echostr``), verified
    with the platform's scheme against each of its connectors."""
    if platform not in PLATFORM_MODULES:
        raise UserError(f"No shop platform {platform!r}; known: {', '.join(PLATFORM_MODULES)}.",
                        code="unknown_channel")
    query = dict(request.query_params)
    cfgs = hub.tx(lambda c: store.find(c, platform))
    first: PushRejected | None = None
    for cfg in cfgs:
        try:
            answer = url_check(platform_class(platform)(cfg, _NO_HTTP), query)
        except PushRejected as rej:
            first = first or rej
            continue
        if answer is not None:
            return Response(answer, media_type="text/plain")
    if first is not None:
        return error_response(first.status, first.code, first.message)
    return error_response(404, "not_found", f"No {platform} connector answers a URL check here.")
