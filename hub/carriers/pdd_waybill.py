"""拼多多 电子面单: 拼多多's own e-waybill (电子面单云打印), for 拼多多 orders whose recipient is encrypted.

Built to 拼多多's API descriptions as the public SDKs carry them (docs/carriers-platforms.md names the
file of every field):

* **取号** ``pdd.waybill.get`` — one parameter ``param_waybill_cloud_print_apply_new_request``, a JSON
  object sent as JSON text in the form: ``wp_code`` (the carrier's code in 拼多多's list, as
  :data:`hub.channels.pinduoduo.CARRIER_CODES`), ``sender`` {address {province, city, district, town,
  detail, country}, name, mobile, phone}, ``need_encrypt`` (false: we read the routing data out of
  ``print_data``), ``trade_order_info_dtos`` [{``object_id`` (our order id: the request id the answer
  names), ``order_info`` {order_channels_type, trade_order_list [the 拼多多 order]}, ``package_info``
  {id, items [{name, count}]}, ``recipient`` {address, name, mobile, phone} — the order's ciphertext
  (``receiver_name``, ``receiver_phone``, ``receiver_address``) or plain text when the desk changed the
  address —, ``template_url``, ``user_id``}]. Answer ``pdd_waybill_get_response.modules`` [{object_id,
  waybill_code, parent_waybill_code, print_data}]; unencrypted ``print_data`` is the 打印组件's document
  data, whose ``routingInfo`` carries ``bigShotName`` (大头笔) and ``threeSegmentCode`` (三段码).
* **回收** ``pdd.waybill.cancel`` — ``wp_code``, ``waybill_code``; answer ``cancel_result``.

Signing, the router URL, ``access_token`` and the ``error_response`` mapping are the 拼多多
connector's (:meth:`hub.channels.pinduoduo.PinduoduoPlatform._call`), reached through
:class:`hub.carriers.platform_session.ShopSession`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from hub.carriers.base import (
    Address,
    CarrierAccount,
    CarrierError,
    ErrorKind,
    Routing,
    Waybill,
    WaybillProvider,
    WaybillRequest,
)
from hub.carriers.platform_session import (
    PlatformProvider,
    already_cancelled,
    describe,
    looks_masked,
    same_recipient,
)
from hub.channels import pinduoduo
from hub.channels.base import Platform, Token

log = logging.getLogger("packdesk.hub.carriers.pinduoduo")

NAME = "pinduoduo"
GET = "pdd.waybill.get"
CANCEL = "pdd.waybill.cancel"
REQUEST_PARAM = "param_waybill_cloud_print_apply_new_request"
#: 订单渠道平台编码 for an order of 拼多多 itself.
ORDER_CHANNEL = "PDD"


def _call(plat: Platform, token: Token, method: str, params: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(plat, pinduoduo.PinduoduoPlatform)
    return plat._call(method, params, token)  # the connector's signed router call, shared on purpose


class PddWaybillProvider(PlatformProvider):
    """拼多多's e-waybill (see the module docstring).

    Built like every provider, ``PddWaybillProvider(session, timeout_s=…)``, with the hub's token
    keeper from :func:`hub.carriers.platform_session.use_tokens` (or ``tokens=hub.connectors.tokens``);
    the account comes with each call. ``account.settings``:

    * ``connector_id`` (required): the shop's 拼多多 connector, whose app and token sign the calls;
    * ``wp_code`` (optional): 拼多多's carrier code when :data:`hub.channels.pinduoduo.CARRIER_CODES`
      has none or another one is wanted;
    * ``template_url`` (optional): the standard template (``pdd.cloudprint.stdtemplates.get``) the
      print data is made for;
    * ``user_id`` (optional): 使用者ID, in a shared-account setup.

    ``account.base_url``: the 拼多多 router URL (empty: the connector's).
    """

    name = NAME

    PLATFORM = pinduoduo.PinduoduoPlatform.NAME

    @staticmethod
    def _wp_code(account: CarrierAccount, carrier: str) -> str:
        codes = pinduoduo.CARRIER_CODES.get(carrier.upper(), ())
        code = account.settings.get("wp_code") or (codes[0] if codes else "")
        if not code:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"拼多多 has no carrier code we know for '{carrier}': set "
                               "wp_code in the carrier account's settings.", code="carrier")
        return code

    def fetch(self, account: CarrierAccount, req: WaybillRequest) -> Waybill:
        """``pdd.waybill.get`` for one order (see the module docstring)."""
        wp_code = self._wp_code(account, req.carrier)
        order = self.shop(account).platform_order(req, pinduoduo.PinduoduoPlatform.NAME, "拼多多")
        cipher = order.extra.get("pdd_ciphertext") or {}
        dto: dict[str, Any] = {
            "object_id": req.order_id,
            "order_info": {"order_channels_type": ORDER_CHANNEL, "trade_order_list": [req.channel_order_no]},
            "package_info": {"id": "1", "items": [{"name": (req.goods_name or "商品")[:60],
                                                    "count": max(1, req.quantity)}]},
            "recipient": self._recipient(req, cipher, same_recipient(req.recipient, order)),
        }
        if req.weight_g:
            dto["package_info"]["weight"] = str(req.weight_g)
        for key in ("template_url", "user_id"):
            if account.settings.get(key):
                dto[key] = account.settings[key]
        body = {"need_encrypt": False, "sender": _party(account.sender, {}), "wp_code": wp_code,
                "trade_order_info_dtos": [dto]}
        params = {REQUEST_PARAM: json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)}
        data = self.shop(account).call(lambda plat, token: _call(plat, token, GET, params))
        return self._waybill(data, req)

    @staticmethod
    def _recipient(req: WaybillRequest, cipher: dict[str, str], unchanged: bool) -> dict[str, Any]:
        if unchanged and cipher.get("receiver_address"):
            return _party(req.recipient, cipher)
        if looks_masked(req.recipient):
            raise CarrierError(ErrorKind.REFUSED, f"拼多多 gives no ciphertext for order {req.channel_order_no} that "
                               "matches the masked recipient we hold (it gives one only while the order waits for "
                               "shipment, and for its current address) and decrypts only its own: enter the full "
                               "address or print this one from the 拼多多 console.", code="no_ciphertext")
        return _party(req.recipient, {})

    @staticmethod
    def _waybill(data: dict[str, Any], req: WaybillRequest) -> Waybill:
        modules = [m for m in data.get("modules") or [] if isinstance(m, dict)]
        mine = [m for m in modules if str(m.get("object_id", "")) == req.order_id] or modules
        code = mine[0].get("waybill_code") if mine else None
        if not isinstance(code, str) or not code.strip():
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"拼多多 {GET} answered without a waybill_code for order "
                               f"{req.order_id}.", code="no_waybill_code")
        return Waybill(waybill_no=code.strip()[:64], carrier=req.carrier,
                       routing=routing_of(mine[0].get("print_data"), code.strip()))

    def cancel(self, account: CarrierAccount, carrier: str, waybill_no: str) -> None:
        """``pdd.waybill.cancel``; a waybill 拼多多 calls cancelled already counts as done."""
        params = {"wp_code": self._wp_code(account, carrier), "waybill_code": waybill_no}
        try:
            data = self.shop(account).call(lambda plat, token: _call(plat, token, CANCEL, params))
        except CarrierError as exc:
            if exc.kind is ErrorKind.REFUSED and already_cancelled(exc.message):
                log.info("拼多多 waybill %s was cancelled before (%s)", waybill_no, exc.code)
                return
            raise
        result = data.get("cancel_result")
        if not isinstance(result, bool):
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"拼多多 {CANCEL} answered without cancel_result.",
                               code="bad_shape")
        if not result:
            raise CarrierError(ErrorKind.REFUSED, f"拼多多 did not cancel waybill {waybill_no} (cancel_result is false: "
                               "collected already, or not this shop's).", code="not_cancelled")


def routing_of(print_data: Any, waybill_no: str) -> Routing:
    """大头笔 and 三段码 out of an unencrypted ``print_data``; empty when it carries none (encrypted,
    unreadable): the number is still good, the label then shows no routing block."""
    try:
        doc = json.loads(print_data) if isinstance(print_data, str) else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        log.warning("拼多多 print_data of waybill %s is not a JSON object: no routing data", waybill_no)
        return Routing()
    inner = doc.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else doc
    info = data.get("routingInfo")
    if not isinstance(info, dict):
        if "encryptedData" in doc:
            log.warning("拼多多 print_data of waybill %s is encrypted: no routing data", waybill_no)
        return Routing()
    return Routing(sort_code=describe(info.get("bigShotName"), 60),
                   route_code=describe(info.get("threeSegmentCode"), 60))


def _party(a: Address, cipher: dict[str, str]) -> dict[str, Any]:
    """A sender / recipient: {address, name, mobile, phone}; ``cipher`` replaces name, mobile and detail."""
    return {
        "address": {"country": "中国", "province": a.province, "city": a.city, "district": a.district, "town": "",
                    "detail": cipher.get("receiver_address") or a.address},
        "name": cipher.get("receiver_name") or a.name,
        "mobile": cipher.get("receiver_phone") or a.phone,
        "phone": "",
    }


PROVIDER = PddWaybillProvider


def _keeps_the_contract(p: PddWaybillProvider) -> WaybillProvider:
    return p  # mypy checks the class against hub.carriers.base.WaybillProvider here
