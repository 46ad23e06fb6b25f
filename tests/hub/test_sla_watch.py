"""The SLA watcher (hub/sla_watch.py): a ticket past its deadline is told once per deadline to the WeCom
robots that want ``ticket.overdue``, on SQLite and PostgreSQL, with the clock injected (no sleeps).

The ticket actions run at chosen times (``act_at``: the writer's clock) and each sweep is given its
time, so "the deadline passes" is a clock moved past it, not a wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from hub import auth, db, sla_watch
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from hub.notify import queue
from tests.hub.ticket_helpers import act_at, login, make_hub, new_order

KEY = "11111111-2222-4333-8444-555555555555"
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # urge_ship in the default rules: reply 30 min, close 24 h


def robot_hub(url: str) -> AbstractContextManager[Hub]:
    """A hub (no workers) whose robots ``east`` (WH-SH) and ``west`` have a key: ``ticket.overdue`` is queued."""
    return make_hub(url, wecom_robot_keys={"east": KEY, "west": KEY}, wecom_base_url="http://127.0.0.1:9/unused")


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    with robot_hub(db_url) as h:
        yield h


def sweep(hub: Hub, at: datetime) -> int:
    n: int = hub.tx(lambda c: sla_watch.sweep(c, hub.settings, at))
    return n


def told(hub: Hub, order_id: str) -> list[dict[str, Any]]:
    return [r for r in hub.read(lambda c: queue.rows_of(c, order_id)) if r["event"] == "ticket.overdue"]


def content(row: dict[str, Any]) -> str:
    return str(row["body"]["text"]["content"])


def test_a_deadline_is_told_once_a_chase_does_not_tell_it_again_a_new_deadline_does(hub: Hub) -> None:
    oid = new_order(hub)
    warehouse = hub.read(lambda c: c.execute(select(db.orders.c.warehouse).where(db.orders.c.order_id == oid))
                         .scalar_one())
    login(hub, "D001", expires_in=timedelta(hours=8))
    act_at(hub, T0, oid, "ticket_opened", {"ticket_id": "S1", "type": "urge_ship", "channel": "phone"})
    assert sweep(hub, T0 + timedelta(minutes=29)) == 0 and told(hub, oid) == []
    # The first-reply deadline (01:30) passes: one message to the robot of the order's region.
    assert sweep(hub, T0 + timedelta(minutes=47)) == 1
    [row] = told(hub, oid)
    assert row["target"] == ("east" if warehouse == "WH-SH" else "west") and row["channel"] == "wecom"
    words = content(row)
    assert words.splitlines()[0] == "【工单超过处理时限】"
    assert "工单 S1：催发货" in words and f"订单 {oid}（generic TK" in words
    assert "首次回复时限 11-30 09:30，已超时 17 分钟" in words  # Asia/Shanghai
    assert "处理人 " in words and "D001" in words and f"仓库 {warehouse}" in words
    # Later sweeps, and a chase that joins the waiting episode (same deadline), tell nothing more.
    act_at(hub, T0 + timedelta(minutes=50), oid, "ticket_contact", {"ticket_id": "S1", "channel": "wecom"})
    assert sweep(hub, T0 + timedelta(hours=1)) == 0 and len(told(hub, oid)) == 1
    # A late reply: the deadline is now the close (24 h after opening) — a new one, told when it passes.
    act_at(hub, T0 + timedelta(hours=2), oid, "ticket_replied", {"ticket_id": "S1", "channel": "phone", "text": "在查"})
    assert sweep(hub, T0 + timedelta(hours=23)) == 0
    assert sweep(hub, T0 + timedelta(hours=25, minutes=5)) == 1
    second = told(hub, oid)[1]
    assert "关闭时限 12-01 09:00，已超时 1 小时 5 分钟" in content(second)
    # Closed: nothing is armed; reopened: a new close deadline, told once more when it passes.
    act_at(hub, T0 + timedelta(hours=26), oid, "ticket_closed", {"ticket_id": "S1", "resolution": "已发出"})
    assert sweep(hub, T0 + timedelta(days=3)) == 0
    act_at(hub, T0 + timedelta(days=3), oid, "ticket_reopened", {"ticket_id": "S1", "reason": "客户未收到"})
    assert sweep(hub, T0 + timedelta(days=4, minutes=1)) == 1
    assert len(told(hub, oid)) == 3 and "已超时 1 分钟" in content(told(hub, oid)[2])
    # A restart between queueing and marking (the mark lost, the deadline armed again): the queue row's key
    # (ticket + deadline) keeps it to one message.
    t = db.tickets.c
    hub.tx(lambda c: c.execute(update(db.tickets).where(t.ticket_id == "S1")
                               .values(sla_watch_at=t.due_at, sla_notified_due=None)))
    assert sweep(hub, T0 + timedelta(days=4, minutes=2)) == 1  # handled (marked) …
    assert len(told(hub, oid)) == 3  # … and still three messages


def test_two_hubs_sweeping_at_once_tell_each_deadline_once(db_url: str) -> None:
    with robot_hub(db_url) as one, robot_hub(db_url) as two:
        oid = new_order(one)
        for i in range(40):
            act_at(one, T0 + timedelta(seconds=i), oid, "ticket_opened",
                   {"ticket_id": f"M{i}", "type": "urge_ship", "channel": "phone"})
        barrier = threading.Barrier(2)
        handled: list[int] = []
        errors: list[BaseException] = []

        def run(h: Hub) -> None:
            try:
                barrier.wait()
                while n := h.tx(lambda c: sla_watch.sweep(c, h.settings, T0 + timedelta(hours=1), limit=7)):
                    handled.append(n)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
        threads = [threading.Thread(target=run, args=(h,)) for h in (one, two)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert sum(handled) == 40
        assert len(told(one, oid)) == 40
        armed = one.read(lambda c: c.execute(select(func.count()).where(db.tickets.c.sla_watch_at.is_not(None)))
                         .scalar_one())
        assert armed == 0


def test_the_worker_round_wakes_the_sender_and_a_deadline_nobody_wants_is_disarmed(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    app = create_app(HubSettings(database_url=url, demo=True))  # no robot key: nothing can be told
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    try:
        oid = new_order(hub)
        act_at(hub, T0, oid, "ticket_opened", {"ticket_id": "N1", "type": "urge_ship", "channel": "phone"})
        woken: list[bool] = []
        watcher = sla_watch.SlaWatcher(hub.tx, hub.settings, read=hub.read, on_queued=lambda: woken.append(True),
                                       clock=lambda: T0 + timedelta(minutes=10))
        assert watcher.round() is False and woken == []
        watcher.clock = lambda: T0 + timedelta(hours=1)
        assert watcher.round() is False and woken == [True]
        assert told(hub, oid) == []
        t = db.tickets.c
        assert hub.read(lambda c: c.execute(select(t.sla_watch_at, t.sla_notified_due).where(t.ticket_id == "N1"))
                        .one()) == (None, hub.read(lambda c: c.execute(select(t.due_at)).scalar_one()))
        # The sweep's query reads the index, not every overdue ticket (SQLite's plan says so).
        plan = hub.read(lambda c: " ".join(str(r[-1]) for r in c.execute(text(
            "EXPLAIN QUERY PLAN SELECT ticket_id FROM tickets WHERE sla_watch_at <= :n ORDER BY sla_watch_at LIMIT 200"),
            {"n": "2026-12-01"})))
        assert "ix_tickets_sla_watch" in plan
    finally:
        hub.engine.dispose()
        hub.reader.dispose()


@pytest.mark.parametrize(("minutes", "words"), [(0, "不到 1 分钟"), (17, "17 分钟"), (60, "1 小时"),
                                                 (65, "1 小时 5 分钟"), (1440, "1 天"), (1500, "1 天 1 小时")])
def test_how_late_in_chinese(minutes: int, words: str) -> None:
    assert sla_watch.how_late(timedelta(minutes=minutes, seconds=20)) == words
