"""The transition table: every trigger from every state, legal or refused with a reason."""

from __future__ import annotations

import pytest

from core.errors import IllegalTransition, OrderHeld
from core.states import (
    FORWARD_TRIGGERS,
    OPEN_STATES,
    TRANSITIONS,
    State,
    Trigger,
    allowed_triggers,
    apply_trigger,
)

# The table from DESIGN.md, written out independently of core/states.py.
EXPECTED = {
    "created": {None: "pending_payment"},
    "payment_confirmed": {"pending_payment": "paid"},
    "payment_timeout": {"pending_payment": "closed"},
    "cancelled_by_buyer": {"pending_payment": "closed", "paid": "closed", "allocated": "closed"},
    "allocated": {"paid": "allocated"},
    "reallocated": {"allocated": "allocated"},
    "label_printed": {"allocated": "label_printed"},
    "label_voided": {"label_printed": "allocated"},
    "picked_up_by_carrier": {"label_printed": "shipped"},
    "shipped_by_station": {"label_printed": "shipped"},
    "delivered": {"shipped": "delivered"},
    "delivery_failed": {"shipped": "shipped"},
    "returned_to_sender": {"shipped": "closed"},
    "refund_approved": {"paid": "closed", "allocated": "closed", "label_printed": "closed", "shipped": "closed",
                        "delivered": "closed"},
    "return_received": {"shipped": "shipped", "delivered": "delivered"},
    "completed": {"delivered": "closed"},
    "address_changed": {"paid": "paid", "allocated": "allocated", "label_printed": "allocated"},
    "hold_raised": {s.value: s.value for s in OPEN_STATES},
    "hold_released": {s.value: s.value for s in OPEN_STATES},
    "split": {"paid": "closed", "allocated": "closed"},
    "merged": {"allocated": "allocated"},
    "unmerged": {"allocated": "allocated"},
}

ALL_FROM: list[State | None] = [None, *State]


def test_there_are_seven_states_and_twenty_two_triggers() -> None:
    assert len(State) == 7
    assert len(Trigger) == 22
    assert {t.value for t in Trigger} == set(EXPECTED)


@pytest.mark.parametrize("trigger", list(Trigger), ids=lambda t: t.value)
@pytest.mark.parametrize("state", ALL_FROM, ids=lambda s: s.value if s else "new")
def test_every_trigger_from_every_state_matches_the_design_table(trigger: Trigger, state: State | None) -> None:
    expected = EXPECTED[trigger.value].get(state.value if state else None)
    if expected is None:
        with pytest.raises(IllegalTransition) as err:
            apply_trigger(state, trigger)
        assert trigger.value in err.value.message and "allowed" in err.value.message
        assert err.value.details["trigger"] == trigger.value
    else:
        assert apply_trigger(state, trigger).to_state.value == expected


@pytest.mark.parametrize("trigger", sorted(FORWARD_TRIGGERS), ids=lambda t: t.value)
def test_a_held_order_cannot_move_forward(trigger: Trigger) -> None:
    state = next(s for (t, s) in TRANSITIONS if t == trigger)
    with pytest.raises(OrderHeld):
        apply_trigger(state, trigger, held=True)
    assert apply_trigger(state, trigger, held=False)


def test_a_held_order_can_still_be_cancelled_and_released() -> None:
    assert apply_trigger(State.ALLOCATED, Trigger.CANCELLED_BY_BUYER, held=True).to_state is State.CLOSED
    assert apply_trigger(State.ALLOCATED, Trigger.HOLD_RELEASED, held=True).to_state is State.ALLOCATED


def test_unknown_trigger_is_refused_in_plain_words() -> None:
    with pytest.raises(IllegalTransition, match="Unknown trigger"):
        apply_trigger(State.PAID, "teleported")


def test_address_change_and_refund_after_printing_void_the_label() -> None:
    assert apply_trigger(State.LABEL_PRINTED, Trigger.ADDRESS_CHANGED).voids_label
    assert apply_trigger(State.LABEL_PRINTED, Trigger.REFUND_APPROVED).voids_label
    assert not apply_trigger(State.ALLOCATED, Trigger.ADDRESS_CHANGED).voids_label


def test_closed_orders_accept_nothing() -> None:
    assert allowed_triggers(State.CLOSED) == []
