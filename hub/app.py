"""The hub's HTTP app (docs/api.md): FastAPI wired to the routers in ``hub/api/``.

Handlers stay thin: parse, authenticate, run one transaction in the thread pool, answer. Every
error a caller can cause is a 4xx JSON ``{error, message, details}``; anything else is a bug,
logged with its traceback and answered 500 without internals (:mod:`hub.api.http`). This module
only wires: the shared :class:`~hub.api.deps.Hub`, its start and stop, the middleware, the error
handlers and the routers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from core.timeutil import utcnow
from hub import auth, db, feed, stock
from hub.api import (
    admin,
    carriers,
    connectors,
    dashboard,
    intake,
    metrics,
    orders,
    reports,
    split_merge,
    sync,
    tickets,
    tracking,
)
from hub.api import stock as stock_api
from hub.api.deps import Hub
from hub.api.http import BodyLimit, BoundedRoute, ClientVersionGate, UrlText, install_error_handlers
from hub.config import CHANNEL_NAMES, HubSettings

__all__ = ["Hub", "create_app"]

log = logging.getLogger("packdesk.hub.api")


def create_app(settings: HubSettings) -> FastAPI:
    """The hub app for ``settings``: one :class:`Hub` shared by every router (``app.state.hub``)."""
    hub = Hub(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        db.migrate(hub.engine)
        # the rules' static [gift_stock] becomes stock rows once (docs/stock.md); never overwrites a count
        with contextlib.suppress(IntegrityError):  # another hub process on the database seeded them just now
            await run_in_threadpool(hub.tx, lambda c: stock.seed_gift_stock(c, hub.rules, utcnow()))
        _announce(hub)
        hub.notifier.bind(asyncio.get_running_loop())
        hub.longpoll_threads = anyio.CapacityLimiter(8)
        if db.is_postgres(hub.engine):
            hub.notifier.listen_postgres(hub.engine)
        hub.deliverer.start()
        hub.connectors.start()
        hub.tracking.start()
        hub.waybills.start()
        hub.notify.start()
        hub.sla_watch.start()
        pruner = asyncio.create_task(_prune_loop(hub))
        tail = asyncio.create_task(hub.tail.run())
        yield
        pruner.cancel()
        tail.cancel()
        hub.notifier.close()
        await run_in_threadpool(hub.connectors.stop)
        await run_in_threadpool(hub.tracking.stop)
        await run_in_threadpool(hub.waybills.stop)
        await run_in_threadpool(hub.sla_watch.stop)
        await run_in_threadpool(hub.notify.stop)
        await run_in_threadpool(hub.deliverer.stop)
        hub.engine.dispose()
        hub.reader.dispose()

    app = FastAPI(title="PackDesk hub", version="1", lifespan=lifespan)
    app.router.route_class = BoundedRoute
    app.state.hub = hub
    app.add_middleware(BodyLimit, default_limit=settings.max_body_bytes,
                       limits={"/api/v1/import": settings.max_import_bytes,
                               "/api/v1/stock/import": settings.max_import_bytes})
    app.add_middleware(UrlText)
    app.add_middleware(ClientVersionGate, minimum=settings.min_client_version)
    install_error_handlers(app)
    # The carriers' push first: at a peak it is most of the requests, and FastAPI tries routes in order.
    for router in (tracking.router, admin.router, sync.router, orders.router, intake.router, connectors.router, carriers.router,
                   stock_api.router, split_merge.router, tickets.router, metrics.router, dashboard.router,
                   reports.router):
        app.include_router(router)
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
    hub.notify.announce()  # which WeCom robots have a key, whether buyer SMS is on (docs/notifications.md)


async def _prune_loop(hub: Hub) -> None:
    while True:
        try:
            await run_in_threadpool(hub.tx, lambda c: feed.prune(c, timedelta(seconds=hub.settings.change_retention_s)))
            await run_in_threadpool(hub.tx, auth.prune_login_records)
        except Exception:
            log.exception("pruning the change feed failed")
        await asyncio.sleep(3600)
