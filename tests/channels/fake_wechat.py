"""A fake 微信小店 on 127.0.0.1: the API calls PackDesk's WeChat connector makes, answered in WeChat's
documented shapes, plus the :class:`tests.helpers.fake_shop.FakeShop` control surface.

Written from WeChat's documentation (docs/channels.md "wechat"), not from hub/channels/wechat.py:
the push encryption below is its own WXBizMsgCrypt implementation, so a mistake in the client's
signing or decryption cannot be mirrored here.

Endpoints: ``POST /cgi-bin/stable_token``; ``POST /channels/ec/order/list/get``, ``/order/get``,
``/order/sensitiveinfo/decode``, ``/order/delivery/send`` (each with ``?access_token=``).

A package names products and units (``product_infos[].product_cnt``); units already in a package
cannot ship again (109000), and the order is status 21 部分发货 until every unit is in one (订单发货
and 获取订单详情 pages, docs/split-merge.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.channels.fake_base import FakeShopBase, ShopOrder
from tests.helpers.fake_http import send_json
from tests.helpers.fake_shop import PUSH_QUERY_KEY, ShippedRecord

#: The shop's status codes (order/get "status" enum) for the FakeShop statuses.
STATUS_CODE: dict[str, int] = {"unpaid": 10, "paid": 20, "shipped": 30, "cancelled": 250, "refunded": 200}
#: order/get status 21 部分发货: the shop's order while some of its units are in a package.
PART_SHIPPED = 21
#: delivery_id values of 获取快递公司列表 (the part of the table PackDesk's carriers use, plus two).
DELIVERY_IDS = {"ZTO", "YTO", "YUNDA", "JTSD", "STO", "SF", "JD", "EMS", "CNSD", "DBKD"}
#: Which order event a status change sends (order_callback pages).
EVENT_FOR: dict[str, str] = {"unpaid": "channels_ec_order_new", "paid": "channels_ec_order_pay",
                             "cancelled": "channels_ec_order_cancel", "refunded": "channels_ec_order_cancel",
                             "shipped": "channels_ec_order_deliver"}
SEVEN_DAYS = 7 * 24 * 3600


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wx_encrypt(encoding_aes_key: str, msg: bytes, appid: str, *, rand16: bytes | None = None) -> str:
    """WXBizMsgCrypt encryption as the docs describe it (random16 + len + msg + appid, PKCS#7/32)."""
    key = base64.b64decode(encoding_aes_key + "=")
    plain = (rand16 or os.urandom(16)) + struct.pack(">I", len(msg)) + msg + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


class FakeWechatShop(FakeShopBase):
    """One 微信小店 with its AppID/AppSecret, push Token and EncodingAESKey."""

    platform = "wechat"

    def __init__(self, *, shop_id: str = "wx-shop-1", appid: str = "wxfake0000000001",
                 secret: str = "fake-app-secret-0123456789abcdef", push_token: str = "pushtoken",
                 encoding_aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                 decode_sensitive: bool = True) -> None:
        self.shop_id = shop_id
        self.app_key = appid
        self.app_secret = secret
        self.push_token = push_token
        self.encoding_aes_key = encoding_aes_key
        self.extra: Mapping[str, str] = {"push_token": push_token, "encoding_aes_key": encoding_aes_key,
                                         "decode_sensitive": "1" if decode_sensitive else "0"}
        self.decoded: list[str] = []
        self._token_no = 0
        self._token = ""
        super().__init__()

    def ts(self) -> int:
        """The shop's clock in whole seconds, as WeChat stamps its times."""
        return int(self.now())

    def push_request(self, order_nos: list[str], *, thin: bool = True) -> tuple[dict[str, str], bytes]:
        """One safe-mode JSON push (WeChat sends one event per request, always ids only)."""
        if len(order_nos) != 1:
            raise ValueError("微信小店 pushes one order event per request; ask for one order at a time")
        order = self.orders[order_nos[0]]
        no: int | str = int(order.order_no) if order.order_no.isdigit() else order.order_no
        event = {"ToUserName": "gh_fakeshop", "FromUserName": "OPENID", "CreateTime": int(order.updated),
                 "MsgType": "event", "Event": EVENT_FOR[order.status], "order_info": {"order_id": no}}
        return self.signed_push(json.dumps(event, ensure_ascii=False).encode())

    def signed_push(self, plain: bytes, *, appid: str | None = None) -> tuple[dict[str, str], bytes]:
        """Encrypt and sign any event, as WeChat's push server does."""
        encrypt = wx_encrypt(self.encoding_aes_key, plain, appid or self.app_key)
        timestamp, nonce = str(self.ts()), str(int.from_bytes(os.urandom(4), "big"))
        query = {"signature": _sha1_sorted(self.push_token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": "OPENID", "encrypt_type": "aes",
                 "msg_signature": _sha1_sorted(self.push_token, timestamp, nonce, encrypt)}
        body = json.dumps({"ToUserName": "gh_fakeshop", "Encrypt": encrypt}).encode()
        return {"Content-Type": "application/json", PUSH_QUERY_KEY: urlencode(query)}, body

    def url_check_query(self, echostr: str = "4375120948345356249") -> dict[str, str]:
        """The query of WeChat's GET check of the push URL."""
        timestamp, nonce = str(self.ts()), "1514711492"
        return {"signature": _sha1_sorted(self.push_token, timestamp, nonce), "echostr": echostr,
                "timestamp": timestamp, "nonce": nonce}

    # --- the platform -----------------------------------------------------------------------

    def answer(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        url = urlsplit(h.path)
        name = url.path.removeprefix("/channels/ec/").removeprefix("/cgi-bin/")
        failure = self.take_failure(name)
        if failure is not None:
            self._fail(h, failure, name)
            return
        if h.command != "POST":
            send_json(h, 200, {"errcode": 43002, "errmsg": "require POST method"})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            send_json(h, 200, {"errcode": 47001, "errmsg": "data format error"})
            return
        if name == "stable_token":
            send_json(h, 200, self._stable_token(body))
            return
        token = parse_qs(url.query).get("access_token", [""])[0]
        with self._lock:
            valid = bool(self._token) and token == self._token
        if not valid:
            send_json(h, 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
            return
        handler = {"order/list/get": self._list, "order/get": self._get,
                   "order/sensitiveinfo/decode": self._decode, "order/delivery/send": self._send}.get(name)
        if handler is None:
            send_json(h, 404, b"not found")
            return
        with self._lock:
            send_json(h, 200, handler(body))

    def _fail(self, h: BaseHTTPRequestHandler, failure: str, name: str) -> None:
        if failure == "token_expired":
            with self._lock:
                self._token = ""  # the token the client holds no longer works
            send_json(h, 200, {"errcode": 42001, "errmsg": "access_token expired"})
        elif failure == "rate_limited":
            send_json(h, 200, {"errcode": 45011, "errmsg": "api minute-quota reach limit must slower retry next minute"})
        elif failure == "busy":
            send_json(h, 200, {"errcode": -1, "errmsg": "system error"})
        elif failure == "http_500":
            send_json(h, 500, b"<html><body>502 Bad Gateway</body></html>")
        elif failure == "garbage":
            send_json(h, 200, b"<html>\x00\xff not json")
        elif failure == "bad_credentials":
            code = 40125 if name == "stable_token" else 48001
            send_json(h, 200, {"errcode": code, "errmsg": "invalid appsecret" if code == 40125 else "api unauthorized"})
        else:
            raise AssertionError(f"unknown failure {failure}")

    def _stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if body.get("appid") != self.app_key:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("secret") != self.app_secret:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        with self._lock:
            if not self._token or body.get("force_refresh") is True:
                self._token_no += 1
                self._token = f"ACCESS_TOKEN_{self._token_no}"
            return {"access_token": self._token, "expires_in": 7200}

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        rng = body.get("update_time_range")
        if not isinstance(rng, dict) or not all(isinstance(rng.get(k), int) for k in ("start_time", "end_time")):
            return {"errcode": 40097, "errmsg": "invalid args, update_time_range"}
        start, end = rng["start_time"], rng["end_time"]
        size = body.get("page_size", 10)
        if end < start or end - start > SEVEN_DAYS or not isinstance(size, int) or not 1 <= size <= 100:
            return {"errcode": 40097, "errmsg": "invalid args, time range or page_size"}
        key = body.get("next_key", "")
        offset = int(key) if isinstance(key, str) and key.isdigit() else 0
        hits = sorted((o for o in self.orders.values() if start <= int(o.updated) <= end),
                      key=lambda o: (o.updated, o.order_no))
        page = hits[offset:offset + size]
        more = offset + size < len(hits)
        return {"errcode": 0, "errmsg": "ok", "order_id_list": [o.order_no for o in page],
                "next_key": str(offset + size), "has_more": more}

    def _address(self, order: ShopOrder, *, masked: bool) -> dict[str, Any]:
        return {"user_name": "林**" if masked else "林小姐", "postal_code": "350600", "province_name": "福建省",
                "city_name": "福州市", "county_name": "罗源县", "detail_info": "****" if masked else "凤山镇南门路18号",
                "national_code": "350123", "tel_number": "183****2807" if masked else "18300002807",
                "house_number": "", "virtual_order_tel_number": ""}

    def _detail(self, order: ShopOrder) -> dict[str, Any]:
        products = [{"product_id": f"10000{i}", "sku_id": f"2000{i}", "sku_cnt": qty, "title": f"商品 {sku}",
                     "sale_price": 1990, "market_price": 2990, "sku_code": sku, "on_aftersale_sku_cnt": 0,
                     "finish_aftersale_sku_cnt": 0}
                    for i, (sku, qty) in enumerate(order.skus, start=1)]
        status = STATUS_CODE[order.status]
        if order.status == "paid" and order.packages:
            status = PART_SHIPPED  # some products are in a package, some are not yet
        return {"order_id": order.order_no, "status": status, "create_time": int(order.created),
                "update_time": int(order.updated), "openid": "OPENID",
                "order_detail": {"product_infos": products,
                                 "price_info": {"order_price": sum(1990 * q for _, q in order.skus), "freight": 0},
                                 "pay_info": {"pay_time": int(order.paid)} if order.paid else {},
                                 "delivery_info": {"address_info": self._address(order, masked=True),
                                                   "delivery_method": 0,
                                                   "delivery_product_info": list(order.packages)},
                                 "ext_info": {"customer_notes": "", "merchant_notes": ""}}}

    def _known(self, body: dict[str, Any]) -> ShopOrder | None:
        order_id = body.get("order_id")
        return self.orders.get(str(order_id)) if isinstance(order_id, str | int) else None

    def _get(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._known(body)
        if order is None:
            return {"errcode": 100002, "errmsg": "Not exist"}
        return {"errcode": 0, "errmsg": "ok", "order": self._detail(order)}

    def _decode(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._known(body)
        if order is None:
            return {"errcode": 100002, "errmsg": "Not exist"}
        self.decoded.append(order.order_no)
        return {"errcode": 0, "errmsg": "ok", "address_info": self._address(order, masked=False)}

    def _units_left(self, order: ShopOrder) -> dict[str, int]:
        """sku_id → units not yet in a package."""
        left = {p["sku_id"]: p["sku_cnt"] for p in self._detail(order)["order_detail"]["product_infos"]}
        for package in order.packages:
            for p in package["product_infos"]:
                left[p["sku_id"]] -= p["product_cnt"]
        return left

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._known(body)
        if order is None:
            return {"errcode": 100002, "errmsg": "Not exist"}
        packages = body.get("delivery_list")
        if not isinstance(packages, list) or len(packages) != 1 or not isinstance(packages[0], dict):
            return {"errcode": 40097, "errmsg": "invalid args, delivery_list"}
        pkg = packages[0]
        if pkg.get("deliver_type") != 1 or pkg.get("delivery_id") not in DELIVERY_IDS or not pkg.get("waybill_id"):
            return {"errcode": 40097, "errmsg": "invalid args, delivery_id/waybill_id/deliver_type"}
        if order.refuse_ship or order.status in ("cancelled", "refunded"):
            return {"errcode": 108009, "errmsg": "order in aftersale, can not deliver"}
        if order.status == "shipped":
            return {"errcode": 109001, "errmsg": "order already delivered"}
        products = pkg.get("product_infos")
        if not isinstance(products, list) or not products or not all(isinstance(p, dict) for p in products):
            return {"errcode": 109002, "errmsg": "no product in delivery, check product_infos"}
        # 订单发货: a package names products and units (product_cnt); units already in a package
        # cannot ship again (109000 "该商品是否已经发货 … 商品数量是否填写正确").
        left = self._units_left(order)
        known = {p["sku_id"]: p for p in self._detail(order)["order_detail"]["product_infos"]}
        for p in products:
            item = known.get(p.get("sku_id"))
            if item is None or p.get("product_id") != item["product_id"]:
                return {"errcode": 606031, "errmsg": "product_id or sku_id not in order"}
            cnt = p.get("product_cnt")
            if not isinstance(cnt, int) or isinstance(cnt, bool) or not 0 < cnt <= left[p["sku_id"]]:
                return {"errcode": 109000, "errmsg": f"deliver failed, sku_id {p['sku_id']} product_cnt"}
            left[p["sku_id"]] -= cnt
        order.packages.append({"waybill_id": pkg["waybill_id"], "delivery_id": pkg["delivery_id"],
                               "product_infos": products, "deliver_type": 1, "delivery_time": self.ts()})
        if not any(left.values()):
            order.status = "shipped"
        order.updated = max(order.updated, self.now())
        self.shipped.append(ShippedRecord(order.order_no, pkg["delivery_id"], pkg["waybill_id"]))
        return {"errcode": 0, "errmsg": "ok"}


#: The name the engine's tests look the fake up by (tests/channels/engine_kit.py FAKES).
FakeWechat = FakeWechatShop
