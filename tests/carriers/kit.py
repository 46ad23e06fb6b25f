"""What the e-waybill tests share: an in-process hub (its Hub object: real SQLite or PostgreSQL,
the real writer, queue and worker; no HTTP server, no thread: a test runs the worker's rounds
itself), a fake 快递鸟, and orders pushed through the real intake path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub import db
from hub.api.deps import Hub
from hub.carriers import queue, store
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.writer import Actor, Writer
from tests.carriers.fake_kdniao import FakeKdniao

SENDER = {"name": "华东仓", "phone": "02166668888", "province": "上海市", "city": "上海市", "district": "青浦区",
          "address": "华新镇华志路 100 号"}
#: Secret values the tests look for in logs and answers: none may ever appear.
CUSTOMER_PWD = "cust-pwd-9d1e"


def make_hub(db_url: str) -> Hub:
    hub = Hub(HubSettings(database_url=db_url))
    db.migrate(hub.engine)
    hub.waybills.timeout_s = 0.5  # a "slow" fake answer (3 s) is a timeout
    return hub


def add_kdniao(hub: Hub, fake: FakeKdniao, carrier: str = "ZTO", *, app_key: str | None = None) -> int:
    settings = {"EBusinessID": fake.business_id, "AppKey": app_key or fake.app_key, "CustomerName": "ZT-0001",
                "CustomerPwd": CUSTOMER_PWD}
    aid: int = hub.tx(lambda c: store.add(c, carrier=carrier, provider="kdniao", base_url=fake.url, sender=SENDER,
                                          settings=settings))
    return aid


def push(hub: Hub, nos: list[str], *, district: str = "浦东新区", status: ChannelStatus = ChannelStatus.PAID) -> list[str]:
    """Orders to Shanghai (warehouse WH-SH, carrier ZTO by the default rules), paid unless said; their order IDs."""
    now = utcnow()
    sku = next(iter(hub.rules.catalogue))
    orders = [IntakeOrder(channel="generic", channel_order_no=no, status=status,
                          recipient=Recipient("张三", "13800138000", "上海市", "上海市", district, "世纪大道 1 号"),
                          lines=[OrderLine(sku, "保温杯", 2, 5900)], total_fen=11800, created_at=now,
                          channel_updated_at=now, paid_at=now) for no in nos]

    def run(c: Any) -> list[str]:
        w = Writer(c, hub.settings, Actor.system("test"))
        out = [r["order_id"] for r in intake(w, hub.rules, orders)]
        w.flush()
        return out
    ids: list[str] = hub.tx(run)
    return ids


def order_id_of(hub: Hub, channel_order_no: str) -> str:
    oid: str = hub.read(lambda c: c.execute(select(db.orders.c.order_id).where(
        db.orders.c.channel_order_no == channel_order_no)).scalar_one())
    return oid


def order(hub: Hub, order_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = hub.read(lambda c: load_docs(c, [order_id])[order_id])
    return doc


def in_tx(hub: Hub, order_id: str, fn: Callable[[Writer, dict[str, Any]], None]) -> None:
    """Run ``fn(writer, order)`` in one transaction, as an action handler would."""
    def run(c: Any) -> None:
        docs = load_docs(c, [order_id], for_update=True)
        w = Writer(c, hub.settings, Actor.system("test"))
        w.track(docs)
        w.note(docs[order_id], "test_step")  # as every real path does first (a transition, a step)
        fn(w, docs[order_id])
        w.flush()
    hub.tx(run)


def make_due(hub: Hub) -> None:
    """Skip the back-off: every waiting row is due now (the worker's delays are tested on their own)."""
    hub.tx(lambda c: c.execute(update(db.waybill_queue).where(queue.Q.done_at.is_(None), queue.Q.refused_at.is_(None))
                               .values(next_attempt_at=utcnow() - timedelta(seconds=1))))


def rows(hub: Hub, order_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = hub.read(lambda c: queue.rows_of(c, order_id))
    return out


def feed_docs(hub: Hub, order_id: str) -> list[dict[str, Any]]:
    """The order as each of its change-feed rows carries it to the benches, oldest first."""
    return hub.read(lambda c: [dict(r.doc) for r in c.execute(
        select(db.changes.c.doc).where(db.changes.c.order_id == order_id).order_by(db.changes.c.seq))])


def audit_whats(hub: Hub, order_id: str) -> list[str]:
    return hub.read(lambda c: [r.what for r in c.execute(
        select(db.audit.c.what).where(db.audit.c.order_id == order_id).order_by(db.audit.c.id))])
