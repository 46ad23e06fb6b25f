"""A fake 快递100 on 127.0.0.1: the subscription API (``POST /poll``) as 快递100 documents it, and a
helper that makes its pushes, signed as it signs them.

The subscription check is the documented one (docs/tracking.md): a form with
``schema=json`` and ``param`` JSON holding ``company``, ``number``, ``key`` and
``parameters.callbackurl`` / ``salt`` / ``resultv2``; the poll API takes no ``sign`` (the key in
``param`` is the credential), so a request that sends one is a mistake we would want to see. The
answers are 快递100's: ``{"result", "returnCode", "message"}`` with 200, 501 (already subscribed),
600 (bad key), 700 (bad data); a failure queue adds HTTP 500s, timeouts and garbage.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from hub.carriers.kuaidi100 import sign
from tests.helpers.fake_http import FakeHTTPServer, send_json

Failure = Literal["http_500", "garbage", "busy_500", "slow", "bad_key", "refuse"]
KNOWN_COMPANIES = frozenset({"zhongtong", "yuantong", "shentong", "yunda", "jd", "shunfeng", "ems",
                             "youzhengguonei", "jtexpress", "debangkuaidi"})
CN = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Subscribed:
    company: str
    number: str
    callbackurl: str
    salt: str
    phone: str
    to: str


class FakeKuaidi100:
    """``key``: the enterprise key it accepts. ``subscribed`` lists accepted subscriptions in order."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.subscribed: list[Subscribed] = []
        self.problems: list[str] = []  # requests that broke the documented shape
        self.slow_s = 3.0
        self._failures: list[Failure] = []
        self._lock = threading.Lock()
        self.server = FakeHTTPServer(self._serve)
        self.url = self.server.url

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        with self._lock:
            self._failures += [failure] * times

    def close(self) -> None:
        self.server.close()

    def _serve(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        if h.command != "POST" or h.path.split("?")[0] != "/poll":
            send_json(h, 404, {"result": False, "returnCode": "404", "message": "not found"})
            return
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure == "http_500":
            send_json(h, 500, b"<html>502 Bad Gateway</html>")
            return
        if failure == "garbage":
            send_json(h, 200, b"<html>maintenance</html>")
            return
        if failure == "busy_500":
            send_json(h, 200, {"result": False, "returnCode": "500", "message": "服务器错误"})
            return
        if failure == "slow":
            time.sleep(self.slow_s)
        problem = self._check(h, body)
        if problem:
            self.problems.append(problem)
            send_json(h, 200, {"result": False, "returnCode": "700", "message": problem})
            return
        form = parse_qs(body.decode("utf-8"))
        param = json.loads(form["param"][0])
        if failure == "bad_key" or param["key"] != self.key:
            send_json(h, 200, {"result": False, "returnCode": "600", "message": "您不是合法的订阅者"})
            return
        if failure == "refuse" or param["company"] not in KNOWN_COMPANIES:
            send_json(h, 200, {"result": False, "returnCode": "701", "message": "拒绝订阅的快递公司"})
            return
        p = param["parameters"]
        sub = Subscribed(param["company"], param["number"], p["callbackurl"], p.get("salt", ""),
                         p.get("phone", ""), param.get("to", ""))
        with self._lock:
            again = any(s.number == sub.number and s.company == sub.company for s in self.subscribed)
            if not again:
                self.subscribed.append(sub)
        if again:
            send_json(h, 200, {"result": False, "returnCode": "501", "message": "重复订阅"})
            return
        send_json(h, 200, {"result": True, "returnCode": "200", "message": "提交成功"})

    @staticmethod
    def _check(h: BaseHTTPRequestHandler, body: bytes) -> str:
        """The documented request shape; the words of the first thing wrong, "" when right."""
        if "application/x-www-form-urlencoded" not in (h.headers.get("Content-Type") or ""):
            return "Content-Type must be application/x-www-form-urlencoded"
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return "body is not a form"
        if form.get("schema") != ["json"]:
            return "schema must be json"
        if "sign" in form:
            return "the poll API takes no sign"
        try:
            param = json.loads(form["param"][0])
        except (KeyError, ValueError):
            return "param must be JSON"
        for name in ("company", "number", "key"):
            if not isinstance(param.get(name), str) or not param[name]:
                return f"param.{name} missing"
        if len(param["number"]) > 32:
            return "number longer than 32"
        p = param.get("parameters")
        if not isinstance(p, dict) or not str(p.get("callbackurl", "")).startswith(("http://", "https://")):
            return "parameters.callbackurl missing"
        if p.get("resultv2") != "1":
            return "parameters.resultv2 must be 1 (we map its statuses)"
        if not isinstance(p.get("salt"), str) or not p["salt"]:
            return "parameters.salt missing: pushes would carry no sign"
        return ""


# -- pushes --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One history element as 快递100 pushes it: China time, the context, area and status words/code."""

    at: datetime  # aware
    context: str
    area: str = ""
    status: str = "在途"
    code: str = "0"

    def element(self) -> dict[str, str]:
        local = self.at.astimezone(CN).strftime("%Y-%m-%d %H:%M:%S")
        return {"time": local, "ftime": local, "context": self.context, "areaName": self.area,
                "status": self.status, "statusCode": self.code, "areaCode": ""}


def push_param(company: str, number: str, steps: list[Step], *, state: str, monitor: str = "polling") -> str:
    """The ``param`` JSON of a push: the whole history so far, newest first (as 快递100 sends it)."""
    newest_first = sorted(steps, key=lambda s: s.at, reverse=True)
    body: dict[str, Any] = {
        "status": monitor, "billstatus": "", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "nu": number, "ischeck": "1" if state == "3" else "0", "condition": "",
                       "com": company, "status": "200", "state": state,
                       "data": [s.element() for s in newest_first]},
    }
    return json.dumps(body, ensure_ascii=False)


def signed_form(param: str, salt: str, *, bad_sign: bool = False) -> bytes:
    """The push's form body: ``param`` and ``sign`` = MD5(param + salt) upper-case."""
    sig = sign(param, salt)
    if bad_sign:
        sig = sign(param, salt + "x")
    return urlencode({"param": param, "sign": sig}).encode()
