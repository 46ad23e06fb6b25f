"""Client actions: the bench's outbox arriving at the hub.

Each action is answered ``applied``, ``duplicate``, ``conflict`` or ``rejected`` (docs/api.md), and
every answer is stored under its device and ``action_id`` together with the device's ``last_applied_seq`` in
the same transaction as the action's effect: a retried batch gets the first answers back and
nothing happens twice, however the connection failed.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core.actions import (
    ACTIONS,
    RECIPIENT_FIELDS,
    BadPayload,
    Forbidden,
    check_payload,
    check_role,
    check_step,
    open_hold,
    trigger_for,
)
from core.desk import cancel_is_intercept
from core.errors import IllegalTransition, OrderHeld, UserError
from core.model import packing_note_from
from core.playbooks import check, escalation, playbook_for, summary
from core.roles import Role
from core.states import FULFILMENT_STATES, State, Trigger, apply_trigger
from core.tickets import TICKET_ACTIONS
from core.timeutil import iso, parse_iso
from hub import action_keys, cutoffs, db, returns, split_merge, stock, tickets
from hub.options import playbook_options
from hub.orders import (
    change_address,
    confirm_payment,
    load_docs,
    put_unit_weight,
    request_intercept,
    void_label,
)
from hub.routing import Rules
from hub.writer import Actor, Writer, public

log = logging.getLogger("packdesk.hub.actions")

def process_batch(conn: Connection, settings: Any, rules: Rules, actor: Actor,
                  actions: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply a device's batch in ``seq`` order inside the caller's transaction.

    Answers are stored per (device, ``action_id``): the idempotency key is the device's own, so
    another device reusing an ``action_id`` gets its own action processed, never this one's answer.
    """
    w = Writer(conn, settings, actor)
    actions = sorted(actions, key=lambda a: a["seq"])
    ids = [a["action_id"] for a in actions]
    ar = db.action_results.c
    stored = {r.action_id: r for r in conn.execute(
        select(ar.action_id, ar.outcome, ar.response)
        .where(ar.device_id == actor.device_id, ar.action_id.in_(ids)))}
    fresh = [a for a in actions if a["action_id"] not in stored]
    docs = load_docs(conn, sorted({a["order_id"] for a in fresh}), for_update=True)
    w.track(docs)
    results: list[dict[str, Any]] = []
    new_rows: list[dict[str, Any]] = []
    seen_now: dict[str, dict[str, Any]] = {}
    keys = action_keys.load(conn, (str(a.get("key_id") or "") for a in fresh))
    roles = _roles(conn, {str(a.get("operator") or "") for a in fresh} - {actor.operator})
    for a in actions:
        prior = stored.get(a["action_id"])
        if prior is not None or a["action_id"] in seen_now:
            first = dict(prior.response) if prior is not None else seen_now[a["action_id"]]
            results.append({**first, "outcome": "duplicate", "first_outcome": first["outcome"]})
            continue
        res = _credited(w, rules, actor, a, docs, keys, roles)
        if res["outcome"] != "applied" and res["order"] is not None and not _may_see(actor, res["order"]):
            res["order"] = None  # a refusal tells nothing about an order the caller may not see
        seen_now[a["action_id"]] = res
        results.append(res)
        new_rows.append({"action_id": a["action_id"], "device_id": actor.device_id, "seq": a["seq"],
                         "order_id": a["order_id"], "outcome": res["outcome"], "at": w.now, "response": res})
    w.flush()
    if new_rows:
        conn.execute(db.action_results.insert(), new_rows)
    last_seq = max((a["seq"] for a in actions), default=0)
    row = conn.execute(select(db.devices.c.last_applied_seq).where(db.devices.c.device_id == actor.device_id)).first()
    if row is None:
        conn.execute(db.devices.insert().values(device_id=actor.device_id, station=actor.station,
                                                last_applied_seq=last_seq, updated_at=w.now))
        applied_seq = last_seq
    else:
        applied_seq = max(int(row[0]), last_seq)
        conn.execute(update(db.devices).where(db.devices.c.device_id == actor.device_id)
                     .values(last_applied_seq=applied_seq, station=actor.station, updated_at=w.now))
    return {"results": results, "last_applied_seq": applied_seq}


def _may_see(actor: Actor, doc: dict[str, Any]) -> bool:
    """The read rule of ``GET /orders/{id}`` and the change feed: a packer sees its own bench only."""
    return actor.role != Role.PACKER.value or doc.get("bench") == actor.bench


def _roles(conn: Connection, codes: set[str]) -> dict[str, str]:
    """The current role of each named operator that exists."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    op = db.operators.c
    return {code: role for code, role in conn.execute(select(op.code, op.role).where(op.code.in_(sorted(codes))))}


def _credited(w: Writer, rules: Rules, actor: Actor, a: dict[str, Any], docs: dict[str, dict[str, Any]],
              keys: dict[str, action_keys.Key], roles: dict[str, str]) -> dict[str, Any]:
    """Decide who an action is credited to, then apply it as them.

    A bench pushes its whole outbox under whoever is logged in when the network is back, but each
    action was done by the operator named in it — possibly hours ago, offline, before a shift
    change. The name alone proves nothing (a packer could name a supervisor), so it counts only
    with a signature by the action key that operator's own login gave this device, made within
    the key's window (``hub/action_keys.py``). Proven: the action runs with that operator's role,
    and — whatever that role is — at a bench station only on that bench's orders. Not proven: it
    runs as the pushing login, which is credited, with the claimed name kept in the audit as
    unverified. A signature that is there but wrong is refused outright (``bad_signature``): it
    means tampering or a broken client, and guessing what was meant would hide either.
    """
    claimed = str(a.get("operator") or "") or actor.operator
    signed = bool(a.get("key_id") or a.get("sig"))
    if signed:
        bad = action_keys.problem(keys.get(str(a.get("key_id") or "")), a, operator=claimed,
                                  device_id=actor.device_id, check_window=claimed != actor.operator)
        if bad is not None:
            return _answer(a, "rejected", docs.get(a["order_id"]), "bad_signature", bad)
    context: dict[str, Any] = {"done_at": a.get("done_at")}
    doer, bench_bound, credited_to = actor, False, None
    if claimed != actor.operator:
        role = roles.get(claimed)
        if signed and role is not None:
            doer = Actor(operator=claimed, station=actor.station, role=role, bench=actor.bench,
                         device_id=actor.device_id)
            bench_bound = bool(actor.bench)
            context.update(synced_by=actor.operator, action_key=a["key_id"])
        else:
            credited_to = actor.operator
            context.update(claimed_operator=claimed[:32], operator_verified=False)
    w.actor = doer
    w.context = {k: v for k, v in context.items() if v is not None}
    try:
        res = _one(w, rules, doer, a, docs, bench_bound=bench_bound)
    finally:
        w.actor, w.context = actor, {}
    if credited_to is not None:
        res["credited_to"] = credited_to
        if res["outcome"] != "applied" and res["reason"]:
            res["reason"] += (f" (Done in the name of {claimed[:32]} without a valid signature from them, so it ran "
                              f"as {actor.operator}.)")
    return res


def _answer(a: dict[str, Any], outcome: str, doc: dict[str, Any] | None, error: str | None = None,
            reason: str | None = None) -> dict[str, Any]:
    return {"action_id": a["action_id"], "seq": a["seq"], "outcome": outcome,
            "order": copy.deepcopy(public(doc)) if doc is not None else None, "error": error, "reason": reason}


def _one(w: Writer, rules: Rules, actor: Actor, a: dict[str, Any], docs: dict[str, dict[str, Any]], *,
         bench_bound: bool = False) -> dict[str, Any]:
    """Apply one action as ``actor``; ``bench_bound``: only on orders of the actor's bench, whatever the role."""
    doc = docs.get(a["order_id"])
    if doc is None:
        return _answer(a, "rejected", None, "unknown_order", f"Order {a['order_id']} does not exist at the hub.")
    kind = a["type"]
    if kind in TICKET_ACTIONS:  # customer tickets (hub/tickets.py, docs/tickets.md): same batch, same dedupe
        return tickets.answer(w, rules.tickets, w.settings.timezone, actor, a, doc, _answer)
    role = Role(actor.role)
    spec = ACTIONS.get(kind)
    if spec is None:
        return _answer(a, "rejected", doc, "unknown_action", f"Unknown action type '{kind}'.")
    if not role.at_least(spec.role):
        return _answer(a, "rejected", doc, "forbidden",
                       f"A {role.value} may not do '{kind}'; it needs {spec.role.value} or above.")
    if (role is Role.PACKER or bench_bound) and doc.get("bench") != actor.bench:
        return _answer(a, "rejected", doc, "forbidden",
                       f"Order {doc['order_id']} belongs to bench {doc.get('bench')}, not {actor.bench}.")
    base = a.get("base_version")
    if base is not None and base > doc["version"]:
        return _answer(a, "rejected", doc, "bad_version",
                       f"base_version {base} is newer than the order's version {doc['version']}.")
    if a.get("done_at") is not None:
        try:
            done = parse_iso(a["done_at"])
        except ValueError:
            done = None
        if done is None:
            return _answer(a, "rejected", doc, "bad_payload",
                           f"done_at {a['done_at']!r} is not an ISO 8601 time (e.g. 2026-11-25T08:00:00Z).")
    payload = a.get("payload") or {}
    try:
        # The bench's own rules (core/actions.py): the same payload refused with the same code, and
        # the role minimum per hold type (core/holds.py) for raising and releasing holds.
        check_payload(kind, payload)
        check_role(role, kind, payload, doc["holds"])
    except UserError as exc:
        return _answer(a, "rejected", doc, exc.code, exc.message)
    stale = base is not None and base < doc["version"]
    # Work on a copy: a refused action must leave no trace, even on the in-memory doc.
    work = copy.deepcopy(doc)
    checkpoint = w.checkpoint()
    try:
        if kind in split_merge.KINDS:  # split / merge / unmerge touch other orders too (hub/split_merge.py)
            split_merge.apply(w, rules, a, work, docs)
        else:
            _apply(w, rules, actor, a, work)
            if spec.fires != "step":  # a merged parcel's orders move together
                split_merge.follow(w, rules, work, Trigger(spec.fires), a, docs)
    except (IllegalTransition, OrderHeld) as exc:
        w.restore(checkpoint)
        if stale:
            return _answer(a, "conflict", doc, exc.code,
                           f"The order changed at the hub (now {doc['state']}, version {doc['version']}) "
                           f"since this was done (version {base}): {exc.message}")
        return _answer(a, "rejected", doc, exc.code, exc.message)
    except UserError as exc:
        w.restore(checkpoint)
        return _answer(a, "rejected", doc, exc.code, exc.message)
    docs[a["order_id"]] = work
    return _answer(a, "applied", work)


def _dict(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _release_hold(w: Writer, rules: Rules, actor: Actor, doc: dict[str, Any], hold: dict[str, Any],
                  resolution: dict[str, Any], why: str, aid: str) -> None:
    """hold_released: check the playbook's required fields, then apply what the resolution means.

    The hub is the last line of the "lock": a client that skipped the dialog (an old version, a
    script) still cannot release a hold without the fields the playbook requires, and the check is
    the same :func:`core.playbooks.check` the dialog runs, so the two never disagree.
    """
    pb = playbook_for(hold["type"])
    if pb is not None:
        problems = check(pb, resolution, role=actor.role, options=playbook_options(
            rules, doc, stock.gift_levels(w.conn, rules, doc.get("warehouse"))))
        if problems:
            text = "; ".join(f"'{p.field}': {p.message}" if p.field else p.message for p in problems)
            if any(p.forbidden for p in problems):
                raise Forbidden(f"Hold {hold['hold_id']} ({hold['type']}) cannot be released by a {actor.role}: {text}")
            fields = [p.field for p in problems]
            raise BadPayload(f"The resolution of hold {hold['hold_id']} ({hold['type']}) is incomplete: {text}",
                             details={"field": next((f for f in fields if f), "resolution"), "fields": fields})
        why = why or summary(pb, resolution)
    effect = _resolution_effect(rules, doc, hold, resolution)
    doc["holds"] = [h for h in doc["holds"] if h["hold_id"] != hold["hold_id"]]
    details: dict[str, Any] = {"hold": hold, "resolution": resolution}
    if effect:
        details["effect"] = effect
    w.transition(doc, Trigger.HOLD_RELEASED, why=why, details=details, action_id=aid)
    htype = hold["type"]
    if htype == returns.REFUND_REVIEW:
        returns.refund_decided(w, doc, resolution, why, aid)  # a refund closes the order
    if htype in stock.SHORT_HOLDS:
        stock.reserve_on_release(w, doc)  # the last short hold goes: the lines are reserved now, or refused
    elif "item_substituted" in effect:
        stock.rereserve(w, doc, "substitute")  # new lines: give back the old, reserve the new (short: a hold)
    if htype == "carrier_area" and isinstance(resolution.get("carrier"), str):
        doc["carrier"] = resolution["carrier"]
        void_label(w, rules, doc)
    elif htype == "cancel_request":
        doc["cancel_requested"] = False
    elif htype in ("rural_no_phone", "no_phone"):
        _confirm_address(w, rules, doc, resolution, aid)
    note = packing_note_from(htype, resolution)
    if note:
        doc["packing_note"] = note


def _resolution_effect(rules: Rules, doc: dict[str, Any], hold: dict[str, Any],
                       resolution: dict[str, Any]) -> dict[str, Any]:
    """Change the order's lines as the resolution says (gift substitutes, gifts left out); returns what changed."""
    htype, decision = hold["type"], resolution.get("decision")
    if htype == "gift_stock":
        listed = (hold.get("details") or {}).get("short")
        short = {s["sku"] for s in (listed if isinstance(listed, list) else [])
                 if isinstance(s, dict) and isinstance(s.get("sku"), str)}
        gift_lines = [ln for ln in doc["lines"] if ln.get("is_gift") and ln.get("sku") in short]
        if decision == "substitute":
            item = rules.catalogue.get(str(resolution.get("substitute_sku")))
            if item is None:
                return {}
            for ln in gift_lines:
                ln.update(sku=item.sku, name=item.name, bin=item.bin)
                put_unit_weight(rules, ln)
            return {"gift_substituted": {"from": sorted(s for s in short if s), "to": item.sku}}
        if decision in ("without_gift", "split_backorder"):
            doc["lines"] = [ln for ln in doc["lines"] if not any(ln is g for g in gift_lines)]
            if not any(ln.get("is_gift") for ln in doc["lines"]):
                doc["flags"] = [f for f in doc.get("flags", []) if f != "gift"]
            key = "gift_backordered" if decision == "split_backorder" else "gift_left_out"
            return {key: [{"sku": g["sku"], "name": g["name"], "qty": g["qty"]} for g in gift_lines]}
    elif htype == "stock_short" and decision == "substitute":
        item = rules.catalogue.get(str(resolution.get("substitute_sku")))
        listed = (hold.get("details") or {}).get("short")
        short = {s["sku"] for s in (listed if isinstance(listed, list) else []) if isinstance(s, dict)}
        if item is not None and short:
            for ln in doc["lines"]:
                if ln.get("sku") in short and not ln.get("is_gift"):
                    ln.update(sku=item.sku, name=item.name, bin=item.bin)
                    put_unit_weight(rules, ln)
            return {"item_substituted": {"from": sorted(str(s) for s in short), "to": item.sku}}
    elif htype == "item_missing" and decision == "substitute":
        item = rules.catalogue.get(str(resolution.get("substitute_sku")))
        missing = (hold.get("details") or {}).get("sku")
        if item is not None and missing:
            for ln in doc["lines"]:
                if ln.get("sku") == missing:
                    ln.update(sku=item.sku, name=item.name, bin=item.bin)
                    put_unit_weight(rules, ln)
            return {"item_substituted": {"from": missing, "to": item.sku}}
    elif htype == "delivery_failed":
        return {"delivery": resolution.get("outcome")}
    return {}


def _confirm_address(w: Writer, rules: Rules, doc: dict[str, Any], resolution: dict[str, Any], aid: str) -> None:
    """A confirmed address (or phone) that differs from the order's becomes the recipient's."""
    old = doc["recipient"]
    new = dict(old)
    address = resolution.get("confirmed_address")
    if isinstance(address, str) and address.strip():
        new["address"] = address.strip()
    phone = resolution.get("phone")
    if isinstance(phone, str) and phone.strip():
        new["phone"] = phone.strip()
    if new != old and doc["state"] in FULFILMENT_STATES:
        change_address(w, rules, doc, new, why="地址经买家确认 / address confirmed with the buyer", action_id=aid,
                       confirmed=frozenset({"rural_no_phone", "no_phone"}))


def _apply(w: Writer, rules: Rules, actor: Actor, a: dict[str, Any], doc: dict[str, Any]) -> None:
    kind, p, aid = a["type"], a.get("payload") or {}, a["action_id"]
    why = str(p.get("reason") or "")
    if kind == "step":
        step = p["step"]
        check_step(doc["state"], bool(doc["holds"]), step)
        detail = _dict(p, "detail")
        doc["steps"][step] = {**detail, "by": actor.operator, "station": actor.station, "at": a.get("done_at")}
        w.note(doc, f"step:{step}", details=detail, action_id=aid)
        return
    if kind == "hold_raised":
        hold = w.raise_hold(doc, p["type"], p["reason"], _dict(p, "details"), action_id=aid)
        # the bench showed this hold as "local-<action_id>" until now: keep the link, so a dialog
        # opened with that ID finds the hold after the hub's snapshot replaced the bench's copy
        hold["action_id"] = aid
        return
    if kind == "hold_released":
        hold = dict(open_hold(doc["holds"], p["hold_id"], doc["order_id"]))
        _release_hold(w, rules, actor, doc, hold, _dict(p, "resolution"), why, aid)
        return
    if kind == "hold_escalated":
        open_hold(doc["holds"], p["hold_id"], doc["order_id"])
        apply_trigger(State(doc["state"]), Trigger.HOLD_RAISED, held=True)  # an open order, as the bench checks
        record = escalation(p, actor.operator, str(a.get("done_at") or iso(w.now)))
        for h in doc["holds"]:
            if h["hold_id"] == p["hold_id"]:
                h["escalated"] = record
        w.note(doc, "hold_escalated", why=why, details={"hold_id": p["hold_id"], "escalated": record}, action_id=aid)
        return
    if kind == "return_received":
        returns.receive(w, doc, p, done_at=a.get("done_at"), action_id=aid)
        return
    if kind == "address_changed":
        recipient = p["recipient"]
        change_address(w, rules, doc, {**{k: recipient[k] for k in RECIPIENT_FIELDS},
                                       "postcode": str(recipient.get("postcode", ""))},
                       why=why or "address changed", action_id=aid)
        return
    if kind == "payment_confirmed":
        doc["paid_at"] = doc.get("paid_at") or a.get("done_at")
        confirm_payment(w, rules, doc, why=why or "payment confirmed by desk", action_id=aid)
        return
    if kind == "reallocated":
        bench = p["bench"]
        if bench not in rules.benches:  # the site's benches: only the hub knows them
            raise BadPayload(f"Unknown bench '{bench}'; known: {', '.join(rules.benches)}.", details={"field": "bench"})
        # A bench belongs to one warehouse (bench names are site-wide unique), so the bench says
        # where the order goes; a 'warehouse' that contradicts it is refused, never stored.
        warehouse = next(code for code, wh in rules.warehouses.items() if bench in (*wh.benches, *wh.vip_benches))
        given = p.get("warehouse")
        if given not in (None, "", warehouse):
            raise BadPayload(f"Bench {bench} belongs to warehouse {warehouse}, not {str(given)[:40]!r}.",
                             details={"field": "warehouse"})
        old = {"bench": doc.get("bench"), "warehouse": doc.get("warehouse")}
        doc["bench"] = bench
        doc["warehouse"] = warehouse
        w.transition(doc, Trigger.REALLOCATED, why=why, details={"old": old, "new": {"bench": bench, "warehouse": warehouse}},
                     action_id=aid)
        return
    if kind == "cancelled_by_buyer" and cancel_is_intercept(doc["state"]):
        request_intercept(w, doc, why, action_id=aid)  # printed or shipped: a request, not a close
        return
    trig = trigger_for(kind)
    details = {k: v for k, v in p.items() if k != "reason"}
    done_at = parse_iso(a.get("done_at")) or w.now  # checked in _one; the bench's own time of doing it
    handover = (cutoffs.handover_record(p, station=actor.station, operator=actor.operator, at=str(iso(done_at)))
                if trig is Trigger.SHIPPED_BY_STATION else None)
    if handover is not None:
        details["handover"] = handover
    if kind == "delivered_by_hand":
        details["by_hand"] = True  # the carrier never reported it: the audit says a person did
    t = w.transition(doc, trig, why=why, details=details, action_id=aid)
    if handover is not None:
        doc["handover"] = handover
    if trig is Trigger.LABEL_PRINTED:
        doc["label_count"] = int(doc.get("label_count", 0)) + 1
        cutoffs.label_printed(doc, rules, w.settings.timezone, done_at)
    elif trig is Trigger.DELIVERY_FAILED:
        w.raise_hold(doc, "delivery_failed", why or "派送失败 / delivery failed", {}, action_id=aid)
    if t.voids_label:
        void_label(w, rules, doc)
