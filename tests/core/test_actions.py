"""The action table (core/actions.py): every type's payload rules, role minimums and bench flag,
and the hub refusing the same bad payloads with the same codes as the bench.

The expectations here are written out by hand from docs/api.md ("Actions"), not derived from the
table, so a rule dropped from the table fails a test instead of silently shrinking it.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.actions import (
    ACTIONS,
    BENCH_ACTIONS,
    BadPayload,
    Forbidden,
    NotABenchAction,
    UnknownAction,
    check_bench_action,
    check_payload,
    check_role,
    check_step,
    open_hold,
    required_role,
    trigger_for,
)
from core.errors import IllegalTransition, OrderHeld, ValidationFailed
from core.roles import Role
from core.states import Trigger
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess

RECIPIENT = {"name": "王五", "phone": "13800000000", "province": "广东省", "city": "广州市", "district": "天河区",
             "address": "体育西路 1 号"}

#: A payload each type accepts (every type the hub takes).
GOOD: dict[str, dict[str, Any]] = {
    "step": {"step": "weighed", "detail": {"grams": 850}},
    "label_printed": {"printer": "ZD420", "job_id": "j1"},
    "label_voided": {"reason": "misprint"},
    "shipped_by_station": {},
    "hold_raised": {"type": "scan_mismatch", "reason": "wrong item", "details": {"sku": "X"}},
    "hold_released": {"hold_id": "h1", "reason": "rescanned", "resolution": {}},
    "hold_escalated": {"hold_id": "h1", "reason": "no carrier covers it; manager decides", "to": "supervisor"},
    "picked_up_by_carrier": {},
    "address_changed": {"recipient": RECIPIENT, "reason": "buyer asked"},
    "cancelled_by_buyer": {"reason": "buyer asked"},
    "refund_approved": {"reason": "damaged"},
    "payment_confirmed": {"reason": "bank transfer seen"},
    "reallocated": {"bench": "B2", "warehouse": "WH-SH"},
    "payment_timeout": {"reason": "30 min"},
    "delivered": {},
    "delivered_by_hand": {"reason": "buyer confirmed on the phone"},
    "delivery_failed": {"reason": "nobody home"},
    "returned_to_sender": {},
    "return_received": {"lines": [{"sku": "SKU-1", "qty_good": 1, "qty_damaged": 0, "qty_missing": 0}]},
    "completed": {},
    "order_split": {"reason": "back-order the rest", "lines": {"SKU-1": 1}},
    "order_merge": {"with": "BL20260222-008633"},
    "order_unmerge": {},
}
HUB_ONLY = {"payment_timeout", "delivered", "delivery_failed", "returned_to_sender", "completed"}

#: Fields that must be there, by kind.
REQUIRED_TEXT: dict[str, list[str]] = {
    "step": ["step"], "label_printed": ["printer", "job_id"], "label_voided": ["reason"],
    "hold_raised": ["type", "reason"], "hold_released": ["hold_id"], "address_changed": ["reason"],
    "hold_escalated": ["hold_id", "reason"],
    "cancelled_by_buyer": ["reason"], "refund_approved": ["reason"], "reallocated": ["bench"],
    "delivered_by_hand": ["reason"],
}
REQUIRED_OBJECT: dict[str, list[str]] = {"address_changed": ["recipient"]}
#: Fields that may be left out but, when given, must have their kind.
OPTIONAL_TEXT: dict[str, list[str]] = {
    "hold_released": ["reason"], "payment_confirmed": ["reason"], "reallocated": ["warehouse"],
    **{t: ["reason"] for t in HUB_ONLY}, "return_received": ["reason", "note"],
}
OPTIONAL_OBJECT: dict[str, list[str]] = {"step": ["detail"], "hold_raised": ["details"], "hold_released": ["resolution"]}
#: Text fields with a closed set of values.
CHOICES: dict[str, str] = {"step": "step", "hold_raised": "type", "hold_escalated": "to"}
#: Types that fire another type's trigger (no state change of their own).
FIRES: dict[str, Trigger] = {"hold_escalated": Trigger.HOLD_RAISED, "order_split": Trigger.SPLIT,
                              "order_merge": Trigger.MERGED, "order_unmerge": Trigger.UNMERGED,
                              "delivered_by_hand": Trigger.DELIVERED}

#: The lowest role per type (hold types aside).
MIN_ROLE: dict[str, Role] = {
    **dict.fromkeys(["step", "label_printed", "label_voided", "shipped_by_station", "hold_raised", "hold_released",
                     "hold_escalated"], Role.PACKER),
    **dict.fromkeys(["picked_up_by_carrier", "address_changed", "cancelled_by_buyer", "refund_approved",
                     "payment_confirmed", "reallocated", "return_received", "order_split", "order_merge",
                     "order_unmerge", "delivered_by_hand", *HUB_ONLY], Role.DESK),
}


def bad_cases() -> list[tuple[str, dict[str, Any], str]]:
    """(type, payload, the field the refusal must name) for every way a payload can be wrong."""
    cases: list[tuple[str, dict[str, Any], str]] = []
    for kind, good in GOOD.items():
        for f in REQUIRED_TEXT.get(kind, []):
            cases.append((kind, {k: v for k, v in good.items() if k != f}, f))
            cases += [(kind, {**good, f: v}, f) for v in (None, 5, "   ", ["x"])]
        for f in REQUIRED_OBJECT.get(kind, []):
            cases.append((kind, {k: v for k, v in good.items() if k != f}, f))
            cases += [(kind, {**good, f: v}, f) for v in ("text", [1], None)]
        for f in OPTIONAL_TEXT.get(kind, []):
            cases += [(kind, {**good, f: v}, f) for v in (5, {"x": 1})]
        for f in OPTIONAL_OBJECT.get(kind, []):
            cases += [(kind, {**good, f: v}, f) for v in ("text", [1], 7)]
        if kind in CHOICES:
            cases.append((kind, {**good, CHOICES[kind]: "juggled"}, CHOICES[kind]))
    for key in RECIPIENT:
        rec = {k: v for k, v in RECIPIENT.items() if k != key}
        cases.append(("address_changed", {**GOOD["address_changed"], "recipient": rec}, f"recipient.{key}"))
        cases.append(("address_changed", {**GOOD["address_changed"], "recipient": {**RECIPIENT, key: 1}},
                      f"recipient.{key}"))
    return cases


BAD = bad_cases()


def test_the_table_has_every_type_the_hub_accepts_and_each_fires_its_trigger() -> None:
    assert set(ACTIONS) == set(GOOD)
    assert set(BENCH_ACTIONS) == set(GOOD) - HUB_ONLY
    for kind, spec in ACTIONS.items():
        assert spec.type == kind
        assert spec.fires == ("step" if kind == "step" else FIRES.get(kind) or Trigger(kind))
        if kind != "step":
            assert trigger_for(kind) is (FIRES.get(kind) or Trigger(kind))
    with pytest.raises(ValueError):
        trigger_for("step")


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_a_good_payload_passes(kind: str) -> None:
    check_payload(kind, GOOD[kind])
    check_payload(kind, {**GOOD[kind], "extra": {"kept": True}})  # other keys are not the table's business


@pytest.mark.parametrize("kind", sorted(set(OPTIONAL_TEXT) | set(OPTIONAL_OBJECT)))
def test_optional_fields_may_be_left_out(kind: str) -> None:
    optional = {*OPTIONAL_TEXT.get(kind, []), *OPTIONAL_OBJECT.get(kind, [])}
    check_payload(kind, {k: v for k, v in GOOD[kind].items() if k not in optional})


def test_blank_text_is_fine_where_a_field_is_optional() -> None:
    check_payload("payment_confirmed", {"reason": ""})
    check_payload("reallocated", {"bench": "B2", "warehouse": ""})


@pytest.mark.parametrize(("kind", "payload", "field"), BAD, ids=[f"{k}-{f}-{i}" for i, (k, _p, f) in enumerate(BAD)])
def test_a_bad_payload_is_refused_with_the_shared_code_naming_the_field(kind: str, payload: dict[str, Any],
                                                                        field: str) -> None:
    with pytest.raises(BadPayload) as info:
        check_payload(kind, payload)
    assert info.value.code == "bad_payload" and isinstance(info.value, ValidationFailed)
    assert info.value.details["field"] == field
    assert info.value.message


@pytest.mark.parametrize("payload", [None, [], "step", 5])
def test_a_payload_that_is_not_an_object_is_refused(payload: Any) -> None:
    with pytest.raises(BadPayload) as info:
        check_payload("step", payload)
    assert info.value.details["field"] == "payload"


@pytest.mark.parametrize("kind", ["teleport", "", "Step", None, 5])
def test_an_unknown_type_is_refused(kind: Any) -> None:
    with pytest.raises(UnknownAction) as info:
        check_payload(kind, {})
    assert info.value.code == "unknown_action" and info.value.details == {"field": "type"}
    with pytest.raises(UnknownAction):
        required_role(kind, {}, [])


@pytest.mark.parametrize("kind", sorted(HUB_ONLY))
def test_a_bench_may_not_queue_carrier_and_payment_facts(kind: str) -> None:
    with pytest.raises(NotABenchAction) as info:
        check_bench_action(kind, GOOD[kind])
    assert info.value.details == {"field": "type"}


@pytest.mark.parametrize("kind", sorted(set(GOOD) - HUB_ONLY))
def test_a_bench_may_queue_the_rest_and_they_are_still_checked(kind: str) -> None:
    check_bench_action(kind, GOOD[kind])
    bad = next(p for k, p, _f in BAD if k == kind) if any(k == kind for k, _p, _f in BAD) else None
    if bad is not None:
        with pytest.raises(BadPayload):
            check_bench_action(kind, bad)


@pytest.mark.parametrize("kind", sorted(MIN_ROLE))
def test_role_minimums(kind: str) -> None:
    need = MIN_ROLE[kind]
    assert required_role(kind, GOOD[kind], []) is need
    for role in Role:
        if role.at_least(need):
            check_role(role, kind, GOOD[kind], [])
        else:
            with pytest.raises(Forbidden) as info:
                check_role(role.value, kind, GOOD[kind], [])
            assert info.value.code == "forbidden"
            assert info.value.details == {"type": kind, "needed": need.value, "role": role.value}


def hold(hold_id: str, type_: str) -> dict[str, Any]:
    return {"hold_id": hold_id, "type": type_, "reason": "r", "raised_at": "", "raised_by": "P001", "details": {}}


@pytest.mark.parametrize(("kind", "payload", "holds", "need"), [
    ("hold_raised", {"type": "scan_mismatch", "reason": "r"}, [], Role.PACKER),
    ("hold_raised", {"type": "item_missing", "reason": "r"}, [], Role.PACKER),
    ("hold_raised", {"type": "vip_signoff", "reason": "r"}, [], Role.DESK),
    ("hold_raised", {"type": "gift_stock", "reason": "r"}, [], Role.DESK),
    ("hold_released", {"hold_id": "h1"}, [hold("h1", "vip_signoff")], Role.SUPERVISOR),
    ("hold_released", {"hold_id": "h1"}, [hold("h1", "gift_stock")], Role.DESK),
    ("hold_released", {"hold_id": "h1"}, [hold("h1", "scan_mismatch")], Role.PACKER),
    ("hold_released", {"hold_id": "h2"}, [hold("h1", "vip_signoff")], Role.PACKER),  # not open: refused as illegal
    ("hold_released", {"hold_id": "h2"}, [hold("h1", "scan_mismatch"), hold("h2", "vip_signoff")], Role.SUPERVISOR),
])
def test_hold_roles_come_from_core_holds(kind: str, payload: dict[str, Any], holds: list[dict[str, Any]],
                                         need: Role) -> None:
    assert required_role(kind, payload, holds) is need
    for role in Role:
        if role.at_least(need):
            check_role(role, kind, payload, holds)
        else:
            with pytest.raises(Forbidden):
                check_role(role, kind, payload, holds)


def test_the_step_rule_checks_the_state_then_the_hold() -> None:
    check_step("allocated", False, "packed")
    check_step("label_printed", False, "packed")
    with pytest.raises(IllegalTransition):
        check_step("shipped", True, "packed")  # not a bench state: illegal, held or not
    with pytest.raises(IllegalTransition):
        check_step("paid", False, "packed")
    with pytest.raises(OrderHeld):
        check_step("allocated", True, "packed")


def test_a_release_needs_the_hold_open() -> None:
    assert open_hold([hold("h1", "gift_stock")], "h1")["type"] == "gift_stock"
    with pytest.raises(IllegalTransition) as info:
        open_hold([hold("h1", "gift_stock")], "h9", "BL1")
    assert info.value.details == {"field": "hold_id", "order_id": "BL1"}


# --- the hub refuses the same with the same codes ------------------------------------------------

def test_the_hub_refuses_the_same_bad_payloads_with_the_same_codes(sqlite_hub: HubProcess) -> None:
    demo(sqlite_hub.url, 12, seed=5)
    admin = Session(sqlite_hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
    order = next(o for o in admin.get("/api/v1/orders", limit=100).json()["orders"] if o["state"] == "allocated")
    oid = order["order_id"]
    cases: list[tuple[str, dict[str, Any], str]] = [(k, p, "bad_payload") for k, p, _f in BAD]
    cases += [("teleport", {}, "unknown_action"), ("Step", GOOD["step"], "unknown_action")]
    for kind, payload, code in cases:  # the bench's answer first: the code the hub must give too
        with pytest.raises(ValidationFailed) as info:
            check_payload(kind, payload)
        assert info.value.code == code
    answers: list[dict[str, Any]] = []
    for i in range(0, len(cases), 400):
        answers += admin.send(*(admin.action(oid, k, p) for k, p, _c in cases[i:i + 400]))
    got = [(k, p, (r["outcome"], r["error"])) for (k, p, _c), r in zip(cases, answers, strict=True)]
    assert [g for g, (_k, _p, c) in zip(got, cases, strict=True) if g[2] != ("rejected", c)] == []
    assert admin.order(oid)["version"] == order["version"]  # nothing refused left a trace

    # Good payloads pass the same check at the hub (whatever the state machine then says).
    good = admin.send(*(admin.action(oid, k, p) for k, p in GOOD.items()))
    assert [(k, r["error"]) for k, r in zip(GOOD, good, strict=True) if r["error"] in ("bad_payload", "unknown_action")] == []


def test_the_hub_applies_the_same_role_minimums(sqlite_hub: HubProcess) -> None:
    demo(sqlite_hub.url, 40, seed=11)
    desk = Session(sqlite_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    orders = desk.get("/api/v1/orders", limit=1000).json()["orders"]
    target = next(o for o in orders if o["state"] == "allocated" and not o["holds"])
    packer = Session(sqlite_hub.url, station=f"{target['bench']}-PC", bench=target["bench"]).login()
    oid = target["order_id"]
    desk_only = [k for k, r in MIN_ROLE.items() if r is Role.DESK]
    for kind in desk_only:  # the bench's answer for a packer, then the hub's
        with pytest.raises(Forbidden):
            check_role(Role.PACKER, kind, GOOD[kind], [])
    answers = packer.send(*(packer.action(oid, k, GOOD[k]) for k in desk_only))
    assert [(k, r["error"]) for k, r in zip(desk_only, answers, strict=True)] == [(k, "forbidden") for k in desk_only]

    vip = {"type": "vip_signoff", "reason": "custom box"}
    with pytest.raises(Forbidden):
        check_role(Role.PACKER, "hold_raised", vip, [])
    assert (packer.do(oid, "hold_raised", vip)["error"]) == "forbidden"
    raised = desk.do(oid, "hold_raised", vip)
    assert raised["outcome"] == "applied", raised
    [vip_hold] = raised["order"]["holds"]
    release = {"hold_id": vip_hold["hold_id"], "reason": "ok", "resolution": {"packaging_checked": True}}
    with pytest.raises(Forbidden):
        check_role(Role.DESK, "hold_released", release, raised["order"]["holds"])
    assert desk.do(oid, "hold_released", release)["error"] == "forbidden"
    assert desk.order(oid)["holds"] == [vip_hold]
