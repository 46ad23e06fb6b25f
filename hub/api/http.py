"""The hub's HTTP plumbing: error answers, body and URL guards, the bounded JSON body reader.

Every error a caller can cause is a 4xx JSON ``{error, message, details}`` (:data:`STATUS_BY_CODE`
maps a :class:`core.errors.UserError` code to its status); anything else is a bug, logged with its
traceback and answered 500 without internals (:func:`install_error_handlers`). The routers in
``hub/api/`` all use :class:`BoundedRoute`, so no handler reads a body with Python's own JSON reader.
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import UserError
from core.version import HEADER, is_older
from hub.intake.fields import NumberOutOfRange, bounded_loads
from hub.textcheck import check_text

log = logging.getLogger("packdesk.hub.api")

VERSION_HEADER = HEADER.lower().encode("ascii")

STATUS_BY_CODE = {
    "unauthorized": 401, "token_expired": 401, "bad_credentials": 401, "bad_signature": 401,
    "forbidden": 403, "unknown_order": 404, "unknown_channel": 404, "not_found": 404,
    "station_bench_mismatch": 409, "conflict": 409, "illegal_transition": 409, "order_held": 409,
    "cursor_expired": 410, "payload_too_large": 413, "order_too_large": 422,
    "token_revoked": 401, "station_pending": 403, "station_device_mismatch": 403, "station_revoked": 403,
    "default_pin": 403, "no_operators": 403, "channel_not_configured": 403, "login_throttled": 429,
    "login_locked": 429, "role_refused": 403,
}


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    """The one shape of every error answer: ``{error, message, details}``."""
    return JSONResponse({"error": code, "message": message, "details": details}, status_code=status)


class BodyLimit:
    """Refuse request bodies over a size before reading them whole (pure ASGI, counts chunks too)."""

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((v for k, v in self.limits.items() if scope["path"].startswith(k)), self.default_limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # built only when refusing: a JSON answer per request was a measurable share of a tracking push
            too_big = error_response(413, "payload_too_large", f"The request body is larger than {limit} bytes.",
                                     {"limit": limit})
            await too_big(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise UserError(f"The request body is larger than {limit} bytes.", code="payload_too_large")
            return msg

        await self.app(scope, limited, send)


class UrlText:
    """Refuse a NUL character in the path or query string before any handler sees it.

    ``%00`` decodes to a NUL, which PostgreSQL refuses in every text comparison; without this a
    lookup like ``GET /orders/%00`` was a 500 on PostgreSQL (``hub.textcheck``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope.get("path", "")
                                        or b"\x00" in unquote_to_bytes(scope.get("query_string") or b"")):
            bad = error_response(400, "validation_failed", "The URL contains a NUL character (%00).",
                                 {"field": "url"})
            await bad(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ClientVersionGate:
    """Refuse a client older than the hub's ``min_client_version`` (``426 client_too_old``), before any work.

    The client names its version in :data:`core.version.HEADER` on every request; ``/api/v1/health``
    is always answered (it tells any client the minimum), and a request without the header (a
    partner, a script, a client from before the header existed) is let through unchanged.
    """

    def __init__(self, app: ASGIApp, minimum: str) -> None:
        self.app = app
        self.minimum = minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.minimum and scope.get("path", "") != "/api/v1/health":
            raw = dict(scope.get("headers") or []).get(VERSION_HEADER)
            version = raw.decode("latin-1") if raw is not None else None
            if version is not None and is_older(version, self.minimum):
                refuse = error_response(
                    426, "client_too_old",
                    f"此客户端版本 {version[:32]} 过旧，总部要求至少 {self.minimum} / This client ({version[:32]}) "
                    f"is older than the hub accepts (at least {self.minimum}).",
                    {"client_version": version[:32], "min_client_version": self.minimum})
                await refuse(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BoundedJsonRequest(Request):
    """A request whose JSON body is read with every number bounded at parse time (docs/api.md "Input rules").

    Python's own reader turns ``1e999999999`` into infinity and reads a 4,000-digit integer; our
    reader (:func:`hub.intake.fields.bounded_loads`) refuses both before any work. Whatever stops
    the body being read (a number out of bounds, nesting deeper than the parser goes, bytes that
    are not UTF-8) is a 422 ``validation_failed`` for the body, the status a bench's sync engine
    answers by halving the batch until it finds the one action to reject.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = bounded_loads(body, floats="float")
            except json.JSONDecodeError:
                raise  # FastAPI's own 422 with the position
            except NumberOutOfRange as exc:
                raise _body_error(f"the body {exc}") from None
            except RecursionError:
                raise _body_error("the body is nested too deeply to read") from None
            except UnicodeDecodeError:
                raise _body_error("the body is not UTF-8 text") from None
        return self._json


def _body_error(problem: str) -> RequestValidationError:
    return RequestValidationError([{"type": "body_unreadable", "loc": ("body",), "msg": problem, "input": None}])


class BoundedRoute(APIRoute):
    """Every route reads its JSON body through :class:`BoundedJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Any:
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return bounded


def storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the database's disk (or the hub's own) is full.

    SQLite: ``database or disk is full`` (SQLITE_FULL); PostgreSQL: ``DiskFull`` (SQLSTATE 53100,
    "No space left on device"); the hub's own files: ``OSError(ENOSPC)``.
    """
    orig = getattr(exc, "orig", None)
    for e in (exc, orig):
        if e is None:
            continue
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            return True
        if type(e).__name__ == "DiskFull" or getattr(e, "sqlstate", None) == "53100":
            return True
        text = str(e)
        if "database or disk is full" in text or "No space left on device" in text:
            return True
    return False


#: Request text the database can store (no NUL, no lone surrogate): a 422 naming the field otherwise.
Text = Annotated[str, AfterValidator(check_text)]


def install_error_handlers(app: FastAPI) -> None:
    """Answer every exception as ``{error, message, details}`` with the status its code means."""

    @app.exception_handler(UserError)
    async def _user_error(_r: Request, exc: UserError) -> JSONResponse:
        return error_response(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_r: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        first = details[0] if details else {"field": "?", "problem": "invalid"}
        return error_response(422, "validation_failed", f"Field '{first['field']}': {first['problem']}.",
                              json.loads(json.dumps(details, default=str)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = exc.__cause__
        if isinstance(cause, RequestValidationError):
            # Our body reader's refusal (BoundedJsonRequest), wrapped by FastAPI in a generic 400.
            return await _validation(_r, cause)
        if isinstance(cause, UserError):
            # FastAPI wraps whatever stopped it reading a JSON body (our BodyLimit's 413 for a
            # chunked upload that grew too large) in a generic 400; answer with the real reason.
            return await _user_error(_r, cause)
        if exc.status_code == 400 and cause is not None:
            # Anything else that stopped FastAPI reading the body: JSON nested too deeply for the
            # parser, text that is not UTF-8.
            return error_response(400, "validation_failed",
                                  "The request body cannot be read as JSON (not UTF-8, or nested too deeply).",
                                  {"field": "body"})
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _storage(_r: Request, exc: Exception) -> JSONResponse:
        if storage_full(exc):
            # Not a bug and not the caller's fault: the site must free space. Nothing was written
            # (the transaction rolled back); reads keep working; the bench keeps its outbox.
            log.error("storage full: %s", getattr(exc, "orig", None) or exc)
            return error_response(503, "storage_full",
                                  "The hub's disk is full: nothing was saved. Free disk space on the hub's "
                                  "database server, then try again.")
        return await _bug(_r, exc)

    @app.exception_handler(Exception)
    async def _bug(_r: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal", "The hub hit an internal error; it has been logged.")
