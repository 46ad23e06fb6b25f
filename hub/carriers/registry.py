"""Provider name → adapter class: the one place a new e-waybill provider is wired in.

A carrier account (``carrier_accounts.provider``, hub/carriers/store.py) names its provider here.
Every class is built the same way, ``cls(session, timeout_s=…)`` (one instance per worker thread,
reused for every account of that provider: the account is passed to each call), and implements
:class:`hub.carriers.base.WaybillProvider`.

A provider whose class says ``LOCAL = True`` (the demo counter) makes no network call: the hub
numbers the order with it inside the allocation transaction (:func:`hub.orders.assign_waybill`).
Every other provider is called only from the outbound queue's worker (hub/carriers/worker.py).

To add a provider (e.g. the shop platforms' own e-waybill services, 抖店 / 拼多多): add its module
here — ``"douyin": "hub.carriers.douyin_waybill"`` — whose ``PROVIDER`` is the class.
"""

from __future__ import annotations

import importlib
from typing import Any

import requests

from hub.carriers.base import WaybillProvider

#: provider name -> module that defines ``PROVIDER`` (its WaybillProvider class).
PROVIDER_MODULES: dict[str, str] = {
    "demo": "hub.carriers.demo",
    "kdniao": "hub.carriers.kdniao",
    # the shops' own e-waybills (buyer data encrypted: only the platform can print it), docs/carriers-platforms.md
    "douyin": "hub.carriers.douyin_waybill",
    "pinduoduo": "hub.carriers.pdd_waybill",
}

#: The provider of a carrier that has no account: numbers made up at allocation, for demo installs
#: and offline tests only (no carrier accepts them).
DEFAULT_PROVIDER = "demo"


def provider_class(name: str) -> Any:
    """The provider class for ``name``; ``KeyError`` for a provider PackDesk has no adapter for."""
    module = importlib.import_module(PROVIDER_MODULES[name])
    return module.PROVIDER


def is_local(name: str) -> bool:
    """Whether the provider numbers without a network call (in the allocation transaction)."""
    return bool(getattr(provider_class(name), "LOCAL", False))


def make_provider(name: str, session: requests.Session, *, timeout_s: float = 10.0) -> WaybillProvider:
    provider: WaybillProvider = provider_class(name)(session, timeout_s=timeout_s)
    return provider
