"""The supervisor's desktop dashboard (ui/dashboard_view.py, issue 16) over a real hub process with 300
demo orders: what it draws equals the hub's ``/metrics/dashboard``; a click on a figure opens exactly the
orders behind it in the queue (ui/drill_down.py, ``/metrics/orders``); the refresh runs on the network
pool, one at a time, coalescing the change feed's bursts; with the hub gone the last figures stay,
"as of hh:mm" and "hub not reachable"; F11 full screen and Esc; Ctrl+D only for supervisors.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.states import State
from tests.helpers.hubapi import Session
from tests.helpers.proxy import CuttingProxy
from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.dashboard_view import DashboardWindow, wait_text
from ui.main_window import MainWindow


def api(hub: HubProcess, path: str, **params: Any) -> dict[str, Any]:
    s = Session(hub.url, operator="S001", pin="3333", station="API-S", bench=None).login()
    r = s.get(path, **params)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def dashboard_of(qtbot: Any, window: MainWindow, *, by_key: bool = True) -> DashboardWindow:
    """Ctrl+D on the queue page (or the menu's action: a real X server's focus rules), then the first figures."""
    if by_key:
        qtbot.keyClick(window.scan, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    else:
        window.dashboard_action.trigger()
    dash = window.dashboard
    assert isinstance(dash, DashboardWindow)
    qtbot.waitUntil(lambda: dash.answered >= 1 and dash.figures is not None, timeout=20_000)
    return dash


def drilled_ids(qtbot: Any, window: MainWindow, click: Any) -> list[str]:
    """Click a figure, wait for the hub's answer and the queue's reload: the order IDs the queue shows."""
    with qtbot.waitSignal(window.dashboard.drilled, timeout=15_000):
        click()
    model = window.models["all"]
    qtbot.waitUntil(lambda: window.drill_down.active and not window._loading
                    and set(model.order_ids()) == set(window.drill_down.ids), timeout=15_000)
    return sorted(model.order_ids())


def raise_typed_holds(hub: HubProcess, n: int = 3) -> list[str]:
    """A desk clerk holds ``n`` allocated orders with a reason typed in Chinese (the words figure)."""
    desk = Session(hub.url, operator="D001", pin="2222", station="API-D", bench=None).login()
    s = Session(hub.url, operator="S001", pin="3333", station="API-S", bench=None).login()
    ids = s.get("/api/v1/metrics/orders", figure="state", value="allocated").json()["order_ids"]
    held = []
    for oid in ids:
        if len(held) == n:
            break
        if desk.order(oid).get("holds"):
            continue
        answer = desk.do(oid, "hold_raised", {"type": "item_missing", "reason": "拣货时发现赠品缺货，客户同意等待",
                                              "details": {}})
        assert answer["outcome"] == "applied", answer
        held.append(oid)
    return sorted(held)


def test_figures_equal_the_api_and_each_click_opens_its_orders(qtbot: Any, demo_hub: HubProcess,
                                                              station: StationFactory) -> None:
    held = raise_typed_holds(demo_hub)
    sup = station(demo_hub.url, operator="S001", pin="3333", bench="")
    window = open_window(qtbot, sup.services, queue="all")
    assert window.dashboard_action.isEnabled()
    dash = dashboard_of(qtbot, window)
    want = api(demo_hub, "/api/v1/metrics/dashboard", **dash.filters().params())
    f = dash.figures
    assert f is not None
    # the ring: every state, the hub's counts
    assert dash.ring.values() == {s.value: want["states"]["by_state"][s.value] for s in State}
    assert f.total == want["states"]["total"] > 0
    assert dash.total_button.text().endswith(str(want["states"]["total"]))
    # the hourly line: the hours that are over, as percentages
    assert dash.line.points("today") == [(int(h["hour"][:2]), round(h["rate"] * 100, 6))
                                         for h in want["fulfilment"]["hours"] if h["rate"] is not None]
    # the exception bars: the hub's types then words, most first
    assert [(fig, v, n) for fig, v, n in dash.bars.values() if fig == "hold_type"] == \
        [("hold_type", t["type"], t["count"]) for t in want["exceptions"]["types"][:6]]
    # the bench table: one row per bench, the hub's backlog
    assert dash.bench_table.rowCount() == len(want["benches"]["benches"])
    for r, b in enumerate(want["benches"]["benches"]):
        assert b["bench"] in dash.bench_table.item(r, 0).text().split()
        assert dash.bench_table.item(r, 1).text() == str(b["backlog"])
        mine = f.benches[r].oldest_wait_min  # the dashboard's own answer: `want` was asked at another minute
        assert dash.bench_table.item(r, 2).text() == ("—" if mine is None else wait_text(mine))
    assert dash.connector_table.rowCount() == len(want["connectors"]["connectors"])
    assert "✖" not in dash.status.text() and dash.status.text()

    # a state slice → that state's orders, exactly
    state = max(want["states"]["by_state"], key=lambda s: want["states"]["by_state"][s])
    got = drilled_ids(qtbot, window, lambda: dash.ring.click_state(state))
    behind = api(demo_hub, "/api/v1/metrics/orders", figure="state", value=state, **dash.filters().params())
    assert got == behind["order_ids"] and len(got) == want["states"]["by_state"][state]
    assert window.current_queue == "all" and window.drill_down.bar.isVisible()
    assert str(len(got)) in window.drill_down.text.text()
    # Esc in the scan field clears the filter: the whole All queue again
    qtbot.keyClick(window.scan, Qt.Key.Key_Escape)
    assert not window.drill_down.active and not window.drill_down.bar.isVisible()
    qtbot.waitUntil(lambda: window.models["all"].total == 300 and not window._loading, timeout=15_000)

    # a bench row → that bench's backlog
    bench_rows = want["benches"]["benches"]
    if bench_rows:
        got = drilled_ids(qtbot, window, lambda: dash.click_bench(0))
        assert len(got) == bench_rows[0]["backlog"]
        assert all(window.models["all"].row_at(i).bench == bench_rows[0]["bench"]  # type: ignore[union-attr]
                   for i in range(len(got)))
    # an exception reason → the orders held for it; a word people typed → the orders whose reason has it
    bars = dash.bars.values()
    fig, value, n = bars[0]
    got = drilled_ids(qtbot, window, lambda: dash.bars.click_item(0))
    assert got == api(demo_hub, "/api/v1/metrics/orders", figure=fig, value=value,
                      **dash.filters().params())["order_ids"] and len(got) == n
    rank = next(i for i, (f, v, _c) in enumerate(bars) if f == "word" and v == "缺货")
    got = drilled_ids(qtbot, window, lambda: dash.bars.click_item(rank))
    assert got == held
    assert "缺货" in window.drill_down.text.text()
    # an hour of the line → the orders due in it; the order total → every order of the slice
    hour = next((h for h in want["fulfilment"]["hours"] if h["due"]), None)
    if hour is not None:
        got = drilled_ids(qtbot, window,
                          lambda: dash.line.click_hour(want["fulfilment"]["day"], int(hour["hour"][:2])))
        assert len(got) == hour["due"]
    got = drilled_ids(qtbot, window, dash.total_button.click)
    assert len(got) == want["states"]["total"]
    # a short SKU → the orders waiting for it
    short = dash.figures.short if dash.figures is not None else []
    if short:
        got = drilled_ids(qtbot, window, lambda: dash.click_short(0))
        assert len(got) == short[0].orders
    window.drill_down.clear()
    dash.close()


def test_refresh_runs_on_the_worker_one_at_a_time_and_offline_keeps_the_figures(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    host, port = demo_hub.url.removeprefix("http://").split(":")
    proxy = CuttingProxy(host, int(port))
    try:
        sup = station(proxy.url, operator="S001", pin="3333", bench="")
        window = open_window(qtbot, sup.services, queue="all")
        dash = dashboard_of(qtbot, window)
        # the fetch ran on a network worker, never on the GUI thread
        threads: list[str] = []
        engine = sup.services.engine
        real = engine.call_hub

        def spy(call: Any, **kw: Any) -> Any:
            threads.append(threading.current_thread().name)
            return real(call, **kw)
        engine.call_hub = spy  # type: ignore[method-assign]
        # every 30 s; here the test drives the refreshes itself
        assert dash._timer.isActive() and dash._timer.interval() == 30_000
        dash._timer.stop()
        before, asked = dash.answered, dash.requests
        dash.refresh()
        dash.refresh()  # while one is in flight: not a second request, one more afterwards
        assert dash.in_flight and dash.requests == asked + 1
        # a burst from the change feed is one refresh a few seconds later (one single-shot timer)
        dash._orders_changed(["X"])
        dash._orders_changed(["Y"])
        assert dash._soon.isActive() and dash._soon.isSingleShot()
        dash._soon.stop()
        qtbot.waitUntil(lambda: dash.answered >= before + 2 and not dash.in_flight, timeout=20_000)
        assert dash.requests == asked + 2
        assert threads and all(t.startswith("net") for t in threads), threads
        kept = dash.ring.values()
        # the hub goes away: the figures stay, with "as of" and a plain line
        proxy.down = True
        before = dash.answered
        dash.refresh()
        qtbot.waitUntil(lambda: dash.answered > before, timeout=30_000)
        assert dash.ring.values() == kept
        text = dash.status.text()
        assert "As of" in text and "Hub not reachable" in text, text
        proxy.down = False
        dash.close()
    finally:
        proxy.close()


def test_full_screen_and_keys(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    sup = station(demo_hub.url, operator="S001", pin="3333", bench="")
    window = open_window(qtbot, sup.services, queue="all")
    dash = dashboard_of(qtbot, window)
    dash.activateWindow()
    qtbot.waitUntil(dash.isActiveWindow, timeout=5000)
    qtbot.keyClick(dash, Qt.Key.Key_F11)
    assert dash.wall and dash.isFullScreen() and not dash.filter_bar.isVisible()
    qtbot.keyClick(dash, Qt.Key.Key_Escape)  # Esc leaves full screen, the window stays
    assert not dash.wall and dash.isVisible() and dash.filter_bar.isVisible()
    qtbot.keyClick(dash, Qt.Key.Key_Escape)
    assert not dash.isVisible()


def test_only_supervisors_get_the_dashboard(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    desk = station(demo_hub.url, operator="D001", pin="2222", bench="")
    window = open_window(qtbot, desk.services, queue="all")
    assert not window.dashboard_action.isEnabled()
    qtbot.keyClick(window.scan, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    window.open_dashboard()
    assert window.dashboard is None


def test_a_bad_slice_is_said_and_loses_nothing(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    sup = station(demo_hub.url, operator="S001", pin="3333", bench="")
    window = open_window(qtbot, sup.services, queue="all")
    dash = dashboard_of(qtbot, window)
    kept = dash.ring.values()
    dash.hours.setEditText("25-3")
    before = dash.answered
    dash.refresh()
    assert dash.answered == before + 1 and "10-24" in dash.status.text()
    assert dash.ring.values() == kept
    # a slice the hub takes: from 10:00, one bench — the ring is the hub's figure for it
    dash.hours.setEditText("10-24")
    bench = dash.figures.benches[0].bench if dash.figures is not None else ""
    dash.bench.setEditText(bench)
    with qtbot.waitSignal(dash.refreshed, timeout=20_000):
        dash.refresh()
    assert dash.filters().hours == "10-24" and dash.filters().bench == bench
    want = api(demo_hub, "/api/v1/metrics/states", **dash.filters().params())
    assert dash.ring.values() == want["by_state"] and dash.figures.slice["bench"] == bench  # type: ignore[union-attr]
    dash.close()


@pytest.mark.parametrize("figure,value", [("nope", ""), ("due_hour", "x"), ("state", "lost")])
def test_hub_refuses_a_drill_it_cannot_take(demo_hub: HubProcess, figure: str, value: str) -> None:
    s = Session(demo_hub.url, operator="S001", pin="3333", station="API-S2", bench=None).login()
    r = s.get("/api/v1/metrics/orders", figure=figure, value=value)
    assert r.status_code == 400 and r.json()["error"] == "validation_failed", r.text
    p = Session(demo_hub.url, operator="P001", pin="1111", station="API-P", bench="B1").login()
    assert p.get("/api/v1/metrics/orders", figure="state", value="paid").status_code == 403


def test_screenshots(qtbot: Any, demo_hub: HubProcess, station: StationFactory, tmp_path: Path) -> None:
    """zh_CN at 1366×768 and the wall TV at 1920×1080 (PACKDESK_SCREENSHOTS=1 writes docs/screenshots/)."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from core import i18n

    target = Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get(
        "PACKDESK_SCREENSHOTS") else tmp_path
    i18n.set_language("zh_CN")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    old = app.font()
    app.setFont(QFont("WenQuanYi Micro Hei", 10))
    try:
        sup = station(demo_hub.url, operator="S001", pin="3333", bench="")
        window = open_window(qtbot, sup.services, queue="all")
        dash = dashboard_of(qtbot, window, by_key=False)
        dash.resize(1366, 700)  # maximised on a 1366×768 screen: task bar and title bar take ~68 px
        app.processEvents()  # the charts lay out their legends on the next turn
        assert dash.grab().save(str(target / "dashboard.png"))
        dash.toggle_wall()
        dash.resize(1920, 1080)
        app.processEvents()
        assert dash.grab().save(str(target / "dashboard-wall.png"))
        dash.toggle_wall()
        # the queue after a click on a state slice
        with qtbot.waitSignal(dash.drilled, timeout=15_000):
            dash.ring.click_state("allocated")
        qtbot.waitUntil(lambda: window.drill_down.active and not window._loading, timeout=15_000)
        dash.close()
        window.resize(1366, 740)
        app.processEvents()
        assert window.grab().save(str(target / "dashboard-drill.png"))
    finally:
        app.setFont(old)
        i18n.set_language("en")


def test_a_long_wait_reads_in_hours_and_minutes_as_on_the_web_dashboard() -> None:
    from core import i18n

    i18n.set_language("zh_CN")
    try:
        assert (wait_text(45), wait_text(904)) == ("45 分钟", "15 小时 4 分")
    finally:
        i18n.set_language("en")
    assert wait_text(904) == "15 h 4 min"
