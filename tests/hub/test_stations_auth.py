"""Issue 9 item 3: a station must be approved before it can act; a packer's bench is the station's.

Every attack from the issue, at HTTP on a real (non-demo) hub, SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.realhub import add_operators, call, login, seed_orders, start_real_hub, token
from tests.hubproc import HubProcess


@pytest.fixture
def real_hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    hub = start_real_hub(tmp_path / "hub", db_url)
    add_operators(hub)
    yield hub
    hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-4000:]


def _approved(hub: HubProcess, station: str, bench: str | None) -> None:
    """A supervisor logging in on a new station approves it (the PC of that station)."""
    r = login(hub, "S001", station, bench)
    assert r.status_code == 200, r.text


def _order_on(hub: HubProcess, sup: str, bench: str) -> dict[str, Any]:
    r = call(hub, sup, "GET", "/api/v1/orders", state="allocated", bench=bench, limit=50)
    assert r.status_code == 200, r.text
    return next(o for o in r.json()["orders"] if not o["holds"])


def _step(hub: HubProcess, tok: str, order: dict[str, Any], seq: int = 1) -> dict[str, Any]:
    r = call(hub, tok, "POST", "/api/v1/actions", {"actions": [{
        "action_id": uuid.uuid4().hex, "seq": seq, "order_id": order["order_id"], "type": "step",
        "payload": {"step": "picked"}, "base_version": order["version"], "operator": "P001",
        "done_at": "2026-11-25T08:00:00Z"}]})
    assert r.status_code == 200, r.text
    return dict(r.json()["results"][0])


def test_a_packer_naming_a_new_station_gets_no_token_and_the_station_waits(real_hub: HubProcess) -> None:
    r = login(real_hub, "P001", "EVIL-B2-x", "B2")
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["error"] == "station_pending" and "token" not in body and "approval" in body["message"]
    again = login(real_hub, "P001", "EVIL-B2-x", None)  # asking again changes nothing
    assert again.status_code == 403 and again.json()["error"] == "station_pending"
    sup = token(real_hub, "S001", "SUP-PC")
    listed = call(real_hub, sup, "GET", "/api/v1/stations", status="pending").json()["stations"]
    assert [(s["name"], s["status"], s["requested_by"], s["requested_device_id"]) for s in listed] == [
        ("EVIL-B2-x", "pending", "P001", "dev-EVIL-B2-x")]
    assert listed[0]["bench"] is None  # nothing granted until a supervisor says so


def test_a_packer_on_another_benchs_station_gets_nothing_from_another_pc(real_hub: HubProcess) -> None:
    _approved(real_hub, "B2-PC", "B2")
    _approved(real_hub, "B1-PC", "B1")
    # bench: null on B2's station from the packer's own PC: the station is bound to the B2 PC.
    r = login(real_hub, "P001", "B2-PC", None, device="packer-own-pc")
    assert r.status_code == 403 and r.json()["error"] == "station_device_mismatch", r.text
    # On the packer's own approved station, the bench is the station's, whatever the request says.
    r = login(real_hub, "P001", "B1-PC", "B2")
    assert r.status_code == 409 and r.json()["error"] == "station_bench_mismatch", r.text
    r = login(real_hub, "P001", "B1-PC", None)
    assert r.status_code == 200 and r.json()["station"]["bench"] == "B1", r.text


def test_a_b1_packer_can_neither_read_nor_step_a_b2_order(real_hub: HubProcess) -> None:
    seed_orders(real_hub)
    sup = token(real_hub, "S001", "SUP-PC")
    b2 = _order_on(real_hub, sup, "B2")
    _approved(real_hub, "B1-PC", "B1")
    p1 = token(real_hub, "P001", "B1-PC")
    assert call(real_hub, p1, "GET", f"/api/v1/orders/{b2['order_id']}").status_code == 403
    result = _step(real_hub, p1, b2)
    assert result["outcome"] == "rejected", result
    # The pending station of the attack can do nothing at all: it has no token to do it with.
    assert login(real_hub, "P001", "EVIL-B2-x", "B2").status_code == 403


def test_a_supervisor_approves_a_station_and_the_packer_gets_the_approved_bench(real_hub: HubProcess) -> None:
    assert login(real_hub, "P001", "B3-PC", "B2").json()["error"] == "station_pending"
    sup = token(real_hub, "S001", "SUP-PC")
    # A packer may not approve, list, revoke or move stations.
    _approved(real_hub, "B1-PC", "B1")
    p1 = token(real_hub, "P001", "B1-PC")
    for method, path, body in (("GET", "/api/v1/stations", None), ("POST", "/api/v1/stations/B3-PC/approve", {}),
                               ("POST", "/api/v1/stations/B1-PC/revoke", None),
                               ("POST", "/api/v1/stations/B1-PC/bench", {"bench": "B2"})):
        r = call(real_hub, p1, method, path, body)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
    r = call(real_hub, sup, "POST", "/api/v1/stations/B3-PC/approve", {"bench": "B3"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["status"], doc["bench"], doc["device_id"], doc["approved_by"]) == ("approved", "B3", "dev-B3-PC", "S001")
    r = login(real_hub, "P001", "B3-PC", None)
    assert r.status_code == 200 and r.json()["station"]["bench"] == "B3", r.text
    assert login(real_hub, "P001", "B3-PC", "B2").json()["error"] == "station_bench_mismatch"
    # An unknown bench is refused at approval, not discovered as an empty queue later.
    login(real_hub, "P002", "B9-PC", "B9")
    bad = call(real_hub, sup, "POST", "/api/v1/stations/B9-PC/approve", {})
    assert bad.status_code == 400 and bad.json()["error"] == "unknown_bench", bad.text


def test_a_supervisor_logging_in_on_a_new_station_approves_it_for_their_device(real_hub: HubProcess) -> None:
    r = login(real_hub, "S001", "VIP-PC", "VIP1", device="vip-device")
    assert r.status_code == 200 and r.json()["station"]["bench"] == "VIP1", r.text
    sup = r.json()["token"]
    st = {s["name"]: s for s in call(real_hub, sup, "GET", "/api/v1/stations").json()["stations"]}["VIP-PC"]
    assert (st["status"], st["approved_by"], st["device_id"]) == ("approved", "S001", "vip-device")
    assert st["approved_at"]
    admin = token(real_hub, "A001", "ADMIN-PC")
    events = call(real_hub, admin, "GET", "/api/v1/admin/security-events").json()["events"]
    assert {"actor": "S001", "what": "station_approved", "subject": "VIP-PC"}.items() <= next(
        e for e in events if e["subject"] == "VIP-PC").items()
    assert login(real_hub, "P002", "VIP-PC", None, device="vip-device").status_code == 200
    # A replaced PC needs approval again: a supervisor approves the new device's request.
    r = login(real_hub, "P002", "VIP-PC", None, device="new-vip-device")
    assert r.status_code == 403 and r.json()["error"] == "station_device_mismatch"
    r = call(real_hub, sup, "POST", "/api/v1/stations/VIP-PC/approve", {})
    assert r.status_code == 200 and r.json()["device_id"] == "new-vip-device", r.text
    assert login(real_hub, "P002", "VIP-PC", None, device="new-vip-device").status_code == 200
    assert login(real_hub, "P002", "VIP-PC", None, device="vip-device").json()["error"] == "station_device_mismatch"


def test_revoking_a_station_ends_its_tokens_at_once(real_hub: HubProcess) -> None:
    _approved(real_hub, "B1-PC", "B1")
    p1 = token(real_hub, "P001", "B1-PC")
    assert call(real_hub, p1, "GET", "/api/v1/changes").status_code == 200
    sup = token(real_hub, "S001", "SUP-PC")
    r = call(real_hub, sup, "POST", "/api/v1/stations/B1-PC/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    r = call(real_hub, p1, "GET", "/api/v1/changes")
    assert r.status_code == 401, r.text
    r = login(real_hub, "P001", "B1-PC")
    assert r.status_code == 403 and r.json()["error"] == "station_revoked", r.text
    # A supervisor's login does not quietly undo a revocation either; approving it again does.
    assert login(real_hub, "S001", "B1-PC").json()["error"] == "station_revoked"
    assert call(real_hub, sup, "POST", "/api/v1/stations/B1-PC/approve", {}).status_code == 200
    assert login(real_hub, "P001", "B1-PC").status_code == 200


def test_moving_a_station_to_another_bench_ends_its_tokens(real_hub: HubProcess) -> None:
    _approved(real_hub, "B1-PC", "B1")
    p1 = token(real_hub, "P001", "B1-PC")
    sup = token(real_hub, "S001", "SUP-PC")
    r = call(real_hub, sup, "POST", "/api/v1/stations/B1-PC/bench", {"bench": "B2"})
    assert r.status_code == 200 and r.json()["bench"] == "B2", r.text
    assert call(real_hub, p1, "GET", "/api/v1/changes").status_code == 401
    r = login(real_hub, "P001", "B1-PC")
    assert r.status_code == 200 and r.json()["station"]["bench"] == "B2"


def test_the_station_cli_lists_approves_and_revokes(real_hub: HubProcess) -> None:
    assert login(real_hub, "P001", "B2-PC", "B2", device="b2-dev").json()["error"] == "station_pending"
    out = real_hub.cli("station", "list").stdout
    assert "B2-PC" in out and "pending" in out and "P001" in out and "b2-dev" in out
    out = real_hub.cli("station", "approve", "B2-PC", "--bench", "B2").stdout
    assert "approved" in out and "b2-dev" in out
    p1 = token(real_hub, "P001", "B2-PC", device="b2-dev")
    assert call(real_hub, p1, "GET", "/api/v1/changes").status_code == 200
    real_hub.cli("station", "revoke", "B2-PC")
    assert call(real_hub, p1, "GET", "/api/v1/changes").status_code == 401
    assert "revoked" in real_hub.cli("station", "list", "--status", "revoked").stdout
    # Approved ahead of any login (a new bench PC being set up): bound by its first login.
    real_hub.cli("station", "approve", "B3-PC", "--bench", "B3")
    assert login(real_hub, "P001", "B3-PC", device="first").status_code == 200
    assert login(real_hub, "P001", "B3-PC", device="second").json()["error"] == "station_device_mismatch"
