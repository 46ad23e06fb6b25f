"""The client's optimistic copy of what the hub will do with an action.

The bench shows an action's effect at once, before the hub has seen it: :func:`apply_local` applies
one action to a snapshot with the same transition table the hub uses (:func:`core.states.apply_trigger`)
and refuses what the hub would refuse for the same reasons (``IllegalTransition``, ``OrderHeld``,
``ValidationFailed``). The local view of an order is always *the last hub snapshot + the pending
actions replayed on it*, so a newer snapshot from the hub never hides work still in the outbox.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from core.errors import IllegalTransition, OrderHeld, ValidationFailed
from core.holds import HOLD_TYPES
from core.states import BENCH_STATES, State, Trigger, apply_trigger

STEPS = ("picked", "verified", "packed", "weighed")
RECIPIENT_FIELDS = ("name", "phone", "province", "city", "district", "address")

#: Every action type the hub accepts (docs/api.md "Actions").
ACTION_TYPES = frozenset(
    {
        "step",
        "label_printed",
        "label_voided",
        "shipped_by_station",
        "picked_up_by_carrier",
        "address_changed",
        "hold_raised",
        "hold_released",
        "cancelled_by_buyer",
        "refund_approved",
        "payment_confirmed",
        "reallocated",
    }
)

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


def _need_str(payload: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ValidationFailed(f"'{key}' is required (text).", details={"field": key})
    return value


def validate_payload(action_type: str, payload: Any) -> None:
    """Check an action's payload shape (the hub checks it again)."""
    if action_type not in ACTION_TYPES:
        raise ValidationFailed(f"Unknown action type {action_type!r}.", details={"field": "type"})
    if not isinstance(payload, dict):
        raise ValidationFailed("An action's payload must be an object.", details={"field": "payload"})
    if action_type == "step":
        if payload.get("step") not in STEPS:
            raise ValidationFailed(f"'step' must be one of {', '.join(STEPS)}.", details={"field": "step"})
        if not isinstance(payload.get("detail", {}), dict):
            raise ValidationFailed("'detail' must be an object.", details={"field": "detail"})
    elif action_type == "label_printed":
        _need_str(payload, "printer")
        _need_str(payload, "job_id")
    elif action_type in ("label_voided", "cancelled_by_buyer", "refund_approved", "payment_confirmed"):
        _need_str(payload, "reason", allow_empty=action_type == "payment_confirmed")
    elif action_type == "address_changed":
        rec = payload.get("recipient")
        if not isinstance(rec, dict) or any(not isinstance(rec.get(k), str) for k in RECIPIENT_FIELDS):
            raise ValidationFailed(
                f"'recipient' needs {', '.join(RECIPIENT_FIELDS)}.", details={"field": "recipient"}
            )
        _need_str(payload, "reason")
    elif action_type == "hold_raised":
        if payload.get("type") not in HOLD_TYPES:
            raise ValidationFailed(f"Unknown hold type {payload.get('type')!r}.", details={"field": "type"})
        _need_str(payload, "reason")
        if not isinstance(payload.get("details", {}), dict):
            raise ValidationFailed("'details' must be an object.", details={"field": "details"})
    elif action_type == "hold_released":
        _need_str(payload, "hold_id")
        _need_str(payload, "reason")
        if not isinstance(payload.get("resolution", {}), dict):
            raise ValidationFailed("'resolution' must be an object.", details={"field": "resolution"})
    elif action_type == "reallocated":
        _need_str(payload, "bench")


def apply_local(snapshot: dict[str, Any], action: PendingAction) -> dict[str, Any]:
    """Return a new snapshot with ``action`` applied; ``snapshot`` is not changed.

    The version is left as the hub's: only the hub numbers versions.

    Raises:
        ValidationFailed: bad payload, or a hold that does not exist.
        IllegalTransition: the state machine does not allow it from the order's state.
        OrderHeld: a forward move (label, ship, bench step) on a held order.
    """
    validate_payload(action.type, action.payload)
    p = action.payload
    state = State(snapshot["state"])
    held = bool(snapshot.get("holds"))
    new = copy.deepcopy(snapshot)
    if action.type == "step":
        if held:
            raise OrderHeld(
                "Bench work is blocked: the order has an open hold. Resolve the exception first.",
                details={"state": state.value, "trigger": "step"},
            )
        if state not in BENCH_STATES:
            raise IllegalTransition(
                f"Bench steps are only possible when the order is allocated or label_printed (it is {state.value}).",
                details={"state": state.value, "trigger": "step"},
            )
        step = p["step"]
        new.setdefault("steps", {})[step] = {
            "by": action.operator,
            "at": action.done_at,
            **p.get("detail", {}),
        }
        return new
    if action.type == "hold_released" and not any(
        h.get("hold_id") == p["hold_id"] for h in new.get("holds", [])
    ):
        raise ValidationFailed(
            f"The order has no open hold {p['hold_id']!r}.",
            details={"field": "hold_id", "order_id": new["order_id"]},
        )
    tr = apply_trigger(state, Trigger(action.type), held=held)
    new["state"] = tr.to_state.value
    if action.type == "label_printed":
        new["label_count"] = int(new.get("label_count") or 0) + 1
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
    elif action.type == "reallocated":
        new["bench"] = p["bench"]
        if p.get("warehouse"):
            new["warehouse"] = p["warehouse"]
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
