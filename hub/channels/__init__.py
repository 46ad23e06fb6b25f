"""Shop connectors: the hub pulls and receives orders from the shop platforms itself and writes
shipments back (docs/channels.md). ``base`` is the contract between the shared engine and the
per-platform modules; :func:`platform_class` finds a platform's module by name."""

from __future__ import annotations

import importlib

from hub.channels.base import Platform

#: platform name -> module that defines ``PLATFORM`` (its :class:`~hub.channels.base.Platform` class).
PLATFORM_MODULES: dict[str, str] = {
    "douyin": "hub.channels.douyin",
    "pinduoduo": "hub.channels.pinduoduo",
    "wechat": "hub.channels.wechat",
    "xiaohongshu": "hub.channels.xiaohongshu",
}


def platform_class(name: str) -> type[Platform]:
    """The Platform class for ``name``; ``KeyError`` for a platform PackDesk has no connector for."""
    module = importlib.import_module(PLATFORM_MODULES[name])
    cls: type[Platform] = module.PLATFORM
    return cls
