"""E-waybill accounts over HTTP (docs/carriers.md): what an admin may see — each carrier's account
(setting names, never their values), its last error, and its queue. Accounts are added on the hub
machine (``python main.py hub carriers add``): their keys never travel over the LAN."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection

from core.roles import Role
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute
from hub.carriers import queue, store

router = APIRouter(route_class=BoundedRoute)


@router.get("/api/v1/carriers")
def list_carrier_accounts(hub: HubDep, request: Request) -> dict[str, Any]:
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.ADMIN)
        waiting = queue.waiting(c)
        accounts = store.list_accounts(c)
        for a in accounts:
            a["queue"] = waiting.get(a["carrier"], {"awaiting_waybill": 0, "cancels_pending": 0})
        return {"accounts": accounts, "waiting": waiting}
    return hub.read(run)
