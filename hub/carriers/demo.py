"""The demo / offline-test e-waybill provider: a local counter per carrier, numbers no carrier knows.

This is what the hub always did (``prefix + counter`` at allocation) and stays the provider of every
carrier that has no account (:data:`hub.carriers.registry.DEFAULT_PROVIDER`), so a demo install and
the tests print labels without any carrier. It carries no routing data: a demo label has no 大头笔
or 三段码, and its snapshot has no ``waybill_routing`` — nothing on it may pass for a carrier's.

It is ``LOCAL``: the hub numbers with :func:`number` inside the allocation transaction (the counter
row is taken in that transaction, so a number is never handed out twice). :meth:`DemoProvider.fetch`
exists for the contract only: the queue never calls a local provider.
"""

from __future__ import annotations

from typing import ClassVar

import requests
from sqlalchemy.engine import Connection

from hub import db
from hub.carriers.base import CarrierAccount, CarrierError, ErrorKind, Waybill, WaybillRequest

NAME = "demo"


def number(conn: Connection, prefix: str, carrier: str, start: int) -> str:
    """The carrier's next demo number (a counter row: never handed out twice)."""
    n = db.next_counter(conn, f"waybill:{carrier}")
    return f"{prefix}{start + n}"


def numbers(conn: Connection, prefix: str, carrier: str, start: int, count: int) -> list[str]:
    """The carrier's next ``count`` demo numbers in one counter update (a push's orders: one row lock)."""
    last = db.next_counter(conn, f"waybill:{carrier}", count)
    return [f"{prefix}{start + n}" for n in range(last - count + 1, last + 1)]


class DemoProvider:
    name: ClassVar[str] = NAME
    LOCAL: ClassVar[bool] = True

    def __init__(self, session: requests.Session | None = None, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def fetch(self, account: CarrierAccount, req: WaybillRequest) -> Waybill:
        raise CarrierError(ErrorKind.REFUSED, "The demo provider numbers orders at allocation, not from the queue.")

    def cancel(self, account: CarrierAccount, carrier: str, waybill_no: str) -> None:
        """A demo number is known to nobody: giving it back is nothing to do."""


PROVIDER = DemoProvider
