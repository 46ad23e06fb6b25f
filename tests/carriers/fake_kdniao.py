"""A small, faithful fake of 快递鸟's EOrderService on 127.0.0.1 (docs/carriers.md "快递鸟").

It takes the documented form POST (``RequestData``, ``EBusinessID``, ``RequestType``, ``DataSign``,
``DataType``), checks ``DataSign`` exactly as documented (Base64 of the lower-case hex MD5 of the
un-encoded RequestData + AppKey), and answers ``1007`` (e-waybill order) and ``1147`` (cancel) in
the documented JSON shape. Like 快递鸟 it dedupes by ``OrderCode``: the same code asked twice gets
the same number. A test queues failures (HTTP 500, garbage, a slow answer that the client gives
up on *after* the number was issued, a busy refusal) and refused districts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.helpers.fake_http import FakeHTTPServer, send_json

Failure = Literal["http_500", "garbage", "slow", "busy", "no_success"]
PATH = "/api/EOrderService"


def documented_sign(request_data: str, app_key: str) -> str:
    """The fake's own copy of the rule (not the hub's code): base64(md5_hex(RequestData + AppKey))."""
    return base64.b64encode(hashlib.md5((request_data + app_key).encode("utf-8")).hexdigest().encode()).decode()


class FakeKdniao:
    def __init__(self, business_id: str = "1237100", app_key: str = "fake-app-key-0f3c") -> None:
        self.business_id = business_id
        self.app_key = app_key
        self.slow_s = 3.0
        #: OrderCode -> the order as answered
        self.orders: dict[str, dict[str, Any]] = {}
        self.cancelled: list[str] = []
        #: requests that passed the signature check: (RequestType, RequestData as sent)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fetches: Counter[str] = Counter()  # OrderCode -> 1007 calls
        self.bad_signs = 0
        self.refuse_districts: set[str] = set()
        self._failures: list[list[Any]] = []  # [failure, times left, RequestType or None]
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._next = 75310000000000
        self.server = FakeHTTPServer(self._serve, http11=True)
        self.url = self.server.url + PATH

    def close(self) -> None:
        self._release.set()
        self.server.close()

    def fail_next(self, failure: Failure, *, times: int = 1, request_type: str | None = None) -> None:
        with self._lock:
            self._failures.append([failure, times, request_type])

    def _take(self, request_type: str) -> str | None:
        with self._lock:
            for entry in self._failures:
                if entry[2] is None or entry[2] == request_type:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._failures.remove(entry)
                    return str(entry[0])
        return None

    def numbers_of(self, order_id: str) -> list[str]:
        """Every number issued for the order (its codes ``<id>`` and ``<id>-N``)."""
        return [o["LogisticCode"] for code, o in self.orders.items() if code == order_id or code.startswith(order_id + "-")]

    # -- HTTP ---------------------------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        if h.command != "POST" or h.path != PATH:
            send_json(h, 404, b"<html>404 Not Found</html>")
            return
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        missing = [k for k in ("RequestData", "EBusinessID", "RequestType", "DataSign", "DataType") if k not in form]
        if missing:
            send_json(h, 200, {"EBusinessID": form.get("EBusinessID", ""), "Success": False, "ResultCode": "101",
                               "Reason": f"缺少必要参数 {','.join(missing)}"})
            return
        if form["EBusinessID"] != self.business_id:
            send_json(h, 200, {"EBusinessID": form["EBusinessID"], "Success": False, "ResultCode": "101",
                               "Reason": "用户ID不存在"})
            return
        if form["DataSign"] != documented_sign(form["RequestData"], self.app_key):
            self.bad_signs += 1
            send_json(h, 200, {"EBusinessID": self.business_id, "Success": False, "ResultCode": "101",
                               "Reason": "数据签名校验失败"})
            return
        rtype = form["RequestType"]
        failure = self._take(rtype)
        if failure == "http_500":
            send_json(h, 500, b"Internal Server Error")
            return
        if failure == "garbage":
            send_json(h, 200, b"<html><body>nginx</body></html>")
            return
        if failure == "no_success":
            send_json(h, 200, {"EBusinessID": self.business_id, "Order": {}})
            return
        if failure == "busy":
            send_json(h, 200, {"EBusinessID": self.business_id, "Success": False, "ResultCode": "109",
                               "Reason": "系统繁忙，请稍后再试"})
            return
        try:
            body = json.loads(form["RequestData"])
        except ValueError:
            send_json(h, 200, {"EBusinessID": self.business_id, "Success": False, "ResultCode": "102",
                               "Reason": "RequestData 不是 JSON"})
            return
        answer = self._order(body) if rtype == "1007" else self._cancel(body) if rtype == "1147" else {
            "EBusinessID": self.business_id, "Success": False, "ResultCode": "101", "Reason": "RequestType 不支持"}
        if failure == "slow":  # the work is done (a number issued), the answer comes too late
            self._release.wait(self.slow_s)
        send_json(h, 200, answer)

    def _order(self, body: dict[str, Any]) -> dict[str, Any]:
        def no(reason: str, code: str = "101") -> dict[str, Any]:
            return {"EBusinessID": self.business_id, "Success": False, "ResultCode": code, "Reason": reason}

        for key in ("OrderCode", "ShipperCode", "PayType", "ExpType", "Sender", "Receiver"):
            if key not in body or body[key] in ("", None):
                return no(f"{key} 不能为空")
        for who in ("Sender", "Receiver"):
            for key in ("Name", "ProvinceName", "CityName", "ExpAreaName", "Address"):
                if not body[who].get(key):
                    return no(f"{who}.{key} 不能为空")
            if not (body[who].get("Mobile") or body[who].get("Tel")):
                return no(f"{who} 电话与手机必填一个")
        code = str(body["OrderCode"])
        with self._lock:
            self.calls.append(("1007", body))
            self.fetches[code] += 1
            if body["Receiver"]["ExpAreaName"] in self.refuse_districts:
                return no("收件地址超区，不在派送范围内", "106")
            order = self.orders.get(code)
            if order is None:  # 快递鸟 dedupes by OrderCode: a repeat gets the same number
                self._next += 1
                r = body["Receiver"]
                order = {"OrderCode": code, "ShipperCode": body["ShipperCode"], "LogisticCode": str(self._next),
                         "MarkDestination": f"{r['CityName'][:2]}-{r['ExpAreaName']}", "SortingCode": "200-A01 05",
                         "PackageName": f"{r['ProvinceName'][:2]}转运中心", "PackageCode": "200"}
                self.orders[code] = order
        return {"EBusinessID": self.business_id, "Order": dict(order), "Success": True, "ResultCode": "100",
                "Reason": "成功", "UniquerRequestNumber": f"fake-{code}"}

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(("1147", body))
            order = self.orders.get(str(body.get("OrderCode")))
            if order is None or order["LogisticCode"] != body.get("ExpNo") or order["ShipperCode"] != body.get("ShipperCode"):
                return {"EBusinessID": self.business_id, "Success": False, "ResultCode": "101",
                        "Reason": "订单号与快递单号不匹配"}
            if body["ExpNo"] not in self.cancelled:
                self.cancelled.append(body["ExpNo"])
        return {"EBusinessID": self.business_id, "Success": True, "ResultCode": "100", "Reason": "成功"}
