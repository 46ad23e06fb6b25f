"""Fuzzing the intake and actions endpoints: whatever arrives, the answer is a 2xx or a clear 4xx.

Hypothesis drives random JSON (and random bytes) at a real hub, on SQLite and on PostgreSQL; the
bodies are also shaped after the OpenAPI schema of ActionBatch, and after each channel's real
payload with one field replaced, so many get past validation and reach the state machine and the
database (where PostgreSQL's stricter text rules live: no NUL, fixed column widths).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.intake import sign
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess

#: Text as hostile clients send it: NULs, lone surrogates (as JSON escapes), long runs, CJK.
texts = (st.text(max_size=30)
         | st.text(st.characters(codec=None, categories=["Cs", "Cc"]), min_size=1, max_size=3)
         | st.sampled_from(["\u0000", "王\u0000", "\ud800", "欧阳" * 50, "x" * 70, "B1", "WH-GZ", "GZ-B1"]))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats() | texts,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=25,
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def check(r: requests.Response) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error", "message", "details"} and body["message"], body


def test_intake_never_answers_5xx(hub: HubProcess) -> None:
    url = hub.url
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
    assert "Traceback" not in hub.errors_logged()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels"
FIXTURE_FILES = {"douyin": "douyin_push.json", "pinduoduo": "pinduoduo_order.json", "wechat": "wechat_push.json",
                 "xiaohongshu": "xiaohongshu_push.json", "generic": "generic_push.json"}


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    for k, v in items:
        out += _paths(v, (*prefix, k))
    return out


def test_a_real_push_with_one_field_replaced_never_answers_5xx(hub: HubProcess) -> None:
    """Valid pushes with one hostile field get through the adapters into the database."""
    http = requests.Session()

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        channel = data.draw(st.sampled_from(sorted(FIXTURE_FILES)))
        doc = json.loads((FIXTURES / FIXTURE_FILES[channel]).read_text(encoding="utf-8"))
        path = data.draw(st.sampled_from(_paths(doc)[1:]))
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = data.draw(json_values)
        raw = json.dumps(doc).encode()  # ensure_ascii: a lone surrogate travels as its escape
        r = http.post(f"{hub.url}/api/v1/intake/{channel}", data=raw,
                      headers={"X-PackDesk-Signature": sign(f"demo-secret-{channel}".encode(), raw)})
        check(r)

    run()
    assert "Traceback" not in hub.errors_logged()


def test_actions_never_answer_5xx(hub: HubProcess) -> None:
    demo(hub.url, 10, seed=31)
    desk = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    ids = [o["order_id"] for o in desk.get("/api/v1/orders").json()["orders"]]
    action = st.fixed_dictionaries({
        "action_id": st.uuids().map(str) | st.text(max_size=70) | texts,
        "seq": st.integers(-5, 2**63),
        "order_id": st.sampled_from(ids) | st.text(max_size=40) | texts,
        "type": st.sampled_from(["step", "label_printed", "label_voided", "shipped_by_station", "hold_raised",
                                 "hold_released", "address_changed", "reallocated", "cancelled_by_buyer",
                                 "refund_approved", "payment_confirmed", "delivered"]) | st.text(max_size=40),
        "payload": st.dictionaries(st.sampled_from(["step", "type", "reason", "hold_id", "recipient", "bench",
                                                    "printer", "resolution", "details", "warehouse"]), json_values, max_size=4),
        "base_version": st.none() | st.integers(-3, 2**40),
    })

    @FUZZ
    @given(body=st.fixed_dictionaries({"actions": st.lists(action, max_size=5)}) | json_values)
    def run(body: Any) -> None:
        raw = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as its escape
        check(desk.http.post(desk.url + "/api/v1/actions", data=raw, timeout=40,
                             headers={**desk.headers, "Content-Type": "application/json"}))

    run()
    assert "Traceback" not in hub.errors_logged()
