"""快递鸟 (KDNiao) electronic waybill (电子面单) — the EOrderService API, built to its public docs and SDKs.

Sources (docs/carriers.md "快递鸟" lists each field and rule with its source):

* one form POST per call to the EOrderService endpoint (``account.base_url``, e.g.
  ``https://api.kdniao.com/api/EOrderService``; test ``http://testapi.kdniao.com:8081/api/EOrderService``)
  with the fields ``RequestData`` (the JSON, URL-encoded once), ``EBusinessID``, ``RequestType``
  (``1007`` order / waybill, ``1147`` cancel), ``DataSign`` and ``DataType=2`` (JSON answers);
* ``DataSign`` = URL-encode(Base64(lower-case hex MD5(RequestData + AppKey))), UTF-8, signed over
  the JSON *before* URL encoding. :func:`data_sign` is that rule; the unit test holds the public
  known-answer vector (``OWFhM2I5N2ViM2U2MGRkMjc4YzU2NmVlZWI3ZDk0MmE=``).
* the answer: ``Success``, ``ResultCode``, ``Reason`` and, on success, ``Order`` with
  ``LogisticCode`` (the waybill number), ``MarkDestination`` (大头笔), ``SortingCode`` (分拣编码 /
  三段码), ``PackageName`` (集包地), ``PackageCode`` (集包编码).

Dedupe: 快递鸟 keys an e-waybill order by ``OrderCode``; the queue sends the same code for a retry
(a lost answer gives back the same number) and a new one after a void (``BL…-2``). When the answer
says the code was used already (``ResultCode`` 105, "订单号已存在") *and* carries the order, its
number is taken; without the order it is a ``REFUSED`` the desk resolves (the hold's words say why).

Settings of an account (``CarrierAccount.settings``, never logged): ``EBusinessID`` and ``AppKey``
(required), ``CustomerName`` / ``CustomerPwd`` / ``MonthCode`` / ``SendSite`` (the carrier's
e-waybill customer account where that carrier needs it), ``PayType`` (default 3 = 月结),
``ExpType`` (default 1 = 标准快件), ``ShipperCode`` (overrides :data:`SHIPPER_CODES`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, ClassVar

import requests

from hub.carriers.base import CarrierAccount, CarrierError, ErrorKind, Routing, Waybill, WaybillRequest

NAME = "kdniao"
ORDER_REQUEST = "1007"
CANCEL_REQUEST = "1147"

#: PackDesk carrier code (rules file) -> 快递鸟 ShipperCode (快递鸟 company code list).
SHIPPER_CODES: dict[str, str] = {
    "ZTO": "ZTO", "YTO": "YTO", "STO": "STO", "YUNDA": "YD", "YD": "YD", "SF": "SF", "JD": "JD",
    "EMS": "EMS", "YZPY": "YZPY", "JT": "JTSD", "JTSD": "JTSD", "BEST": "HTKY", "HTKY": "HTKY", "DBL": "DBL",
}

#: Words in a refusal that mean our keys or the carrier account are wrong, not the order.
_CREDENTIAL_WORDS = ("签名", "DataSign", "EBusinessID", "AppKey", "商户", "用户ID", "客户号", "密码", "未授权",
                     "认证", "账号")
#: Words that mean "try again later" (the provider or the carrier's system is busy).
_BUSY_WORDS = ("繁忙", "超时", "稍后", "busy", "timeout", "系统异常", "系统错误")
#: The order code was used before (快递鸟's own dedupe answer).
DUPLICATE_CODE = "105"


def data_sign(request_data: str, app_key: str) -> str:
    """快递鸟's DataSign before its URL encoding: Base64 of the lower-case hex MD5 of RequestData + AppKey."""
    digest = hashlib.md5((request_data + app_key).encode("utf-8")).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def _address(a: Any) -> dict[str, str]:
    out = {"Name": a.name, "Mobile": a.phone, "ProvinceName": a.province, "CityName": a.city,
           "ExpAreaName": a.district, "Address": a.address}
    if a.postcode:
        out["PostCode"] = a.postcode
    return out


class KdniaoProvider:
    """One worker thread's 快递鸟 client (see the module docstring)."""

    name: ClassVar[str] = NAME
    LOCAL: ClassVar[bool] = False
    #: 快递鸟's cancel names the order code as well as the number (the queue passes ``order_code``).
    CANCEL_TAKES_ORDER_CODE: ClassVar[bool] = True

    def __init__(self, session: requests.Session, *, timeout_s: float = 10.0) -> None:
        self.session = session
        self.timeout_s = timeout_s

    # -- the calls -----------------------------------------------------------------------------
    def fetch(self, account: CarrierAccount, req: WaybillRequest) -> Waybill:
        s = account.settings
        pay_type = str(s.get("PayType") or "3")
        if pay_type not in ("1", "2", "3", "4"):
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, "The account's PayType setting must be 1 (现付), 2 (到付), "
                                                          "3 (月结) or 4 (第三方).")
        body: dict[str, Any] = {
            "OrderCode": req.order_id,
            "ShipperCode": self.shipper_code(account, req.carrier),
            "PayType": int(pay_type),
            "ExpType": str(s.get("ExpType") or "1"),
            "Sender": _address(account.sender),
            "Receiver": _address(req.recipient),
            "Commodity": [{"GoodsName": (req.goods_name or "商品")[:50], "Goodsquantity": max(1, req.quantity)}],
            "Quantity": 1,  # parcels: one waybill per order
            "IsReturnPrintTemplate": 0,  # PackDesk prints its own labels with the routing data
        }
        if req.weight_g:
            body["Weight"] = round(req.weight_g / 1000.0, 3)
        for key in ("CustomerName", "CustomerPwd", "MonthCode", "SendSite"):
            if s.get(key):
                body[key] = s[key]
        answer = self._call(account, ORDER_REQUEST, body)
        order = answer.get("Order")
        code = str(answer.get("ResultCode") or "")
        if answer.get("Success") is not True and not (code == DUPLICATE_CODE and isinstance(order, dict)):
            raise self._failure(answer, "fetch")
        if not isinstance(order, dict) or not isinstance(order.get("LogisticCode"), str) or not order["LogisticCode"]:
            raise CarrierError(ErrorKind.BAD_RESPONSE, "快递鸟 answered success without a waybill number (Order.LogisticCode).")
        no = order["LogisticCode"].strip()
        if len(no) > 40:
            raise CarrierError(ErrorKind.BAD_RESPONSE, "快递鸟 answered a waybill number longer than 40 characters.")

        def text(key: str) -> str:
            value = order.get(key)
            return str(value).strip() if isinstance(value, str | int) else ""

        routing = Routing(sort_code=text("MarkDestination"), route_code=text("SortingCode"),
                          package_centre=text("PackageName"), package_code=text("PackageCode"))
        return Waybill(waybill_no=no, carrier=req.carrier, routing=routing)

    def cancel(self, account: CarrierAccount, carrier: str, waybill_no: str, *, order_code: str = "") -> None:
        s = account.settings
        body: dict[str, Any] = {"ShipperCode": self.shipper_code(account, carrier), "OrderCode": order_code,
                                "ExpNo": waybill_no}
        for key in ("CustomerName", "CustomerPwd"):
            if s.get(key):
                body[key] = s[key]
        answer = self._call(account, CANCEL_REQUEST, body)
        if answer.get("Success") is not True:
            raise self._failure(answer, "cancel")

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def shipper_code(account: CarrierAccount, carrier: str) -> str:
        code = account.settings.get("ShipperCode") or SHIPPER_CODES.get(carrier.upper())
        if not code:
            raise CarrierError(ErrorKind.REFUSED, f"No 快递鸟 ShipperCode for carrier {carrier}: set the account's "
                                                  "ShipperCode setting.")
        return str(code)

    def _call(self, account: CarrierAccount, request_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """One signed form POST; the answer's JSON object. Never puts the body, the sign or a key in an error."""
        business_id = account.settings.get("EBusinessID") or ""
        app_key = account.settings.get("AppKey") or ""
        if not business_id or not app_key:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, "The 快递鸟 account lacks its EBusinessID or AppKey setting.")
        request_data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        form = {"RequestData": request_data, "EBusinessID": business_id, "RequestType": request_type,
                "DataSign": data_sign(request_data, app_key), "DataType": "2"}
        try:
            resp = self.session.post(account.base_url, data=form, timeout=self.timeout_s,
                                     headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        except requests.Timeout:
            raise CarrierError(ErrorKind.BUSY, f"快递鸟 did not answer within {self.timeout_s:g} s.") from None
        except requests.RequestException as exc:
            raise CarrierError(ErrorKind.BUSY, f"快递鸟 could not be reached ({type(exc).__name__}).") from None
        if resp.status_code == 429:
            raise CarrierError(ErrorKind.RATE_LIMITED, "快递鸟 is limiting calls (HTTP 429).", code="429")
        if resp.status_code >= 500:
            raise CarrierError(ErrorKind.BUSY, f"快递鸟 answered HTTP {resp.status_code}.", code=str(resp.status_code))
        if resp.status_code != 200:
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"快递鸟 answered HTTP {resp.status_code}: check the account's "
                                                       "base_url.", code=str(resp.status_code))
        try:
            answer = resp.json()
        except ValueError:
            raise CarrierError(ErrorKind.BAD_RESPONSE, "快递鸟's answer was not JSON.") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("Success"), bool):
            raise CarrierError(ErrorKind.BAD_RESPONSE, "快递鸟's answer has no Success field.")
        return answer

    @staticmethod
    def _failure(answer: dict[str, Any], what: str) -> CarrierError:
        """Success=false in plain words: whose problem it is decides the kind (module docstring)."""
        reason = str(answer.get("Reason") or "").strip()[:300] or "no reason given"
        code = str(answer.get("ResultCode") or "")
        words = f"快递鸟 refused the {what}: {reason}"
        if any(w.lower() in reason.lower() for w in _BUSY_WORDS):
            return CarrierError(ErrorKind.BUSY, words, code=code)
        if any(w.lower() in reason.lower() for w in _CREDENTIAL_WORDS):
            return CarrierError(ErrorKind.BAD_CREDENTIALS, words, code=code)
        if code == DUPLICATE_CODE:
            return CarrierError(ErrorKind.REFUSED, words + " (this order code was used before and 快递鸟 did not give "
                                "its number back: choose the carrier again to ask with a new code)", code=code)
        return CarrierError(ErrorKind.REFUSED, words, code=code)


PROVIDER = KdniaoProvider
