"""The pack flow with a bench scale: weighed step, weight check, weight_mismatch hold (no Qt).

The flow's work is carried out against a real local store and outbox (``Bench`` of
tests/core/test_packing.py); scale readings are fed as the reader would deliver them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.actions import ACTIONS
from core.holds import raise_role, release_role
from core.i18n import set_language
from core.packing import Outcome, PackFlow, Phase, Purpose, Record
from core.playbooks import PLAYBOOKS, validate
from core.roles import Role
from core.scale import Reading
from core.store import LocalStore, open_store
from core.weighing import expected_weight, format_kg, weighing_rule
from tests.helpers.snapshots import snapshot

OID = "BL20261125-000001"
LINES = [
    {"sku": "TEA-250", "name": "西湖龙井 250g", "qty": 2, "unit_price_fen": 9900, "is_gift": False, "bin": "A-02",
     "weight_g": 300},
    {"sku": "CUP-01", "name": "玻璃茶杯", "qty": 1, "unit_price_fen": 2900, "is_gift": False, "bin": "A-10",
     "weight_g": 250},
]
RULE = weighing_rule(packaging_g=120, tolerance_g=50, tolerance_pct=5)
EXPECTED = 2 * 300 + 250 + 120  # 970 g, tolerance max(50, 49) = 50


def order(**extra: Any) -> dict[str, Any]:
    extra.setdefault("lines", LINES)
    extra.setdefault("weighing", RULE)
    return snapshot(OID, state="label_printed", label_count=1, **extra)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    set_language("en")
    yield


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def make_bench(store: LocalStore, *snaps: dict[str, Any], scale: bool = True) -> Any:
    from tests.core.test_packing import Bench  # the same carrier of work as the flow's own tests

    with store.write() as conn:
        store.apply_snapshots(conn, list(snaps))
    bench = Bench(store)
    bench.flow = PackFlow(lambda: "print-first", lambda: scale)
    bench.flow.weigher.feed(Reading(0, True))  # an empty platform to start with
    return bench


def pack(bench: Any) -> list[Outcome]:
    out = bench.scan(OID)
    for code in ("TEA-250", "TEA-250", "CUP-01"):
        out = bench.scan(code)
    return out


def weigh(bench: Any, *readings: Reading) -> list[Outcome]:
    out: list[Outcome] = []
    for r in readings:
        outcome = bench.flow.reading(r)
        if outcome is not None:
            out += bench.run(outcome)
    return out


def test_expected_weight_is_units_times_quantity_plus_packaging() -> None:
    exp = expected_weight(order())
    assert exp is not None and (exp.grams, exp.tolerance_g) == (EXPECTED, 50)
    assert exp.accepts(EXPECTED + 50) and not exp.accepts(EXPECTED - 51)
    big = expected_weight(order(lines=[{**LINES[0], "qty": 20}]))  # 6120 g: 5 % is more than 50 g
    assert big is not None and big.tolerance_g == 306
    assert expected_weight(order(lines=[LINES[0], {k: v for k, v in LINES[1].items() if k != "weight_g"}])) is None
    assert expected_weight(order(weighing=None)) is None  # the site has no [weighing] rule
    assert expected_weight(order(weighing={"packaging_g": "x"})) is None
    assert format_kg(970) == "0.970 kg" and format_kg(-5) == "-0.005 kg" and format_kg(12345) == "12.345 kg"


def test_without_a_scale_the_flow_is_as_before(store: LocalStore) -> None:
    bench = make_bench(store, order(), scale=False)
    out = pack(bench)
    assert out[-1].text == f"Done: {OID} packed and shipped"
    assert bench.steps() == ["verified", "packed", "shipped_by_station"]
    assert bench.flow.reading(Reading(970, True)) is None  # a reading changes nothing


def test_packed_parcel_waits_for_a_settled_weight_then_records_it_and_ships(store: LocalStore) -> None:
    bench = make_bench(store, order())
    out = pack(bench)
    assert out[-1].phase == Phase.WEIGHING and out[-1].text == "Packed — put the parcel on the scale"
    assert bench.flow.expected() == "expected 0.970 kg ± 0.050 kg"
    assert bench.steps() == ["verified", "packed"]  # nothing shipped before it is weighed
    assert bench.scan("TEA-250")[-1].text == f"Order {OID} is already complete"
    assert weigh(bench, Reading(400, False), Reading(980, False), Reading(985, True)) == []  # not settled twice
    done = weigh(bench, Reading(985, True))
    assert done[0].text == "Weighed 0.985 kg" and done[-1].text == f"Done: {OID} packed and shipped"
    assert bench.steps() == ["verified", "packed", "weighed", "shipped_by_station"]
    [weighed] = [a for a in store.pending_actions() if a.payload.get("step") == "weighed"]
    assert weighed.payload["detail"] == {"grams": 985, "expected_g": EXPECTED, "tolerance_g": 50}
    assert store.get_order(OID).snapshot["steps"]["weighed"]  # type: ignore[union-attr]


def test_a_parcel_off_its_weight_raises_weight_mismatch_with_the_weighed_step(store: LocalStore) -> None:
    bench = make_bench(store, order())
    pack(bench)
    out = weigh(bench, Reading(700, True), Reading(700, True))  # a tea tin short
    assert out[0].text == "Weight does not match" and out[0].tone == "error"
    assert "Weighed 0.700 kg, expected 0.970 kg ± 0.050 kg" in out[0].reason
    [record] = out[0].work
    assert isinstance(record, Record) and record.purpose == Purpose.HOLD and record.hold_type == "weight_mismatch"
    held = out[-1]
    assert held.banner == "held" and held.phase == Phase.BLOCKED and held.exception is not None
    assert bench.steps() == ["verified", "packed", "weighed", "hold_raised"]  # one transaction, nothing shipped
    hold = store.get_order(OID).snapshot["holds"][0]  # type: ignore[union-attr]
    assert hold["type"] == "weight_mismatch" and hold["details"]["diff_g"] == -270
    assert bench.labels == []
    # re-checked and released at the hub (the guided dialog's action); the hub's snapshot comes back
    held_now = store.get_order(OID)
    assert held_now is not None
    released = dataclasses.replace(held_now, snapshot={**held_now.snapshot, "holds": []})
    again = bench.flow.order_changed(released)
    assert again is not None and again.phase == Phase.PRINT_FAILED and "F5" in again.reason
    retry = bench.flow.retry()  # F5: the label is printed already (print-first): hand it over
    assert retry is not None and [type(w) for w in retry.work] == [Record]
    assert retry.work[0].actions == (("shipped_by_station", {}),)  # type: ignore[union-attr]


def test_an_order_packed_earlier_without_weight_is_weighed_when_opened(store: LocalStore) -> None:
    steps = {"verified": {"at": "2026-11-25T02:00:00Z"}, "packed": {"at": "2026-11-25T02:00:00Z"}}
    bench = make_bench(store, order(steps=steps))
    [_, opened] = bench.scan(OID)
    assert opened.phase == Phase.WEIGHING and opened.activated
    assert weigh(bench, Reading(960, True), Reading(960, True))[-1].text == f"Done: {OID} packed and shipped"


def test_the_previous_parcel_must_leave_the_scale_before_the_next_is_weighed(store: LocalStore) -> None:
    bench = make_bench(store, order())
    bench.flow.weigher.feed(Reading(1500, True))
    bench.flow.weigher.feed(Reading(1500, True))
    bench.flow.weigher.taken()  # the last parcel, weighed, still on the platform
    out = pack(bench)
    assert "Lift the previous parcel off the scale first" in out[-1].reason
    assert weigh(bench, Reading(1500, True), Reading(1500, True)) == []
    assert weigh(bench, Reading(0, True), Reading(970, True), Reading(970, True))[-1].phase == Phase.DONE


def test_no_expected_weight_records_the_weight_without_a_check(store: LocalStore) -> None:
    bench = make_bench(store, order(weighing=None))
    pack(bench)
    out = weigh(bench, Reading(5000, True), Reading(5000, True))
    assert out[0].text == "Weighed 5.000 kg" and out[-1].phase == Phase.DONE
    [weighed] = [a for a in store.pending_actions() if a.payload.get("step") == "weighed"]
    assert weighed.payload["detail"] == {"grams": 5000}


def test_f5_skips_weighing_only_when_the_scale_does_not_work(store: LocalStore) -> None:
    bench = make_bench(store, order())
    pack(bench)
    refused = bench.flow.skip_weighing(scale_ok=True)
    assert refused is not None and refused.text == "The scale is working: put the parcel on it"
    assert bench.flow.phase == Phase.WEIGHING
    out = bench.run(bench.flow.skip_weighing(scale_ok=False))
    assert out[-1].phase == Phase.DONE and "weighed" not in bench.steps()


def test_weight_mismatch_rules_and_playbook() -> None:
    assert raise_role("weight_mismatch") == Role.PACKER and release_role("weight_mismatch") == Role.PACKER
    pb = PLAYBOOKS["weight_mismatch"]
    assert validate(pb, {"recheck": "corrected", "note": "少放一盒茶"}, role="packer") == []
    assert validate(pb, {"recheck": "corrected"}, role="packer")  # the note is required
    accept = {"recheck": "accept_weight", "note": "目录重量错了"}
    assert validate(pb, accept, role="packer") and validate(pb, accept, role="desk") == []
    assert ACTIONS["step"].fields[0].choices is not None and "weighed" in ACTIONS["step"].fields[0].choices
