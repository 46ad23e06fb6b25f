"""Actions over real HTTP: idempotent, ordered, conflicts shown, roles and benches enforced."""

from __future__ import annotations

import threading
import uuid

import requests

from core.action_sig import sign
from core.timeutil import iso, utcnow
from tests.helpers.clock import HubClock
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess


def setup(hub: HubProcess, n: int = 40) -> tuple[Session, dict[str, dict], Session]:
    """Demo orders, a desk session, and a packer logged in on the bench of an unheld allocated order."""
    demo(hub.url, n, seed=11)
    d = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    orders = {o["order_id"]: o for o in d.get("/api/v1/orders", limit=1000).json()["orders"]}
    target = next(o for o in orders.values() if o["state"] == "allocated" and not o["holds"])
    packer = Session(hub.url, station=f"{target['bench']}-PC", bench=target["bench"]).login()
    return d, orders, packer


def signed(action: dict, key: dict[str, str] | None) -> dict:
    assert key is not None
    return {**action, "key_id": key["key_id"], "sig": sign(key["key"], action)}


def free_orders(orders: dict[str, dict], bench: str) -> list[dict]:
    return [o for o in orders.values() if o["state"] == "allocated" and not o["holds"] and o["bench"] == bench]


def audit(s: Session, order_id: str) -> list[dict]:
    return s.get(f"/api/v1/orders/{order_id}/audit").json()["entries"]


def test_a_replayed_batch_gets_the_same_answers_and_has_no_second_effect(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    batch = [p.action(o["order_id"], "step", {"step": "picked"}, base_version=o["version"]),
             p.action(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=o["version"])]
    first = p.send(*batch)
    assert [r["outcome"] for r in first] == ["applied", "applied"]
    again = p.send(*batch)
    assert [r["outcome"] for r in again] == ["duplicate", "duplicate"]
    assert [r["first_outcome"] for r in again] == ["applied", "applied"]
    assert [r["order"]["version"] for r in again] == [r["order"]["version"] for r in first]
    after = d.order(o["order_id"])
    assert after["label_count"] == 1 and after["state"] == "label_printed"
    ids = [e["action_id"] for e in audit(d, o["order_id"]) if e["action_id"]]
    assert sorted(ids) == sorted(a["action_id"] for a in batch)
    me = p.get("/api/v1/devices/me").json()
    assert me["last_applied_seq"] == batch[-1]["seq"]


def test_an_offline_action_on_a_cancelled_order_is_a_conflict_and_does_not_block_the_rest(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    a, b = free_orders(orders, p.bench or "")[:2]
    assert d.do(a["order_id"], "cancelled_by_buyer", {"reason": "buyer asked"}, base_version=a["version"])["outcome"] == "applied"
    results = p.send(p.action(a["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=a["version"]),
                     p.action(b["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=b["version"]))
    assert [r["outcome"] for r in results] == ["conflict", "applied"]
    assert results[0]["order"]["state"] == "closed"
    assert "closed" in results[0]["reason"]
    assert d.order(b["order_id"])["state"] == "label_printed"


def test_an_illegal_move_from_the_current_version_is_rejected_with_a_reason(hub: HubProcess) -> None:
    _d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    r = p.do(o["order_id"], "shipped_by_station", base_version=o["version"])
    assert r["outcome"] == "rejected" and r["error"] == "illegal_transition"
    assert "allocated" in r["reason"]


def test_a_packer_cannot_touch_another_benchs_orders(hub: HubProcess) -> None:
    d, orders, p = setup(hub, 80)
    other = next(o for o in orders.values() if o["bench"] and o["bench"] != p.bench)
    r = p.do(other["order_id"], "step", {"step": "picked"}, base_version=other["version"])
    assert r["outcome"] == "rejected" and r["error"] == "forbidden"
    g = p.get(f"/api/v1/orders/{other['order_id']}")
    assert g.status_code == 403 and g.json()["error"] == "forbidden"
    assert d.order(other["order_id"])["version"] == other["version"]


def test_role_limits_desk_actions_and_supervisor_signoff(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    r = p.do(o["order_id"], "cancelled_by_buyer", {"reason": "x"}, base_version=o["version"])
    assert r["outcome"] == "rejected" and r["error"] == "forbidden"
    r = d.do(o["order_id"], "hold_raised", {"type": "vip_signoff", "reason": "needs sign-off"}, base_version=o["version"])
    assert r["outcome"] == "applied"
    hold = r["order"]["holds"][0]
    r2 = d.do(o["order_id"], "hold_released", {"hold_id": hold["hold_id"], "reason": "ok",
                                               "resolution": {"packaging_checked": True}})
    assert r2["outcome"] == "rejected" and r2["error"] == "forbidden"
    s = Session(hub.url, operator="S001", pin="3333", station="SUP-1", bench=None).login()
    r3 = s.do(o["order_id"], "hold_released", {"hold_id": hold["hold_id"], "reason": "signed",
                                               "resolution": {"packaging_checked": True}})
    assert r3["outcome"] == "applied" and r3["order"]["holds"] == []


def test_held_orders_cannot_be_printed_or_stepped(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    held = p.do(o["order_id"], "hold_raised", {"type": "scan_mismatch", "reason": "wrong item"}, base_version=o["version"])
    assert held["outcome"] == "applied"
    v = held["order"]["version"]
    for kind, payload in (("label_printed", {"printer": "pdf", "job_id": "j1"}), ("step", {"step": "packed"})):
        r = p.do(o["order_id"], kind, payload, base_version=v)
        assert r["outcome"] == "rejected" and r["error"] == "order_held", r
    assert d.order(o["order_id"])["version"] == v


def test_two_benches_printing_the_same_order_at_once_apply_exactly_once(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    p2 = Session(hub.url, operator="P002", station=f"{p.bench}-PC2", bench=p.bench).login()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def go(s: Session) -> None:
        act = s.action(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=o["version"])
        barrier.wait()
        outcomes.append(s.send(act)[0]["outcome"])

    threads = [threading.Thread(target=go, args=(s,)) for s in (p, p2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["applied", "conflict"]
    assert d.order(o["order_id"])["label_count"] == 1


def test_expired_tokens_and_garbage_tokens_get_401(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    clock = HubClock(tmp_path / "clock")
    hub = HubProcess(tmp_path / "h", db_url=db_url, env={"PACKDESK_HUB_TOKEN_TTL": "60", **clock.env()}).start()
    try:
        s = Session(hub.url).login()
        assert s.get("/api/v1/changes").status_code == 200
        clock.advance(59)
        assert s.get("/api/v1/changes").status_code == 200  # a second before the end: still valid
        clock.advance(1.5)
        r = s.get("/api/v1/changes")
        assert r.status_code == 401 and r.json()["error"] == "token_expired"
        r = requests.get(f"{hub.url}/api/v1/changes", headers={"Authorization": "Bearer nonsense"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        r = requests.post(f"{hub.url}/api/v1/auth/login", json={"operator": "P001", "pin": "9999",
                                                                "station": "X", "device_id": "d"})
        assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    finally:
        hub.stop()


def test_malformed_action_batches_get_422_and_change_nothing(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    for body in ({"actions": "nope"}, {"actions": [{"seq": "x"}]}, {"nothing": 1}, [1, 2]):
        r = p.post("/api/v1/actions", body)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "validation_failed" and r.json()["message"]
    r = requests.post(f"{hub.url}/api/v1/actions", data=b"{not json", headers={**p.headers, "Content-Type": "application/json"})
    assert r.status_code == 422
    r = p.do("BL20000101-000001", "step", {"step": "picked"})
    assert r["outcome"] == "rejected" and r["error"] == "unknown_order"
    r = p.do(o["order_id"], "step", {"step": "juggled"}, base_version=o["version"])
    assert r["outcome"] == "rejected" and r["error"] == "bad_payload"
    r = p.do(o["order_id"], "step", {"step": "picked"}, base_version=o["version"] + 5)
    assert r["outcome"] == "rejected" and r["error"] == "bad_version"
    assert d.order(o["order_id"])["version"] == o["version"]


def test_duplicate_action_id_inside_one_batch_is_applied_once(hub: HubProcess) -> None:
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    aid = uuid.uuid4().hex
    a1 = p.action(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=o["version"], action_id=aid)
    a2 = dict(a1, seq=a1["seq"] + 1)
    res = p.send(a1, a2)
    assert [r["outcome"] for r in res] == ["applied", "duplicate"]
    assert d.order(o["order_id"])["label_count"] == 1


def test_a_bad_done_at_is_rejected_alone_and_the_rest_applies(hub: HubProcess) -> None:
    _d, orders, p = setup(hub)
    a, b = free_orders(orders, p.bench or "")[:2]
    bad = p.action(a["order_id"], "step", {"step": "picked"}, base_version=a["version"])
    bad["done_at"] = "yesterday"
    good = p.action(b["order_id"], "step", {"step": "picked"}, base_version=b["version"])
    r = p.send(bad, good)
    assert [x["outcome"] for x in r] == ["rejected", "applied"]
    assert r[0]["error"] == "bad_payload" and "done_at" in r[0]["reason"]


def test_odd_hold_details_never_crash_a_release(hub: HubProcess) -> None:
    d, orders, _p = setup(hub)
    o = next(x for x in orders.values() if x["state"] == "allocated" and not x["holds"])
    raised = d.do(o["order_id"], "hold_raised", {"type": "gift_stock", "reason": "short", "details": {"short": 5}},
                  base_version=o["version"])
    assert raised["outcome"] == "applied"
    hold = raised["order"]["holds"][0]
    r = d.do(o["order_id"], "hold_released", {"hold_id": hold["hold_id"], "reason": "ok",
                                              "resolution": {"decision": "without_gift", "consent_by": "buyer"}})
    assert r["outcome"] in ("applied", "rejected")


def test_the_same_batch_sent_twice_at_once_is_applied_once(hub: HubProcess) -> None:
    """A client that timed out retries while the first request is still running."""
    d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    batch = [p.action(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=o["version"])]
    barrier = threading.Barrier(2)
    answers: list[dict] = []

    def go() -> None:
        barrier.wait()
        r = p.post("/api/v1/actions", {"actions": batch})
        assert r.status_code == 200, r.text
        answers.append(r.json()["results"][0])

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a["outcome"] for a in answers) == ["applied", "duplicate"]
    assert d.order(o["order_id"])["label_count"] == 1


def test_shipping_shows_in_the_supervisors_hourly_figures(hub: HubProcess) -> None:
    _d, orders, p = setup(hub)
    o = free_orders(orders, p.bench or "")[0]
    v = p.do(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=o["version"])["order"]["version"]
    assert p.do(o["order_id"], "shipped_by_station", base_version=v)["outcome"] == "applied"
    s = Session(hub.url, operator="S001", pin="3333", station="SUP-1", bench=None).login()
    m = s.get("/api/v1/metrics/summary").json()
    assert sum(m["shipped_per_hour"].values()) == 1
    assert m["by_state"]["shipped"] == 1
    assert p.get("/api/v1/metrics/summary").status_code == 403


def test_a_desk_payment_confirmation_is_audited_under_its_action_id(hub: HubProcess) -> None:
    """Every audit line a client action causes, allocation and routing holds included, links back to it."""
    d, orders, _ = setup(hub)
    o = next(o for o in orders.values() if o["state"] == "pending_payment")
    action = d.action(o["order_id"], "payment_confirmed", {"reason": "bank transfer seen"}, base_version=o["version"])
    assert d.send(action)[0]["outcome"] == "applied"
    entries = [e for e in audit(d, o["order_id"]) if e["what"] != "created"]
    assert {e["what"] for e in entries} >= {"payment_confirmed", "allocated"}
    assert {e["action_id"] for e in entries} == {action["action_id"]}


def test_work_queued_offline_is_credited_to_who_did_it_not_to_whoever_syncs_it(hub: HubProcess) -> None:
    """A shift change before the network came back: P001's step, pushed under P002's login."""
    d, orders, first = setup(hub)
    o = free_orders(orders, first.bench or "")[0]
    step = first.action(o["order_id"], "step", {"step": "picked"}, base_version=o["version"])
    step["done_at"] = done_at = iso(utcnow())
    step = signed(step, first.action_key)  # the proof that P001 did it (docs/security.md)
    second = Session(hub.url, operator="P002", pin="1111", station=first.station, bench=first.bench,
                     device_id=first.device_id, seq=first.seq).login()
    assert second.send(step)[0]["outcome"] == "applied"
    entry = next(e for e in audit(d, o["order_id"]) if e["action_id"] == step["action_id"])
    assert entry["operator"] == "P001" and entry["station"] == first.station
    assert entry["details"]["synced_by"] == "P002" and entry["details"]["done_at"] == done_at
    assert d.order(o["order_id"])["steps"]["picked"]["by"] == "P001"
    own = second.do(o["order_id"], "step", {"step": "verified"})
    entry = next(e for e in audit(d, o["order_id"]) if e["action_id"] is not None and e["what"] == "step:verified")
    assert own["outcome"] == "applied" and entry["operator"] == "P002" and "synced_by" not in entry["details"]


def test_a_supervisor_sign_off_queued_on_a_bench_keeps_the_supervisors_role(hub: HubProcess) -> None:
    """The supervisor signs at the bench PC and walks away; the packer's login pushes the release."""
    d, orders, packer = setup(hub)
    o = free_orders(orders, packer.bench or "")[0]
    r = d.do(o["order_id"], "hold_raised", {"type": "vip_signoff", "reason": "needs sign-off"}, base_version=o["version"])
    hold = r["order"]["holds"][0]
    release = {"hold_id": hold["hold_id"], "reason": "signed", "resolution": {"packaging_checked": True}}
    sup = Session(hub.url, operator="S001", pin="3333", station=packer.station, bench=packer.bench,
                  device_id=packer.device_id, seq=packer.seq).login()
    sign_off = sup.action(o["order_id"], "hold_released", release)
    sign_off["done_at"] = iso(utcnow())
    sign_off = signed(sign_off, sup.action_key)
    packer.seq = sup.seq
    packer.login()
    assert packer.send(sign_off)[0]["outcome"] == "applied"
    entry = next(e for e in audit(d, o["order_id"]) if e["action_id"] == sign_off["action_id"])
    assert (entry["operator"], entry["what"], entry["details"]["synced_by"]) == ("S001", "hold_released", "P001")


def test_work_in_someone_elses_name_without_their_signature_runs_as_the_pusher_and_changes_nothing(
        hub: HubProcess) -> None:
    d, orders, packer = setup(hub)
    o = free_orders(orders, packer.bench or "")[0]
    r = d.do(o["order_id"], "hold_raised", {"type": "vip_signoff", "reason": "needs sign-off"}, base_version=o["version"])
    hold = r["order"]["holds"][0]
    forged = packer.action(o["order_id"], "hold_released", {"hold_id": hold["hold_id"], "reason": "signed",
                                                           "resolution": {"packaging_checked": True}})
    forged["operator"] = "S001"  # a supervisor's name, with no signature from S001's own login
    step = packer.action(o["order_id"], "step", {"step": "picked"})
    results = packer.send(forged, step)
    assert results[0]["outcome"] == "rejected" and results[0]["error"] == "forbidden"
    assert results[0]["credited_to"] == packer.operator and "S001" in results[0]["reason"]
    assert results[1]["outcome"] == "rejected" and results[1]["error"] == "order_held"  # processed, not blocked
    assert d.order(o["order_id"])["holds"] == r["order"]["holds"]
