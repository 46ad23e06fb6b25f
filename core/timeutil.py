"""Times: stored in UTC, shown in the site's time zone (default Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


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
    if not text:
        return None
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def local_day(dt: datetime, tz: str = DEFAULT_TZ) -> date:
    """The site's calendar day of an instant (order IDs use it)."""
    return to_utc(dt).astimezone(ZoneInfo(tz)).date()


def to_local(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    return to_utc(dt).astimezone(ZoneInfo(tz))


def as_utc(dt: datetime) -> datetime:
    """A time read back from a database: naive means UTC (SQLite drops the zone we stored)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
