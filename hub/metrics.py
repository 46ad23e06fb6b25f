"""The supervisor's figures (issue 16, docs/metrics.md), computed in SQL on indexed columns.

Every figure takes one :class:`Slice` — warehouse, channel, bench, a range of the site's calendar
days and an optional time-of-day window on when orders came in ("East-China warehouse, orders
received after 10:00"). Days and hours are the site's (``HubSettings.timezone``): a slice is turned
into UTC instants here, in Python, one range per day, so an order at 23:59 Asia/Shanghai is that
day's on both databases and a daylight-saving zone gets its real hours. The database only compares
instants against indexed columns (``created_at``, ``ship_by``, ``packed_at``, ``audit (what, at)``).

Read only: nothing here writes.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from core.states import BENCH_STATES, State
from core.timeutil import as_utc, iso, local_day
from hub import db

#: The longest slice a figure takes (a quarter): longer ranges are a report, not a live figure.
MAX_DAYS = 92
_SHIP_WHATS = ("shipped_by_station", "picked_up_by_carrier")
_BENCH = tuple(s.value for s in BENCH_STATES)
_CHUNK = 500  # order IDs per IN (...)


class SliceError(ValueError):
    """A slice the figures cannot take (the API answers 400 with these words)."""


@dataclass(frozen=True)
class Slice:
    """Which orders a figure counts.

    ``first``/``last``: the site's calendar days, both included. ``hours``: orders that came in
    from ``hours[0]`` o'clock up to (not including) ``hours[1]`` o'clock site time, e.g. ``(10, 24)``
    for "received after 10:00"; None: the whole day.
    """

    first: date
    last: date
    tz: str
    warehouse: str | None = None
    channel: str | None = None
    bench: str | None = None
    hours: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise SliceError(f"the range ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise SliceError(f"a range of at most {MAX_DAYS} days")
        if self.hours is not None:
            a, b = self.hours
            if not (0 <= a < b <= 24):
                raise SliceError(f"hours {a}-{b}: from 0 to 24, the first before the second")

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The whole range as UTC instants [start, end)."""
        return day_start(self.first, self.tz), day_start(self.last + timedelta(days=1), self.tz)

    def intake_ranges(self) -> list[tuple[datetime, datetime]]:
        """The UTC ranges of order intake the slice takes: one per day (its hours, or the whole day)."""
        if self.hours is None or self.hours == (0, 24):
            return [self.bounds()]  # whole days touch: one range (one index range scan, not an OR of days)
        return [(local_instant(d, self.hours[0], self.tz), local_instant(d, self.hours[1], self.tz))
                for d in self.days()]


def day_start(d: date, tz: str) -> datetime:
    """The UTC instant a site day begins."""
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_instant(d: date, hour: int, tz: str) -> datetime:
    """``hour`` o'clock (0–24) of site day ``d`` as UTC (24: the next day's midnight)."""
    if hour == 24:
        return day_start(d + timedelta(days=1), tz)
    return datetime.combine(d, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def today_slice(now: datetime, tz: str, **kw: Any) -> Slice:
    day = local_day(now, tz)
    return Slice(day, day, tz, **kw)


# -- filters ---------------------------------------------------------------------------------------

def _where(sl: Slice, *, intake: bool = True) -> list[ColumnElement[bool]]:
    """The slice's conditions on ``orders`` (intake: the day/time-of-day ranges on ``created_at``)."""
    o = db.orders.c
    cond: list[ColumnElement[bool]] = []
    if sl.warehouse:
        cond.append(o.warehouse == sl.warehouse)
    if sl.channel:
        cond.append(o.channel == sl.channel)
    if sl.bench:
        cond.append(o.bench == sl.bench)
    if intake:
        cond.append(_in_ranges(o.created_at, sl.intake_ranges()))
    return cond


def _in_ranges(col: Any, ranges: list[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    if not ranges:
        return false()
    parts = [and_(col >= a, col < b) for a, b in ranges]
    return parts[0] if len(parts) == 1 else or_(*parts)


def _not_cancelled() -> ColumnElement[bool]:
    """Orders that count as promised: not closed without ever leaving (cancelled, refunded, unpaid)."""
    o = db.orders.c
    return or_(o.state != State.CLOSED.value, o.shipped_at.is_not(None))


def _hour_bucket(col: Any, edges: list[datetime]) -> Any:
    """Which of the site-local hours ``edges`` delimit ``col`` falls in (0 …), in portable SQL."""
    return case(*[(col < edges[k + 1], k) for k in range(len(edges) - 1)], else_=len(edges) - 1)


# -- the figures -----------------------------------------------------------------------------------

def orders_by_state(conn: Connection, sl: Slice) -> dict[str, Any]:
    """How many of the slice's orders (by intake) are in each state, and how many are held."""
    o = db.orders.c
    rows = conn.execute(select(o.state, o.held, func.count()).where(*_where(sl)).group_by(o.state, o.held)).all()
    by_state: dict[str, int] = {s.value: 0 for s in State}
    held = 0
    for state, is_held, n in rows:
        by_state[state] = by_state.get(state, 0) + int(n)
        if is_held and state not in (State.SHIPPED.value, State.DELIVERED.value, State.CLOSED.value):
            held += int(n)
    return {"by_state": by_state, "total": sum(by_state.values()), "held": held}


def fulfilment_per_hour(conn: Connection, sl: Slice, now: datetime) -> dict[str, Any]:
    """Per site hour of the slice's last day: orders due (ship-by in that hour) and shipped by their
    ship-by; the rate once the hour is over; the same weekday a week before beside it.

    Due and on time are counted by promise (``ship_by``), not by intake: the slice's hours filter
    does not apply here, its warehouse/channel/bench do.
    """
    day = sl.last
    return {"day": day.isoformat(), "hours": _hours_of(conn, sl, day, now),
            "last_week": {"day": (day - timedelta(days=7)).isoformat(),
                          "hours": _hours_of(conn, sl, day - timedelta(days=7), now)}}


def _hours_of(conn: Connection, sl: Slice, day: date, now: datetime) -> list[dict[str, Any]]:
    o = db.orders.c
    edges = [local_instant(day, h, sl.tz) for h in range(25)]
    bucket = _hour_bucket(o.ship_by, edges).label("h")
    on_time = func.sum(case((and_(o.shipped_at.is_not(None), o.shipped_at <= o.ship_by), 1), else_=0))
    q = (select(bucket, func.count(), on_time)
         .where(o.ship_by >= edges[0], o.ship_by < edges[-1], _not_cancelled(), *_where(sl, intake=False))
         .group_by(bucket))
    got = {int(h): (int(n), int(ok or 0)) for h, n, ok in conn.execute(q)}
    out = []
    for h in range(24):
        due, ok = got.get(h, (0, 0))
        over = edges[h + 1] <= now
        out.append({"hour": f"{h:02d}:00", "due": due, "on_time": ok,
                    "rate": (ok / due if due else None) if over else None, "over": over})
    return out


def delay_rate(conn: Connection, sl: Slice, now: datetime) -> dict[str, Any]:
    """Of the slice's orders (by intake) whose ship-by has passed: how many left late or not at all."""
    o = db.orders.c
    late_shipped = func.sum(case((and_(o.shipped_at.is_not(None), o.shipped_at > o.ship_by), 1), else_=0))
    unshipped = func.sum(case((o.shipped_at.is_(None), 1), else_=0))
    due, shipped_late, not_shipped = conn.execute(
        select(func.count(), late_shipped, unshipped)
        .where(o.ship_by.is_not(None), o.ship_by <= now, _not_cancelled(), *_where(sl))).one()
    due = int(due)
    late = int(shipped_late or 0) + int(not_shipped or 0)
    return {"due": due, "late": late, "shipped_late": int(shipped_late or 0), "not_shipped": int(not_shipped or 0),
            "rate": late / due if due else None}


def exception_reasons(conn: Connection, sl: Slice, *, top: int = 20) -> dict[str, Any]:
    """Holds raised in the slice's days (on orders of the slice): by type, and the words people
    wrote as reasons (Chinese segmented with jieba), most frequent first.

    The hub's own rules write their reasons from templates; only reasons typed by a person (the
    hold's operator is not ``system``) go into the words.
    """
    a, o = db.audit.c, db.orders.c
    hold_type = a.details["hold"]["type"].as_string()
    start, end = sl.bounds()
    # The holds raised in the days, from the audit's (what, at) index; then, when the slice names
    # orders (warehouse, channel, bench, intake hours), which of their orders are in it — by primary
    # key, a few hundred at a time. One join instead lets PostgreSQL hash all orders of a channel.
    raised = conn.execute(select(a.order_id, hold_type, a.operator, a.why)
                          .where(a.what == "hold_raised", a.at >= start, a.at < end)).all()
    keep: set[str] | None = None
    if sl.warehouse or sl.channel or sl.bench or sl.hours is not None:
        ids = sorted({r[0] for r in raised})
        keep = set()
        for i in range(0, len(ids), _CHUNK):
            keep.update(r[0] for r in conn.execute(
                select(o.order_id).where(o.order_id.in_(ids[i:i + _CHUNK]), *_where(sl, intake=sl.hours is not None))))
    types: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for oid, t, operator, why in raised:
        if keep is not None and oid not in keep:
            continue
        types[str(t or "")] += 1
        if operator != "system" and why:
            reasons[str(why)] += 1
    words: Counter[str] = Counter()
    for text_, n in reasons.items():
        for w in words_of(text_):
            words[w] += n
    return {"types": [{"type": t, "count": n} for t, n in types.most_common()],
            "words": [{"word": w, "count": n} for w, n in words.most_common(top)],
            "reasons": sum(reasons.values())}


def benches(conn: Connection, sl: Slice, now: datetime) -> dict[str, Any]:
    """Who is behind: per bench the backlog (orders to pack now), its oldest (waiting since paid), and
    how many it packed in the slice's days and in the last hour; per packer what they packed."""
    o = db.orders.c
    scope = _where(sl, intake=False)
    backlog = {b: (int(n), as_utc(oldest) if oldest else None) for b, n, oldest in conn.execute(
        select(o.bench, func.count(), func.min(o.paid_at))  # a bench's orders are paid
        .where(o.state.in_(_BENCH), o.bench.is_not(None), *scope).group_by(o.bench))}
    start, end = sl.bounds()
    hour_ago = now - timedelta(hours=1)
    last_hour = func.sum(case((o.packed_at >= hour_ago, 1), else_=0))
    packed = {b: (int(n), int(h or 0)) for b, n, h in conn.execute(
        select(o.bench, func.count(), last_hour)
        .where(o.packed_at >= start, o.packed_at < end, o.bench.is_not(None), *scope).group_by(o.bench))}
    hours = max(min(now, end) - start, timedelta(0)).total_seconds() / 3600
    rows = []
    for b in sorted(set(backlog) | set(packed)):
        n, oldest = backlog.get(b, (0, None))
        done, recent = packed.get(b, (0, 0))
        per_hour = done / hours if hours > 0 else 0.0
        rows.append({"bench": b, "backlog": n, "oldest_since": iso(oldest) if oldest else None,
                     # a shop's clock a little ahead of the hub's is "just paid", not a negative wait
                     "oldest_wait_min": max(0, int((now - oldest).total_seconds() // 60)) if oldest else None,
                     "packed": done, "packed_last_hour": recent, "per_hour": round(per_hour, 1),
                     "hours_to_clear": round(n / recent, 1) if recent else None})
    rows.sort(key=lambda r: (-(r["oldest_wait_min"] or 0), r["bench"]))
    packers = [{"operator": p, "bench": b, "packed": int(n), "packed_last_hour": int(h or 0)}
               for p, b, n, h in conn.execute(
                   select(o.packed_by, o.bench, func.count(), last_hour)
                   .where(o.packed_at >= start, o.packed_at < end, o.packed_by.is_not(None), *scope)
                   .group_by(o.packed_by, o.bench))]
    packers.sort(key=lambda r: (-r["packed"], r["operator"]))
    return {"benches": rows, "packers": packers, "hours": round(hours, 2)}


def connectors(conn: Connection, now: datetime) -> dict[str, Any]:
    """Each shop connector's health as the connectors page shows it (never a secret or a token)."""
    from hub.channels import store as channel_store

    c = db.connectors.c
    cols = (c.id, c.platform, c.shop_id, c.enabled, c.pull_cursor, c.last_pull_at, c.newest_update_at,
            c.orders_day, c.orders_today, c.last_error, c.last_error_kind, c.failing_since)
    out = []
    for row in conn.execute(select(*cols).order_by(c.id)).mappings():
        h = channel_store.health_of(dict(row), now)
        out.append({"id": row["id"], "platform": row["platform"], "shop_id": row["shop_id"],
                    "enabled": bool(row["enabled"]), "state": h["state"], "warn": h["warn"],
                    "lag_s": h["lag_s"], "orders_today": h["orders_today"], "last_error": h["last_error"]})
    return {"connectors": out, "failing": sum(1 for x in out if x["state"] == "failing")}


# -- words -----------------------------------------------------------------------------------------

#: Words of two characters or more that say nothing about the exception (one character never counts).
_STOP = frozenset({"一个", "没有", "我们", "你们", "他们", "这个", "那个", "已经", "还是", "因为", "所以", "但是",
                   "如果", "需要", "客户", "订单", "the", "and"})
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]{2,}")
_jieba_lock = threading.Lock()


def _jieba() -> Any:
    with _jieba_lock:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()  # the dictionary loads once, on the first figure that needs words (~1 s)
        return jieba


@lru_cache(maxsize=4096)
def words_of(text_: str) -> tuple[str, ...]:
    """The words of one reason: jieba's segmentation, minus punctuation, numbers and filler words."""
    jieba = _jieba()
    return tuple(w for w in (w.strip().lower() for w in jieba.cut(text_))
                 if _WORDLIKE.fullmatch(w) and not w.isdigit() and w not in _STOP)


