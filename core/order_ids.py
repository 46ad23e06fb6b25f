"""Order IDs: ``<PREFIX><YYYYMMDD>-<6-digit daily sequence>``, e.g. ``BL20260222-008632``.

The hub assigns them from a per-(prefix, day) counter held in its database, so an ID is never
reused; the day is the site's local date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationFailed

ORDER_ID_RE = re.compile(r"^(?P<prefix>[A-Z]{1,6})(?P<day>\d{8})-(?P<seq>\d{6})$")
PREFIX_RE = re.compile(r"^[A-Z]{1,6}$")
MAX_DAILY_SEQ = 999_999


@dataclass(frozen=True)
class OrderId:
    prefix: str
    day: date
    seq: int

    def __str__(self) -> str:
        return format_order_id(self.prefix, self.day, self.seq)


def format_order_id(prefix: str, day: date, seq: int) -> str:
    """Build an order ID; raises ValidationFailed for a bad prefix or a sequence out of range."""
    if not PREFIX_RE.match(prefix):
        raise ValidationFailed(f"Order ID prefix {prefix!r} must be 1-6 capital letters A-Z.")
    if not 1 <= seq <= MAX_DAILY_SEQ:
        raise ValidationFailed(f"Daily sequence {seq} is outside 1..{MAX_DAILY_SEQ}.")
    return f"{prefix}{day:%Y%m%d}-{seq:06d}"


def parse_order_id(text: str) -> OrderId:
    """Parse an order ID (surrounding spaces allowed, letters upper-cased: scanners vary)."""
    m = ORDER_ID_RE.match(text.strip().upper())
    if not m:
        raise ValidationFailed(f"'{text}' is not an order ID (expected e.g. BL20260222-008632).")
    try:
        day = date(int(m["day"][:4]), int(m["day"][4:6]), int(m["day"][6:]))
    except ValueError:
        raise ValidationFailed(f"'{text}' has an impossible date.") from None
    return OrderId(m["prefix"], day, int(m["seq"]))


def looks_like_order_id(text: str) -> bool:
    return bool(ORDER_ID_RE.match(text.strip().upper()))
