"""Buyer SMS: the provider interface, and 阿里云短信 (dysmsapi ``SendSms``) built to its documented API.

:class:`SmsProvider` is what the worker calls; :class:`AliyunSms` speaks 阿里云's RPC style
(docs/notifications.md cites the sources): a form POST of ``Action=SendSms``, ``Version=2017-05-25``,
``PhoneNumbers``, ``SignName``, ``TemplateCode``, ``TemplateParam`` (a JSON object as text) and the
common parameters (``AccessKeyId``, ``Format=JSON``, ``RegionId``, ``SignatureMethod=HMAC-SHA1``,
``SignatureVersion=1.0``, ``SignatureNonce``, ``Timestamp`` in UTC ``YYYY-MM-DDThh:mm:ssZ``), signed
with :func:`rpc_signature`. The answer is JSON ``{"Code": "OK", "Message": "OK", "BizId": …,
"RequestId": …}``; any other ``Code`` is an error whose kind :func:`classify` decides.

Phone numbers are masked (:func:`mask_phone`) in every log line, error and answer; the AccessKey
secret is never logged. Platform orders (抖店, 拼多多) carry an encrypted or masked buyer phone: an
SMS can only go to a plaintext mainland mobile (:func:`sms_phone`), so those are skipped with the
reason recorded in the queue row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests

from core.timeutil import utcnow
from hub.channels.base import ErrorKind
from hub.notify.wecom import NotifyError

_MOBILE_RE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
#: Codes that mean "slow down" (flow control per number, per day, per month, per second).
_RATE_CODES = ("isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL", "Throttling")
#: Codes that mean the AccessKey or the account cannot send: an admin must act.
_CREDENTIAL_CODES = ("SignatureDoesNotMatch", "InvalidAccessKeyId", "isp.RAM_PERMISSION_DENY", "isv.OUT_OF_SERVICE",
                     "isv.PRODUCT_UN_SUBSCRIPT", "isv.PRODUCT_UNSUBSCRIBE", "isv.ACCOUNT_NOT_EXISTS",
                     "isv.ACCOUNT_ABNORMAL", "Forbidden")
#: A number that hit the provider's flow control is tried again after this.
RATE_RETRY_S = 300.0


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000`` (anything shorter: all but the last two digits hidden)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        return f"{digits[-11:-8]}****{digits[-4:]}"
    return "*" * max(0, len(digits) - 2) + digits[-2:]


def sms_phone(phone: str) -> tuple[str | None, str]:
    """The plaintext mainland mobile an SMS can go to, or None and the reason it cannot."""
    text = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", phone or ""))
    if not text:
        return None, "收件人没有电话 / the order has no phone number"
    if "*" in text or not text.lstrip("+").isdigit():
        return None, ("买家电话由平台加密或打码（抖店/拼多多），短信只能发往明文手机号 / the buyer's phone is encrypted "
                      "or masked by the platform; an SMS needs a plaintext mobile number")
    m = _MOBILE_RE.match(text)
    if m is None:
        return None, "不是手机号（座机或境外号码）/ not a mainland mobile number (a landline or foreign number)"
    return m.group(1), ""


@dataclass(frozen=True)
class SmsMessage:
    """One SMS to one buyer: the approved signature and template, the template's variables."""

    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]


class SmsProvider(Protocol):
    """An SMS provider: sends one message or raises :class:`hub.notify.wecom.NotifyError`."""

    name: str

    def send(self, msg: SmsMessage) -> str:
        """Send ``msg``; returns the provider's ID for it (for the record)."""
        ...


# --- 阿里云 RPC signature ------------------------------------------------------------------------

def percent_encode(value: str) -> str:
    """RFC 3986 encoding as 阿里云 specifies: A-Z a-z 0-9 - _ . ~ kept, space as %20, UTF-8 bytes as %XY."""
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", StringToSign)) of the parameters without ``Signature``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def classify(code: str, message: str) -> NotifyError:
    """What a non-OK ``Code`` means for the queue."""
    words = f"阿里云短信 {code}: {message[:200]}"
    if code.startswith(_RATE_CODES):
        return NotifyError(ErrorKind.RATE_LIMITED, f"短信发送受限流 / SMS flow control: {words}", code=code,
                           retry_after_s=RATE_RETRY_S)
    if code.startswith(_CREDENTIAL_CODES):
        return NotifyError(ErrorKind.BAD_CREDENTIALS, f"短信账号或密钥不可用 / SMS account or AccessKey refused: {words}",
                           code=code)
    if code.startswith(("isp.", "InternalError", "ServiceUnavailable")):
        return NotifyError(ErrorKind.BUSY, f"短信服务繁忙 / SMS service busy: {words}", code=code)
    return NotifyError(ErrorKind.REFUSED, f"短信被拒绝 / SMS refused: {words}", code=code)


class AliyunSms:
    """阿里云短信 ``SendSms`` (dysmsapi 2017-05-25).

    Args:
        access_key_id / access_key_secret: the RAM user's AccessKey (hub settings; never logged).
        base_url: the endpoint (``https://dysmsapi.aliyuncs.com/``; a fake in tests).
    """

    name = "aliyun"

    def __init__(self, session: requests.Session, access_key_id: str, access_key_secret: str, base_url: str, *,
                 timeout_s: float = 10.0, region: str = "cn-hangzhou") -> None:
        self.session = session
        self._key_id = access_key_id
        self._secret = access_key_secret
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.region = region

    def params(self, msg: SmsMessage, *, nonce: str, now: datetime) -> dict[str, str]:
        """The signed form for ``msg`` (nonce and time given so tests can pin them)."""
        p = {
            "AccessKeyId": self._key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce, "SignatureVersion": "1.0",
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
            "PhoneNumbers": msg.phone, "SignName": msg.sign_name, "TemplateCode": msg.template_code,
            "TemplateParam": json.dumps(msg.params, ensure_ascii=False, separators=(",", ":")),
        }
        p["Signature"] = rpc_signature("POST", p, self._secret)
        return p

    def send(self, msg: SmsMessage) -> str:
        form = self.params(msg, nonce=uuid.uuid4().hex, now=utcnow())
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in form.items())
        try:
            resp = self.session.post(self.base_url, data=body.encode(), timeout=self.timeout_s,
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        except requests.RequestException as exc:
            # the phone is in the body, not the URL, so the exception's words carry none
            raise NotifyError(ErrorKind.BUSY, f"短信服务无法连接 / SMS endpoint unreachable: {type(exc).__name__}") from None
        try:
            answer: Any = resp.json()
            code = answer["Code"]
            if not isinstance(code, str):
                raise TypeError(code)
        except (ValueError, KeyError, TypeError):
            kind = ErrorKind.BUSY if resp.status_code >= 500 else ErrorKind.BAD_RESPONSE
            raise NotifyError(kind, f"短信服务的回答无法识别 / SMS answer unreadable (HTTP {resp.status_code}): "
                                    f"{resp.text[:120]!r}", code=str(resp.status_code)) from None
        if code == "OK":
            return str(answer.get("BizId") or "")
        raise classify(code, str(answer.get("Message") or "").replace(msg.phone, mask_phone(msg.phone)))
