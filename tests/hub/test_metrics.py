"""The supervisor's figures (hub/metrics.py, docs/metrics.md) against a hand-computed fixture, on
SQLite and PostgreSQL (the SQL differs per dialect: JSON paths, CASE buckets, time comparisons).

Site time is Asia/Shanghai (UTC+8). Day D = 2026-11-23; "now" is D+1 01:00 site time, so every hour
of D is over. Orders (site times; ``—`` none):

===== ======= ======= ===== ====== ========== ============ ============= ============= ==============
order came in  wh      chan  bench  state      ship-by      shipped       packed        hold
===== ======= ======= ===== ====== ========== ============ ============= ============= ==============
A     D 09:00  SH     dy    B1     shipped    D 12:00      D 11:00       P001 D 10:30
B     D 10:30  SH     dy    B1     shipped    D 12:30      D 13:00 late  P001 D 12:50  item_missing
C     D 11:00  SH     pdd   B2     allocated  D 14:00      —             —             item_missing
X     D 10:00  SH     dy    —      closed     D 12:40      — (cancelled)
G     D 12:00  GZ     dy    B3     printed    D 18:00      —                           carrier_area
Z     D 23:59  SH     dy    —      paid       D+1 20:00    —
E     D+1 00:01 SH    dy    —      paid       D+1 20:00    —             (the next day)
L1    D-7 …    SH     dy    B1     shipped    D-7 12:10    D-7 12:00
L2    D-7 …    SH     dy    B1     shipped    D-7 12:20    D-7 12:30 late
===== ======= ======= ===== ====== ========== ============ ============= ============= ==============

By hand: on D, states: shipped 2 (A, B), allocated 1, label_printed 1, paid 1 (Z: 23:59 is D's),
closed 1; 6 in all, 2 held (C, G). From 10:00: B, C, X, G, Z = 5.
Fulfilment on D: hour 12 due 2 (A, B; X cancelled is not due) on time 1 → 0.5; hour 14: 1, 0; hour
18: 1, 0. A week before: hour 12 due 2 on time 1. Delay on D (due by now, not cancelled): A, B, C, G
→ 4 due, 3 late (B shipped late; C, G not shipped) = 0.75; from 10:00: B, C, G → 3 of 3; WH-GZ: 1 of 1.
Exceptions on D: item_missing 2, carrier_area 1; words of the two reasons people typed: 赠品 3 times.
Benches: B2 (C, waiting since D 11:00: 840 min), B3 (G, 780 min), B1 packed 2 (P001), none in the
last hour.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import insert, select

from hub import auth, db, metrics, metrics_drill
from hub.actions import process_batch
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from hub.writer import Actor
from tests.conftest import require_postgres
from tests.helpers.waiting import wait_until
from tests.hubproc import free_port, fresh_pg_database

TZ = "Asia/Shanghai"
D = date(2026, 11, 23)  # in the past: the HTTP figures use the real clock
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # D+1 01:00 in Shanghai


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """Site time (UTC+8) as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def row(oid: str, came: datetime, *, wh: str = "WH-SH", chan: str = "douyin", bench: str | None = None,
        state: str = "paid", ship_by: datetime | None = None, shipped: datetime | None = None,
        packed: tuple[str, datetime] | None = None, held: bool = False) -> dict[str, Any]:
    return {"order_id": oid, "channel": chan, "channel_order_no": oid, "channel_status": "paid",
            "channel_updated_at": came, "state": state, "version": 1, "bench": bench, "warehouse": wh,
            "waybill_no": None, "phone_tail": "0000", "recipient_name": "x", "held": held, "created_at": came,
            "updated_at": came, "doc": {"order_id": oid}, "paid_at": came, "ship_by": ship_by, "shipped_at": shipped,
            "packed_by": packed[0] if packed else None, "packed_at": packed[1] if packed else None}


def hold(oid: str, when: datetime, kind: str, operator: str, why: str) -> dict[str, Any]:
    return {"order_id": oid, "at": when, "operator": operator, "station": "S", "what": "hold_raised",
            "from_state": "allocated", "to_state": "allocated", "why": why, "action_id": None,
            "details": {"hold": {"type": kind, "reason": why}}}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per backend for the whole module: the figures only read the fixture."""
    if request.param == "postgres":
        require_postgres()
        with fresh_pg_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'hub.db'}"


@pytest.fixture(scope="module")
def hub(hub_url: str) -> Iterator[Hub]:
    db_url = hub_url
    h = Hub(HubSettings(database_url=db_url, timezone=TZ, demo=True))  # demo: the demo PINs log in
    db.migrate(h.engine)
    wk = D - timedelta(days=7)
    orders = [
        row("A", at(D, 9), bench="B1", state="shipped", ship_by=at(D, 12), shipped=at(D, 11),
            packed=("P001", at(D, 10, 30))),
        row("B", at(D, 10, 30), bench="B1", state="shipped", ship_by=at(D, 12, 30), shipped=at(D, 13),
            packed=("P001", at(D, 12, 50))),
        row("C", at(D, 11), chan="pinduoduo", bench="B2", state="allocated", ship_by=at(D, 14), held=True),
        row("X", at(D, 10), state="closed", ship_by=at(D, 12, 40)),
        row("G", at(D, 12), wh="WH-GZ", bench="B3", state="label_printed", ship_by=at(D, 18), held=True),
        row("Z", at(D, 23, 59), ship_by=at(D + timedelta(days=1), 20)),
        row("E", at(D + timedelta(days=1), 0, 1), ship_by=at(D + timedelta(days=1), 20)),
        row("L1", at(wk, 9), bench="B1", state="shipped", ship_by=at(wk, 12, 10), shipped=at(wk, 12)),
        row("L2", at(wk, 9), bench="B1", state="shipped", ship_by=at(wk, 12, 20), shipped=at(wk, 12, 30)),
    ]
    audit = [
        hold("B", at(D, 12, 40), "item_missing", "P001", "赠品缺货，客户要求补发赠品"),
        hold("C", at(D, 13), "item_missing", "P002", "顾客说少发了一件赠品"),
        hold("G", at(D, 12, 1), "carrier_area", "system", "中通不覆盖该地区"),
        hold("C", at(D - timedelta(days=1), 13), "item_missing", "P002", "昨天的赠品"),  # another day
    ]
    with h.engine.begin() as c:
        c.execute(insert(db.orders), orders)
        c.execute(insert(db.audit), audit)
    yield h
    h.engine.dispose()
    h.reader.dispose()


def sl(**kw: Any) -> metrics.Slice:
    return metrics.Slice(D, D, TZ, **kw)


def test_orders_by_state_counts_the_sites_day_and_time_of_day(hub: Hub) -> None:
    with hub.engine.connect() as c:
        got = metrics.orders_by_state(c, sl())
        assert got["total"] == 6 and got["held"] == 2
        assert {k: v for k, v in got["by_state"].items() if v} == {
            "shipped": 2, "allocated": 1, "label_printed": 1, "paid": 1, "closed": 1}
        assert metrics.orders_by_state(c, sl(hours=(10, 24)))["total"] == 5
        assert metrics.orders_by_state(c, sl(channel="pinduoduo"))["total"] == 1
        nxt = metrics.Slice(D + timedelta(days=1), D + timedelta(days=1), TZ)
        assert metrics.orders_by_state(c, nxt)["total"] == 1  # E at 00:01 is the next day's


def test_fulfilment_per_hour_beside_the_same_weekday_last_week(hub: Hub) -> None:
    with hub.engine.connect() as c:
        got = metrics.fulfilment_per_hour(c, sl(), NOW)
    hours = {h["hour"]: h for h in got["hours"] if h["due"]}
    assert {k: (v["due"], v["on_time"], v["rate"]) for k, v in hours.items()} == {
        "12:00": (2, 1, 0.5), "14:00": (1, 0, 0.0), "18:00": (1, 0, 0.0)}
    assert all(h["over"] for h in got["hours"])
    week = {h["hour"]: (h["due"], h["on_time"]) for h in got["last_week"]["hours"] if h["due"]}
    assert got["last_week"]["day"] == "2026-11-16" and week == {"12:00": (2, 1)}


def test_an_hour_not_over_has_counts_but_no_rate(hub: Hub) -> None:
    with hub.engine.connect() as c:
        got = metrics.fulfilment_per_hour(c, sl(), at(D, 14, 30))
    h14 = got["hours"][14]
    assert h14["due"] == 1 and h14["over"] is False and h14["rate"] is None
    assert got["hours"][12]["rate"] == 0.5


def test_delay_rate_for_any_slice(hub: Hub) -> None:
    with hub.engine.connect() as c:
        assert metrics.delay_rate(c, sl(), NOW) == {
            "due": 4, "late": 3, "shipped_late": 1, "not_shipped": 2, "rate": 0.75}
        assert metrics.delay_rate(c, sl(hours=(10, 24)), NOW)["rate"] == 1.0
        gz = metrics.delay_rate(c, sl(warehouse="WH-GZ"), NOW)
        assert (gz["due"], gz["late"]) == (1, 1)
        assert metrics.delay_rate(c, sl(warehouse="WH-NONE"), NOW)["rate"] is None


def test_exception_reasons_by_type_and_the_words_people_wrote(hub: Hub) -> None:
    with hub.engine.connect() as c:
        got = metrics.exception_reasons(c, sl())
        assert got["types"] == [{"type": "item_missing", "count": 2}, {"type": "carrier_area", "count": 1}]
        assert got["words"][0] == {"word": "赠品", "count": 3}
        assert "中通" not in {w["word"] for w in got["words"]}  # the hub's own template words are not counted
        assert metrics.exception_reasons(c, sl(warehouse="WH-GZ"))["types"] == [{"type": "carrier_area", "count": 1}]


def test_benches_show_who_is_behind(hub: Hub) -> None:
    with hub.engine.connect() as c:
        got = metrics.benches(c, sl(), NOW)
    rows = {r["bench"]: r for r in got["benches"]}
    assert [r["bench"] for r in got["benches"]] == ["B2", "B3", "B1"]  # the longest wait first
    assert (rows["B2"]["backlog"], rows["B2"]["oldest_wait_min"]) == (1, 840)
    assert (rows["B3"]["backlog"], rows["B3"]["oldest_wait_min"]) == (1, 780)
    assert (rows["B1"]["backlog"], rows["B1"]["packed"], rows["B1"]["packed_last_hour"]) == (0, 2, 0)
    assert got["packers"] == [{"operator": "P001", "bench": "B1", "packed": 2, "packed_last_hour": 0}]


def test_a_payment_stamped_ahead_of_the_hubs_clock_is_no_negative_wait(hub: Hub) -> None:
    """A shop's clock ahead of the hub's (or a demo day not over yet) must not show "-60 分钟"."""
    with hub.engine.connect() as c:
        got = metrics.benches(c, sl(), NOW - timedelta(hours=15))  # before B2's and B3's orders were paid
    rows = {r["bench"]: r for r in got["benches"]}
    assert (rows["B2"]["oldest_wait_min"], rows["B3"]["oldest_wait_min"]) == (0, 0)


@pytest.mark.parametrize("kw, words", [
    ({"first": D, "last": D - timedelta(days=1)}, "before it starts"),
    ({"first": D, "last": D + timedelta(days=metrics.MAX_DAYS)}, "at most"),
    ({"first": D, "last": D, "hours": (10, 10)}, "hours"),
])
def test_a_slice_the_figures_cannot_take_is_refused_in_words(kw: dict[str, Any], words: str) -> None:
    with pytest.raises(metrics.SliceError, match=words):
        metrics.Slice(tz=TZ, **kw)


# -- the facts columns follow the order ---------------------------------------------------------------

def test_the_writer_keeps_the_facts_columns_of_an_order(tmp_path: Path) -> None:
    from tests.hub.test_stock import TEA, doc, make_hub, order, push

    h = make_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        oid, = push(h, order([(TEA, 1)]))
        d = doc(h, oid)
        packer = Actor(operator="P001", station="B-1", role="packer", bench=d["bench"], device_id="dev-p1")

        def do(kind: str, payload: dict[str, Any]) -> None:
            a = {"action_id": f"m-{kind}-{payload.get('step', '')}", "seq": 1, "order_id": oid, "type": kind,
                 "payload": payload, "done_at": "2026-12-07T02:30:00Z"}
            res = h.tx(lambda c: process_batch(c, h.settings, h.rules, packer, [a]))
            assert res["results"][0]["outcome"] == "applied", res

        def facts() -> Any:
            o = db.orders.c
            return h.tx(lambda c: c.execute(select(o.paid_at, o.ship_by, o.shipped_at, o.packed_by, o.packed_at)
                                            .where(o.order_id == oid)).one())

        f = facts()
        assert f.paid_at is not None and f.ship_by is not None and f.shipped_at is None and f.packed_by is None
        do("label_printed", {"printer": "pdf", "job_id": "j1"})
        do("step", {"step": "verified"})
        do("step", {"step": "packed"})
        f = facts()
        assert f.packed_by == "P001" and f.shipped_at is None
        assert f.packed_at.replace(tzinfo=None) == datetime(2026, 12, 7, 2, 30)  # the bench's time of packing
        do("shipped_by_station", {})
        f = facts()
        assert f.shipped_at is not None and doc(h, oid)["shipped_at"]
    finally:
        h.engine.dispose()
        h.reader.dispose()


# -- over HTTP ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(hub: Hub) -> Iterator[Any]:
    from tests.hub.test_short_stock_metric import Site

    hub.tx(auth.seed_operators)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app_for(hub), host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    s = Site(hub, f"http://127.0.0.1:{port}")
    try:
        yield s
    finally:
        s.session.close()
        server.should_exit = True
        thread.join(timeout=10)


def create_app_for(hub: Hub) -> Any:
    """The app over this test's hub (its database already holds the fixture)."""
    app = create_app(hub.settings)
    app.state.hub.engine.dispose()
    app.state.hub = hub
    return app


def test_the_dashboard_answers_every_figure_for_the_slice_asked(site: Any) -> None:
    r = site.get("/api/v1/metrics/dashboard", "S001", **{"from": D.isoformat(), "to": D.isoformat(), "hours": "10-24"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["slice"] == {"from": "2026-11-23", "to": "2026-11-23", "tz": TZ, "warehouse": None, "channel": None,
                             "bench": None, "hours": "10-24"}
    assert body["states"]["total"] == 5
    assert {"fulfilment", "delay", "exceptions", "benches", "short_stock", "connectors"} <= body.keys()
    one = site.get("/api/v1/metrics/states", "S001", **{"from": "2026-11-23", "hours": "10-24"}).json()
    assert one["states" if "states" in one else "by_state"] == body["states"]["by_state"]
    assert site.get("/api/v1/metrics/delay", "S001", warehouse="WH-GZ", **{"from": "2026-11-23"}).json()["due"] == 1


def test_figures_are_for_supervisors_and_a_bad_slice_is_refused_in_words(site: Any) -> None:
    assert site.get("/api/v1/metrics/dashboard", None).status_code == 401
    r = site.get("/api/v1/metrics/benches", "D001")
    assert r.status_code == 403, r.text
    for params, word in [({"hours": "ten"}, "10-24"), ({"from": "2026-13-01"}, "2026-12-06"),
                         ({"from": "2026-11-23", "to": "2026-11-20"}, "before it starts"),
                         ({"hours": "12-9"}, "hours")]:
        r = site.get("/api/v1/metrics/states", "S001", **params)
        assert r.status_code == 400 and word in r.json()["message"], (params, r.text)


# -- the orders behind each figure (hub/metrics_drill.py, docs/dashboard.md "Click-through") --------------
# Each drill names exactly the orders its figure counted in the fixture above (both backends).
@pytest.mark.parametrize("kw, figure, value, want", [
    ({}, "total", "", ["A", "B", "C", "G", "X", "Z"]),
    ({"hours": (10, 24)}, "total", "", ["B", "C", "G", "X", "Z"]),
    ({}, "state", "shipped", ["A", "B"]),
    ({}, "state", "paid", ["Z"]),  # 23:59 site time is the day's; E at 00:01 is not
    ({}, "held", "", ["C", "G"]),
    ({}, "due_hour", f"{D}T12", ["A", "B"]),  # X was cancelled: not due
    ({}, "due_hour", f"{D}T14", ["C"]),
    ({}, "due_hour", f"{D - timedelta(days=7)}T12", ["L1", "L2"]),
    ({}, "late", "", ["B", "C", "G"]),
    ({"hours": (10, 24)}, "late", "", ["B", "C", "G"]),
    ({}, "hold_type", "item_missing", ["B", "C"]),  # C's hold of the day before is not the day's
    ({}, "hold_type", "carrier_area", ["G"]),
    ({"warehouse": "WH-SH"}, "hold_type", "carrier_area", []),
    ({}, "word", "赠品", ["B", "C"]),
    ({}, "word", "中通", []),  # the hub's own template reasons are not counted
    ({}, "bench_backlog", "B2", ["C"]),
    ({}, "bench_backlog", "B1", []),
    ({}, "channel", "pinduoduo", ["C"]),
])
def test_each_figure_opens_exactly_the_orders_it_counted(hub: Hub, kw: dict[str, object], figure: str, value: str,
                                                         want: list[str]) -> None:
    with hub.engine.connect() as c:
        assert metrics_drill.order_ids(c, sl(**kw), figure, value, NOW) == want


@pytest.mark.parametrize("figure, value", [("nope", ""), ("state", "lost"), ("due_hour", "2026-11-23"),
                                           ("due_hour", "2026-11-23T24")])
def test_a_figure_it_cannot_drill_is_refused_in_words(hub: Hub, figure: str, value: str) -> None:
    with hub.engine.connect() as c, pytest.raises(metrics_drill.DrillError):
        metrics_drill.order_ids(c, sl(), figure, value, NOW)
