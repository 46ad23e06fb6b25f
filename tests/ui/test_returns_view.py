"""A return received at the bench by scans and keys only, with the hub unreachable, then synced.

A real hub behind a proxy that can be pulled like a cable: the desk station syncs a delivered
order, the cable goes, Ctrl+R opens returns mode, the scanner and F2 / F3 / F8 do the rest; the
return waits in the outbox (the local view shows the refund hold at once); the cable comes back
and one sync puts the good unit back on hand and the damaged one in quarantine at the hub.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.returns import Outcome
from core.sync.client import HubUnreachable
from tests.helpers.hubapi import Session, push
from tests.helpers.keyboard import wedge
from tests.helpers.proxy import CuttingProxy
from tests.helpers.station import app_station, open_window
from tests.hub.test_transitions_http import clean_orders
from tests.hubproc import HubProcess
from ui.main_window import MainWindow


def answer(qtbot: Any, w: MainWindow, code: str) -> Outcome:
    view = w.returns_view
    with qtbot.waitSignal(view.answered, timeout=10_000,
                          check_params_cb=lambda o: o.banner != "working") as blocker:
        wedge(view.scan_field, code)
    out = blocker.args[0]
    assert isinstance(out, Outcome)
    return out


def press(qtbot: Any, w: MainWindow, key: Qt.Key, banner: str) -> Outcome:
    view = w.returns_view
    with qtbot.waitSignal(view.answered, timeout=10_000, check_params_cb=lambda o: o.banner == banner) as blocker:
        qtbot.keyClick(view.scan_field, key)
    out = blocker.args[0]
    assert isinstance(out, Outcome)
    return out


def test_a_return_scanned_offline_is_synced_to_stock_and_the_desk(
        qtbot: Any, tmp_path: Path, home: Path, qapp: Any, sqlite_hub: HubProcess) -> None:
    admin = Session(sqlite_hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
    body = clean_orders(1, seed=77)[0]
    body["lines"] = body["lines"][:1]
    body["lines"][0]["qty"] = 2
    oid = push(sqlite_hub.url, "generic", {"orders": [body]}).json()["orders"][0]["order_id"]
    for step, payload in (("label_printed", {"printer": "pdf", "job_id": "j-1"}), ("shipped_by_station", {}),
                          ("delivered", {})):
        assert admin.do(oid, step, payload)["outcome"] == "applied"
    order = admin.order(oid)
    sku, wh = order["lines"][0]["sku"], order["warehouse"]
    r = admin.post("/api/v1/stock/adjust", {"sku": sku, "warehouse": wh, "reason": "receipt", "on_hand": 5})
    assert r.status_code == 200, r.text

    proxy = CuttingProxy("127.0.0.1", int(sqlite_hub.url.rsplit(":", 1)[1]))
    st = app_station(tmp_path / "st", proxy.url, name="RET-PC", bench="B1", operator="D001", pin="2222",
                     connect_timeout_s=0.5, read_timeout_s=2.0)
    try:
        assert st.order(oid).state == "delivered"
        proxy.down = True  # the cable is pulled: everything below happens offline
        w = open_window(qtbot, st.services, queue="all")
        qtbot.keyClick(w.scan, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        view = w.returns_view
        assert w.stack.currentWidget() is view and not view.role_note.isVisible()
        tones: list[str] = []
        view.sounds.requested.connect(tones.append)

        assert answer(qtbot, w, str(order["waybill_no"])).banner == "ready"
        assert view.table.rowCount() == 1 and view.table.item(0, 2).text() == "2"
        wrong = answer(qtbot, w, "NOT-OURS-123")
        assert wrong.refused and view.status_kind == "error" and tones[-1] == "error"
        assert view.banner_icon.text() == "✖"
        assert answer(qtbot, w, sku).banner == "grade"
        press(qtbot, w, Qt.Key.Key_F2, "ok")
        assert answer(qtbot, w, sku).banner == "grade"
        press(qtbot, w, Qt.Key.Key_F3, "ok")
        over = answer(qtbot, w, sku)  # a third one: the order sent two
        assert over.refused and "Only 2" in over.reason
        assert view.table.item(0, 3).text() == "1" and view.table.item(0, 4).text() == "1"
        qtbot.keyClick(view.scan_field, Qt.Key.Key_F6)  # the note, then Enter back to the scanner
        assert view.note.hasFocus()
        qtbot.keyClicks(view.note, "box crushed")
        qtbot.keyClick(view.note, Qt.Key.Key_Return)
        assert view.scan_field.hasFocus()
        if os.environ.get("PACKDESK_SCREENSHOTS"):
            w.resize(1366, 740)
            w.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "returns.png"))
        done = press(qtbot, w, Qt.Key.Key_F8, "done")
        assert oid in done.text and view.flow.order_id == ""
        (action,) = st.store.pending_actions()
        assert action.type == "return_received" and action.payload == {
            "lines": [{"sku": sku, "qty_good": 1, "qty_damaged": 1, "qty_missing": 0}], "note": "box crushed"}
        assert [h["type"] for h in st.order(oid).snapshot["holds"]] == ["refund_review"]  # at once, offline
        qtbot.keyClick(view.scan_field, Qt.Key.Key_Escape)  # the refund waits in the desk's Exceptions queue
        w.select_queue("exceptions")
        qtbot.waitUntil(lambda: w.models["exceptions"].order_ids() == [oid], timeout=5000)
        with pytest.raises(HubUnreachable):
            st.sync()
        assert st.store.pending_count() == 1

        proxy.down = False  # the cable is back
        st.sync()
        assert st.store.pending_count() == 0
        hub = admin.order(oid)
        assert hub["state"] == "delivered" and [h["type"] for h in hub["holds"]] == ["refund_review"]
        assert hub["returns"][0]["lines"] == action.payload["lines"] and hub["returns"][0]["by"] == "D001"
        row = next(r for r in admin.get("/api/v1/stock/levels", warehouse=wh).json()["rows"] if r["sku"] == sku)
        assert (row["on_hand"], row["available"], row["quarantine"]) == (6, 6, 1)
        assert w.stack.currentWidget() is w.queue_page
    finally:
        st.close()
        proxy.close()
