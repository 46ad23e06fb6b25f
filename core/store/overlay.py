"""The client's optimistic copy of what the hub will do with an action.

The bench shows an action's effect at once, before the hub has seen it: :func:`apply_local` applies
one action to a snapshot with the same transition table the hub uses (:func:`core.states.apply_trigger`)
and refuses what the hub would refuse for the same reasons (``IllegalTransition``, ``OrderHeld``,
``ValidationFailed``); the payload, step and hold rules are the hub's own, from :mod:`core.actions`.
The local view of an order is always *the last hub snapshot + the pending actions replayed on it*,
so a newer snapshot from the hub never hides work still in the outbox.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.actions import check_payload, check_step, open_hold, trigger_for
from core.cutoffs import CUTOFF_KEY, due_from_rule
from core.desk import cancel_is_intercept, intercept_hold
from core.errors import IllegalTransition, OrderHeld, ValidationFailed
from core.model import packing_note_from
from core.playbooks import escalation
from core.returns_rule import REFUND_REVIEW, REFUND_REVIEW_REASON, check_return, return_record
from core.split_merge import merge_ids, split_lines
from core.states import State, apply_trigger

#: Marks a hold raised on this bench that the hub has not numbered yet.
LOCAL_HOLD_PREFIX = "local-"


@dataclass(frozen=True)
class PendingAction:
    """An action as the overlay needs it (an outbox row, or one about to become one)."""

    action_id: str
    order_id: str
    type: str
    payload: dict[str, Any]
    operator: str
    done_at: str


def find_hold(holds: Iterable[dict[str, Any]], hold_id: str) -> dict[str, Any] | None:
    """The open hold ``hold_id`` names, also when it is the bench's own ``local-<action_id>`` ID.

    A hold raised at the bench is shown as ``local-<action_id>`` until the hub's snapshot comes
    back with the hub's hold ID (and the raising action's ID on it); a dialog asked for the local
    ID must still find the hold then — on a hub on the same PC that happens within milliseconds.
    """
    holds = list(holds)
    hold = next((h for h in holds if h.get("hold_id") == hold_id), None)
    if hold is None and hold_id.startswith(LOCAL_HOLD_PREFIX):
        action_id = hold_id[len(LOCAL_HOLD_PREFIX):]
        hold = next((h for h in holds if h.get("action_id") == action_id), None)
    return hold


def apply_local(snapshot: dict[str, Any], action: PendingAction) -> dict[str, Any]:
    """Return a new snapshot with ``action`` applied; ``snapshot`` is not changed.

    The version is left as the hub's: only the hub numbers versions.

    Raises:
        ValidationFailed: bad payload (``core.actions.BadPayload``) or unknown type.
        IllegalTransition: the state machine does not allow it from the order's state, or the hold
            to release is not open.
        OrderHeld: a forward move (label, ship, bench step) on a held order.
    """
    check_payload(action.type, action.payload)
    p = action.payload
    state = State(snapshot["state"])
    held = bool(snapshot.get("holds"))
    new = copy.deepcopy(snapshot)
    if action.type == "step":
        check_step(state, held, p["step"])
        step = p["step"]
        new.setdefault("steps", {})[step] = {
            "by": action.operator,
            "at": action.done_at,
            **p.get("detail", {}),
        }
        return new
    hold: Any = None
    if action.type in ("hold_released", "hold_escalated"):
        hold = open_hold(new.get("holds", []), p["hold_id"], new["order_id"])
    if action.type == "cancelled_by_buyer" and cancel_is_intercept(state):
        return _intercept(new, action)  # the hub's rule too (hub/actions.py): a request, no state change
    tr = apply_trigger(state, trigger_for(action.type), held=held)
    new["state"] = tr.to_state.value
    if tr.voids_label:
        new.pop("handover_due", None)  # the hub's void does the same; the reprint sets it again
        new.pop("label_printed_at", None)
    if action.type == "label_printed":
        new["label_count"] = int(new.get("label_count") or 0) + 1
        new["label_printed_at"] = action.done_at  # as the hub records it (hub/cutoffs.py)
        # The hub's due time, computed from the carrier rule it stamped on the order (core/cutoffs.py).
        due = due_from_rule(new.get(CUTOFF_KEY), action.done_at)
        if due is None:
            new.pop("handover_due", None)
        else:
            new["handover_due"] = due
    elif action.type == "address_changed":
        new["recipient"] = {**new.get("recipient", {}), **p["recipient"]}
    elif action.type == "hold_raised":
        new.setdefault("holds", []).append(
            {
                "hold_id": LOCAL_HOLD_PREFIX + action.action_id,
                "type": p["type"],
                "reason": p["reason"],
                "raised_at": action.done_at,
                "raised_by": action.operator,
                "details": p.get("details", {}),
            }
        )
    elif action.type == "hold_released":
        new["holds"] = [h for h in new.get("holds", []) if h.get("hold_id") != p["hold_id"]]
        note = packing_note_from(str(hold.get("type")), p.get("resolution"))
        if note:
            new["packing_note"] = note
    elif action.type == "hold_escalated":
        hold["escalated"] = escalation(p, action.operator, action.done_at)
    elif action.type == "return_received":
        # What the hub does too (hub/returns.py): the return is recorded on the order and a
        # refund_review hold puts it in the desk's queue (numbered by the hub once it has it).
        check_return(snapshot, p)  # SKUs of the order, no more units than may still come back
        record = return_record(p, action.operator, action.done_at)
        new.setdefault("returns", []).append(record)
        if not any(h.get("type") == REFUND_REVIEW for h in new.get("holds", [])):
            new.setdefault("holds", []).append(
                {"hold_id": LOCAL_HOLD_PREFIX + action.action_id, "type": REFUND_REVIEW, "reason": REFUND_REVIEW_REASON,
                 "raised_at": action.done_at, "raised_by": action.operator,
                 "details": {"returns": new["returns"]}})
    elif action.type == "order_split":  # the parts come from the hub; the choice is checked here first
        split_lines(new, p["lines"])
    elif action.type == "order_merge":
        merge_ids(p["with"])
    elif action.type == "reallocated":
        new["bench"] = p["bench"]
        if p.get("warehouse"):
            new["warehouse"] = p["warehouse"]
    return new


def _intercept(new: dict[str, Any], action: PendingAction) -> dict[str, Any]:
    """A cancel after the label was printed: the intercept request's hold, shown at once (docs/desk.md)."""
    if new.get("cancel_requested"):
        return new
    hold_type, reason, details = intercept_hold(new["state"], str(action.payload.get("reason") or ""))
    new["cancel_requested"] = True
    new.setdefault("holds", []).append({"hold_id": LOCAL_HOLD_PREFIX + action.action_id, "type": hold_type,
                                        "reason": reason, "raised_at": action.done_at,
                                        "raised_by": action.operator, "details": details})
    return new


def replay(base: dict[str, Any], actions: list[PendingAction]) -> dict[str, Any]:
    """The local view: ``base`` with each pending action applied that still applies.

    An action that no longer applies (the hub cancelled the order meanwhile) is skipped here; it
    stays in the outbox and the hub's answer (conflict) will flag the order.
    """
    view = base
    for action in actions:
        try:
            view = apply_local(view, action)
        except (IllegalTransition, OrderHeld, ValidationFailed):
            continue
    return view
