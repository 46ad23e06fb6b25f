"""The 抖店 connector (hub/channels/douyin.py) against a fake 抖店 open platform over real HTTP.

The fake (tests/channels/fake_douyin.py) checks every request's sign, body and token the way the
platform documents them, so a call that reaches its business logic was signed right.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

from core import paths
from core.logsetup import SECRET_URL_LOGGERS, setup_logging
from core.model import ChannelStatus
from hub.channels import platform_class
from hub.channels.base import ConnectorConfig, ErrorKind, PlatformError, PushRejected, Shipment, Token
from hub.channels.douyin import DouyinPlatform, param_json, push_sign, sign
from tests.channels import client_kit
from tests.channels.fake_douyin import FakeDouyinShop
from tests.helpers.fake_http import FakeHTTPServer, send_json
from tests.helpers.fake_shop import Failure, FakeShop
from tests.helpers.waiting import wait_until


@pytest.fixture
def shop() -> Iterator[FakeDouyinShop]:
    fake = FakeDouyinShop(slow_s=1.5)
    try:
        yield fake
    finally:
        fake.close()


def connector(shop: FakeDouyinShop, *, secret: str | None = None, timeout_s: float = 5.0,
              **extra: str) -> DouyinPlatform:
    config = ConnectorConfig(id=1, platform="douyin", shop_id=shop.shop_id, app_key=shop.app_key,
                             app_secret=secret if secret is not None else shop.app_secret, base_url=shop.url,
                             extra={**shop.extra, **extra})
    return DouyinPlatform(config, requests.Session(), timeout_s=timeout_s)


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


# -- module shape -----------------------------------------------------------------------------------


def test_platform_registry_finds_the_douyin_module() -> None:
    cls = platform_class("douyin")
    assert cls is DouyinPlatform
    assert cls.NAME == "douyin" and cls.PAGE_SIZE == 100 and cls.MAX_WINDOW_S > 0


# -- signing ----------------------------------------------------------------------------------------


def test_param_json_is_key_sorted_compact_at_every_level() -> None:
    assert param_json({"b": 1, "a": {"d": [{"z": 1, "y": "中"}], "c": True}}) == \
        '{"a":{"c":true,"d":[{"y":"中","z":1}]},"b":1}'
    assert param_json({"a": "<&>"}) == '{"a":"<&>"}'  # Go SDK: SetEscapeHTML(false)
    assert param_json({"a": "\u2028"}) == '{"a":"\\u2028"}'


#: Known answers computed by the official doudian Java SDK's own code
#: (``com.doudian.open.utils.SignUtil.sign``, which sorts param_json's keys at every level and MD5s
#: secret+app_key…v2+secret; HMAC: the same SDK's ``SignUtil.stringToHmac`` over that pattern), run
#: with the example credentials of the doudian Python SDK's README. See docs/channels.md.
KAT_KEY, KAT_SECRET = "3409409348479354011", "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
KAT = [
    ("order.searchList", "1617355413",
     {"update_time_start": 1617355413, "size": 100, "page": 0, "order_by": "update_time",
      "update_time_end": 1617357213, "order_asc": True},
     "md5", "52de58fe1bd1a116d8fd6bbb0f754d2c"),
    ("order.searchList", "1617355413",
     {"update_time_start": 1617355413, "size": 100, "page": 0, "order_by": "update_time",
      "update_time_end": 1617357213, "order_asc": True},
     "hmac-sha256", "86f4c3d4b2c8a9bd7a4072dbcc04604e18bfd903482b6accb26bb15528eef330"),
    ("token.create", "1617355413", {"shop_id": "323423", "grant_type": "authorization_self", "code": ""},
     "md5", "ab898d96787c1dac1d7b6027334d892c"),
    ("order.logisticsAdd", "1700000000",
     {"order_id": "4782813149182887526", "logistics_code": "sf1231231231234", "company_code": "shunfeng",
      "x": {"b": "中文", "a": [{"z": 1, "y": 2}]}},
     "md5", "e28e94115fc18659f7dd9f1ebb5bac72"),
]


@pytest.mark.parametrize("method,timestamp,params,how,expected", KAT)
def test_sign_known_answers_from_the_official_sdk(method: str, timestamp: str, params: dict[str, object],
                                                  how: str, expected: str) -> None:
    assert sign(KAT_KEY, KAT_SECRET, method, timestamp, param_json(params), how) == expected


@pytest.mark.parametrize("method,timestamp,params,how,expected", KAT)
def test_the_fake_platform_accepts_the_known_answers_and_nothing_else(method: str, timestamp: str,
                                                                      params: dict[str, object], how: str,
                                                                      expected: str) -> None:
    fake = FakeDouyinShop(shop_id="323423", app_key=KAT_KEY, app_secret=KAT_SECRET)
    try:
        fake.clock_offset_s = int(timestamp) - time.time()  # the shop's clock at the vector's moment
        body = param_json(params).encode()
        url = f"{fake.url}/{method.replace('.', '/')}"
        query = {"app_key": KAT_KEY, "method": method, "v": "2", "timestamp": timestamp, "sign_method": how}
        good = requests.post(url, params={**query, "sign": expected}, data=body, timeout=5).json()
        bad = requests.post(url, params={**query, "sign": expected[:-1] + ("0" if expected[-1] != "0" else "1")},
                            data=body, timeout=5).json()
    finally:
        fake.close()
    assert bad["sub_code"] == "isv.signature-invalid"
    # past the sign check: token.create succeeds, the others stop at the missing access token
    assert good["code"] == 10000 if method == "token.create" else good["sub_code"] == "isv.access-token-missing"


@pytest.mark.parametrize("how", ["md5", "hmac-sha256"])
def test_every_call_is_signed_as_the_platform_checks(shop: FakeDouyinShop, how: str) -> None:
    dy = connector(shop, sign_method=how)
    token = dy.fetch_token(None)
    assert token.access_token.startswith("fake-at-")
    method, query, body = shop.requests[-1]
    assert method == "token.create" and query["sign_method"] == how and query["v"] == "2"
    assert "access_token" not in query
    assert json.loads(body) == {"code": "", "grant_type": "authorization_self", "shop_id": shop.shop_id}
    assert query["sign"] == sign(shop.app_key, shop.app_secret, "token.create", query["timestamp"],
                                 body.decode(), how)


def test_a_wrong_app_secret_is_an_error_the_admin_can_act_on(shop: FakeDouyinShop) -> None:
    dy = connector(shop, secret="not-the-secret")
    with pytest.raises(PlatformError) as err:
        dy.fetch_token(None)
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS
    assert "AppSecret" in err.value.message and "签名校验失败" in err.value.message
    assert err.value.code == "40003/isv.signature-invalid"
    assert "not-the-secret" not in str(err.value) and shop.app_secret not in str(err.value)


def test_an_unknown_sign_method_setting_is_named(shop: FakeDouyinShop) -> None:
    with pytest.raises(PlatformError) as err:
        connector(shop, sign_method="sha1").fetch_token(None)
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "sign_method" in err.value.message
    assert shop.calls.names == []


def test_a_shop_the_app_is_not_authorised_for_is_a_credentials_error(shop: FakeDouyinShop) -> None:
    other = ConnectorConfig(id=2, platform="douyin", shop_id="999", app_key=shop.app_key,
                            app_secret=shop.app_secret, base_url=shop.url)
    with pytest.raises(PlatformError) as err:
        DouyinPlatform(other, requests.Session()).fetch_token(None)
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "authorise" in err.value.message


def test_a_token_issued_for_another_shop_is_refused() -> None:
    fake = FakeDouyinShop(auth_code="code-from-console")  # the code belongs to shop 4463798
    try:
        config = ConnectorConfig(id=2, platform="douyin", shop_id="999", app_key=fake.app_key,
                                 app_secret=fake.app_secret, base_url=fake.url, extra=fake.extra)
        with pytest.raises(PlatformError) as err:
            DouyinPlatform(config, requests.Session()).fetch_token(None)
    finally:
        fake.close()
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "shop 4463798" in err.value.message


def test_the_fake_keeps_the_fake_shop_contract() -> None:
    fake: FakeShop = FakeDouyinShop()  # mypy checks the protocol; this checks it serves
    try:
        assert fake.platform == "douyin" and fake.url.startswith("http://127.0.0.1:")
    finally:
        fake.close()


# -- tokens -----------------------------------------------------------------------------------------


def test_token_expiry_and_refresh(shop: FakeDouyinShop) -> None:
    dy = connector(shop)
    token = dy.fetch_token(None)
    assert token.refresh_token and token.refresh_expires_at is not None
    assert timedelta(days=6, hours=23) < token.expires_at - datetime.now(UTC) <= timedelta(days=7)
    shop.add_order("4900000000000000001")
    shop.expire_tokens()
    with pytest.raises(PlatformError) as err:
        dy.list_updated(token, ago(60), ago(-60), None)
    assert err.value.kind is ErrorKind.TOKEN_EXPIRED
    fresh = dy.fetch_token(token)
    assert shop.calls.names[-1] == "token.refresh" and fresh.access_token != token.access_token
    assert [o.channel_order_no for o in dy.list_updated(fresh, ago(60), ago(-60), None).orders] == \
        ["4900000000000000001"]


def test_a_refresh_long_before_expiry_gives_the_same_token_and_lifetime(shop: FakeDouyinShop) -> None:
    dy = connector(shop)
    token = dy.fetch_token(None)
    again = dy.fetch_token(token)
    assert shop.calls.names[-1] == "token.refresh"
    assert again.access_token == token.access_token and again.expires_at <= token.expires_at
    shop.tokens[token.access_token] = shop.now() + 1800  # the token's last hour on the platform
    newer = dy.fetch_token(token)
    assert newer.access_token != token.access_token
    assert shop.tokens[token.access_token] <= shop.now() + 3600  # the old one works one more hour only


def test_a_dead_refresh_token_falls_back_to_create_for_a_self_use_app(shop: FakeDouyinShop) -> None:
    dy = connector(shop)
    stale = Token(access_token="gone", expires_at=ago(10), refresh_token="fake-rt-unknown")
    fresh = dy.fetch_token(stale)
    assert shop.calls.names[-2:] == ["token.refresh", "token.create"]
    assert fresh.access_token in shop.tokens


def test_a_tool_app_uses_its_authorisation_code() -> None:
    fake = FakeDouyinShop(auth_code="code-from-console")
    try:
        dy = connector(fake)
        assert dy.fetch_token(None).access_token
        assert json.loads(fake.requests[-1][2]) == {"code": "code-from-console", "grant_type": "authorization_code"}
        with pytest.raises(PlatformError) as err:
            connector(fake, auth_code="stale-code").fetch_token(None)
        assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "code" in err.value.message
    finally:
        fake.close()


# -- pull -------------------------------------------------------------------------------------------


def test_list_updated_pages_through_a_window_and_maps_orders(shop: FakeDouyinShop) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    for i in range(230):
        shop.add_order(f"49{i:017d}", updated_at=base + timedelta(seconds=i), skus=[("SKU-A", 2), ("SKU-B", 1)])
    shop.add_order("4899999999999999999", updated_at=base - timedelta(hours=2))  # outside the window
    dy = connector(shop)
    token = dy.fetch_token(None)
    seen, page, pages = [], None, 0
    while True:
        got = dy.list_updated(token, base, base + timedelta(minutes=10), page)
        seen += got.orders
        pages += 1
        if got.next_page is None:
            break
        page = got.next_page
    # page 0 to learn the total, then last → first (page 0 again): 230 orders, the first 100 twice
    assert [json.loads(b)["page"] for m, _, b in shop.requests if m == "order.searchList"] == [0, 2, 1, 0]
    assert pages == 4 and len(seen) == 330 and len({o.channel_order_no for o in seen}) == 230
    query = json.loads(shop.requests[-1][2])
    assert query["order_by"] == "update_time" and query["order_asc"] is True and query["size"] == 100
    first = seen[0]
    assert first.channel == "douyin" and first.status is ChannelStatus.PAID
    assert first.extra["shop_id"] == shop.shop_id
    assert [(line.sku, line.qty, line.unit_price_fen) for line in first.lines] == [("SKU-A", 2, 1990),
                                                                                   ("SKU-B", 1, 1990)]
    assert first.total_fen == 3 * 1990
    # encrypted buyer data: masked on screens, ciphertext kept for the platform's e-waybill
    assert (first.recipient.name, first.recipient.phone) == ("张*", "138****0000")
    assert first.recipient.province == "浙江省" and first.recipient.address == "北山街道保俶路***号"
    assert first.extra["encrypted"]["encrypt_detail"].startswith("~")
    assert set(first.extra["encrypted"]) == {"encrypt_post_receiver", "encrypt_post_tel", "encrypt_detail"}


def test_an_order_updated_while_paging_makes_no_other_order_skip(shop: FakeDouyinShop) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)
    for i in range(250):
        shop.add_order(f"48{i:017d}", updated_at=base + timedelta(seconds=i))
    dy = connector(shop)
    token = dy.fetch_token(None)
    seen: set[str] = set()
    got = dy.list_updated(token, base, base + timedelta(minutes=10), None)
    while True:
        seen |= {o.channel_order_no for o in got.orders}
        if got.next_page is None:
            break
        # between two pages, orders near the front change on the shop and leave the window
        for i in (3 + len(seen) % 7, 120 + len(seen) % 5):
            shop.set_status(f"48{i:017d}", "cancelled")
        got = dy.list_updated(token, base, base + timedelta(minutes=10), got.next_page)
    moved = {no for no, o in shop.orders.items() if o["_state"] == "cancelled"}
    assert {f"48{i:017d}" for i in range(250)} - moved <= seen  # every order that stayed was read
    # and the moved ones are in a later window (their update time is now)
    later = dy.list_updated(token, datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC), None)
    assert moved <= {o.channel_order_no for o in later.orders}


def test_window_edges_are_widened_to_whole_seconds(shop: FakeDouyinShop) -> None:
    edge = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    shop.add_order("4911111111111111111", updated_at=edge)
    dy = connector(shop)
    got = dy.list_updated(dy.fetch_token(None), edge + timedelta(milliseconds=300),
                          edge + timedelta(seconds=1, milliseconds=1), None)
    assert [o.channel_order_no for o in got.orders] == ["4911111111111111111"]


@pytest.mark.parametrize("status,expected", [("unpaid", ChannelStatus.UNPAID), ("paid", ChannelStatus.PAID),
                                             ("cancelled", ChannelStatus.CANCELLED),
                                             ("refunded", ChannelStatus.CANCELLED)])
def test_order_states_arrive_as_the_hub_reads_them(shop: FakeDouyinShop, status: str,
                                                   expected: ChannelStatus) -> None:
    shop.add_order("4922222222222222222", status="unpaid")
    if status != "unpaid":
        shop.set_status("4922222222222222222", status)  # type: ignore[arg-type]
    dy = connector(shop)
    [order] = dy.fetch_orders(dy.fetch_token(None), ["4922222222222222222"])
    assert order.status is expected


def test_refund_after_shipping_is_a_return_not_a_cancel(shop: FakeDouyinShop) -> None:
    shop.add_order("4933333333333333333")
    shop.set_status("4933333333333333333", "shipped")
    shop.set_status("4933333333333333333", "refunded")
    dy = connector(shop)
    [order] = dy.fetch_orders(dy.fetch_token(None), ["4933333333333333333"])
    assert order.status is ChannelStatus.PAID


def test_fetch_orders_leaves_out_an_unknown_order(shop: FakeDouyinShop) -> None:
    shop.add_order("4944444444444444444")
    dy = connector(shop)
    got = dy.fetch_orders(dy.fetch_token(None), ["4900000000000000404", "4944444444444444444"])
    assert [o.channel_order_no for o in got] == ["4944444444444444444"]
    assert shop.calls.count("order.orderDetail") == 2


# -- failures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure,kind", [("token_expired", ErrorKind.TOKEN_EXPIRED),
                                          # slow: test_a_slow_answer_is_a_timeout_not_a_hang
                                          *[case for case in client_kit.FAILURES if case[0] != "slow"]])
def test_platform_failures_map_to_what_the_engine_does(shop: FakeDouyinShop, failure: Failure,
                                                       kind: ErrorKind) -> None:
    err = client_kit.failure_is_mapped_and_nothing_is_lost(shop, connector(shop), failure, kind,
                                                           order_no="4955555555555555555", method="order.searchList",
                                                           window=lambda: (ago(60), ago(-60)))
    assert err.message


@pytest.mark.parametrize("answer,outcome", [
    ({"code": "10000", "msg": "success", "data": {"page": 0, "size": 100, "total": 0, "shop_order_list": []}}, "ok"),
    ({"err_no": 0, "message": "success", "data": {"page": 0, "size": 100, "total": 0, "shop_order_list": []}}, "ok"),
    ({"err_no": 10, "message": "系统错误", "data": None}, ErrorKind.BAD_RESPONSE),
    ({"code": 10000, "msg": "success", "data": None}, ErrorKind.BAD_RESPONSE),
    ({"code": 10000, "msg": "success", "data": {"shop_order_list": []}}, ErrorKind.BAD_RESPONSE),  # no total
    ({"code": 10000, "data": {"total": 1, "shop_order_list": [{"order_id": "1"}]}}, ErrorKind.BAD_RESPONSE),
    ({"code": 10000, "data": {"total": 1, "shop_order_list": ["x"]}}, ErrorKind.BAD_RESPONSE),
    ({"code": 99999, "msg": "?", "sub_code": "", "sub_msg": ""}, ErrorKind.BAD_RESPONSE),
    ({"code": "oops"}, ErrorKind.BAD_RESPONSE),
    ({"msg": "success"}, ErrorKind.BAD_RESPONSE),
    ([1, 2], ErrorKind.BAD_RESPONSE),
])
def test_odd_answers_are_read_or_named(answer: object, outcome: object) -> None:
    def respond(h: BaseHTTPRequestHandler, _body: bytes) -> None:
        send_json(h, 200, answer)

    with FakeHTTPServer(respond) as server:
        config = ConnectorConfig(id=1, platform="douyin", shop_id="1", app_key="k", app_secret="s",
                                 base_url=server.url)
        dy = DouyinPlatform(config, requests.Session())
        token = Token(access_token="t", expires_at=datetime.now(UTC) + timedelta(days=1))
        if outcome == "ok":
            assert dy.list_updated(token, ago(60), ago(0), None).orders == []
            return
        with pytest.raises(PlatformError) as err:
            dy.list_updated(token, ago(60), ago(0), None)
    assert err.value.kind is outcome and err.value.message


def test_a_slow_answer_is_a_timeout_not_a_hang(shop: FakeDouyinShop) -> None:
    dy = connector(shop, timeout_s=0.3)
    token = dy.fetch_token(None)
    shop.fail_next("slow", method="order.orderDetail")
    with pytest.raises(PlatformError) as err:
        dy.fetch_orders(token, ["4966666666666666666"])
    assert err.value.kind is ErrorKind.BUSY and err.value.code == "timeout"


def test_a_skewed_clock_is_named(shop: FakeDouyinShop) -> None:
    shop.clock_offset_s = 3600.0
    with pytest.raises(PlatformError) as err:
        connector(shop).fetch_token(None)
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "clock" in err.value.message


def test_a_shop_two_minutes_off_still_works(shop: FakeDouyinShop) -> None:
    shop.clock_offset_s = 120.0
    shop.add_order("4977777777777777777")  # stamped with the shop's clock, two minutes ahead
    dy = connector(shop)
    got = dy.list_updated(dy.fetch_token(None), ago(60), ago(-300), None)
    assert [o.channel_order_no for o in got.orders] == ["4977777777777777777"]


# -- push -------------------------------------------------------------------------------------------


def test_a_thin_push_is_verified_and_taken_apart(shop: FakeDouyinShop) -> None:
    shop.add_order("4988888888888888881", status="unpaid")
    shop.add_order("4988888888888888882")
    shop.add_order("4988888888888888883")
    shop.set_status("4988888888888888883", "cancelled")
    shop.add_order("4988888888888888884")
    shop.set_status("4988888888888888884", "refunded")
    headers, body = shop.push_request(["4988888888888888881", "4988888888888888882", "4988888888888888883",
                                       "4988888888888888884"])
    msgs = connector(shop).verify_push(headers, body)
    assert [(m.channel_order_no, m.status) for m in msgs] == [
        ("4988888888888888881", ChannelStatus.UNPAID), ("4988888888888888882", ChannelStatus.PAID),
        ("4988888888888888883", ChannelStatus.CANCELLED),
        ("4988888888888888884", None),  # 退款成功: before or after shipping, only the detail says
    ]
    assert all(m.shop_id == shop.shop_id and m.order is None and m.msg_id and m.updated_at for m in msgs)
    assert shop.calls.names == []  # verifying a push calls nothing


def test_a_push_with_the_detail_attached_carries_the_order(shop: FakeDouyinShop) -> None:
    shop.add_order("4988888888888888885")
    headers, body = shop.push_request(["4988888888888888885"], thin=False)
    [msg] = connector(shop).verify_push(headers, body)
    assert msg.order is not None and msg.order.channel_order_no == "4988888888888888885"
    assert msg.status is ChannelStatus.PAID


def test_the_url_check_and_other_tags_carry_no_order(shop: FakeDouyinShop) -> None:
    body = json.dumps([{"tag": "0", "msg_id": "0", "data": "2026-11-30T10:00:00+08:00"},
                       {"tag": "400", "msg_id": "p1", "data": json.dumps({"product_id": 1})}]).encode()
    headers = {"app-id": shop.app_key, "event-sign": push_sign(shop.app_key, shop.app_secret, body)}
    assert connector(shop).verify_push(headers, body) == []
    assert connector(shop).push_ack().body == b'{"code":0,"msg":"success"}'


@pytest.mark.parametrize("change", ["sign", "body", "app-id", "missing"])
def test_a_push_with_a_bad_signature_is_refused(shop: FakeDouyinShop, change: str) -> None:
    shop.add_order("4988888888888888886")
    headers, body = shop.push_request(["4988888888888888886"])
    if change == "sign":
        headers["event-sign"] = "0" * 32
    elif change == "body":
        body = body.replace(b"4988888888888888886", b"4988888888888888887")
    elif change == "app-id":
        headers["app-id"] = "7000000000000000000"
    else:
        del headers["event-sign"]
    with pytest.raises(PushRejected) as err:
        connector(shop).verify_push(headers, body)
    assert err.value.status == 401 and err.value.code == "bad_signature"
    assert shop.app_secret not in err.value.message


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b'[{"tag":"101"}]', b'[{"tag":"101","data":"{oops"}]',
                                  b'[{"tag":"101","data":"{\\"order_status\\":105}"}]', b'[{"tag":"106","data":7}]'])
def test_a_push_not_in_the_platform_shape_is_a_400(shop: FakeDouyinShop, body: bytes) -> None:
    headers = {"event-sign": push_sign(shop.app_key, shop.app_secret, body)}
    with pytest.raises(PushRejected) as err:
        connector(shop).verify_push(headers, body)
    assert err.value.status == 400 and err.value.code == "bad_push"


# -- ship -------------------------------------------------------------------------------------------


def shipment(no: str, waybill: str = "ZT7000000001", carrier: str = "ZTO") -> Shipment:
    return Shipment(channel_order_no=no, carrier=carrier, waybill=waybill, shipped_at=datetime.now(UTC))


def test_ship_writes_back_the_carrier_code_and_waybill(shop: FakeDouyinShop) -> None:
    shop.add_order("4999999999999999991")
    dy = connector(shop)
    dy.ship(dy.fetch_token(None), shipment("4999999999999999991"))
    assert [(r.order_no, r.carrier_code, r.waybill) for r in shop.shipped] ==         [("4999999999999999991", "zhongtong", "ZT7000000001")]
    assert json.loads(shop.requests[-1][2]) == {"company_code": "zhongtong", "logistics_code": "ZT7000000001",
                                                "order_id": "4999999999999999991"}


def test_shipping_twice_with_the_same_waybill_is_success_not_a_second_record(shop: FakeDouyinShop) -> None:
    shop.add_order("4999999999999999992")
    dy = connector(shop)
    token = dy.fetch_token(None)
    dy.ship(token, shipment("4999999999999999992"))
    dy.ship(token, shipment("4999999999999999992"))  # a retry after a lost answer
    assert len(shop.shipped) == 1
    with pytest.raises(PlatformError) as err:
        dy.ship(token, shipment("4999999999999999992", waybill="ZT7000000002"))
    assert err.value.kind is ErrorKind.REFUSED


@pytest.mark.parametrize("how", ["cancelled", "refunded", "refuse_ship"])
def test_ship_on_a_cancelled_order_is_refused(shop: FakeDouyinShop, how: str) -> None:
    shop.add_order("4999999999999999993")
    if how == "refuse_ship":
        shop.refuse_ship("4999999999999999993")
    else:
        shop.set_status("4999999999999999993", how)  # type: ignore[arg-type]
    dy = connector(shop)
    with pytest.raises(PlatformError) as err:
        dy.ship(dy.fetch_token(None), shipment("4999999999999999993"))
    assert err.value.kind is ErrorKind.REFUSED and shop.shipped == []
    if how != "refuse_ship":
        assert "cancelled" in err.value.message


def test_ship_with_a_carrier_douyin_has_no_code_for_is_refused(shop: FakeDouyinShop) -> None:
    shop.add_order("4999999999999999994")
    dy = connector(shop)
    with pytest.raises(PlatformError) as err:
        dy.ship(dy.fetch_token(None), shipment("4999999999999999994", carrier="UNKNOWN"))
    assert err.value.kind is ErrorKind.REFUSED and shop.calls.count("order.logisticsAdd") == 0


def test_ship_through_a_busy_platform_is_retryable(shop: FakeDouyinShop) -> None:
    shop.add_order("4999999999999999995")
    dy = connector(shop)
    token = dy.fetch_token(None)
    shop.fail_next("busy", method="order.logisticsAdd")
    with pytest.raises(PlatformError) as err:
        dy.ship(token, shipment("4999999999999999995", carrier="JTSD"))
    assert err.value.kind is ErrorKind.BUSY and shop.shipped == []
    dy.ship(token, shipment("4999999999999999995", carrier="JTSD"))
    assert [r.carrier_code for r in shop.shipped] == ["jtexpress"]


# -- secrets ----------------------------------------------------------------------------------------


def test_no_secret_or_token_reaches_our_logs_or_errors(shop: FakeDouyinShop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="packdesk")
    shop.add_order("4912121212121212121")
    dy = connector(shop)
    token = dy.fetch_token(None)
    errors = []
    for failure in ("token_expired", "rate_limited", "busy", "bad_credentials", "garbage", "http_500"):
        shop.fail_next(failure)
        with pytest.raises(PlatformError) as err:
            dy.fetch_orders(token, ["4912121212121212121"])
        errors.append(f"{err.value} {err.value.code} {err.value!r}")
    said = "\n".join(errors + [r.getMessage() for r in caplog.records])
    assert caplog.records  # the failures were logged (at INFO), just not their secrets
    for secret in (shop.app_secret, token.access_token, token.refresh_token):
        assert secret not in said
    assert "sign=" not in said and "access_token=" not in said


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The root logger's level and handlers and the pinned loggers' levels, put back afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    pinned = {name: logging.getLogger(name).level for name in SECRET_URL_LOGGERS}
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        for name, was in pinned.items():
            logging.getLogger(name).setLevel(was)


def test_a_debug_log_never_holds_the_token_or_sign(shop: FakeDouyinShop, root_logging: None, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    # urllib3 writes every request line, query string and all, at DEBUG; 抖店 puts the access token
    # and the sign there. A hub (or app) whose log is turned to DEBUG must still not write them.
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    path = setup_logging("hub", level=logging.DEBUG, console=False)
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    shop.add_order("4913131313131313131")
    secret = "SECRET-at-4463798"
    shop.tokens[secret] = shop.now() + 3600  # a token the fake platform honours
    dy = connector(shop)
    logging.getLogger("packdesk.hub.test").debug("DEBUG records reach the file")
    got = dy.fetch_orders(Token(access_token=secret, expires_at=datetime.now(UTC) + timedelta(hours=1)),
                          ["4913131313131313131"])
    assert [o.channel_order_no for o in got] == ["4913131313131313131"]
    query = shop.requests[-1][1]
    assert query["access_token"] == secret  # it did travel in the query string
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = path.read_text(encoding="utf-8") + caplog.text
    assert "DEBUG records reach the file" in written
    assert secret not in written and query["sign"] not in written


def test_a_ship_whose_answer_was_lost_is_not_recorded_twice_on_retry(shop: FakeDouyinShop) -> None:
    shop.add_order("4999999999999999996")
    dy = connector(shop, timeout_s=0.3)
    token = dy.fetch_token(None)
    shop.fail_next("slow", method="order.logisticsAdd")  # the platform records it, we time out first
    with pytest.raises(PlatformError) as err:
        dy.ship(token, shipment("4999999999999999996"))
    assert err.value.kind is ErrorKind.BUSY  # so the engine retries
    wait_until(lambda: shop.shipped, what="the slow logisticsAdd to land on the fake platform")
    dy.ship(token, shipment("4999999999999999996"))  # the retry: the detail shows our waybill
    assert len(shop.shipped) == 1
    assert shop.calls.names[-2:] == ["order.logisticsAdd", "order.orderDetail"]
