"""The one table of action types: what each payload must hold, who may do it, what it fires.

The bench (:mod:`core.outbox`, :mod:`core.store.overlay`) and the hub (:mod:`hub.actions`) both
read their rules from here, so the two can never disagree about an action: a payload the bench
refuses the hub refuses too, with the same error code (``bad_payload``, docs/api.md "Actions"),
and the same role minimum. What an action *does* stays with each side — the bench's optimistic
copy in ``core/store/overlay.py``, the hub's real effects in ``hub/actions.py`` — only the rules
live here. Who may raise or release a hold of each type is :mod:`core.holds`; this table refers
to it for ``hold_raised`` and ``hold_released``.

A new action type is one entry in :data:`ACTIONS` (plus its effects on each side).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import IllegalTransition, OrderHeld, UserError, ValidationFailed
from core.holds import HOLD_TYPES, raise_role, release_role
from core.i18n import N_, _, language
from core.roles import Role
from core.states import BENCH_STATES, State, Trigger, state_label

#: The bench steps a ``step`` action may name, in the order the bench does them.
STEPS: tuple[str, ...] = ("picked", "verified", "packed", "weighed")

#: The recipient fields an ``address_changed`` must carry (all text; ``postcode`` is optional).
RECIPIENT_FIELDS: tuple[str, ...] = ("name", "phone", "province", "city", "district", "address")


class BadPayload(ValidationFailed):
    """An action whose payload lacks a field or has one of the wrong shape.

    The same code on the bench (raised before anything is queued) and at the hub (the action's
    answer is ``rejected`` ``bad_payload``). ``details["field"]`` names the bad field.
    """

    code = "bad_payload"


class UnknownAction(ValidationFailed):
    """An action type that is not in :data:`ACTIONS` (hub answer: ``rejected`` ``unknown_action``)."""

    code = "unknown_action"


class NotABenchAction(ValidationFailed):
    """A type the hub takes from desks and carriers but a bench never queues (``delivered``, …)."""

    code = "not_a_bench_action"


class Forbidden(UserError):
    """The operator's role may not do this action (the hub answers ``rejected`` ``forbidden``)."""

    code = "forbidden"


@dataclass(frozen=True)
class Field:
    """One payload field.

    Args:
        name: the key in the payload.
        kind: ``"text"`` (a string), ``"object"`` (a JSON object) or ``"return_lines"`` (a return's
            graded lines, :func:`check_return_lines`).
        required: whether the field must be there.
        allow_empty: text only: whether blank text counts as given.
        choices: text only: the values allowed (``None``: any).
        keys: object only: keys that must be text in it (``recipient``'s fields).
    """

    name: str
    kind: Literal["text", "object", "return_lines"] = "text"
    required: bool = True
    allow_empty: bool = False
    choices: tuple[str, ...] | None = None
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionSpec:
    """The rules of one action type.

    Args:
        type: the action type as sent (``step``, ``label_printed``, …).
        fields: what the payload must hold; other keys are kept but not checked.
        role: the lowest role that may send it (``hold_raised`` and ``hold_released`` are further
            limited per hold type by :mod:`core.holds`, see :func:`required_role`).
        fires: the state-machine trigger it fires, or ``"step"`` for bench work (no state change).
        bench: whether a bench may queue it; the others come from desks, carriers and payment
            services through the hub only.
    """

    type: str
    fields: tuple[Field, ...]
    role: Role
    fires: Trigger | Literal["step"]
    bench: bool = True


#: How a refusal names a role (the role's code is in ``details``).
ROLE_NAMES: dict[Role, str] = {Role.PACKER: N_("packer role"), Role.DESK: N_("desk role"),
                               Role.SUPERVISOR: N_("supervisor role"), Role.ADMIN: N_("admin role")}

_REASON = Field("reason")
_OPTIONAL_REASON = Field("reason", required=False, allow_empty=True)


def _spec(type_: str, fields: tuple[Field, ...], role: Role, *, bench: bool = True) -> ActionSpec:
    return ActionSpec(type_, fields, role, "step" if type_ == "step" else Trigger(type_), bench)


#: Every action type the hub accepts (docs/api.md "Actions").
ACTIONS: dict[str, ActionSpec] = {
    s.type: s
    for s in (
        _spec("step", (Field("step", choices=STEPS), Field("detail", "object", required=False)), Role.PACKER),
        _spec("label_printed", (Field("printer"), Field("job_id")), Role.PACKER),
        _spec("label_voided", (_REASON,), Role.PACKER),
        # ``batch_id``: the handover batch (交接单) the parcel left in; ``carrier``: the batch's carrier.
        _spec("shipped_by_station", (Field("batch_id", required=False), Field("carrier", required=False)),
              Role.PACKER),
        _spec("hold_raised", (Field("type", choices=tuple(HOLD_TYPES)), _REASON,
                              Field("details", "object", required=False)), Role.PACKER),
        # No reason needed: the hub writes the playbook's summary of the resolution instead.
        _spec("hold_released", (Field("hold_id"), _OPTIONAL_REASON, Field("resolution", "object", required=False)),
              Role.PACKER),
        # Hand an open hold to a supervisor who decides (e.g. arranges China Post for an area no
        # carrier of the warehouse covers): recorded on the hold and audited; the hold stays open.
        # It changes no state, but like raising a hold it needs an open order (hold_raised's check).
        ActionSpec("hold_escalated", (Field("hold_id"), _REASON, Field("to", required=False, choices=("supervisor",))),
                   Role.PACKER, Trigger.HOLD_RAISED),
        _spec("picked_up_by_carrier", (), Role.DESK),
        _spec("address_changed", (Field("recipient", "object", keys=RECIPIENT_FIELDS), _REASON), Role.DESK),
        _spec("cancelled_by_buyer", (_REASON,), Role.DESK),
        _spec("refund_approved", (_REASON,), Role.DESK),
        _spec("payment_confirmed", (_OPTIONAL_REASON,), Role.DESK),
        _spec("reallocated", (Field("bench"), Field("warehouse", required=False, allow_empty=True)), Role.DESK),
        # Split and merge (合单), docs/split-merge.md; rules in core/split_merge.py. ``lines``: {sku: qty} to ship now;
        # ``with``: the other order IDs (comma-separated) that join this order's parcel.
        ActionSpec("order_split", (_REASON, Field("lines", "object")), Role.DESK, Trigger.SPLIT),
        ActionSpec("order_merge", (Field("with"), _OPTIONAL_REASON), Role.DESK, Trigger.MERGED),
        ActionSpec("order_unmerge", (_OPTIONAL_REASON,), Role.DESK, Trigger.UNMERGED),
        # A desk PC marks a parcel delivered by hand (the carrier never reported it): unlike the
        # carrier's ``delivered`` it may be queued by a station, and only with a reason (docs/desk.md).
        ActionSpec("delivered_by_hand", (_REASON,), Role.DESK, Trigger.DELIVERED),
        # Facts reported by desks, carriers and payment services; a bench never queues them.
        _spec("payment_timeout", (_OPTIONAL_REASON,), Role.DESK, bench=False),
        _spec("delivered", (_OPTIONAL_REASON,), Role.DESK, bench=False),
        _spec("delivery_failed", (_OPTIONAL_REASON,), Role.DESK, bench=False),
        _spec("returned_to_sender", (_OPTIONAL_REASON,), Role.DESK, bench=False),
        # A return graded at the bench (docs/returns.md): desk role, because the returns table takes
        # parcels of every bench's orders (a packer may act on its own bench's orders only) and the
        # grading starts a money decision (the refund_review hold it raises).
        _spec("return_received", (Field("lines", "return_lines"), Field("note", required=False, allow_empty=True),
                                  _OPTIONAL_REASON), Role.DESK),
        _spec("completed", (_OPTIONAL_REASON,), Role.DESK, bench=False),
    )
}

#: The types a bench may queue (the rest only reach the hub from desks and carriers).
BENCH_ACTIONS: frozenset[str] = frozenset(t for t, s in ACTIONS.items() if s.bench)


def spec_for(type_: str) -> ActionSpec:
    """The rules of ``type_``.

    Raises:
        UnknownAction: no such action type.
    """
    spec = ACTIONS.get(type_) if isinstance(type_, str) else None
    if spec is None:
        raise UnknownAction(_("Unknown action type '{type}'.").format(type=str(type_)[:40]),
                            details={"field": "type"})
    return spec


def trigger_for(type_: str) -> Trigger:
    """The state-machine trigger an action fires.

    Raises:
        UnknownAction: no such action type.
        ValueError: ``step``, which fires none (bench work changes no state).
    """
    fires = spec_for(type_).fires
    if fires == "step":
        raise ValueError("A bench step fires no trigger.")
    return Trigger(fires)


def _bad(message: str, field: str) -> BadPayload:
    return BadPayload(message, details={"field": field})


#: The unit counts of a returned line, in the order the bench fills them.
RETURN_QTYS: tuple[str, ...] = ("qty_good", "qty_damaged", "qty_missing")
MAX_RETURN_LINES = 200
MAX_RETURN_QTY = 100_000


def check_return_lines(value: Any, field: str = "lines") -> None:
    """A return's lines: ``[{sku, qty_good, qty_damaged, qty_missing}]``, one per SKU, counts >= 0,
    at least one unit in all (checked on the bench before queuing and at the hub alike).

    Raises:
        BadPayload: naming the field (``lines`` or ``lines[i].qty_good`` …).
    """
    if not isinstance(value, list) or not value or len(value) > MAX_RETURN_LINES:
        raise _bad(_("'{field}' must be a list of 1 to {n} returned lines.").format(field=field, n=MAX_RETURN_LINES),
                   field)
    seen: set[str] = set()
    total = 0
    for i, line in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(line, dict):
            raise _bad(_("'{field}' must be an object.").format(field=where), where)
        sku = line.get("sku")
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 64:
            raise _bad(_("'{field}' is required (text).").format(field=where + ".sku"), where + ".sku")
        if sku in seen:
            raise _bad(_("SKU {sku} is listed twice in '{field}'.").format(sku=sku, field=field), where + ".sku")
        seen.add(sku)
        for key in RETURN_QTYS:
            qty = line.get(key, 0)
            if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_RETURN_QTY:
                raise _bad(_("'{field}' must be a whole number from 0 to {n}.").format(
                    field=f"{where}.{key}", n=MAX_RETURN_QTY), f"{where}.{key}")
            total += qty
    if total == 0:
        raise _bad(_("A return must count at least one unit (good, damaged or missing)."), field)


def _check_field(f: Field, payload: Mapping[str, Any]) -> None:
    if f.kind == "return_lines":
        check_return_lines(payload.get(f.name), f.name)
        return
    if f.name not in payload:
        if f.required:
            if f.kind == "object":
                raise _bad(_("'{field}' is required (an object).").format(field=f.name), f.name)
            raise _bad(_("'{field}' is required (text).").format(field=f.name), f.name)
        return
    value = payload[f.name]
    if f.kind == "object":
        if not isinstance(value, dict):
            raise _bad(_("'{field}' must be an object.").format(field=f.name), f.name)
        for key in f.keys:
            if not isinstance(value.get(key), str):
                raise _bad(_("'{field}' needs {keys} (all text).").format(field=f.name, keys=", ".join(f.keys)),
                           f"{f.name}.{key}")
        return
    if not isinstance(value, str) or (not f.allow_empty and not value.strip()):
        if f.required:
            raise _bad(_("'{field}' is required (text).").format(field=f.name), f.name)
        raise _bad(_("'{field}' must be text.").format(field=f.name), f.name)
    if f.choices is not None and value not in f.choices:
        raise _bad(_("'{field}' must be one of {choices}.").format(field=f.name, choices=", ".join(f.choices)),
                   f.name)


def check_payload(type_: str, payload: Any) -> None:
    """Check an action's payload against its type's rules (bench before queuing, hub on arrival).

    Raises:
        UnknownAction: the type is not in :data:`ACTIONS`.
        BadPayload: a field is missing or of the wrong shape; ``details["field"]`` names it.
    """
    spec = spec_for(type_)
    if not isinstance(payload, dict):
        raise _bad(_("An action's payload must be an object."), "payload")
    for f in spec.fields:
        _check_field(f, payload)


def check_bench_action(type_: str, payload: Any) -> None:
    """:func:`check_payload`, and refuse the types a bench may not queue (carrier and payment facts).

    Raises:
        UnknownAction, NotABenchAction, BadPayload.
    """
    if not spec_for(type_).bench:
        raise NotABenchAction(
            _("'{type}' is reported to the hub by the desk or the carrier; it cannot be done on a bench.").format(
                type=type_), details={"field": "type"})
    check_payload(type_, payload)


def _higher(a: Role, b: Role) -> Role:
    return a if a.at_least(b) else b


def required_role(type_: str, payload: Mapping[str, Any], open_holds: Iterable[Mapping[str, Any]]) -> Role:
    """The lowest role that may do this action on an order with ``open_holds``.

    The type's own minimum, raised for holds by :mod:`core.holds`: raising a hold needs the raise
    role of its type, releasing one the release role of the open hold it names (a hold that is not
    open leaves the type's minimum; the release itself is then refused as illegal).

    Raises:
        UnknownAction: the type is not in :data:`ACTIONS`.
    """
    need = spec_for(type_).role
    if type_ == "hold_raised":
        need = _higher(need, raise_role(str(payload.get("type"))))
    elif type_ == "hold_released":
        hold = next((h for h in open_holds if h.get("hold_id") == payload.get("hold_id")), None)
        if hold is not None:
            need = _higher(need, release_role(str(hold.get("type"))))
    return need


def check_role(role: Role | str, type_: str, payload: Mapping[str, Any],
               open_holds: Iterable[Mapping[str, Any]] = ()) -> None:
    """Refuse the action if ``role`` is below :func:`required_role`.

    Raises:
        Forbidden: with ``details`` ``type``, ``needed`` and ``role``.
        UnknownAction: the type is not in :data:`ACTIONS`.
    """
    have = Role(role)
    need = required_role(type_, payload, open_holds)
    if not have.at_least(need):
        raise Forbidden(
            _("'{type}' needs the {needed} or above; you are logged in with the {role}.").format(
                type=type_, needed=_(ROLE_NAMES[need]), role=_(ROLE_NAMES[have])),
            details={"type": type_, "needed": need.value, "role": have.value})


def check_step(state: State | str, held: bool, step: str = "") -> None:
    """The state rule of a bench step: only on a bench-workable order, and never while it is held.

    Checked in the order of :func:`core.states.apply_trigger`: the state first, then the hold.

    Raises:
        IllegalTransition: the order is not in :data:`core.states.BENCH_STATES`.
        OrderHeld: the order has an open hold.
    """
    st = State(state)
    if st not in BENCH_STATES:
        raise IllegalTransition(
            _("Bench step '{step}' needs the order allocated or label printed; it is {state}.").format(
                step=step, state=state_label(st.value, language())), details={"state": st.value, "trigger": "step"})
    if held:
        raise OrderHeld(
            _("Bench step '{step}' is blocked: the order has an open hold. Resolve the exception first.").format(
                step=step), details={"state": st.value, "trigger": "step"})


def open_hold(holds: Iterable[Mapping[str, Any]], hold_id: str, order_id: str = "") -> Mapping[str, Any]:
    """The open hold a ``hold_released`` names.

    Raises:
        IllegalTransition: no such hold is open on the order (never raised, or released already).
    """
    hold = next((h for h in holds if h.get("hold_id") == hold_id), None)
    if hold is None:
        raise IllegalTransition(
            _("Hold {hold_id} is not open on order {order_id} (already released?).").format(
                hold_id=hold_id, order_id=order_id), details={"field": "hold_id", "order_id": order_id})
    return hold


def check_fields(fields: Iterable[Field], payload: Any) -> None:
    """Check ``payload`` against ``fields`` as :func:`check_payload` does (other tables, e.g. :mod:`core.tickets`).

    Raises:
        BadPayload: a field is missing or of the wrong shape; ``details["field"]`` names it.
    """
    if not isinstance(payload, dict):
        raise _bad(_("An action's payload must be an object."), "payload")
    for f in fields:
        _check_field(f, payload)
