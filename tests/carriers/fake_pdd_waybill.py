"""The fake 拼多多 open platform (tests/channels/fake_pinduoduo.py) with its e-waybill calls added.

The router URL, the MD5 sign over every form parameter, the timestamp window and the client check are
the channel fake's, unchanged; this class adds the two waybill methods (which need a live
``access_token``) behind them. Written from the SDK shapes listed in docs/carriers-platforms.md, not
from hub/carriers/pdd_waybill.py:

* ``pdd.waybill.get``: ``param_waybill_cloud_print_apply_new_request`` is JSON text; ``wp_code``,
  ``sender`` and ``trade_order_info_dtos`` (at most 10) are required, each dto with ``object_id``
  and ``recipient``. The recipient's name / mobile / address detail are each the order's own
  ciphertext (decrypted by the platform) or plain text; another order's ciphertext or masked text is
  refused. ``print_data`` is the 打印组件 document data, with ``routingInfo`` when ``need_encrypt`` is
  false and ``{encryptedData, signature, templateUrl, ver}`` when true. An ``object_id`` asked again
  while its waybill is live gets the same number (an assumption: see the doc).
* ``pdd.waybill.cancel``: ``wp_code`` + ``waybill_code`` → ``cancel_result``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.channels.fake_pinduoduo import FakePinduoduo

WAYBILL_METHODS = ("pdd.waybill.get", "pdd.waybill.cancel")
ROUTING_INFO = {"bigShotName": "755 南山", "bigShotCode": "755NS", "originBranchCode": "", "originBranchName": "",
                "endBranchCode": "518057", "endBranchName": "南山科技园", "threeSegmentCode": "755-W12 30"}


def _error(code: int, msg: str) -> dict[str, Any]:
    return {"error_response": {"error_code": code, "error_msg": msg, "sub_code": str(code), "sub_msg": "",
                               "request_id": "fake-waybill"}}


class FakePddWaybill(FakePinduoduo):
    """A 拼多多 shop that also issues e-waybills (see the module docstring)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._numbers = itertools.count(7_5500_0000_0001)
        #: waybill_code -> {"object_id", "order_sn", "wp_code", "cancelled"}
        self.waybills: dict[str, dict[str, Any]] = {}
        self.refused_areas: set[str] = set()
        self.recipients: list[dict[str, Any]] = []
        self.encrypt_print_data = False
        #: (method, form) of every waybill call that passed the gateway's checks, for wire assertions
        self.forms: list[tuple[str, dict[str, str]]] = []

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._access:
                self._access[token] = self.now()

    def live_waybills(self) -> list[str]:
        with self._lock:
            return [no for no, w in self.waybills.items() if not w["cancelled"]]

    def _check(self, params: dict[str, str], method: str) -> str | None:
        problem = super()._check(params, method)
        if problem is None and method in WAYBILL_METHODS:
            with self._lock:
                expires = self._access.get(params.get("access_token", ""))
            if expires is None or expires <= self.now():
                return "token_expired"
        return problem

    def _route(self, method: str, p: dict[str, str]) -> dict[str, Any]:
        if method in WAYBILL_METHODS:
            self.forms.append((method, dict(p)))
        if method == "pdd.waybill.get":
            return self._get(p)
        if method == "pdd.waybill.cancel":
            return self._cancel(p)
        return super()._route(method, p)

    def _get(self, p: dict[str, str]) -> dict[str, Any]:
        try:
            req = json.loads(p["param_waybill_cloud_print_apply_new_request"])
        except (KeyError, ValueError):
            return _error(10000, "参数错误：param_waybill_cloud_print_apply_new_request 须为 JSON")
        dtos = req.get("trade_order_info_dtos")
        if not req.get("wp_code") or not isinstance(req.get("sender"), dict) or not isinstance(dtos, list) \
                or not 1 <= len(dtos) <= 10:
            return _error(10000, "参数错误：wp_code、sender、trade_order_info_dtos 为必填")
        modules = []
        for dto in dtos:
            object_id, recipient = dto.get("object_id"), dto.get("recipient")
            if not object_id or not isinstance(recipient, dict):
                return _error(10000, "参数错误：object_id、recipient 为必填")
            orders = (dto.get("order_info") or {}).get("trade_order_list") or []
            problem = self._recipient_problem(orders[0] if orders else "", recipient)
            if problem is not None:
                return _error(*problem)
            live = next((c for c, w in self.waybills.items() if w["object_id"] == object_id
                         and w["wp_code"] == req["wp_code"] and not w["cancelled"]), None)
            code = live or str(next(self._numbers))
            if live is None:
                self.waybills[code] = {"object_id": object_id, "order_sn": orders[0] if orders else "",
                                       "wp_code": req["wp_code"], "cancelled": False}
                self.recipients.append(recipient)
            modules.append({"object_id": object_id, "waybill_code": code, "parent_waybill_code": "",
                            "print_data": self._print_data(code, req, dto)})
        return {"pdd_waybill_get_response": {"modules": modules}}

    def _print_data(self, code: str, req: dict[str, Any], dto: dict[str, Any]) -> str:
        template = dto.get("template_url") or "https://file-link.pinduoduo.com/" + req["wp_code"].lower() + "_one"
        if req.get("need_encrypt") or self.encrypt_print_data:
            doc: dict[str, Any] = {"encryptedData": "ZmFrZQ==", "signature": "fake", "templateUrl": template,
                                   "ver": "3"}
        else:
            doc = {"data": {"recipient": {"address": {"province": "广东省", "city": "深圳市", "district": "南山区",
                                                      "detail": "科技园南路**号"},
                                          "name": "张*", "mobile": "138****5678"},
                            "routingInfo": ROUTING_INFO, "sender": req["sender"], "waybillCode": code,
                            "wpCode": req["wp_code"]},
                   "signature": "fake", "templateUrl": template}
        return json.dumps(doc, ensure_ascii=False)

    def _recipient_problem(self, order_sn: str, recipient: dict[str, Any]) -> tuple[int, str] | None:
        order = self._orders.get(order_sn)
        if order is None:
            return (20001, "订单不属于当前店铺或订单不存在")
        info = self._order_info(order)
        own = {"name": info["receiver_name"], "mobile": info["receiver_phone"], "detail": info["receiver_address"]}
        address = recipient.get("address") or {}
        given = {"name": str(recipient.get("name", "")), "mobile": str(recipient.get("mobile", "")),
                 "detail": str(address.get("detail", ""))}
        for field, value in given.items():
            if not value:
                return (10000, f"参数错误：收件人{field}不能为空")
            if value.startswith("~") and value != own[field]:
                return (50101, "收件人密文解密失败")
            if "*" in value:
                return (50102, "收件人信息为脱敏数据")
        if address.get("district") in self.refused_areas:
            return (50103, "收件地址超出快递公司服务范围，不可达")
        return None

    def _cancel(self, p: dict[str, str]) -> dict[str, Any]:
        waybill = self.waybills.get(p.get("waybill_code", ""))
        if not p.get("wp_code") or waybill is None or waybill["wp_code"] != p["wp_code"]:
            return _error(50201, "面单号不存在")
        if waybill["cancelled"]:
            return _error(50202, "面单已回收，不能重复取消")
        waybill["cancelled"] = True
        return {"pdd_waybill_cancel_response": {"cancel_result": True}}
