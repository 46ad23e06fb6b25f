"""A fake 小红书 open platform on 127.0.0.1: the gateway calls PackDesk's Xiaohongshu connector makes,
answered in the documented shapes, plus the :class:`tests.helpers.fake_shop.FakeShop` surface.

Written from the platform's developer docs (docs/channels.md "xiaohongshu"), not from
hub/channels/xiaohongshu.py: the signatures below are computed here on their own.

Not documented anywhere we found, so chosen here and marked ``UNDOCUMENTED``: the ``error_code``
numbers for a bad signature, an expired token, rate limiting and a busy system (their
``error_msg`` texts say what they are), the ciphertext format of the receiver fields, the
fields inside a ``msg_fulfillment_status_change`` message's ``data``, and the refusal of a
拆包发货 naming a line already shipped.

拆包发货 (``orderDeliver`` ``unpack``/``skuIdList``) is kept as the detail documents it: each
package a ``simpleDeliveryOrderList`` node (status 6, its waybill and ``skuIdList``), the lines
still to ship one status 4 node, ``orderStatus`` 5 部分发货 until every line is shipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.channels.fake_base import FakeShopBase, ShopOrder
from tests.helpers.fake_http import send_json
from tests.helpers.fake_shop import ShippedRecord

#: FakeShop status → orderStatus (1 待付款, 4 待发货, 6 待收货, 8 已关闭, 9 已取消).
STATUS_CODE: dict[str, int] = {"unpaid": 1, "paid": 4, "shipped": 6, "refunded": 8, "cancelled": 9}
#: orderStatus 5 部分发货: the shop's order while some lines are shipped by 拆包发货, some not yet.
PART_SHIPPED = 5
# UNDOCUMENTED error codes (the texts are what matters to a reader).
E_SIGN, E_TOKEN, E_LIMIT, E_BUSY, E_PARAM, E_STATE = -100001, -100002, -100003, -1, -2000400, -100004


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _enc(plain: str) -> str:
    """UNDOCUMENTED ciphertext form: opaque to the client, reversible here."""
    return "#" + base64.b64encode(plain.encode()).decode() + "#"


def _dec(cipher: str) -> str:
    return base64.b64decode(cipher.strip("#")).decode()


def _mask(kind: str, plain: str) -> str:
    """The masking rules of 数据加密对接方案 (name: first character; phone: 3 + **** + 4)."""
    if kind == "receiverName":
        return plain[0] + "*" * (len(plain) - 1)
    if kind == "receiverPhone":
        return plain[:3] + "****" + plain[-4:]
    return "**" + plain[2:-2].translate({ord(c): "*" for c in "0123456789"}) + "**"


class FakeXiaohongshuShop(FakeShopBase):
    """One 小红书 shop (sellerId) authorised to one app (appId/appSecret)."""

    platform = "xiaohongshu"

    def __init__(self, *, shop_id: str = "5f0000000000000000000001", app_id: str = "21d600fake00be8de0",
                 secret: str = "429afakefakefakea3aee9ef9e4a858210", code: str = "code-9e28fake3b32") -> None:
        self.shop_id = shop_id
        self.app_key = app_id
        self.app_secret = secret
        self.auth_code = code
        self.extra: Mapping[str, str] = {"code": code}
        #: The URL path the test posts pushes to (the push signature covers it).
        self.push_path = "/api/v1/channels/xiaohongshu/push"
        self._token_no = 0
        self._access = ""
        self._access_expires_ms = 0
        self._refresh = ""
        super().__init__()

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def push_request(self, order_nos: list[str], *, thin: bool = True) -> tuple[dict[str, str], bytes]:
        """The platform's push: an array of msg_fulfillment_status_change messages (ids and status —
        the platform never sends the order itself), signed over ``push_path``."""
        messages = []
        for no in order_nos:
            order = self.orders[no]
            data = {"orderId": no, "orderStatus": STATUS_CODE[order.status], "updateTime": int(order.updated * 1000)}
            messages.append({"msgTag": "msg_fulfillment_status_change", "sellerId": self.shop_id,
                             "data": json.dumps(data)})
        return self.signed_push(json.dumps(messages, ensure_ascii=False).encode())

    def signed_push(self, body: bytes, *, query: Mapping[str, str] | None = None) -> tuple[dict[str, str], bytes]:
        ts = str(int(self.now()))
        params = {**(query or {}), "app-key": self.app_key, "timestamp": ts}
        text = self.push_path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params)) + self.app_secret
        return {"Content-Type": "application/json", "app-key": self.app_key, "timestamp": ts,
                "sign": _md5(text)}, body

    # --- the platform -----------------------------------------------------------------------

    def answer(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        if urlsplit(h.path).path != "/ark/open_api/v3/common_controller" or h.command != "POST":
            send_json(h, 404, b"not found")
            return
        try:
            body = json.loads(raw)
            method = body["method"]
            assert isinstance(body, dict) and isinstance(method, str)
        except (ValueError, KeyError, AssertionError, TypeError):
            send_json(h, 200, {"success": False, "error_code": E_PARAM, "error_msg": "请求参数错误"})
            return
        failure = self.take_failure(method)
        if failure is not None:
            self._fail(h, failure)
            return
        with self._lock:
            send_json(h, 200, self._handle(method, body))

    def _fail(self, h: BaseHTTPRequestHandler, failure: str) -> None:
        if failure == "token_expired":
            with self._lock:
                self._access_expires_ms = 0
            send_json(h, 200, {"success": False, "error_code": E_TOKEN, "error_msg": "accessToken已过期"})
        elif failure == "rate_limited":
            send_json(h, 200, {"success": False, "error_code": E_LIMIT, "error_msg": "请求过于频繁，触发限流"})
        elif failure == "busy":
            send_json(h, 200, {"success": False, "error_code": E_BUSY, "error_msg": "系统繁忙，请稍后重试"})
        elif failure == "http_500":
            send_json(h, 502, b"<html>502 Bad Gateway</html>")
        elif failure == "garbage":
            send_json(h, 200, b"\xff\xfe<not json")
        elif failure == "bad_credentials":
            send_json(h, 200, {"success": False, "error_code": E_SIGN, "error_msg": "签名错误"})
        else:
            raise AssertionError(f"unknown failure {failure}")

    def _error(self, code: int, msg: str) -> dict[str, Any]:
        return {"success": False, "error_code": code, "error_msg": msg}

    def _ok(self, data: Any) -> dict[str, Any]:
        return {"success": True, "error_code": 0, "error_msg": "", "data": data}

    def _handle(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("appId") != self.app_key:
            return self._error(E_SIGN, "appId不存在")
        expected = _md5(f"{method}?appId={body.get('appId')}&timestamp={body.get('timestamp')}"
                        f"&version={body.get('version')}{self.app_secret}")
        if body.get("version") != "2.0" or body.get("sign") != expected:
            return self._error(E_SIGN, "签名错误")
        if method == "oauth.getAccessToken":
            if body.get("code") != self.auth_code:
                return self._error(E_TOKEN, "授权码code无效或已过期")
            return self._ok(self._issue(rotate=True))
        if method == "oauth.refreshToken":
            if not self._refresh or body.get("refreshToken") != self._refresh:
                return self._error(E_TOKEN, "refreshToken无效")
            # "accessToken未过期且剩余有效时间大于30分钟 … 均不会刷新"
            return self._ok(self._issue(rotate=self._access_expires_ms - self.now_ms() < 30 * 60 * 1000))
        if not self._access or body.get("accessToken") != self._access or self._access_expires_ms <= self.now_ms():
            return self._error(E_TOKEN, "accessToken无效或已过期")
        handler = {"order.getOrderList": self._list, "order.getOrderDetail": self._detail,
                   "order.getOrderReceiverInfo": self._receivers, "data.batchDesensitise": self._desensitise,
                   "order.orderDeliver": self._deliver}.get(method)
        if handler is None:
            return self._error(E_PARAM, f"method {method} 不存在")
        return handler(body)

    def _issue(self, *, rotate: bool) -> dict[str, Any]:
        now = self.now_ms()
        if rotate or not self._access:
            self._token_no += 1
            self._access = f"token-{self._token_no}-fake"
            self._refresh = f"refresh-{self._token_no}-fake"
            self._access_expires_ms = now + 7 * 86400 * 1000
        return {"accessToken": self._access, "accessTokenExpiresAt": self._access_expires_ms,
                "refreshToken": self._refresh, "refreshTokenExpiresAt": now + 14 * 86400 * 1000,
                "sellerId": self.shop_id, "sellerName": "开放平台测试店"}

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        start, end, kind = body.get("startTime"), body.get("endTime"), body.get("timeType")
        page_no, size = body.get("pageNo", 1), body.get("pageSize", 50)
        if not all(isinstance(v, int) for v in (start, end, kind, page_no, size)):
            return self._error(E_PARAM, "请求参数错误")
        assert isinstance(start, int) and isinstance(end, int) and isinstance(page_no, int) and isinstance(size, int)
        if kind != 2 or not 0 <= end - start <= 1800 or not 1 <= page_no <= 100 or not 1 <= size <= 100:
            return self._error(E_PARAM, "请求参数错误: 更新时间 end-start<=30min, pageNo<=100, pageSize<=100")
        hits = sorted((o for o in self.orders.values() if start <= o.updated <= end),
                      key=lambda o: (o.updated, o.order_no), reverse=True)  # newest first
        page = hits[(page_no - 1) * size:page_no * size]
        return self._ok({"total": len(hits), "pageNo": page_no, "pageSize": size,
                         "maxPageNo": math.ceil(len(hits) / size),
                         "orderList": [{"orderId": o.order_no, "orderStatus": STATUS_CODE[o.status],
                                        "updateTime": int(o.updated * 1000),
                                        "createdTime": int(o.created * 1000)} for o in page]})

    def _plain_receiver(self, order: ShopOrder) -> dict[str, str]:
        return {"receiverName": "赵敏", "receiverPhone": "18600005678", "receiverAddress": "漕溪北路1200号A座15楼"}

    def _detail(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(str(body.get("orderId")))
        if order is None:
            return self._error(E_PARAM, "订单不存在")
        skus = [{"skuId": sku_id, "skuName": f"商品 {sku}", "erpcode": sku, "skuQuantity": qty,
                 "totalPaidAmount": 3990 * qty, "skuTag": 0, "skuAfterSaleStatus": 1}
                for sku_id, (sku, qty) in zip(self._sku_ids(order), order.skus, strict=True)]
        status = STATUS_CODE[order.status]
        if order.status == "paid" and order.packages:
            status = PART_SHIPPED
        return self._ok({"orderId": order.order_no, "orderType": 1, "orderStatus": status,
                         "orderAfterSalesStatus": 1, "cancelStatus": 0, "createdTime": int(order.created * 1000),
                         "paidTime": int(order.paid * 1000), "updateTime": int(order.updated * 1000),
                         "promiseLastDeliveryTime": int((order.created + 48 * 3600) * 1000),
                         "receiverCountryName": "中国", "receiverProvinceName": "上海", "receiverCityName": "上海市",
                         "receiverDistrictName": "徐汇区", "customerRemark": "", "sellerRemark": "",
                         "skuList": skus, "totalPayAmount": sum(s["totalPaidAmount"] for s in skus),
                         "totalShippingFree": 0, **self._delivery(order), "openAddressId": f"addr-{order.order_no}",
                         "receiverName": None, "receiverPhone": None, "receiverAddress": None})

    def _sku_ids(self, order: ShopOrder) -> list[str]:
        return [f"6400{i:08d}" for i in range(1, len(order.skus) + 1)]

    def _unshipped(self, order: ShopOrder) -> list[str]:
        done = {i for p in order.packages for i in p["skuIdList"]}
        return [i for i in self._sku_ids(order) if i not in done]

    def _delivery(self, order: ShopOrder) -> dict[str, Any]:
        """The detail's shipment fields: ``expressTrackingNo``/``expressCompanyCode`` of a whole
        shipment; for a 拆包 order ``unpack`` and ``simpleDeliveryOrderList`` (one node per package,
        status 6 待收货, and one status 4 待发货 node for the lines still to ship)."""
        if not order.packages:
            return {"unpack": False}
        if not order.packages[0]["unpack"]:
            first = order.packages[0]
            return {"unpack": False, "expressTrackingNo": first["expressTrackingNo"],
                    "expressCompanyCode": first["expressCompanyCode"]}
        nodes: list[dict[str, Any]] = [{"deliveryOrderIndex": i, "status": 6, "expressTrackingNo": p["expressTrackingNo"],
                                        "expressCompanyCode": p["expressCompanyCode"], "skuIdList": p["skuIdList"]}
                                       for i, p in enumerate(order.packages)]
        left = self._unshipped(order)
        if left:
            nodes.append({"deliveryOrderIndex": len(nodes), "status": 4, "expressTrackingNo": "",
                          "expressCompanyCode": "", "skuIdList": left})
        return {"unpack": True, "simpleDeliveryOrderList": nodes}

    def _receivers(self, body: dict[str, Any]) -> dict[str, Any]:
        infos = []
        for query in body.get("receiverQueries") or []:
            order = self.orders.get(str(query.get("orderId")))
            if order is None or STATUS_CODE[order.status] != 4:
                continue  # "待发货才可以拉到收件人信息"
            matched = query.get("openAddressId") == f"addr-{order.order_no}"
            info: dict[str, Any] = {"orderId": order.order_no, "matched": matched}
            if matched:
                info.update({k: _enc(v) for k, v in self._plain_receiver(order).items()})
                info.update(receiverProvinceName="上海", receiverCityName="上海市", receiverDistrictName="徐汇区",
                            receiverTownName="漕河泾街道")
            infos.append(info)
        return self._ok({"receiverInfos": infos})

    def _desensitise(self, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("baseInfos")
        if not isinstance(items, list) or len(items) > 100 or not body.get("actionType") or not body.get("appUserId"):
            return self._error(E_PARAM, "请求参数错误")
        out = []
        for item in items:
            cipher = item.get("encryptedData", "")
            plain = _dec(cipher)
            kind = next(k for k, v in self._plain_receiver(self.orders[item["dataTag"]]).items() if v == plain)
            out.append({"dataTag": item["dataTag"], "encryptedData": cipher, "desensitisedData": _mask(kind, plain)})
        return self._ok({"desensitiseInfoList": out})

    def _deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(str(body.get("orderId")))
        if order is None:
            return self._error(E_PARAM, "订单不存在")
        if not body.get("expressNo") or not body.get("expressCompanyCode"):
            return self._error(E_PARAM, "请求参数错误: expressNo/expressCompanyCode")
        if order.refuse_ship or order.status in ("cancelled", "refunded"):
            return self._error(E_STATE, "订单状态不允许发货")
        if order.status == "shipped":
            return self._error(E_STATE, "订单已发货")
        unpack = body.get("unpack") is True
        if unpack:
            # orderDeliver: "skuIdList 拆包发货时 必填"; a line already in a package cannot ship again
            # (the refusal's code and words are UNDOCUMENTED).
            ids = body.get("skuIdList")
            left = self._unshipped(order)
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                return self._error(E_PARAM, "请求参数错误: 拆包发货时 skuIdList 必填")
            if len(set(ids)) != len(ids) or not set(ids) <= set(left):
                return self._error(E_STATE, "拆包发货的商品不存在或已发货")
        elif order.packages:
            return self._error(E_STATE, "订单已部分发货，请拆包发货")
        else:
            ids = self._sku_ids(order)
        order.packages.append({"expressTrackingNo": body["expressNo"], "expressCompanyCode": body["expressCompanyCode"],
                               "unpack": unpack, "skuIdList": list(ids)})
        if not self._unshipped(order):
            order.status = "shipped"
        order.updated = max(order.updated, self.now())
        self.shipped.append(ShippedRecord(order.order_no, body["expressCompanyCode"], body["expressNo"]))
        return self._ok(None)


#: The name the engine's tests look the fake up by (tests/channels/engine_kit.py FAKES).
FakeXiaohongshu = FakeXiaohongshuShop
