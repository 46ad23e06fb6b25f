"""The supervisor's dashboard, without Qt: the slice asked for, the hub's answer read once, and what a
click on each figure opens (issue 16, docs/dashboard.md).

The desktop view (``ui/dashboard_view.py``) only draws a :class:`Figures`; everything that can be
wrong in an answer is found here, on the network worker, so the GUI thread gets a finished object
and applies it in one cheap step. A figure's click is a :class:`Drill`: the hub's
``GET /api/v1/metrics/orders`` answers the order IDs that figure counted (``hub/metrics_drill.py``),
and the queue page shows exactly those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from core.i18n import _
from core.states import State
from core.sync.client import HubMalformed
from core.timeutil import parse_iso

_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")
#: How many short SKUs the board lists (the issue's TOP5).
TOP_SHORT = 5


@dataclass(frozen=True)
class Filters:
    """The slice every figure takes (docs/metrics.md "The slice"); empty: the hub's default (all, today)."""

    warehouse: str = ""
    channel: str = ""
    bench: str = ""
    first: str = ""  # YYYY-MM-DD
    last: str = ""
    hours: str = ""  # "10-24"

    def params(self) -> dict[str, str]:
        """The query parameters (only the ones set).

        Raises:
            ValueError: a day or an hours span the hub would refuse, in words a person can act on.
        """
        out: dict[str, str] = {}
        for key, value in (("warehouse", self.warehouse), ("channel", self.channel), ("bench", self.bench)):
            if value.strip():
                out[key] = value.strip()
        for key, value in (("from", self.first), ("to", self.last)):
            if value.strip():
                try:
                    date.fromisoformat(value.strip())
                except ValueError:
                    raise ValueError(_("{value} is not a day such as 2026-12-06.").format(value=value)) from None
                out[key] = value.strip()
        if self.hours.strip():
            m = _HOURS.match(self.hours.strip())
            if not m or not 0 <= int(m.group(1)) < int(m.group(2)) <= 24:
                raise ValueError(_("Hours must look like 10-24 (from 10:00 to midnight)."))
            out["hours"] = self.hours.strip()
        return out


@dataclass(frozen=True)
class Drill:
    """What a click on a figure opens: ``figure``/``value`` for the hub (hub/metrics_drill.py), the slice
    it was drawn for, and the words the queue's filter line shows."""

    figure: str
    value: str
    label: str
    filters: Filters = field(default_factory=Filters)

    def params(self) -> dict[str, str]:
        return {**self.filters.params(), "figure": self.figure, "value": self.value}


@dataclass(frozen=True)
class HourPoint:
    hour: int
    due: int
    on_time: int
    rate: float | None  # None: the hour is not over, or nothing was due


@dataclass(frozen=True)
class BenchRow:
    bench: str
    backlog: int
    oldest_wait_min: int | None
    packed: int
    per_hour: float
    packed_last_hour: int
    hours_to_clear: float | None


@dataclass(frozen=True)
class ShortSku:
    sku: str
    name: str
    warehouse: str
    short: int
    orders: int


@dataclass(frozen=True)
class Connector:
    id: int
    platform: str
    shop_id: str
    state: str  # ok / starting / failing / paused
    lag_s: float | None
    orders_today: int
    last_error: str


@dataclass(frozen=True)
class Figures:
    """One answer of the hub, read: what the board draws."""

    at: datetime
    slice: dict[str, Any]
    states: dict[str, int]
    total: int
    held: int
    day: str
    today: list[HourPoint]
    last_week_day: str
    last_week: list[HourPoint]
    due: int
    late: int
    delay_rate: float | None
    hold_types: list[tuple[str, int]]
    words: list[tuple[str, int]]
    benches: list[BenchRow]
    short: list[ShortSku]
    connectors: list[Connector]
    touchpoint: dict[str, Any] | None = None

    def with_touchpoint(self, total: dict[str, Any] | None) -> Figures:
        return replace(self, touchpoint=total)


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(v)
    return v


def _rate(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(v)
    return float(v)


def _hours(rows: Any) -> list[HourPoint]:
    return [HourPoint(int(str(r["hour"])[:2]), _int(r["due"]), _int(r["on_time"]), _rate(r["rate"])) for r in rows]


def parse_dashboard(data: dict[str, Any]) -> Figures:
    """The hub's ``/metrics/dashboard`` answer as :class:`Figures`.

    Raises:
        HubMalformed: a part the board cannot read (the last figures stay on screen).
    """
    try:
        at = parse_iso(data["at"])
        if at is None:
            raise TypeError("at")
        st, fu, de, ex = data["states"], data["fulfilment"], data["delay"], data["exceptions"]
        states = {s.value: _int(st["by_state"].get(s.value, 0)) for s in State}
        benches = [BenchRow(str(b["bench"]), _int(b["backlog"]), b.get("oldest_wait_min"), _int(b["packed"]),
                            float(b["per_hour"]), _int(b.get("packed_last_hour", 0)), b.get("hours_to_clear"))
                   for b in data["benches"]["benches"]]
        short = [ShortSku(str(r["sku"]), str(r.get("name") or ""), str(w["warehouse"]), _int(r["short"]),
                          _int(r["orders"]))
                 for w in data["short_stock"]["warehouses"] for r in w["skus"]]
        short.sort(key=lambda r: (-r.short, -r.orders, r.sku, r.warehouse))
        connectors = [Connector(int(c["id"]), str(c["platform"]), str(c["shop_id"]), str(c["state"]), c.get("lag_s"),
                                _int(c.get("orders_today") or 0), str(c.get("last_error") or ""))
                      for c in data["connectors"]["connectors"]]
        return Figures(
            at=at, slice=dict(data.get("slice") or {}), states=states, total=_int(st["total"]), held=_int(st["held"]),
            day=str(fu["day"]), today=_hours(fu["hours"]), last_week_day=str(fu["last_week"]["day"]),
            last_week=_hours(fu["last_week"]["hours"]), due=_int(de["due"]), late=_int(de["late"]),
            delay_rate=_rate(de["rate"]),
            hold_types=[(str(t["type"]), _int(t["count"])) for t in ex["types"]],
            words=[(str(w["word"]), _int(w["count"])) for w in ex["words"]],
            benches=benches, short=short[:TOP_SHORT], connectors=connectors)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HubMalformed(_("The hub's dashboard answer is incomplete."), details={"part": str(exc)[:80]}) from None


def fetch(engine: Any, filters: Filters) -> Figures:
    """One refresh, on the network worker: the dashboard (one request), then the desk's touchpoint
    headline for the slice's last day (a hub without tickets: no headline, the rest stands)."""
    from core.sync.client import HubRefused

    params = filters.params()
    figures = parse_dashboard(engine.call_hub(lambda c: c.metrics_dashboard(params)))
    try:
        tp = engine.call_hub(lambda c: c.metrics_touchpoint(figures.day))
    except (HubRefused, HubMalformed):
        return figures
    total = tp.get("total")
    return figures.with_touchpoint(total if isinstance(total, dict) else None)
