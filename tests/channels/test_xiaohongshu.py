"""The 小红书 connector (hub/channels/xiaohongshu.py) against a fake 小红书 open platform over real
HTTP, and its signatures against the published vectors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.model import ChannelStatus, IntakeOrder
from hub.channels.base import (
    ConnectorConfig,
    ErrorKind,
    PlatformError,
    PushRejected,
    verify_any_push,
)
from hub.channels.xiaohongshu import NO_RECEIVER, XiaohongshuPlatform, api_sign, push_sign
from tests.channels import client_kit
from tests.channels.fake_xiaohongshu import FakeXiaohongshuShop
from tests.helpers.fake_shop import Failure


def _config(shop: FakeXiaohongshuShop, **over: object) -> ConnectorConfig:
    base: dict[str, object] = {"id": 2, "platform": "xiaohongshu", "shop_id": shop.shop_id, "app_key": shop.app_key,
                               "app_secret": shop.app_secret, "base_url": shop.url, "extra": dict(shop.extra)}
    base.update(over)
    return ConnectorConfig(**base)  # type: ignore[arg-type]


shop, client = client_kit.shop_and_client(FakeXiaohongshuShop, XiaohongshuPlatform, _config)


def _window(shop: FakeXiaohongshuShop) -> tuple[datetime, datetime]:
    now = datetime.fromtimestamp(shop.now_ms() / 1000, UTC)
    return now - timedelta(minutes=20), now + timedelta(seconds=1)


def test_the_module_is_found_by_name(shop: FakeXiaohongshuShop) -> None:
    client_kit.module_is_found("xiaohongshu", XiaohongshuPlatform, shop)


def test_push_signature_matches_the_documented_example() -> None:
    # 应用消息推送 (加签): url /open_api/msg?canshu=test, app-key xhs, timestamp 1625475843,
    # app-secret 9a539709cafc1efc9ef05838be468a28 → a7b7430de338783293443133ab9b9357
    assert push_sign("/open_api/msg", {"canshu": "test", "app-key": "xhs", "timestamp": "1625475843"},
                     "9a539709cafc1efc9ef05838be468a28") == "a7b7430de338783293443133ab9b9357"


def test_api_signature_matches_the_sdk_vector() -> None:
    # xiaohongshu-ecommerce SDK tests/test_signing.py ("computed with the Java algorithm"); the
    # official 签名算法 page's own example is masked (aa4c59****50632d80dc4)
    assert api_sign("oauth.getAccessToken", "test-app", "1700000000", "secret-key", version="1.0") \
        == "15dd91e56a77df52c8a652a43a7c131e"


def test_token_from_code_then_refresh(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    token = client.fetch_token(None)
    assert token.refresh_token and token.expires_at > datetime.now(UTC) + timedelta(days=6)
    again = client.fetch_token(token)  # more than 30 minutes left: the platform keeps the same tokens
    assert again.access_token == token.access_token
    assert shop.calls.names == ["oauth.getAccessToken", "oauth.refreshToken"]


def test_pull_reads_the_last_page_first_with_masked_recipients(shop: FakeXiaohongshuShop,
                                                               client: XiaohongshuPlatform) -> None:
    start, end = _window(shop)
    base = shop.now_ms() - 600_000
    for i in range(230):
        shop.add_order(f"P7260000000000{i:05d}", updated_at=datetime.fromtimestamp((base + i) / 1000, UTC),
                       skus=[("LIP-RED-01", 2)])
    shop.add_order("P7269999999999", status="unpaid")
    token = client.fetch_token(None)
    seen: list[IntakeOrder] = []
    page: str | None = None
    pages: list[str | None] = []
    while True:
        result = client.list_updated(token, start, end, page)
        pages.append(page)
        seen += result.orders
        page = result.next_page
        if page is None:
            break
    assert pages == [None, "2", "1"]  # page 1 to learn maxPageNo 3, then 3, 2, 1
    nos = [o.channel_order_no for o in seen]
    assert len(set(nos)) == 231
    paid = next(o for o in seen if o.channel_order_no == "P726000000000000000")
    assert paid.status is ChannelStatus.PAID
    assert (paid.recipient.name, paid.recipient.phone) == ("赵*", "186****5678")
    assert paid.recipient.address.startswith("**") and "1200" not in paid.recipient.address
    assert paid.recipient.province == "上海"
    assert paid.extra["receiver_ciphertext"]["receiverPhone"].startswith("#")
    assert paid.extra["shop_id"] == shop.shop_id
    assert [(line.sku, line.qty, line.unit_price_fen) for line in paid.lines] == [("LIP-RED-01", 2, 3990)]
    unpaid = next(o for o in seen if o.channel_order_no == "P7269999999999")
    assert unpaid.status is ChannelStatus.UNPAID and unpaid.recipient.name == NO_RECEIVER


def test_cancelled_and_refunded_orders_arrive_cancelled(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    shop.add_order("P1")
    shop.add_order("P2")
    shop.set_status("P1", "cancelled")
    shop.set_status("P2", "refunded")
    token = client.fetch_token(None)
    assert {o.channel_order_no: o.status for o in client.fetch_orders(token, ["P1", "P2", "P-unknown"])} == \
        {"P1": ChannelStatus.CANCELLED, "P2": ChannelStatus.CANCELLED}


def test_token_expiry_then_refresh(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    client_kit.token_expiry_then_refresh(shop, client, order_no="P1", method="order.getOrderList",
                                         window=lambda: _window(shop))


@pytest.mark.parametrize(("failure", "kind"), client_kit.FAILURES)
def test_platform_failures_are_mapped_and_nothing_is_lost(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform,
                                                          failure: Failure, kind: ErrorKind) -> None:
    client_kit.failure_is_mapped_and_nothing_is_lost(shop, client, failure, kind, order_no="P1",
                                                     method="order.getOrderDetail", window=lambda: _window(shop))


def test_bad_app_secret_or_code_is_an_error_the_admin_can_act_on(shop: FakeXiaohongshuShop) -> None:
    with requests.Session() as session:
        wrong = XiaohongshuPlatform(_config(shop, app_secret="not-the-secret"), session, timeout_s=1.0)
        client_kit.wrong_secret_is_named(wrong, "not-the-secret", "appSecret")
        stale = XiaohongshuPlatform(_config(shop, extra={"code": "code-expired"}), session, timeout_s=1.0)
        with pytest.raises(PlatformError) as code:
            stale.fetch_token(None)
        assert code.value.kind is ErrorKind.BAD_CREDENTIALS and "authorise" in code.value.message
        none = XiaohongshuPlatform(_config(shop, extra={}), session, timeout_s=1.0)
        with pytest.raises(PlatformError) as missing:
            none.fetch_token(None)
        assert missing.value.kind is ErrorKind.BAD_CREDENTIALS
        other = XiaohongshuPlatform(_config(shop, shop_id="5f00000000000000000000ff"), session, timeout_s=1.0)
        with pytest.raises(PlatformError) as shop_err:
            other.fetch_token(None)
        assert shop_err.value.kind is ErrorKind.BAD_CREDENTIALS and "5f00000000000000000000ff" in shop_err.value.message


def test_push_is_verified_over_path_and_query(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    shop.add_order("P1")
    shop.add_order("P2")
    shop.set_status("P2", "cancelled")
    headers, body = shop.push_request(["P1", "P2"])
    messages = verify_any_push(client, {}, headers, body, path=shop.push_path)
    # status None: the body is not signed, so the engine fetches each order (see below)
    assert [(m.channel_order_no, m.status, m.shop_id) for m in messages] == \
        [("P1", None, shop.shop_id), ("P2", None, shop.shop_id)]
    assert messages[1].updated_at == datetime.fromtimestamp(int(shop.orders["P2"].updated * 1000) / 1000, UTC)
    with pytest.raises(PushRejected) as wrong_path:
        verify_any_push(client, {}, headers, body, path="/elsewhere")
    assert wrong_path.value.status == 401
    # documented weakness: "请求body不参与排序" — the body is not signed, so a changed body still
    # verifies; which is why a 小红书 message never carries a status the engine would apply unfetched
    assert [m.channel_order_no for m in verify_any_push(client, {}, headers, body.replace(b"P1", b"P9"),
                                                        path=shop.push_path)] == ["P9", "P2"]
    q_headers, q_body = shop.signed_push(body, query={"canshu": "test"})
    assert len(verify_any_push(client, {"canshu": "test"}, q_headers, q_body, path=shop.push_path)) == 2
    with pytest.raises(PushRejected):
        verify_any_push(client, {"canshu": "other"}, q_headers, q_body, path=shop.push_path)
    with pytest.raises(PushRejected) as no_path:
        client.verify_push(headers, body)
    assert no_path.value.status == 401
    assert client.push_ack().status == 200 and json.loads(client.push_ack().body)["success"] is True
    assert shop.calls.names == []


def test_bad_pushes_are_refused(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    def push(doc: object) -> list[object]:
        headers, body = shop.signed_push(json.dumps(doc).encode())
        return list(verify_any_push(client, {}, headers, body, path=shop.push_path))

    assert push({"test": True}) == []  # the console's address check
    assert push([{"msgTag": "msg_item_create", "sellerId": shop.shop_id, "data": "{}"}]) == []
    for bad in ({"x": 1}, [{"sellerId": shop.shop_id}], [{"msgTag": "msg_fulfillment_status_change",
                                                          "sellerId": shop.shop_id, "data": "{not json"}],
                [{"msgTag": "msg_fulfillment_status_change", "sellerId": shop.shop_id, "data": "{}"}]):
        with pytest.raises(PushRejected) as exc:
            push(bad)
        assert exc.value.status == 400
    with pytest.raises(PushRejected) as other:
        push([{"msgTag": "msg_fulfillment_status_change", "sellerId": "someone-else", "data": '{"orderId":"P1"}'}])
    assert (other.value.status, other.value.code) == (404, "unknown_shop")
    headers, body = shop.signed_push(b"[]")
    with pytest.raises(PushRejected):
        verify_any_push(client, {}, {**headers, "sign": "0" * 32}, body, path=shop.push_path)


def test_ship_is_recorded_once(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    shop.add_order("P1")
    client_kit.ship_is_recorded_once(shop, client, order_no="P1", failure="http_500", method="order.orderDeliver",
                                     carrier_code="zto")


def test_ship_refusals(shop: FakeXiaohongshuShop, client: XiaohongshuPlatform) -> None:
    errors = client_kit.ship_refusals(shop, client, refused="P1", cancelled="P2", unknown="P-none")
    assert "不允许发货" in errors["refused"].message


def test_an_unpaid_order_without_any_address_still_arrives(shop: FakeXiaohongshuShop,
                                                          client: XiaohongshuPlatform) -> None:
    shop.add_order("P1", status="unpaid")
    token = client.fetch_token(None)
    real = shop._detail

    def bare(body: dict[str, object]) -> dict[str, object]:
        answer = real(body)
        return {**answer, "data": {**answer["data"], "receiverProvinceName": "", "receiverCityName": ""}}

    shop._detail = bare  # type: ignore[method-assign]
    [order] = client.fetch_orders(token, ["P1"])
    assert order.status is ChannelStatus.UNPAID
    assert (order.recipient.name, order.recipient.province) == (NO_RECEIVER, NO_RECEIVER)
