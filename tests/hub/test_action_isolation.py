"""Issue 9 item 6: an action's answer leaks nothing of another bench.

A ``rejected forbidden`` answer to a packer carried the whole order of another bench (buyer's name,
phone, address), and an ``action_id`` another device had used returned that device's stored answer.
Now a refused answer carries only an order the caller may see, and the idempotency key is
(device, action_id). HTTP against a real hub, SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess


def two_benches(hub: HubProcess) -> tuple[Session, list[dict[str, Any]], list[dict[str, Any]]]:
    demo(hub.url, 60, seed=11)
    desk = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    orders = desk.get("/api/v1/orders", limit=1000).json()["orders"]
    free = [o for o in orders if o["state"] == "allocated" and not o["holds"]]
    bench = free[0]["bench"]
    mine = [o for o in free if o["bench"] == bench]
    theirs = [o for o in free if o["bench"] != bench]
    assert len(mine) >= 2 and len(theirs) >= 2
    return desk, mine, theirs


def customer_texts(order: dict[str, Any]) -> list[str]:
    rec = order["recipient"]
    return [t for t in (rec["name"], rec["phone"], rec["address"]) if t]


def test_a_refused_action_on_another_benchs_order_does_not_carry_that_order(hub: HubProcess) -> None:
    _desk, mine, theirs = two_benches(hub)
    packer = Session(hub.url, station=f"{mine[0]['bench']}-PC", bench=mine[0]["bench"]).login()
    victim = theirs[0]
    r = packer.post("/api/v1/actions", {"actions": [
        packer.action(victim["order_id"], "step", {"step": "picked"}, base_version=victim["version"]),
        packer.action(victim["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=0),
        packer.action(victim["order_id"], "cancelled_by_buyer", {"reason": "x"}),  # above a packer's role too
        packer.action(victim["order_id"], "no_such_action", {}),
    ]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [res["outcome"] for res in results] == ["rejected"] * 4, results
    assert all(res["order"] is None for res in results), results
    for text in customer_texts(victim):
        assert text not in r.text
    # The same refusal on the packer's own bench still brings the order back (the client shows it).
    own = packer.do(mine[0]["order_id"], "cancelled_by_buyer", {"reason": "x"})
    assert own["outcome"] == "rejected" and own["order"]["order_id"] == mine[0]["order_id"]


def test_another_devices_action_id_is_processed_as_this_devices_own_action(hub: HubProcess) -> None:
    _desk, mine, theirs = two_benches(hub)
    first = Session(hub.url, operator="P002", station=f"{theirs[0]['bench']}-PC", bench=theirs[0]["bench"]).login()
    second = Session(hub.url, station=f"{mine[0]['bench']}-PC", bench=mine[0]["bench"]).login()
    shared_id = str(uuid.uuid4())
    theirs_done = first.send(first.action(theirs[0]["order_id"], "step", {"step": "picked"}, action_id=shared_id))[0]
    assert theirs_done["outcome"] == "applied"
    r = second.post("/api/v1/actions", {"actions": [
        second.action(mine[0]["order_id"], "step", {"step": "picked"}, action_id=shared_id)]})
    assert r.status_code == 200, r.text
    answer = r.json()["results"][0]
    assert answer["outcome"] == "applied" and answer["order"]["order_id"] == mine[0]["order_id"], answer
    assert theirs[0]["order_id"] not in r.text
    for text in customer_texts(theirs[0]):
        assert text not in r.text
    assert second.order(mine[0]["order_id"])["steps"]["picked"]["by"] == "P001"
    # Each device still gets its own first answer back on a retry.
    again = first.send(first.action(theirs[0]["order_id"], "step", {"step": "picked"}, action_id=shared_id))[0]
    assert again["outcome"] == "duplicate" and again["order"]["order_id"] == theirs[0]["order_id"]
    mine_again = second.send(second.action(mine[0]["order_id"], "step", {"step": "picked"}, action_id=shared_id))[0]
    assert mine_again["outcome"] == "duplicate" and mine_again["order"]["order_id"] == mine[0]["order_id"]


def test_upgrading_keeps_every_stored_answer_and_keys_them_per_device(db_url: str) -> None:
    """Migration 0004 rebuilds action_results with the (device_id, action_id) key; no answer is lost."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, select

    from core.timeutil import utcnow
    from hub import db

    engine = db.make_engine(db_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        with engine.begin() as conn:  # the same columns before and after: only the key changes
            conn.execute(db.action_results.insert().values(device_id="dev-1", action_id="a-1", seq=1, order_id="BL1",
                                                           outcome="applied", at=utcnow(),
                                                           response={"outcome": "applied"}))
        db.migrate(engine)
        with engine.begin() as conn:
            rows = conn.execute(select(db.action_results.c.device_id, db.action_results.c.action_id,
                                       db.action_results.c.response)).all()
            assert [(r.device_id, r.action_id, r.response) for r in rows] == [("dev-1", "a-1", {"outcome": "applied"})]
            conn.execute(db.action_results.insert().values(device_id="dev-2", action_id="a-1", seq=1, order_id="BL2",
                                                           outcome="applied", at=utcnow(), response={}))
        pk = inspect(engine).get_pk_constraint("action_results")["constrained_columns"]
        assert sorted(pk) == ["action_id", "device_id"]
    finally:
        engine.dispose()
