"""The touchpoint metric (hub/metrics_touchpoint.py, docs/tickets.md) against a hand-computed fixture,
on SQLite (ranks) and PostgreSQL (percentile_cont); the weekly XLSX opened back with openpyxl.

The fixture (UTC times; the site is Asia/Shanghai, +8 h; "now" is 2026-12-01 12:00Z):

Local day 2026-11-30:
* A: contact 01:00, reply 01:10, close 02:00 → A1 reply 600 s, closed 3600 s.
* B: contact 01:00, the customer chases 01:30 (joins A waiting episode: the clock is not restarted),
  reply 02:00; contact 03:00 while the ticket is open and answered → a new episode; reply 03:20;
  close 06:00 → B1 reply 3600, closed 18000; B2 reply 1200, closed 10800.
* C: contact 01:00, reply 01:05, close 01:30, reopened by staff 02:00, closed again 07:00 → the first
  close is taken back: C1 reply 300, closed 21600.
* D: contact 01:00, no reply yet → D1 waits (counted, no reply time), judged for the 4 h share.
Local day 2026-12-01:
* G: contact 2026-11-30 16:30Z (00:30 local on Dec 1), reply 16:40, close 17:00 → G1 600 / 1800.
* F: contact Dec 1 02:00, reply 02:30, close 03:00; the customer contacts again 05:00 (the ticket
  reopens, F1's close is taken back, a new episode) and gets a reply 05:15 → F1 1800 / —, F2 900 / —.
* E: contact Dec 1 10:00, no reply: 2 h old at "now", so not yet judged for the 4 h share.

By hand (percentile_cont: rank 1 + p·(n−1), linear between neighbours):
* Nov 30: 5 contacts, 4 replied, 1 waiting, 4 closed. Replies 300 600 1200 3600 → median 900,
  p90 2880. Closes 3600 10800 18000 21600 → median 14400, p90 20520. Within 4 h: A1, B2 = 2 of 5.
* Dec 1: 4 contacts, 3 replied, 1 waiting, 1 closed. Replies 600 900 1800 → median 900, p90 1620.
  Close 1800 → 1800 / 1800. Within 4 h: G1 = 1 of 3 (E not judged yet).
* All / the week of Mon Nov 30: 9, 7, 2, 5; replies 300 600 600 900 1200 1800 3600 → 900 / 2520;
  closes 1800 3600 10800 18000 21600 → 10800 / 20160; 3 of 8.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from hub import metrics_touchpoint as mt
from hub.api.deps import Hub
from tests.hub.ticket_helpers import act_at, make_hub, new_order, serve

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11 if day > 1 else 12, day, hh, mm, tzinfo=UTC)


def build(hub: Hub) -> None:
    oid = new_order(hub)

    def opened(tid: str, when: datetime) -> None:
        act_at(hub, when, oid, "ticket_opened", {"ticket_id": tid, "type": "urge_ship", "channel": "phone"})

    def do(tid: str, when: datetime, kind: str, **payload: str) -> None:
        act_at(hub, when, oid, kind, {"ticket_id": tid, **payload})
    reply = {"channel": "phone", "text": "回复"}
    opened("A", at(30, 1))
    do("A", at(30, 1, 10), "ticket_replied", **reply)
    do("A", at(30, 2), "ticket_closed", resolution="已解决")
    opened("B", at(30, 1))
    do("B", at(30, 1, 30), "ticket_contact", channel="wecom")
    do("B", at(30, 2), "ticket_replied", **reply)
    do("B", at(30, 3), "ticket_contact", channel="phone")
    do("B", at(30, 3, 20), "ticket_replied", **reply)
    do("B", at(30, 6), "ticket_closed", resolution="已解决")
    opened("C", at(30, 1))
    do("C", at(30, 1, 5), "ticket_replied", **reply)
    do("C", at(30, 1, 30), "ticket_closed", resolution="已解决")
    do("C", at(30, 2), "ticket_reopened", reason="客户没收到")
    do("C", at(30, 7), "ticket_closed", resolution="补发")
    opened("D", at(30, 1))
    opened("G", at(30, 16, 30))
    do("G", at(30, 16, 40), "ticket_replied", **reply)
    do("G", at(30, 17), "ticket_closed", resolution="已解决")
    opened("F", at(1, 2))
    do("F", at(1, 2, 30), "ticket_replied", **reply)
    do("F", at(1, 3), "ticket_closed", resolution="已解决")
    do("F", at(1, 5), "ticket_contact", channel="sms")
    do("F", at(1, 5, 15), "ticket_replied", **reply)
    opened("E", at(1, 10))


def fig(n: int, replied: int, waiting: int, closed: int, r50: float | None, r90: float | None,
        c50: float | None, c90: float | None, within: int, of: int) -> dict[str, Any]:
    return {"contacts": n, "replied": replied, "waiting_reply": waiting, "closed": closed,
            "reply_median_s": r50, "reply_p90_s": r90, "close_median_s": c50, "close_p90_s": c90,
            "closed_within_4h": within, "closed_within_4h_of": of,
            "closed_within_4h_share": round(within / of, 4) if of else None}


NOV30 = fig(5, 4, 1, 4, 900.0, 2880.0, 14400.0, 20520.0, 2, 5)
DEC1 = fig(4, 3, 1, 1, 900.0, 1620.0, 1800.0, 1800.0, 1, 3)
ALL = fig(9, 7, 2, 5, 900.0, 2520.0, 10800.0, 20160.0, 3, 8)


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    with make_hub(db_url) as h:
        build(h)
        yield h


def test_the_metric_by_day_and_week_matches_the_hand_computed_fixture(hub: Hub) -> None:
    by_day = hub.read(lambda c: mt.touchpoint(c, mt.Range(date(2026, 11, 29), date(2026, 12, 2), "day"), NOW))
    assert [b["bucket"] for b in by_day["buckets"]] == ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
    assert by_day["buckets"][0] == {"bucket": "2026-11-29", **mt.EMPTY}
    assert by_day["buckets"][1] == {"bucket": "2026-11-30", **NOV30}
    assert by_day["buckets"][2] == {"bucket": "2026-12-01", **DEC1}
    assert by_day["total"] == ALL
    by_week = hub.read(lambda c: mt.touchpoint(c, mt.Range(date(2026, 11, 30), date(2026, 12, 6), "week"), NOW))
    assert by_week["buckets"] == [{"bucket": "2026-11-30", **ALL}]
    # Over more than 31 days the total keeps its counts but not its percentiles (a sort of every contact).
    long = hub.read(lambda c: mt.touchpoint(c, mt.Range(date(2026, 11, 1), date(2026, 12, 6), "week"), NOW))
    assert long["total"] == {**ALL, "reply_median_s": None, "reply_p90_s": None, "close_median_s": None,
                             "close_p90_s": None}
    assert long["buckets"][-1] == {"bucket": "2026-11-30", **ALL}
        # A type filter, and a later "now" that judges E (still open after 4 h: not within).
    later = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    one_day = mt.Range(date(2026, 12, 1), date(2026, 12, 1), "day")
    assert hub.read(lambda c: mt.touchpoint(c, one_day, later))["total"]["closed_within_4h_of"] == 4
    assert hub.read(lambda c: mt.touchpoint(c, one_day, later, "complaint"))["total"] == mt.EMPTY


def test_range_parsing_refuses_what_it_cannot_answer() -> None:
    today = date(2026, 12, 6)
    assert mt.Range.parse(None, None, "day", today) == mt.Range(date(2026, 11, 9), today, "day")
    for first, last, by in [("2026-12-07", "2026-12-01", "day"), ("2026/12/01", None, "day"),
                            (None, None, "month"), ("2025-01-01", "2026-12-01", "week")]:
        with pytest.raises(mt.ValidationFailed):
            mt.Range.parse(first, last, by, today)


def test_the_weekly_xlsx_has_the_figures_and_a_trend_chart(tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, LineChart

    with serve(f"sqlite:///{tmp_path / 'web.db'}") as (hub, url), requests.Session() as http:
        build(hub)
        r = http.post(url + "/api/v1/auth/login", timeout=10, json={
            "operator": "S001", "pin": "3333", "station": "ST-S001", "bench": None, "device_id": "dev-s"})
        sup = {"Authorization": f"Bearer {r.json()['token']}"}
        r = http.post(url + "/api/v1/auth/login", timeout=10, json={
            "operator": "D001", "pin": "2222", "station": "ST-D001", "bench": None, "device_id": "dev-d"})
        desk = {"Authorization": f"Bearer {r.json()['token']}"}
        q = {"from": "2026-11-23", "to": "2026-12-06"}
        j = http.get(url + "/api/v1/metrics/touchpoint", headers=sup, params={**q, "by": "week"}, timeout=10).json()
        assert [b["bucket"] for b in j["buckets"]] == ["2026-11-23", "2026-11-30"]
        assert j["buckets"][1]["contacts"] == 9 and j["buckets"][1]["reply_median_s"] == 900.0
        assert http.get(url + "/api/v1/metrics/touchpoint", headers=desk, timeout=10).status_code == 403
        assert http.get(url + "/api/v1/metrics/touchpoint", headers=sup, params={"by": "year"},
                        timeout=10).status_code == 400
        r = http.get(url + "/api/v1/metrics/touchpoint.xlsx", headers=sup, params=q, timeout=10)
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["触点响应"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert rows[0][:5] == ("2026-11-23", 0, 0, 0, 0)
    # the week of Nov 30: 9 contacts, 7 replied, 2 waiting, 5 closed; minutes 15 / 42 / 180 / 336; and
    # 3 of 9 within 4 h: the hub's real clock is days past the fixture, so E is judged too
    assert rows[1] == ("2026-11-30", 9, 7, 2, 5, 15.0, 42.0, 180.0, 336.0, 0.3333)
    assert ws.cell(row=4, column=10).number_format == "0.0%"
    charts = ws._charts
    assert [type(c) for c in charts] == [LineChart, BarChart]
    assert len(charts[0].series) == 4 and len(charts[1].series) == 1
