"""Orders coming in: signed channel pushes and the desk's file import (docs/api.md "Intake", "Import").

A push is one transaction; an import is one transaction per chunk of orders, so the rest of the
hub gets the database between chunks, and a file refused whole (a bomb, a bad row, the row cap) is
refused before any order is written (:func:`hub.intake.importer.read_import`).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from core.errors import UserError, ValidationFailed
from core.model import IntakeOrder
from core.roles import Role
from hub import auth, db, import_mappings
from hub.api.deps import HubDep, actor_at_least
from hub.api.http import BoundedRoute, Text, error_response
from hub.config import CHANNEL_NAMES
from hub.intake import SIGNATURE_HEADER, parse_push, verify_signature
from hub.intake.importer import read_import
from hub.orders import intake
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.api")

router = APIRouter(route_class=BoundedRoute)


@router.post("/api/v1/intake/{channel}")
async def intake_push(hub: HubDep, channel: str, request: Request) -> Response:
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
    # Plain JSON already (text, booleans): answered as it is, not walked by FastAPI's encoder
    # (a tenth of a push's time at 100 orders; issue 18).
    return JSONResponse(await run_in_threadpool(functools.partial(hub.tx, run, notify=True, ships=False)))


class MappingIn(BaseModel):
    name: Text = Field(min_length=1, max_length=64)
    headers: list[Text] = Field(min_length=1, max_length=300)
    columns: dict[str, str] = Field(max_length=300)


@router.get("/api/v1/import/mappings")
def list_mappings(hub: HubDep, request: Request) -> dict[str, Any]:
    """The site's saved column mappings (desk+)."""
    def run(c: Connection) -> dict[str, Any]:
        actor_at_least(hub, c, request, Role.DESK)
        return {"mappings": import_mappings.list_all(c)}
    return hub.tx(run)


@router.put("/api/v1/import/mappings")
def save_mapping(hub: HubDep, request: Request, body: MappingIn) -> dict[str, Any]:
    """Save a column mapping under a name (desk+); a sheet with the same headers then uses it."""
    if any(len(h) > 100 for h in [*body.headers, *body.columns, *body.columns.values()]):
        raise ValidationFailed("A header or field name is longer than 100 characters.", details={"field": "headers"})
    return hub.tx(lambda c: import_mappings.save(
        c, body.name, list(body.headers), dict(body.columns),
        by=actor_at_least(hub, c, request, Role.DESK).operator))


def _columns(text: str | None) -> dict[str, str] | None:
    """The ``columns`` query parameter: a JSON object header -> field (the desk's mapping step)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValidationFailed("columns must be a JSON object of header -> field.", details={"field": "columns"})
    return value


@router.post("/api/v1/import")
async def import_file(hub: HubDep, request: Request, filename: str = Query(..., min_length=1, max_length=200),
                      columns: str | None = Query(None, max_length=12_000)) -> Response:
    mapping = _columns(columns)

    def who(c: Connection) -> tuple[Any, list[import_mappings.SavedMapping]]:
        return hub.actor(c, request), import_mappings.load(c)

    actor, saved = await run_in_threadpool(hub.tx, who)
    auth.require(actor, Role.DESK)
    data = await request.body()
    # Lines are checked against the catalogue when the site has one: an unknown SKU is a row
    # error, never an order that reaches a bench without a bin (docs/import.md).
    known = frozenset(hub.rules.catalogue) or None
    # First pass: everything that refuses the file whole (a bomb, the header, a bad row
    # anywhere, the row cap) happens here, before any order is written.
    file = await run_in_threadpool(functools.partial(
        read_import, filename, data, max_rows=hub.settings.max_import_rows,
        max_uncompressed_bytes=hub.settings.max_import_uncompressed_bytes, columns=mapping, saved=saved,
        known_skus=known))
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
                results = hub.tx(writer_of([o for _, o in chunk]), notify=True, ships=False)
            except Exception:
                log.exception("import of %s stopped after %d orders", filename, imported)
                return error_response(
                    500, "import_interrupted",
                    f"The import stopped after {imported} orders (through row {last_row}) because of a hub "
                    "error; those orders are kept. Import the same file again to finish: orders already "
                    "imported are recognised by their order number and not added twice.",
                    {"imported": imported, "last_row": last_row})
            imported += len(results)
            last_row = max(o.extra["rows"][-1] for _, o in chunk)
            if not postgres:
                # SQLite has no queue for its write lock: a writer that found it taken retries
                # every 100 ms (the busy handler), and the next chunk would usually win again.
                time.sleep(0.1)
            parts.append(json.dumps(results, ensure_ascii=False)[1:-1])
        errors = json.dumps([e.to_wire() for e in sorted(file.errors, key=lambda e: e.row)], ensure_ascii=False)
        notes = json.dumps({"preset": file.preset.name if file.preset else None, "mapping": file.mapping_name,
                            "ignored_columns": file.ignored}, ensure_ascii=False)[1:-1]
        # Built as text: 200k orders through FastAPI's encoder would cost seconds and copies.
        body = (f'{{"imported": {imported}, "orders": [{",".join(p for p in parts if p)}], "errors": {errors}, '
                f'{notes}}}')
        return Response(body.encode(), media_type="application/json")
    return await run_in_threadpool(run)
