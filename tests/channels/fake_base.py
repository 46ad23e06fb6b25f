"""What every fake shop platform here shares: its orders, its clock, the failure queue and the HTTP
server — the :class:`tests.helpers.fake_shop.FakeShop` control surface. The platform's own request
and answer shapes, and its signing, stay in each ``fake_<platform>.py``."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.fake_http import FakeHTTPServer
from tests.helpers.fake_shop import Failure, ShippedRecord, ShopCalls, ShopStatus


@dataclass
class ShopOrder:
    """An order on the fake shop; times in the shop's clock, unix seconds."""

    order_no: str
    status: str
    created: float
    updated: float
    skus: list[tuple[str, int]]
    paid: float = 0.0
    refuse_ship: bool = False
    #: What the platform recorded as shipped, in its own shape (a package, a tracking number…).
    packages: list[dict[str, Any]] = field(default_factory=list)


class FakeShopBase:
    """The shared half of a fake shop; a subclass answers requests in :meth:`answer`."""

    platform: str  # set by each subclass

    def __init__(self) -> None:
        self.clock_offset_s = 0.0
        self.shipped: list[ShippedRecord] = []
        self.calls = ShopCalls()
        self.slow_s = 3.0  # a "slow" answer waits this long (longer than the client's timeout in tests)
        self.orders: dict[str, ShopOrder] = {}
        self._failures: list[list[Any]] = []  # [failure, times left, method or None]
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.server = FakeHTTPServer(self._serve, http11=True)
        self.url = self.server.url

    def now(self) -> float:
        """The shop's clock (``clock_offset_s`` off ours)."""
        return time.time() + self.clock_offset_s

    def _at(self, when: datetime | None) -> float:
        return when.timestamp() if when is not None else self.now()

    def add_order(self, order_no: str, *, status: ShopStatus = "paid", updated_at: datetime | None = None,
                  skus: list[tuple[str, int]] | None = None) -> None:
        at = self._at(updated_at)
        with self._lock:
            self.orders[order_no] = ShopOrder(order_no, status, at, at, skus or [("SKU-A", 1)],
                                              paid=at if status != "unpaid" else 0.0)

    def set_status(self, order_no: str, status: ShopStatus, *, updated_at: datetime | None = None) -> None:
        with self._lock:
            order = self.orders[order_no]
            order.status = status
            order.updated = max(self._at(updated_at), order.updated)
            if status == "paid" and not order.paid:
                order.paid = order.updated

    def fail_next(self, failure: Failure, *, times: int = 1, method: str | None = None) -> None:
        with self._lock:
            self._failures.append([failure, times, method])

    def refuse_ship(self, order_no: str) -> None:
        with self._lock:
            self.orders[order_no].refuse_ship = True

    def close(self) -> None:
        self._release.set()
        self.server.close()

    def take_failure(self, name: str) -> str | None:
        """The failure queued for this call (by the platform's method name), if any; a "slow" one
        is served here (the answer comes after ``slow_s``) and reported as None."""
        self.calls.names.append(name)
        failure = None
        with self._lock:
            for entry in self._failures:
                if entry[2] is None or entry[2] == name:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._failures.remove(entry)
                    failure = str(entry[0])
                    break
        if failure == "slow":
            self._release.wait(self.slow_s)
            return None
        return failure

    def _serve(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        # headers and body leave in two writes: without this, Nagle + the client's delayed ACK add
        # 40 ms to every answer on a kept-alive connection (WeChat needs one detail call per order)
        h.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.answer(h, raw)

    def answer(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        raise NotImplementedError
