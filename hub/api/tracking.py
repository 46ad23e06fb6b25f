"""Carrier tracking over HTTP (docs/api.md "Tracking"): 快递100's push, and an order's tracking for the desk.

The push carries no PackDesk token: it is verified with 快递100's own scheme (MD5 of ``param`` and
our salt, :func:`hub.carriers.kuaidi100.verify`), read (a body that is not 快递100's shape is a 400
and nothing is stored), stored in ``tracking_inbox`` (many pushes per transaction at a peak:
:class:`hub.carriers.tracking.InboxBatcher`) and acknowledged once committed with
快递100's documented answer at once; the ``tracking`` thread applies stored pushes in batches.
A push for a waybill no order carries is acknowledged too (and logged when applied): refusing it
would only make 快递100 send it again.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Connection

from core.roles import Role
from hub.api.deps import Hub, HubDep, actor_at_least
from hub.api.http import BoundedRoute, error_response
from hub.api.orders import visible_doc
from hub.carriers import kuaidi100
from hub.carriers import tracking_store as store

log = logging.getLogger("packdesk.hub.api")

router = APIRouter(route_class=BoundedRoute)

#: 快递100's acknowledgement, encoded once (the same bytes ``JSONResponse(kuaidi100.ACK)`` renders).
_ACK_BODY = JSONResponse(kuaidi100.ACK).body


#: A ``%`` not followed by two hex digits (the fast decoder below would read it differently).
_STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _unquote_plus(raw: bytes) -> str:
    """A form value decoded (``+`` a space, ``%XX`` a byte), as ``urllib.parse.unquote_plus`` does.

    The standard library decodes escape by escape in Python: for a push of Chinese text that was a
    third of its cost at a peak. Quoted-printable is the same escape with ``=`` instead of ``%``,
    and ``binascii`` decodes it in C; a value it would read differently (an ``=``, a line break, a
    stray ``%``) takes the standard path.
    """
    raw = raw.replace(b"+", b" ")
    if b"=" in raw or b"\r" in raw or b"\n" in raw or _STRAY_PERCENT.search(raw):
        return unquote_to_bytes(raw).decode("utf-8")
    return binascii.a2b_qp(raw.replace(b"%", b"=")).decode("utf-8")


def _form(body: bytes) -> dict[str, str] | None:
    """The push's form fields (first value of each); None when the body is not a UTF-8 form."""
    fields: dict[str, str] = {}
    try:
        for pair in body.split(b"&")[:50]:
            name, eq, value = pair.partition(b"=")
            if not eq:
                return None
            fields.setdefault(_unquote_plus(name), _unquote_plus(value))
    except (UnicodeDecodeError, ValueError):
        return None
    return fields


@router.post("/api/v1/carriers/kuaidi100/push", response_model=None)
async def kuaidi100_push(request: Request) -> Response:
    """快递100's subscription push: form fields ``param`` (JSON) and ``sign``.

    The hub is taken from the app, not through a FastAPI dependency: at a peak this is most of the
    hub's requests, and solving a dependency costs more than the rest of the handler's own work.
    """
    hub: Hub = request.app.state.hub
    salt = hub.settings.kuaidi100_salt
    if not salt:
        return error_response(403, "channel_not_configured",
                              "This hub takes no 快递100 pushes: set kuaidi100_salt (docs/tracking.md).")
    form = _form(await request.body())
    if form is None:
        return error_response(400, "bad_push", "The push is not a UTF-8 form (param=…&sign=…).")
    param, given = form.get("param", ""), form.get("sign", "")
    if not param:
        return error_response(400, "bad_push", "The push has no 'param' field.")
    if not given:
        return error_response(401, "bad_signature", "The push has no 'sign' field.")
    if not kuaidi100.verify(param, given, salt):
        log.info("快递100 push refused: its sign does not match our salt")
        return error_response(401, "bad_signature", "The push's sign does not match: not from 快递100, or the "
                                                    "salt differs from the one the waybill was subscribed with.")
    try:
        push = kuaidi100.parse_push(param)
    except kuaidi100.BadPush as exc:
        return error_response(400, "bad_push", f"The push is not 快递100's shape: {exc}.")
    await asyncio.wrap_future(hub.tracking.inbox.submit("kuaidi100", push.number, param))
    hub.tracking.wake()
    return Response(_ACK_BODY, media_type="application/json")


@router.get("/api/v1/orders/{order_id}/tracking")
def order_tracking(hub: HubDep, request: Request, order_id: str) -> dict[str, Any]:
    """Desk and above: the order's whole tracking history (with the provider's codes) and its subscriptions."""
    def run(c: Connection) -> dict[str, Any]:
        actor = actor_at_least(hub, c, request, Role.DESK)
        doc = visible_doc(c, actor, order_id)
        oid = doc["order_id"]
        return {"order_id": oid, "waybill_no": doc.get("waybill_no"), "tracking_status": doc.get("tracking_status"),
                "signed_at": doc.get("signed_at"), "events": store.events_of(c, [oid])[oid],
                "subscriptions": store.subscriptions_of(c, oid)}
    return hub.read(run)
