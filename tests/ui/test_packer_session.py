"""A scripted packer session through the main window, with the hub up and with it stopped.

Log in, scan an order, scan its items including a wrong one, finish: the order leaves the bench's
queue and reaches the hub shipped. Offline, the same session leaves the work pending and it syncs
when the hub comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.hubapi import Session
from tests.helpers.station import open_window, start_demo_hub
from tests.ui.conftest import StationFactory
from ui.main_window import MainWindow


def workable(w: MainWindow) -> Any:
    """An order on my bench that a packer can finish: no hold, not VIP sign-off, not yet pending."""
    return next(r for r in w.models["bench"]._all if not r.held and r.state == "allocated")


def pack(qtbot: Any, w: MainWindow, order_id: str, lines: list[dict[str, Any]]) -> None:
    view = w.pack_view
    w.handle_scan(order_id)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is view, timeout=5000)
    wrong = "SKU-NOT-IN-THIS-ORDER"
    w.handle_scan(wrong)  # not an item of the order: looked up in the store (database worker) first
    qtbot.waitUntil(lambda: view.sounds.last_requested == "error", timeout=5000)
    assert wrong in view.banner_text.text() + view.reason_label.text()
    units = [line["sku"] for line in lines for _ in range(line["qty"])]
    with qtbot.waitSignal(view.order_finished, timeout=30_000):
        for sku in units:
            w.handle_scan(sku)
    assert view.sounds.last_requested in ("ok", "done")


@pytest.mark.parametrize("offline", [False, True], ids=["online", "hub-stopped"])
def test_a_packer_packs_an_order_from_scan_to_hub(qtbot: Any, tmp_path: Path, station: StationFactory,
                                                  offline: bool) -> None:
    hub = start_demo_hub(tmp_path / "hub", 120)
    try:
        st = station(hub.url, operator="P001", pin="1111", bench="B1")
        w = open_window(qtbot, st.services)
        st.engine.start()
        row = workable(w)
        snap = st.store.get_order(row.order_id).snapshot  # type: ignore[union-attr]
        if offline:
            hub.stop()
            qtbot.waitUntil(lambda: w.sync_status.state is not None and w.sync_status.state.status == "offline",
                            timeout=20_000)
        pack(qtbot, w, row.order_id, snap["lines"])
        qtbot.waitUntil(lambda: row.order_id not in w.models["bench"]._by_id, timeout=10_000)
        local = st.store.get_order(row.order_id)
        assert local is not None and local.state == "shipped"
        if offline:
            assert local.is_pending
            assert "pending" in w.sync_status.text()
            hub.start()
            st.engine.wake()
        desk = Session(hub.url, operator="D001", pin="2222", station="DESK-check", bench=None).login()
        qtbot.waitUntil(lambda: desk.order(row.order_id)["state"] == "shipped", timeout=30_000)
        at_hub = desk.order(row.order_id)
        assert {"verified", "packed"} <= set(at_hub["steps"]) and at_hub["label_count"] == 1
        qtbot.waitUntil(lambda: not st.store.get_order(row.order_id).is_pending, timeout=20_000)  # type: ignore[union-attr]
        entries = desk.get(f"/api/v1/orders/{row.order_id}/audit").json()["entries"]
        assert sum(e["what"] == "shipped_by_station" for e in entries) == 1
    finally:
        hub.stop()
