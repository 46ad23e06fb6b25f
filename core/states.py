"""The order state machine: 7 states, 22 triggers, one transition table.

The hub applies every change through :func:`apply_trigger`; the client uses the same table to show
what is possible and to update its local copy optimistically. A trigger missing from the table for
the order's state is refused with a reason and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import IllegalTransition, OrderHeld


class State(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    ALLOCATED = "allocated"
    LABEL_PRINTED = "label_printed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"


class Trigger(StrEnum):
    CREATED = "created"
    PAYMENT_CONFIRMED = "payment_confirmed"
    PAYMENT_TIMEOUT = "payment_timeout"
    CANCELLED_BY_BUYER = "cancelled_by_buyer"
    ALLOCATED = "allocated"
    REALLOCATED = "reallocated"
    LABEL_PRINTED = "label_printed"
    LABEL_VOIDED = "label_voided"
    PICKED_UP_BY_CARRIER = "picked_up_by_carrier"
    SHIPPED_BY_STATION = "shipped_by_station"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED_TO_SENDER = "returned_to_sender"
    REFUND_APPROVED = "refund_approved"
    RETURN_RECEIVED = "return_received"
    COMPLETED = "completed"
    ADDRESS_CHANGED = "address_changed"
    HOLD_RAISED = "hold_raised"
    HOLD_RELEASED = "hold_released"
    # Split and merge (合单), docs/split-merge.md: the parent of a split closes into its children;
    # a merge and an unmerge leave the orders allocated.
    SPLIT = "split"
    MERGED = "merged"
    UNMERGED = "unmerged"


S = State
T = Trigger

#: Open states: an order in one of these is not finished.
OPEN_STATES: frozenset[State] = frozenset(s for s in State if s is not State.CLOSED)

#: Named groups of states. Every place that means one of these groups uses the name, never a
#: literal list, so "which states count as done" has one answer.

#: Bench-workable: the bench picks, verifies, packs and weighs orders in these states, and the pack
#: view opens them. The same group is where a shipping label may be printed or reprinted.
BENCH_STATES: frozenset[State] = frozenset({State.ALLOCATED, State.LABEL_PRINTED})

#: Where a label may be printed (first print from allocated, reprint from label_printed).
PRINTABLE_STATES: frozenset[State] = BENCH_STATES

#: Fulfilment still ahead: paid but not yet shipped. Ship-by deadlines (overdue, at risk) count
#: here, and an address may still change here.
FULFILMENT_STATES: frozenset[State] = frozenset({State.PAID, State.ALLOCATED, State.LABEL_PRINTED})

#: Done for the warehouse: the parcel has left (or the order ended). The "done" queue and flag.
DONE_STATES: frozenset[State] = frozenset({State.SHIPPED, State.DELIVERED, State.CLOSED})


#: (trigger, from-state) -> to-state. ``None`` as from-state is the creation of an order.
#: Same-state entries (reallocated, delivery_failed, address_changed, holds) are real transitions:
#: they bump the order's version and are audited.
TRANSITIONS: dict[tuple[Trigger, State | None], State] = {
    (T.CREATED, None): S.PENDING_PAYMENT,
    (T.PAYMENT_CONFIRMED, S.PENDING_PAYMENT): S.PAID,
    (T.PAYMENT_TIMEOUT, S.PENDING_PAYMENT): S.CLOSED,
    (T.CANCELLED_BY_BUYER, S.PENDING_PAYMENT): S.CLOSED,
    (T.CANCELLED_BY_BUYER, S.PAID): S.CLOSED,
    (T.CANCELLED_BY_BUYER, S.ALLOCATED): S.CLOSED,
    (T.ALLOCATED, S.PAID): S.ALLOCATED,
    (T.REALLOCATED, S.ALLOCATED): S.ALLOCATED,
    (T.LABEL_PRINTED, S.ALLOCATED): S.LABEL_PRINTED,
    (T.LABEL_VOIDED, S.LABEL_PRINTED): S.ALLOCATED,
    (T.PICKED_UP_BY_CARRIER, S.LABEL_PRINTED): S.SHIPPED,
    (T.SHIPPED_BY_STATION, S.LABEL_PRINTED): S.SHIPPED,
    (T.DELIVERED, S.SHIPPED): S.DELIVERED,
    (T.DELIVERY_FAILED, S.SHIPPED): S.SHIPPED,
    (T.RETURNED_TO_SENDER, S.SHIPPED): S.CLOSED,
    (T.REFUND_APPROVED, S.PAID): S.CLOSED,
    (T.REFUND_APPROVED, S.ALLOCATED): S.CLOSED,
    (T.REFUND_APPROVED, S.LABEL_PRINTED): S.CLOSED,
    # After the parcel left: the desk's decision on a return (refund_review hold) or an after-sale refund.
    (T.REFUND_APPROVED, S.SHIPPED): S.CLOSED,
    (T.REFUND_APPROVED, S.DELIVERED): S.CLOSED,
    # A return graded at the bench (docs/returns.md): the order stays open under a refund_review hold
    # until the desk decides (refund → closed; refuse → it goes on to completed). From shipped too:
    # a parcel refused at the door (拒收) is back before the carrier reports anything.
    (T.RETURN_RECEIVED, S.SHIPPED): S.SHIPPED,
    (T.RETURN_RECEIVED, S.DELIVERED): S.DELIVERED,
    (T.COMPLETED, S.DELIVERED): S.CLOSED,
    (T.ADDRESS_CHANGED, S.PAID): S.PAID,
    (T.ADDRESS_CHANGED, S.ALLOCATED): S.ALLOCATED,
    (T.ADDRESS_CHANGED, S.LABEL_PRINTED): S.ALLOCATED,
    (T.SPLIT, S.PAID): S.CLOSED,
    (T.SPLIT, S.ALLOCATED): S.CLOSED,
    (T.MERGED, S.ALLOCATED): S.ALLOCATED,
    (T.UNMERGED, S.ALLOCATED): S.ALLOCATED,
    **{(T.HOLD_RAISED, s): s for s in OPEN_STATES},
    **{(T.HOLD_RELEASED, s): s for s in OPEN_STATES},
}

#: Triggers that move an order forward through fulfilment: refused while any hold is open.
#: Carrier facts (delivered, returned) and closing moves (cancel, refund) are not blocked: they
#: report or end reality, and a hold must not hide them.
FORWARD_TRIGGERS: frozenset[Trigger] = frozenset(
    {T.LABEL_PRINTED, T.PICKED_UP_BY_CARRIER, T.SHIPPED_BY_STATION}
)

#: Triggers that void an existing shipping label as part of their move.
VOIDS_LABEL: frozenset[tuple[Trigger, State]] = frozenset(
    {(T.LABEL_VOIDED, S.LABEL_PRINTED), (T.ADDRESS_CHANGED, S.LABEL_PRINTED),
     (T.REFUND_APPROVED, S.LABEL_PRINTED)}
)

STATE_LABELS_ZH: dict[State, str] = {
    S.PENDING_PAYMENT: "待支付",
    S.PAID: "已支付",
    S.ALLOCATED: "已分仓",
    S.LABEL_PRINTED: "已打单",
    S.SHIPPED: "已发货",
    S.DELIVERED: "已签收",
    S.CLOSED: "已关闭",
}


STATE_LABELS_EN: dict[State, str] = {
    S.PENDING_PAYMENT: "pending payment",
    S.PAID: "paid",
    S.ALLOCATED: "allocated",
    S.LABEL_PRINTED: "label printed",
    S.SHIPPED: "shipped",
    S.DELIVERED: "delivered",
    S.CLOSED: "closed",
}


def state_label(state: str, lang: str = "zh_CN") -> str:
    """A state as people read it: 已分仓 in Chinese, "allocated" in English (unknown: as given)."""
    try:
        s = State(state)
    except ValueError:
        return state
    return (STATE_LABELS_ZH if lang.startswith("zh") else STATE_LABELS_EN)[s]


@dataclass(frozen=True)
class Transition:
    """The outcome of a legal trigger: where the order goes and whether its label is voided."""

    trigger: Trigger
    from_state: State | None
    to_state: State
    voids_label: bool


def allowed_triggers(state: State | None) -> list[Trigger]:
    """The triggers the table allows from ``state``, in table order."""
    return [t for (t, s) in TRANSITIONS if s == state]


def apply_trigger(state: State | None, trigger: Trigger | str, *, held: bool = False) -> Transition:
    """Check ``trigger`` against the table and return the transition it makes.

    Args:
        state: the order's current state, or ``None`` for an order not yet created.
        trigger: the trigger (enum or its string value).
        held: whether the order has an open hold.

    Raises:
        IllegalTransition: the trigger is unknown or not allowed from ``state``.
        OrderHeld: the trigger moves the order forward and it is held.
    """
    try:
        trig = Trigger(trigger)
    except ValueError:
        raise IllegalTransition(
            f"Unknown trigger {trigger!r}.", details={"trigger": str(trigger)}
        ) from None
    to_state = TRANSITIONS.get((trig, state))
    if to_state is None:
        where = state.value if state is not None else "(new order)"
        allowed = [t.value for t in allowed_triggers(state)]
        raise IllegalTransition(
            f"'{trig.value}' is not allowed when the order is {where}; allowed: {', '.join(allowed) or 'none'}.",
            details={"state": state.value if state else None, "trigger": trig.value, "allowed": allowed},
        )
    if held and trig in FORWARD_TRIGGERS:
        raise OrderHeld(
            f"'{trig.value}' is blocked: the order has an open hold. Resolve the exception first.",
            details={"state": state.value if state else None, "trigger": trig.value},
        )
    return Transition(trig, state, to_state, (trig, state) in VOIDS_LABEL if state else False)
