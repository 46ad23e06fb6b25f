"""The daily and weekly reports (issue 16 "Reports", docs/reports.md): the supervisor's figures as a
workbook with native charts, and the headline table as CSV.

The numbers are the dashboard's: :func:`figures` calls the same functions the
``/api/v1/metrics/…`` endpoints call (:mod:`hub.metrics`, :func:`hub.api.stock.short_stock`) on
the same :class:`~hub.metrics.Slice`, so a report and the live board never disagree. Only the
returns count is the reports' own (:func:`returns_count`): no live figure has it. Days are the
site's (``HubSettings.timezone``): an order at 23:59 Asia/Shanghai is that day's.

Sheets are named in Chinese (the managers' language) with a Chinese / English header row, as
:func:`hub.metrics_touchpoint.weekly_xlsx` does. Read only: nothing here writes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.errors import ValidationFailed
from core.exporting import neutralise_cell
from core.holds import hold_label
from core.order_csv import csv_bytes
from core.states import State, state_label
from core.timeutil import iso, local_day, parse_iso, to_local
from hub import db, metrics

Kind = Literal["daily", "weekly"]
#: The audit triggers that bring a parcel back (counted as returns).
RETURN_TRIGGERS = ("return_received", "returned_to_sender")
#: How many short SKUs and reason words a report lists.
TOP_SHORT = 20
TOP_WORDS = 20
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Period:
    """One report's days: a site day (daily) or a Monday-to-Sunday week (weekly)."""

    kind: Kind
    first: date
    last: date

    @classmethod
    def parse(cls, kind: Kind, text: str | None, today: date) -> Period:
        """``date=`` of a daily report or ``week=`` (its Monday) of a weekly one; default: today / this week.

        Raises:
            ValidationFailed: not a YYYY-MM-DD date, or a week that does not start on a Monday.
        """
        field = "date" if kind == "daily" else "week"
        if text:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValidationFailed(f"{field}={text[:20]!r} must be a day such as 2026-12-07.",
                                       details={"field": field}) from None
        else:
            day = today if kind == "daily" else today - timedelta(days=today.weekday())
        if kind == "daily":
            return cls(kind, day, day)
        if day.weekday() != 0:
            monday = day - timedelta(days=day.weekday())
            raise ValidationFailed(f"week={day} is not a Monday; that week starts on {monday}.",
                                   details={"field": "week", "monday": monday.isoformat()})
        return cls(kind, day, day + timedelta(days=6))

    def slice(self, tz: str, warehouse: str | None = None, channel: str | None = None) -> metrics.Slice:
        return metrics.Slice(self.first, self.last, tz, warehouse or None, channel or None)

    @property
    def name(self) -> str:
        """The file name's stem: ``packdesk-daily-2026-12-07`` / ``packdesk-weekly-2026-11-30``."""
        return f"packdesk-{self.kind}-{self.first.isoformat()}"


# -- the figures ------------------------------------------------------------------------------------

def returns_count(conn: Connection, sl: metrics.Slice) -> int:
    """Parcels that came back in the slice's days (``return_received`` / ``returned_to_sender``),
    on orders of the slice's warehouse and channel."""
    a, o = db.audit.c, db.orders.c
    start, end = sl.bounds()
    q = select(func.count()).select_from(db.audit.join(db.orders, o.order_id == a.order_id)).where(
        a.what.in_(RETURN_TRIGGERS), a.at >= start, a.at < end,
        *metrics._where(sl, intake=False))  # the figures' own slice conditions (one home), not a copy
    return int(conn.execute(q).scalar_one())


def _day_slice(sl: metrics.Slice, d: date) -> metrics.Slice:
    return metrics.Slice(d, d, sl.tz, sl.warehouse, sl.channel, sl.bench)


def _fulfilment_sum(days: list[dict[str, Any]]) -> tuple[int, int]:
    """Due and on time over every hour that is over, of per-day :func:`metrics.fulfilment_per_hour` answers."""
    due = sum(h["due"] for f in days for h in f["hours"] if h["over"])
    ok = sum(h["on_time"] for f in days for h in f["hours"] if h["over"])
    return due, ok


def figures(conn: Connection, period: Period, sl: metrics.Slice, now: datetime) -> dict[str, Any]:
    """Every figure of a report, from the metrics' own functions, at one moment ``now``.

    Per day of the period: the fulfilment figure (each day beside the same weekday a week
    before) and, for a week, that day's intake, delay and holds raised (the trend).
    """
    per_day = [metrics.fulfilment_per_hour(conn, _day_slice(sl, d), now) for d in sl.days()]
    out: dict[str, Any] = {
        "kind": period.kind, "from": period.first.isoformat(), "to": period.last.isoformat(), "at": iso(now),
        "slice": {"tz": sl.tz, "warehouse": sl.warehouse, "channel": sl.channel},
        "states": metrics.orders_by_state(conn, sl),
        "fulfilment_days": per_day,
        "delay": metrics.delay_rate(conn, sl, now),
        "exceptions": metrics.exception_reasons(conn, sl, top=TOP_WORDS),
        "benches": metrics.benches(conn, sl, now),
        "short_stock": _short_stock(conn, sl.warehouse),
        "returns": returns_count(conn, sl),
    }
    out["hours"] = _hour_rows(per_day)
    out["overview"] = _overview(out)
    if period.kind == "weekly":
        out["trend"] = [_trend_row(conn, _day_slice(sl, d), f, now) for d, f in zip(sl.days(), per_day, strict=True)]
    return out


def _short_stock(conn: Connection, warehouse: str | None) -> dict[str, Any]:
    from hub.api.stock import short_stock  # the figure lives beside its endpoint (issue 14)

    got: dict[str, Any] = short_stock(conn, warehouse, TOP_SHORT)
    return got


def _hour_rows(per_day: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per hour of day, summed over the period's days; beside it the same days a week before.

    The counts are every day's; the rate is over the days on which that hour is over (a report of
    today or of this week: the hours still to come have counts but add nothing to the rate, as on
    the live board)."""
    rows = []
    for h in range(24):
        this = [f["hours"][h] for f in per_day]
        before = [f["last_week"]["hours"][h] for f in per_day]
        due, ok = sum(x["due"] for x in this), sum(x["on_time"] for x in this)
        due_lw, ok_lw = sum(x["due"] for x in before), sum(x["on_time"] for x in before)
        due_over, ok_over = _fulfilment_sum([{"hours": [x]} for x in this])
        rows.append({"hour": f"{h:02d}:00", "due": due, "on_time": ok, "rate": ok_over / due_over if due_over else None,
                     "due_last_week": due_lw, "on_time_last_week": ok_lw,
                     "rate_last_week": ok_lw / due_lw if due_lw else None})
    return rows


def _overview(f: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
    """The headline rows: (Chinese, English, value, number format)."""
    by_state = f["states"]["by_state"]
    due, ok = _fulfilment_sum(f["fulfilment_days"])
    delay = f["delay"]
    return [
        ("收单（本期下单）", "Orders in (ordered in the period)", f["states"]["total"], "0"),
        ("已发货（本期下单中已发货或已签收）", "Shipped (of those, shipped or delivered)",
         by_state.get(State.SHIPPED.value, 0) + by_state.get(State.DELIVERED.value, 0), "0"),
        ("应发（承诺发货时间在本期且已到点）", "Due (ship-by in the period, up to now)", due, "0"),
        ("按时发出", "Shipped on time", ok, "0"),
        ("按时履约率", "On-time fulfilment rate", ok / due if due else None, "0.0%"),
        ("已到期订单", "Orders past their ship-by", delay["due"], "0"),
        ("延迟（晚发或未发）", "Late (shipped late or not shipped)", delay["late"], "0"),
        ("延迟率", "Delay rate", delay["rate"], "0.0%"),
        ("未解决异常（本期订单中挂起）", "Open exceptions (held orders of the period)", f["states"]["held"], "0"),
        ("新增异常", "Holds raised", sum(t["count"] for t in f["exceptions"]["types"]), "0"),
        ("退货", "Returns", f["returns"], "0"),
    ]


def _trend_row(conn: Connection, day: metrics.Slice, fulfil: dict[str, Any], now: datetime) -> dict[str, Any]:
    states = metrics.orders_by_state(conn, day)
    delay = metrics.delay_rate(conn, day, now)
    holds = metrics.exception_reasons(conn, day, top=1)
    due, ok = _fulfilment_sum([fulfil])
    return {"day": day.first.isoformat(), "orders_in": states["total"], "due": due, "on_time": ok,
            "rate": ok / due if due else None, "delay_rate": delay["rate"],
            "holds": sum(t["count"] for t in holds["types"]), "held": states["held"]}


# -- CSV ----------------------------------------------------------------------------------------------

def headline_csv(f: dict[str, Any]) -> bytes:
    """The 概览 table as CSV (UTF-8 with BOM), rates as fractions (0.75), blank when undefined."""
    rows: list[list[Any]] = [["期间 / Period", f"{f['from']} — {f['to']}", ""]]
    rows += [[zh, en, "" if v is None else round(v, 4) if isinstance(v, float) else v]
             for zh, en, v, _fmt in f["overview"]]
    return csv_bytes(["指标", "Figure", "数值 / Value"], rows)


# -- the workbook -------------------------------------------------------------------------------------

def _local(text: str | None, tz: str) -> str:
    t = parse_iso(text) if text else None
    return to_local(t, tz).strftime("%Y-%m-%d %H:%M") if t is not None else ""


def _title(ws: Any, title: str, f: dict[str, Any]) -> None:
    from openpyxl.styles import Font

    s = f["slice"]
    where = " · ".join(x for x in (s["warehouse"], s["channel"]) if x) or "全部仓库和渠道 / all warehouses and channels"
    ws.append([title, f"{f['from']} — {f['to']}", where, f"时区 / time zone {s['tz']}"])
    ws["A1"].font = Font(bold=True, size=13)


def _header(ws: Any, *names: str) -> int:
    from openpyxl.styles import Font, PatternFill

    ws.append(list(names))
    row = ws.max_row
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0")
    return row


def _widths(ws: Any, *widths: float) -> None:
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _percent(ws: Any, first_row: int, last_row: int, *cols: int) -> None:
    for col in cols:
        for (cell,) in ws.iter_rows(min_row=first_row, max_row=last_row, min_col=col, max_col=col):
            cell.number_format = "0.0%"


def workbook(f: dict[str, Any]) -> bytes:
    """The report as an XLSX workbook with native charts (Excel, WPS and LibreOffice draw them)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, DoughnutChart, LineChart, Reference
    from openpyxl.chart.label import DataLabelList

    weekly = f["kind"] == "weekly"
    tz = f["slice"]["tz"]
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)

    # 概览 ------------------------------------------------------------------------------------------
    ws = wb.create_sheet("概览")
    _title(ws, ("周报 / Weekly report" if weekly else "日报 / Daily report") + " · PackDesk", f)
    first = _header(ws, "指标", "Figure", "数值 / Value") + 1
    for zh, en, value, fmt in f["overview"]:
        ws.append([zh, en, "—" if value is None else value])
        ws.cell(ws.max_row, 3).number_format = fmt
    ws.append([])
    ws.append(["生成时间 / Made at", _local(f["at"], tz)])
    ws.append(["口径见 docs/metrics.md、docs/reports.md", "Definitions: docs/metrics.md, docs/reports.md"])
    _widths(ws, 36, 44, 16, 24)
    del first

    # 每小时履约 ------------------------------------------------------------------------------------
    ws = wb.create_sheet("每小时履约")
    _title(ws, "每小时履约 / Fulfilment per hour" + (" (7 天合计 / 7 days summed)" if weekly else ""), f)
    head = _header(ws, "小时 / Hour", "应发 / Due", "按时发出 / On time", "履约率 / Rate",
                   "上周同日应发 / Due, week before", "上周同日按时 / On time, week before",
                   "上周同日履约率 / Rate, week before")
    for r in f["hours"]:
        ws.append([r["hour"], r["due"], r["on_time"], r["rate"], r["due_last_week"], r["on_time_last_week"],
                   r["rate_last_week"]])
    last = ws.max_row
    _percent(ws, head + 1, last, 4, 7)
    _widths(ws, 12, 10, 14, 12, 18, 20, 18)
    line = LineChart()
    line.title = "履约率：本期与上周同日 / On-time rate: this period vs the week before"
    line.y_axis.title = "履约率 / rate"
    line.x_axis.title = "小时 / hour"
    line.y_axis.number_format = "0%"
    line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
    line.add_data(Reference(ws, min_col=4, min_row=head, max_row=last), titles_from_data=True)
    line.add_data(Reference(ws, min_col=7, min_row=head, max_row=last), titles_from_data=True)
    line.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
    line.height, line.width = 9, 24
    ws.add_chart(line, "I2")

    # 订单状态 --------------------------------------------------------------------------------------
    ws = wb.create_sheet("订单状态")
    _title(ws, "订单状态（本期下单）/ Orders by state (ordered in the period)", f)
    head = _header(ws, "状态", "State", "订单数 / Orders")
    for state, n in f["states"]["by_state"].items():
        ws.append([state_label(state, "zh_CN"), state_label(state, "en"), n])
    last = ws.max_row
    ws.append(["合计", "Total", f["states"]["total"]])
    ws.append(["其中挂起（未解决异常）", "Of them held (open exceptions)", f["states"]["held"]])
    _widths(ws, 16, 18, 16)
    ring = DoughnutChart()
    ring.title = "订单状态 / Orders by state"
    ring.add_data(Reference(ws, min_col=3, min_row=head, max_row=last), titles_from_data=True)
    ring.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
    ring.dataLabels = DataLabelList()
    ring.dataLabels.showVal = True
    ring.height, ring.width = 9, 14
    ws.add_chart(ring, "E2")

    # 异常原因 --------------------------------------------------------------------------------------
    ws = wb.create_sheet("异常原因")
    _title(ws, "异常原因（本期新增）/ Exception reasons (holds raised in the period)", f)
    head = _header(ws, "异常类型", "Hold type", "次数 / Count")
    for t in f["exceptions"]["types"]:
        ws.append([hold_label(t["type"], "zh_CN"), hold_label(t["type"], "en"), t["count"]])
    last = ws.max_row
    if last == head:
        ws.append(["（无）", "(none)", 0])
    ws.append([])
    words_head = _header(ws, "原因高频词", "Word in the reasons people wrote", "次数 / Count")
    for w in f["exceptions"]["words"]:
        ws.append([w["word"], "", w["count"]])
    words_last = ws.max_row
    _widths(ws, 26, 32, 14)
    if last > head:
        bar = BarChart()
        bar.type = "bar"
        bar.title = "异常类型 / Hold types"
        bar.add_data(Reference(ws, min_col=3, min_row=head, max_row=last), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        bar.legend = None
        bar.height, bar.width = 8, 16
        ws.add_chart(bar, "E2")
    if words_last > words_head:
        bar = BarChart()
        bar.type = "bar"
        bar.title = "原因高频词 / Words in the reasons"
        bar.add_data(Reference(ws, min_col=3, min_row=words_head, max_row=words_last), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=words_head + 1, max_row=words_last))
        bar.legend = None
        bar.height, bar.width = 10, 16
        ws.add_chart(bar, "E19")

    # 缺货TOP ---------------------------------------------------------------------------------------
    ws = wb.create_sheet("缺货TOP")
    _title(ws, f"缺货 SKU TOP {TOP_SHORT}（当前，按仓库）/ Short SKUs now, per warehouse", f)
    head = _header(ws, "仓库 / Warehouse", "SKU", "商品名称 / Name", "缺口 / Short", "等待 / Waiting",
                   "可用 / Available", "在库 / On hand", "已预留 / Reserved", "等待订单数 / Orders")
    for wh in f["short_stock"]["warehouses"]:
        for s in wh["skus"]:
            ws.append([wh["warehouse"], neutralise_cell(s["sku"]), neutralise_cell(s["name"]), s["short"], s["waiting"], s["available"], s["on_hand"],
                       s["reserved"], s["orders"]])
    if ws.max_row == head:
        ws.append(["（无缺货）", "(nothing short)"])
    ws.append([])
    ws.append(["缺货是当前状态，不按渠道筛选。", "Shortage is the state now; it is not filtered by channel."])
    _widths(ws, 16, 18, 28, 10, 10, 10, 10, 12, 14)

    # 工位 ------------------------------------------------------------------------------------------
    ws = wb.create_sheet("工位")
    _title(ws, "工位与打包员 / Benches and packers", f)
    head = _header(ws, "工作台 / Bench", "本期已打包 / Packed", "每小时 / Per hour", "最近一小时 / Last hour",
                   "待处理 / Backlog", "最早等待自 / Oldest waiting since", "最长等待（分钟）/ Oldest wait (min)",
                   "预计清空（小时）/ Hours to clear")
    for b in f["benches"]["benches"]:
        ws.append([b["bench"], b["packed"], b["per_hour"], b["packed_last_hour"], b["backlog"],
                   _local(b["oldest_since"], tz), b["oldest_wait_min"], b["hours_to_clear"]])
    last = ws.max_row
    ws.append([])
    _header(ws, "打包员 / Packer", "工作台 / Bench", "本期已打包 / Packed", "最近一小时 / Last hour")
    for p in f["benches"]["packers"]:
        ws.append([p["operator"], p["bench"], p["packed"], p["packed_last_hour"]])
    _widths(ws, 16, 14, 12, 14, 12, 22, 20, 18)
    if last > head:
        bar = BarChart()
        bar.title = "已打包与待处理 / Packed and backlog"
        bar.add_data(Reference(ws, min_col=2, min_row=head, max_row=last), titles_from_data=True)
        bar.add_data(Reference(ws, min_col=5, min_row=head, max_row=last), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        bar.height, bar.width = 9, 20
        ws.add_chart(bar, "J2")

    # 每日趋势 (weekly) -------------------------------------------------------------------------------
    if weekly:
        ws = wb.create_sheet("每日趋势")
        _title(ws, "每日趋势 / Per-day trend", f)
        head = _header(ws, "日期 / Day", "收单 / Orders in", "应发 / Due", "按时发出 / On time",
                       "按时履约率 / On-time rate", "延迟率 / Delay rate", "新增异常 / Holds raised",
                       "挂起 / Held")
        for t in f["trend"]:
            ws.append([t["day"], t["orders_in"], t["due"], t["on_time"], t["rate"], t["delay_rate"], t["holds"],
                       t["held"]])
        last = ws.max_row
        _percent(ws, head + 1, last, 5, 6)
        _widths(ws, 14, 12, 10, 14, 18, 14, 16, 10)
        counts = BarChart()
        counts.title = "每日收单与应发 / Orders in and due per day"
        counts.add_data(Reference(ws, min_col=2, max_col=3, min_row=head, max_row=last), titles_from_data=True)
        counts.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        counts.height, counts.width = 8, 20
        ws.add_chart(counts, "J2")
        rates = LineChart()
        rates.title = "按时履约率与延迟率 / On-time and delay rates"
        rates.y_axis.number_format = "0%"
        rates.y_axis.scaling.min, rates.y_axis.scaling.max = 0, 1
        rates.add_data(Reference(ws, min_col=5, max_col=6, min_row=head, max_row=last), titles_from_data=True)
        rates.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        rates.height, rates.width = 8, 20
        ws.add_chart(rates, "J20")

    for sheet in wb.worksheets:
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def today(now: datetime, tz: str) -> date:
    """The site's day of ``now`` (the default report)."""
    return local_day(now, tz)
