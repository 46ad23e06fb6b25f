"""A desk PC's tickets against a real hub: the first sync pages the open tickets down, then the feed follows.

Packers never get tickets; a ticket action queued with the hub stopped reaches it once it is back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine

from core.ticket_desk import TicketDesk
from core.timeutil import parse_iso
from hub import db
from tests.helpers import hubapi
from tests.hubproc import HubProcess
from tests.sync.conftest import Station

MakeStation = Callable[..., Station]
N_TICKETS = 2600


def _open_many(url: str, db_url: str, n: int) -> tuple[list[str], list[str]]:
    """``n`` open tickets on a few orders; returns (ticket IDs, order IDs).

    A few are opened through the hub's actions (the real thing); the rest are their documents copied
    under new IDs straight into the hub's ``tickets`` table (thousands of opening actions would cost
    the suite ~10 s; the desk's paging only reads the table).
    """
    orders = [o["order_id"] for o in hubapi.demo(url, 40, seed=11)]
    s = hubapi.Session(url, operator="D001", pin="2222", station="DESK-SEED", bench=None).login()
    real = [str(uuid.uuid4()) for _i in range(len(orders))]
    results = s.send(*[s.action(oid, "ticket_opened", {"ticket_id": tid, "type": "tracking", "channel": "phone",
                                                       "text": f"chase {oid}"}) for oid, tid in zip(orders, real,
                                                                                                   strict=True)])
    assert {r["outcome"] for r in results} == {"applied"}, results[:2]
    docs = [r["ticket"] for r in results]
    copies = []
    for i in range(n - len(real)):
        doc = {**docs[i % len(docs)], "ticket_id": str(uuid.uuid4())}
        copies.append({"ticket_id": doc["ticket_id"], "order_id": doc["order_id"], "type": doc["type"],
                       "status": "open", "source": doc["source"], "vip": bool(doc["vip"]),
                       "assignee": doc["assignee"], "opened_at": parse_iso(doc["opened_at"]),
                       "due_at": parse_iso(doc["due_at"]), "closed_at": None, "version": doc["version"],
                       "updated_at": parse_iso(doc["updated_at"]), "doc": doc})
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(db.tickets.insert(), copies)
    finally:
        engine.dispose()
    return real + [c["ticket_id"] for c in copies], orders


def test_desk_pages_thousands_of_open_tickets_then_follows_the_feed_packer_gets_none(
    sqlite_hub: HubProcess, make_station: MakeStation
) -> None:
    ids, _orders = _open_many(sqlite_hub.url, sqlite_hub.db_url, N_TICKETS)
    desk = make_station(sqlite_hub.url, name="DESK-1", bench=None, operator="D001", pin="2222", page_size=1000)
    report = desk.engine.sync_once()
    assert report.full_resync and desk.store.ticket_count() == N_TICKETS
    assert {t.ticket_id for t in desk.store.tickets()} == set(ids)
    assert desk.store.meta("cursor_scope") == "all+tickets"
    # Another desk closes one and replies to another: the feed brings both.
    other = hubapi.Session(sqlite_hub.url, operator="D001", pin="2222", station="DESK-2", bench=None).login()
    t0 = desk.store.get_ticket(ids[0])
    t1 = desk.store.get_ticket(ids[1])
    assert t0 is not None and t1 is not None
    other.send(other.action(t0.order_id, "ticket_closed", {"ticket_id": ids[0], "resolution": "已发货"}),
               other.action(t1.order_id, "ticket_replied", {"ticket_id": ids[1], "channel": "wecom", "text": "在查"}))
    seen: list[list[str]] = []
    desk.engine.tickets_changed.connect(seen.append)
    desk.engine.sync_once()
    c0, c1 = desk.store.get_ticket(ids[0]), desk.store.get_ticket(ids[1])
    assert c0 is not None and c0.status == "closed" and c0.doc["resolution"] == "已发货"
    assert c1 is not None and c1.doc["replies"] == 1 and c1.hub_version == 2
    assert {ids[0], ids[1]} <= {t for batch in seen for t in batch}
    # A packer's PC never gets tickets.
    packer = make_station(sqlite_hub.url, name="B1-PC", bench="B1")
    packer.engine.sync_once()
    assert packer.store.ticket_count(open_only=False) == 0 and packer.store.cursor() is not None


def test_ticket_life_queued_with_the_hub_stopped_reaches_it_once_back(
    sqlite_hub: HubProcess, make_station: MakeStation
) -> None:
    [order] = [o["order_id"] for o in hubapi.demo(sqlite_hub.url, 1, seed=3)]
    desk = make_station(sqlite_hub.url, name="DESK-1", bench=None, operator="D001", pin="2222")
    desk.engine.sync_once()
    tickets = TicketDesk(desk.outbox)
    sqlite_hub.stop()
    tid = tickets.new_ticket_id()
    tickets.perform(order, "ticket_opened", {"ticket_id": tid, "type": "urge_ship", "channel": "phone",
                                             "text": "催发货"}, "D001", role="desk")
    tickets.perform(order, "ticket_replied", {"ticket_id": tid, "channel": "phone", "text": "今天发"}, "D001")
    tickets.perform(order, "ticket_closed", {"ticket_id": tid, "resolution": "已答复"}, "D001")
    tickets.perform(order, "ticket_reopened", {"ticket_id": tid, "reason": "又来电"}, "D001")
    assert desk.store.pending_count() == 4
    sqlite_hub.start()
    desk.engine.sync_once()
    assert desk.store.pending_count() == 0
    admin = hubapi.Session(sqlite_hub.url, operator="D001", pin="2222", station="CHECK", bench=None).login()
    hub_doc = admin.get(f"/api/v1/tickets/{tid}").json()
    local = desk.store.get_ticket(tid)
    assert local is not None and local.pending == 0 and local.conflict is None
    assert (hub_doc["status"], hub_doc["replies"], hub_doc["reopened"]) == ("open", 1, 1)
    assert local.doc["version"] == hub_doc["version"] and local.doc["status"] == "open"
    # A refused action (closing a ticket the hub already closed) is a conflict, not silently dropped.
    admin.send(admin.action(order, "ticket_closed", {"ticket_id": tid, "resolution": "by phone"}))
    tickets.perform(order, "ticket_closed", {"ticket_id": tid, "resolution": "again"}, "D001")
    desk.engine.sync_once()
    flagged = desk.store.get_ticket(tid)
    assert flagged is not None and flagged.conflict is not None and flagged.conflict["error"] == "illegal_transition"
    assert desk.store.conflict_count() == 1
