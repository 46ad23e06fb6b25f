"""What every router shares: the :class:`Hub` (settings, engines, rules, feed, webhooks) and who is asking.

A handler gets the hub through :data:`HubDep` (``request.app.state.hub``, set by
:func:`hub.app.create_app`) and authenticates inside its own transaction with :meth:`Hub.actor` or
:func:`actor_at_least`, so a token check and the work it allows see the same database state.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from core.errors import UserError
from core.roles import Role
from hub import auth, db, feed, longpoll
from hub.api import session_cookie
from hub.carriers import platform_session
from hub.carriers.tracking import TrackingEngine
from hub.carriers.worker import WaybillWorker
from hub.channels.engine import ConnectorEngine
from hub.config import HubSettings
from hub.notify.worker import NotifyWorker
from hub.routing import Rules
from hub.sla_watch import SlaWatcher
from hub.webhooks import Deliverer
from hub.writer import Actor

log = logging.getLogger("packdesk.hub.api")
T = TypeVar("T")


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
        self.connectors = ConnectorEngine(self.tx, settings, self.rules, notify=self._changed, read=self.read)
        # the shops' own e-waybill providers call the platform with the connector's token
        platform_session.use_tokens(self.connectors.tokens)
        self.tracking = TrackingEngine(self.tx, settings, notify=self._changed, read=self.read)
        #: Fetches and cancels e-waybills (hub/carriers/worker.py); woken after every write that may queue one.
        self.waybills = WaybillWorker(self.tx, settings, self.rules, notify=self._changed, read=self.read)
        #: Sends WeCom robot messages and buyer SMS (hub/notify/); woken after every write.
        self.notify = NotifyWorker(self.tx, settings, rules=self.rules, read=self.read)
        #: Tells the WeCom robots once when a ticket's SLA deadline passes (hub/sla_watch.py).
        self.sla_watch = SlaWatcher(self.tx, settings, read=self.read, on_queued=self.notify.wake)
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

    def tx(self, fn: Callable[[Connection], T], *, notify: bool = False, ships: bool = True) -> T:
        """Run ``fn`` in one transaction, retrying a PostgreSQL deadlock/serialisation failure.

        Args:
            notify: wake the long-polls and the workers that may have work from it.
            ships: whether ``fn`` may ship an order; intake never does, and its pushes (hundreds
                a minute at peak) then leave the shop-push and tracking workers asleep: each
                wake-up costs them a read (issue 18).
        """
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    result = fn(conn)
                if notify:
                    self.notifier.notify()
                    self.deliverer.wake()
                    if ships:
                        self.connectors.wake_push()  # an order may have shipped: tell its shop now
                        self.tracking.wake()  # … and subscribe its waybill
                    self.waybills.wake()  # an order may have been allocated or voided: fetch / cancel now
                    self.notify.wake()  # … and a notification may have been queued
                return result
            except (OperationalError, IntegrityError) as exc:
                if attempt == 4 or not _retryable(exc):
                    raise
                log.info("retrying transaction after %s", type(exc.orig).__name__)
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _changed(self) -> None:
        """Orders changed outside a request (the connector engine): wake long-polls and webhooks."""
        self.notifier.notify()
        self.deliverer.wake()
        self.waybills.wake()  # pulled orders may have been allocated
        self.notify.wake()

    def actor(self, conn: Connection, request: Request) -> Actor:
        """The caller: its bearer token, or the dashboard's session cookie on a metrics GET (session_cookie)."""
        return auth.authenticate(conn, session_cookie.authorization(request))


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


async def current_hub(request: Request) -> Hub:
    """The app's hub (async: resolved on the event loop, no thread-pool hop per request)."""
    hub: Hub = request.app.state.hub
    return hub


#: A handler parameter that receives the app's :class:`Hub`.
HubDep = Annotated[Hub, Depends(current_hub)]


def actor_at_least(hub: Hub, conn: Connection, request: Request, role: Role) -> Actor:
    """The caller, who must hold ``role`` or above (401 without a valid token, 403 below the role)."""
    actor = hub.actor(conn, request)
    auth.require(actor, role)
    return actor
