"""The dashboard's facts of one order, as the ``orders`` columns hold them (docs/metrics.md).

One function, used by the writer on every save and by migration 0018 for orders saved before: the
figures filter and group on these columns in SQL, never on keys inside the JSON document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.timeutil import parse_iso

#: The columns :func:`facts_of` fills.
FACT_COLUMNS = ("paid_at", "ship_by", "shipped_at", "packed_by", "packed_at")


def _time(value: Any) -> datetime | None:
    try:
        return parse_iso(value) if value else None
    except ValueError:
        return None


def facts_of(doc: dict[str, Any]) -> dict[str, Any]:
    """Paid, promised (ship-by), shipped, and who packed it when (the ``packed`` step)."""
    packed = (doc.get("steps") or {}).get("packed") or {}
    by = packed.get("by") if isinstance(packed, dict) else None
    return {
        "paid_at": _time(doc.get("paid_at")),
        "ship_by": _time(doc.get("ship_by")),
        "shipped_at": _time(doc.get("shipped_at")),
        "packed_by": str(by)[:32] if by else None,
        "packed_at": _time(packed.get("at")) if isinstance(packed, dict) else None,
    }
