"""抖店 电子面单: the 抖店 open platform's own e-waybill, for 抖店 orders whose recipient is encrypted.

Built to the official doudian SDKs (docs/carriers-platforms.md names the file of every field):

* **取号** ``logistics.newCreateOrder`` — ``sender_info`` {``address`` {country_code, province_name,
  city_name, district_name, detail_address}, ``contact`` {name, mobile}}, ``logistics_code`` (抖店's
  carrier code, as :data:`hub.channels.douyin.CARRIER_CODES`), ``order_infos`` [{``order_id`` (the 抖店
  order: the platform decrypts its recipient), ``receiver_info`` {address, contact} — the order's
  ciphertext (``encrypt_post_receiver``, ``encrypt_post_tel``, ``post_addr.encrypt_detail``: "剩余详细地址，
  支持密文"), or plain text when the desk changed the address —, ``items`` [{item_name, item_count}],
  optional ``net_info``}]. Answer ``data.ebill_infos`` [{order_id, track_no, sort_code (三段码),
  short_address_code / short_address_name (大头笔), package_center_code / package_center_name (集包地)}]
  and ``data.err_infos`` [{order_id, err_code, err_msg}] for the orders that got none.
* **回收** ``logistics.cancelOrder`` — ``logistics_code``, ``track_no``; answer
  ``data.cancel_result.success``.

The call itself (URL, ``param_json``, sign, ``access_token``, the platform's error codes) is the 抖店
connector's :meth:`hub.channels.douyin.DouyinPlatform.request`, reached through
:class:`hub.carriers.platform_session.ShopSession`.
"""

from __future__ import annotations

import logging
import re
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
    refusal_kind,
    same_recipient,
)
from hub.channels import douyin
from hub.channels.base import Platform, Token

log = logging.getLogger("packdesk.hub.carriers.douyin")

NAME = "douyin"
CREATE = "logistics.newCreateOrder"
CANCEL = "logistics.cancelOrder"


def _request(plat: Platform, token: Token, method: str, params: dict[str, Any]) -> Any:
    assert isinstance(plat, douyin.DouyinPlatform)
    return plat.request(method, params, token)


class DouyinWaybillProvider(PlatformProvider):
    """抖店's e-waybill (see the module docstring).

    Built like every provider, ``DouyinWaybillProvider(session, timeout_s=…)``, with the hub's token
    keeper from :func:`hub.carriers.platform_session.use_tokens` (or ``tokens=hub.connectors.tokens``);
    the account comes with each call. ``account.settings``:

    * ``connector_id`` (required): the shop's 抖店 connector, whose app and token sign the calls;
    * ``logistics_code`` (optional): 抖店's carrier code when :data:`hub.channels.douyin.CARRIER_CODES`
      has none or another one is wanted;
    * ``net_category`` / ``net_code`` (optional): the 加盟 net site the shop subscribed to (``net_info``);
    * ``user_id`` (optional): the shop id actually using the waybill, in a shared-account setup.

    ``account.base_url``: the 抖店 API root (empty: the connector's).
    """

    name = NAME

    PLATFORM = douyin.DouyinPlatform.NAME

    def _logistics_code(self, account: CarrierAccount, carrier: str) -> str:
        code = account.settings.get("logistics_code") or douyin.CARRIER_CODES.get(carrier.upper(), "")
        if not code:
            raise CarrierError(ErrorKind.BAD_CREDENTIALS, f"抖店 has no carrier code we know for '{carrier}': set "
                               "logistics_code in the carrier account's settings.", code="carrier")
        return code

    def fetch(self, account: CarrierAccount, req: WaybillRequest) -> Waybill:
        """``logistics.newCreateOrder`` for one order (see the module docstring)."""
        code = self._logistics_code(account, req.carrier)
        order = self.shop(account).platform_order(req, douyin.DouyinPlatform.NAME, "抖店")
        no = req.channel_order_no
        pack = pack_id(req.order_id)
        info: dict[str, Any] = {
            "order_id": no,
            "pack_id": pack,
            "receiver_info": self._receiver(req, order.extra.get("encrypted") or {}, same_recipient(req.recipient,
                                                                                                    order)),
            "items": [{"item_name": (req.goods_name or "商品")[:60], "item_count": max(1, req.quantity)}],
        }
        if account.settings.get("net_code"):
            info["net_info"] = {"category": account.settings.get("net_category", ""),
                                "net_code": account.settings["net_code"]}
        params: dict[str, Any] = {"sender_info": _party(account.sender, cipher={}), "logistics_code": code,
                                  "order_infos": [info]}
        if account.settings.get("user_id", "").strip().lstrip("-").isdigit():
            params["user_id"] = int(account.settings["user_id"])
        data = self.shop(account).call(lambda plat, token: _request(plat, token, CREATE, params))
        return self._waybill(data, no, pack, req.carrier)

    @staticmethod
    def _receiver(req: WaybillRequest, cipher: dict[str, str], unchanged: bool) -> dict[str, Any]:
        if unchanged and cipher:
            return _party(req.recipient, cipher=cipher)
        if looks_masked(req.recipient):
            raise CarrierError(ErrorKind.REFUSED, f"The masked recipient we hold for 抖店 order {req.channel_order_no} "
                               "is not 抖店's current one (the buyer changed it: the next pull brings it in; or it "
                               "was edited here) and 抖店 decrypts only its own: enter the full address or print "
                               "this one from the 抖店 console.", code="no_ciphertext")
        return _party(req.recipient, cipher={})

    def _waybill(self, data: Any, order_no: str, pack: str, carrier: str) -> Waybill:
        if not isinstance(data, dict):
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"抖店 {CREATE} answered without a data object.",
                               code="bad_shape")
        for err in data.get("err_infos") or []:
            if isinstance(err, dict) and str(err.get("order_id", order_no)) == order_no:
                said = describe(err.get("err_msg")) or "no reason given"
                raise CarrierError(refusal_kind(said), f"抖店 gave no waybill for order {order_no}: {said}.",
                                   code=f"err_{describe(err.get('err_code'), 20)}")
        infos = [e for e in data.get("ebill_infos") or [] if isinstance(e, dict)]
        mine = [e for e in infos if str(e.get("order_id", "")) == order_no
                and str(e.get("pack_id") or pack) == pack] or infos
        if not mine or not isinstance(mine[0].get("track_no"), str) or not mine[0]["track_no"].strip():
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"抖店 {CREATE} answered without a track_no for order "
                               f"{order_no}.", code="no_track_no")
        e = mine[0]
        routing = Routing(sort_code=describe(e.get("short_address_name"), 60),
                          route_code=describe(e.get("sort_code"), 60),
                          package_centre=describe(e.get("package_center_name"), 60),
                          package_code=describe(e.get("package_center_code"), 60))
        return Waybill(waybill_no=e["track_no"].strip()[:64], carrier=carrier, routing=routing)

    def cancel(self, account: CarrierAccount, carrier: str, waybill_no: str) -> None:
        """``logistics.cancelOrder``; a waybill 抖店 calls cancelled already counts as done."""
        params = {"logistics_code": self._logistics_code(account, carrier), "track_no": waybill_no}
        try:
            data = self.shop(account).call(lambda plat, token: _request(plat, token, CANCEL, params))
        except CarrierError as exc:
            if exc.kind is ErrorKind.REFUSED and already_cancelled(exc.message):
                log.info("抖店 waybill %s was cancelled before (%s)", waybill_no, exc.code)
                return
            raise
        result = data.get("cancel_result") if isinstance(data, dict) else None
        if not isinstance(result, dict) or not isinstance(result.get("success"), bool):
            raise CarrierError(ErrorKind.BAD_RESPONSE, f"抖店 {CANCEL} answered without cancel_result.success.",
                               code="bad_shape")
        if not result["success"]:
            raise CarrierError(ErrorKind.REFUSED, f"抖店 did not cancel waybill {waybill_no} (cancel_result.success is "
                               "false: collected already, or not this shop's).", code="not_cancelled")


def pack_id(order_code: str) -> str:
    """抖店's ``pack_id`` for a queue order code (``BL20260222-008632``, ``BL20260222-008632-2`` after a
    void): digits, letters and ``_`` only, as 抖店 allows. One code, one pack_id: a retry after a lost
    answer asks for the same package; the fetch after a void asks for a new one, so it can never be
    handed the old number still waiting for its cancel."""
    return re.sub(r"[^0-9A-Za-z_]", "_", order_code)[:64]


def _party(a: Address, *, cipher: dict[str, str]) -> dict[str, Any]:
    """A sender_info / receiver_info: {address, contact}; ``cipher`` replaces name, mobile and detail."""
    return {
        "address": {"country_code": "CHN", "province_name": a.province, "city_name": a.city,
                    "district_name": a.district,
                    "detail_address": cipher.get("encrypt_detail") or a.address},
        "contact": {"name": cipher.get("encrypt_post_receiver") or a.name,
                    "mobile": cipher.get("encrypt_post_tel") or a.phone},
    }


PROVIDER = DouyinWaybillProvider


def _keeps_the_contract(p: DouyinWaybillProvider) -> WaybillProvider:
    return p  # mypy checks the class against hub.carriers.base.WaybillProvider here
