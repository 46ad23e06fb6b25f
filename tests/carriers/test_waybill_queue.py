"""The e-waybill queue end to end in one hub: allocation queues a fetch, the worker fills the order's
waybill and routing (a new version in the change feed), failures retry, a refusal becomes a hold,
a void gives the old number back and fetches a new one, and no secret leaks. The worker's rounds are
run by the test itself (no thread, no timing); the back-off is skipped with ``make_due``."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.model import ChannelStatus
from core.packing import label_refusal
from core.states import Trigger
from core.store.orders import LocalOrder
from core.timeutil import as_utc, utcnow
from hub import db
from hub.api.admin import health_detail as health
from hub.api.deps import Hub
from hub.carriers import queue, store
from hub.carriers.worker import BAD_CREDENTIALS_RETRY_S, MAX_CANCEL_ATTEMPTS
from hub.orders import change_address, void_label
from tests.carriers import kit
from tests.carriers.fake_kdniao import FakeKdniao


@pytest.fixture
def fake() -> Iterator[FakeKdniao]:
    f = FakeKdniao()
    yield f
    f.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = kit.make_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield h
    h.engine.dispose()
    h.reader.dispose()


def test_allocation_queues_a_fetch_and_the_worker_fills_waybill_and_routing(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    a, b = kit.push(hub, ["T-1", "T-2"])
    before = kit.order(hub, a)
    assert before["state"] == "allocated" and before["carrier"] == "ZTO" and before["waybill_no"] is None
    assert "waybill_routing" not in before and not fake.calls  # no network call inside the intake transaction
    assert health(hub)["waybills"] == {"ZTO": {"awaiting_waybill": 2, "cancels_pending": 0}}  # the low-water figure
    # the bench refuses to print it, in plain words
    refusal = label_refusal(LocalOrder(a, before, before["version"], 0, None, ()), before["bench"])
    assert refusal is not None and "not yet received from the carrier" in refusal

    assert hub.waybills.run_once()
    after = kit.order(hub, a)
    assert after["waybill_no"] == fake.orders[a]["LogisticCode"] != kit.order(hub, b)["waybill_no"]
    assert after["waybill_routing"] == {"provider": "kdniao", "sort_code": "上海-浦东新区", "route_code": "200-A01 05",
                                        "package_centre": "上海转运中心", "package_code": "200", "routing_barcode": ""}
    assert after["version"] == before["version"] + 1
    last = kit.feed_docs(hub, a)[-1]  # what the benches receive
    assert (last["waybill_no"], last["waybill_routing"], last["version"]) == (
        after["waybill_no"], after["waybill_routing"], after["version"])
    assert kit.audit_whats(hub, a)[-1] == "waybill_assigned"
    assert label_refusal(LocalOrder(a, after, after["version"], 0, None, ()), after["bench"]) is None
    assert health(hub)["waybills"] == {}
    assert not hub.waybills.run_once()  # nothing left


def test_5xx_timeout_and_garbage_are_retried_and_a_lost_answer_costs_no_second_number(hub: Hub,
                                                                                      fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    for failure in ("http_500", "garbage", "slow"):  # "slow": the number is issued, the answer is lost
        fake.fail_next(failure)  # type: ignore[arg-type]
        hub.waybills.run_once()
        assert kit.order(hub, oid)["waybill_no"] is None
        (row,) = kit.rows(hub, oid)
        assert row["done_at"] is None and row["refused_at"] is None and row["last_error"]
        assert not hub.waybills.run_once()  # backing off: not due yet
        kit.make_due(hub)
    account = hub.read(lambda c: store.list_accounts(c))[0]
    assert account["last_error_kind"] == "busy" and account["failing_since"]
    hub.waybills.run_once()
    # the lost answer (slow) and the retry reached the order desk: one number
    assert fake.fetches[oid] == 2 and fake.numbers_of(oid) == [kit.order(hub, oid)["waybill_no"]]
    (row,) = kit.rows(hub, oid)
    assert (row["outcome"], row["attempts"], row["waybill"]) == ("ok", 4, fake.numbers_of(oid)[0])
    assert hub.read(lambda c: store.list_accounts(c))[0]["failing_since"] is None


def test_a_refused_address_raises_a_hold_with_the_carriers_words(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    fake.refuse_districts.add("崇明区")
    (oid,) = kit.push(hub, ["T-1"], district="崇明区")
    hub.waybills.run_once()
    doc = kit.order(hub, oid)
    (hold,) = doc["holds"]
    assert hold["type"] == "carrier_area" and "不在派送范围" in hold["reason"]
    assert hold["details"]["waybill_refused"] and hold["details"]["provider"] == "kdniao"
    assert "ZTO" in hold["details"]["options"]["carriers"]  # the playbook's choice of carriers
    (row,) = kit.rows(hub, oid)
    assert row["outcome"] == "refused" and doc["waybill_no"] is None
    kit.make_due(hub)
    assert not hub.waybills.run_once()  # a refusal is final: no retry
    # the desk's resolution (choose a carrier) voids and asks again, with a new order code
    fake.refuse_districts.clear()
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))
    hub.waybills.run_once()
    assert kit.order(hub, oid)["waybill_no"] == fake.orders[f"{oid}-2"]["LogisticCode"]


def test_void_gives_the_old_number_back_retrying_a_failed_cancel_and_fetches_a_new_one(hub: Hub,
                                                                                       fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    old = kit.order(hub, oid)["waybill_no"]
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))  # label_voided / address change after print
    voided = kit.order(hub, oid)
    assert voided["waybill_no"] is None and "waybill_routing" not in voided  # old routing is not the new number's
    fake.fail_next("http_500", request_type="1147")
    hub.waybills.run_once()
    new = kit.order(hub, oid)["waybill_no"]
    assert new == fake.orders[f"{oid}-2"]["LogisticCode"] != old
    assert fake.cancelled == []
    kit.make_due(hub)
    hub.waybills.run_once()
    assert fake.cancelled == [old]
    assert [(r["op"], r["order_code"], r["outcome"]) for r in kit.rows(hub, oid)] == [
        ("fetch", oid, "ok"), ("cancel", oid, "ok"), ("fetch", f"{oid}-2", "ok")]
    assert next(r for r in kit.rows(hub, oid) if r["op"] == "cancel")["attempts"] == 2


def test_a_cancel_the_provider_refuses_is_recorded_on_the_order(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    fake.orders[oid]["ShipperCode"] = "YTO"  # the provider no longer matches it: it refuses the cancel
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))
    hub.waybills.run_once()
    cancel = next(r for r in kit.rows(hub, oid) if r["op"] == "cancel")
    assert cancel["outcome"] == "refused" and "不匹配" in cancel["last_error"]
    assert "waybill_cancel_failed" in kit.audit_whats(hub, oid)
    assert kit.order(hub, oid)["waybill_no"]  # the new number came regardless


def test_a_fetch_answered_after_the_void_is_not_used_but_given_back(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    rows = hub.tx(lambda c: queue.claim(c, utcnow(), 60.0))
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))  # meanwhile: voided (a new fetch is queued)
    hub.waybills.work(rows[0])  # the old fetch's answer arrives
    assert kit.order(hub, oid)["waybill_no"] is None
    hub.waybills.run_once()
    assert kit.order(hub, oid)["waybill_no"] == fake.orders[f"{oid}-2"]["LogisticCode"]
    assert fake.cancelled == [fake.orders[oid]["LogisticCode"]]


@pytest.mark.allow_error_log
def test_no_secret_in_logs_audit_feed_or_answers(hub: Hub, fake: FakeKdniao, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    kit.add_kdniao(hub, fake, app_key="wrong-app-key-5e")  # every call fails its signature
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    (row,) = kit.rows(hub, oid)
    assert "签名" in row["last_error"] and row["done_at"] is None
    listed = hub.read(lambda c: store.list_accounts(c))
    assert listed[0]["setting_keys"] == ["AppKey", "CustomerName", "CustomerPwd", "EBusinessID"]
    assert listed[0]["last_error_kind"] == "bad_credentials"
    seen = "\n".join([caplog.text, json.dumps(listed, ensure_ascii=False), json.dumps(health(hub), ensure_ascii=False),
                      json.dumps(kit.feed_docs(hub, oid), ensure_ascii=False), json.dumps(kit.rows(hub, oid))])
    for secret in ("wrong-app-key-5e", kit.CUSTOMER_PWD):
        assert secret not in seen


def test_a_carrier_without_account_keeps_demo_numbers_at_allocation(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake, carrier="YTO")  # ZTO has no account
    (oid,) = kit.push(hub, ["T-1"])
    doc = kit.order(hub, oid)
    assert doc["waybill_no"] == f"{hub.rules.waybill_prefixes['ZTO']}{hub.settings.waybill_start + 1}"
    assert "waybill_routing" not in doc and kit.rows(hub, oid) == [] and not hub.waybills.run_once()
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))
    assert kit.order(hub, oid)["waybill_no"] == f"{hub.rules.waybill_prefixes['ZTO']}{hub.settings.waybill_start + 2}"
    assert kit.rows(hub, oid) == [] and not fake.calls


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_fetch_one_row_twice(fake: FakeKdniao) -> None:
    from tests.conftest import require_postgres
    from tests.hubproc import fresh_pg_database

    require_postgres()
    with fresh_pg_database() as url:
        one, two = kit.make_hub(url), kit.make_hub(url)
        try:
            kit.add_kdniao(one, fake)
            ids = kit.push(one, [f"T-{i}" for i in range(40)])
            start = threading.Barrier(2)

            def drain(h: Hub) -> None:
                start.wait()
                while h.waybills.run_once():
                    pass
            threads = [threading.Thread(target=drain, args=(h,)) for h in (one, two)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(fake.fetches) == sorted(ids) and set(fake.fetches.values()) == {1}
            assert all(kit.order(one, oid)["waybill_no"] == fake.orders[oid]["LogisticCode"] for oid in ids)
        finally:
            for h in (one, two):
                h.engine.dispose()
                h.reader.dispose()


def test_an_address_change_after_printing_cancels_and_fetches_for_the_new_address(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    old = kit.order(hub, oid)["waybill_no"]
    kit.in_tx(hub, oid, lambda w, d: w.transition(d, Trigger.LABEL_PRINTED))
    new_address = {**kit.order(hub, oid)["recipient"], "district": "闵行区", "address": "莘庄镇 8 号"}
    kit.in_tx(hub, oid, lambda w, d: change_address(w, hub.rules, d, new_address, why="buyer asked"))
    doc = kit.order(hub, oid)
    assert doc["waybill_no"] is None and [h["type"] for h in doc["holds"]] == ["address_change"]
    hub.waybills.run_once()
    assert fake.cancelled == [old]
    assert fake.orders[f"{oid}-2"]["MarkDestination"] == "上海-闵行区"  # routing of the new address
    doc = kit.order(hub, oid)
    assert doc["waybill_no"] == fake.orders[f"{oid}-2"]["LogisticCode"] and doc["waybill_routing"]["sort_code"] == "上海-闵行区"


def test_a_buyer_cancel_before_printing_gives_the_number_back(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    a, b = kit.push(hub, ["T-1", "T-2"])
    hub.waybills.run_once()
    kit.push(hub, ["T-1"], status=ChannelStatus.CANCELLED)
    kit.push(hub, ["T-3"])
    c = kit.order_id_of(hub, "T-3")
    kit.push(hub, ["T-3"], status=ChannelStatus.CANCELLED)  # cancelled before its fetch ran
    hub.waybills.run_once()
    assert fake.cancelled == [fake.orders[a]["LogisticCode"]]
    assert c not in fake.fetches and [r["outcome"] for r in kit.rows(hub, c)] == ["superseded"]
    assert kit.order(hub, b)["waybill_no"] == fake.orders[b]["LogisticCode"]


def test_an_address_change_before_printing_fetches_a_waybill_for_the_new_address(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    old = kit.order(hub, oid)["waybill_no"]
    new_address = {**kit.order(hub, oid)["recipient"], "district": "嘉定区"}
    kit.in_tx(hub, oid, lambda w, d: change_address(w, hub.rules, d, new_address, why="buyer asked"))
    doc = kit.order(hub, oid)
    assert doc["waybill_no"] is None and doc["holds"] == []  # nothing printed: nothing to destroy
    hub.waybills.run_once()
    assert fake.cancelled == [old]
    assert kit.order(hub, oid)["waybill_routing"]["sort_code"] == "上海-嘉定区"


def test_a_cancel_that_keeps_failing_is_given_up_and_recorded(hub: Hub, fake: FakeKdniao) -> None:
    kit.add_kdniao(hub, fake)
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    kit.in_tx(hub, oid, lambda w, d: void_label(w, hub.rules, d))
    fake.fail_next("garbage", times=MAX_CANCEL_ATTEMPTS, request_type="1147")
    for _ in range(MAX_CANCEL_ATTEMPTS):
        assert hub.waybills.run_once()
        kit.make_due(hub)
    cancel = next(r for r in kit.rows(hub, oid) if r["op"] == "cancel")
    assert (cancel["outcome"], cancel["attempts"]) == ("gave_up", MAX_CANCEL_ATTEMPTS) and cancel["refused_at"]
    assert "not JSON" in cancel["last_error"] and "waybill_cancel_failed" in kit.audit_whats(hub, oid)
    assert not hub.waybills.run_once() and fake.cancelled == []


def test_bad_credentials_retry_slowly_and_a_paused_account_waits(hub: Hub, fake: FakeKdniao) -> None:
    aid = kit.add_kdniao(hub, fake, app_key="wrong")
    (oid,) = kit.push(hub, ["T-1"])
    hub.waybills.run_once()
    due = hub.read(lambda c: c.execute(select(db.waybill_queue.c.next_attempt_at)).scalar_one())
    assert (as_utc(due) - utcnow()).total_seconds() > BAD_CREDENTIALS_RETRY_S - 10
    hub.tx(lambda c: c.execute(update(db.carrier_accounts).values(settings={"EBusinessID": fake.business_id,
                                                                             "AppKey": fake.app_key})))
    hub.tx(lambda c: store.set_enabled(c, aid, False))
    kit.make_due(hub)
    hub.waybills.run_once()
    assert kit.order(hub, oid)["waybill_no"] is None and kit.rows(hub, oid)[0]["last_error"] == "carrier account paused"
    hub.tx(lambda c: store.set_enabled(c, aid, True))
    kit.make_due(hub)
    hub.waybills.run_once()
    assert kit.order(hub, oid)["waybill_no"] == fake.orders[oid]["LogisticCode"]
