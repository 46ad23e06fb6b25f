"""The daily and weekly reports and the orders CSV (hub/reports.py, hub/api/reports.py, docs/reports.md).

The workbook is read back with openpyxl: every sheet, its charts, and its numbers against the
metrics endpoints' answers for the same slice over the same real HTTP hub (the fixture of
tests/hub/test_metrics.py: day D = 2026-11-23 in Asia/Shanghai, with an order at 23:59 that is D's
and one at 00:01 the next day that is not). The orders CSV is read back as Excel would: BOM,
Chinese, and a name with a comma, a quote and a line break.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook
from sqlalchemy import insert

from core.order_csv import BOM
from hub import auth, db, reports
from hub.api.deps import Hub
from hub.api.reports import order_rows
from hub.app import create_app
from hub.config import HubSettings
from tests.helpers.waiting import wait_until
from tests.hub import test_metrics
from tests.hub.test_metrics import TZ, D, row
from tests.hubproc import free_port

# The fixture of tests/hub/test_metrics.py (its hub over HTTP, on SQLite and PostgreSQL), shared.
hub_url, hub, site = test_metrics.hub_url, test_metrics.hub, test_metrics.site

SHEETS = ["概览", "每小时履约", "订单状态", "异常原因", "缺货TOP", "工位"]


def overview(ws: Any) -> dict[str, Any]:
    """The 概览 sheet as {English figure: value}."""
    return {r[1]: r[2] for r in ws.iter_rows(min_row=3, values_only=True) if r[1] and r[2] is not None}


def test_the_daily_workbook_has_every_sheet_with_charts_and_the_metrics_numbers(site: Any) -> None:
    r = site.get("/api/v1/reports/daily.xlsx", "S001", date=D.isoformat())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == reports.XLSX_TYPE
    assert 'filename="packdesk-daily-2026-11-23.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == SHEETS
    for name in ("每小时履约", "订单状态", "异常原因", "工位"):
        assert wb[name]._charts, f"{name} has no chart"  # native charts, read back from the file

    q = {"from": D.isoformat(), "to": D.isoformat()}
    states = site.get("/api/v1/metrics/states", "S001", **q).json()
    delay = site.get("/api/v1/metrics/delay", "S001", **q).json()
    fulfil = site.get("/api/v1/metrics/fulfilment", "S001", **q).json()
    exc = site.get("/api/v1/metrics/exceptions", "S001", **q).json()
    benches = site.get("/api/v1/metrics/benches", "S001", **q).json()

    head = overview(wb["概览"])
    # Z came in at 23:59 Shanghai time: D's; E at 00:01 the next day is not (6, by hand in test_metrics).
    assert head["Orders in (ordered in the period)"] == states["total"] == 6
    assert head["Open exceptions (held orders of the period)"] == states["held"] == 2
    assert head["Orders past their ship-by"] == delay["due"]
    assert head["Late (shipped late or not shipped)"] == delay["late"]
    assert head["Delay rate"] == pytest.approx(delay["rate"])
    due = sum(h["due"] for h in fulfil["hours"])
    ok = sum(h["on_time"] for h in fulfil["hours"])
    assert (head["Due (ship-by in the period, up to now)"], head["Shipped on time"]) == (due, ok) == (4, 1)
    assert head["On-time fulfilment rate"] == pytest.approx(ok / due)
    assert head["Holds raised"] == sum(t["count"] for t in exc["types"]) == 3
    assert head["Shipped (of those, shipped or delivered)"] == states["by_state"]["shipped"] == 2

    hours = list(wb["每小时履约"].iter_rows(min_row=3, values_only=True))
    assert len(hours) == 24
    by_hour = {h[0]: h for h in hours}
    for h in fulfil["hours"]:
        assert by_hour[h["hour"]][1:4] == (h["due"], h["on_time"], h["rate"])
    for h in fulfil["last_week"]["hours"]:
        assert by_hour[h["hour"]][4:6] == (h["due"], h["on_time"])
    assert by_hour["12:00"][3] == 0.5 and by_hour["12:00"][6] == 0.5

    state_rows = {r[1]: r[2] for r in wb["订单状态"].iter_rows(min_row=3, values_only=True) if r[1]}
    assert state_rows["Total"] == 6
    assert state_rows["shipped"] == 2 and state_rows["paid"] == 1  # paid: Z, 23:59

    reasons = [r[:3] for r in wb["异常原因"].iter_rows(min_row=3, max_col=3, values_only=True)]
    assert [(r[1], r[2]) for r in reasons[:2]] == [("Item missing or damaged", 2), ("Carrier does not cover area", 1)]
    assert [t["count"] for t in exc["types"]] == [2, 1]
    assert ("赠品", None, exc["words"][0]["count"]) in reasons and exc["words"][0]["word"] == "赠品"

    bench_rows = {r[0]: r for r in wb["工位"].iter_rows(min_row=3, values_only=True) if r[0]}
    for b in benches["benches"]:
        assert bench_rows[b["bench"]][1] == b["packed"] and bench_rows[b["bench"]][4] == b["backlog"]
    assert bench_rows["P001"][2] == 2  # the packer table: P001 packed A and B


def test_the_next_days_report_counts_the_order_at_0001_and_a_warehouse_slice(site: Any) -> None:
    nxt = (D + timedelta(days=1)).isoformat()
    r = site.get("/api/v1/reports/daily.xlsx", "S001", date=nxt)
    assert overview(load_workbook(io.BytesIO(r.content))["概览"])["Orders in (ordered in the period)"] == 1
    r = site.get("/api/v1/reports/daily.xlsx", "S001", date=D.isoformat(), warehouse="WH-GZ")
    wb = load_workbook(io.BytesIO(r.content))
    assert overview(wb["概览"])["Orders in (ordered in the period)"] == 1
    assert wb["概览"]["C1"].value == "WH-GZ"


def test_the_weekly_workbook_has_a_per_day_trend_that_adds_up(site: Any) -> None:
    monday = D - timedelta(days=D.weekday())
    assert monday == D  # 2026-11-23 is a Monday
    r = site.get("/api/v1/reports/weekly.xlsx", "S001", week=monday.isoformat())
    assert r.status_code == 200, r.text
    if os.environ.get("PACKDESK_SCREENSHOTS"):  # to open in Excel / WPS / LibreOffice and look (docs/reports.md)
        (Path(os.environ["PACKDESK_SCREENSHOTS"]) / "weekly-report.xlsx").write_bytes(r.content)
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [*SHEETS, "每日趋势"]
    trend = wb["每日趋势"]
    assert len(trend._charts) == 2
    days = list(trend.iter_rows(min_row=3, values_only=True))
    assert [d[0] for d in days] == [(monday + timedelta(days=i)).isoformat() for i in range(7)]
    assert (days[0][1], days[1][1]) == (6, 1)  # D: six (Z at 23:59 included); D+1: E
    head = overview(wb["概览"])
    assert head["Orders in (ordered in the period)"] == sum(d[1] for d in days) == 7
    assert head["Due (ship-by in the period, up to now)"] == sum(d[2] for d in days)


def test_the_headline_csv_and_bad_dates_and_roles(site: Any) -> None:
    r = site.get("/api/v1/reports/daily.csv", "S001", date=D.isoformat())
    assert r.status_code == 200 and r.content.startswith(BOM.encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "Figure", "数值 / Value"]
    assert ["收单（本期下单）", "Orders in (ordered in the period)", "6"] in rows
    assert site.get("/api/v1/reports/weekly.csv", "S001", week=D.isoformat()).status_code == 200
    for path, params, words in [
        ("/api/v1/reports/daily.xlsx", {"date": "2026-02-30"}, "2026-12-07"),
        ("/api/v1/reports/weekly.xlsx", {"week": "2026-11-25"}, "starts on 2026-11-23"),
        ("/api/v1/reports/weekly.csv", {"week": "last week"}, "a day such as"),
    ]:
        r = site.get(path, "S001", **params)
        assert r.status_code == 400 and words in r.json()["message"], (path, r.text)
    assert site.get("/api/v1/reports/daily.xlsx", None).status_code == 401
    assert site.get("/api/v1/reports/daily.xlsx", "D001").status_code == 403  # desk: not a supervisor's report


# -- the orders CSV, streamed ---------------------------------------------------------------------------

TRICKY = '王, "小明"\n二号'


def _doc(oid: str, i: int) -> dict[str, Any]:
    return {"order_id": oid, "channel": "douyin", "channel_order_no": f"DY{i}", "state": "allocated",
            "warehouse": "WH-SH", "bench": "B1" if i % 2 else "B2", "waybill_no": f"ZT{i:08d}", "carrier": "zto",
            "recipient": {"name": TRICKY if i == 7 else f"收件人{i}", "phone": "13812345678", "province": "浙江省",
                          "city": "杭州市", "district": "西湖区", "address": "文三路 1 号, 2 楼"},
            "lines": [{"sku": "SKU-1", "name": "绿茶", "qty": 2}], "ship_by": "2026-12-06T15:59:00Z",
            "holds": [{"type": "gift_stock", "reason": "赠品缺货"}] if i % 5 == 0 else []}


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, str]]:
    """2,503 orders on a fresh SQLite hub served over real HTTP."""
    path = tmp_path_factory.mktemp("orders_csv") / "hub.db"
    app = create_app(HubSettings(database_url=f"sqlite:///{path}", timezone=TZ, demo=True))
    h: Hub = app.state.hub
    db.migrate(h.engine)
    h.tx(auth.seed_operators)
    came = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    rows = []
    for i in range(2503):
        oid = f"BL20261206-{i:06d}"
        r = row(oid, came, bench="B1" if i % 2 else "B2", state="allocated", held=i % 5 == 0)
        r["doc"] = _doc(oid, i)
        rows.append(r)
    with h.engine.begin() as c:
        c.execute(insert(db.orders), rows)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    try:
        yield h, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        h.engine.dispose()
        h.reader.dispose()


def test_the_orders_csv_streams_every_order_once_in_pages(many: tuple[Hub, str]) -> None:
    from tests.hub.test_short_stock_metric import Site

    h, url = many
    s = Site(h, url)
    r = s.get("/api/v1/orders.csv", "D001")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv") and r.headers.get("transfer-encoding") == "chunked"
    assert r.content.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "订单号 / Order ID" and len(rows) == 1 + 2503
    ids = [x[0] for x in rows[1:]]
    assert ids == sorted(ids) and len(set(ids)) == 2503  # across the page boundaries at 1000 and 2000
    seven = next(x for x in rows if x[0] == "BL20261206-000007")
    assert seven[7] == TRICKY  # comma, quote and line break survive
    assert seven[8] == "138****5678" and "文三路 1 号, 2 楼" in seven[9] and seven[10] == "SKU-1 绿茶 ×2"
    assert seven[3] == "已分仓" and seven[13] == "2026-12-06 23:59"  # site time
    held = s.get("/api/v1/orders.csv", "D001", hold="gift_stock", bench="B2").content.decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(held)))[1:]
    assert len(got) == len([i for i in range(2503) if i % 10 == 0]) and all("赠品缺货" in x[6] for x in got)
    assert s.get("/api/v1/orders.csv", "P001").status_code == 403
    r = s.get("/api/v1/orders.csv", "D001", state="lost")
    assert r.status_code == 400 and "allocated" in r.json()["message"]
    assert s.get("/api/v1/orders.csv", "D001", hold="maybe").status_code == 400
    s.session.close()


@pytest.mark.parametrize("page", [1, 7, 2503, 2504, 1000])
def test_keyset_pages_lose_and_repeat_nothing_at_any_boundary(many: tuple[Hub, str], page: int) -> None:
    h, _url = many
    got = [r[0] for r in order_rows(h, state=None, bench="B2", warehouse=None, hold=None, page=page)] \
        if page > 1 else [r[0] for r in order_rows(h, state="allocated", bench=None, warehouse="WH-SH", hold="any",
                                                     page=page)]
    want = 1252 if page > 1 else 501
    assert len(got) == len(set(got)) == want and got == sorted(got)



def test_returns_are_counted_on_the_sites_day_for_the_slice(tmp_path: Path) -> None:
    h = Hub(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", timezone=TZ))
    db.migrate(h.engine)
    try:
        came = test_metrics.at(D, 9)
        with h.engine.begin() as c:
            c.execute(insert(db.orders), [row("R1", came, state="closed"), row("R2", came, wh="WH-GZ", state="closed")])
            c.execute(insert(db.audit), [
                {"order_id": oid, "at": at_, "operator": "D001", "station": "S", "what": what, "from_state": "delivered",
                 "to_state": "closed", "why": "", "action_id": None, "details": {}}
                for oid, at_, what in [("R1", test_metrics.at(D, 23, 59), "return_received"),  # D's, site time
                                       ("R2", test_metrics.at(D, 12), "returned_to_sender"),
                                       ("R1", test_metrics.at(D + timedelta(days=1), 0, 1), "return_received"),
                                       ("R2", test_metrics.at(D, 13), "completed")]])
        with h.engine.connect() as c:
            assert reports.returns_count(c, test_metrics.metrics.Slice(D, D, TZ)) == 2
            assert reports.returns_count(c, test_metrics.metrics.Slice(D, D, TZ, warehouse="WH-GZ")) == 1
    finally:
        h.engine.dispose()
        h.reader.dispose()
