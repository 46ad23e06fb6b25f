"""Customer tickets at the hub (hub/tickets.py, docs/tickets.md): actions through the batch with
dedupe, assignment rules, the SLA clock with an injected clock, auto-opening from a failed delivery,
the rules' ``[tickets]`` section and the tickets' place in the change feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from core.errors import ValidationFailed
from core.states import State, Trigger
from core.sync.client import HubClient
from core.tickets import sla_state
from core.timeutil import utcnow
from hub import db, feed, tickets
from hub.api.deps import Hub
from hub.carriers.tracking import apply_history
from hub.orders import load_docs
from hub.routing import Rules
from hub.ticket_rules import TicketRules, TypeRule
from hub.writer import Actor, Writer
from tests.helpers.fake_http import FakeHTTPServer, send_json
from tests.helpers.hubapi import bearer
from tests.hub.ticket_helpers import DESK, act_at, action, batch, login, make_hub, new_order, serve

PACKER = Actor(operator="P001", station="B1-PC", role="packer", bench="B1", device_id="dev-p1")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with make_hub(f"sqlite:///{tmp_path / 'hub.db'}") as h:
        yield h


def count(hub: Hub, table: Any) -> int:
    n: int = hub.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())
    return n


def test_a_desk_queues_open_and_reply_offline_and_a_resent_batch_is_answered_not_reapplied(hub: Hub) -> None:
    oid = new_order(hub)
    acts = [action(oid, "ticket_opened", {"ticket_id": "T-desk-1", "type": "urge_ship", "channel": "phone",
                                          "text": "客户催发货"}, 1),
            action(oid, "ticket_replied", {"ticket_id": "T-desk-1", "channel": "phone", "text": "今天发出"}, 2)]
    first = batch(hub, acts)
    assert [r["outcome"] for r in first] == ["applied", "applied"], first
    t = first[1]["ticket"]
    assert (t["status"], t["contacts"], t["replies"], t["waiting_since"]) == ("open", 1, 1, None)
    assert t["first_reply_at"] is not None and t["version"] == 2
    again = batch(hub, acts)
    assert [r["outcome"] for r in again] == ["duplicate", "duplicate"]
    assert count(hub, db.ticket_events) == 4  # opened, contact, assigned, replied: once
    assert count(hub, db.ticket_episodes) == 1


def test_refused_ticket_actions_leave_nothing_and_say_why(hub: Hub) -> None:
    oid = new_order(hub)
    opened = {"ticket_id": "T1", "type": "complaint", "channel": "wecom"}
    res = batch(hub, [
        action(oid, "ticket_opened", {**opened, "type": "nonsense"}, 1),
        action(oid, "ticket_opened", {"ticket_id": "T1", "type": "complaint"}, 2),  # no channel
        action(oid, "ticket_opened", {**opened, "ticket_id": "x" * 41}, 3),
        action(oid, "ticket_replied", {"ticket_id": "nope", "channel": "phone", "text": "hi"}, 4),
        action(oid, "ticket_opened", {**opened, "at": "2099-01-01T00:00:00Z"}, 5),
        action(oid, "ticket_opened", {**opened, "at": "yesterday"}, 6),
        action("BL00000000-000000", "ticket_opened", opened, 7),
    ])
    assert [(r["outcome"], r["error"]) for r in res] == [
        ("rejected", "bad_payload"), ("rejected", "bad_payload"), ("rejected", "bad_payload"),
        ("rejected", "unknown_ticket"), ("rejected", "bad_payload"), ("rejected", "bad_payload"),
        ("rejected", "unknown_order")]
    assert "future" in res[4]["reason"]
    assert count(hub, db.tickets) == count(hub, db.ticket_events) == count(hub, db.ticket_episodes) == 0
    assert hub.read(lambda c: feed.read_changes(c, DESK, 0, 100, feed.KINDS))["changes"][-1].get("kind") is None
    # a packer may not work tickets; a ticket named on another order is unknown there
    assert batch(hub, [action(oid, "ticket_opened", opened, 1)], PACKER)[0]["error"] == "forbidden"
    assert batch(hub, [action(oid, "ticket_opened", opened, 8)])[0]["outcome"] == "applied"
    other = new_order(hub)
    res = batch(hub, [action(other, "ticket_closed", {"ticket_id": "T1", "resolution": "x"}, 9),
                      action(oid, "ticket_opened", opened, 10),
                      action(oid, "ticket_reopened", {"ticket_id": "T1", "reason": "x"}, 11),
                      action(oid, "ticket_assigned", {"ticket_id": "T1", "assignee": "P001"}, 12),
                      action(oid, "ticket_closed", {"ticket_id": "T1", "resolution": "已发货"}, 13),
                      action(oid, "ticket_closed", {"ticket_id": "T1", "resolution": "again"}, 14)])
    assert [(r["outcome"], r["error"]) for r in res] == [
        ("rejected", "unknown_ticket"), ("rejected", "ticket_exists"), ("rejected", "illegal_transition"),
        ("rejected", "bad_payload"), ("applied", None), ("rejected", "illegal_transition")]
    assert res[5]["ticket"]["status"] == "closed"  # the refusal shows the ticket as it is


def test_assignment_vip_to_the_named_person_else_round_robin_among_desk_staff_on_shift(hub: Hub) -> None:
    now = utcnow()
    oid = new_order(hub)
    # Nobody on shift: the ticket waits unassigned in the queue.
    t = act_at(hub, now, oid, "ticket_opened", {"ticket_id": "N1", "type": "other", "channel": "sms"})
    assert t["assignee"] is None and t["events"][0]["kind"] == "assigned"
    login(hub, "D001", expires_in=timedelta(hours=8))
    login(hub, "D002", expires_in=timedelta(hours=8))
    login(hub, "D003", expires_in=timedelta(hours=-1))  # logged in yesterday: the token has expired
    login(hub, "P001", expires_in=timedelta(hours=8), role="packer")  # a packer is not desk staff
    got = [act_at(hub, now, oid, "ticket_opened", {"ticket_id": f"R{i}", "type": "urge_ship", "channel": "phone"}
                  )["assignee"] for i in range(4)]
    assert got == ["D001", "D002", "D001", "D002"]
    # VIP orders go to the named person (on shift or not); a type with its own list uses only that list.
    rules = TicketRules(vip_assignee="S001", types={"complaint": TypeRule(timedelta(minutes=30), timedelta(hours=24),
                                                                          ("D002", "D003"))})
    assert hub.read(lambda c: tickets.pick_assignee(c, rules, "other", True, now)) == ("S001", "vip")
    picks = hub.tx(lambda c: [tickets.pick_assignee(c, rules, "complaint", False, now) for _ in range(2)])
    assert picks == [("D002", "round_robin"), ("D002", "round_robin")]  # D003 is off shift
    vip = act_at(hub, now, oid, "ticket_opened", {"ticket_id": "V1", "type": "other", "channel": "phone"},
                 order_extra={"flags": ["vip"]})
    assert vip["vip"] is True and vip["assignee"] == "D001"  # the default rules name no VIP person
    # a desk operator hands it to someone by hand
    t = act_at(hub, now, oid, "ticket_assigned", {"ticket_id": "V1", "assignee": "S001"})
    assert t["assignee"] == "S001" and t["events"][0]["kind"] == "assigned"


def test_sla_clock_due_soon_overdue_and_stopped_by_reply_and_close(hub: Hub) -> None:
    # urge_ship in the default rules: first reply within 30 min, closed within 24 h; due soon 30 min before.
    t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    oid = new_order(hub)
    rules = hub.rules.tickets
    t = act_at(hub, t0, oid, "ticket_opened", {"ticket_id": "S1", "type": "urge_ship", "channel": "phone"})
    assert (t["reply_due_at"], t["close_due_at"], t["due_at"]) == (
        "2026-11-30T01:30:00Z", "2026-12-01T01:00:00Z", "2026-11-30T01:30:00Z")
    due = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    soon = rules.due_soon
    assert sla_state(due, t0, timedelta(minutes=10)) == "ok"
    assert sla_state(due, t0, soon) == "due_soon"  # 30 min before the deadline already
    assert sla_state(due, due - timedelta(seconds=1), soon) == "due_soon"
    assert sla_state(due, due, soon) == "overdue"

    def listed(now: datetime, **kw: Any) -> list[str]:
        return [x["ticket_id"] for x in hub.read(lambda c: tickets.list_tickets(c, DESK, rules, now, **kw))]
    assert listed(t0 + timedelta(minutes=29), overdue=True) == []
    assert listed(t0 + timedelta(minutes=31), overdue=True) == ["S1"]
    [row] = hub.read(lambda c: tickets.list_tickets(c, DESK, rules, t0 + timedelta(minutes=31)))
    assert row["sla"]["state"] == "overdue"
    # A late reply stops the reply clock; the close clock (24 h from the contact) is what is due now.
    t = act_at(hub, t0 + timedelta(minutes=40), oid, "ticket_replied", {"ticket_id": "S1", "channel": "phone",
                                                                        "text": "在查"})
    assert (t["reply_due_at"], t["due_at"]) == (None, "2026-12-01T01:00:00Z")
    assert listed(t0 + timedelta(hours=2), overdue=True) == []
    # The customer chases again: a new reply clock from that contact.
    t = act_at(hub, t0 + timedelta(hours=3), oid, "ticket_contact", {"ticket_id": "S1", "channel": "wecom"})
    assert (t["waiting_since"], t["due_at"]) == ("2026-11-30T04:00:00Z", "2026-11-30T04:30:00Z")
    t = act_at(hub, t0 + timedelta(hours=5), oid, "ticket_closed", {"ticket_id": "S1", "resolution": "已发出"})
    assert t["due_at"] is None and t["waiting_since"] is None
    assert listed(t0 + timedelta(days=3), status="all")[0] == "S1"
    assert sla_state(None, t0, soon) == "done"
    # Reopened by staff: the close clock starts again from the reopening.
    t = act_at(hub, t0 + timedelta(hours=6), oid, "ticket_reopened", {"ticket_id": "S1", "reason": "客户未收到"})
    assert (t["status"], t["reopened"], t["close_due_at"]) == ("open", 1, "2026-12-01T07:00:00Z")
    assert listed(t0 + timedelta(hours=7), mine=True) == []  # nobody was on shift: not D001's
    assert listed(t0 + timedelta(hours=7), type_="urge_ship", order_id=oid.lower()) == ["S1"]
    assert listed(t0 + timedelta(hours=7), type_="complaint") == []


def test_a_failed_delivery_opens_one_ticket_for_the_desk_without_starting_the_customer_clock(hub: Hub) -> None:
    oid = new_order(hub)

    def fail(c: Any, text: str) -> None:
        w = Writer(c, hub.settings, Actor.system("tracking"))
        doc = load_docs(c, [oid], for_update=True)[oid]
        if doc["state"] != State.SHIPPED.value:
            doc["waybill_no"] = doc.get("waybill_no") or "YT0000000001"
            for trig in (Trigger.LABEL_PRINTED, Trigger.SHIPPED_BY_STATION):
                w.transition(doc, trig, why="test")
        doc["holds"] = []
        apply_history(w, doc, [{"at": "2026-12-01T03:00:00Z", "place": "上海", "text": text, "status": "refused"}])
        w.flush()
    hub.tx(lambda c: fail(c, "收件人拒收"))
    [t] = hub.read(lambda c: tickets.list_tickets(c, DESK, hub.rules.tickets, utcnow()))
    assert (t["order_id"], t["type"], t["source"], t["contacts"], t["waiting_since"]) == (oid, "tracking", "tracking",
                                                                                           0, None)
    assert "派送失败" in t["events"][-1]["text"]
    assert count(hub, db.ticket_episodes) == 0  # no customer contact yet: not in the touchpoint metric
    assert hub.read(lambda c: tickets.open_count(c, oid)) == 1


def test_the_rules_file_tickets_section_is_checked_at_load(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "resources/rules"
    base = (shipped / "default.toml").read_text(encoding="utf-8")
    (tmp_path / "catalogue.csv").write_bytes((shipped / "catalogue.csv").read_bytes())
    cut = base[:base.index("[tickets]")]
    for bad, key in [("[tickets]\nvip_asignee = 'S001'\n", "tickets.vip_asignee"),
                     ("[tickets.types.refund]\nreply_minutes = 5\n", "tickets.types.refund"),
                     ("[tickets.types.complaint]\nreply_minutes = 0\n", "tickets.types.complaint.reply_minutes"),
                     ("[tickets.types.complaint]\nassign = 'D001'\n", "tickets.types.complaint.assign")]:
        path = tmp_path / "rules.toml"
        path.write_text(cut + bad, encoding="utf-8")
        with pytest.raises(ValidationFailed) as err:
            Rules.load(path)
        assert err.value.details["key"] == key, bad
    path.write_text(cut + "[tickets]\ndue_soon_minutes = 10\n[tickets.types.complaint]\nassign = ['D009']\n",
                    encoding="utf-8")
    r = Rules.load(path).tickets
    assert (r.due_soon, r.rule("complaint").assign, r.rule("other").reply) == (
        timedelta(minutes=10), ("D009",), timedelta(hours=2))


def test_tickets_travel_in_the_feed_only_to_who_asks_and_a_client_skips_kinds_it_does_not_know(hub: Hub) -> None:
    oid = new_order(hub)
    assert batch(hub, [action(oid, "ticket_opened", {"ticket_id": "F1", "type": "tracking", "channel": "phone"},
                              1)])[0]["outcome"] == "applied"
    both = hub.read(lambda c: feed.read_changes(c, DESK, 0, 100, feed.KINDS))
    kinds = [ch.get("kind", "order") for ch in both["changes"]]
    assert kinds == ["order", "ticket"]
    assert both["changes"][1]["ticket"]["ticket_id"] == "F1" and both["changes"][1]["order_id"] == oid
    orders_only = hub.read(lambda c: feed.read_changes(c, DESK, 0, 100))
    assert [ch["order"]["order_id"] for ch in orders_only["changes"]] == [oid]
    assert orders_only["next_cursor"] == both["next_cursor"]
    # A packer asking for every kind still gets no ticket (the order itself only if it is at their bench).
    for_packer = hub.read(lambda c: feed.read_changes(c, PACKER, 0, 100, feed.KINDS))["changes"]
    assert [ch.get("kind", "order") for ch in for_packer] in ([], ["order"])
    with pytest.raises(Exception, match="Unknown entity kind"):
        feed.parse_kinds("order,parcel")
    # The long-poll buffer filters the same way.
    tail = feed.ChangeTail(lambda fn: None, feed.Notifier(), fallback_s=1)  # type: ignore[arg-type, return-value]
    tail.start, tail.head = 0, 0
    _lo, top, _pruned, rows = hub.read(lambda c: tail._fetch(c, 0))
    tail._rows, tail.head = rows, top
    page = tail.page(DESK, 0, 100)
    assert page is not None and page.count == 1
    page_all = tail.page(DESK, 0, 100, feed.KINDS)
    assert page_all is not None and page_all.count == 2
    # Today's bench client, handed a feed page with a ticket and a kind nobody knows yet, keeps the orders.
    body = dict(both)
    body["changes"] = [*both["changes"], {"seq": 99, "kind": "parcel", "order_id": oid, "parcel": {}}]
    with FakeHTTPServer(lambda h, _b: send_json(h, 200, json.loads(json.dumps(body)))) as server:
        client = HubClient(server.url)
        page = client.changes(0)
    assert [c["order_id"] for c in page.changes] == [oid] and page.next_cursor == both["next_cursor"]


def test_tickets_over_http(tmp_path: Path) -> None:
    with serve(f"sqlite:///{tmp_path / 'hub.db'}") as (hub, url), requests.Session() as http:
        def token(who: str, pin: str, bench: str | None = None) -> dict[str, str]:
            return bearer(url, who, pin, bench)

        def get(path: str, who: dict[str, str], **params: Any) -> requests.Response:
            return http.get(url + path, headers=who, params=params, timeout=10)
        desk, packer = token("D001", "2222"), token("P001", "1111", "B1")
        oid = new_order(hub)
        r = http.post(url + "/api/v1/actions", headers=desk, timeout=10, json={"actions": [action(
            oid, "ticket_opened", {"ticket_id": "H1", "type": "return_refund", "channel": "shop_chat"}, 1)]})
        assert r.json()["results"][0]["outcome"] == "applied", r.text
        listed = get("/api/v1/tickets", desk, mine="true").json()
        assert [t["ticket_id"] for t in listed["tickets"]] == ["H1"]  # D001 is the one desk login on shift
        assert listed["tickets"][0]["sla"]["state"] == "ok" and listed["cursor"] == 2  # the order, the ticket
        one = get("/api/v1/tickets/H1", desk).json()
        assert [e["kind"] for e in one["events"]] == ["opened", "contact", "assigned"]
        assert get("/api/v1/tickets/NOPE", desk).status_code == 404
        assert get("/api/v1/tickets", packer).status_code == 403
        assert get("/api/v1/tickets", desk, type="x").status_code == 400
        assert get("/api/v1/tickets", desk, status="x").status_code in (400, 422)
        ch = get("/api/v1/changes", desk, kinds="order,ticket").json()["changes"]
        assert [c.get("kind", "order") for c in ch] == ["order", "ticket"]
        assert [c.get("kind", "order") for c in get("/api/v1/changes", desk).json()["changes"]] == ["order"]
        assert get("/api/v1/changes", desk, kinds="x").status_code == 400
        # the long-poll path (the tail's buffer) filters by kind too
        ch = get("/api/v1/changes", desk, kinds="ticket", wait=1).json()["changes"]
        assert [c.get("kind") for c in ch] == ["ticket"]
