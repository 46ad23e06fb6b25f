"""Intake over real HTTP: orders arrive once, in the right state, whatever the channel does."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import requests

from core.demo import generate_orders
from core.model import ChannelStatus, IntakeOrder, intake_to_json
from tests.helpers.hubapi import Session, push
from tests.hubproc import HubProcess


def one(status: ChannelStatus = ChannelStatus.PAID, seed: int = 7) -> IntakeOrder:
    o = next(o for o in generate_orders(200, seed=seed) if not o.custom_packaging and not o.has_gift
             and o.recipient.province not in ("西藏自治区", "新疆维吾尔自治区", "青海省"))
    o.status = status
    o.paid_at = o.created_at + timedelta(minutes=2) if status is ChannelStatus.PAID else None
    o.channel_updated_at = o.created_at
    return o


def desk(hub: HubProcess) -> Session:
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()


def test_a_paid_order_is_created_allocated_and_gets_a_waybill(hub: HubProcess) -> None:
    r = push(hub.url, "generic", intake_to_json(one()))
    assert r.status_code == 200, r.text
    res = r.json()["orders"][0]
    assert re.fullmatch(r"BL\d{8}-\d{6}", res["order_id"]) and res["created"] is True
    order = desk(hub).order(res["order_id"])
    assert order["state"] == "allocated"
    assert order["bench"] and order["warehouse"] and order["waybill_no"] and order["carrier"]
    assert all(line["bin"] for line in order["lines"])


def test_the_same_push_twice_is_one_order_and_changes_nothing(hub: HubProcess) -> None:
    body = intake_to_json(one())
    first = push(hub.url, "generic", body).json()["orders"][0]
    d = desk(hub)
    before = d.order(first["order_id"])
    again = push(hub.url, "generic", body).json()["orders"][0]
    assert again["order_id"] == first["order_id"] and again["created"] is False
    assert d.order(first["order_id"])["version"] == before["version"]


def test_an_older_unpaid_push_arriving_after_the_paid_one_is_ignored(hub: HubProcess) -> None:
    paid = one()
    paid.channel_updated_at = paid.created_at + timedelta(minutes=5)
    unpaid = one(ChannelStatus.UNPAID)
    oid = push(hub.url, "generic", intake_to_json(paid)).json()["orders"][0]["order_id"]
    push(hub.url, "generic", intake_to_json(unpaid))
    assert desk(hub).order(oid)["state"] == "allocated"


def test_unpaid_then_paid_moves_the_order_on(hub: HubProcess) -> None:
    unpaid = one(ChannelStatus.UNPAID)
    oid = push(hub.url, "generic", intake_to_json(unpaid)).json()["orders"][0]["order_id"]
    d = desk(hub)
    assert d.order(oid)["state"] == "pending_payment"
    paid = one()
    paid.channel_updated_at = paid.created_at + timedelta(minutes=3)
    push(hub.url, "generic", intake_to_json(paid))
    assert d.order(oid)["state"] == "allocated"


def test_status_moving_on_within_the_same_second_is_not_taken_for_a_repeat(hub: HubProcess) -> None:
    """Channels stamp whole seconds, and a push without an update time falls back to the create
    time: unpaid → paid → cancelled with one timestamp must still reach the last state."""
    o = one(ChannelStatus.UNPAID, seed=21)
    states = []
    for status in (ChannelStatus.UNPAID, ChannelStatus.PAID, ChannelStatus.PAID, ChannelStatus.CANCELLED,
                   ChannelStatus.PAID):
        o.status = status
        r = push(hub.url, "generic", intake_to_json(o))
        assert r.status_code == 200, r.text
        states.append(r.json()["orders"][0]["state"])
    assert states == ["pending_payment", "allocated", "allocated", "closed", "closed"]
    oid = r.json()["orders"][0]["order_id"]
    whats = [e["what"] for e in desk(hub).get(f"/api/v1/orders/{oid}/audit").json()["entries"]]
    assert whats.count("allocated") == 1 and whats.count("cancelled_by_buyer") == 1


def test_each_status_push_is_audited_with_its_channel_message_id(hub: HubProcess) -> None:
    o = one(ChannelStatus.UNPAID, seed=23)
    for status, msg in ((ChannelStatus.UNPAID, "m-1"), (ChannelStatus.PAID, "m-2"), (ChannelStatus.CANCELLED, "m-3")):
        o.status, o.message_id = status, msg
        r = push(hub.url, "generic", intake_to_json(o))
        assert r.status_code == 200, r.text
    oid = r.json()["orders"][0]["order_id"]
    by_what = {e["what"]: e for e in desk(hub).get(f"/api/v1/orders/{oid}/audit").json()["entries"]}
    assert [by_what[w]["details"]["message_id"] for w in ("created", "payment_confirmed", "cancelled_by_buyer")] == [
        "m-1", "m-2", "m-3"]


def test_a_douyin_order_created_and_paid_in_one_second_is_allocated(hub: HubProcess) -> None:
    from pathlib import Path

    fixture = Path(__file__).parent.parent / "fixtures" / "channels" / "douyin_push.json"
    message = json.loads(fixture.read_text(encoding="utf-8"))[1]  # thin message + shop_order_detail
    data = json.loads(message["data"])
    detail = data["shop_order_detail"]
    detail["order_id"] = data["p_id"] = "6920000000000000001"
    detail.pop("main_status", None)
    detail["update_time"] = detail["create_time"]
    results = []
    for tag, status in (("100", 1), ("101", 2)):
        detail["order_status"] = data["order_status"] = status
        r = push(hub.url, "douyin", [{**message, "tag": tag, "msg_id": f"m-{tag}", "data": json.dumps(data)}])
        assert r.status_code == 200, r.text
        results.append(r.json()["orders"][0])
    assert results[0]["order_id"] == results[1]["order_id"]
    assert [r["state"] for r in results] == ["pending_payment", "allocated"]


def test_a_cancel_after_the_label_is_printed_becomes_a_request_not_a_silent_close(hub: HubProcess) -> None:
    o = one()
    oid = push(hub.url, "generic", intake_to_json(o)).json()["orders"][0]["order_id"]
    d = desk(hub)
    order = d.order(oid)
    packer = Session(hub.url, operator="P001", pin="1111", station=f"{order['bench']}-PC", bench=order["bench"]).login()
    assert packer.do(oid, "label_printed", {"printer": "pdf", "job_id": "j1"}, base_version=order["version"])["outcome"] == "applied"
    o.status = ChannelStatus.CANCELLED
    o.channel_updated_at = o.created_at + timedelta(hours=1)
    push(hub.url, "generic", intake_to_json(o))
    after = d.order(oid)
    assert after["state"] == "label_printed"
    assert after["cancel_requested"] is True
    assert [h["type"] for h in after["holds"]] == ["cancel_request"]


def test_a_batch_with_one_bad_order_stores_none_of_it(hub: HubProcess) -> None:
    good = [intake_to_json(o) for o in generate_orders(3, seed=99)]
    bad = dict(good[1])
    bad["lines"] = "not a list"
    r = push(hub.url, "generic", {"orders": [good[0], bad, good[2]]})
    assert r.status_code in (400, 422)
    err = r.json()
    assert err["error"] == "validation_failed" and "lines" in err["message"]
    found = desk(hub).get("/api/v1/orders", q=good[0]["channel_order_no"]).json()["orders"]
    assert found == []


def test_bad_signature_unknown_channel_malformed_json_and_huge_bodies_get_clear_4xx(hub: HubProcess) -> None:
    body = json.dumps(intake_to_json(one())).encode()
    r = requests.post(f"{hub.url}/api/v1/intake/generic", data=body, headers={"X-PackDesk-Signature": "sha256=00"})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    r = requests.post(f"{hub.url}/api/v1/intake/generic", data=body)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    r = push(hub.url, "taobao-fake", {"x": 1})
    assert r.status_code == 404 and r.json()["error"] == "unknown_channel"
    from hub.intake import sign

    raw = b'{"orders": [ {"broken'
    r = requests.post(f"{hub.url}/api/v1/intake/generic", data=raw,
                      headers={"X-PackDesk-Signature": sign(b"demo-secret-generic", raw)})
    assert r.status_code == 400 and r.json()["error"] == "validation_failed" and r.json()["message"]
    huge = b"x" * (3 * 1024 * 1024)
    r = requests.post(f"{hub.url}/api/v1/intake/generic", data=huge)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert requests.get(f"{hub.url}/api/v1/health").json()["status"] == "ok"


def test_every_channel_adapter_is_reachable_over_http(hub: HubProcess) -> None:
    from pathlib import Path

    fixtures = Path(__file__).parent.parent / "fixtures" / "channels"
    for channel in ("douyin", "pinduoduo", "wechat", "xiaohongshu"):
        files = sorted(fixtures.glob(f"{channel}*.json"))
        assert files, f"no fixture for {channel}"
        payload = json.loads(files[0].read_text(encoding="utf-8"))
        r = push(hub.url, channel, payload)
        assert r.status_code == 200, (channel, r.text)
        assert r.json()["accepted"] >= 1


def test_concurrent_pushes_on_a_fresh_day_get_unique_ids_and_all_land(hub: HubProcess) -> None:
    """The first orders of a day create the day's counter: concurrent pushers must queue, not fail."""
    from concurrent.futures import ThreadPoolExecutor

    batches = [[intake_to_json(o) for o in generate_orders(20, seed=500 + i)] for i in range(8)]
    for i, batch in enumerate(batches):
        for b in batch:
            b["channel_order_no"] = f"C{i}-{b['channel_order_no']}"
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda b: push(hub.url, "generic", {"orders": b}), batches))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    ids = [o["order_id"] for r in responses for o in r.json()["orders"]]
    assert len(ids) == len(set(ids)) == 160


def test_the_same_new_order_pushed_twice_at_once_is_one_order(hub: HubProcess) -> None:
    """Channels retry on a timeout while the first push is still being absorbed."""
    import threading

    body = intake_to_json(one(seed=77))
    barrier = threading.Barrier(2)
    got: list[requests.Response] = []

    def go() -> None:
        barrier.wait()
        got.append(push(hub.url, "generic", body))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in got] == [200, 200], [r.text for r in got]
    results = [r.json()["orders"][0] for r in got]
    assert results[0]["order_id"] == results[1]["order_id"]
    assert sorted(r["created"] for r in results) == [False, True]
