"""The 微信小店 connector (hub/channels/wechat.py) against a fake WeChat shop over real HTTP, and the
push signature / decryption against WeChat's own published vectors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.model import ChannelStatus
from hub.channels import wechat_crypto
from hub.channels.base import (
    ConnectorConfig,
    ErrorKind,
    PlatformError,
    PushRejected,
    Token,
    url_check,
    verify_any_push,
)
from hub.channels.wechat import WechatPlatform
from tests.channels import client_kit
from tests.channels.fake_wechat import FakeWechatShop, wx_encrypt
from tests.helpers.fake_shop import Failure, FakeShop, split_push_query

# --- WeChat's published vectors ---------------------------------------------------------------

#: developers.weixin.qq.com/doc/channels/API/basics/message_push.html "发起验证" example.
DOC_URL_CHECK = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "echostr": "4375120948345356249",
                 "timestamp": "1714036504", "nonce": "1514711492"}
DOC_TOKEN = "AAAAA"
#: Tencent's WXBizMsgCrypt Python sample (Sample.py, "测试解密接口"): token, key, appid, timestamp,
#: nonce, msg_signature and the Encrypt of a text message whose Content is "abcdteT".
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE = {"token": "spamtest", "appid": "wx2c2769f8efd9abc2", "timestamp": "1409735669", "nonce": "1320562132",
          "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
          "encrypt": "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQ"
                     "HFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsV"
                     "ticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0Vx"
                     "pAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpC"
                     "umEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="}
#: Tencent's WXBizMsgCrypt Java sample test (WXBizMsgCryptTest.java): this random string, appid and
#: message encrypt to this ciphertext with SAMPLE_KEY.
JAVA_RANDOM, JAVA_APPID, JAVA_MSG = b"aaaabbbbccccdddd", "wxb11529c136998cb6", "我是中文abcd123"
JAVA_ENCRYPT = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="


def _config(shop: FakeShop | None = None, **over: object) -> ConnectorConfig:
    base: dict[str, object] = {"id": 1, "platform": "wechat", "shop_id": "wx-shop-1", "app_key": "wxfake0000000001",
                               "app_secret": "fake-app-secret-0123456789abcdef", "base_url": "http://127.0.0.1:9",
                               "extra": {}}
    if shop is not None:
        base.update(shop_id=shop.shop_id, app_key=shop.app_key, app_secret=shop.app_secret, base_url=shop.url,
                    extra=dict(shop.extra))
    base.update(over)
    return ConnectorConfig(**base)  # type: ignore[arg-type]


shop, client = client_kit.shop_and_client(FakeWechatShop, WechatPlatform, _config)


def _window(shop: FakeWechatShop) -> tuple[datetime, datetime]:
    now = datetime.fromtimestamp(shop.now(), UTC)
    return now - timedelta(hours=1), now + timedelta(seconds=1)


def test_the_module_is_found_by_name(shop: FakeWechatShop) -> None:
    client_kit.module_is_found("wechat", WechatPlatform, shop)


def test_url_check_signature_matches_the_documented_example() -> None:
    client = WechatPlatform(_config(extra={"push_token": DOC_TOKEN, "encoding_aes_key": SAMPLE_KEY}),
                            requests.Session())
    assert wechat_crypto.sha1_signature(DOC_TOKEN, DOC_URL_CHECK["timestamp"], DOC_URL_CHECK["nonce"]) \
        == DOC_URL_CHECK["signature"]
    assert url_check(client, DOC_URL_CHECK) == b"4375120948345356249"
    with pytest.raises(PushRejected) as bad:
        url_check(client, {**DOC_URL_CHECK, "nonce": "1514711493"})
    assert bad.value.status == 401
    assert client.verify_url_check({"timestamp": "1"}) is None  # not a URL check


def test_push_signature_and_decryption_match_tencents_sample() -> None:
    assert wechat_crypto.sha1_signature(SAMPLE["token"], SAMPLE["timestamp"], SAMPLE["nonce"], SAMPLE["encrypt"]) \
        == SAMPLE["msg_signature"]
    msg, appid = wechat_crypto.decrypt(SAMPLE_KEY, SAMPLE["encrypt"])
    assert appid == SAMPLE["appid"]
    assert b"<Content><![CDATA[abcdteT]]></Content>" in msg
    # through the connector: signature and decryption pass; the sample is an XML text message, which a
    # 视频号小店 connector (JSON only) refuses as not its shape — after, not before, verifying it
    client = WechatPlatform(_config(app_key=SAMPLE["appid"],
                                    extra={"push_token": SAMPLE["token"], "encoding_aes_key": SAMPLE_KEY}),
                            requests.Session())
    query = {"timestamp": SAMPLE["timestamp"], "nonce": SAMPLE["nonce"], "msg_signature": SAMPLE["msg_signature"],
             "encrypt_type": "aes"}
    body = json.dumps({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": SAMPLE["encrypt"]}).encode()
    with pytest.raises(PushRejected) as shape:
        verify_any_push(client, query, {}, body)
    assert (shape.value.status, shape.value.code) == (400, "bad_push")
    assert "not JSON" in shape.value.message
    with pytest.raises(PushRejected) as sig:
        verify_any_push(client, {**query, "msg_signature": "0" * 40}, {}, body)
    assert (sig.value.status, sig.value.code) == (401, "bad_signature")


def test_the_fakes_encryption_matches_tencents_java_sample() -> None:
    assert wx_encrypt(SAMPLE_KEY, JAVA_MSG.encode(), JAVA_APPID, rand16=JAVA_RANDOM) == JAVA_ENCRYPT
    assert wechat_crypto.decrypt(SAMPLE_KEY, JAVA_ENCRYPT) == (JAVA_MSG.encode(), JAVA_APPID)


def test_token_then_pull_pages_with_decoded_recipients(shop: FakeWechatShop, client: WechatPlatform) -> None:
    start, end = _window(shop)
    for i in range(230):
        shop.add_order(f"37000000000000{i:05d}", skus=[("SKU-A", 2), ("SKU-B", 1)])
    shop.add_order("3700000000000099999", status="unpaid")
    token = client.fetch_token(None)
    assert token.expires_at > datetime.now(UTC) + timedelta(seconds=7000)
    seen, pages, page = [], 0, None
    while True:
        result = client.list_updated(token, start, end, page)
        pages += 1
        seen += result.orders
        page = result.next_page
        if page is None:
            break
    assert pages == 3  # 100 + 100 + 31
    assert len({o.channel_order_no for o in seen}) == 231
    first = next(o for o in seen if o.channel_order_no == "3700000000000000000")
    assert first.status is ChannelStatus.PAID
    assert first.recipient.name == "林小姐" and first.recipient.phone == "18300002807"
    assert first.recipient.address == "凤山镇南门路18号"
    assert [(line.sku, line.qty, line.unit_price_fen) for line in first.lines] == [("SKU-A", 2, 1990), ("SKU-B", 1, 1990)]
    assert first.total_fen == 3 * 1990
    assert first.extra["shop_id"] == "wx-shop-1"
    assert next(o for o in seen if o.channel_order_no == "3700000000000099999").status is ChannelStatus.UNPAID
    assert shop.calls.count("stable_token") == 1


def test_masked_recipient_is_kept_when_decoding_is_off_or_refused(shop: FakeWechatShop) -> None:
    shop.add_order("3700000000000000001")
    shop.add_order("3700000000000000002")
    with requests.Session() as session:
        plain = WechatPlatform(_config(shop, extra={**shop.extra, "decode_sensitive": "0"}), session, timeout_s=1.0)
        token = plain.fetch_token(None)
        [order] = plain.fetch_orders(token, ["3700000000000000001"])
        assert (order.recipient.name, order.recipient.phone, order.recipient.address) == ("林**", "183****2807", "****")
        assert shop.decoded == []
        client = WechatPlatform(_config(shop), session, timeout_s=1.0)
        shop.fail_next("rate_limited", method="order/sensitiveinfo/decode")  # the daily decode quota is spent
        [masked] = client.fetch_orders(token, ["3700000000000000002"])
        assert masked.recipient.phone == "183****2807"
        [whole] = client.fetch_orders(token, ["3700000000000000002"])
        assert whole.recipient.phone == "18300002807"


def test_unknown_order_is_left_out(shop: FakeWechatShop, client: WechatPlatform) -> None:
    shop.add_order("3700000000000000001")
    token = client.fetch_token(None)
    assert [o.channel_order_no for o in client.fetch_orders(token, ["3799999999999999999", "3700000000000000001"])] \
        == ["3700000000000000001"]


def test_token_expiry_then_refresh(shop: FakeWechatShop, client: WechatPlatform) -> None:
    def dead_on_wechats_side(token: Token) -> None:  # the old token is dead on WeChat's side now
        start, end = _window(shop)
        with pytest.raises(PlatformError) as stale:
            client.list_updated(token, start, end, None)
        assert stale.value.kind is ErrorKind.TOKEN_EXPIRED and stale.value.code == "40001"

    expired = client_kit.token_expiry_then_refresh(shop, client, order_no="3700000000000000001",
                                                   method="order/list/get", window=lambda: _window(shop),
                                                   expired=dead_on_wechats_side)
    assert expired.code == "42001"


#: WeChat's errcode for each failure of the matrix (ours where WeChat sends none).
FAILURE_CODES = {"rate_limited": "45011", "busy": "-1", "http_500": "http_500", "garbage": "not_json",
                 "slow": "timeout", "bad_credentials": "48001"}


@pytest.mark.parametrize(("failure", "kind"), client_kit.FAILURES)
def test_platform_failures_are_mapped_and_nothing_is_lost(shop: FakeWechatShop, client: WechatPlatform,
                                                          failure: Failure, kind: ErrorKind) -> None:
    err = client_kit.failure_is_mapped_and_nothing_is_lost(shop, client, failure, kind, order_no="3700000000000000001",
                                                           method="order/get", window=lambda: _window(shop))
    assert err.code == FAILURE_CODES[failure]
    if failure == "rate_limited":  # "retry next minute": until the next minute starts
        assert err.retry_after_s is not None and 0.5 <= err.retry_after_s <= 60.5


def test_bad_app_secret_or_appid_is_an_error_the_admin_can_act_on(shop: FakeWechatShop) -> None:
    with requests.Session() as session:
        wrong = WechatPlatform(_config(shop, app_secret="not-the-secret-000"), session, timeout_s=1.0)
        client_kit.wrong_secret_is_named(wrong, "not-the-secret-000", "AppSecret")
        assert "not-the-secret-000" not in repr(wrong.config)
        other = WechatPlatform(_config(shop, app_key="wx0000000000000000"), session, timeout_s=1.0)
        with pytest.raises(PlatformError) as appid:
            other.fetch_token(None)
        assert appid.value.kind is ErrorKind.BAD_CREDENTIALS and "AppID" in appid.value.message


def test_thin_pushes_become_status_messages(shop: FakeWechatShop, client: WechatPlatform) -> None:
    shop.add_order("3700000000000000001", status="unpaid")
    for status, expected in [("unpaid", None), ("paid", ChannelStatus.PAID), ("cancelled", ChannelStatus.CANCELLED)]:
        if status != "unpaid":
            shop.set_status("3700000000000000001", status)  # type: ignore[arg-type]
        headers, body = shop.push_request(["3700000000000000001"])
        query, real = split_push_query(headers)
        [msg] = verify_any_push(client, query, real, body)
        assert (msg.shop_id, msg.channel_order_no, msg.status, msg.order) == \
            ("wx-shop-1", "3700000000000000001", expected, None)
        assert msg.updated_at == datetime.fromtimestamp(int(shop.orders["3700000000000000001"].updated), UTC)
        assert msg.msg_id.startswith(("channels_ec_order_new:", "channels_ec_order_pay:", "channels_ec_order_cancel:"))
    ack = client.push_ack()
    assert (ack.status, ack.body) == (200, b"success")
    assert shop.calls.names == []  # a push asks the platform nothing


def test_bad_pushes_are_refused(shop: FakeWechatShop, client: WechatPlatform) -> None:
    shop.add_order("3700000000000000001")
    headers, body = shop.push_request(["3700000000000000001"])
    query, real = split_push_query(headers)
    with pytest.raises(PushRejected) as no_query:
        client.verify_push(real, body)
    assert no_query.value.status == 401
    tampered = json.dumps({"ToUserName": "gh_fakeshop",
                           "Encrypt": wx_encrypt(shop.encoding_aes_key, b'{"Event":"channels_ec_order_cancel"}',
                                                 shop.app_key)}).encode()
    with pytest.raises(PushRejected) as forged:
        verify_any_push(client, query, real, tampered)
    assert (forged.value.status, forged.value.code) == (401, "bad_signature")
    other_headers, other_body = shop.signed_push(b'{"Event":"channels_ec_order_pay","order_info":{"order_id":1}}',
                                                 appid="wx9999999999999999")
    other_query, _ = split_push_query(other_headers)
    with pytest.raises(PushRejected) as other:
        verify_any_push(client, other_query, {}, other_body)
    assert (other.value.status, other.value.code) == (404, "unknown_shop")
    for garbage in (b"not json", b"{}", b'{"Encrypt": 5}'):
        with pytest.raises(PushRejected) as bad:
            verify_any_push(client, query, real, garbage)
        assert bad.value.status == 400
    odd_headers, odd_body = shop.signed_push(b'{"Event":"channels_ec_order_pay","order_info":{}}')
    with pytest.raises(PushRejected) as no_id:
        verify_any_push(client, split_push_query(odd_headers)[0], {}, odd_body)
    assert no_id.value.status == 400
    product_headers, product_body = shop.signed_push(b'{"Event":"product_spu_audit","product_id":1}')
    assert verify_any_push(client, split_push_query(product_headers)[0], {}, product_body) == []
    assert url_check(client, shop.url_check_query("abc")) == b"abc"


def test_push_without_configured_secrets_is_refused(shop: FakeWechatShop) -> None:
    client = WechatPlatform(_config(shop, extra={}), requests.Session())
    headers, body = shop.signed_push(b"{}")
    with pytest.raises(PushRejected) as exc:
        verify_any_push(client, split_push_query(headers)[0], {}, body)
    assert exc.value.status == 401 and "Token/EncodingAESKey" in exc.value.message


def test_ship_is_recorded_once(shop: FakeWechatShop, client: WechatPlatform) -> None:
    shop.add_order("3700000000000000001", skus=[("SKU-A", 2), ("SKU-B", 1)])
    client_kit.ship_is_recorded_once(shop, client, order_no="3700000000000000001", failure="busy",
                                     method="order/delivery/send", carrier_code="ZTO")
    assert shop.orders["3700000000000000001"].packages[0]["product_infos"] == \
        [{"product_id": "100001", "sku_id": "20001", "product_cnt": 2},
         {"product_id": "100002", "sku_id": "20002", "product_cnt": 1}]


def test_ship_refusals(shop: FakeWechatShop, client: WechatPlatform) -> None:
    errors = client_kit.ship_refusals(shop, client, refused="3700000000000000001", cancelled="3700000000000000002",
                                      unknown="3799999999999999999")
    assert errors["refused"].code == "108009" and "DHL" in errors["carrier"].message
    assert shop.calls.count("order/delivery/send") == 1


def test_every_packdesk_carrier_has_a_wechat_code(shop: FakeWechatShop, client: WechatPlatform) -> None:
    token = client.fetch_token(None)
    for i, carrier in enumerate(["ZTO", "YTO", "STO", "YUNDA", "SF", "JD", "EMS", "JTSD"]):
        shop.add_order(f"37000000000000{i:05d}")
        client.ship(token, client_kit.shipment(f"37000000000000{i:05d}", carrier=carrier, waybill=f"W{i}"))
    assert [s.carrier_code for s in shop.shipped] == ["ZTO", "YTO", "STO", "YUNDA", "SF", "JD", "EMS", "JTSD"]


def test_token_is_not_in_repr() -> None:
    token = Token(access_token="ACCESS_TOKEN_SECRET", expires_at=datetime.now(UTC))
    assert "ACCESS_TOKEN_SECRET" not in repr(token)


def test_an_unreadable_order_stops_the_page_with_a_plain_error(shop: FakeWechatShop, client: WechatPlatform) -> None:
    shop.add_order("3700000000000000001")
    token = client.fetch_token(None)
    real = shop._detail
    shop._detail = lambda order: {**real(order), "order_detail": ["not", "an", "object"]}  # type: ignore[method-assign]
    with pytest.raises(PlatformError) as exc:
        client.fetch_orders(token, ["3700000000000000001"])
    assert exc.value.kind is ErrorKind.BAD_RESPONSE and "3700000000000000001" in exc.value.message
