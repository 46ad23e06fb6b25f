"""Times: stored in UTC, shown in the site's time zone (default Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
#: The years :func:`parse_iso` accepts. Every time the hub stores is inside (now, or a channel's
#: time within 2000-2100); a client's ``done_at`` of year 1 or 9999 is a broken clock, and the
#: hub's arithmetic on it (ship-by = paid + hours) would overflow.
MIN_YEAR, MAX_YEAR = 1900, 2999


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(dt: datetime, assume_tz: str = DEFAULT_TZ) -> datetime:
    """Convert to aware UTC; a naive time is taken as the site's local time (channels send those)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(assume_tz))
    return dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    if dt is None:
        return None
    return to_utc(dt).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    """An ISO 8601 time as aware UTC (None for empty).

    Raises:
        ValueError: not ISO 8601, or outside :data:`MIN_YEAR`-:data:`MAX_YEAR` in UTC. Never an
            OverflowError: ``0001-01-01T00:00:00+01:00`` has no UTC instant, and callers (the
            hub's per-action check) turn a ValueError into a clear refusal.
    """
    if not text:
        return None
    try:
        dt = to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except OverflowError:
        raise ValueError(f"{text[:40]!r} is outside the years a clock can show") from None
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise ValueError(f"{text[:40]!r} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return dt


def local_day(dt: datetime, tz: str = DEFAULT_TZ) -> date:
    """The site's calendar day of an instant (order IDs use it)."""
    return to_utc(dt).astimezone(ZoneInfo(tz)).date()


def to_local(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    return to_utc(dt).astimezone(ZoneInfo(tz))


def local_text(text: object, fmt: str = "%m-%d %H:%M") -> str:
    """A stored ISO time as the site reads it ("11-25 10:00"); what was recorded when it cannot be read.

    The hub answers in UTC: a screen that cut the ISO text instead showed 19:07 for 03:07 in Shanghai.
    """
    try:
        when = parse_iso(str(text or ""))
    except ValueError:
        when = None
    return to_local(when).strftime(fmt) if when is not None else str(text or "")


def as_utc(dt: datetime) -> datetime:
    """A time read back from a database: naive means UTC (SQLite drops the zone we stored)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
