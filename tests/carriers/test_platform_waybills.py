"""The shop platforms' own e-waybills (抖店 ``logistics.newCreateOrder`` / ``cancelOrder``, 拼多多
``pdd.waybill.get`` / ``cancel``) against fake platforms on 127.0.0.1 that check every signature as
the channel fakes do, with the shop's token from a real hub database (SQLite)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import Engine

from hub.carriers.base import CarrierAccount, CarrierError, ErrorKind, Routing
from hub.carriers.pdd_waybill import routing_of
from hub.carriers.platform_session import refusal_kind, use_tokens
from hub.channels import store
from hub.channels.douyin import sign
from hub.channels.pinduoduo import sign_params
from tests.carriers.fake_douyin_waybill import FakeDouyinWaybill
from tests.carriers.fake_pdd_waybill import ROUTING_INFO
from tests.carriers.platform_kit import SENDER, Kit, hub_database, make_kit
from tests.channels.fake_pinduoduo import expected_sign
from tests.channels.test_douyin import KAT, KAT_KEY, KAT_SECRET
from tests.helpers.waiting import wait_until

PLATFORMS = ["douyin", "pinduoduo"]
EXPECTED_ROUTING = {
    "douyin": Routing(sort_code="杭州西湖", route_code="571-A01 05", package_centre="杭州转运中心", package_code="571000"),
    "pinduoduo": Routing(sort_code=ROUTING_INFO["bigShotName"], route_code=ROUTING_INFO["threeSegmentCode"]),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from hub_database(Path(tmp_path_factory.mktemp("platwb")))


@pytest.fixture(params=PLATFORMS)
def kit(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Kit]:
    k = make_kit(request.param, engine)
    try:
        yield k
    finally:
        k.close()


def _no(kit: Kit, n: int) -> str:
    return f"49{n:017d}" if kit.platform == "douyin" else f"261206-{n:015d}"


def _receiver_text(kit: Kit, sent: dict[str, object]) -> tuple[str, str, str]:
    """(name, mobile, detail) of a receiver the fake accepted, in either platform's shape."""
    if kit.platform == "douyin":
        contact, address = sent["contact"], sent["address"]
        assert isinstance(contact, dict) and isinstance(address, dict)
        return contact["name"], contact["mobile"], address["detail_address"]
    address = sent["address"]
    assert isinstance(address, dict)
    return str(sent["name"]), str(sent["mobile"]), address["detail"]


# -- fetch ----------------------------------------------------------------------------------------


def test_fetch_sends_the_orders_ciphertext_and_returns_the_waybill_with_its_routing(kit: Kit) -> None:
    no = _no(kit, 1)
    kit.add_order(no)
    req = kit.request(no)
    assert "*" in req.recipient.name  # the hub only holds the masked recipient

    waybill = kit.provider.fetch(kit.account, req)

    assert kit.fake.live_waybills() == [waybill.waybill_no]
    assert waybill.carrier == "ZTO"
    assert waybill.routing == EXPECTED_ROUTING[kit.platform]
    # the platform decrypts: the order's own ciphertext went out, not the mask we hold
    assert _receiver_text(kit, kit.sent_receivers()[-1]) == kit.ciphertext(no)
    assert waybill.routing.as_doc(kit.provider.name)["provider"] == kit.platform


def test_the_same_order_asked_again_after_a_lost_answer_costs_no_second_number(kit: Kit) -> None:
    no = _no(kit, 2)
    kit.add_order(no)
    req = kit.request(no)
    kit.fake.slow_s = 1.0
    impatient = type(kit.provider)(timeout_s=0.4, tokens=kit.tokens)
    kit.fake.fail_next("slow", method=kit.create)  # the platform issues the number; we time out first
    with pytest.raises(CarrierError) as err:
        impatient.fetch(kit.account, req)
    assert err.value.kind is ErrorKind.BUSY  # the queue retries it
    wait_until(lambda: kit.fake.live_waybills(), what="the slow create to land on the fake platform")
    again = kit.provider.fetch(kit.account, req)
    assert kit.fake.live_waybills() == [again.waybill_no]


def test_cancel_gives_the_number_back_and_a_new_fetch_gets_a_new_one(kit: Kit) -> None:
    no = _no(kit, 3)
    kit.add_order(no)
    req = kit.request(no)
    first = kit.provider.fetch(kit.account, req)
    kit.provider.cancel(kit.account, "ZTO", first.waybill_no)
    assert kit.fake.live_waybills() == []
    kit.provider.cancel(kit.account, "ZTO", first.waybill_no)  # cancelled already: done, not an error
    second = kit.provider.fetch(kit.account, req)
    assert second.waybill_no != first.waybill_no and kit.fake.live_waybills() == [second.waybill_no]


def test_the_fetch_after_a_void_gets_a_new_number_even_before_the_old_one_is_cancelled(kit: Kit) -> None:
    no = _no(kit, 17)
    kit.add_order(no)
    req = kit.request(no)
    first = kit.provider.fetch(kit.account, req)
    after_void = req.__class__(**{**req.__dict__, "order_id": req.order_id + "-2"})  # the queue's next order code
    second = kit.provider.fetch(kit.account, after_void)
    assert second.waybill_no != first.waybill_no
    kit.provider.cancel(kit.account, "ZTO", first.waybill_no)  # the queued cancel of the old one
    assert kit.fake.live_waybills() == [second.waybill_no]


def test_cancel_of_a_number_the_platform_never_issued_is_refused(kit: Kit) -> None:
    with pytest.raises(CarrierError) as err:
        kit.provider.cancel(kit.account, "ZTO", "NO-SUCH-WAYBILL")
    assert err.value.kind is ErrorKind.REFUSED and "不存在" in err.value.message


def test_an_address_the_carrier_does_not_serve_is_refused_with_the_platforms_words(kit: Kit) -> None:
    no = _no(kit, 4)
    kit.add_order(no)
    req = kit.request(no)
    kit.refuse_area(req.recipient.district)
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, req)
    assert err.value.kind is ErrorKind.REFUSED
    assert "派送" in err.value.message or "不可达" in err.value.message
    assert kit.fake.live_waybills() == []


def test_an_address_the_desk_changed_is_sent_as_plain_text(kit: Kit) -> None:
    no = _no(kit, 5)
    kit.add_order(no)
    masked = kit.request(no).recipient
    changed = masked.__class__("李四", "13700002222", masked.province, masked.city, masked.district, "新地址 8 号")
    kit.provider.fetch(kit.account, kit.request(no, recipient=changed))
    assert _receiver_text(kit, kit.sent_receivers()[-1]) == ("李四", "13700002222", "新地址 8 号")


def test_a_masked_recipient_that_is_not_the_platforms_is_refused_before_any_call(kit: Kit) -> None:
    no = _no(kit, 6)
    kit.add_order(no)
    masked = kit.request(no).recipient
    edited = masked.__class__(masked.name, masked.phone, masked.province, masked.city, "另一区", masked.address)
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, kit.request(no, recipient=edited))
    assert (err.value.kind, err.value.code) == (ErrorKind.REFUSED, "no_ciphertext")
    assert kit.create not in kit.fake.calls.names


def test_orders_of_another_channel_or_cancelled_on_the_platform_are_refused(kit: Kit) -> None:
    no = _no(kit, 7)
    kit.add_order(no)
    req = kit.request(no)
    other = req.__class__(**{**req.__dict__, "channel": "wechat"})
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, other)
    assert (err.value.kind, err.value.code) == (ErrorKind.REFUSED, "not_platform_order")
    kit.fake.set_status(no, "cancelled")
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, req)
    assert (err.value.kind, err.value.code) == (ErrorKind.REFUSED, "order_closed")
    assert kit.fake.live_waybills() == []


@pytest.mark.parametrize("failure,kind", [("http_500", ErrorKind.BUSY), ("garbage", ErrorKind.BAD_RESPONSE),
                                          ("busy", ErrorKind.BUSY)])
def test_a_platform_that_answers_garbage_or_5xx_is_retried_later(kit: Kit, failure: str, kind: ErrorKind) -> None:
    no = _no(kit, 8)
    kit.add_order(no)
    req = kit.request(no)
    kit.fake.fail_next(failure, method=kit.create)
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, req)
    assert err.value.kind is kind
    assert kit.provider.fetch(kit.account, req).waybill_no  # the retry gets through


# -- tokens ---------------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_through_the_connector_and_stored(kit: Kit, engine: Engine) -> None:
    no = _no(kit, 9)
    kit.add_order(no)
    req = kit.request(no)
    before = kit.tokens.read(lambda c: store.load(c, kit.connector_id))[1]
    assert before is not None
    kit.fake.expire_tokens()
    kit.provider.fetch(kit.account, req)
    after = kit.tokens.read(lambda c: store.load(c, kit.connector_id))[1]
    assert after is not None and after.access_token != before.access_token


def test_a_token_the_platform_keeps_calling_expired_is_token_expired(kit: Kit) -> None:
    no = _no(kit, 10)
    kit.add_order(no)
    req = kit.request(no)
    if kit.platform == "douyin":
        kit.fake.fail_next("token_expired", times=2, method=kit.create)
    else:
        for _ in range(2):
            kit.fake.answer_next(kit.create, 10019, "access_token已过期")
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, req)
    assert err.value.kind is ErrorKind.TOKEN_EXPIRED
    assert kit.fake.calls.count(kit.create) == 2  # refreshed and tried once more, no loop


# -- configuration ----------------------------------------------------------------------------------


def test_an_account_without_its_connector_stops_with_words_the_admin_can_act_on(kit: Kit, engine: Engine) -> None:
    no = _no(kit, 11)
    kit.add_order(no)
    req = kit.request(no)
    cls = type(kit.provider)
    for settings, words in (({}, "connector_id"), ({"connector_id": "99999"}, "does not exist")):
        account = CarrierAccount(1, "ZTO", kit.platform, "", SENDER, settings)
        with pytest.raises(CarrierError) as err:
            cls(tokens=kit.tokens).fetch(account, req)
        assert err.value.kind is ErrorKind.BAD_CREDENTIALS and words in err.value.message
    other = "pinduoduo" if kit.platform == "douyin" else "douyin"
    with engine.begin() as conn:
        wrong = store.add(conn, platform=other, shop_id=f"x{kit.connector_id}", app_key="k", app_secret="s",
                          base_url="http://127.0.0.1:9")
    account = CarrierAccount(1, "ZTO", kit.platform, "", SENDER, {"connector_id": str(wrong)})
    with pytest.raises(CarrierError) as err:
        cls(tokens=kit.tokens).fetch(account, req)
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and other in err.value.message
    with pytest.raises(CarrierError) as err:
        kit.provider.fetch(kit.account, kit.request(no, carrier="NOPE"))
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "NOPE" in err.value.message


def test_account_wide_refusals_stop_the_account_and_hiccups_are_retried() -> None:
    assert refusal_kind("电子面单余额不足，请充值") is ErrorKind.BAD_CREDENTIALS
    assert refusal_kind("快递公司系统繁忙，请稍后重试") is ErrorKind.BUSY
    assert refusal_kind("该地址超区，快递公司不支持派送") is ErrorKind.REFUSED


# -- secrets --------------------------------------------------------------------------------------


def test_no_secret_or_token_reaches_the_logs_or_the_errors(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's request lines included: 抖店 carries the token in the URL
    no = _no(kit, 12)
    kit.add_order(no)
    req = kit.request(no)
    errors = []
    for failure in ("busy", "http_500", "garbage", "token_expired"):
        kit.fake.fail_next(failure, method=kit.create)
        try:
            kit.provider.fetch(kit.account, req)
        except CarrierError as exc:
            errors.append(f"{exc} {exc.code} {exc!r}")
    waybill = kit.provider.fetch(kit.account, req)
    kit.provider.cancel(kit.account, "ZTO", waybill.waybill_no)
    said = "\n".join(errors + [r.getMessage() for r in caplog.records] + [repr(kit.account), repr(kit.provider)])
    assert any("urllib3" in r.name for r in caplog.records)  # the request lines were there to leak
    secrets = [kit.fake.app_secret, *kit.tokens_issued()]
    assert len(secrets) >= 3
    for secret in secrets:
        assert secret not in said


# -- platform specifics -----------------------------------------------------------------------------


def test_douyin_waybill_calls_are_signed_as_the_channel_fake_checks(engine: Engine) -> None:
    k = make_kit("douyin", engine, sign_method="md5")
    try:
        no = _no(k, 13)
        k.add_order(no)
        k.provider.fetch(k.account, k.request(no))
        method, query, body = next(r for r in k.fake.requests if r[0] == "logistics.newCreateOrder")
        assert query["sign"] == sign(k.fake.app_key, k.fake.app_secret, method, query["timestamp"], body.decode(),
                                     query["sign_method"])
        params = json.loads(body)
        assert params["logistics_code"] == "zhongtong"
        assert params["sender_info"]["contact"] == {"name": SENDER.name, "mobile": SENDER.phone}
        assert params["order_infos"][0]["order_id"] == no
        assert params["order_infos"][0]["items"] == [{"item_count": 2, "item_name": "商品 SKU-A"}]
    finally:
        k.close()


def test_the_douyin_waybill_fake_checks_signatures_with_the_sdk_known_answers() -> None:
    fake = FakeDouyinWaybill(shop_id="323423", app_key=KAT_KEY, app_secret=KAT_SECRET)
    try:
        for method, timestamp, params, how, expected in KAT:
            fake.clock_offset_s = int(timestamp) - time.time()
            body = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            query = {"app_key": KAT_KEY, "method": method, "v": "2", "timestamp": timestamp, "sign_method": how}
            good = fake._check_request(method, {**query, "sign": expected}, body)
            bad = fake._check_request(method, {**query, "sign": expected[::-1]}, body)
            assert good is None and bad is not None and bad["sub_code"] == "isv.signature-invalid"
    finally:
        fake.close()


def test_pdd_waybill_get_is_one_json_parameter_signed_over_the_form(engine: Engine) -> None:
    assert sign_params({"client_id": "1", "type": "pdd.order.number.list.get", "timestamp": "1480411125",
                        "data_type": "XML", "order_status": "1", "page": "1", "page_size": "10",
                        "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211"}, "testSecret") \
        == "E4DE3ED21002510DED352819E7AE6775"  # 拼多多《API调用指南》's worked example
    k = make_kit("pinduoduo", engine, template_url="https://file-link.pinduoduo.com/zto_one")
    try:
        no = _no(k, 14)
        k.add_order(no)
        req = k.request(no)
        k.provider.fetch(k.account, req)
        method, form = k.fake.forms[-1]
        assert method == "pdd.waybill.get" and form["sign"] == expected_sign(form, k.fake.app_secret)
        body = json.loads(form["param_waybill_cloud_print_apply_new_request"])
        assert body["wp_code"] == "ZTO" and body["need_encrypt"] is False
        dto = body["trade_order_info_dtos"][0]
        assert dto["object_id"] == req.order_id and dto["order_info"]["trade_order_list"] == [no]
        assert dto["template_url"] == "https://file-link.pinduoduo.com/zto_one"
        assert dto["package_info"]["weight"] == "800"
    finally:
        k.close()


def test_pdd_encrypted_or_unreadable_print_data_keeps_the_number_without_routing(engine: Engine) -> None:
    k = make_kit("pinduoduo", engine)
    try:
        no = _no(k, 15)
        k.add_order(no)
        k.fake.encrypt_print_data = True
        waybill = k.provider.fetch(k.account, k.request(no))
        assert waybill.waybill_no in k.fake.live_waybills() and waybill.routing == Routing()
    finally:
        k.close()
    assert routing_of("not json", "W1") == Routing()
    assert routing_of(json.dumps({"routingInfo": {"bigShotName": "386临海", "threeSegmentCode": "386临海"}}), "W2") \
        == Routing(sort_code="386临海", route_code="386临海")  # the routingInfo sample of a 拼多多 print demo


def test_built_as_the_registry_builds_providers_with_the_hubs_tokens_wired_once(kit: Kit) -> None:
    no = _no(kit, 16)
    kit.add_order(no)
    req = kit.request(no)
    cls = type(kit.provider)
    use_tokens(None)  # a Hub built by an earlier test in this worker wired its own (process-wide)
    with pytest.raises(CarrierError) as err:
        cls(requests.Session(), timeout_s=2.0).fetch(kit.account, req)  # the hub has not wired it
    assert (err.value.kind, err.value.code) == (ErrorKind.BAD_CREDENTIALS, "not_wired")
    use_tokens(kit.tokens)  # what the hub does at start-up
    try:
        provider = cls(requests.Session(), timeout_s=2.0)
        assert provider.fetch(kit.account, req).waybill_no in kit.fake.live_waybills()
    finally:
        use_tokens(None)
