"""Input no database can store (NUL, lone surrogates, NaN), and bodies that grow too large while streaming: clear 4xx, nothing written.

PostgreSQL refuses a NUL character in any text value and no driver can encode a lone surrogate;
both used to reach the INSERT and come back as a 500. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from core.demo import generate_orders
from core.model import intake_to_json
from hub.intake import SIGNATURE_HEADER, sign
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess

BAD_TEXTS = ["王\u0000五", "\ud800"]


def check_4xx(r: requests.Response, code: str | None = None) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert set(body) == {"error", "message", "details"} and body["message"], body
    if code:
        assert body["error"] == code, body
    return body


def raw_push(url: str, channel: str, payload: Any) -> requests.Response:
    body = json.dumps(payload, ensure_ascii=True).encode()  # \\ud800 survives only as an escape
    return requests.post(f"{url}/api/v1/intake/{channel}", data=body, timeout=30,
                         headers={SIGNATURE_HEADER: sign(f"demo-secret-{channel}".encode(), body)})


def raw_post(session: Session, path: str, payload: Any) -> requests.Response:
    body = json.dumps(payload, ensure_ascii=True).encode()  # NaN/Infinity written as Python's JSON does
    return session.http.post(session.url + path, data=body, timeout=30,
                             headers={**session.headers, "Content-Type": "application/json"})


@pytest.fixture
def desk(hub: HubProcess) -> Session:
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()


def test_a_push_with_unstorable_text_is_refused_naming_the_field(hub: HubProcess, desk: Session) -> None:
    before = desk.get("/api/v1/health").json()["head"]
    for bad in BAD_TEXTS:
        for field in ("recipient.name", "channel_order_no", "lines.0.sku", "buyer_note"):
            order = intake_to_json(generate_orders(1, seed=5)[0])
            node: Any = order
            *path, last = field.split(".")
            for key in path:
                node = node[int(key)] if key.isdigit() else node[key]
            node[last] = bad
            body = check_4xx(raw_push(hub.url, "generic", {"orders": [order]}), "validation_failed")
            assert body["details"]["index"] == 0
            assert body["details"]["field"].replace("[", ".").replace("]", "") == field
    assert desk.get("/api/v1/health").json()["head"] == before


def test_long_names_and_channel_labels_never_overflow_a_column(hub: HubProcess, desk: Session) -> None:
    order = intake_to_json(generate_orders(1, seed=6)[0])
    order["recipient"]["name"] = "欧阳" * 100  # 200 characters: longer than the search column
    r = raw_push(hub.url, "generic", order)
    assert r.status_code == 200, r.text
    oid = r.json()["orders"][0]["order_id"]
    assert desk.order(oid)["recipient"]["name"] == "欧阳" * 100
    assert [o["order_id"] for o in desk.get("/api/v1/orders", q="欧阳欧阳").json()["orders"]] == [oid]
    order["channel"] = "x" * 33
    check_4xx(raw_push(hub.url, "generic", order), "validation_failed")
    order["channel"], order["lines"][0]["qty"] = "youzan", 10**30
    check_4xx(raw_push(hub.url, "generic", order), "validation_failed")


def test_login_with_unstorable_text_is_a_422(hub: HubProcess) -> None:
    for bad, key in ((bad, key) for bad in BAD_TEXTS for key in ("operator", "station", "device_id", "bench")):
        login = {"operator": "P001", "pin": "1111", "station": "B1-PC", "bench": "B1", "device_id": "dev-1",
                 key: bad}
        body = json.dumps(login, ensure_ascii=True)
        r = requests.post(f"{hub.url}/api/v1/auth/login", data=body, timeout=10,
                          headers={"Content-Type": "application/json"})
        assert key in check_4xx(r, "validation_failed")["message"]


def test_a_new_station_must_name_a_bench_of_the_routing_rules(hub: HubProcess) -> None:
    r = requests.post(f"{hub.url}/api/v1/auth/login", timeout=10, json={
        "operator": "P001", "pin": "1111", "station": "B9-PC", "bench": "B9", "device_id": "dev-9"})
    assert "B1" in check_4xx(r, "unknown_bench")["message"]
    desk_pc = Session(hub.url, operator="D001", pin="2222", station="DESK-9", bench="").login()
    assert desk_pc.get("/api/v1/orders").status_code == 200


def test_actions_with_unstorable_text_are_refused_and_change_nothing(hub: HubProcess, desk: Session) -> None:
    [first] = demo(hub.url, 1, seed=8)
    oid = first["order_id"]
    before = desk.order(oid)
    actions = [a for bad in BAD_TEXTS for a in (
        desk.action(bad, "step", {"step": "picked"}),
        desk.action(oid, "hold_raised", {"type": "scan_mismatch", "reason": bad}),
        desk.action(oid, "hold_raised", {"type": "scan_mismatch", "reason": "x", "details": {bad: 1}}),
        desk.action(oid, "address_changed", {"recipient": {**before["recipient"], "name": bad}}))]
    actions += [desk.action(oid, "hold_raised", {"type": "scan_mismatch", "reason": "r", "details": {"x": number}})
                for number in (float("nan"), float("inf"), float("-inf"))]
    for action in actions:
        body = check_4xx(raw_post(desk, "/api/v1/actions", {"actions": [action]}), "validation_failed")
        assert "actions.0" in body["message"]
    assert desk.order(oid)["version"] == before["version"]
    assert desk.get("/api/v1/devices/me").json()["last_applied_seq"] == 0


def test_reallocating_takes_the_benchs_own_warehouse(hub: HubProcess, desk: Session) -> None:
    order = next(o for o in (desk.order(r["order_id"]) for r in demo(hub.url, 12, seed=9))
                 if o["state"] == "allocated" and not o["holds"] and o["warehouse"] == "WH-SH")
    res = desk.do(order["order_id"], "reallocated", {"bench": "GZ-B1", "warehouse": "W" * 40},
                  base_version=order["version"])
    assert res["outcome"] == "rejected" and res["error"] == "bad_payload"
    res = desk.do(order["order_id"], "reallocated", {"bench": "GZ-B1"}, base_version=order["version"])
    assert res["outcome"] == "applied", res
    assert (res["order"]["bench"], res["order"]["warehouse"]) == ("GZ-B1", "WH-GZ")


def test_a_nul_in_the_url_is_a_400(hub: HubProcess, desk: Session) -> None:
    for path in ("/api/v1/orders/%00", "/api/v1/orders?q=%00", "/api/v1/orders/X/audit?x=%00",
                 "/api/v1/sync/snapshot?after=A%00B", "/api/v1/changes?cursor=0&x=%00"):
        check_4xx(desk.http.get(hub.url + path, headers=desk.headers, timeout=10), "validation_failed")


def _chunks(total: int) -> Iterator[bytes]:
    block = b" " * 65536
    for _ in range(total // len(block) + 1):
        yield block


def test_a_chunked_body_that_grows_too_large_is_a_413(hub: HubProcess, desk: Session) -> None:
    """No Content-Length to refuse up front: the limit has to hold while the body streams in."""
    for path in ("/api/v1/auth/login", "/api/v1/actions", "/api/v1/intake/generic"):
        r = desk.http.post(hub.url + path, data=_chunks(3 * 1024 * 1024), timeout=30,
                           headers={**desk.headers, "Content-Type": "application/json"})
        check_4xx(r, "payload_too_large")


def test_an_import_without_a_usable_header_is_a_4xx_naming_the_columns(hub: HubProcess, desk: Session) -> None:
    rows = "A1,张三,13800138000,广东省,深圳市,南山区,路1号,S1,1,1\n"
    r = desk.http.post(f"{hub.url}/api/v1/import", params={"filename": "o.csv"}, data=rows.encode(),
                       headers=desk.headers, timeout=30)
    body = check_4xx(r, "validation_failed")
    assert body["details"]["row"] == 1 and "order_no" in body["details"]["missing"]
    assert desk.get("/api/v1/health").json()["head"] == 0


def test_deeply_nested_payloads_are_refused_before_they_can_poison_an_order(hub: HubProcess, desk: Session) -> None:
    """A hold's details nested 300 deep used to be stored; then every answer carrying the order
    (the order, the change feed for every client) failed to serialise: one action stopped all sync."""
    [first] = demo(hub.url, 1, seed=10)
    oid = first["order_id"]
    before = desk.order(oid)
    deep: Any = 1
    for _ in range(300):
        deep = {"a": deep}
    action = desk.action(oid, "hold_raised", {"type": "scan_mismatch", "reason": "r", "details": deep})
    body = check_4xx(raw_post(desk, "/api/v1/actions", {"actions": [action]}), "validation_failed")
    assert "deeper" in body["message"]
    assert desk.order(oid)["version"] == before["version"]
    assert desk.get("/api/v1/changes", cursor=0).status_code == 200
    # Deeper than the JSON parser goes: a clear 400 too.
    r = desk.http.post(hub.url + "/api/v1/actions", data=b"[" * 100_000 + b"]" * 100_000, timeout=30,
                       headers={**desk.headers, "Content-Type": "application/json"})
    check_4xx(r, "validation_failed")


def test_health_without_login_names_no_partner_and_the_detail_is_for_supervisors(hub: HubProcess,
                                                                                 desk: Session) -> None:
    public = requests.get(f"{hub.url}/api/v1/health", timeout=10).json()
    assert public["status"] == "ok" and "head" in public
    assert not {"notify", "waybills"} & set(public)  # robots, queues and their errors are not for anyone
    assert requests.get(f"{hub.url}/api/v1/health/detail", timeout=10).status_code == 401
    assert desk.get("/api/v1/health/detail").status_code == 403
    sup = Session(hub.url, operator="S001", pin="3333", station="SUP-1", bench=None).login()
    detail = sup.get("/api/v1/health/detail").json()
    assert detail["head"] >= public["head"] and "robots" in detail["notify"] and "waybills" in detail
