"""Against one real hub: the weight data routing puts on orders, a bench's weighed step and
weight_mismatch hold, and the minimum client version (an old client keeps its outbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core.i18n import set_language
from core.scale import Reading
from core.sync import ClientTooOld
from core.version import CLIENT_VERSION, HEADER
from core.weighing import Weigher, expected_weight
from tests.helpers.hubapi import Session, demo
from tests.helpers.station import bench_station
from tests.hubproc import HubProcess

MINIMUM = "0.2.0"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path_factory.mktemp("hub"), env={"PACKDESK_HUB_MIN_CLIENT_VERSION": MINIMUM}).start()
    try:
        yield proc
    finally:
        proc.stop()


def workable(hub: HubProcess) -> dict[str, Any]:
    """An allocated order of bench B1 with no hold, as the hub serves it."""
    s = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None)
    s.http.headers[HEADER] = MINIMUM
    s.login()
    for o in demo(hub.url, 40, seed=5):
        snap = s.order(o["order_id"])
        if snap["state"] == "allocated" and snap["bench"] == "B1" and not snap["holds"]:
            return snap
    raise AssertionError("no workable order in the demo set")


def test_routing_puts_unit_weights_and_the_sites_rule_on_the_order(hub: HubProcess) -> None:
    snap = workable(hub)
    assert snap["weighing"] == {"packaging_g": 120, "tolerance_g": 50, "tolerance_pct": 5}  # default.toml
    assert all(isinstance(line.get("weight_g"), int) and line["weight_g"] > 0 for line in snap["lines"])
    exp = expected_weight(snap)
    assert exp is not None and exp.grams == 120 + sum(ln["weight_g"] * ln["qty"] for ln in snap["lines"])


def test_health_and_the_gate_tell_an_old_client_the_minimum(hub: HubProcess) -> None:
    assert requests.get(f"{hub.url}/api/v1/health", headers={HEADER: "0.0.1"}, timeout=10).json()[
        "min_client_version"] == MINIMUM
    r = requests.post(f"{hub.url}/api/v1/auth/login", headers={HEADER: CLIENT_VERSION}, timeout=10,
                      json={"operator": "P001", "pin": "1111", "station": "B1-PC", "bench": "B1", "device_id": "d"})
    assert r.status_code == 426 and r.json()["error"] == "client_too_old"
    assert r.json()["details"] == {"client_version": CLIENT_VERSION, "min_client_version": MINIMUM}
    for bad in ("garbage", "", "1.x"):  # an unreadable version is older than any minimum
        r = requests.get(f"{hub.url}/api/v1/changes", headers={HEADER: bad}, timeout=10)
        assert r.status_code == 426, bad


def test_an_old_client_keeps_its_outbox_and_an_updated_one_sends_it(
        hub: HubProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = workable(hub)
    oid = snap["order_id"]
    station = bench_station(tmp_path, hub.url)
    try:
        monkeypatch.setattr("core.sync.client.CLIENT_VERSION", MINIMUM)  # updated: gets the order
        station.sync()
        assert station.order(oid).state == "allocated"
        # the bench packs and weighs it: 270 g light -> the weighed step and the hold, one transaction
        exp = expected_weight(station.order(oid).snapshot)
        assert exp is not None
        w = Weigher()
        grams = [w.feed(Reading(exp.grams - 270, True)) for _ in range(2)][-1]
        assert grams == exp.grams - 270 and not exp.accepts(grams)
        detail = {"grams": grams, **exp.to_detail()}
        station.outbox.perform_many(oid, (
            ("step", {"step": "verified", "detail": {}}), ("step", {"step": "packed", "detail": {}}),
            ("step", {"step": "weighed", "detail": detail}),
            ("hold_raised", {"type": "weight_mismatch", "reason": "称重不符 / weight off",
                             "details": {**detail, "diff_g": -270}})), "P001", role="packer")
        pending = [a.action_id for a in station.store.pending_actions()]
        assert len(pending) == 4

        monkeypatch.setattr("core.sync.client.CLIENT_VERSION", "0.1.9")  # the old client again
        set_language("zh_CN")
        try:
            with pytest.raises(ClientTooOld) as caught:
                station.sync()
            assert "0.1.9" in caught.value.message and MINIMUM in caught.value.message
            assert caught.value.message.startswith("此电脑")  # Chinese first: the operator's language
            assert station.engine.state.last_error == caught.value.message and station.engine.state.outdated
            from ui.status_bar import status_text

            assert status_text(station.engine.state).startswith("▲ 此电脑的 PackDesk 需要更新")
        finally:
            set_language("en")
        assert [a.action_id for a in station.store.pending_actions()] == pending  # nothing pushed, nothing dropped
        assert station.store.get_order(oid) is not None and not station.store.conflicts()

        monkeypatch.setattr("core.sync.client.CLIENT_VERSION", MINIMUM)  # updated: everything goes
        station.sync()
        assert station.store.pending_actions() == [] and not station.engine.state.outdated
        at_hub = station.order(oid).snapshot
        assert {k: at_hub["steps"]["weighed"][k] for k in detail} == detail  # the hub keeps the detail's keys
        [hold] = [h for h in at_hub["holds"] if h["type"] == "weight_mismatch"]
        assert hold["raised_by"] == "P001" and hold["details"]["diff_g"] == -270

        # the packer re-checked and corrected it: released by the packer with the playbook's fields
        station.outbox.perform_many(oid, (("hold_released", {
            "hold_id": hold["hold_id"], "reason": "复核", "resolution": {"recheck": "corrected", "note": "少放一盒，已补"}}),
        ), "P001", role="packer")
        station.sync()
        assert station.store.pending_actions() == [] and not station.store.conflicts()
        assert not [h for h in station.order(oid).snapshot["holds"] if h["type"] == "weight_mismatch"]
        # accepting a weight the items do not explain is the desk's call: the hub refuses it from a packer
        s = Session(hub.url, operator="P001", pin="1111", station="B1-PC", bench="B1", device_id="dev-B1-PC",
                    seq=10_000)
        s.http.headers[HEADER] = MINIMUM
        s.login()
        raised = s.do(oid, "hold_raised", {"type": "weight_mismatch", "reason": "x", "details": {}})
        assert raised["outcome"] == "applied", raised
        [again] = [h for h in raised["order"]["holds"] if h["type"] == "weight_mismatch"]
        refused = s.do(oid, "hold_released", {"hold_id": again["hold_id"], "reason": "x",
                                              "resolution": {"recheck": "accept_weight", "note": "目录错"}})
        assert refused["outcome"] == "rejected" and "desk" in str(refused), refused
    finally:
        station.close()
