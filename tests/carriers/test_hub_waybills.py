"""One real hub process: the ``waybills`` thread starts with the hub, is woken by an intake, fills the
order's waybill from the fake 快递鸟 (benches read it from the change feed), and a ``label_voided``
action through the API gives the number back and fetches a new one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub import db
from hub.carriers import store
from tests.carriers.fake_kdniao import FakeKdniao
from tests.carriers.kit import SENDER
from tests.helpers.hubapi import Session, push_orders
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess


@pytest.fixture
def fake() -> Iterator[FakeKdniao]:
    f = FakeKdniao()
    yield f
    f.close()


def test_the_hub_fetches_waybills_in_the_background_and_cancels_on_void(tmp_path: Path, fake: FakeKdniao) -> None:
    hub = HubProcess(tmp_path / "hub").start()
    try:
        engine = db.make_engine(hub.db_url)
        with engine.begin() as conn:  # as `python main.py hub carriers add` does, on a serving hub
            store.add(conn, carrier="ZTO", provider="kdniao", base_url=fake.url, sender=SENDER,
                      settings={"EBusinessID": fake.business_id, "AppKey": fake.app_key})
        engine.dispose()
        now = utcnow()
        (res,) = push_orders(hub.url, [IntakeOrder(
            channel="generic", channel_order_no="HUB-1", status=ChannelStatus.PAID,
            recipient=Recipient("李四", "13900139000", "上海市", "上海市", "徐汇区", "漕溪北路 2 号"),
            lines=[OrderLine("SKU-TEA-001", "保温杯", 1, 5900)], total_fen=5900, created_at=now, channel_updated_at=now,
            paid_at=now)])
        oid = res["order_id"]
        admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN-PC", bench=None).login()
        first = wait_until(lambda: admin.order(oid)["waybill_no"], 20, "the waybill from the provider")
        assert first == fake.orders[oid]["LogisticCode"]
        assert admin.order(oid)["waybill_routing"]["sort_code"] == "上海-徐汇区"
        assert admin.do(oid, "label_printed", {"reason": "test", "printer": "pdf", "job_id": "j1"})["outcome"] == "applied"
        assert admin.do(oid, "label_voided", {"reason": "torn"})["outcome"] == "applied"
        wait_until(lambda: fake.cancelled == [first], 20, "the old number given back")
        second = wait_until(lambda: admin.order(oid)["waybill_no"], 20, "a new waybill")
        assert second == fake.orders[f"{oid}-2"]["LogisticCode"] != first
        health = admin.get("/api/v1/health/detail").json()
        assert health["waybills"] == {} and fake.app_key not in str(health)
        r = admin.get("/api/v1/carriers")
        assert r.status_code == 200 and fake.app_key not in r.text
        (account,) = r.json()["accounts"]
        assert account["setting_keys"] == ["AppKey", "EBusinessID"] and account["last_ok_at"]
        packer = Session(hub.url).login()
        assert packer.get("/api/v1/carriers").status_code == 403
    finally:
        hub.stop()
    assert "Traceback" not in hub.errors_logged(), hub.log_path.read_text()[-3000:]
    assert fake.app_key not in hub.log_path.read_text()
