"""Shared set-up of the ticket tests: a hub object over a database, an order, ticket actions at a chosen time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub import auth, db, tickets
from hub.actions import process_batch
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.writer import Actor, Writer

DESK = Actor(operator="D001", station="DESK-1", role="desk", device_id="dev-desk-1")
_nos = itertools.count(1)
_aids = itertools.count(1)


@contextmanager
def make_hub(url: str, **settings: Any) -> Iterator[Hub]:
    """The hub of an app (no lifespan: no workers), migrated, with the demo operators; ``settings``
    are further :class:`HubSettings` fields."""
    app = create_app(HubSettings(database_url=url, demo=True, **settings))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    try:
        yield hub
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


def new_order(hub: Hub) -> str:
    now = utcnow()
    o = IntakeOrder(channel="generic", channel_order_no=f"TK{next(_nos)}", status=ChannelStatus.PAID,
                    recipient=Recipient("张三", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道 1 号"),
                    lines=[OrderLine("SKU-TEA-001", "茶", 1, 1000)], total_fen=1000, created_at=now,
                    channel_updated_at=now, paid_at=now)

    def run(c: Any) -> str:
        w = Writer(c, hub.settings, Actor.system("test"))
        oid = str(intake(w, hub.rules, [o])[0]["order_id"])
        w.flush()
        return oid
    out: str = hub.tx(run)
    return out


def act_at(hub: Hub, at: datetime, order_id: str, kind: str, payload: dict[str, Any],
           actor: Actor = DESK, order_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply one ticket action with the hub's clock at ``at`` (the injected clock); returns the ticket."""
    def run(c: Any) -> dict[str, Any]:
        w = Writer(c, hub.settings, actor)
        w.now = at
        order = {**load_docs(c, [order_id])[order_id], **(order_extra or {})}
        a = {"action_id": f"t{next(_aids)}", "seq": 1, "order_id": order_id, "type": kind, "payload": payload}
        ctx = tickets.Ctx(w, hub.rules.tickets, hub.settings.timezone, a["action_id"])
        doc = tickets.apply_action(ctx, actor, a, order)
        ctx.publish()
        w.flush()
        return doc
    out: dict[str, Any] = hub.tx(run)
    return out


def batch(hub: Hub, actions: list[dict[str, Any]], actor: Actor = DESK) -> list[dict[str, Any]]:
    """``POST /actions`` as the hub runs it (process_batch in one transaction)."""
    res: dict[str, Any] = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, actor, actions))
    return list(res["results"])


def action(order_id: str, kind: str, payload: dict[str, Any], seq: int, action_id: str | None = None) -> dict[str, Any]:
    return {"action_id": action_id or f"b{next(_aids)}", "seq": seq, "order_id": order_id, "type": kind,
            "payload": payload}


def login(hub: Hub, operator: str, *, expires_in: timedelta, role: str = "desk", station: str = "") -> None:
    """A login token (what "on shift" reads), expiring ``expires_in`` from now."""
    def run(c: Any) -> None:
        if c.execute(select(db.operators.c.code).where(db.operators.c.code == operator)).first() is None:
            c.execute(db.operators.insert().values(code=operator, name=operator, role=role, pin_hash="-", active=True))
        c.execute(db.tokens.insert().values(token_hash=f"h-{operator}-{next(_aids)}", operator=operator, role=role,
                                            station=station or f"ST-{operator}", bench=None,
                                            device_id=f"dev-{operator}", expires_at=utcnow() + expires_in))
    hub.tx(run)


@contextmanager
def serve(hub_url: str) -> Iterator[tuple[Hub, str]]:
    """The hub app on 127.0.0.1 (uvicorn on a thread, no lifespan: no background workers): (hub, base URL)."""
    import threading

    import uvicorn

    from tests.helpers.waiting import wait_until
    from tests.hubproc import free_port

    app = create_app(HubSettings(database_url=hub_url, demo=True))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    try:
        yield hub, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.engine.dispose()
        hub.reader.dispose()
