"""Carrier cut-offs: by when a printed parcel must be handed to its carrier.

Each carrier's courier collects once a day at a fixed local time (the rules file's
``[carriers.CODE] cutoff = "17:30"``, site time zone). A label printed before that time is due
at today's cut-off, one printed after it at tomorrow's (:func:`next_cutoff`). A printed parcel
still in the warehouse after its due time missed the truck: :func:`handover_late`, which
``core/flags.py`` shows as the 未交接 flag.

The hub stamps each allocated order with its carrier's rule (:data:`CUTOFF_KEY`: the time and
the site's zone) so that a bench printing offline computes the same due time as the hub will
(``core/store/overlay.py``); the hub computes it again from its rules when the print arrives.
One function does the arithmetic for both. No Qt, no hub.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.timeutil import iso, parse_iso, to_utc

__all__ = ["CUTOFF_KEY", "cutoff_rule", "due_from_rule", "handover_late", "late_at", "next_cutoff", "parse_cutoff"]

#: The snapshot key with the order's carrier cut-off rule: ``{"carrier", "time": "HH:MM", "tz"}``.
CUTOFF_KEY = "handover_cutoff"

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_cutoff(value: Any) -> time:
    """A cut-off as the rules file writes it: ``"17:30"`` (24-hour ``HH:MM``) or a TOML local time.

    Raises:
        ValueError: anything else (``"5:30pm"``, ``"24:00"``, ``"17:30:15"``, a number).
    """
    if isinstance(value, time) and value.tzinfo is None:
        if value.second or value.microsecond:
            raise ValueError("a cut-off is whole minutes")
        return value
    if not isinstance(value, str):
        raise ValueError("not a time of day")
    m = _HHMM.match(value.strip())
    if m is None:
        raise ValueError("not HH:MM")
    return time(int(m.group(1)), int(m.group(2)))


def next_cutoff(printed_at: datetime, cutoff: time, tz: str) -> datetime:
    """The first cut-off at or after ``printed_at``, as aware UTC.

    The calendar day is the site's (``tz``), not UTC's: at 01:00 Shanghai time (17:00 UTC the
    day before) the next 17:30 is the same Shanghai day's. Printed exactly at the cut-off: due
    then (the courier is at the door). A day is a calendar day, so a zone with daylight saving
    keeps its wall-clock cut-off across the change.
    """
    zone = ZoneInfo(tz)
    local = to_utc(printed_at).astimezone(zone)
    due = datetime.combine(local.date(), cutoff, tzinfo=zone)
    if due < local:
        due = datetime.combine(local.date() + timedelta(days=1), cutoff, tzinfo=zone)
    return to_utc(due)


def cutoff_rule(carrier: str | None, cutoff: time | None, tz: str) -> dict[str, str] | None:
    """The rule the hub stamps on an order (:data:`CUTOFF_KEY`), or None when its carrier has none."""
    if not carrier or cutoff is None:
        return None
    return {"carrier": carrier, "time": cutoff.strftime("%H:%M"), "tz": tz}


def due_from_rule(rule: Any, printed_at: str | datetime | None) -> str | None:
    """``handover_due`` (ISO UTC) of a label printed at ``printed_at`` under a stamped rule.

    None when there is no usable rule or time: a snapshot from before cut-offs existed, a
    carrier without one, or a garbled value (the hub's answer then brings the real due time).
    """
    if not isinstance(rule, dict):
        return None
    try:
        at = printed_at if isinstance(printed_at, datetime) else parse_iso(printed_at)
        if at is None:
            return None
        return iso(next_cutoff(at, parse_cutoff(rule.get("time")), str(rule.get("tz") or "")))
    except (ValueError, ZoneInfoNotFoundError):
        return None


def handover_late(order: dict[str, Any], now: datetime) -> bool:
    """A printed parcel whose carrier's cut-off has come and gone without it being handed over."""
    return late_at(order.get("state"), order.get("handover_due"), now)


def late_at(state: Any, handover_due: Any, now: datetime) -> bool:
    """:func:`handover_late` from an order's ``state`` and ``handover_due`` alone (the queue rows'
    cache keeps those two, not the whole order: core/queue_facts.py)."""
    if state != "label_printed":
        return False
    try:
        due = parse_iso(handover_due)
    except ValueError:
        return False
    return due is not None and now >= due
