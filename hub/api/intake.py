"""Orders coming in: signed channel pushes and the desk's file import (docs/api.md "Intake", "Import").

A push is one transaction; an import is one transaction per chunk of orders, so the rest of the
hub gets the database between chunks, and a file refused whole (a bomb, a bad row, the row cap) is
refused before any order is written (:func:`hub.intake.importer.read_import`).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from core.errors import UserError
from core.model import IntakeOrder
from core.roles import Role
from hub import auth, db
from hub.api.deps import HubDep
from hub.api.http import BoundedRoute, error_response
from hub.config import CHANNEL_NAMES
from hub.intake import SIGNATURE_HEADER, parse_push, verify_signature
from hub.intake.importer import read_import
from hub.orders import intake
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.api")

router = APIRouter(route_class=BoundedRoute)


@router.post("/api/v1/intake/{channel}")
async def intake_push(hub: HubDep, channel: str, request: Request) -> dict[str, Any]:
    if channel not in CHANNEL_NAMES:
        raise UserError(f"Unknown channel '{channel}'; known: {', '.join(CHANNEL_NAMES)}.", code="unknown_channel")
    secret = hub.settings.secret_for(channel)
    if secret is None:
        raise UserError(f"This hub takes no pushes for channel '{channel}': no secret is configured for it "
                        "(channel_secrets in the hub settings).", code="channel_not_configured",
                        details={"channel": channel})
    body = await request.body()
    verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER))
    pushed = await run_in_threadpool(parse_push, channel, body)  # up to 1000 orders: off the event loop

    def run(c: Connection) -> dict[str, Any]:
        w = Writer(c, hub.settings, Actor.system(f"intake:{channel}"))
        results = intake(w, hub.rules, pushed, source=channel)  # a channel touches only its own orders
        w.flush()
        return {"accepted": len(results), "orders": results}
    return await run_in_threadpool(hub.tx, run, notify=True)


@router.post("/api/v1/import")
async def import_file(hub: HubDep, request: Request, filename: str = Query(..., min_length=1, max_length=200)) -> Response:
    actor = await run_in_threadpool(hub.tx, lambda c: hub.actor(c, request))
    auth.require(actor, Role.DESK)
    data = await request.body()
    # First pass: everything that refuses the file whole (a bomb, the header, a bad row
    # anywhere, the row cap) happens here, before any order is written.
    file = await run_in_threadpool(read_import, filename, data, max_rows=hub.settings.max_import_rows,
                                   max_uncompressed_bytes=hub.settings.max_import_uncompressed_bytes)
    del data

    def writer_of(chunk: list[IntakeOrder]) -> Callable[[Connection], list[dict[str, Any]]]:
        def write(c: Connection) -> list[dict[str, Any]]:
            w = Writer(c, hub.settings, actor)
            results = intake(w, hub.rules, chunk)
            w.flush()
            return results
        return write

    def run() -> Response:
        # One transaction per chunk of orders: single actions, pushes and /health get the
        # database between chunks instead of waiting for the whole file (500 orders: well
        # under a second of writing on a slow PC).
        chunk_size = 500
        postgres = db.is_postgres(hub.engine)
        parts: list[str] = []
        imported = last_row = 0
        orders = file.orders()
        while chunk := list(itertools.islice(orders, chunk_size)):
            try:
                results = hub.tx(writer_of([o for _, o in chunk]), notify=True)
            except Exception:
                log.exception("import of %s stopped after %d orders", filename, imported)
                return error_response(
                    500, "import_interrupted",
                    f"The import stopped after {imported} orders (through row {last_row}) because of a hub "
                    "error; those orders are kept. Import the same file again to finish: orders already "
                    "imported are recognised by their order number and not added twice. 导入中断：已导入的订单"
                    "保留，请重新导入同一文件（已导入的订单不会重复）。",
                    {"imported": imported, "last_row": last_row})
            imported += len(results)
            last_row = max(o.extra["rows"][-1] for _, o in chunk)
            if not postgres:
                # SQLite has no queue for its write lock: a writer that found it taken retries
                # every 100 ms (the busy handler), and the next chunk would usually win again.
                time.sleep(0.1)
            parts.append(json.dumps(results, ensure_ascii=False)[1:-1])
        errors = json.dumps([{"row": e.row, "reason": e.reason} for e in sorted(file.errors, key=lambda e: e.row)],
                            ensure_ascii=False)
        # Built as text: 200k orders through FastAPI's encoder would cost seconds and copies.
        body = f'{{"imported": {imported}, "orders": [{",".join(p for p in parts if p)}], "errors": {errors}}}'
        return Response(body.encode(), media_type="application/json")
    return await run_in_threadpool(run)
