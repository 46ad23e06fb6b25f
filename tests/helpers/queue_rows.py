"""Queue rows for tests: a fixed clock, a hold, a gift line, and one row of each flag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.queues import QueueRow, row_from_snapshot
from tests.helpers.snapshots import snapshot

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
TODAY = "2026-11-25T03:00:00Z"  # 11:00 in Shanghai, the site's day of NOW
HOLD = {"hold_id": "h1", "type": "gift_stock", "reason": "gift short", "raised_at": "2026-11-25T02:00:00Z",
        "raised_by": "hub", "details": {}}
GIFT_LINE = {"sku": "G1", "name": "赠品", "qty": 1, "unit_price_fen": 0, "is_gift": True, "bin": "C-1"}


def row(seq: int, *, pending: int = 0, conflict: bool = False, **extra: Any) -> QueueRow:
    """The row of order ``BL20261125-<seq>`` (a :func:`snapshot` with ``extra``) at :data:`NOW`."""
    return row_from_snapshot(snapshot(f"BL20261125-{seq:06d}", **extra), pending=pending, conflict=conflict, now=NOW)


def sample() -> dict[str, QueueRow]:
    """One row per flag (and a pending one), keyed by what it shows."""
    return {
        "plain": row(1, ship_by="2026-11-26T01:00:00Z"),
        "conflict": row(2, conflict=True),
        "vip": row(3, lane="vip", flags=["vip"]),
        "overdue": row(4, ship_by="2026-11-25T05:00:00Z"),
        "at_risk": row(5, ship_by="2026-11-25T07:00:00Z"),
        "exception": row(6, holds=[HOLD]),
        "gift": row(7, lines=[GIFT_LINE]),
        "done": row(8, state="shipped", updated_at=TODAY),
        "pending": row(9, pending=2, state="label_printed"),
    }
