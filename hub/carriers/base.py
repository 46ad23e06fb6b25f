"""The contract between the hub and an e-waybill provider (电子面单).

A provider is a carrier's own API, an aggregator (快递鸟, 快递100, 菜鸟) or a shop platform's own
e-waybill service (抖店, 拼多多: needed when the buyer's address is encrypted and only the platform
can print it). The hub asks for one waybill per order with the order's real recipient, because the
routing data a Chinese label must carry (大头笔, 三段码, 集包地) depends on the address; it cancels
(回收) a waybill whose label was voided. Both calls run from the hub's persisted outbound queue,
never inside an intake or action transaction, so a slow provider never holds an order's write.

Errors reuse the connectors' :class:`hub.channels.base.ErrorKind` vocabulary: ``BUSY`` and
``BAD_RESPONSE`` are retried with back-off, ``REFUSED`` (e.g. the carrier does not deliver to this
address) is final and becomes a hold the desk resolves, ``BAD_CREDENTIALS`` stops the account and
tells the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hub.channels.base import ErrorKind, PlatformError

__all__ = ["Address", "CarrierAccount", "CarrierError", "ErrorKind", "Routing", "Waybill", "WaybillProvider",
           "WaybillRequest"]


class CarrierError(PlatformError):
    """A provider call that did not succeed; ``message`` is plain words without any secret."""


@dataclass(frozen=True)
class Address:
    """A sender or recipient as a waybill needs it (full text, the phone unmasked when we have it)."""

    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str
    postcode: str = ""


@dataclass(frozen=True)
class CarrierAccount:
    """One e-waybill account of the site: which provider serves which carrier, with its secrets.

    ``settings`` holds the provider's own keys (e.g. 快递鸟 ``EBusinessID`` / ``AppKey``, the
    carrier's monthly account ``CustomerName`` / ``CustomerPwd``); they are never logged or served.
    """

    account_id: int
    carrier: str  # the site's carrier code (ZTO, YTO, JD, ...), as in the rules file
    provider: str  # provider name in the registry: "demo", "kdniao", ...
    base_url: str  # every partner URL is a setting (a site may point at a sandbox)
    sender: Address
    settings: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class WaybillRequest:
    order_id: str
    carrier: str
    recipient: Address
    #: goods summary for the carrier (name of the first line, total quantity), weight when known
    goods_name: str
    quantity: int
    weight_g: int | None = None
    channel: str = ""
    channel_order_no: str = ""


@dataclass(frozen=True)
class Routing:
    """What the carrier's sorting centres read off the label (each "" when the provider gave none)."""

    sort_code: str = ""  # 大头笔 / mark destination, e.g. "沪西 浦东"
    route_code: str = ""  # 三段码 / sorting code, e.g. "200-A01 05"
    package_centre: str = ""  # 集包地 name, e.g. "上海转运中心"
    package_code: str = ""  # 集包编码
    routing_barcode: str = ""  # a carrier routing barcode printed beside the route code

    def as_doc(self, provider: str) -> dict[str, str]:
        """The order snapshot's ``waybill_routing`` (core/model.py Snapshot)."""
        return {"provider": provider, "sort_code": self.sort_code, "route_code": self.route_code,
                "package_centre": self.package_centre, "package_code": self.package_code,
                "routing_barcode": self.routing_barcode}


@dataclass(frozen=True)
class Waybill:
    waybill_no: str
    carrier: str
    routing: Routing = Routing()


class WaybillProvider(Protocol):
    """One provider adapter; instances are made per account and may keep an HTTP session."""

    name: str

    def fetch(self, account: CarrierAccount, req: WaybillRequest) -> Waybill:
        """Ask for a waybill for one order. The same ``order_id`` asked twice (a retry after a lost
        answer) must not cost two numbers where the provider dedupes by order code.

        Raises:
            CarrierError: see the module doc for what each kind makes the hub do.
        """
        ...

    def cancel(self, account: CarrierAccount, carrier: str, waybill_no: str) -> None:
        """Give a waybill back (回收). Already cancelled counts as success.

        Raises:
            CarrierError
        """
        ...
