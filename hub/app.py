"""The hub's HTTP API (docs/api.md): FastAPI over the services in ``hub/``.

Handlers stay thin: parse, authenticate, run one transaction in the thread pool, answer. Every
error a caller can cause is a 4xx JSON ``{error, message, details}``; anything else is a bug,
logged with its traceback and answered 500 without internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, Field, field_validator
from sqlalchemy import event, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import UserError
from core.model import IntakeOrder
from core.roles import Role
from core.timeutil import as_utc, iso, local_day, utcnow
from hub import auth, db, feed, longpoll
from hub.actions import process_batch
from hub.config import CHANNEL_NAMES, HubSettings
from hub.intake import SIGNATURE_HEADER, parse_push, verify_signature
from hub.intake.fields import NumberOutOfRange, bounded_loads
from hub.intake.importer import read_import
from hub.orders import intake, load_docs
from hub.routing import Rules
from hub.textcheck import check_depth, check_payload, check_text
from hub.webhooks import Deliverer
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.api")
T = TypeVar("T")

STATUS_BY_CODE = {
    "unauthorized": 401, "token_expired": 401, "bad_credentials": 401, "bad_signature": 401,
    "forbidden": 403, "unknown_order": 404, "unknown_channel": 404, "not_found": 404,
    "station_bench_mismatch": 409, "conflict": 409, "illegal_transition": 409, "order_held": 409,
    "cursor_expired": 410, "payload_too_large": 413, "order_too_large": 422,
    "token_revoked": 401, "station_pending": 403, "station_device_mismatch": 403, "station_revoked": 403,
    "default_pin": 403, "no_operators": 403, "channel_not_configured": 403, "login_throttled": 429,
    "login_locked": 429,
}


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
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
        too_big = error_response(413, "payload_too_large", f"The request body is larger than {limit} bytes.",
                                 {"limit": limit})
        if declared is not None and declared.isdigit() and int(declared) > limit:
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


class LoginIn(BaseModel):
    operator: Text = Field(min_length=1, max_length=32)
    pin: Text = Field(min_length=1, max_length=16)
    station: Text = Field(min_length=1, max_length=64)
    bench: Text | None = Field(default=None, max_length=32)
    device_id: Text = Field(min_length=1, max_length=64)


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


class StationBenchIn(BaseModel):
    bench: Text | None = Field(default=None, max_length=32)
    device_id: Text | None = Field(default=None, max_length=64)


class UnlockIn(BaseModel):
    operator: Text | None = Field(default=None, max_length=32)
    station: Text | None = Field(default=None, max_length=64)


class PruneIn(BaseModel):
    older_than_s: int = Field(ge=0, le=100 * 366 * 86400)  # a century: now minus more is no date


class Hub:
    """What the handlers share: settings, engines, rules, the long-poll notifier and tail, webhooks.

    Two engines: ``engine`` for transactions that write (SQLite ``BEGIN IMMEDIATE``), ``reader``
    for the GET handlers and long-polls (:meth:`read`), with its own pool and no write lock, so
    readers and writers never queue behind each other. Long-poll database work also runs on its
    own few threads (``longpoll_threads``), not the thread pool the write handlers run on.
    """

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.engine: Engine = db.make_engine(settings.database_url)
        self.reader: Engine = db.make_engine(settings.database_url, read_only=True)
        self.rules = Rules.load(settings.rules_path) if settings.rules_path else Rules.default()
        self.notifier = feed.Notifier()
        self.deliverer = Deliverer(self.engine, settings)
        self.longpoll_threads: anyio.CapacityLimiter | None = None  # made on the event loop (lifespan)
        self.tail = feed.ChangeTail(self.read_async, self.notifier, fallback_s=settings.longpoll_fallback_s)
        self.tokens = longpoll.TokenCheck(self._check_tokens)
        #: Statements run, by the table they read or write (``count_statements``, a test-only setting).
        self.statements: Counter[str] | None = None
        self._statements_lock = threading.Lock()
        if settings.count_statements:
            self.statements = Counter()
            for engine in (self.engine, self.reader):
                event.listen(engine, "before_cursor_execute", self._count_statement)

    def _count_statement(self, _conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        assert self.statements is not None
        m = _STATEMENT_TABLE.search(statement)
        with self._statements_lock:  # from many threads at once: none may go uncounted
            self.statements[m.group(1).lower() if m else statement.split(None, 1)[0].upper()] += 1

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a read-only transaction (takes no write lock; a write in it fails)."""
        with self.reader.begin() as conn:
            return fn(conn)

    async def read_async(self, fn: Callable[[Connection], T]) -> T:
        """:meth:`read` on the long-poll threads, off the event loop."""
        return await anyio.to_thread.run_sync(self.read, fn, limiter=self.longpoll_threads)

    async def _check_tokens(self, headers: Sequence[str | None]) -> list[Actor | UserError]:
        """Authenticate each header, all in one read transaction (long-polls' batched re-checks)."""
        def run(conn: Connection) -> list[Actor | UserError]:
            out: list[Actor | UserError] = []
            for header in headers:
                try:
                    out.append(auth.authenticate(conn, header))
                except UserError as exc:  # this caller's 401, handed back to it
                    out.append(exc)
            return out
        return await self.read_async(run)

    def tx(self, fn: Callable[[Connection], T], *, notify: bool = False) -> T:
        """Run ``fn`` in one transaction, retrying a PostgreSQL deadlock/serialisation failure."""
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    result = fn(conn)
                if notify:
                    self.notifier.notify()
                    self.deliverer.wake()
                return result
            except (OperationalError, IntegrityError) as exc:
                if attempt == 4 or not _retryable(exc):
                    raise
                log.info("retrying transaction after %s", type(exc.orig).__name__)
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def actor(self, conn: Connection, request: Request) -> Actor:
        return auth.authenticate(conn, request.headers.get("authorization"))


_STATEMENT_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', re.IGNORECASE)


def _retryable(exc: DBAPIError) -> bool:
    """Worth running again from the start: a lost race, not a bad request.

    A unique violation here means two requests raced to create the same thing (a retried push,
    a retried action batch, a station's first login): the rerun sees the winner's committed row
    and answers as for a repeat.
    """
    name = type(exc.orig).__name__
    return (name in ("DeadlockDetected", "SerializationFailure", "UniqueViolation")
            or "database is locked" in str(exc.orig))


def create_app(settings: HubSettings) -> FastAPI:
    hub = Hub(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        db.migrate(hub.engine)
        _announce(hub)
        hub.notifier.bind(asyncio.get_running_loop())
        hub.longpoll_threads = anyio.CapacityLimiter(8)
        if db.is_postgres(hub.engine):
            hub.notifier.listen_postgres(hub.engine)
        hub.deliverer.start()
        pruner = asyncio.create_task(_prune_loop(hub))
        tail = asyncio.create_task(hub.tail.run())
        yield
        pruner.cancel()
        tail.cancel()
        hub.notifier.close()
        await run_in_threadpool(hub.deliverer.stop)
        hub.engine.dispose()
        hub.reader.dispose()

    app = FastAPI(title="PackDesk hub", version="1", lifespan=lifespan)
    app.router.route_class = BoundedRoute
    app.state.hub = hub
    app.add_middleware(BodyLimit, default_limit=settings.max_body_bytes,
                       limits={"/api/v1/import": settings.max_import_bytes})
    app.add_middleware(UrlText)

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

    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        out = {"status": "ok", "db": hub.engine.dialect.name, "head": hub.read(feed.head), "time": iso(utcnow())}
        if hub.statements is not None:
            out["statements"] = dict(hub.statements)
        return out

    @app.post("/api/v1/auth/login")
    def login(body: LoginIn) -> dict[str, Any]:
        # A refusal comes back as a value: what it wrote (failure count, attempt, station request)
        # is committed before the error answer goes out.
        answer = hub.tx(lambda c: auth.attempt_login(c, settings, operator=body.operator, pin=body.pin,
                                                     station=body.station, bench=body.bench,
                                                     device_id=body.device_id, benches=hub.rules.benches))
        if isinstance(answer, UserError):
            raise answer
        return answer

    @app.post("/api/v1/auth/logout")
    def logout(request: Request) -> dict[str, Any]:
        return {"logged_out": hub.tx(lambda c: auth.logout(c, request.headers.get("authorization")))}

    def _supervisor(c: Connection, request: Request) -> Actor:
        actor = hub.actor(c, request)
        auth.require(actor, Role.SUPERVISOR)
        return actor

    @app.get("/api/v1/stations")
    def stations(request: Request, status: str | None = Query(None, pattern="^(pending|approved|revoked)$")
                 ) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            _supervisor(c, request)
            return {"stations": auth.list_stations(c, status)}
        return hub.tx(run)

    @app.post("/api/v1/stations/{name}/approve")
    def approve_station(request: Request, name: str, body: StationBenchIn) -> dict[str, Any]:
        return hub.tx(lambda c: auth.approve_station(c, name, bench=body.bench, device_id=body.device_id,
                                                     by=_supervisor(c, request).operator, benches=hub.rules.benches))

    @app.post("/api/v1/stations/{name}/revoke")
    def revoke_station(request: Request, name: str) -> dict[str, Any]:
        return hub.tx(lambda c: auth.revoke_station(c, name, by=_supervisor(c, request).operator))

    @app.post("/api/v1/stations/{name}/bench")
    def move_station(request: Request, name: str, body: StationBenchIn) -> dict[str, Any]:
        return hub.tx(lambda c: auth.move_station(c, name, bench=body.bench, by=_supervisor(c, request).operator,
                                                  benches=hub.rules.benches))

    def _admin(c: Connection, request: Request) -> Actor:
        actor = hub.actor(c, request)
        auth.require(actor, Role.ADMIN)
        return actor

    @app.post("/api/v1/admin/unlock")
    def unlock(request: Request, body: UnlockIn) -> dict[str, Any]:
        return hub.tx(lambda c: {"cleared": auth.unlock(c, operator=body.operator, station=body.station,
                                                        by=_admin(c, request).operator)})

    @app.get("/api/v1/admin/login-attempts")
    def login_attempts(request: Request, operator: str | None = Query(None, max_length=32),
                       limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            _admin(c, request)
            return {"attempts": auth.login_attempts(c, operator=operator, limit=limit)}
        return hub.tx(run)

    @app.get("/api/v1/admin/security-events")
    def security_events(request: Request, limit: int = Query(200, ge=1, le=1000)) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            _admin(c, request)
            return {"events": auth.security_events(c, limit=limit)}
        return hub.tx(run)

    @app.post("/api/v1/admin/operators/{code}/deactivate")
    def deactivate(request: Request, code: str) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            auth.deactivate_operator(c, code, by=_admin(c, request).operator)
            return {"operator": code, "active": False}
        return hub.tx(run)

    @app.get("/api/v1/changes", response_model=None)
    async def changes(request: Request, cursor: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=feed.MAX_LIMIT),
                      wait: float = Query(0, ge=0, le=30)) -> Response:
        if wait <= 0:
            page = await hub.read_async(lambda c: feed.read_changes(c, hub.actor(c, request), cursor, limit))
            return Response(feed.dumps(page), media_type="application/json")

        async def read_page(actor: Actor, cur: int, lim: int) -> feed.Page:
            return feed.Page.of(await hub.read_async(lambda c: feed.read_changes(c, actor, cur, lim)))
        return await longpoll.serve(hub.tail, hub.tokens, read_page, request.headers.get("authorization"),
                                    cursor, limit, wait)

    @app.get("/api/v1/sync/snapshot")
    def snapshot(request: Request, after: str | None = Query(None, max_length=32),
                 limit: int = Query(500, ge=1, le=2000)) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            actor = hub.actor(c, request)
            # The head first: on PostgreSQL each statement sees the commits made before it, so a
            # head read after the page could already count a change the page does not show, and
            # a client starting from that cursor would never see it.
            cursor = feed.head(c)
            return {**feed.working_set(c, actor, after, limit), "cursor": cursor}
        return hub.read(run)

    @app.post("/api/v1/actions")
    def actions(request: Request, body: ActionBatch) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            actor = hub.actor(c, request)
            return process_batch(c, settings, hub.rules, actor, [a.model_dump() for a in body.actions])
        return hub.tx(run, notify=True)

    @app.get("/api/v1/devices/me")
    def device(request: Request) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            actor = hub.actor(c, request)
            row = c.execute(select(db.devices.c.last_applied_seq).where(db.devices.c.device_id == actor.device_id)).first()
            return {"device_id": actor.device_id, "station": actor.station, "last_applied_seq": int(row[0]) if row else 0}
        return hub.read(run)

    def _visible_doc(c: Connection, actor: Actor, order_id: str) -> dict[str, Any]:
        docs = load_docs(c, [order_id.strip().upper()])
        if not docs:
            raise UserError(f"No order {order_id} at the hub.", code="unknown_order")
        doc = next(iter(docs.values()))
        if actor.role == Role.PACKER.value and doc.get("bench") != actor.bench:
            raise auth.Forbidden(f"Order {doc['order_id']} belongs to bench {doc.get('bench')}, not {actor.bench}.")
        return {k: v for k, v in doc.items() if not k.startswith("_")}

    @app.get("/api/v1/orders/{order_id}")
    def get_order(request: Request, order_id: str) -> dict[str, Any]:
        return hub.read(lambda c: _visible_doc(c, hub.actor(c, request), order_id))

    @app.get("/api/v1/orders/{order_id}/audit")
    def get_audit(request: Request, order_id: str) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            doc = _visible_doc(c, hub.actor(c, request), order_id)
            a = db.audit.c
            rows = c.execute(select(db.audit).where(a.order_id == doc["order_id"]).order_by(a.id)).all()
            return {"order_id": doc["order_id"], "entries": [
                {"at": iso(as_utc(r.at)), "operator": r.operator, "station": r.station, "what": r.what,
                 "from_state": r.from_state, "to_state": r.to_state, "why": r.why, "action_id": r.action_id,
                 "details": r.details} for r in rows]}
        return hub.read(run)

    @app.get("/api/v1/orders")
    def search(request: Request, q: str = Query("", max_length=64), state: str | None = Query(None, max_length=20),
               bench: str | None = Query(None, max_length=32), limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            actor = hub.actor(c, request)
            o = db.orders.c
            stmt = select(o.doc)
            text_q = q.strip()
            if text_q:
                # A name prefix: %, _ and the escape character itself match only themselves.
                prefix = text_q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                match = [o.order_id == text_q.upper(), o.channel_order_no == text_q, o.waybill_no == text_q,
                         o.recipient_name.like(prefix + "%", escape="\\")]
                if text_q.isdigit() and len(text_q) == 4:
                    match.append(o.phone_tail == text_q)
                stmt = stmt.where(or_(*match))
            if state:
                stmt = stmt.where(o.state == state)
            if actor.role == Role.PACKER.value:
                stmt = stmt.where(o.bench == actor.bench)
            elif bench:
                stmt = stmt.where(o.bench == bench)
            return {"orders": [r[0] for r in c.execute(stmt.order_by(o.created_at.desc()).limit(limit))]}
        return hub.read(run)

    @app.post("/api/v1/intake/{channel}")
    async def intake_push(channel: str, request: Request) -> dict[str, Any]:
        if channel not in CHANNEL_NAMES:
            raise UserError(f"Unknown channel '{channel}'; known: {', '.join(CHANNEL_NAMES)}.", code="unknown_channel")
        secret = settings.secret_for(channel)
        if secret is None:
            raise UserError(f"This hub takes no pushes for channel '{channel}': no secret is configured for it "
                            "(channel_secrets in the hub settings).", code="channel_not_configured",
                            details={"channel": channel})
        body = await request.body()
        verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER))
        pushed = await run_in_threadpool(parse_push, channel, body)  # up to 1000 orders: off the event loop

        def run(c: Connection) -> dict[str, Any]:
            w = Writer(c, settings, Actor.system(f"intake:{channel}"))
            results = intake(w, hub.rules, pushed, source=channel)  # a channel touches only its own orders
            w.flush()
            return {"accepted": len(results), "orders": results}
        return await run_in_threadpool(hub.tx, run, notify=True)

    @app.post("/api/v1/import")
    async def import_file(request: Request, filename: str = Query(..., min_length=1, max_length=200)) -> Response:
        actor = await run_in_threadpool(hub.tx, lambda c: hub.actor(c, request))
        auth.require(actor, Role.DESK)
        data = await request.body()
        # First pass: everything that refuses the file whole (a bomb, the header, a bad row
        # anywhere, the row cap) happens here, before any order is written.
        file = await run_in_threadpool(read_import, filename, data, max_rows=settings.max_import_rows,
                                       max_uncompressed_bytes=settings.max_import_uncompressed_bytes)
        del data

        def writer_of(chunk: list[IntakeOrder]) -> Callable[[Connection], list[dict[str, Any]]]:
            def write(c: Connection) -> list[dict[str, Any]]:
                w = Writer(c, settings, actor)
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

    @app.get("/api/v1/metrics/summary")
    def metrics(request: Request) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            auth.require(hub.actor(c, request), Role.SUPERVISOR)
            o = db.orders.c
            by_state = {s: n for s, n in c.execute(select(o.state, func.count()).group_by(o.state))}
            holds: dict[str, int] = {}
            for (doc,) in c.execute(select(o.doc).where(o.held.is_(True))):
                for h in doc.get("holds", []):
                    holds[h["type"]] = holds.get(h["type"], 0) + 1
            day = local_day(utcnow(), settings.timezone)
            # As UTC: SQLite drops a zone from the bound value and would compare local wall-clock time.
            start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.timezone)).astimezone(UTC)
            a = db.audit.c
            per_hour: dict[str, int] = {}
            for (at,) in c.execute(select(a.at).where(a.what.in_(["shipped_by_station", "picked_up_by_carrier"]),
                                                      a.at >= start)):
                hour = as_utc(at).astimezone(ZoneInfo(settings.timezone)).strftime("%H:00")
                per_hour[hour] = per_hour.get(hour, 0) + 1
            return {"by_state": by_state, "open_holds": holds, "shipped_per_hour": dict(sorted(per_hour.items()))}
        return hub.read(run)

    @app.post("/api/v1/admin/prune-changes")
    def prune(request: Request, body: PruneIn) -> dict[str, Any]:
        def run(c: Connection) -> dict[str, Any]:
            auth.require(hub.actor(c, request), Role.ADMIN)
            return {"pruned": feed.prune(c, timedelta(seconds=body.older_than_s)),
                    "oldest_cursor": db.read_counter(c, "changes_pruned")}
        return hub.tx(run, notify=True)  # the long-poll tail drops what was pruned

    return app


def _announce(hub: Hub) -> None:
    """At start: seed a demo hub; say which channels are open and how a real hub gets its first admin."""
    settings = hub.settings
    if settings.demo:
        if settings.seed_operators:
            hub.tx(auth.seed_operators)
        log.warning("DEMO hub: demo channel secrets, demo operators and stations approved on first login. "
                    "Never use --demo for a real site (docs/security.md).")
    elif not hub.tx(auth.has_operators):
        log.warning("This hub has no operators. Create the first admin: python main.py hub set-pin A001 "
                    "--name NAME --role admin --pin PIN")
    open_ = settings.open_channels
    refused = [c for c in CHANNEL_NAMES if c not in open_]
    log.log(logging.WARNING if refused else logging.INFO, "intake open for: %s; refused (no secret): %s",
            ", ".join(open_) or "none", ", ".join(refused) or "none")


async def _prune_loop(hub: Hub) -> None:
    while True:
        try:
            await run_in_threadpool(hub.tx, lambda c: feed.prune(c, timedelta(seconds=hub.settings.change_retention_s)))
            await run_in_threadpool(hub.tx, auth.prune_login_records)
        except Exception:
            log.exception("pruning the change feed failed")
        await asyncio.sleep(3600)
