"""The playbooks are complete data, and validate() says in plain words why a resolution is locked."""

from __future__ import annotations

import pytest

from core.holds import HOLD_TYPES, release_role
from core.playbooks import PLAYBOOKS, Options, check, is_required, summary, validate
from core.roles import Role


def test_every_hold_type_has_a_complete_bilingual_playbook() -> None:
    assert set(PLAYBOOKS) == set(HOLD_TYPES)
    for pb in PLAYBOOKS.values():
        assert pb.title.zh and pb.title.en and pb.guidance and pb.effect.zh and pb.effect.en
        assert any(is_required(f, {}) or f.required_when for f in pb.fields), pb.type
        for f in pb.fields:
            assert f.label.zh and f.label.en
            if f.kind == "choice":
                assert f.choices and all(c.label.zh and c.label.en for c in f.choices)
        assert pb.release_role is release_role(pb.type)


def test_empty_resolution_is_locked_with_reasons_in_both_languages() -> None:
    reasons = validate(PLAYBOOKS["rural_no_phone"], {})
    assert reasons == ["请选择买家如何确认 / choose: How the buyer confirmed",
                       "请填写确认后的详细地址 / fill in: Confirmed address"]


def test_complete_resolution_passes_and_summarises() -> None:
    pb = PLAYBOOKS["rural_no_phone"]
    values = {"confirmed_via": "sms", "confirmed_address": "汲冢镇丁楼村3组12号"}
    assert validate(pb, values, role="desk") == []
    assert summary(pb, values).startswith("短信；确认后的详细地址：汲冢镇丁楼村3组12号 / SMS;")


@pytest.mark.parametrize(("values", "field"), [
    ({"confirmed_via": "fax", "confirmed_address": "某某村3组12号"}, "confirmed_via"),
    ({"confirmed_via": "sms", "confirmed_address": "3组"}, "confirmed_address"),
    ({"confirmed_via": "sms", "confirmed_address": "某某村3组12号", "phone": "138****0000"}, "phone"),
])
def test_bad_values_name_the_field(values: dict[str, str], field: str) -> None:
    assert [p.field for p in check(PLAYBOOKS["rural_no_phone"], values)] == [field]


def test_role_and_escalation_choices() -> None:
    vip = PLAYBOOKS["vip_signoff"]
    problems = check(vip, {"packaging_checked": True}, role=Role.DESK)
    assert [(p.field, p.message, p.forbidden) for p in problems] == [("", "需要主管 / needs supervisor", True)]
    assert check(vip, {"packaging_checked": True}, role=Role.SUPERVISOR) == []
    assert validate(vip, {"packaging_checked": False}, role="admin") == ["请勾选“已核对定制包装要求，可以打包” / "
                                                                         "tick 'Packaging request checked; the bench may pack'"]
    rural = {"confirmed_via": "unreachable", "confirmed_address": "某某村3组12号"}
    assert check(PLAYBOOKS["rural_no_phone"], rural, role="desk")[0].forbidden
    assert check(PLAYBOOKS["rural_no_phone"], rural, role="supervisor") == []


def test_conditional_fields_and_options() -> None:
    gift = PLAYBOOKS["gift_stock"]
    opts = Options(gift_skus={"GIFT-BAG-01"})
    assert validate(gift, {"decision": "without_gift", "consent_by": "买家"}, options=opts) == []
    assert [p.field for p in check(gift, {"decision": "substitute", "consent_by": "买家"}, options=opts)] == [
        "substitute_sku"]
    bad = check(gift, {"decision": "substitute", "substitute_sku": "GIFT-TEA-01", "consent_by": "买家"}, options=opts)
    assert [p.field for p in bad] == ["substitute_sku"] and "GIFT-TEA-01" in bad[0].message
    area = PLAYBOOKS["carrier_area"]
    opts = Options(carriers={"SF", "ZTO"}, covering_carriers=set())
    base = {"carrier": "SF", "reason": "区域经理安排"}
    assert [p.field for p in check(area, {**base, "decision": "other_carrier"}, options=opts)] == ["carrier"]
    assert check(area, {**base, "decision": "escalate"}, options=opts, role="supervisor") == []


def test_options_round_trip_through_the_wire_shape_and_unknown_sets_stay_unknown() -> None:
    from core.playbooks import Options

    opts = Options(gift_skus={"G2", "G1"}, carriers={"SF"}, names={"G1": "小样", "SF": "顺丰"})
    wire = opts.to_wire()
    assert wire == {"gift_skus": ["G1", "G2"], "carriers": ["SF"], "names": {"G1": "小样", "SF": "顺丰"}}
    back = Options.from_wire(wire)
    assert set(back.gift_skus or ()) == {"G1", "G2"} and back.skus is None and back.covering_carriers is None
    assert Options.from_wire("garbage") == Options()
    assert Options.from_wire({"skus": "A1", "names": [1]}).skus is None
    merged = Options(skus={"A1"}).merged(back)
    assert merged.skus == {"A1"} and set(merged.gift_skus or ()) == {"G1", "G2"}
