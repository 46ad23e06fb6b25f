"""A fake 抖店 open platform on 127.0.0.1, implementing tests/helpers/fake_shop.py's FakeShop.

It answers the calls the connector makes — ``token.create``, ``token.refresh``, ``order.searchList``,
``order.orderDetail``, ``order.logisticsAdd``, ``order.logisticsAddMultiPack`` (a split part's parcel:
sub-orders and units per pack, ``request_id`` required and idempotent, all or nothing; fields and
error codes from the 抖店 SDK's ``OrderLogisticsAddMultiPackReq``, docs/split-merge.md) — at ``/{method with "." → "/"}``, in the platform's
answer shape ``{code, msg, sub_code, sub_msg, log_id, data}``, and checks every request the way the
platform documents it. This file is written from the documents (docs/channels.md, "Connector: 抖店"),
not from hub/channels/douyin.py: it imports nothing from the client.

* sign: the five system parameters app_key, method, param_json (= the raw body), timestamp, v are
  concatenated as name+value in name order, wrapped in the app secret on both sides, and hashed with
  MD5 or HMAC-SHA256 (key = app secret) as ``sign_method`` says; lower-case hex.
* the body must be the business parameters as key-sorted compact JSON;
* ``v`` must be ``2``, ``method`` must match the path, ``timestamp`` must be near the shop's clock
  (the platform's window is not published: 600 s here);
* every method but ``token.*`` needs a live ``access_token``.

Errors use the platform's base codes: 40003 ``isv.signature-invalid`` / ``isv.access-token-expired``
/ ``isv.timestamp-invalid``, 40001 ``isv.access-token-missing``, 20000 service unavailable, 60000
rate limit, 30001 authorisation gone, 50002 business failure.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.fake_http import FakeHTTPServer, send_json
from tests.helpers.fake_shop import Failure, ShippedRecord, ShopCalls, ShopStatus

#: order_status / main_status the fake gives each state (ShopOrderDetail enums).
_STATES: dict[str, tuple[int, int]] = {
    "unpaid": (1, 1),
    "paid": (2, 2),
    "shipped": (3, 3),
    "cancelled": (4, 4),
    "refunded": (4, 21),  # 发货前退款完结
}
#: The push tag the platform sends for each state, and the data field with the moment.
_PUSH_TAGS: dict[str, tuple[str, str]] = {
    "unpaid": ("100", "create_time"),
    "paid": ("101", "pay_time"),
    "shipped": ("102", "update_time"),
    "cancelled": ("106", "cancel_time"),
    "refunded": ("206", "success_time"),
}
_FAILURES: dict[str, tuple[int, str, str]] = {
    "token_expired": (40003, "isv.access-token-expired", "access_token已过期"),
    "rate_limited": (60000, "", "触发限流，请稍后重试"),
    "busy": (20000, "dop.service-error", "服务不可用"),
    "bad_credentials": (30001, "dop.authorization-no-existed", "店铺授权已失效，请重新授权"),
}


class FakeDouyinShop:
    """One 抖店 shop behind a fake open platform. See the module docstring."""

    platform = "douyin"

    def __init__(self, *, shop_id: str = "4463798", app_key: str = "7012345678901234567",
                 app_secret: str = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1", token_ttl_s: int = 7 * 86400,
                 slow_s: float = 3.0, max_skew_s: float = 600.0, auth_code: str = "") -> None:
        self.shop_id = shop_id
        self.app_key = app_key
        self.app_secret = app_secret
        self.extra: Mapping[str, str] = {"auth_code": auth_code} if auth_code else {}
        self.clock_offset_s = 0.0
        self.token_ttl_s = token_ttl_s
        self.slow_s = slow_s
        self.max_skew_s = max_skew_s
        self.shipped: list[ShippedRecord] = []
        #: order.logisticsAddMultiPack packs recorded: (order, waybill, [(sub-order id, units)]).
        self.packs: list[tuple[str, str, list[tuple[str, int]]]] = []
        self.pack_requests: dict[str, dict[str, Any]] = {}  # request_id -> the first answer
        self.calls = ShopCalls()
        #: (method, query, body) of every request, for tests that look at the wire.
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self._by_update: list[tuple[int, str]] | None = None  # (update_time, order_id), rebuilt after a change
        self.tokens: dict[str, float] = {}  # access token -> shop time it expires
        self.refresh_tokens: dict[str, float] = {}
        self._pair: dict[str, str] = {}  # refresh token -> the access token it came with
        self._refused: set[str] = set()
        self._failures: list[list[Any]] = []  # [failure, times left, method or None]
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.server = FakeHTTPServer(self._respond, http11=True)
        self.url = self.server.url

    # -- the FakeShop control surface -----------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset_s

    def add_order(self, order_no: str, *, status: ShopStatus = "paid", updated_at: datetime | None = None,
                  skus: list[tuple[str, int]] | None = None) -> None:
        ts = int(updated_at.timestamp()) if updated_at is not None else int(self.now())
        lines = skus or [("SKU-TEA-01", 1)]
        sku_orders: list[dict[str, Any]] = []
        for i, (code, qty) in enumerate(lines):
            sku_orders.append({
                "order_id": f"{order_no}{i + 1:02d}", "parent_order_id": order_no, "code": code,
                "sku_id": 3254535 + i, "out_sku_id": "", "product_name": f"商品 {code}",
                "item_num": qty, "origin_amount": 1990 * qty, "order_status": 0, "given_product_type": "",
            })
        order = {
            "shop_id": int(self.shop_id) if self.shop_id.isdigit() else self.shop_id,
            "shop_name": "测试小店", "order_id": order_no, "order_level": 2, "biz": 2,
            "order_status": 0, "main_status": 0, "create_time": ts, "update_time": ts, "pay_time": 0,
            "exp_ship_time": ts + 48 * 3600, "buyer_words": "", "seller_words": "",
            "pay_amount": sum(s["origin_amount"] for s in sku_orders), "post_amount": 0,
            "post_receiver": "", "post_tel": "",
            "encrypt_post_receiver": f"#Z2hvc3Q={order_no}#", "encrypt_post_tel": f"$1jcGhvbmU={order_no}$",
            "mask_post_receiver": "张*", "mask_post_tel": "138****0000",
            "post_addr": {
                "province": {"id": "330000", "name": "浙江省"}, "city": {"id": "330100", "name": "杭州市"},
                "town": {"id": "330106", "name": "西湖区"}, "street": {"id": "330106001", "name": "北山街道"},
                "detail": "", "encrypt_detail": f"~YWRkcg=={order_no}~",
            },
            "mask_post_addr": {
                "province": {"id": "330000", "name": "浙江省"}, "city": {"id": "330100", "name": "杭州市"},
                "town": {"id": "330106", "name": "西湖区"}, "street": {"id": "330106001", "name": "北山街道"},
                "detail": "保俶路***号",
            },
            "logistics_info": [], "sku_order_list": sku_orders,
        }
        with self._lock:
            self.orders[order_no] = order
            self._set(order, status, ts)

    def set_status(self, order_no: str, status: ShopStatus, *, updated_at: datetime | None = None) -> None:
        ts = int(updated_at.timestamp()) if updated_at is not None else int(self.now())
        with self._lock:
            self._set(self.orders[order_no], status, ts)

    def _set(self, order: dict[str, Any], status: str, ts: int) -> None:
        order_status, main_status = _STATES[status]
        if status == "refunded" and order["order_status"] == 3:
            order_status, main_status = 3, 22  # 发货后退款完结: a return, not a cancel
        order["order_status"], order["main_status"] = order_status, main_status
        if status == "paid" and not order["pay_time"]:
            order["pay_time"] = ts
        order["update_time"] = ts
        order["_state"] = status
        self._by_update = None

    def fail_next(self, failure: Failure, *, times: int = 1, method: str | None = None) -> None:
        with self._lock:
            self._failures.append([failure, times, method])

    def refuse_ship(self, order_no: str) -> None:
        with self._lock:
            self._refused.add(order_no)

    def expire_tokens(self) -> None:
        """Every access token handed out so far stops working (the platform's 7 days went by)."""
        with self._lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def push_request(self, order_nos: list[str], *, thin: bool = True) -> tuple[dict[str, str], bytes]:
        messages = []
        with self._lock:
            for no in order_nos:
                order = self.orders[no]
                tag, when = _PUSH_TAGS[order["_state"]]
                data: dict[str, Any] = {
                    "p_id": int(no) if no.isdigit() else no, "shop_id": order["shop_id"], "biz": 2,
                    "order_type": 0, when: order["update_time"],
                }
                if tag == "206":
                    data.update({"s_id": int(order["sku_order_list"][0]["order_id"]) if no.isdigit() else no,
                                 "aftersale_id": 7000000000000000000 + next(self._seq), "aftersale_status": 12,
                                 "refund_amount": order["pay_amount"]})
                else:
                    data.update({"order_status": order["order_status"],
                                 "s_ids": [s["order_id"] for s in order["sku_order_list"]]})
                if not thin:
                    data["shop_order_detail"] = _public(order)
                messages.append({"tag": tag, "msg_id": f"{no}-{tag}-{next(self._seq)}",
                                 "data": json.dumps(data, ensure_ascii=False, separators=(",", ":"))})
        body = json.dumps(messages, ensure_ascii=False, separators=(",", ":")).encode()
        event_sign = hashlib.md5(self.app_key.encode() + body + self.app_secret.encode()).hexdigest()
        return {"Content-Type": "application/json", "app-id": self.app_key, "event-sign": event_sign}, body

    def close(self) -> None:
        self.server.close()

    # -- the platform ---------------------------------------------------------------------------

    def _respond(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(h.path)
        method = parts.path.strip("/").replace("/", ".")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.calls.names.append(method)
            self.requests.append((method, query, body))
            failure = self._take_failure(method)
        if failure == "http_500":
            send_json(h, 500, b"<html><body>502 Bad Gateway</body></html>")
            return
        if failure == "garbage":
            send_json(h, 200, b"<html>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xb9\x81\xe5\xbf\x99</html>")
            return
        if failure == "slow":
            time.sleep(self.slow_s)
        elif failure is not None:
            code, sub_code, sub_msg = _FAILURES[failure]
            send_json(h, 200, _answer(code, sub_code, sub_msg))
            return
        with self._lock:
            answer = self._handle(method, query, body)
        send_json(h, 200, answer)

    def _take_failure(self, method: str) -> str | None:
        for entry in self._failures:
            if entry[2] is None or entry[2] == method:
                entry[1] -= 1
                if entry[1] <= 0:
                    self._failures.remove(entry)
                return str(entry[0])
        return None

    def _handle(self, method: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        refusal = self._check_request(method, query, body)
        if refusal is not None:
            return refusal
        params = json.loads(body)
        if method in ("token.create", "token.refresh"):
            return self._token(method, params)
        token = query.get("access_token", "")
        if not token:
            return _answer(40001, "isv.access-token-missing", "认证失败，access_token不能为空")
        if token not in self.tokens:
            return _answer(40003, "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问")
        if self.tokens[token] <= self.now():
            return _answer(40003, "isv.access-token-expired", "access_token已过期")
        if method == "order.searchList":
            return self._search(params)
        if method == "order.orderDetail":
            order = self.orders.get(str(params.get("shop_order_id", "")))
            if order is None:
                return _answer(50002, "isv.business-failed", "订单不存在")
            return _answer(10000, data={"shop_order_detail": _public(order)})
        if method == "order.logisticsAdd":
            return self._ship(params)
        if method == "order.logisticsAddMultiPack":
            return self._ship_packs(params)
        return _answer(70000, "isp.api-service-off", "API不存在或API已下线")

    def _check_request(self, method: str, query: dict[str, str], body: bytes) -> dict[str, Any] | None:
        """The platform's checks of the system parameters and the sign, in the documented terms."""
        for name in ("app_key", "method", "v", "timestamp", "sign"):
            if not query.get(name):
                return _answer(40001, "isv.signature-missing" if name == "sign" else "isv.parameter-missing",
                               f"缺少必选参数 {name}")
        if query["method"] != method:
            return _answer(40003, "isv.parameter-invalid", "method 与请求路径不一致")
        if query["app_key"] != self.app_key:
            return _answer(40003, "isv.app-id-invalid", "认证失败，app_key不存在")
        if query["v"] != "2":
            return _answer(40003, "isv.parameter-invalid", "v 只能是 2")
        if not query["timestamp"].isdigit():
            return _answer(40003, "isv.timestamp-format-error", "时间戳格式错误")
        if abs(int(query["timestamp"]) - self.now()) > self.max_skew_s:
            return _answer(40003, "isv.timestamp-invalid", "时间戳不合法")
        try:
            params = json.loads(body)
        except ValueError:
            return _answer(40003, "isv.parameter-format-invalid", "业务参数json解析失败")
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if not isinstance(params, dict) or canonical.encode() != body:
            return _answer(40003, "isv.parameter-format-invalid", "param_json 须为按键排序的紧凑 JSON")
        system = {"app_key": query["app_key"], "method": method, "param_json": body.decode(),
                  "timestamp": query["timestamp"], "v": query["v"]}
        plain = (self.app_secret + "".join(name + system[name] for name in sorted(system))
                 + self.app_secret).encode()
        how = query.get("sign_method") or "md5"
        if how == "md5":
            expected = hashlib.md5(plain).hexdigest()
        elif how == "hmac-sha256":
            expected = hmac.new(self.app_secret.encode(), plain, hashlib.sha256).hexdigest()
        else:
            return _answer(40003, "isv.parameter-invalid", "sign_method 不支持")
        if query["sign"] != expected:
            return _answer(40003, "isv.signature-invalid", "签名校验失败")
        return None

    def _token(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "token.create":
            grant = params.get("grant_type")
            if grant == "authorization_self":
                if str(params.get("shop_id", "")) != self.shop_id:
                    return _answer(50001, "dop.token-generate-failed:no-authorization",
                                   "生成token失败，店铺授权已失效，请重新引导商家完成店铺授权")
            elif grant == "authorization_code":
                if not params.get("code") or params.get("code") != self.extra.get("auth_code"):
                    return _answer(50001, "dop.token-generate-failed:code-invalid",
                                   "生成token失败，code参数不正确，请引导商家重新授权获取code")
            else:
                return _answer(50001, "dop.token-generate-failed:grant-type-invalid",
                               "生成token失败，grant_type参数取值不正确")
        else:
            if params.get("grant_type") != "refresh_token":
                return _answer(50001, "dop.token-generate-failed:grant-type-invalid",
                               "生成token失败，grant_type参数取值不正确")
            refresh = str(params.get("refresh_token", ""))
            if refresh not in self.refresh_tokens:
                return _answer(50001, "dop.token-generate-failed:token-invalid", "生成token失败，token不存在")
            if self.refresh_tokens[refresh] <= self.now():
                return _answer(50001, "dop.token-generate-failed:token-expired", "生成token失败，token已过期")
            # token.create answer docs: more than 1 h before the access token expires, a refresh gives
            # back the same pair, their lifetimes unchanged; within that hour a new pair, the old one
            # working one more hour; after expiry a new pair, the old one dead.
            access = self._pair[refresh]
            left = self.tokens[access] - self.now()
            if left > 3600:
                return self._token_answer(access, refresh, int(left))
            if left > 0:
                self.tokens[access] = self.refresh_tokens[refresh] = self.now() + 3600
            else:
                del self.refresh_tokens[refresh]
        n = next(self._seq)
        access, refresh = f"fake-at-{n}-{self.shop_id}", f"fake-rt-{n}-{self.shop_id}"
        self.tokens[access] = self.now() + self.token_ttl_s
        self.refresh_tokens[refresh] = self.now() + 14 * 86400
        self._pair[refresh] = access
        return self._token_answer(access, refresh, self.token_ttl_s)

    def _token_answer(self, access: str, refresh: str, expires_in: int) -> dict[str, Any]:
        return _answer(10000, data={
            "access_token": access, "expires_in": expires_in, "refresh_token": refresh, "scope": "SCOPE",
            "shop_id": int(self.shop_id) if self.shop_id.isdigit() else self.shop_id, "shop_name": "测试小店",
            "authority_id": "", "auth_subject_type": "",
        })

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        size, page = params.get("size", 10), params.get("page", 0)
        if not isinstance(size, int) or not 0 < size <= 100 or not isinstance(page, int) or page < 0:
            return _answer(40004, "isv.parameter-invalid", "单页大小限制100以内，页码从0开始")
        start, end = params.get("update_time_start"), params.get("update_time_end")
        if params.get("order_by") == "update_time":  # the connector's query: served from a sorted index
            if self._by_update is None:
                self._by_update = sorted((o["update_time"], o["order_id"]) for o in self.orders.values())
            lo = 0 if start is None else bisect.bisect_left(self._by_update, (start, ""))
            hi = len(self._by_update) if end is None else bisect.bisect_right(self._by_update, (end, "\uffff"))
            keys = self._by_update[lo:hi]
            picked = [self.orders[no] for _, no in (keys if params.get("order_asc") else reversed(keys))]
        else:
            picked = [o for o in self.orders.values()
                      if (start is None or o["update_time"] >= start) and (end is None or o["update_time"] <= end)]
            picked.sort(key=lambda o: (o["create_time"], o["order_id"]), reverse=not params.get("order_asc", False))
        chunk = picked[page * size:(page + 1) * size]
        return _answer(10000, data={"page": page, "size": size, "total": len(picked),
                                    "shop_order_list": [_public(o) for o in chunk]})

    def _ship(self, params: dict[str, Any]) -> dict[str, Any]:
        no, company, waybill = (str(params.get(k, "")) for k in ("order_id", "company_code", "logistics_code"))
        if not (no and company and waybill):
            return _answer(40002, "isv.parameter-missing", "缺少必选参数 order_id/company_code/logistics_code")
        order = self.orders.get(no)
        if order is None:
            return _answer(50002, "isv.business-failed", "订单不存在")
        if no in self._refused or order["_state"] in ("cancelled", "refunded"):
            return _answer(50002, "isv.business-failed", "订单已取消或退款，不能发货")
        if order["_state"] == "shipped":
            return _answer(50002, "isv.business-failed", "订单已发货，不能重复发货")
        if order["_state"] != "paid":
            return _answer(50002, "isv.business-failed", "订单状态不允许发货")
        ts = int(self.now())
        order["logistics_info"].append({"tracking_no": waybill, "company": company, "ship_time": ts,
                                        "delivery_id": f"{company}_{waybill}", "company_name": company})
        self._set(order, "shipped", ts)
        self.shipped.append(ShippedRecord(order_no=no, carrier_code=company, waybill=waybill))
        return _answer(10000, data={})


    def _ship_packs(self, params: dict[str, Any]) -> dict[str, Any]:
        """Packs of sub-orders: every pack checked before any is recorded (the platform fails the whole
        request rather than ship part of it); 101 部分发货 until every unit left, then 3 已发货."""
        request_id, no = str(params.get("request_id") or ""), str(params.get("order_id") or "")
        if not request_id:
            return _answer(40002, "isv.missing-parameter:50050", "发货请求id不能为空，请检查requestId")
        if request_id in self.pack_requests:
            return self.pack_requests[request_id]  # a repeat: the first result, nothing shipped again
        order = self.orders.get(no)
        if order is None:
            return _answer(50002, "isv.business-failed:60033", "订单不存在，请仔细检查后重试。")
        if no in self._refused or order["_state"] in ("cancelled", "refunded"):
            return _answer(50002, "isv.business-failed:60021", "订单已取消，禁止发货。")
        if order["_state"] not in ("paid", "partly_shipped"):
            return _answer(50002, "isv.business-failed:60110", "订单已发货，不允许再次执行发货。")
        packs = params.get("pack_list")
        if not isinstance(packs, list) or not packs:
            return _answer(50002, "isv.business-failed:60036", "发货信息为空。")
        subs = {str(s["order_id"]): s for s in order["sku_order_list"]}
        taking: dict[str, int] = {}
        for pack in packs:
            infos = pack.get("shipped_order_info") if isinstance(pack, dict) else None
            if not isinstance(infos, list) or not infos or not pack.get("logistics_code") or not pack.get("company_code"):
                return _answer(50002, "isv.business-failed:60036", "发货信息为空。")
            for info in infos:
                sub = subs.get(str(info.get("shipped_order_id")))
                if sub is None:
                    return _answer(50002, "isv.business-failed:60102", "60102:商品单不存在，请仔细检查后重试")
                num = info.get("shipped_num")
                if not isinstance(num, int) or num <= 0:
                    return _answer(50002, "isv.business-failed:60080", "60080:商品的发货数量不允许小于0")
                key = str(sub["order_id"])
                taking[key] = taking.get(key, 0) + num
                if taking[key] + sub.get("_shipped", 0) > sub["item_num"]:
                    return _answer(50002, "isv.business-failed:70023", "70023:已发货，请检查订单状态")
        ts = int(self.now())
        result = []
        for pack in packs:
            for info in pack["shipped_order_info"]:
                subs[str(info["shipped_order_id"])]["_shipped"] = (
                    subs[str(info["shipped_order_id"])].get("_shipped", 0) + info["shipped_num"])
            company, waybill = str(pack["company_code"]), str(pack["logistics_code"])
            order["logistics_info"].append({"tracking_no": waybill, "company": company, "ship_time": ts,
                                            "delivery_id": f"{company}_{waybill}", "company_name": company})
            self.shipped.append(ShippedRecord(order_no=no, carrier_code=company, waybill=waybill))
            self.packs.append((no, waybill, [(str(i["shipped_order_id"]), i["shipped_num"])
                                             for i in pack["shipped_order_info"]]))
            result.append({"shipped_order_info": pack["shipped_order_info"], "logistics_code": waybill,
                           "pack_id": f"P{len(self.packs)}"})
        if all(s.get("_shipped", 0) >= s["item_num"] for s in order["sku_order_list"]):
            self._set(order, "shipped", ts)
        else:
            order["order_status"], order["main_status"], order["_state"] = 101, 101, "partly_shipped"
            order["update_time"] = ts
            self._by_update = None
        answer = _answer(10000, data={"pack_list": result})
        self.pack_requests[request_id] = answer
        return answer


def _public(order: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps({k: v for k, v in order.items() if not k.startswith("_")}))
    out["sku_order_list"] = [{k: v for k, v in s.items() if not k.startswith("_")} for s in out["sku_order_list"]]
    return dict(out)


def _answer(code: int, sub_code: str = "", sub_msg: str = "", *, data: Any = None) -> dict[str, Any]:
    return {"code": code, "msg": "success" if code == 10000 else sub_msg.split("，")[0], "sub_code": sub_code,
            "sub_msg": sub_msg, "log_id": f"2026{time.time_ns()}", "data": data if data is not None else {}}


#: The name the engine's tests look fakes up by (tests/channels/engine_kit.py on i12-engine: ``Fake<Platform>``).
FakeDouyin = FakeDouyinShop
