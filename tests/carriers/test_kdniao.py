"""The 快递鸟 adapter against the fake EOrderService: the documented signature (a public
known-answer vector), the request and answer shapes, and every failure mapped to its kind."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from hub.carriers.base import Address, CarrierAccount, CarrierError, ErrorKind, WaybillRequest
from hub.carriers.kdniao import KdniaoProvider, data_sign
from tests.carriers.fake_kdniao import FakeKdniao, documented_sign

SENDER = Address("华东仓", "02166668888", "上海市", "上海市", "青浦区", "华新镇华志路 100 号")
TO = Address("张三", "13800138000", "北京市", "北京市", "朝阳区", "三里屯街道雅秀大厦")


@pytest.fixture
def fake() -> Iterator[FakeKdniao]:
    f = FakeKdniao()
    yield f
    f.close()


def account(fake: FakeKdniao, **settings: str) -> CarrierAccount:
    return CarrierAccount(account_id=1, carrier="ZTO", provider="kdniao", base_url=fake.url, sender=SENDER,
                          settings={"EBusinessID": fake.business_id, "AppKey": fake.app_key,
                                    "CustomerName": "ZT-0001", "CustomerPwd": "cust-pwd-9d1e", **settings})


def request(code: str = "BL20261206-000001") -> WaybillRequest:
    return WaybillRequest(order_id=code, carrier="ZTO", recipient=TO, goods_name="保温杯", quantity=2, weight_g=850)


def provider(timeout_s: float = 0.5) -> KdniaoProvider:
    return KdniaoProvider(requests.Session(), timeout_s=timeout_s)


def test_datasign_matches_the_public_known_answer_vector() -> None:
    # 快递鸟's own worked example (docs/carriers.md): RequestData, the sample AppKey, and the DataSign
    # before its URL encoding ("…MmE%3D" once URL-encoded).
    request_data = "{'OrderCode':'','ShipperCode':'SF','LogisticCode':'118954907573'}"
    app_key = "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17"
    assert data_sign(request_data, app_key) == "OWFhM2I5N2ViM2U2MGRkMjc4YzU2NmVlZWI3ZDk0MmE="
    assert documented_sign(request_data, app_key) == data_sign(request_data, app_key)  # the fake checks the same rule


def test_fetch_sends_the_documented_order_and_reads_number_and_routing(fake: FakeKdniao) -> None:
    wb = provider().fetch(account(fake), request())
    assert wb.waybill_no == fake.orders["BL20261206-000001"]["LogisticCode"]
    assert (wb.routing.sort_code, wb.routing.route_code, wb.routing.package_centre, wb.routing.package_code) == (
        "北京-朝阳区", "200-A01 05", "北京转运中心", "200")
    assert wb.routing.as_doc("kdniao")["provider"] == "kdniao"
    (rtype, body), = fake.calls
    assert rtype == "1007" and fake.bad_signs == 0
    assert body["OrderCode"] == "BL20261206-000001" and body["ShipperCode"] == "ZTO"
    assert body["Receiver"] == {"Name": "张三", "Mobile": "13800138000", "ProvinceName": "北京市", "CityName": "北京市",
                                "ExpAreaName": "朝阳区", "Address": "三里屯街道雅秀大厦"}
    assert body["Sender"]["ExpAreaName"] == "青浦区" and body["CustomerName"] == "ZT-0001"
    assert body["Commodity"] == [{"GoodsName": "保温杯", "Goodsquantity": 2}] and body["Weight"] == 0.85
    assert body["PayType"] == 3 and body["ExpType"] == "1" and body["Quantity"] == 1


def test_the_same_order_code_twice_is_one_number(fake: FakeKdniao) -> None:
    p = provider()
    first, again = p.fetch(account(fake), request()), p.fetch(account(fake), request())
    assert first.waybill_no == again.waybill_no
    assert p.fetch(account(fake), request("BL20261206-000001-2")).waybill_no != first.waybill_no
    assert fake.fetches["BL20261206-000001"] == 2 and len(fake.orders) == 2


def test_a_wrong_app_key_is_bad_credentials_and_no_secret_is_in_the_words(fake: FakeKdniao) -> None:
    with pytest.raises(CarrierError) as err:
        provider().fetch(account(fake, AppKey="wrong-key-77"), request())
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and "签名" in err.value.message
    assert fake.bad_signs == 1 and not fake.orders
    assert "wrong-key-77" not in str(err.value) and "cust-pwd-9d1e" not in str(err.value)


@pytest.mark.parametrize(("failure", "kind"), [
    ("http_500", ErrorKind.BUSY), ("garbage", ErrorKind.BAD_RESPONSE), ("no_success", ErrorKind.BAD_RESPONSE),
    ("busy", ErrorKind.BUSY), ("slow", ErrorKind.BUSY)])
def test_failures_map_to_retried_kinds(fake: FakeKdniao, failure: str, kind: ErrorKind) -> None:
    fake.fail_next(failure)  # type: ignore[arg-type]
    with pytest.raises(CarrierError) as err:
        provider().fetch(account(fake), request())
    assert err.value.kind is kind
    assert fake.app_key not in str(err.value) and "cust-pwd-9d1e" not in str(err.value)


def test_an_address_the_carrier_will_not_take_is_refused_with_its_words(fake: FakeKdniao) -> None:
    fake.refuse_districts.add("朝阳区")
    with pytest.raises(CarrierError) as err:
        provider().fetch(account(fake), request())
    assert err.value.kind is ErrorKind.REFUSED and "不在派送范围" in err.value.message


def test_an_unreachable_provider_is_busy() -> None:
    acct = CarrierAccount(1, "ZTO", "kdniao", "http://127.0.0.1:9/api/EOrderService", SENDER,
                          {"EBusinessID": "1", "AppKey": "k"})
    with pytest.raises(CarrierError) as err:
        provider().fetch(acct, request())
    assert err.value.kind is ErrorKind.BUSY


def test_an_unknown_carrier_code_is_refused_before_any_call(fake: FakeKdniao) -> None:
    req = WaybillRequest(order_id="X1", carrier="NOPE", recipient=TO, goods_name="x", quantity=1)
    with pytest.raises(CarrierError) as err:
        provider().fetch(account(fake), req)
    assert err.value.kind is ErrorKind.REFUSED and not fake.calls


def test_cancel_names_order_code_and_number_and_a_mismatch_is_refused(fake: FakeKdniao) -> None:
    p = provider()
    wb = p.fetch(account(fake), request())
    with pytest.raises(CarrierError) as err:
        p.cancel(account(fake), "ZTO", wb.waybill_no, order_code="BL-OTHER")
    assert err.value.kind is ErrorKind.REFUSED and not fake.cancelled
    p.cancel(account(fake), "ZTO", wb.waybill_no, order_code="BL20261206-000001")
    assert fake.cancelled == [wb.waybill_no]
    rtype, body = fake.calls[-1]
    assert rtype == "1147" and json.dumps(body, ensure_ascii=False) == json.dumps(
        {"ShipperCode": "ZTO", "OrderCode": "BL20261206-000001", "ExpNo": wb.waybill_no, "CustomerName": "ZT-0001",
         "CustomerPwd": "cust-pwd-9d1e"}, ensure_ascii=False)


def test_a_bad_pay_type_setting_stops_before_any_call(fake: FakeKdniao) -> None:
    with pytest.raises(CarrierError) as err:
        provider().fetch(account(fake, PayType="monthly"), request())
    assert err.value.kind is ErrorKind.BAD_CREDENTIALS and not fake.calls
