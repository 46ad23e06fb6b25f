"""The customer touchpoint response metric (issue 15), computed in SQL over ``ticket_episodes``.

Per site-local day or week (the day / week an episode started; docs/tickets.md "The touchpoint
metric" defines episodes): how many contact episodes, the median and 90th percentile of
contact → first reply and contact → closed, and the share closed within 4 hours of the first
contact. Percentiles are ``percentile_cont`` (linear interpolation between the two nearest ranks):
PostgreSQL's own ordered-set aggregate there (every bucket's figures in one scan); on SQLite, which has none, the same interpolation
from the two rows ``ROW_NUMBER()`` puts at those ranks (window functions, SQLite ≥ 3.25), so both
databases give the same figures for the same rows.

:func:`weekly_xlsx` writes the weekly figures as an XLSX workbook with a trend chart, for a
manager to open in Excel or WPS.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select, text
from sqlalchemy.engine import Connection

from core.errors import ValidationFailed
from core.timeutil import iso
from hub import db

Bucket = Literal["day", "week"]
#: "Closed within 4 hours of the first contact" (issue 15).
WITHIN_S = 4 * 3600
#: The longest range one request may ask for (a year of days is 366 buckets).
MAX_DAYS = 400
PERCENTILES = (0.5, 0.9)
#: The longest range whose ``total`` carries percentiles: over a range's every contact they need a sort
#: of all of them (a year of a busy site: most of a second), where the buckets' figures need none
#: larger than a week's. Longer ranges get the total's counts and share, percentiles null.
TOTAL_PERCENTILES_DAYS = 31


@dataclass(frozen=True)
class Range:
    first: date
    last: date
    by: Bucket

    @classmethod
    def parse(cls, first: str | None, last: str | None, by: str, today: date) -> Range:
        """``from`` / ``to`` (site-local dates, both included; default the last 28 days) and ``by``.

        Raises:
            ValidationFailed: a date that is not YYYY-MM-DD, ``from`` after ``to``, a range over
                :data:`MAX_DAYS`, or ``by`` not day / week.
        """
        def day(text: str | None, default: date, field: str) -> date:
            if not text:
                return default
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValidationFailed(f"'{field}' must be a date like 2026-12-01, not {text[:20]!r}.",
                                       details={"field": field}) from None
        last_day = day(last, today, "to")
        first_day = day(first, last_day - timedelta(days=27), "from")
        if by not in ("day", "week"):
            raise ValidationFailed(f"'by' must be day or week, not {by[:20]!r}.", details={"field": "by"})
        if first_day > last_day:
            raise ValidationFailed(f"'from' {first_day} is after 'to' {last_day}.", details={"field": "from"})
        if (last_day - first_day).days >= MAX_DAYS:
            raise ValidationFailed(f"The range is over {MAX_DAYS} days; ask for a shorter one.",
                                   details={"field": "from"})
        return cls(first_day, last_day, by)  # type: ignore[arg-type]

    def buckets(self) -> list[str]:
        if self.by == "day":
            return [(self.first + timedelta(days=i)).isoformat() for i in range((self.last - self.first).days + 1)]
        start = self.first - timedelta(days=self.first.weekday())
        out = []
        while start <= self.last:
            out.append(start.isoformat())
            start += timedelta(days=7)
        return out


def _interpolate(values: dict[int, float], n: int, p: float) -> float | None:
    """``percentile_cont(p)`` from the values at ranks (1-based) floor and ceil of ``1 + p·(n-1)``."""
    if n == 0:
        return None
    pos = 1 + p * (n - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _percentiles_portable(conn: Connection, bucket: Any, column: Any, where: Any) -> dict[str, dict[float, float | None]]:
    """Per bucket, the :data:`PERCENTILES` of ``column`` by ranks (any SQL database with window functions)."""
    ranked = (select(bucket.label("b"), column.label("v"),
                     func.row_number().over(partition_by=bucket, order_by=column).label("rn"),
                     func.count().over(partition_by=bucket).label("n"))
              .where(where, column.is_not(None))).subquery()
    r = ranked.c
    wanted = []
    for p in PERCENTILES:
        pos = 1 + p * (r.n - 1)
        lo = cast(pos, Integer)  # CAST truncates: floor for a positive value
        wanted += [r.rn == lo, r.rn == lo + 1]
    rows = conn.execute(select(r.b, r.v, r.rn, r.n).where(or_(*wanted))).all()
    by_bucket: dict[str, tuple[int, dict[int, float]]] = {}
    for b, v, rn, n in rows:
        by_bucket.setdefault(b, (int(n), {}))[1][int(rn)] = float(v)
    out: dict[str, dict[float, float | None]] = {}
    for b, (n, values) in by_bucket.items():
        out[b] = {p: _interpolate(values, n, p) for p in PERCENTILES}
    return out


def _counts(bucket: Any, now: datetime) -> list[Any]:
    ep = db.ticket_episodes.c
    decided = (ep.closed_s <= WITHIN_S) | (ep.started_at <= now - timedelta(seconds=WITHIN_S))
    return [bucket, func.count(),
            func.count(ep.first_reply_s),
            func.sum(case((and_(ep.first_reply_s.is_(None), ep.closed_at.is_(None)), 1), else_=0)),
            func.count(ep.closed_s),
            func.sum(case((ep.closed_s <= WITHIN_S, 1), else_=0)),
            func.sum(case((decided, 1), else_=0))]


#: The columns whose percentiles the metric gives (each has an index per bucket column,
#: ``ix_ticket_episodes_<bucket>_<value>``: migration 0019).
VALUE_COLUMNS = ("first_reply_s", "closed_s")


def _offset_sql(p: float, n: str) -> tuple[str, str]:
    """(direction, SQL offset) of the rows holding the ranks ⌊1 + p(n−1)⌋ and the next, for ``n`` values.

    From the nearer end of the bucket's index: up to the median from the bottom, above it from the top
    (p90 walks a tenth of the bucket, not nine tenths). ⌊1 + p(n−1)⌋ = 1 + ⌊p(n−1)⌋, computed in
    float8 as Python does (:func:`_interpolate`), so both agree on the rank.
    """
    low = f"floor(CAST({p!r} AS float8) * ({n} - 1))"
    if p <= 0.5:
        return "ASC", f"CAST(greatest(0, {low}) AS bigint)"
    return "DESC", f"CAST(greatest(0, {n} - 2 - {low}) AS bigint)"


def _from_read(vals: list[float], n: int, p: float) -> float | None:
    """``percentile_cont(p)`` from the (at most two) values :func:`_offset_sql` read, whichever end they came from."""
    if n == 0 or not vals:
        return None
    vals = sorted(vals)
    low = math.floor(p * (n - 1))
    first = low + 1 if p <= 0.5 else n - max(0, n - 2 - low) - len(vals) + 1
    return _interpolate({first + j: v for j, v in enumerate(vals)}, n, p)


def _figures_pg(conn: Connection, bucket_col: str, first: str, last: str, ticket_type: str | None,
                now: datetime) -> dict[str, dict[str, Any]]:
    """PostgreSQL: every bucket's counts and percentiles in **one statement** (one snapshot).

    ``percentile_cont`` sorts every bucket's values (a year: most of a million rows, the slowest part
    by far). Instead the counting pass (one scan, grouped by bucket) gives each bucket's number of
    values n, and for each bucket and percentile a correlated ``ARRAY(… ORDER BY value OFFSET k LIMIT 2)``
    reads the two values at the ranks ``percentile_cont`` interpolates between, walking the partial
    index (bucket, value, type) — an index-only walk in value order, no sort. One statement, so the
    counts and the values read are of the same snapshot even while desks write. Same figures as
    ``percentile_cont``: the same ranks, the same interpolation.

    "Waiting" is counted as the rows with neither a reply nor a close time (``closed_s`` is NULL
    exactly when ``closed_at`` is). Only an episode started in the last 4 hours can be undecided, so
    those are counted by a second statement over the last two days of the range, not by a test on
    every row.
    """
    typed = "AND e.type = :t" if ticket_type else ""
    reads = []
    for col, n in (("first_reply_s", "c.nr"), ("closed_s", "c.nc")):
        for p in PERCENTILES:
            direction, offset = _offset_sql(p, n)
            reads.append(f"ARRAY(SELECT e.{col} FROM ticket_episodes e WHERE e.{bucket_col} = c.b "
                         f"AND e.{col} IS NOT NULL {typed} ORDER BY e.{col} {direction} OFFSET {offset} LIMIT 2)")
    sql = (f"WITH c AS (SELECT {bucket_col} AS b, count(*) AS n, count(first_reply_s) AS nr, count(closed_s) AS nc, "
           f"count(coalesce(first_reply_s, closed_s)) AS answered, count(*) FILTER (WHERE closed_s <= {WITHIN_S}) AS w "
           f"FROM ticket_episodes WHERE day >= :first AND day <= :last {typed.replace('e.', '')} GROUP BY {bucket_col}) "
           f"SELECT c.b, c.n, c.nr, c.nc, c.answered, c.w, {', '.join(reads)} FROM c")
    rows = conn.execute(text(sql), {"first": first, "last": last, "t": ticket_type}).all()
    ep = db.ticket_episodes.c
    where = and_(ep.day >= first, ep.day <= last, *([ep.type == ticket_type] if ticket_type else []))
    bucket = ep.day if bucket_col == "day" else ep.week
    young = now - timedelta(seconds=WITHIN_S)
    undecided: dict[str, int] = dict(conn.execute(select(bucket, func.count()).where(
        where, ep.day >= (young - timedelta(days=2)).date().isoformat(), ep.started_at > young,
        ep.closed_at.is_(None)).group_by(bucket)).all())
    out: dict[str, dict[str, Any]] = {}
    for b, n, replied, closed, answered, within, r50, r90, c50, c90 in rows:
        nr, nc = int(replied), int(closed)
        reply = {0.5: _from_read([float(v) for v in r50], nr, 0.5), 0.9: _from_read([float(v) for v in r90], nr, 0.9)}
        close = {0.5: _from_read([float(v) for v in c50], nc, 0.5), 0.9: _from_read([float(v) for v in c90], nc, 0.9)}
        out[b] = _row(int(n), nr, int(n) - int(answered), nc, int(within), int(n) - int(undecided.get(b, 0)),
                      reply, close)
    return out


def _total_pg(conn: Connection, where: Any, per: dict[str, dict[str, Any]], percentiles: bool) -> dict[str, Any]:
    """The whole range: the counts add up; the percentiles are over every episode of the range."""
    if not per:
        return EMPTY
    ep = db.ticket_episodes.c
    pcts = list(PERCENTILES)
    reply = close = None
    if percentiles:
        reply, close = conn.execute(select(func.percentile_cont(pcts).within_group(ep.first_reply_s),
                                           func.percentile_cont(pcts).within_group(ep.closed_s)).where(where)).one()
    keys = ("contacts", "replied", "waiting_reply", "closed", "closed_within_4h", "closed_within_4h_of")
    sums = {k: sum(int(f[k]) for f in per.values()) for k in keys}
    return _row(sums["contacts"], sums["replied"], sums["waiting_reply"], sums["closed"], sums["closed_within_4h"],
                sums["closed_within_4h_of"], dict(zip(PERCENTILES, reply, strict=True)) if reply else {},
                dict(zip(PERCENTILES, close, strict=True)) if close else {})


def _figures(conn: Connection, bucket: Any, where: Any, now: datetime, *,
             percentiles: bool = True) -> dict[str, dict[str, Any]]:
    """Any database: the counts in one statement, each percentile column in one window statement."""
    ep = db.ticket_episodes.c
    counts = conn.execute(select(*_counts(bucket, now)).where(where).group_by(bucket)).all()
    reply = _percentiles_portable(conn, bucket, ep.first_reply_s, where) if percentiles else {}
    close = _percentiles_portable(conn, bucket, ep.closed_s, where) if percentiles else {}
    out: dict[str, dict[str, Any]] = {}
    for b, n, replied, waiting, closed, within, decided_n in counts:
        r, c = reply.get(b, {}), close.get(b, {})
        out[b] = _row(int(n), int(replied), int(waiting or 0), int(closed), int(within or 0), int(decided_n or 0),
                      r, c)
    return out


def _s(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def _row(n: int, replied: int, waiting: int, closed: int, within: int, decided: int,
         reply: dict[float, float | None], close: dict[float, float | None]) -> dict[str, Any]:
    return {"contacts": n, "replied": replied, "waiting_reply": waiting, "closed": closed,
            "reply_median_s": _s(reply.get(0.5)), "reply_p90_s": _s(reply.get(0.9)),
            "close_median_s": _s(close.get(0.5)), "close_p90_s": _s(close.get(0.9)),
            "closed_within_4h": within, "closed_within_4h_of": decided,
            "closed_within_4h_share": round(within / decided, 4) if decided else None}


EMPTY = _row(0, 0, 0, 0, 0, 0, {}, {})


def touchpoint(conn: Connection, rng: Range, now: datetime, ticket_type: str | None = None) -> dict[str, Any]:
    """The metric for ``rng`` at ``now`` (``now`` decides which young episodes are not yet judged)."""
    ep = db.ticket_episodes.c
    where = and_(ep.day >= rng.first.isoformat(), ep.day <= rng.last.isoformat())
    if ticket_type:
        where = and_(where, ep.type == ticket_type)
    bucket = ep.day if rng.by == "day" else ep.week
    short = (rng.last - rng.first).days < TOTAL_PERCENTILES_DAYS
    if db.is_postgres(conn):
        conn.execute(text("SET LOCAL work_mem = '16MB'"))  # each bucket's sort in memory, not on disk
        per = _figures_pg(conn, "day" if rng.by == "day" else "week", rng.first.isoformat(), rng.last.isoformat(),
                          ticket_type, now)
        total = _total_pg(conn, where, per, short)
    else:
        per = _figures(conn, bucket, where, now)
        total = _figures(conn, literal("all"), where, now, percentiles=short).get("all", EMPTY)
    return {"from": rng.first.isoformat(), "to": rng.last.isoformat(), "by": rng.by, "type": ticket_type,
            "now": iso(now), "within_s": WITHIN_S,
            "buckets": [{"bucket": b, **per.get(b, EMPTY)} for b in rng.buckets()], "total": total}


def weekly_xlsx(figures: dict[str, Any], site: str = "") -> bytes:
    """The weekly figures as an XLSX workbook: one table and a line chart of the trend (minutes)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    ws: Worksheet = wb.create_sheet("触点响应")
    ws.append([f"客户触点响应 / Customer touchpoint response {site}".strip(),
               f"{figures['from']} — {figures['to']}", "定义见 docs/tickets.md / defined in docs/tickets.md"])
    header = ["周（周一）/ Week (Monday)", "联系次数 / Contacts", "已回复 / Replied", "待回复 / Waiting reply",
              "已关闭 / Closed", "首次回复中位数（分钟）/ First reply median (min)",
              "首次回复 P90（分钟）/ First reply p90 (min)", "关闭中位数（分钟）/ Closed median (min)",
              "关闭 P90（分钟）/ Closed p90 (min)", "4 小时内关闭占比 / Closed within 4 h"]
    ws.append(header)

    def minutes(v: float | None) -> float | None:
        return None if v is None else round(v / 60, 1)

    for b in figures["buckets"]:
        ws.append([b["bucket"], b["contacts"], b["replied"], b["waiting_reply"], b["closed"],
                   minutes(b["reply_median_s"]), minutes(b["reply_p90_s"]), minutes(b["close_median_s"]),
                   minutes(b["close_p90_s"]), b["closed_within_4h_share"]])
    last = ws.max_row
    for row in ws.iter_rows(min_row=3, max_row=last, min_col=10, max_col=10):
        for cell in row:
            cell.number_format = "0.0%"
    for col, width in zip("ABCDEFGHIJ", (16, 10, 10, 10, 10, 16, 16, 16, 16, 14), strict=True):
        ws.column_dimensions[col].width = width

    line = LineChart()
    line.title = "响应时间趋势（分钟）/ Response time trend (min)"
    line.y_axis.title = "分钟 / min"
    line.x_axis.title = "周 / week"
    line.add_data(Reference(ws, min_col=6, max_col=9, min_row=2, max_row=last), titles_from_data=True)
    line.set_categories(Reference(ws, min_col=1, min_row=3, max_row=last))
    line.height, line.width = 9, 22
    ws.add_chart(line, f"A{last + 3}")

    bar = BarChart()
    bar.title = "4 小时内关闭占比 / Closed within 4 h"
    bar.add_data(Reference(ws, min_col=10, min_row=2, max_row=last), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=3, max_row=last))
    bar.y_axis.number_format = "0%"
    bar.height, bar.width = 9, 22
    ws.add_chart(bar, f"A{last + 23}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
