"""The 拼多多 connector against a fake PDD open platform over real HTTP (tests/channels/fake_pinduoduo.py).

The signature is pinned to the worked example of PDD's own 《API调用指南》 on both sides (our client and
the fake's independent check); everything else is the documented request/answer shapes, and every
failure the platform can give: token expiry, rate limit, busy, 5xx, garbage, a slow answer, wrong
credentials, a clock 2 minutes off and one 11 minutes off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.model import ChannelStatus
from hub.channels import platform_class
from hub.channels.base import ConnectorConfig, ErrorKind, PlatformError, PushRejected, Shipment, Token
from hub.channels.pinduoduo import HIDDEN, PinduoduoPlatform, ack_frame, message_service_path, sign_params
from hub.intake.fields import bounded_loads
from tests.channels.fake_pinduoduo import FakePinduoduo, expected_sign
from tests.helpers.waiting import wait_until

# PDD 《API调用指南》 (open.pinduoduo.com/application/document/browse?idStr=8EC06C399636041E), 调用示例.
GUIDE_PARAMS = {
    "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
    "client_id": "1",
    "data_type": "XML",
    "type": "pdd.order.number.list.get",
    "timestamp": "1480411125",
    "order_status": "1",
    "page": "1",
    "page_size": "10",
}
GUIDE_SECRET = "testSecret"
GUIDE_SIGN = "E4DE3ED21002510DED352819E7AE6775"


@pytest.fixture
def fake() -> Iterator[FakePinduoduo]:
    shop = FakePinduoduo(slow_s=1.5)
    try:
        yield shop
    finally:
        shop.close()


def connector(fake: FakePinduoduo, **changes: object) -> PinduoduoPlatform:
    fields: dict[str, object] = dict(id=1, platform="pinduoduo", shop_id=fake.shop_id, app_key=fake.app_key,
                                     app_secret=fake.app_secret, base_url=fake.url, extra=dict(fake.extra))
    fields.update(changes)
    return PinduoduoPlatform(ConnectorConfig(**fields), requests.Session(), timeout_s=0.5)  # type: ignore[arg-type]


@pytest.fixture
def pdd(fake: FakePinduoduo) -> PinduoduoPlatform:
    return connector(fake)


@pytest.fixture
def token(pdd: PinduoduoPlatform) -> Token:
    return pdd.fetch_token(None)


def failing(call: object, *args: object) -> PlatformError:
    """The PlatformError ``call(*args)`` raises — whose words never carry a secret or a token."""
    with pytest.raises(PlatformError) as info:
        call(*args)  # type: ignore[operator]
    err = info.value
    for secret in ("pdd-secret-0001", "rt-initial-", "at-880001"):
        assert secret not in err.message and secret not in str(err)
    return err


def wire(info: dict[str, object]) -> object:
    """An ``order_info`` as it arrives over the wire (numbers read as the connector reads them)."""
    return bounded_loads(json.dumps(info))


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(minutes=20), now + timedelta(minutes=1)


def read_window(pdd: PinduoduoPlatform, token: Token, start: datetime, end: datetime) -> list[str]:
    page: str | None = None
    seen: list[str] = []
    while True:
        result = pdd.list_updated(token, start, end, page)
        seen += [o.channel_order_no for o in result.orders]
        if result.next_page is None:
            return seen
        page = result.next_page


# -- signing ------------------------------------------------------------------------------------


def test_sign_reproduces_the_worked_example_of_pdds_guide() -> None:
    assert sign_params(GUIDE_PARAMS, GUIDE_SECRET) == GUIDE_SIGN
    assert sign_params({**GUIDE_PARAMS, "sign": "ignored"}, GUIDE_SECRET) == GUIDE_SIGN


def test_the_fakes_own_check_agrees_with_the_guide_too() -> None:
    assert expected_sign(GUIDE_PARAMS, GUIDE_SECRET) == GUIDE_SIGN
    assert expected_sign({**GUIDE_PARAMS, "page": "2"}, GUIDE_SECRET) != GUIDE_SIGN


def test_the_module_is_found_by_platform_name() -> None:
    assert platform_class("pinduoduo") is PinduoduoPlatform


# -- tokens -------------------------------------------------------------------------------------


def test_refresh_token_gives_an_access_token_with_its_expiry(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    first = pdd.fetch_token(None)
    assert first.access_token.startswith("at-")
    assert abs((first.expires_at - (fake.now() + timedelta(seconds=fake.token_ttl_s))).total_seconds()) <= 1
    assert first.refresh_token and first.refresh_token != fake.extra["refresh_token"]
    assert first.refresh_expires_at is not None and first.refresh_expires_at > first.expires_at
    second = pdd.fetch_token(first)
    assert second.access_token != first.access_token
    assert fake.calls.names == ["pdd.pop.auth.token.refresh"] * 2
    assert "rt-" not in repr(second) and "at-" not in repr(second)


def test_an_authorisation_code_is_redeemed_when_there_is_no_refresh_token(fake: FakePinduoduo) -> None:
    pdd = connector(fake, extra={"code": "code-initial-" + fake.shop_id})
    assert pdd.fetch_token(None).access_token.startswith("at-")
    assert fake.calls.names == ["pdd.pop.auth.token.create"]


def test_no_authorisation_at_all_tells_the_admin_what_to_enter(fake: FakePinduoduo) -> None:
    err = failing(connector(fake, extra={}).fetch_token, None)
    assert err.kind is ErrorKind.BAD_CREDENTIALS and "refresh token" in err.message
    assert fake.calls.names == []


def test_a_revoked_refresh_token_asks_for_a_new_authorisation(fake: FakePinduoduo) -> None:
    err = failing(connector(fake, extra={"refresh_token": "rt-revoked"}).fetch_token, None)
    assert err.kind is ErrorKind.BAD_CREDENTIALS and "authorise" in err.message


def test_a_token_for_another_shop_is_refused(fake: FakePinduoduo) -> None:
    err = failing(connector(fake, shop_id="990099").fetch_token, None)
    assert err.kind is ErrorKind.BAD_CREDENTIALS and "880001" in err.message and "990099" in err.message


def test_a_wrong_app_secret_is_a_credentials_error_the_admin_can_act_on(fake: FakePinduoduo) -> None:
    err = failing(connector(fake, app_secret="not-the-secret").fetch_token, None)
    assert err.kind is ErrorKind.BAD_CREDENTIALS and "client_secret" in err.message


def test_a_wrong_client_id_is_a_credentials_error(fake: FakePinduoduo) -> None:
    err = failing(connector(fake, app_key="someone-else").fetch_token, None)
    assert (err.kind, err.code) == (ErrorKind.BAD_CREDENTIALS, "10016")


def test_an_expired_access_token_is_reported_as_such(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.token_ttl_s = 100
    token = pdd.fetch_token(None)
    fake.clock_offset_s = 200  # the platform's clock moves past the token's life (within the 10-min rule)
    err = failing(pdd.list_updated, token, *window(fake.now()), None)
    assert (err.kind, err.code) == (ErrorKind.TOKEN_EXPIRED, "10019")
    fresh = pdd.fetch_token(token)
    assert pdd.list_updated(fresh, *window(fake.now()), None).orders == []


# -- order list ---------------------------------------------------------------------------------


def test_a_window_is_paged_from_the_last_page_back_and_page_one_read_twice(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    now = fake.now()
    for i in range(250):
        fake.add_order(f"260101-{i:015d}", updated_at=now - timedelta(seconds=i))
    seen = read_window(pdd, token, *window(now))
    assert set(seen) == {f"260101-{i:015d}" for i in range(250)}
    assert len(seen) == 350  # page 1 twice
    assert fake.calls.count("pdd.order.number.list.increment.get") == 4  # 1 (count), 3, 2, 1
    assert fake.server.seen.count("POST /api/router") == 5


def test_an_order_that_changes_while_we_page_is_not_missed(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    now = fake.now()
    for i in range(150):
        fake.add_order(f"260102-{i:015d}", updated_at=now - timedelta(seconds=60 + i))
    start, end = now - timedelta(minutes=10), now - timedelta(seconds=30)
    first = pdd.list_updated(token, start, end, None)
    assert first.next_page == "2"
    # Order #10 (on page 1) changes now: it leaves the window, and the older ones move up a place.
    fake.set_status("260102-000000000000010", "cancelled")
    seen = {o.channel_order_no for o in first.orders}
    page: str | None = first.next_page
    while page is not None:
        result = pdd.list_updated(token, start, end, page)
        seen |= {o.channel_order_no for o in result.orders}
        page = result.next_page
    assert seen == {f"260102-{i:015d}" for i in range(150)}


def test_a_window_longer_than_pdds_30_minutes_is_cut_to_30(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    start = fake.now() - timedelta(hours=2)
    fake.add_order("260103-000000000000001", updated_at=start + timedelta(minutes=10))
    fake.add_order("260103-000000000000002", updated_at=start + timedelta(minutes=40))
    assert read_window(pdd, token, start, start + timedelta(hours=1)) == ["260103-000000000000001"]


def test_orders_arrive_in_the_right_state_with_the_masked_recipient(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    now = fake.now()
    for no, status in [("A-unpaid", "unpaid"), ("A-paid", "paid"), ("A-cancelled", "cancelled"),
                       ("A-refunded", "refunded"), ("A-shipped", "shipped")]:
        fake.add_order(no, status=status, updated_at=now, skus=[("SKU-1", 2), ("SKU-2", 1)])  # type: ignore[arg-type]
    orders = {o.channel_order_no: o for o in pdd.list_updated(token, *window(now), None).orders}
    assert {no: o.status for no, o in orders.items()} == {
        "A-unpaid": ChannelStatus.UNPAID, "A-paid": ChannelStatus.PAID, "A-cancelled": ChannelStatus.CANCELLED,
        "A-refunded": ChannelStatus.CANCELLED, "A-shipped": ChannelStatus.PAID}
    paid = orders["A-paid"]
    assert paid.channel == "pinduoduo" and paid.total_fen == 5970
    assert [(line.sku, line.qty, line.unit_price_fen) for line in paid.lines] == [("SKU-1", 2, 1990), ("SKU-2", 1, 1990)]
    assert (paid.recipient.name, paid.recipient.phone, paid.recipient.address) == ("张*", "138****5678", "科技园南路**号")
    assert (paid.recipient.province, paid.recipient.city, paid.recipient.district) == ("广东省", "深圳市", "南山区")
    assert paid.extra["shop_id"] == fake.shop_id
    cipher = paid.extra["pdd_ciphertext"]
    assert set(cipher) == {"receiver_name", "receiver_phone", "receiver_address", "address"}
    assert all(v.startswith("~") and v.endswith("~") for v in cipher.values())
    assert paid.channel_updated_at == now
    assert "pdd_ciphertext" not in orders["A-shipped"].extra  # PDD hides the recipient once shipped


def test_an_order_with_no_recipient_at_all_says_pdd_hid_it(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("B-1", status="refunded")
    info = fake._order_info(fake._orders["B-1"])
    info.update(receiver_name_mask="", receiver_address_mask="", receiver_phone_mask="")
    order = pdd._order(wire(info))
    assert (order.recipient.name, order.recipient.address, order.recipient.phone) == (HIDDEN, HIDDEN, "")


def test_fetch_orders_leaves_out_an_order_pdd_does_not_know(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("C-1")
    fake.add_order("C-2", status="refunded")
    got = pdd.fetch_orders(token, ["C-1", "C-unknown", "C-2"])
    assert [(o.channel_order_no, o.status) for o in got] == [("C-1", ChannelStatus.PAID),
                                                            ("C-2", ChannelStatus.CANCELLED)]
    assert fake.calls.count("pdd.order.information.get") == 3


def test_fetch_orders_does_not_leave_out_an_order_when_pdd_is_busy(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("C-3")
    fake.fail_next("busy", method="pdd.order.information.get")
    assert failing(pdd.fetch_orders, token, ["C-3"]).kind is ErrorKind.BUSY
    assert [o.channel_order_no for o in pdd.fetch_orders(token, ["C-3"])] == ["C-3"]


def test_fetch_orders_raises_a_refusal_that_is_not_an_unknown_order(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("C-4")
    fake.answer_next("pdd.order.information.get", 20004, "该应用无权限调用此接口")  # a stand-in code
    err = failing(pdd.fetch_orders, token, ["C-4"])
    assert err.kind is ErrorKind.REFUSED and "无权限" in err.message


def test_nothing_logged_carries_a_secret_or_a_token(fake: FakePinduoduo, pdd: PinduoduoPlatform,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = pdd.fetch_token(None)
    fake.add_order("L-1")
    pdd.fetch_orders(token, ["L-1", "L-unknown"])
    pdd.ship(token, Shipment("L-1", "SF", "SF9", datetime.now(UTC)))
    logged = caplog.text
    assert "L-unknown" in logged  # the one thing we log: an order PDD does not know
    for secret in (fake.app_secret, token.access_token, token.refresh_token, fake.extra["refresh_token"]):
        assert secret not in logged


def test_a_shop_clock_two_minutes_off_still_works(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    for offset in (120, -120):
        fake.clock_offset_s = offset
        token = pdd.fetch_token(None)
        fake.add_order(f"D-{offset}", updated_at=fake.now())
        assert f"D-{offset}" in read_window(pdd, token, *window(fake.now()))


def test_a_clock_beyond_pdds_ten_minutes_is_a_clear_refusal(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.clock_offset_s = 660
    err = failing(pdd.fetch_token, None)
    assert err.kind is ErrorKind.BAD_CREDENTIALS and "clock" in err.message


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("failure", "kind", "code"), [
    ("token_expired", ErrorKind.TOKEN_EXPIRED, "10019"),
    ("rate_limited", ErrorKind.RATE_LIMITED, "70031"),
    ("busy", ErrorKind.BUSY, "50001"),
    ("http_500", ErrorKind.BUSY, "http_500"),
    ("garbage", ErrorKind.BAD_RESPONSE, "not_json"),
    ("slow", ErrorKind.BUSY, "timeout"),
    ("bad_credentials", ErrorKind.BAD_CREDENTIALS, "10016"),
])
def test_each_failure_is_classified_and_the_next_call_loses_nothing(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token, failure: str, kind: ErrorKind, code: str) -> None:
    now = fake.now()
    fake.add_order("E-1", updated_at=now)
    fake.fail_next(failure, method="pdd.order.number.list.increment.get")  # type: ignore[arg-type]
    err = failing(pdd.list_updated, token, *window(now), None)
    assert (err.kind, err.code) == (kind, code)
    assert [o.channel_order_no for o in pdd.list_updated(token, *window(now), None).orders] == ["E-1"]


def test_an_expired_token_failure_waits_for_a_call_that_carries_a_token(fake: FakePinduoduo,
                                                                       pdd: PinduoduoPlatform) -> None:
    fake.fail_next("token_expired")
    token = pdd.fetch_token(None)  # the refresh call carries no access token: PDD cannot say it expired
    err = failing(pdd.list_updated, token, *window(fake.now()), None)
    assert err.kind is ErrorKind.TOKEN_EXPIRED


def test_a_failure_for_another_method_leaves_this_one_alone(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.fail_next("busy", times=2, method="pdd.logistics.online.send")
    assert pdd.list_updated(token, *window(fake.now()), None).orders == []
    fake.add_order("E-2")
    shipment = Shipment("E-2", "ZTO", "ZT0001", datetime.now(UTC))
    assert failing(pdd.ship, token, shipment).kind is ErrorKind.BUSY
    assert failing(pdd.ship, token, shipment).kind is ErrorKind.BUSY
    pdd.ship(token, shipment)
    assert [(r.order_no, r.waybill) for r in fake.shipped] == [("E-2", "ZT0001")]


def test_a_broken_order_in_a_page_is_a_bad_response_naming_the_order(
        fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.add_order("F-1")
    info = fake._order_info(fake._orders["F-1"])
    info["item_list"][0]["goods_count"] = 0
    err = failing(pdd._order, wire(info))
    assert err.kind is ErrorKind.BAD_RESPONSE and "F-1" in err.message and "goods_count" in err.message


# -- ship ---------------------------------------------------------------------------------------


def test_ship_sends_pdds_logistics_id_and_a_repeat_is_success_not_a_second_send(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("G-1")
    fake.add_order("G-2")
    shipment = Shipment("G-1", "ZTO", "ZT123456789", datetime.now(UTC))
    pdd.ship(token, shipment)
    pdd.ship(token, shipment)  # the engine retries after a lost answer
    pdd.ship(token, Shipment("G-2", "JTSD", "JT0001", datetime.now(UTC)))
    assert [(r.order_no, r.carrier_code, r.waybill) for r in fake.shipped] == [
        ("G-1", "115", "ZT123456789"), ("G-2", "384", "JT0001")]
    assert fake.calls.count("pdd.logistics.companies.get") == 1
    assert fake.calls.count("pdd.logistics.online.send") == 3


def test_a_shipment_whose_answer_was_lost_is_not_sent_twice(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("G-3")
    fake.fail_next("slow", method="pdd.logistics.online.send")  # PDD records it, but answers too late
    shipment = Shipment("G-3", "STO", "ST0001", datetime.now(UTC))
    assert failing(pdd.ship, token, shipment).code == "timeout"
    wait_until(lambda: fake.shipped, what="the platform recording the slow shipment")
    pdd.ship(token, shipment)  # the engine's retry
    assert [(r.order_no, r.carrier_code, r.waybill) for r in fake.shipped] == [("G-3", "1", "ST0001")]


@pytest.mark.parametrize(("status", "words"), [("cancelled", "cancelled or refunded"),
                                               ("refunded", "cancelled or refunded")])
def test_ship_on_an_order_cancelled_on_pdd_is_refused_in_plain_words(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token, status: str, words: str) -> None:
    fake.add_order("H-1", status=status)  # type: ignore[arg-type]
    err = failing(pdd.ship, token, Shipment("H-1", "SF", "SF0001", datetime.now(UTC)))
    assert err.kind is ErrorKind.REFUSED and words in err.message and "H-1" in err.message
    assert fake.shipped == []


def test_ship_refused_by_the_platform_stays_refused(fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("H-2")
    fake.refuse_ship("H-2")
    err = failing(pdd.ship, token, Shipment("H-2", "YTO", "YT0001", datetime.now(UTC)))
    assert err.kind is ErrorKind.REFUSED and "订单状态不允许发货" in err.message


def test_ship_with_another_waybill_than_recorded_is_refused(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("H-3")
    pdd.ship(token, Shipment("H-3", "YUNDA", "YD0001", datetime.now(UTC)))
    err = failing(pdd.ship, token, Shipment("H-3", "YUNDA", "YD0002", datetime.now(UTC)))
    assert err.kind is ErrorKind.REFUSED and "another waybill" in err.message


def test_ship_with_a_carrier_pdd_has_no_id_for_is_refused(
        fake: FakePinduoduo, pdd: PinduoduoPlatform, token: Token) -> None:
    fake.add_order("H-4")
    err = failing(pdd.ship, token, Shipment("H-4", "DHL", "D1", datetime.now(UTC)))
    assert (err.kind, err.code) == (ErrorKind.REFUSED, "unknown_carrier")
    err = failing(pdd.ship, token, Shipment("H-4", "ZTO", "Z1", datetime.now(UTC), line_ids=("1",)))
    assert (err.kind, err.code) == (ErrorKind.REFUSED, "partial_shipment")


# -- push ---------------------------------------------------------------------------------------


def signed(body: bytes, secret: str = "pdd-secret-0001") -> dict[str, str]:
    return {"X-PackDesk-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_a_thin_push_gives_order_numbers_and_status_only(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.add_order("P-1")
    fake.add_order("P-2", status="refunded")
    headers, body = fake.push_request(["P-1", "P-2"])
    messages = pdd.verify_push(headers, body)
    assert [(m.shop_id, m.channel_order_no, m.status, m.order) for m in messages] == [
        (fake.shop_id, "P-1", ChannelStatus.PAID, None), (fake.shop_id, "P-2", None, None)]
    frames = json.loads(body)
    assert messages[0].msg_id == str(frames[0]["id"])
    assert messages[1].updated_at == fake._orders["P-2"].updated
    assert pdd.push_ack().status == 200
    assert fake.calls.names == []  # verifying a push calls nothing on the platform


def test_a_push_with_the_detail_attached_carries_the_order(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.add_order("P-3", status="cancelled")
    [message] = pdd.verify_push(*fake.push_request(["P-3"], thin=False))
    assert message.order is not None and message.order.status is ChannelStatus.CANCELLED
    assert message.order.recipient.name == "张*"


def test_a_push_with_a_bad_or_missing_signature_is_401(fake: FakePinduoduo, pdd: PinduoduoPlatform) -> None:
    fake.add_order("P-4")
    headers, body = fake.push_request(["P-4"])
    for bad_headers, bad_body in [({}, body), (headers, body.replace(b"P-4", b"P-5")), (signed(body, "x"), body)]:
        with pytest.raises(PushRejected) as info:
            pdd.verify_push(bad_headers, bad_body)
        assert (info.value.status, info.value.code) == (401, "bad_signature")


def test_a_push_names_the_shop_of_each_frame_for_the_engine_to_route(fake: FakePinduoduo) -> None:
    """One PDD app (one client_id) often serves several shops: the shop is the frame's ``mallID``, and
    the engine answers 404 for a shop no connector serves."""
    fake.add_order("P-6")
    other = connector(fake, shop_id="990099")  # same app, another shop
    [message] = other.verify_push(*fake.push_request(["P-6"]))
    assert message.shop_id == fake.shop_id


@pytest.mark.parametrize("frame", [
    b"not json",
    b"[]",
    b'{"commandType":"Common"}',
    b'{"commandType":"Weird"}',
    b'{"commandType":"Common","message":{"type":"pdd_trade_TradeConfirmed","mallID":880001,"content":"{"}}',
    b'{"commandType":"Common","message":{"type":"pdd_trade_TradeConfirmed","mallID":880001,"content":"{}"}}',
    b'{"commandType":"Common","message":{"type":"pdd_trade_TradeConfirmed","mallID":880001,'
    b'"content":"{\\"tid\\":\\"X\\",\\"mall_id\\":1}"}}',
])
def test_a_push_that_is_not_pdds_frame_shape_is_400(pdd: PinduoduoPlatform, frame: bytes) -> None:
    with pytest.raises(PushRejected) as info:
        pdd.verify_push(signed(frame), frame)
    assert (info.value.status, info.value.code) == (400, "bad_push")


def test_heartbeats_and_non_order_messages_carry_no_order(pdd: PinduoduoPlatform) -> None:
    goods = {"commandType": "Common", "id": 1, "message": {"type": "pdd_goods_GoodsUpdate", "mallID": 880001,
                                                           "content": json.dumps({"goods_id": 1})}}
    body = json.dumps([{"commandType": "HeartBeat", "time": 1}, goods]).encode()
    assert pdd.verify_push(signed(body), body) == []


def test_a_push_secret_of_its_own_is_used_when_set(fake: FakePinduoduo) -> None:
    pdd = connector(fake, extra={**fake.extra, "push_secret": "relay-secret"})
    fake.add_order("P-7")
    _, body = fake.push_request(["P-7"])
    assert [m.channel_order_no for m in pdd.verify_push(signed(body, "relay-secret"), body)] == ["P-7"]
    with pytest.raises(PushRejected):
        pdd.verify_push(signed(body), body)


def test_the_message_service_path_matches_a_published_sdk_vector() -> None:
    # whalesky-labs/pdd-sdk-php tests/Unit/MessageClientTest::testAuthenticationPathMatchesReferenceEncoding
    assert message_service_path("app", "secret", 1700000000000) == (
        "/message/app/1700000000000/OTgxODMwNDI2NWZiN2NiNzA2NzIxOTI0ZjJlMDMxMjE%3D")


def test_the_ack_echoes_the_frame_as_pdds_clients_do(fake: FakePinduoduo) -> None:
    fake.add_order("P-8")
    [frame] = json.loads(fake.push_request(["P-8"])[1])
    ack = json.loads(ack_frame(frame, 1700000001000))
    assert ack == {"commandType": "Ack", "time": 1700000001000, "id": frame["id"], "sendTime": frame["sendTime"],
                   "type": "pdd_trade_TradeConfirmed", "mallID": int(fake.shop_id)}
