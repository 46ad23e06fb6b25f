"""Order IDs: ``<PREFIX><YYYYMMDD>-<6-digit daily sequence>``, e.g. ``BL20260222-008632``.

The hub assigns them from a per-(prefix, day) counter held in its database, so an ID is never
reused; the day is the site's local date. A split order's parts add ``-<n>`` to their root's ID
(``BL20260222-008632-1``, ``-2``; a part split again takes the root's next numbers, docs/split-merge.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationFailed

ORDER_ID_RE = re.compile(r"^(?P<prefix>[A-Z]{1,6})(?P<day>\d{8})-(?P<seq>\d{6})(?:-(?P<part>[1-9]\d{0,2}))?$")
#: The most parts one root order may be split into (the suffix has at most three digits).
MAX_PART = 999
PREFIX_RE = re.compile(r"^[A-Z]{1,6}$")
MAX_DAILY_SEQ = 999_999


@dataclass(frozen=True)
class OrderId:
    prefix: str
    day: date
    seq: int
    part: int = 0  # a split part's number (0: not a part)

    def __str__(self) -> str:
        base = format_order_id(self.prefix, self.day, self.seq)
        return f"{base}-{self.part}" if self.part else base


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
    return OrderId(m["prefix"], day, int(m["seq"]), int(m["part"] or 0))


def looks_like_order_id(text: str) -> bool:
    return bool(ORDER_ID_RE.match(text.strip().upper()))


def root_order_id(order_id: str) -> str:
    """The ID a split part was derived from (``BL20260222-008632-2`` → ``BL20260222-008632``)."""
    oid = parse_order_id(order_id)
    return format_order_id(oid.prefix, oid.day, oid.seq)


def part_order_id(root: str, part: int) -> str:
    """The ID of part ``part`` of ``root`` (raises ValidationFailed past :data:`MAX_PART`)."""
    if not 1 <= part <= MAX_PART:
        raise ValidationFailed(f"Order {root} cannot be split into more than {MAX_PART} parts.")
    return f"{root_order_id(root)}-{part}"
