"""Fake partners for the notification tests, on 127.0.0.1, each checking the request as documented.

:class:`FakeWeCom` is a 企业微信 group robot: ``POST /cgi-bin/webhook/send?key=…`` with a JSON body
``{"msgtype": "text"|"markdown", …}`` (content within 2048 / 4096 UTF-8 bytes, @-mentions by mobile
only on text); a wrong key gets ``errcode`` 93000. :class:`FakeAliyunSms` is 阿里云 dysmsapi
``SendSms``: a form POST whose ``Signature`` it recomputes on its own (percent-encoding and
HMAC-SHA1 written here again, not imported, so a wrong signer cannot agree with itself). Both answer
from a script the test writes (``answers``), then with success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from tests.helpers.fake_http import FakeHTTPServer, send_json

#: One scripted answer: (HTTP status, body: a JSON-able object or raw bytes).
Answer = tuple[int, Any]


class FakeWeCom:
    PATH = "/cgi-bin/webhook/send"

    def __init__(self, key: str) -> None:
        self.key = key
        self.answers: list[Answer] = []
        self.received: list[dict[str, Any]] = []  # bodies it took (errcode 0)
        self.problems: list[str] = []  # requests not as documented
        self._lock = threading.Lock()
        self.server = FakeHTTPServer(self._respond)
        self.url = self.server.url + self.PATH

    def _respond(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        parts = urlsplit(h.path)
        query = dict(parse_qsl(parts.query))
        with self._lock:
            if h.command != "POST" or parts.path != self.PATH or not h.headers.get("Content-Type", "").startswith(
                    "application/json"):
                self.problems.append(f"{h.command} {parts.path} {h.headers.get('Content-Type')}")
                send_json(h, 200, {"errcode": 40008, "errmsg": "invalid message type"})
                return
            if query.get("key") != self.key:
                send_json(h, 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"})
                return
            body = json.loads(raw.decode("utf-8"))
            problem = self._check(body)
            if problem:
                self.problems.append(problem)
                send_json(h, 200, {"errcode": 40008, "errmsg": problem})
                return
            if self.answers:
                status, answer = self.answers.pop(0)
                send_json(h, status, answer)
                return
            self.received.append(body)
            send_json(h, 200, {"errcode": 0, "errmsg": "ok"})

    @staticmethod
    def _check(body: dict[str, Any]) -> str:
        kind = body.get("msgtype")
        if kind not in ("text", "markdown") or not isinstance(body.get(kind), dict):
            return f"msgtype {kind!r}"
        content = body[kind].get("content")
        if not isinstance(content, str) or not content:
            return "content empty"
        if len(content.encode()) > (2048 if kind == "text" else 4096):
            return "content too long"
        if kind == "markdown" and "mentioned_mobile_list" in body[kind]:
            return "markdown cannot mention by mobile"
        return ""

    def close(self) -> None:
        self.server.close()


def pop_encode(value: str) -> str:
    return quote(value, safe="-_.~")


class FakeAliyunSms:
    REQUIRED = ("AccessKeyId", "Action", "Format", "PhoneNumbers", "RegionId", "SignName", "Signature",
                "SignatureMethod", "SignatureNonce", "SignatureVersion", "TemplateCode", "TemplateParam", "Timestamp",
                "Version")

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self.secret = secret
        self.answers: list[Answer] = []
        self.received: list[dict[str, str]] = []
        self.problems: list[str] = []
        self.nonces: set[str] = set()
        self._lock = threading.Lock()
        self.server = FakeHTTPServer(self._respond)
        self.url = self.server.url + "/"

    def signature(self, method: str, params: dict[str, str]) -> str:
        canonical = "&".join(f"{pop_encode(k)}={pop_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
        to_sign = f"{method}&%2F&{pop_encode(canonical)}"
        return base64.b64encode(hmac.new(f"{self.secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()

    def _respond(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        with self._lock:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            missing = [k for k in self.REQUIRED if k not in form]
            if h.command != "POST" or missing:
                self.problems.append(f"{h.command} missing {missing}")
                send_json(h, 400, {"Code": "MissingParameter", "Message": str(missing)})
                return
            if form["Signature"] != self.signature("POST", form) or form["AccessKeyId"] != self.key_id:
                send_json(h, 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"})
                return
            if (form["Action"], form["Version"], form["SignatureMethod"], form["SignatureVersion"]) != (
                    "SendSms", "2017-05-25", "HMAC-SHA1", "1.0") or form["SignatureNonce"] in self.nonces:
                self.problems.append(f"common parameters {form}")
                send_json(h, 400, {"Code": "InvalidParameter", "Message": "bad common parameters"})
                return
            self.nonces.add(form["SignatureNonce"])
            if self.answers:
                status, answer = self.answers.pop(0)
                send_json(h, status, answer)
                return
            json.loads(form["TemplateParam"])  # a JSON object as text, as documented
            self.received.append(form)
            send_json(h, 200, {"Code": "OK", "Message": "OK", "BizId": f"900{len(self.received)}^0",
                               "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})

    def close(self) -> None:
        self.server.close()
