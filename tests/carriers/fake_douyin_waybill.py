"""The fake 抖店 open platform (tests/channels/fake_douyin.py) with its e-waybill calls added.

Everything the channel fake checks — the sign over ``param_json`` (MD5 or HMAC-SHA256), ``v=2``, the
timestamp window, a live ``access_token`` — is checked here too, by the same code (this class only
adds two methods behind those checks). Written from the SDK shapes listed in
docs/carriers-platforms.md, not from hub/carriers/douyin_waybill.py:

* ``logistics.newCreateOrder``: ``sender_info`` and ``logistics_code`` required; each ``order_infos``
  item needs ``order_id`` and ``receiver_info``. The receiver's name / mobile / detail must each be
  either the order's own ciphertext (the platform decrypts it) or plain text; ciphertext of another
  order, or masked text (``*``), is refused. A district the carrier does not serve (:meth:`refuse_area`)
  comes back in ``err_infos``. An order + ``pack_id`` asked again while its waybill is live gets the
  same ``track_no`` (an assumption: see the doc); another ``pack_id`` is another package.
* ``logistics.cancelOrder``: ``logistics_code`` + ``track_no``; a cancelled waybill cancelled again is
  answered with a business error saying so; a waybill it never issued, likewise.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.channels.fake_douyin import FakeDouyinShop, _answer

#: What the fake puts on every waybill (a Hangzhou destination, as its orders have).
ROUTING = {"sort_code": "571-A01 05", "short_address_code": "571XH", "short_address_name": "杭州西湖",
           "package_center_code": "571000", "package_center_name": "杭州转运中心"}

WAYBILL_METHODS = ("logistics.newCreateOrder", "logistics.cancelOrder")


class FakeDouyinWaybill(FakeDouyinShop):
    """A 抖店 shop that also issues e-waybills (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._numbers = itertools.count(7_7000_0000_0001)
        #: track_no -> {"order_id", "logistics_code", "cancelled", "receiver"}
        self.waybills: dict[str, dict[str, Any]] = {}
        self._refused_areas: set[str] = set()
        #: the receiver_info of every accepted create, as sent (to see what was decrypted)
        self.receivers: list[dict[str, Any]] = []

    def refuse_area(self, district: str) -> None:
        """The carrier does not deliver to this district (区/县) any more."""
        with self._lock:
            self._refused_areas.add(district)

    def live_waybills(self) -> list[str]:
        with self._lock:
            return [no for no, w in self.waybills.items() if not w["cancelled"]]

    def _handle(self, method: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        if method not in WAYBILL_METHODS:
            return super()._handle(method, query, body)
        refusal = self._check_request(method, query, body) or self._token_refusal(query.get("access_token", ""))
        if refusal is not None:
            return refusal
        params = json.loads(body)
        if method == "logistics.newCreateOrder":
            return self._create(params)
        return self._cancel(params)

    def _token_refusal(self, token: str) -> dict[str, Any] | None:
        if not token:
            return _answer(40001, "isv.access-token-missing", "认证失败，access_token不能为空")
        if token not in self.tokens:
            return _answer(40003, "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问")
        if self.tokens[token] <= self.now():
            return _answer(40003, "isv.access-token-expired", "access_token已过期")
        return None

    def _create(self, p: dict[str, Any]) -> dict[str, Any]:
        sender, code, infos = p.get("sender_info"), p.get("logistics_code"), p.get("order_infos")
        if not isinstance(sender, dict) or not code or not isinstance(infos, list) or not infos:
            return _answer(40004, "isv.parameter-invalid", "sender_info、logistics_code、order_infos 为必填")
        ebills, errs = [], []
        for info in infos:
            no = str(info.get("order_id", "")) if isinstance(info, dict) else ""
            receiver = info.get("receiver_info") if isinstance(info, dict) else None
            if not no or not isinstance(receiver, dict):
                return _answer(40004, "isv.parameter-invalid", "order_id、receiver_info 为必填")
            problem = self._receiver_problem(no, receiver)
            if problem is not None:
                errs.append({"order_id": no, "pack_id": "", "err_code": problem[0], "err_msg": problem[1]})
                continue
            pack = str(info.get("pack_id") or "")
            if pack and not pack.replace("_", "").isalnum():
                return _answer(40004, "isv.parameter-invalid", "pack_id 只能传入数字、字母和下划线")
            live = next((t for t, w in self.waybills.items() if w["order_id"] == no and w["pack_id"] == pack
                         and w["logistics_code"] == code and not w["cancelled"]), None)
            track = live or f"JT{next(self._numbers)}"
            if live is None:
                self.waybills[track] = {"order_id": no, "pack_id": pack, "logistics_code": code, "cancelled": False}
                self.receivers.append(receiver)
            ebills.append({"order_id": no, "pack_id": pack, "company": code, "track_no": track, "hint_msg": "",
                           "extra_resp": "", "sub_waybill_codes": "", "order_channel": "", "shipping_code": "",
                           **ROUTING})
        return _answer(10000, data={"ebill_infos": ebills, "err_infos": errs})

    def _receiver_problem(self, no: str, receiver: dict[str, Any]) -> tuple[str, str] | None:
        order = self.orders.get(no)
        if order is None:
            return ("100003", "订单不存在")
        contact, address = receiver.get("contact") or {}, receiver.get("address") or {}
        own = {"name": order["encrypt_post_receiver"], "mobile": order["encrypt_post_tel"],
               "detail_address": order["post_addr"]["encrypt_detail"]}
        given = {"name": str(contact.get("name", "")), "mobile": str(contact.get("mobile", "")),
                 "detail_address": str(address.get("detail_address", ""))}
        for field, value in given.items():
            if not value:
                return ("100001", f"收件人{field}不能为空")
            if value[0] in "#$~" and value != own[field]:
                return ("100002", "收件人密文与订单不匹配，解密失败")
            if "*" in value:
                return ("100004", "收件人信息为脱敏数据，不能取号")
        if address.get("district_name") in self._refused_areas:
            return ("200011", "该地址超区，快递公司不支持派送")
        return None

    def _cancel(self, p: dict[str, Any]) -> dict[str, Any]:
        code, track = p.get("logistics_code"), str(p.get("track_no", ""))
        if not code or not track:
            return _answer(40004, "isv.parameter-invalid", "logistics_code、track_no 为必填")
        waybill = self.waybills.get(track)
        if waybill is None or waybill["logistics_code"] != code:
            return _answer(50002, "isv.business-failed", "运单号不存在")
        if waybill["cancelled"]:
            return _answer(50002, "isv.business-failed", "运单已取消，不能重复取消")
        waybill["cancelled"] = True
        return _answer(10000, data={"cancel_result": {"success": True}})
