"""Split and merge (合单) at the hub: the effects of ``order_split``, ``order_merge``, ``order_unmerge``.

The rules (which lines, which orders may share a parcel) are :mod:`core.split_merge`; this module
does what they allow, inside the action's transaction, through the :class:`hub.writer.Writer`, so
every order it touches gets a new version, an audit line and a change-feed row (docs/split-merge.md).

- **Split**: the parent closes (trigger ``split``: it is no longer a unit of work; its holds are
  released and its reservation given back by the writer, as every close does). Two parts are born
  in the parent's state, ``<root>-<n>`` and ``<root>-<n+1>``: the ship-now part reserves its lines
  at the parent's warehouse (short: the split is refused, nothing kept), the back-order part
  reserves what is there or waits under a ``stock_short`` hold. Each part gets its own waybill.
  A part remembers the shop's order number (``split.channel_order_no``): its shipment is written
  back to the parent's order on the platform, as a partial shipment where the platform has one.
- **Merge**: the orders named join the acting order's parcel: they take its carrier, waybill and
  bench (their own waybill is given back, 回收), and each carries ``merge = {parcel, orders}``. Printing, voiding
  and shipping any order of a parcel moves all of them (:func:`follow`): one parcel, one label.
- **Unmerge** (before printing): the order leaves the parcel and gets its own waybill again; the
  parcel's own order (the one the others joined) unmerging dissolves the whole parcel.

Everything that can refuse is checked before anything outside the writer is written (waybill
cancels are queued last), so a refused action leaves no trace (``Writer.restore`` undoes the rest).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core.address import phone_tail
from core.errors import IllegalTransition, OrderHeld
from core.order_ids import part_order_id, root_order_id
from core.split_merge import (
    MERGE_STATES,
    SPLIT_HOLDS,
    SPLIT_STATES,
    MergeRefused,
    SplitRefused,
    buyer_key,
    merge_ids,
    merge_problem,
    merged_with,
    split_lines,
)
from core.states import State, Trigger, state_label
from hub import db, stock
from hub.orders import assign_waybill, give_back_waybill, load_docs
from hub.routing import Rules
from hub.writer import Writer, public

log = logging.getLogger("packdesk.hub.split_merge")

KINDS = frozenset({"order_split", "order_merge", "order_unmerge"})
#: Triggers that move a whole merged parcel: every order in it follows the one acted on.
PARCEL_TRIGGERS = frozenset({Trigger.LABEL_PRINTED, Trigger.LABEL_VOIDED, Trigger.SHIPPED_BY_STATION,
                             Trigger.PICKED_UP_BY_CARRIER})


def apply(w: Writer, rules: Rules, a: dict[str, Any], doc: dict[str, Any], docs: dict[str, dict[str, Any]]) -> None:
    """Apply one split / merge / unmerge action on ``doc`` (a working copy); other orders it
    changes are written back into ``docs`` (the batch's orders) once nothing can refuse any more."""
    kind = a["type"]
    if kind == "order_split":
        split(w, rules, doc, a["payload"], a["action_id"])
    elif kind == "order_merge":
        merge(w, doc, a["payload"], a["action_id"], docs)
    else:
        unmerge(w, rules, doc, str((a.get("payload") or {}).get("reason") or ""), a["action_id"], docs)


# -- split ----------------------------------------------------------------------------------------

def _part(parent: dict[str, Any], order_id: str, lines: list[dict[str, Any]], part: str, siblings: list[str],
          state: str) -> dict[str, Any]:
    kid = copy.deepcopy(parent)
    for key in ("merge", "handover", "cancel_requested"):
        kid.pop(key, None)
    shop_no = (parent.get("split") or {}).get("channel_order_no") or parent["channel_order_no"]
    kid.update(order_id=order_id, state=state, version=0, lines=copy.deepcopy(lines), holds=[], steps={},
               label_count=0, waybill_no=None, cancel_requested=False,
               total_fen=sum(int(ln.get("unit_price_fen") or 0) * int(ln["qty"]) for ln in lines),
               # unique per channel (uq_orders_channel_no); the shop's own number is kept in ``split``
               channel_order_no=f"{shop_no}#{order_id.rsplit('-', 1)[1]}"[:64],
               split={"from": parent["order_id"], "root": root_order_id(parent["order_id"]), "part": part,
                      "siblings": siblings, "channel_order_no": shop_no})
    kid.pop("waybill_routing", None)
    if not any(ln.get("is_gift") for ln in lines):
        kid["flags"] = [f for f in kid.get("flags", []) if f != "gift"]
    return kid


def split(w: Writer, rules: Rules, doc: dict[str, Any], p: dict[str, Any], aid: str) -> list[str]:
    """Split ``doc`` into a ship-now part (``p["lines"]``) and a back-order part; returns their IDs."""
    state = State(doc["state"])
    oid = doc["order_id"]
    if state not in SPLIT_STATES:
        raise IllegalTransition(
            f"Order {oid} is {state_label(state.value, 'en')}: only a paid or allocated order whose label is not "
            f"printed can be split (void a printed label first).",
            details={"state": state.value, "trigger": Trigger.SPLIT.value})
    blocking = [h for h in doc.get("holds", []) if h.get("type") not in SPLIT_HOLDS]
    if blocking:
        raise OrderHeld(f"Order {oid} has an open exception ({blocking[0]['type']}); resolve it before splitting.",
                        details={"state": state.value, "trigger": Trigger.SPLIT.value})
    if merged_with(doc):
        raise SplitRefused(f"Order {oid} is merged with {', '.join(merged_with(doc))}; unmerge it first.",
                           details={"field": "order_id"})
    now_lines, later_lines = split_lines(doc, p["lines"])
    root = root_order_id(oid)
    last = db.next_counter(w.conn, f"split:{root}", 2)
    ids = [part_order_id(root, last - 1), part_order_id(root, last)]
    kids = [_part(doc, ids[0], now_lines, "ship_now", ids, state.value),
            _part(doc, ids[1], later_lines, "backorder", ids, state.value)]
    reason = str(p["reason"]).strip()[:500]
    old_waybill = doc.get("waybill_no")
    doc["split"] = {**(doc.get("split") or {}), "into": ids, "reason": reason}
    # The parent closes: the writer releases its holds (audited) and gives back its reservation.
    w.transition(doc, Trigger.SPLIT, why=reason, action_id=aid, details={
        "into": ids, "ship_now": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in now_lines],
        "backorder": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in later_lines]})
    short_later: list[dict[str, Any]] = []
    wh = doc.get("warehouse")
    if state is State.ALLOCATED and wh:
        short_now = stock.reserve(w, kids[0], wh)
        if short_now:
            text = ", ".join(f"{s['sku']} ({s['available']}/{s['needed']})" for s in short_now)
            raise stock.StockShort(f"The ship-now part is short of stock at {wh}: {text} (available/needed). "
                                   f"Choose fewer items to ship now.", details={"short": short_now})
        short_later = stock.reserve(w, kids[1], wh)
    # Nothing refuses from here on: the parts are written, the parent's waybill given back.
    if old_waybill:
        give_back_waybill(w, doc)
    for kid in kids:
        w.add_new(kid)
        w.note(kid, "split_created", why=reason, action_id=aid,
               details={"from": oid, "part": kid["split"]["part"],
                        "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in kid["lines"]]})
        if state is State.ALLOCATED and kid.get("carrier"):
            assign_waybill(w, rules, kid)
    if short_later and wh:
        for hold in stock.allocation_holds(w.conn, rules, wh, [], short_later):
            w.raise_hold(kids[1], hold.type, hold.reason, dict(hold.details), action_id=aid)
    _remember_shop(w.conn, oid, ids)
    return ids


def _remember_shop(conn: Connection, parent: str, ids: list[str]) -> None:
    """The parts were brought by the parent's shop connector: their shipments are written back there."""
    from hub.channels.store import connectors_of_orders, remember_orders

    connector = connectors_of_orders(conn, [parent]).get(parent)
    if connector is not None:
        remember_orders(conn, connector, ids)


# -- merge ----------------------------------------------------------------------------------------

def _others(w: Writer, ids: list[str], docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Working copies of other orders: the batch's own (changed earlier in it) or loaded for update."""
    missing = [i for i in ids if i not in docs]
    loaded = load_docs(w.conn, missing, for_update=True)
    w.track(loaded)
    out = {}
    for i in ids:
        src = docs.get(i) or loaded.get(i)
        if src is None:
            raise MergeRefused(f"Order {i} does not exist at the hub.", details={"field": "with", "order_id": i})
        out[i] = copy.deepcopy(src)
    return out


def merge(w: Writer, doc: dict[str, Any], p: dict[str, Any], aid: str, docs: dict[str, dict[str, Any]]) -> list[str]:
    """The orders in ``p["with"]`` join ``doc``'s parcel; returns the parcel's orders."""
    master = doc["order_id"]
    if (doc.get("merge") or {}).get("parcel") not in (None, master):
        raise MergeRefused(f"Order {master} is in the parcel of {doc['merge']['parcel']}: merge into that order.",
                           details={"field": "order_id", "order_id": master})
    ids = [i for i in merge_ids(p["with"]) if i != master]
    if not ids:
        raise MergeRefused("An order cannot be merged with itself.", details={"field": "with"})
    if not doc.get("waybill_no"):
        raise MergeRefused(f"Order {master} has no waybill number yet (the carrier's provider has not answered); "
                           f"merge when it has one.", details={"field": "order_id", "order_id": master})
    current = [i for i in merged_with(doc)]
    fresh = [i for i in ids if i not in current]
    others = _others(w, fresh + current, docs)
    for i in fresh:
        problem = merge_problem(doc, others[i])
        if problem:
            raise MergeRefused(problem, details={"field": "with", "order_id": i})
    group = [master, *current, *fresh]
    why = str(p.get("reason") or "").strip()[:500] or "合单 / merged into one parcel"
    # Nothing refuses from here on.
    for i in fresh:
        o = others[i]
        old = {"carrier": o.get("carrier"), "waybill_no": o.get("waybill_no"), "bench": o.get("bench")}
        give_back_waybill(w, o)
        o.pop("waybill_routing", None)
        # one parcel is packed at one bench: the parcel's own order's (same warehouse, checked above)
        o.update(carrier=doc.get("carrier"), waybill_no=doc["waybill_no"], bench=doc.get("bench"),
                 lane=doc.get("lane", o.get("lane")), merge={"parcel": master, "orders": group})
        if doc.get("waybill_routing"):
            o["waybill_routing"] = copy.deepcopy(doc["waybill_routing"])
        w.transition(o, Trigger.MERGED, why=why, action_id=aid, details={"parcel": master, "orders": group, "old": old})
    for i in current:  # already in the parcel: they learn who joined
        others[i]["merge"] = {"parcel": master, "orders": group}
        w.transition(others[i], Trigger.MERGED, why=why, action_id=aid, details={"parcel": master, "orders": group})
    doc["merge"] = {"parcel": master, "orders": group}
    w.transition(doc, Trigger.MERGED, why=why, action_id=aid, details={"parcel": master, "orders": group})
    docs.update(others)
    return group


def unmerge(w: Writer, rules: Rules, doc: dict[str, Any], reason: str, aid: str,
            docs: dict[str, dict[str, Any]]) -> list[str]:
    """``doc`` leaves its parcel (the parcel's own order: the parcel is dissolved); returns who left."""
    oid = doc["order_id"]
    group = doc.get("merge") if isinstance(doc.get("merge"), dict) else None
    if not group:
        raise MergeRefused(f"Order {oid} is not merged with another order.", details={"field": "order_id"})
    master = str(group.get("parcel"))
    members = _others(w, [i for i in group.get("orders", []) if i != oid], docs)
    everyone = {oid: doc, **members}
    for o in everyone.values():
        if State(o["state"]) not in MERGE_STATES:
            raise IllegalTransition(
                f"Order {o['order_id']} of the parcel is {state_label(o['state'], 'en')}: a parcel is unmerged only "
                f"before its label is printed (void the label first).",
                details={"state": o["state"], "trigger": Trigger.UNMERGED.value})
    leaving = [i for i in everyone if i != master] if oid == master else [oid]
    staying = [i for i in group.get("orders", []) if i not in leaving and i in everyone]
    why = reason.strip()[:500] or "拆开合单 / taken out of the merged parcel"
    for i in leaving:
        o = everyone[i]
        o.pop("merge", None)
        o.pop("waybill_routing", None)
        o["waybill_no"] = None
        if o.get("carrier"):
            assign_waybill(w, rules, o)  # its own number again (the parcel's stays with the parcel)
        w.transition(o, Trigger.UNMERGED, why=why, action_id=aid, details={"parcel": master, "left": leaving})
    for i in staying:
        o = everyone[i]
        if len(staying) > 1:
            o["merge"] = {"parcel": master, "orders": staying}
        else:
            o.pop("merge", None)  # the parcel's own order alone: no longer merged
        w.transition(o, Trigger.UNMERGED, why=why, action_id=aid, details={"parcel": master, "left": leaving})
    docs.update({i: o for i, o in members.items()})
    return leaving


# -- one parcel moves together ---------------------------------------------------------------------

def follow(w: Writer, rules: Rules, doc: dict[str, Any], trigger: Trigger, a: dict[str, Any],
           docs: dict[str, dict[str, Any]]) -> list[str]:
    """After ``trigger`` moved ``doc``: every other order of its merged parcel makes the same move
    (one label printed, voided or shipped is the parcel's). Returns the orders that followed.

    Raises:
        IllegalTransition, OrderHeld: an order of the parcel cannot follow (e.g. held): the whole
            action is refused, so a parcel never leaves with part of its orders held back.
    """
    if doc.get("state") == State.CLOSED.value and merged_with(doc):
        leave_on_close(w, doc, docs)  # refunded / cancelled: the rest of the parcel goes on without it
        return []
    if trigger not in PARCEL_TRIGGERS or not merged_with(doc):
        return []
    members = _others(w, merged_with(doc), docs)
    moved = []
    for i, o in members.items():
        if o["state"] == doc["state"]:
            continue  # already there (the bench sent the move for each order)
        details = {"parcel": doc["merge"]["parcel"], "with": doc["order_id"]}
        w.transition(o, trigger, why=f"合单包裹 {doc['order_id']} / merged parcel", action_id=a["action_id"],
                     details=details)
        if trigger is Trigger.LABEL_PRINTED:
            o["label_count"] = int(o.get("label_count", 0)) + 1
            for key in ("handover_due",):
                if key in doc:
                    o[key] = doc[key]
        elif trigger is Trigger.LABEL_VOIDED:
            o["waybill_no"] = None  # the parcel's reprint number comes back through the parcel's own order
        if "handover" in doc:
            o["handover"] = copy.deepcopy(doc["handover"])
        moved.append(i)
    if trigger is Trigger.LABEL_VOIDED:
        for o in members.values():
            o["waybill_no"] = doc.get("waybill_no")
    docs.update(members)
    return moved


def leave_on_close(w: Writer, doc: dict[str, Any], docs: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """A merged order that closed (cancelled, refunded) leaves its parcel; the others keep the
    parcel's waybill (it is not given back: it is still theirs). When the parcel's own order
    leaves, the next order becomes the parcel's. Returns the orders that stay."""
    group = doc.get("merge") if isinstance(doc.get("merge"), dict) else None
    doc.pop("merge", None)
    if not group:
        return []
    staying = [i for i in group.get("orders", []) if i != doc["order_id"]]
    members = _others(w, staying, docs if docs is not None else {})
    parcel = group.get("parcel") if group.get("parcel") in staying else staying[0]
    why = f"合单包裹中的 {doc['order_id']} 已关闭 / {doc['order_id']} of the parcel closed"
    for o in members.values():
        if State(o["state"]) is State.CLOSED:
            continue
        if len(staying) > 1:
            o["merge"] = {"parcel": parcel, "orders": staying}
        else:
            o.pop("merge", None)
        w.note(o, "parcel_changed", why=why, details={"parcel": parcel, "left": [doc["order_id"]]})
    if docs is not None:
        docs.update(members)
    return staying


def parts_of(w: Writer, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The split order's parts that are not split themselves (a part split again: its parts), loaded
    for update: the shop's news about the parent (cancel, address) is news about them."""
    todo, out = list((doc.get("split") or {}).get("into") or []), []
    while todo:
        loaded = load_docs(w.conn, todo, for_update=True)
        w.track(loaded)
        todo = []
        for part in loaded.values():
            deeper = (part.get("split") or {}).get("into")
            if deeper:
                todo.extend(deeper)
            else:
                out.append(part)
    return out


# -- write-back ------------------------------------------------------------------------------------

def parcel_of(conn: Connection, order_id: str) -> tuple[tuple[str, int], ...]:
    """What a split part's parcel carries, (SKU, units) per SKU; () for an order that is not a part
    (its shipment is the whole shop order)."""
    found = load_docs(conn, [order_id]).get(order_id)
    if found is None or not (found.get("split") or {}).get("from"):
        return ()
    units: dict[str, int] = {}
    for ln in found.get("lines") or []:
        units[str(ln["sku"])] = units.get(str(ln["sku"]), 0) + int(ln["qty"])
    return tuple(units.items())


# -- candidates ------------------------------------------------------------------------------------

def candidates(conn: Connection, doc: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
    """Orders that may join ``doc``'s parcel: same buyer at the same address, allocated and not
    printed, at the same warehouse (the scope a bench's wave is built from), no open exception.

    Narrowed in SQL by the indexed search columns (state, warehouse, the phone's last four digits:
    names are typed with stray spaces), then checked with :func:`core.split_merge.merge_problem`.
    """
    o = db.orders.c
    key = buyer_key(doc.get("recipient") or {})
    if key is None or doc.get("state") not in {s.value for s in MERGE_STATES}:
        return []
    rows = conn.execute(select(o.doc).where(
        o.warehouse == doc.get("warehouse"), o.state == State.ALLOCATED.value, o.held.is_(False),
        o.phone_tail == phone_tail(doc["recipient"]["phone"]), o.order_id != doc["order_id"]).limit(limit * 4))
    out = []
    for (other,) in rows:
        if merge_problem(doc, other) is None or other["order_id"] in merged_with(doc):
            out.append(public(other))
        if len(out) >= limit:
            break
    return out
