"""Fuzzing every endpoint with out-of-bounds input: a clear 4xx (or a 2xx where valid), in milliseconds.

Issue 9's "Done when": numbers with huge exponents, huge integers, extreme dates and oversized
fields sent into every endpoint — login, actions, the change feed, the working-set snapshot,
search, order lookup and audit, intake for every channel, import, the admin prune — each answered
2xx or 4xx (``{error, message, details}``) within :data:`BOUND_S`, on SQLite and PostgreSQL,
with no traceback in the hub's log. Hypothesis picks the field and the hostile value; the
bodies are otherwise valid, so the value reaches the code that reads it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.intake import SIGNATURE_HEADER, sign
from tests.helpers.hubapi import Session, demo
from tests.helpers.rawjson import leaf_paths, with_literal
from tests.hubproc import HubProcess

#: Per request: refused for its numbers/size in milliseconds (it was 39 s, or never).
BOUND_S = 2.0
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels"
FIXTURE_FILES = {"douyin": "douyin_push.json", "pinduoduo": "pinduoduo_order.json", "wechat": "wechat_push.json",
                 "xiaohongshu": "xiaohongshu_push.json", "generic": "generic_push.json"}

#: Number literals as hostile JSON writes them.
huge_numbers = st.one_of(
    st.integers(31, 10**9).map(lambda e: f"1e{e}"),
    st.integers(31, 10**9).map(lambda e: f"-1e-{e}"),
    st.integers(41, 6000).map(lambda n: "9" * n),
    st.integers(41, 6000).map(lambda n: "-" + "1" * n),
    st.integers(1, 30).map(lambda e: f"1e{e}"),  # in bounds: must still be a 2xx or a 4xx
    st.sampled_from(["0e999999999", "1.5e31", "-0", "-0.0", "1e3", "1E+3", str(2**63), str(-2**63 - 1),
                     "123456789012345678901234567890123456789", "0.0000000000000000000000000000001"]),
)
#: Times at and past the ends of what a clock can show, as JSON text.
extreme_dates = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z",
                     "0001-01-01T00:00:00", "0000-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z",
                     "2026-02-30T00:00:00Z", "2026-11-25T08:00:00+23:59", "99999-01-01T00:00:00Z",
                     "0001-01-01 00:00:00", "9999/12/31 23:59:59", "-62135596800", "253402300800000",
                     "9" * 40]),
    st.tuples(st.integers(1, 9999), st.integers(-23, 23)).map(
        lambda t: f"{t[0]:04d}-06-15T12:00:00{'+' if t[1] >= 0 else '-'}{abs(t[1]):02d}:00"),
).map(json.dumps)
#: Text beyond every field's limit.
oversized = st.one_of(st.integers(65, 70_000).map(lambda n: "x" * n),
                      st.integers(2001, 20_000).map(lambda n: "长" * n)).map(json.dumps)
hostile = huge_numbers | extreme_dates | oversized
#: Hostile values for URLs (query parameters and path segments): text, never longer than a URL allows.
url_values = st.one_of(huge_numbers.filter(lambda s: len(s) <= 6000), extreme_dates.map(json.loads),
                       st.integers(65, 6000).map(lambda n: "y" * n), st.sampled_from(["_", "%", "\\", "%_\\"]))


def check(r: requests.Response, took: float, what: Any) -> None:
    assert r.status_code < 500, (what, r.status_code, r.text[:300])
    assert took < BOUND_S, (what, took)
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error", "message", "details"} and body["message"], (what, body)


def timed_post(http: requests.Session, url: str, body: bytes, headers: dict[str, str]) -> tuple[requests.Response, float]:
    start = time.monotonic()
    r = http.post(url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=30)
    return r, time.monotonic() - start


def timed_get(http: requests.Session, url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[
        requests.Response, float]:
    start = time.monotonic()
    r = http.get(url, params=params, headers=headers, timeout=30)
    return r, time.monotonic() - start


def test_every_endpoint_answers_out_of_bounds_input_with_a_4xx_in_milliseconds(hub: HubProcess) -> None:
    http = requests.Session()
    ids = [r["order_id"] for r in demo(hub.url, 8, seed=61)]
    desk = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN-1", bench=None).login()
    docs = {ch: json.loads((FIXTURES / name).read_text(encoding="utf-8")) for ch, name in FIXTURE_FILES.items()}
    paths = {ch: leaf_paths(doc) for ch, doc in docs.items()}

    @FUZZ
    @given(data=st.data())
    def intake(data: st.DataObject) -> None:
        channel = data.draw(st.sampled_from(sorted(docs)))
        path = data.draw(st.sampled_from(paths[channel]))
        body = with_literal(docs[channel], path, data.draw(hostile))
        r, took = timed_post(http, f"{hub.url}/api/v1/intake/{channel}", body,
                             {SIGNATURE_HEADER: sign(f"demo-secret-{channel}".encode(), body)})
        check(r, took, (channel, path))

    login_body = {"operator": "D001", "pin": "2222", "station": "DESK-F", "bench": None, "device_id": "fuzz-dev"}

    @FUZZ
    @given(field=st.sampled_from(sorted(login_body)), value=hostile)
    def login(field: str, value: str) -> None:
        r, took = timed_post(http, f"{hub.url}/api/v1/auth/login", with_literal(login_body, (field,), value), {})
        check(r, took, ("login", field))

    action = {"action_id": "fuzz", "seq": 1, "order_id": ids[0], "type": "hold_raised",
              "payload": {"type": "scan_mismatch", "reason": "r", "details": {"n": 1, "note": "x"}},
              "base_version": None, "operator": "D001", "done_at": "2026-11-25T08:00:00Z"}
    action_paths = [("actions", 0, k) for k in action] + [("actions", 0, "payload", k) for k in action["payload"]] + [
        ("actions", 0, "payload", "details", "n"), ("actions", 0, "payload", "details", "note"), ("actions",), ()]
    counter = iter(range(1, 10**6))

    @FUZZ
    @given(path=st.sampled_from(action_paths), value=hostile,
           type_=st.sampled_from(["hold_raised", "step", "payment_confirmed", "label_printed", "reallocated"]))
    def actions(path: tuple[Any, ...], value: str, type_: str) -> None:
        n = next(counter)
        a = {**action, "action_id": f"fuzz-{n}", "seq": n, "type": type_, "order_id": ids[n % len(ids)]}
        r, took = timed_post(http, f"{hub.url}/api/v1/actions", with_literal({"actions": [a]}, path, value),
                             desk.headers)
        check(r, took, ("actions", path))

    @FUZZ
    @given(value=hostile)
    def prune(value: str) -> None:
        r, took = timed_post(http, f"{hub.url}/api/v1/admin/prune-changes",
                             with_literal({"older_than_s": 3600}, ("older_than_s",), value), admin.headers)
        check(r, took, "prune")

    reads = {"/api/v1/changes": ["cursor", "limit", "wait"], "/api/v1/sync/snapshot": ["after", "limit"],
             "/api/v1/orders": ["q", "state", "bench", "limit"]}

    @FUZZ
    @given(data=st.data(), value=url_values)
    def query(data: st.DataObject, value: str) -> None:
        path = data.draw(st.sampled_from(sorted(reads)))
        name = data.draw(st.sampled_from(reads[path]))
        params = {"wait": "0"} if path == "/api/v1/changes" else {}
        params[name] = value
        if name == "wait" and value.lstrip("-").replace(".", "", 1).isdigit() and 0 < float(value) <= 30:
            params[name] = "0"  # a valid wait is a long-poll, not an answer in milliseconds
        r, took = timed_get(http, hub.url + path, params, desk.headers)
        check(r, took, (path, name))

    @FUZZ
    @given(value=url_values, audit=st.booleans())
    def lookup(value: str, audit: bool) -> None:
        url = f"{hub.url}/api/v1/orders/{requests.utils.quote(value, safe='')}" + ("/audit" if audit else "")
        r, took = timed_get(http, url, {}, desk.headers)
        check(r, took, ("lookup", audit))

    header = "订单号,收件人,手机,省,市,区,详细地址,SKU,商品名称,数量,单价,下单时间"
    row = ["FZ-{n}", "张伟", "13812345678", "浙江省", "杭州市", "西湖区", "文三路90号", "SKU-TEA-001", "西湖龙井 250g",
           "2", "128.00", "2026-02-22 10:15:30"]

    @FUZZ
    @given(column=st.integers(0, len(row) - 1), value=hostile)
    def import_csv(column: int, value: str) -> None:
        n = next(counter)
        cells = [c.format(n=n) for c in row]
        cells[column] = json.loads(value) if value.startswith('"') else value
        text = header + "\n" + ",".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"
        start = time.monotonic()
        r = http.post(f"{hub.url}/api/v1/import", params={"filename": "fuzz.csv"}, data=text.encode(),
                      headers=desk.headers, timeout=30)
        check(r, time.monotonic() - start, ("import", column))

    for run in (intake, login, actions, prune, query, lookup, import_csv):
        run()
    assert http.get(hub.url + "/api/v1/health", timeout=BOUND_S).status_code == 200
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-3000:]
