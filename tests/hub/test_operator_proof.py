"""Issue 9 item 4: the ``operator`` field of an action is not taken on trust.

After S001 (supervisor) once logged in on bench PC B1-PC, packer P001's own token sent actions
naming S001 — cancel and reallocate another bench's order, release a supervisor-only hold — and
all were applied and audited as S001. Now work in another operator's name needs a signature with
the action key that operator's own login gave this device (docs/security.md); without it the
action runs as the pushing login, and whatever role is proven, a bench station's push touches only
its bench's orders. Each test speaks HTTP to a real hub, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from core.action_sig import sign
from core.timeutil import iso, utcnow
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess


def audit(s: Session, order_id: str) -> list[dict[str, Any]]:
    r = s.get(f"/api/v1/orders/{order_id}/audit")
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


def signed(action: dict[str, Any], key: dict[str, str] | None) -> dict[str, Any]:
    assert key is not None, "the login answer carries an action key"
    return {**action, "key_id": key["key_id"], "sig": sign(key["key"], action)}


class Site:
    """Demo orders on two benches; a desk; B1-PC where S001 logged in once before P001 (same device)."""

    def __init__(self, hub: HubProcess) -> None:
        demo(hub.url, 60, seed=11)
        self.desk = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
        orders = self.desk.get("/api/v1/orders", limit=1000).json()["orders"]
        free = [o for o in orders if o["state"] == "allocated" and not o["holds"]]
        self.bench = free[0]["bench"]
        self.mine = [o for o in free if o["bench"] == self.bench]
        self.theirs = [o for o in free if o["bench"] != self.bench]
        assert len(self.mine) >= 3 and len(self.theirs) >= 3, "demo data has workable orders on two benches"
        pc = f"{self.bench}-PC"
        self.sup = Session(hub.url, operator="S001", pin="3333", station=pc, bench=self.bench,
                           device_id="dev-bench-pc").login()
        self.packer = Session(hub.url, operator="P001", pin="1111", station=pc, bench=self.bench,
                              device_id="dev-bench-pc").login()

    def vip_hold(self, order: dict[str, Any]) -> dict[str, Any]:
        r = self.desk.do(order["order_id"], "hold_raised", {"type": "vip_signoff", "reason": "needs sign-off"},
                         base_version=order["version"])
        assert r["outcome"] == "applied", r
        hold: dict[str, Any] = r["order"]["holds"][0]
        return hold

    def as_s001(self, order_id: str, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An action in S001's name, numbered in the packer's (the device's) seq."""
        action = self.packer.action(order_id, type_, payload)
        action["operator"] = "S001"
        action["done_at"] = iso(utcnow())  # after S001's login gave the device its key
        return action


def release(hold: dict[str, Any]) -> dict[str, Any]:
    return {"hold_id": hold["hold_id"], "reason": "signed", "resolution": {"packaging_checked": True}}


def test_a_packer_naming_a_supervisor_without_proof_gets_only_a_packers_rights(hub: HubProcess) -> None:
    """The three attacks of the issue, exactly: each now runs as P001 (a packer) and is refused."""
    site = Site(hub)
    other, other2 = site.theirs[:2]
    held = site.mine[0]
    hold = site.vip_hold(held)
    results = site.packer.send(
        site.as_s001(other["order_id"], "cancelled_by_buyer", {"reason": "buyer asked"}),
        site.as_s001(other2["order_id"], "reallocated", {"bench": site.bench}),
        site.as_s001(held["order_id"], "hold_released", release(hold)),
    )
    assert [(r["outcome"], r["error"]) for r in results] == [("rejected", "forbidden")] * 3, results
    assert site.desk.order(other["order_id"])["state"] == "allocated"
    assert site.desk.order(other2["order_id"])["bench"] == other2["bench"]
    assert [h["hold_id"] for h in site.desk.order(held["order_id"])["holds"]] == [hold["hold_id"]]
    ids = {r["action_id"] for r in results}
    for oid in (other["order_id"], other2["order_id"], held["order_id"]):
        assert not [e for e in audit(site.desk, oid) if e["action_id"] in ids]


def test_work_named_for_someone_else_without_proof_is_credited_to_the_pusher_and_marked_unverified(
        hub: HubProcess) -> None:
    site = Site(hub)
    o = site.mine[0]
    step = site.packer.action(o["order_id"], "step", {"step": "picked"}, base_version=o["version"])
    step["operator"] = "P002"
    r = site.packer.send(step)[0]
    assert r["outcome"] == "applied" and r["credited_to"] == "P001", r
    entry = next(e for e in audit(site.desk, o["order_id"]) if e["action_id"] == step["action_id"])
    assert entry["operator"] == "P001"
    assert entry["details"]["claimed_operator"] == "P002" and entry["details"]["operator_verified"] is False
    assert site.desk.order(o["order_id"])["steps"]["picked"]["by"] == "P001"


def test_a_supervisors_signed_sign_off_queued_on_the_bench_keeps_the_supervisors_role(hub: HubProcess) -> None:
    site = Site(hub)
    o = site.mine[0]
    hold = site.vip_hold(o)
    action = signed(site.as_s001(o["order_id"], "hold_released", release(hold)), site.sup.action_key)
    r = site.packer.send(action)[0]
    assert r["outcome"] == "applied", r
    assert "credited_to" not in r
    entry = next(e for e in audit(site.desk, o["order_id"]) if e["action_id"] == action["action_id"])
    assert (entry["operator"], entry["what"]) == ("S001", "hold_released")
    assert entry["details"]["synced_by"] == "P001"
    assert entry["details"]["action_key"] == action["key_id"]
    assert site.desk.order(o["order_id"])["holds"] == []


def test_a_proven_supervisor_on_a_bench_station_still_touches_only_that_benchs_orders(hub: HubProcess) -> None:
    site = Site(hub)
    other, other2 = site.theirs[:2]
    key = site.sup.action_key
    results = site.packer.send(
        signed(site.as_s001(other["order_id"], "cancelled_by_buyer", {"reason": "buyer asked"}), key),
        signed(site.as_s001(other2["order_id"], "reallocated", {"bench": site.bench}), key),
    )
    assert [(r["outcome"], r["error"]) for r in results] == [("rejected", "forbidden")] * 2, results
    assert all(r["order"] is None for r in results)
    assert site.desk.order(other["order_id"])["state"] == "allocated"
    assert site.desk.order(other2["order_id"])["bench"] == other2["bench"]


def test_forged_or_borrowed_signatures_are_rejected_and_change_nothing(hub: HubProcess) -> None:
    site = Site(hub)
    o = site.mine[0]
    hold = site.vip_hold(o)
    elsewhere = Session(hub.url, operator="S001", pin="3333", station="SUP-1", bench=None).login()  # another device
    tries = {
        "a made-up key": {"key_id": site.sup.action_key["key_id"], "key": "guessed"},  # type: ignore[index]
        "the packer's own key": site.packer.action_key,
        "S001's key from another device": elsewhere.action_key,
        "an unknown key id": {"key_id": "ak_000000000000000000000000", "key": "x"},
    }
    for what, key in tries.items():
        r = site.packer.send(signed(site.as_s001(o["order_id"], "hold_released", release(hold)), key))[0]
        assert (r["outcome"], r["error"]) == ("rejected", "bad_signature"), (what, r)
    tampered = signed(site.as_s001(o["order_id"], "hold_released", release(hold)), site.sup.action_key)
    tampered["payload"]["reason"] = "changed after signing"
    r = site.packer.send(tampered)[0]
    assert (r["outcome"], r["error"]) == ("rejected", "bad_signature"), r
    early = site.as_s001(o["order_id"], "hold_released", release(hold))
    early["done_at"] = "2020-01-01T00:00:00Z"  # long before S001's login gave this device the key
    r = site.packer.send(signed(early, site.sup.action_key))[0]
    assert (r["outcome"], r["error"]) == ("rejected", "bad_signature") and "window" in r["reason"], r
    assert [h["hold_id"] for h in site.desk.order(o["order_id"])["holds"]] == [hold["hold_id"]]


def test_the_tokens_own_operator_needs_no_signature_but_a_wrong_one_is_rejected(hub: HubProcess) -> None:
    site = Site(hub)
    a, b, c = site.mine[:3]
    plain = site.packer.action(a["order_id"], "step", {"step": "picked"})
    good = signed(site.packer.action(b["order_id"], "step", {"step": "picked"}), site.packer.action_key)
    bad = signed(site.packer.action(c["order_id"], "step", {"step": "picked"}), site.packer.action_key)
    bad["sig"] = "0" * 64
    results = site.packer.send(plain, good, bad)
    assert [r["outcome"] for r in results] == ["applied", "applied", "rejected"], results
    assert results[2]["error"] == "bad_signature"
    assert "picked" not in site.desk.order(c["order_id"])["steps"]


def test_the_action_key_is_given_once_at_login_and_never_logged(hub: HubProcess) -> None:
    site = Site(hub)
    key = site.sup.action_key
    assert key is not None and set(key) == {"key_id", "key", "expires_at"} and len(key["key"]) >= 40
    again = Session(hub.url, operator="S001", pin="3333", station=site.sup.station, bench=site.bench,
                    device_id="dev-bench-pc").login()
    assert again.action_key is not None and again.action_key["key"] != key["key"]  # a new one per login
    o = site.mine[0]
    hold = site.vip_hold(o)
    assert site.packer.send(signed(site.as_s001(o["order_id"], "hold_released", release(hold)), key))[0][
        "outcome"] == "applied"  # the older key still proves S001's work
    served = site.desk.get(f"/api/v1/orders/{o['order_id']}/audit").text + site.packer.get("/api/v1/devices/me").text
    assert key["key"] not in served
    hub.stop()
    assert key["key"] not in hub.log_path.read_text(errors="replace")
