"""快递100 (kuaidi100) subscription push: subscribe a waybill, read and verify its pushes.

The protocol, as 快递100's own SDKs and documents show it (docs/tracking.md cites each):

* **Subscribe** — ``POST {base_url}/poll``, form fields ``schema=json`` and ``param`` = JSON
  ``{company, number, key, from?, to?, parameters: {callbackurl, salt, resultv2, phone?}}``. No
  ``sign`` on this call: the ``key`` inside ``param`` is the credential. The answer is
  ``{"result": bool, "returnCode": "200"|"501"|…, "message": str}``; 200 is accepted and 501 means
  "already subscribed and still tracked", which is success for us.
* **Push** — 快递100 POSTs a form to ``callbackurl`` with ``param`` (JSON ``{status, message,
  lastResult: {state, ischeck, com, nu, data: [{time, ftime, context, areaName, status,
  statusCode}, …]}}``, ``data`` newest first and whole) and ``sign`` =
  upper-case hex MD5(``param`` + ``salt``). The receiver answers
  ``{"result": true, "returnCode": "200", "message": "成功"}``; anything else makes 快递100 retry.

Our field names stop here: :func:`parse_push` turns a push into :class:`TrackingPush` with
:class:`TrackEvent` items whose ``status`` is a :data:`core.model.TRACKING_STATUSES` member.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests

from core.model import TRACKING_STATUSES
from core.timeutil import to_utc
from hub.carriers.base import CarrierError, ErrorKind

#: Our carrier codes (the rules file's, core/display_names.py CARRIER_NAMES) → 快递100 company codes
#: (快递100 编码表; the SDK's CompanyConstant). docs/tracking.md has the same table.
COMPANY_CODES: dict[str, str] = {
    "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong", "YD": "yunda", "YUNDA": "yunda",
    "JD": "jd", "SF": "shunfeng", "EMS": "ems", "YZPY": "youzhengguonei", "JT": "jtexpress",
    "JTSD": "jtexpress", "DBL": "debangkuaidi", "DEPPON": "debangkuaidi",
}

#: 快递100 ``state`` (and the first digits of a resultv2 sub-state) → our tracking status.
#: 0 在途, 1 揽收, 2 疑难, 3 签收, 4 退签 (returned and signed by the sender), 5 派件, 6 退回 (on its
#: way back), 7 转投 (handed to another carrier: still moving), 8 清关 (customs: still moving),
#: 14 拒签 (the recipient refused).
STATE_CODES: dict[int, str] = {0: "in_transit", 1: "collected", 2: "problem", 3: "signed", 4: "returned",
                               5: "delivering", 6: "returning", 7: "in_transit", 8: "in_transit",
                               10: "in_transit", 11: "in_transit", 12: "in_transit", 13: "problem",
                               14: "refused"}
#: resultv2 sub-states that mean something other than their family: 203 收件人拒收 is a refusal.
SUB_STATES: dict[int, str] = {203: "refused"}
#: The words 快递100 puts in ``data[].status`` when resultv2 is on.
STATE_WORDS: dict[str, str] = {"在途": "in_transit", "揽收": "collected", "疑难": "problem", "签收": "signed",
                               "退签": "returned", "派件": "delivering", "退回": "returning", "转投": "in_transit",
                               "拒签": "refused", "清关": "in_transit", "待清关": "in_transit",
                               "清关中": "in_transit", "已清关": "in_transit", "清关异常": "problem"}

#: The acknowledgement 快递100 expects from the callback (anything else: it retries).
ACK: dict[str, Any] = {"result": True, "returnCode": "200", "message": "成功"}
#: 快递100's times (``ftime``) are China time without a zone.
KUAIDI100_TZ = "Asia/Shanghai"
#: A push holds the whole history; a parcel with more events than this is cut to the newest.
MAX_EVENTS = 200

assert set(STATE_CODES.values()) <= set(TRACKING_STATUSES)


def sign(param: str, salt: str) -> str:
    """The push signature: upper-case hex MD5 of ``param`` followed by ``salt`` (UTF-8)."""
    return hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()


def status_of_code(code: Any) -> str | None:
    """A 快递100 state or resultv2 sub-state code (``"3"``, ``"301"``, 1002) as our status; None if unknown."""
    try:
        n = int(str(code).strip())
    except ValueError:
        return None
    if n in SUB_STATES:
        return SUB_STATES[n]
    if n >= 100:  # a resultv2 sub-state: 301 本人签收 → 3, 1002 干线 → 10 (在途), 1401 → 14
        n //= 100
    return STATE_CODES.get(n)


class BadPush(ValueError):
    """A push whose body is not 快递100's shape (the endpoint answers 400 with these words)."""


@dataclass(frozen=True)
class TrackEvent:
    """One line of a parcel's history (物流轨迹)."""

    at: datetime  # aware UTC
    place: str
    text: str
    status: str  # a TRACKING_STATUSES member
    raw_code: str  # what 快递100 said (statusCode, status words or the push's state), for the record


@dataclass(frozen=True)
class TrackingPush:
    """A verified push: which parcel, its whole history (newest first), and 快递100's monitoring status."""

    company: str
    number: str
    state: str  # the parcel's state as 快递100 judges it (our status), "" when it gave none
    events: tuple[TrackEvent, ...]
    monitor: str  # polling / shutdown / abort / updateall
    message: str


def subscribe_param(*, company: str, number: str, key: str, callback_url: str, salt: str, phone: str = "",
                    to: str = "") -> dict[str, Any]:
    """The subscription's ``param`` object (the SDK's SubscribeParam / SubscribeParameters)."""
    parameters: dict[str, str] = {"callbackurl": callback_url, "salt": salt, "resultv2": "1"}
    if phone:
        parameters["phone"] = phone
    param: dict[str, Any] = {"company": company, "number": number, "key": key, "parameters": parameters}
    if to:
        param["to"] = to
    return param


def subscribe(session: requests.Session, base_url: str, param: dict[str, Any], *, timeout_s: float = 10.0) -> str:
    """Send one subscription; returns 快递100's ``returnCode`` ("200", or "501" already subscribed).

    Raises:
        CarrierError: ``BUSY`` (network, timeout, 5xx, returnCode 500), ``BAD_RESPONSE`` (not its
            JSON), ``BAD_CREDENTIALS`` (600/601: the key is wrong or expired), ``REFUSED``
            (700/701/702: bad number, company refused or not recognised).
    """
    url = base_url.rstrip("/") + "/poll"
    try:
        resp = session.post(url, data={"schema": "json", "param": json.dumps(param, ensure_ascii=False,
                                                                               separators=(",", ":"))},
                            timeout=timeout_s)
    except requests.RequestException as exc:
        raise CarrierError(ErrorKind.BUSY, f"快递100 not reachable: {type(exc).__name__}") from None
    if resp.status_code >= 500:
        raise CarrierError(ErrorKind.BUSY, f"快递100 answered HTTP {resp.status_code}", code=str(resp.status_code))
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "returnCode" not in body:
        raise CarrierError(ErrorKind.BAD_RESPONSE,
                           f"快递100's answer (HTTP {resp.status_code}) is not its subscription JSON")
    code = str(body.get("returnCode"))
    words = str(body.get("message") or "")[:200]
    if code in ("200", "501"):
        return code
    if code in ("600", "601"):
        raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"快递100 refused the key: {words}", code=code)
    if code in ("700", "701", "702"):
        raise CarrierError(ErrorKind.REFUSED, f"快递100 refused the subscription: {words}", code=code)
    if code == "500":
        raise CarrierError(ErrorKind.BUSY, f"快递100 server error: {words}", code=code)
    raise CarrierError(ErrorKind.BAD_RESPONSE, f"快递100 answered returnCode {code[:10]}: {words}", code=code[:10])


def verify(param: str, given_sign: str, salt: str) -> bool:
    """Whether ``given_sign`` is 快递100's signature of ``param`` with our salt (constant time)."""
    return bool(salt) and hmac.compare_digest(sign(param, salt), given_sign.strip().upper())


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


_CN = ZoneInfo(KUAIDI100_TZ)


def _when(item: dict[str, Any]) -> datetime:
    raw = item.get("ftime") or item.get("time")
    if not isinstance(raw, str):
        raise BadPush("a data element has no time (ftime)")
    text = raw.strip()
    try:
        if len(text) != 19 or text[10] != " ":
            raise ValueError(text)
        dt = datetime.fromisoformat(text)  # yyyy-MM-dd HH:mm:ss, several times faster than strptime
    except ValueError:
        raise BadPush(f"time {raw[:30]!r} is not yyyy-MM-dd HH:mm:ss") from None
    return to_utc(dt.replace(tzinfo=_CN))


def _event_status(item: dict[str, Any]) -> tuple[str | None, str]:
    code = item.get("statusCode")
    if code not in (None, ""):
        st = status_of_code(code)
        if st is not None:
            return st, str(code)[:16]
    words = item.get("status")
    if isinstance(words, str) and words.strip():
        return STATE_WORDS.get(words.strip()), words.strip()[:16]
    return None, ""


def parse_push(param: str) -> TrackingPush:
    """Read a push's ``param`` (already verified) into our shape.

    Elements without a status (resultv2 off) take the push's ``state`` when they are the newest,
    and "in transit" otherwise ("collected" when the text says 揽收/收件).

    Raises:
        BadPush: not 快递100's JSON (no lastResult, no number, a time we cannot read).
    """
    try:
        body = json.loads(param)
    except ValueError:
        raise BadPush("param is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("lastResult"), dict):
        raise BadPush("param has no lastResult object")
    last = body["lastResult"]
    number = _text(last.get("nu"), 64).strip()
    if not number:
        raise BadPush("lastResult has no waybill number (nu)")
    data = last.get("data")
    if data is None:
        data = []
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise BadPush("lastResult.data is not a list of objects")
    state = status_of_code(last.get("state")) or ""
    events: list[TrackEvent] = []
    for i, item in enumerate(data[:MAX_EVENTS]):
        status, raw = _event_status(item)
        text = _text(item.get("context"), 500)
        if status is None:
            if i == 0 and state:
                status, raw = state, raw or f"state:{last.get('state')}"
            elif "揽收" in text or "已收件" in text or "已揽件" in text:
                status = "collected"
            else:
                status = "in_transit"
        events.append(TrackEvent(at=_when(item), place=_text(item.get("areaName"), 100), text=text,
                                 status=status, raw_code=raw))
    return TrackingPush(company=_text(last.get("com"), 32), number=number, state=state, events=tuple(events),
                        monitor=_text(body.get("status"), 16), message=_text(body.get("message"), 200))
