"""Orders at the hub: intake from channels, allocation by the routing rules, loading and search.

Intake is idempotent on (channel, channel_order_no): a push that arrives twice changes nothing the
second time, and a push older than what the hub already knows (``channel_updated_at``, status rank)
is ignored, so out-of-order pushes converge on the right state.
"""

from __future__ import annotations

import functools
import logging
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from core.desk import intercept_hold
from core.display_names import why_details, why_text
from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.order_ids import format_order_id
from core.states import FULFILMENT_STATES, State, Trigger
from core.timeutil import as_utc, iso, local_day, parse_iso
from hub import cutoffs, db, stock
from hub.carriers import demo as demo_waybill
from hub.carriers import queue as waybill_queue
from hub.carriers import registry
from hub.carriers import store as carrier_accounts
from hub.intake.generic import reserved_label
from hub.routing import HOLD_CARRIER_AREA, HOLD_NO_PHONE, HOLD_RURAL_NO_PHONE, RoutingDecision, Rules, route
from hub.writer import Writer

log = logging.getLogger("packdesk.hub.orders")

CANCEL_REQUEST_REASON = "打单后买家取消：请拦截包裹、作废面单 / Buyer cancelled after the label was printed: pull the parcel, void the waybill"


def new_doc(order_id: str, o: IntakeOrder) -> dict[str, Any]:
    r = o.recipient
    return {
        "order_id": order_id,
        "channel": o.channel,
        "channel_order_no": o.channel_order_no,
        "state": None,
        "version": 0,
        "created_at": iso(o.created_at),
        "updated_at": iso(o.created_at),
        "paid_at": iso(o.paid_at),
        "ship_by": iso(o.ship_by),
        "recipient": {"name": r.name, "phone": r.phone, "province": r.province, "city": r.city,
                      "district": r.district, "address": r.address, "postcode": r.postcode},
        "lines": [{"sku": ln.sku, "name": ln.name, "qty": ln.qty, "unit_price_fen": ln.unit_price_fen,
                   "is_gift": ln.is_gift, "bin": ln.bin, **({"barcodes": dict(ln.barcodes)} if ln.barcodes else {})}
                  for ln in o.lines],
        "total_fen": o.total_fen,
        "custom_packaging": o.custom_packaging,
        "buyer_note": o.buyer_note,
        "seller_note": o.seller_note,
        "warehouse": None,
        "bench": None,
        "lane": "normal",
        "carrier": None,
        "waybill_no": None,
        "holds": [],
        "flags": [],
        "steps": {},
        "label_count": 0,
        "cancel_requested": False,
        "_channel_status": o.status.value,
        "_channel_updated_at": iso(o.channel_updated_at),
    }


def doc_to_intake(doc: dict[str, Any]) -> IntakeOrder:
    """Rebuild the normalised order from a stored order (routing works on IntakeOrder)."""
    created = parse_iso(doc["created_at"])
    assert created is not None
    return IntakeOrder(
        channel=doc["channel"], channel_order_no=doc["channel_order_no"],
        status=ChannelStatus(doc.get("_channel_status", "paid")),
        recipient=Recipient(**doc["recipient"]),
        lines=[OrderLine(**{k: v for k, v in ln.items() if k != "weight_g"}) for ln in doc["lines"]],
        total_fen=doc["total_fen"], created_at=created, channel_updated_at=created,
        paid_at=parse_iso(doc.get("paid_at")), ship_by=parse_iso(doc.get("ship_by")),
        custom_packaging=doc["custom_packaging"], buyer_note=doc["buyer_note"], seller_note=doc["seller_note"],
    )


def put_unit_weight(rules: Rules, line: dict[str, Any]) -> None:
    """Put the catalogue's unit weight on a line (``weight_g``), or take a stale one off."""
    item = rules.catalogue.get(line["sku"])
    if item is not None and item.weight_g > 0:
        line["weight_g"] = item.weight_g
    else:
        line.pop("weight_g", None)


#: Each writer's (one transaction's) carrier accounts: carrier -> (account id, provider) or None.
_accounts: weakref.WeakKeyDictionary[Writer, dict[str, tuple[int, str] | None]] = weakref.WeakKeyDictionary()


def reserve_waybill(conn: Connection, rules: Rules, carrier: str, start: int) -> str:
    """A demo number for the carrier (:mod:`hub.carriers.demo`: a counter row, never handed out twice)."""
    return demo_waybill.number(conn, rules.waybill_prefixes.get(carrier, carrier), carrier, start)


def assign_waybill(w: Writer, rules: Rules, doc: dict[str, Any]) -> None:
    """Give the order a waybill of its carrier (docs/carriers.md "E-waybills").

    A carrier with no account, or one whose provider is local (the demo counter), gets its number
    here, in this transaction. A carrier with a real provider gets none yet: a ``fetch`` is queued
    (hub/carriers/queue.py) and the worker writes the number and its routing data onto the order
    once the provider answers — never a network call inside this transaction. Until then the order
    has no ``waybill_no`` and no bench prints its label.
    """
    carrier = doc["carrier"]
    doc.pop("waybill_routing", None)  # routing data belongs to one number
    known = _accounts.setdefault(w, {})  # one look-up per carrier and transaction (an import allocates many)
    if carrier not in known:
        known[carrier] = carrier_accounts.account_for(w.conn, carrier)
    found = known[carrier]
    if found is None or registry.is_local(found[1]):
        doc["waybill_no"] = reserve_waybill(w.conn, rules, carrier, w.settings.waybill_start)
        return
    doc["waybill_no"] = None
    waybill_queue.enqueue_fetch(w.conn, doc["order_id"], carrier, found[0], w.now)


@dataclass(frozen=True)
class Planned:
    """A new order's allocation worked out with the rest of its push (:func:`plan_allocations`)."""

    decision: RoutingDecision
    reserved: stock.Reserved
    #: its local (demo) waybill number; None: no carrier, or the carrier's provider numbers it (queued)
    waybill_no: str | None


def plan_allocations(w: Writer, rules: Rules, orders: list[tuple[str, IntakeOrder]]) -> None:
    """Route a push's new paid orders, reserve their stock and number their local waybills, one pass each.

    Allocating them one by one cost a stock read, a stock UPDATE, a moves INSERT and a waybill
    counter UPDATE per order; here the push takes one of each (issue 18). The outcome is the one
    of allocating them one after the other in push order: routing is pure, the stock rows are
    taken in push order in memory over rows read (and on PostgreSQL locked) once
    (:func:`hub.stock.reserve_batch`), and each carrier's numbers are handed out in push order.
    Stock rows are locked before the waybill counters, as :func:`allocate` takes them.
    :func:`allocate` then takes each order's plan from ``w.planned``.

    Args:
        orders: (order ID, the order as pushed) of new orders about to be allocated, in push order.
    """
    if not orders:
        return
    decisions = [route(o, rules) for _oid, o in orders]
    lines = [[{"sku": ln.sku, "qty": ln.qty, "name": ln.name, "is_gift": ln.is_gift} for ln in o.lines]
             for _oid, o in orders]
    reserved = stock.reserve_batch(
        w, [(oid, ls, d.warehouse) for (oid, _o), ls, d in zip(orders, lines, decisions, strict=True)],
        [*stock.gift_skus(rules), *rules.gift_stock])
    known = _accounts.setdefault(w, {})
    local: dict[str, list[int]] = {}
    for i, d in enumerate(decisions):
        if not d.carrier:
            continue
        if d.carrier not in known:
            known[d.carrier] = carrier_accounts.account_for(w.conn, d.carrier)
        found = known[d.carrier]
        if found is None or registry.is_local(found[1]):
            local.setdefault(d.carrier, []).append(i)
    numbers: list[str | None] = [None] * len(orders)
    for carrier in sorted(local):
        at = local[carrier]
        got = demo_waybill.numbers(w.conn, rules.waybill_prefixes.get(carrier, carrier), carrier,
                                   w.settings.waybill_start, len(at))
        for i, no in zip(at, got, strict=True):
            numbers[i] = no
    for (oid, _o), d, r, waybill_no in zip(orders, decisions, reserved, numbers, strict=True):
        w.planned[oid] = Planned(d, r, waybill_no)


def allocate(w: Writer, rules: Rules, doc: dict[str, Any], *, action_id: str | None = None) -> None:
    """paid → allocated: the routing rules pick warehouse, bench, lane and carrier and raise holds.

    A new order of a push comes with its plan (:func:`plan_allocations`): routing, stock and
    waybill already worked out with the rest of its push.
    """
    planned: Planned | None = w.planned.pop(doc["order_id"], None)
    decision = planned.decision if planned is not None else route(doc_to_intake(doc), rules)
    doc["warehouse"] = decision.warehouse
    doc["bench"] = decision.bench
    doc["lane"] = decision.lane
    doc["carrier"] = decision.carrier
    doc["flags"] = list(decision.flags)
    for line in doc["lines"]:
        if not line["bin"]:
            line["bin"] = decision.bins.get(line["sku"], "")
        if decision.barcodes.get(line["sku"]):  # the bench matches a scan of the box's own barcode
            line["barcodes"] = decision.barcodes[line["sku"]]
        put_unit_weight(rules, line)
    if rules.weighing is not None:  # the bench's scale compares against it (core/weighing.py)
        doc["weighing"] = dict(rules.weighing)
    else:
        doc.pop("weighing", None)  # the site dropped the rule: benches weigh without comparing
    # all or nothing (short: a hold, nothing reserved); before the waybill counter's row lock
    short = planned.reserved.short if planned is not None else stock.reserve(w, doc, decision.warehouse)
    if decision.carrier:
        if planned is not None and planned.waybill_no is not None:
            doc.pop("waybill_routing", None)
            doc["waybill_no"] = planned.waybill_no
        else:
            assign_waybill(w, rules, doc)
    cutoffs.stamp(doc, rules, w.settings.timezone)
    if not doc.get("ship_by") and doc.get("paid_at"):
        paid = parse_iso(doc["paid_at"])
        assert paid is not None
        doc["ship_by"] = iso(paid + timedelta(hours=decision.ship_by_hours))
    w.transition(doc, Trigger.ALLOCATED, why=why_text("routing"),
                 details={"warehouse": decision.warehouse, "bench": decision.bench, "lane": decision.lane,
                          "carrier": decision.carrier, "waybill_no": doc["waybill_no"], **why_details("routing")},
                 action_id=action_id)
    for hold in stock.allocation_holds(w.conn, rules, decision.warehouse, decision.holds, short,
                                       planned.reserved.gift_rows if planned is not None else None):
        w.raise_hold(doc, hold.type, hold.reason, dict(hold.details), action_id=action_id)


def confirm_payment(w: Writer, rules: Rules, doc: dict[str, Any], why: str, *,
                    details: dict[str, Any] | None = None, action_id: str | None = None) -> None:
    """pending_payment → paid → allocated, audited under the push's message or the client's action."""
    if not doc.get("paid_at"):
        doc["paid_at"] = w.now_iso()
    w.transition(doc, Trigger.PAYMENT_CONFIRMED, why=why, details=details, action_id=action_id)
    allocate(w, rules, doc, action_id=action_id)


def load_docs(conn: Connection, order_ids: list[str], *, for_update: bool = False) -> dict[str, dict[str, Any]]:
    """Stored orders by ID, with the hub's private keys restored."""
    if not order_ids:
        return {}
    stmt = select(db.orders.c.doc, db.orders.c.channel_status, db.orders.c.channel_updated_at).where(
        db.orders.c.order_id.in_(order_ids)).order_by(db.orders.c.order_id)
    if for_update and db.is_postgres(conn):
        stmt = stmt.with_for_update()
    out = {}
    for doc, status, updated in conn.execute(stmt):
        doc = dict(doc)
        doc["_channel_status"] = status
        doc["_channel_updated_at"] = iso(as_utc(updated))
        out[doc["order_id"]] = doc
    return out


def intake(w: Writer, rules: Rules, pushed: list[IntakeOrder], *, source: str | None = None) -> list[dict[str, Any]]:
    """Absorb a channel push (one or many orders) in the caller's transaction.

    Args:
        source: the door the orders came through (``{channel}`` of the intake endpoint, "import").
            A channel's orders belong to its secret: a source other than "generic" may carry only
            orders of its own name, and "generic" only labels that are no other source's
            (:func:`hub.intake.generic.reserved_label`). Otherwise a generic push labelled
            "import" rewrote and cancelled imported orders.

    Returns one result per pushed order: ``{channel_order_no, order_id, state, created}``.

    Raises:
        ValidationFailed: an order of another source's channel (nothing is written).
    """
    if source is not None:
        for index, o in enumerate(pushed):
            if (o.channel != source) if source != "generic" else reserved_label(o.channel):
                raise ValidationFailed(
                    f"Order #{index + 1} of the push names channel {o.channel!r}, which belongs to another "
                    f"source; a {source} push may only carry its own orders.",
                    details={"field": "channel", "index": index})
    conn = w.conn
    keys = {(o.channel, o.channel_order_no) for o in pushed}
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    by_channel: dict[str, list[str]] = {}
    for ch, no in keys:
        by_channel.setdefault(ch, []).append(no)
    clauses = [and_(db.orders.c.channel == ch, db.orders.c.channel_order_no.in_(nos)) for ch, nos in by_channel.items()]
    ids = [r[0] for r in conn.execute(select(db.orders.c.order_id).where(or_(*clauses)))] if clauses else []
    loaded = load_docs(conn, sorted(ids), for_update=True)
    w.track(loaded)
    for doc in loaded.values():
        by_key[(doc["channel"], doc["channel_order_no"])] = doc

    fresh = [k for k in dict.fromkeys((o.channel, o.channel_order_no) for o in pushed) if k not in by_key]
    if fresh:
        day = local_day(w.now, w.settings.timezone)
        last = db.next_counter(conn, f"order:{w.settings.order_prefix}{day:%Y%m%d}", len(fresh))
        new_ids = {k: format_order_id(w.settings.order_prefix, day, last - len(fresh) + 1 + i)
                   for i, k in enumerate(fresh)}
        if len(fresh) == len(pushed):  # every order new, each once: allocate the paid ones in one pass
            plan_allocations(w, rules, [(new_ids[(o.channel, o.channel_order_no)], o) for o in pushed
                                        if o.status is ChannelStatus.PAID])
    results = []
    for o in pushed:
        key = (o.channel, o.channel_order_no)
        found = by_key.get(key)
        if found is None:
            doc = new_doc(new_ids[key], o)
            by_key[key] = doc
            w.add_new(doc, functools.partial(new_doc, new_ids[key], o))  # checked for size at flush
            w.transition(doc, Trigger.CREATED, why=why_text("channel_push", channel=o.channel),
                         details={"message_id": o.message_id, **why_details("channel_push", channel=o.channel)})
            _apply_status(w, rules, doc, o)
            results.append(_result(doc, True))
            continue
        doc = found
        if _stale(o, doc):
            results.append(_result(doc, False))  # duplicate or older push: nothing changes
            continue
        doc["_channel_updated_at"] = iso(o.channel_updated_at)
        w.touch(doc)
        _apply_recipient_change(w, rules, doc, o)
        _apply_status(w, rules, doc, o)
        if (doc.get("split") or {}).get("into"):  # a split order's news from the shop is its parts' news
            from hub.split_merge import parts_of

            for part in parts_of(w, doc):
                _apply_recipient_change(w, rules, part, o)
                _apply_status(w, rules, part, o)
        results.append(_result(doc, False))
    return results


def _stale(o: IntakeOrder, doc: dict[str, Any]) -> bool:
    """Whether a push for a known order says nothing newer than what the hub has.

    Older (by the channel's update time) or lower in status rank: stale. The *same* update time
    with a higher status is news, not a repeat: channels stamp times in whole seconds (an order
    created and paid within one second), and a push without an update time falls back to the
    create time (a CSV re-import, a generic push), so its status moving on must still count.
    """
    known_time = parse_iso(doc["_channel_updated_at"])
    known_rank = ChannelStatus(doc["_channel_status"]).rank
    if o.status.rank < known_rank or known_time is None:
        return o.status.rank < known_rank
    if o.channel_updated_at == known_time:
        return o.status.rank == known_rank
    return o.channel_updated_at < known_time


def _result(doc: dict[str, Any], created: bool) -> dict[str, Any]:
    return {"channel_order_no": doc["channel_order_no"], "order_id": doc["order_id"], "state": doc["state"],
            "created": created}


def _apply_status(w: Writer, rules: Rules, doc: dict[str, Any], o: IntakeOrder) -> None:
    state = State(doc["state"])
    doc["_channel_status"] = o.status.value
    # Which channel message caused it: the audit line a person traces a push back by.
    msg = {"message_id": o.message_id} if o.message_id else {}

    def why(code: str) -> dict[str, Any]:  # the reason as text (API readers) and as a code (benches translate)
        return {"why": why_text(code, channel=o.channel), "details": {**msg, **why_details(code, channel=o.channel)}}

    if o.status is ChannelStatus.PAID and state is State.PENDING_PAYMENT:
        doc["paid_at"] = iso(o.paid_at) if o.paid_at else None
        confirm_payment(w, rules, doc, **why("channel_paid"))
    elif o.status is ChannelStatus.CANCELLED:
        if state in (State.PENDING_PAYMENT, State.PAID, State.ALLOCATED):
            w.transition(doc, Trigger.CANCELLED_BY_BUYER, **why("channel_cancelled"))
            if doc.get("merge"):  # 合单: the waybill is the parcel's; the others keep it
                from hub.split_merge import leave_on_close

                leave_on_close(w, doc)
            elif state is not State.PENDING_PAYMENT:  # before payment no carrier was chosen: nothing to give back
                give_back_waybill(w, doc)  # an unprinted e-waybill is given back (回收), a waiting fetch dropped
        elif state is State.LABEL_PRINTED and not doc.get("cancel_requested"):
            doc["cancel_requested"] = True
            w.raise_hold(doc, "cancel_request", CANCEL_REQUEST_REASON, {"channel": o.channel})
        elif state in (State.SHIPPED, State.DELIVERED):
            w.note(doc, "cancel_after_shipment", **why("channel_cancel_after_shipment"))


def _apply_recipient_change(w: Writer, rules: Rules, doc: dict[str, Any], o: IntakeOrder) -> None:
    r = o.recipient
    new = {"name": r.name, "phone": r.phone, "province": r.province, "city": r.city, "district": r.district,
           "address": r.address, "postcode": r.postcode}
    if new == doc["recipient"] or doc["state"] not in FULFILMENT_STATES:
        return
    change_address(w, rules, doc, new, why=why_text("channel_address", channel=o.channel),
                   why_codes=why_details("channel_address", channel=o.channel))


def void_label(w: Writer, rules: Rules, doc: dict[str, Any]) -> None:
    """A voided e-waybill number is dead at the carrier: it is given back (回收) through the queue
    when a provider issued it, and the reprint gets a fresh one (:func:`assign_waybill`).

    Nothing is due for hand-over until the reprint, whose time sets the due time again.
    """
    give_back_waybill(w, doc)
    cutoffs.label_voided(doc, rules, w.settings.timezone)
    if doc.get("carrier"):
        assign_waybill(w, rules, doc)


def give_back_waybill(w: Writer, doc: dict[str, Any]) -> None:
    """Queue the cancel (回收) of the order's number at the provider that issued it (a demo number:
    nothing to give back), and forget any fetch still waiting for the order."""
    old = doc.get("waybill_no")
    waybill_queue.supersede_fetches(w.conn, doc["order_id"], w.now)
    row = waybill_queue.issued(w.conn, doc["order_id"], old) if old else None
    if row is not None:
        waybill_queue.enqueue_cancel(w.conn, row, w.now)


def change_address(w: Writer, rules: Rules, doc: dict[str, Any], recipient: dict[str, Any], *, why: str,
                   action_id: str | None = None, why_codes: dict[str, Any] | None = None,
                   confirmed: frozenset[str] = frozenset()) -> None:
    """address_changed, then routing again for the new address (docs/routing.md "Address changes").

    After a label was printed the label is voided and a hold asks the bench to destroy it.
    ``why_codes``: :func:`core.display_names.why_details` of a reason the hub wrote itself.
    ``confirmed``: hold types the caller has just resolved for this very address (a rural hold
    released with the buyer's confirmation): routing does not raise them again.
    """
    old = doc["recipient"]
    was_printed = doc["state"] == State.LABEL_PRINTED.value
    old_waybill = doc.get("waybill_no")
    w.transition(doc, Trigger.ADDRESS_CHANGED, why=why, details={"old": old, "new": recipient, **(why_codes or {})},
                 action_id=action_id)
    doc["recipient"] = recipient
    rerouted = doc["state"] == State.ALLOCATED.value and reroute(
        w, rules, doc, action_id=action_id, confirmed=confirmed)
    if not rerouted and (was_printed or (doc.get("carrier") and waybill_queue.has_fetch(w.conn, doc["order_id"]))):
        # a provider's waybill carries routing data (大头笔, 三段码) of the address it was asked for
        void_label(w, rules, doc)
    if was_printed:
        w.raise_hold(doc, "address_change",
                     "已打单后地址变更：作废旧面单并确认销毁，再重新打印 / Address changed after printing: "
                     "void and destroy the old label, then reprint",
                     {"old_waybill_no": old_waybill}, action_id=action_id)


def request_intercept(w: Writer, doc: dict[str, Any], why: str, *, action_id: str | None = None) -> None:
    """A desk's cancel after the label was printed or the parcel shipped: an intercept request (拦截).

    The order keeps its state; a ``cancel_request`` hold (its playbook: pull the parcel, or ask the
    carrier to return it) and ``cancel_requested`` stop it at the bench and the handover. Asked
    twice: the second is recorded, nothing more (docs/desk.md).
    """
    if doc.get("cancel_requested"):
        w.note(doc, "cancel_request_repeated", why=why, action_id=action_id)
        return
    hold_type, reason, details = intercept_hold(doc["state"], why)
    doc["cancel_requested"] = True
    w.raise_hold(doc, hold_type, reason, details, action_id=action_id)


def _facts(details: Any) -> dict[str, Any]:
    """A routing hold's details without its choices (those follow from the facts)."""
    return {k: v for k, v in (details or {}).items() if k != "options"}


#: Holds whose cause is the address: routing raises them, and an address change may end them.
ADDRESS_HOLDS = frozenset({HOLD_CARRIER_AREA, HOLD_RURAL_NO_PHONE, HOLD_NO_PHONE})


def reroute(w: Writer, rules: Rules, doc: dict[str, Any], *, action_id: str | None = None,
            confirmed: frozenset[str] = frozenset()) -> bool:
    """Run routing again on an allocated order whose address changed (the same :func:`route` as
    :func:`allocate`), and apply what the new address changes.

    * warehouse: the new address's warehouse when it differs (bench and lane from routing too);
      stock moves with the ``reallocated`` transition (:func:`hub.stock.on_transition`);
    * carrier: kept while it still delivers there and the warehouse stays; otherwise routing's
      carrier, or none (a ``carrier_area`` hold);
    * the address holds (carrier area, rural without phone, no phone): raised when the new address
      needs them, released (audited) when it no longer does;
    * the waybill: a new carrier or a printed label gets a fresh number and the old one goes back
      (回收) through :func:`void_label`; no carrier: the old number goes back, none is assigned.

    Returns whether the waybill was voided here (the caller then must not void it again).
    """
    decision = route(doc_to_intake(doc), rules)
    recipient = Recipient(**doc["recipient"])
    old = {"warehouse": doc.get("warehouse"), "bench": doc.get("bench"), "carrier": doc.get("carrier")}
    moved = decision.warehouse != doc.get("warehouse")
    if moved:
        doc["warehouse"], doc["bench"], doc["lane"] = decision.warehouse, decision.bench, decision.lane
        w.transition(doc, Trigger.REALLOCATED, why=why_text("reroute"),
                     details={"old": {"bench": old["bench"], "warehouse": old["warehouse"]},
                              "new": {"bench": doc["bench"], "warehouse": doc["warehouse"]}, **why_details("reroute")},
                     action_id=action_id)
    current = rules.carrier_specs.get(str(doc.get("carrier") or ""))
    carrier = doc.get("carrier") if current is not None and current.covers(recipient) and not moved \
        else decision.carrier
    voided = False
    # a provider's waybill carries the sender and routing data (大头笔, 三段码) it was asked for
    if carrier != doc.get("carrier") or moved or waybill_queue.has_fetch(w.conn, doc["order_id"]):
        doc["carrier"] = carrier
        void_label(w, rules, doc)
        if carrier is None:
            doc["waybill_no"] = None
        voided = True
    wanted = {h.type: h for h in decision.holds if h.type in ADDRESS_HOLDS and h.type not in confirmed}
    if doc.get("carrier"):
        wanted.pop(HOLD_CARRIER_AREA, None)  # a carrier kept (or chosen by the desk) still covers
    # a hold still needed but about the old address (its area, its choices of carrier) is raised anew
    stale = [h for h in doc["holds"] if h.get("type") in ADDRESS_HOLDS
             and (h["type"] not in wanted or _facts(h.get("details")) != _facts(wanted[h["type"]].details))]
    for hold in stale:
        doc["holds"] = [h for h in doc["holds"] if h["hold_id"] != hold["hold_id"]]
        w.transition(doc, Trigger.HOLD_RELEASED, why=why_text("reroute_released"),
                     details={"hold": hold, "resolution": {"auto": "address changed"}, **why_details("reroute_released")},
                     action_id=action_id)
    open_types = {h.get("type") for h in doc["holds"]}
    for spec in [spec for spec in wanted.values() if spec.type not in open_types]:
        w.raise_hold(doc, spec.type, spec.reason, dict(spec.details), action_id=action_id)
    new = {"warehouse": doc.get("warehouse"), "bench": doc.get("bench"), "carrier": doc.get("carrier")}
    if new != old or voided:  # routing changed something: one line says what (nothing changed: nothing written)
        w.note(doc, "rerouted", why=why_text("reroute"), details={"old": old, "new": new, **why_details("reroute")},
               action_id=action_id)
    return voided
