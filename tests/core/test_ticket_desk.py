"""The desk's local tickets (store version 8): hub document + queued actions, one transaction, conflicts kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.actions import BadPayload, Forbidden
from core.errors import IllegalTransition
from core.outbox import Outbox, UnknownOrder
from core.store import LocalStore, open_store
from core.ticket_desk import TicketDesk, TicketsChanged
from core.ticket_view import PreparedRows, QueueFilter, TicketExists, UnknownTicket, filter_rows, make_row
from core.timeutil import iso, parse_iso, utcnow
from tests.helpers.snapshots import snapshot

OID = "BL20261125-000001"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "desk.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(OID, version=4)])
    yield s
    s.close()


def _hub_doc(tid: str, version: int, **kw: Any) -> dict[str, Any]:
    now = utcnow()
    doc = {"ticket_id": tid, "order_id": OID, "type": "tracking", "status": "open", "source": "phone", "vip": False,
           "assignee": "D001", "opened_at": iso(now), "opened_by": "D001", "contacts": 1,
           "last_contact_at": iso(now), "waiting_since": iso(now), "first_reply_at": None, "last_reply_at": None,
           "replies": 0, "closed_at": None, "closed_by": None, "resolution": None, "reopened": 0,
           "clock_from": iso(now), "reply_due_at": iso(now + timedelta(minutes=15)),
           "close_due_at": iso(now + timedelta(hours=4)), "due_at": iso(now + timedelta(minutes=15)),
           "version": version, "updated_at": iso(now), "events": []}
    doc.update(kw)
    return doc


def test_open_reply_close_reopen_offline_queue_in_order_and_show_at_once(store: LocalStore) -> None:
    desk = TicketDesk(Outbox(store))
    seen: list[TicketsChanged] = []
    desk.tickets_changed.connect(seen.append)
    tid = desk.new_ticket_id()
    t = desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "phone",
                                            "text": "包裹到哪了"}, "D001", role="desk")
    assert t.status == "open" and t.pending == 1 and t.doc["contacts"] == 1 and t.doc["waiting_since"]
    assert t.doc["due_at"] is not None and t.hub_version == 0
    t = desk.perform(OID, "ticket_replied", {"ticket_id": tid, "channel": "phone", "text": "已催快递"}, "D001")
    assert t.doc["waiting_since"] is None and t.doc["replies"] == 1 and t.pending == 2
    t = desk.perform(OID, "ticket_closed", {"ticket_id": tid, "resolution": "已解决"}, "D001")
    assert t.status == "closed" and t.doc["due_at"] is None
    with pytest.raises(IllegalTransition):
        desk.perform(OID, "ticket_closed", {"ticket_id": tid, "resolution": "again"}, "D001")
    t = desk.perform(OID, "ticket_reopened", {"ticket_id": tid, "reason": "客户不满意"}, "D001")
    assert t.status == "open" and t.doc["reopened"] == 1
    queued = store.pending_actions()
    assert [a.type for a in queued] == ["ticket_opened", "ticket_replied", "ticket_closed", "ticket_reopened"]
    assert {a.order_id for a in queued} == {OID} and all(a.payload["ticket_id"] == tid for a in queued)
    assert [s.ids for s in seen] == [[tid]] * 4
    # The order view is untouched by ticket actions (they are skipped by its overlay) but counts them pending.
    order = store.get_order(OID)
    assert order is not None and order.state == snapshot(OID)["state"] and order.pending == 4


def test_refused_before_writing(store: LocalStore) -> None:
    desk = TicketDesk(Outbox(store))
    tid = desk.new_ticket_id()
    with pytest.raises(Forbidden):
        desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "phone"}, "P001",
                     role="packer")
    with pytest.raises(BadPayload):
        desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "nonsense", "channel": "phone"}, "D001")
    with pytest.raises(BadPayload):
        desk.perform(OID, "ticket_replied", {"ticket_id": tid, "channel": "phone", "text": "x" * 2001}, "D001")
    with pytest.raises(UnknownOrder):
        desk.perform("BL20990101-000009", "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "sms"},
                     "D001")
    with pytest.raises(UnknownTicket):
        desk.perform(OID, "ticket_replied", {"ticket_id": tid, "channel": "phone", "text": "hi"}, "D001")
    desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "sms"}, "D001")
    with pytest.raises(TicketExists):
        desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "sms"}, "D001")
    assert store.pending_count() == 1 and len(store.tickets()) == 1
    # A scanned waybill or the shop's order number names the order too.
    snap = snapshot(OID)
    assert desk.order_for(snap["waybill_no"]) == OID and desk.order_for(snap["channel_order_no"]) == OID
    assert desk.order_for(OID.lower()) == OID and desk.order_for(" nothing ") == "NOTHING"


def test_hub_documents_and_pending_actions_overlay(store: LocalStore) -> None:
    desk = TicketDesk(Outbox(store))
    with store.write() as conn:
        store.apply_ticket_docs(conn, [_hub_doc("T1", 3)])
    t = desk.perform(OID, "ticket_replied", {"ticket_id": "T1", "channel": "wecom", "text": "在处理"}, "D001")
    assert t.doc["replies"] == 1 and t.hub_version == 3
    # The reply recomputes the deadline with the type's durations read from the hub's (15 min reply, 4 h close).
    assert parse_iso(t.doc["due_at"]) == parse_iso(t.doc["close_due_at"])
    with store.write() as conn:  # a newer hub document without our reply does not hide it; an older one is ignored
        store.apply_ticket_docs(conn, [_hub_doc("T1", 4, assignee="D002"), _hub_doc("T1", 2, assignee="X")])
    t2 = store.get_ticket("T1")
    assert t2 is not None and t2.doc["assignee"] == "D002" and t2.doc["replies"] == 1 and t2.hub_version == 4
    [action] = store.pending_actions()
    hub_after = _hub_doc("T1", 5, replies=1, waiting_since=None)
    changed: list[str] = []
    store.apply_results([action], [{"action_id": action.action_id, "outcome": "applied", "order": None,
                                    "ticket": hub_after}], tickets_out=changed)
    t3 = store.get_ticket("T1")
    assert changed == ["T1"] and t3 is not None and t3.pending == 0 and t3.doc == hub_after


def test_a_ticket_whose_order_left_this_pc_still_takes_its_actions(store: LocalStore) -> None:
    """An order closed long ago is out of the working set; its refund ticket is still worked on."""
    gone = "BL20261101-000007"
    with store.write() as conn:
        store.apply_ticket_docs(conn, [{**_hub_doc("T9", 2), "order_id": gone}])
    desk = TicketDesk(Outbox(store))
    t = desk.perform(gone, "ticket_replied", {"ticket_id": "T9", "channel": "sms", "text": "退款已到账"}, "D001")
    assert t.pending == 1 and t.doc["replies"] == 1
    [action] = store.pending_actions()
    assert (action.order_id, action.base_version) == (gone, 0)
    with pytest.raises(UnknownOrder):  # a new ticket needs its order on this PC
        desk.perform(gone, "ticket_opened", {"ticket_id": "T10", "type": "other", "channel": "sms"}, "D001")
    with pytest.raises(UnknownOrder):  # and a ticket is only worked on under its own order
        desk.perform("BL20261101-000008", "ticket_replied", {"ticket_id": "T9", "channel": "sms", "text": "x"},
                     "D001")


def test_refusal_is_a_conflict_on_order_and_ticket_until_resolved(store: LocalStore) -> None:
    desk = TicketDesk(Outbox(store))
    tid = desk.new_ticket_id()
    desk.perform(OID, "ticket_opened", {"ticket_id": tid, "type": "complaint", "channel": "phone"}, "D001")
    [action] = store.pending_actions()
    store.apply_results([action], [{"action_id": action.action_id, "outcome": "rejected", "order": None,
                                    "error": "forbidden", "reason": "no", "ticket": None}])
    t = store.get_ticket(tid)
    assert t is not None and t.conflict is not None and t.conflict["error"] == "forbidden"  # still shown, flagged
    order = store.get_order(OID)
    assert order is not None and order.has_conflict and store.conflict_count() == 1
    store.resolve_conflict(OID, "D001", "told the customer")
    assert store.get_ticket(tid) is None  # it never reached the hub: gone once the desk dealt with it


def test_queue_filter(store: LocalStore) -> None:
    now = utcnow()
    order = snapshot(OID)
    rows = [make_row(_hub_doc("T1", 1, assignee="D001", due_at=iso(now - timedelta(minutes=1))), order),
            make_row(_hub_doc("T2", 1, assignee="D002", type="complaint"), order),
            make_row(_hub_doc("T3", 1, status="closed", due_at=None, events=[{"kind": "contact", "text": "包装破损"}]),
                     order)]
    assert [r.ticket_id for r in filter_rows(rows, QueueFilter(), now, "D001")] == ["T1", "T2"]
    assert [r.ticket_id for r in filter_rows(rows, QueueFilter(mine=True), now, "D001")] == ["T1"]
    assert [r.ticket_id for r in filter_rows(rows, QueueFilter(overdue=True), now, "D001")] == ["T1"]
    assert [r.ticket_id for r in filter_rows(rows, QueueFilter(type="complaint"), now, "D001")] == ["T2"]
    assert [r.ticket_id for r in filter_rows(rows, QueueFilter(text="破损", closed=True), now, "D001")] == ["T3"]
    assert filter_rows(rows, QueueFilter(text="破损"), now, "D001") == []  # closed: hidden unless asked
    assert rows[0].sla(now) == "overdue" and rows[2].sla(now) == "done"
    # The prepared rows (the screen's) give the same answers, from their indexes and the joined text.
    prepared = PreparedRows(rows)
    for flt in (QueueFilter(), QueueFilter(mine=True), QueueFilter(overdue=True), QueueFilter(type="complaint"),
                QueueFilter(text="破损", closed=True), QueueFilter(text="8000"), QueueFilter(text="000001", mine=True),
                QueueFilter(text="nothing")):
        assert filter_rows(prepared, flt, now, "D001") == filter_rows(rows, flt, now, "D001"), flt
    assert len(filter_rows(prepared, QueueFilter(text="8000"), now, "D001")) == 2  # the phone tail, open ones
