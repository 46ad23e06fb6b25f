"""The desk's actions on an order: which exist, when each applies, what its payload is, what it did.

Desk staff (客服) change addresses, cancel or intercept, approve refunds, move orders to another
bench, mark a parcel delivered by hand and confirm payments. Each is one action of the table in
:mod:`core.actions` (role, payload), queued in the outbox like every action; this module holds the
desk-side rules both the dialogs (``ui/desk_actions.py``) and the two sides of an action read:

* :func:`cancel_is_intercept` — a cancel after the label is printed (or the parcel shipped) is
  not a state change but an **intercept request** (拦截): the bench's overlay
  (``core/store/overlay.py``) and the hub (``hub/actions.py``) both turn it into a
  ``cancel_request`` hold (docs/desk.md "Cancel and intercept");
* :data:`DESK_ACTIONS` — the six dialogs: action type, key, the states they apply in;
* :func:`check_recipient`, :func:`payload_for` — a dialog's input checked and turned into a payload;
* :func:`reroute_outcome` — what the hub's routing made of an address change, in words.

Qt-free: the dialogs draw, this decides (STYLE.md §18).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.actions import RECIPIENT_FIELDS
from core.address import needs_rural_phone_check, usable_phone
from core.display_names import carrier_name
from core.holds import hold_label
from core.i18n import N_, _, language
from core.roles import Role
from core.states import FULFILMENT_STATES, State, state_label

#: The hold a cancel after printing becomes (its playbook guides the bench: pull the parcel).
INTERCEPT_HOLD = "cancel_request"

#: States where a cancel is an intercept request: the label exists, the parcel may be in a bag or gone.
INTERCEPT_STATES: frozenset[State] = frozenset({State.LABEL_PRINTED, State.SHIPPED})

#: The hold's reason per state (Chinese / English, like the hub's own hold reasons).
INTERCEPT_REASONS: dict[State, str] = {
    State.LABEL_PRINTED: "打单后取消：请拦截包裹（从待发区或快递袋取出）、作废面单 / Cancelled after the label was "
                         "printed: pull the parcel from the outgoing area or the bag, void the waybill",
    State.SHIPPED: "发货后取消：请联系快递拦截并退回包裹 / Cancelled after shipment: ask the carrier to "
                   "intercept the parcel and return it",
}


def cancel_is_intercept(state: State | str) -> bool:
    """Whether a ``cancelled_by_buyer`` on an order in ``state`` becomes an intercept request."""
    try:
        return State(state) in INTERCEPT_STATES
    except ValueError:
        return False


def intercept_hold(state: State | str, why: str) -> tuple[str, str, dict[str, Any]]:
    """The hold an intercept request raises: (type, reason, details)."""
    st = State(state)
    return INTERCEPT_HOLD, INTERCEPT_REASONS[st], {"stage": st.value, "why": why, "intercept": True}


@dataclass(frozen=True)
class DeskAction:
    """One desk dialog.

    Args:
        kind: the dialog's name (``address``, ``cancel``, …).
        type: the action type it queues (:data:`core.actions.ACTIONS`).
        title: the dialog's title and the menu's words (a msgid).
        key: its shortcut on the queue page (the selected order).
        states: the states it applies in.
    """

    kind: str
    type: str
    title: str
    key: str
    states: frozenset[State]


#: The desk's dialogs, in menu order. Keys: Ctrl+Shift + a letter the queue page does not use.
DESK_ACTIONS: tuple[DeskAction, ...] = (
    DeskAction("address", "address_changed", N_("Change address…"), "Ctrl+Shift+A", FULFILMENT_STATES),
    DeskAction("cancel", "cancelled_by_buyer", N_("Cancel / intercept…"), "Ctrl+Shift+C",
               frozenset({State.PENDING_PAYMENT, State.PAID, State.ALLOCATED, *INTERCEPT_STATES})),
    DeskAction("refund", "refund_approved", N_("Approve refund…"), "Ctrl+Shift+R",
               frozenset({State.PAID, State.ALLOCATED, State.LABEL_PRINTED})),
    DeskAction("reallocate", "reallocated", N_("Move to another bench…"), "Ctrl+Shift+B",
               frozenset({State.ALLOCATED})),
    DeskAction("delivered", "delivered_by_hand", N_("Mark delivered by hand…"), "Ctrl+Shift+D",
               frozenset({State.SHIPPED})),
    DeskAction("payment", "payment_confirmed", N_("Confirm payment…"), "Ctrl+Shift+F",
               frozenset({State.PENDING_PAYMENT})),
)

BY_KIND: dict[str, DeskAction] = {a.kind: a for a in DESK_ACTIONS}

#: Who may open the dialogs (the hub refuses the actions below it anyway: core/actions.py).
DESK_ROLE = Role.DESK

#: What each dialog says it will do, per kind (``{state}``: the order's state in words).
EFFECTS: dict[str, str] = {
    "address": N_("The hub routes the order again for the new address: carrier, warehouse and the rural "
                  "and carrier-area checks. A printed label is voided and must be printed again."),
    "cancel": N_("The order is closed; its stock and unprinted waybill are given back."),
    "intercept_label_printed": N_("The label is printed: this becomes an intercept request. The bench "
                                  "pulls the parcel and voids the label; the handover refuses it."),
    "intercept_shipped": N_("The parcel has left: this becomes an intercept request. Ask the carrier "
                            "to return it; the order stays open until it is back."),
    "refund": N_("The order is closed and the refund recorded; a printed label is voided."),
    "reallocate": N_("The order moves to the chosen bench (and that bench's warehouse)."),
    "delivered": N_("The order is marked delivered by hand (the carrier did not report it). Say how you know."),
    "payment": N_("The payment is recorded and the order is routed to a warehouse and bench."),
}


def effect_text(kind: str, state: str) -> str:
    """What the dialog of ``kind`` will do to an order in ``state``."""
    if kind == "cancel" and cancel_is_intercept(state):
        return _(EFFECTS[f"intercept_{State(state).value}"])
    return _(EFFECTS[kind])


def not_applicable(action: DeskAction, state: str) -> str:
    """Why ``action`` cannot be done on an order in ``state`` ("" when it can)."""
    try:
        st = State(state)
    except ValueError:
        st = None
    if st in action.states:
        return ""
    allowed = "、".join(state_label(s.value, language()) for s in State if s in action.states)
    return _("{action}: not possible while the order is {state}; possible when it is {allowed}.").format(
        action=_(action.title).rstrip("…"), state=state_label(state, language()), allowed=allowed)


@dataclass(frozen=True)
class Problem:
    """One thing a dialog's input lacks: the field it belongs to and what to do."""

    field: str
    message: str


def check_reason(reason: str) -> list[Problem]:
    """Every desk action needs a reason a person can read later (at least two characters)."""
    if len(reason.strip()) < 2:
        return [Problem("reason", _("Type the reason (who asked, how it was confirmed)."))]
    return []


def check_recipient(fields: Mapping[str, str]) -> list[Problem]:
    """A new address as typed: name, province, city and street are needed; a phone, when given,
    must be one a courier can call (a mobile or a landline with area code).

    An address with no phone is allowed (the hub then raises its no-phone or rural hold), so the
    desk can record what the buyer gave and follow up.
    """
    problems = []
    for name, label in (("name", N_("Recipient name")), ("province", N_("Province")), ("city", N_("City")),
                        ("address", N_("Street address"))):
        if not str(fields.get(name, "")).strip():
            problems.append(Problem(name, _("{field} is required.").format(field=_(label))))
    phone = str(fields.get("phone", "")).strip()
    if phone and not usable_phone(phone):
        problems.append(Problem("phone", _("The phone number is not one a courier can call: a mobile "
                                           "(11 digits, 1…) or a landline with its area code (0xx-…).")))
    return problems


def recipient_warnings(fields: Mapping[str, str]) -> list[str]:
    """What the hub will hold the order for with this address (said before submitting, not refused)."""
    phone = str(fields.get("phone", "")).strip()
    full = "".join(str(fields.get(k, "")) for k in ("province", "city", "district", "address"))
    if needs_rural_phone_check(full, phone):
        return [_("Rural address without a phone: the order will be held until the buyer is reached.")]
    if not phone:
        return [_("No phone: the order will be held until the buyer gives a number.")]
    return []


def payload_for(kind: str, reason: str, *, recipient: Mapping[str, str] | None = None,
                bench: str = "") -> dict[str, Any]:
    """The action payload of a desk dialog (checked again by :func:`core.actions.check_payload`)."""
    payload: dict[str, Any] = {"reason": reason.strip()}
    if kind == "address":
        fields = recipient or {}
        payload["recipient"] = {**{k: str(fields.get(k, "")).strip() for k in RECIPIENT_FIELDS},
                                "postcode": str(fields.get("postcode", "")).strip()}
    elif kind == "reallocate":
        payload["bench"] = bench.strip()
    return payload


def reroute_outcome(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """What the hub made of an address change, in words: carrier, warehouse, bench, holds, label.

    ``before``: the order as the desk saw it when submitting; ``after``: the hub's snapshot.
    """
    parts = []
    old_c, new_c = before.get("carrier"), after.get("carrier")
    if new_c and old_c != new_c:
        parts.append(_("carrier {old} → {new}").format(old=carrier_name(old_c) if old_c else "—",
                                                       new=carrier_name(new_c)))
    elif not new_c:
        parts.append(_("no carrier covers the new address"))
    else:
        parts.append(_("carrier {carrier} kept").format(carrier=carrier_name(new_c)))
    if before.get("warehouse") != after.get("warehouse"):
        parts.append(_("warehouse {old} → {new}, bench {bench}").format(
            old=before.get("warehouse") or "—", new=after.get("warehouse") or "—", bench=after.get("bench") or "—"))
    if before.get("waybill_no") and before.get("waybill_no") != after.get("waybill_no"):
        parts.append(_("old waybill {waybill} voided").format(waybill=before.get("waybill_no")))
    lang = "zh_CN" if language().startswith("zh") else "en"
    holds = [hold_label(str(h.get("type")), lang) for h in after.get("holds") or []]
    if holds:
        parts.append(_("held: {holds}").format(holds="、".join(holds)))
    return "; ".join(parts)
