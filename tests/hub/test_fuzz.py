"""Fuzzing the intake and actions endpoints: whatever arrives, the answer is a 2xx or a clear 4xx.

Hypothesis drives random JSON (and random bytes) at a real hub; the bodies are also shaped after
the OpenAPI schema of ActionBatch so some get past validation and reach the state machine.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.intake import sign
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=25,
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def check(r: requests.Response) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error", "message", "details"} and body["message"], body


def test_intake_never_answers_5xx(sqlite_hub: HubProcess) -> None:
    url = sqlite_hub.url
    http = requests.Session()

    @FUZZ
    @given(channel=st.sampled_from(["generic", "douyin", "pinduoduo", "wechat", "xiaohongshu"]),
           body=json_values | st.binary(max_size=200).map(lambda b: {"__raw__": b.hex()}))
    def run(channel: str, body: Any) -> None:
        raw = bytes.fromhex(body["__raw__"]) if isinstance(body, dict) and "__raw__" in body else json.dumps(body).encode()
        r = http.post(f"{url}/api/v1/intake/{channel}", data=raw,
                      headers={"X-PackDesk-Signature": sign(f"demo-secret-{channel}".encode(), raw)})
        check(r)

    run()
    assert "Traceback" not in sqlite_hub.errors_logged()


def test_actions_never_answer_5xx(sqlite_hub: HubProcess) -> None:
    demo(sqlite_hub.url, 10, seed=31)
    desk = Session(sqlite_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    ids = [o["order_id"] for o in desk.get("/api/v1/orders").json()["orders"]]
    action = st.fixed_dictionaries({
        "action_id": st.uuids().map(str) | st.text(max_size=70),
        "seq": st.integers(-5, 2**63),
        "order_id": st.sampled_from(ids) | st.text(max_size=40),
        "type": st.sampled_from(["step", "label_printed", "label_voided", "shipped_by_station", "hold_raised",
                                 "hold_released", "address_changed", "reallocated", "cancelled_by_buyer",
                                 "refund_approved", "payment_confirmed", "delivered"]) | st.text(max_size=40),
        "payload": st.dictionaries(st.sampled_from(["step", "type", "reason", "hold_id", "recipient", "bench",
                                                    "printer", "resolution", "details"]), json_values, max_size=4),
        "base_version": st.none() | st.integers(-3, 2**40),
    })

    @FUZZ
    @given(body=st.fixed_dictionaries({"actions": st.lists(action, max_size=5)}) | json_values)
    def run(body: Any) -> None:
        check(desk.post("/api/v1/actions", body))

    run()
    assert "Traceback" not in sqlite_hub.errors_logged()
