"""The hub's search finds a phone by its tail, as docs/api.md says and the bench does (issue 11:
"1422" found 18592142232 on the bench, a run of digits in the middle of the number)."""

from __future__ import annotations

from core.demo import generate_orders
from core.model import intake_to_json
from tests.helpers.hubapi import Session, push
from tests.hubproc import HubProcess


def test_a_phone_is_found_by_its_tail_only(hub: HubProcess) -> None:
    orders = generate_orders(3, seed=71)
    phones = ("185-9214-2232", "13900002232", "13600001422")
    for o, phone in zip(orders, phones, strict=True):
        o.recipient.phone = phone
    r = push(hub.url, "generic", {"orders": [intake_to_json(o) for o in orders]})
    assert r.status_code == 200, r.text
    desk = Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()

    def found(q: str) -> set[str]:
        resp = desk.get("/api/v1/orders", q=q)
        assert resp.status_code == 200, resp.text
        return {str(o["recipient"]["phone"]) for o in resp.json()["orders"]}

    assert found("2232") == {"185-9214-2232", "13900002232"}  # the last 4 digits a buyer reads out
    assert found("92142232") == {"185-9214-2232"}  # a longer tail narrows it
    assert found("18592142232") == {"185-9214-2232"}  # the whole number
    assert found("1422") == {"13600001422"}  # not 18592142232: 1422 is in its middle
    assert found("9214") == set()
