"""Split and merge reads (docs/split-merge.md): which orders may join an order's parcel (合单).

Read only; the split, merge and unmerge themselves are actions (``POST /api/v1/actions``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.roles import Role
from hub import auth
from hub.api.deps import HubDep
from hub.api.http import BoundedRoute
from hub.orders import load_docs
from hub.split_merge import candidates
from hub.writer import public

router = APIRouter(route_class=BoundedRoute)


@router.get("/api/v1/orders/{order_id}/merge-candidates")
def get_merge_candidates(hub: HubDep, request: Request,
                         order_id: str = Path(max_length=32)) -> dict[str, Any]:
    """Desk and above: ``{"order": …, "candidates": [orders]}``: same buyer at the same address,
    allocated and not printed, same warehouse, no open exception (and those already in its parcel)."""
    def run(c: Connection) -> dict[str, Any]:
        auth.require(hub.actor(c, request), Role.DESK)
        doc = load_docs(c, [order_id.strip().upper()]).get(order_id.strip().upper())
        if doc is None:
            raise UserError(f"No order {order_id} at the hub.", code="unknown_order")
        return {"order": public(doc), "candidates": candidates(c, doc)}

    return hub.read(run)
