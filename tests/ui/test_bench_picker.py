"""The desk's "move to bench" picker (ui/desk_actions.py) filled from ``GET /api/v1/benches`` on the network
worker — each bench with its warehouse and open orders, chosen by keyboard — and, with the hub stopped,
the benches this PC knows, a bench still typed by hand and queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.benches import BenchChoice, from_wire
from core.i18n import set_language
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from tests.helpers.hubapi import push_orders
from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from tests.ui.test_desk_actions import submit

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _order(no: str) -> IntakeOrder:
    t = datetime.now(UTC) - timedelta(hours=1)
    return IntakeOrder(channel="generic", channel_order_no=no, status=ChannelStatus.PAID,
                       recipient=Recipient("张伟", "13812345678", "上海市", "上海市", "浦东新区", "世纪大道100号"),
                       lines=[OrderLine("SKU-TEA-001", "西湖龙井", 1, 398_00)], total_fen=398_00, created_at=t,
                       channel_updated_at=t, paid_at=t)


@pytest.fixture
def picker_hub(tmp_path: Path) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path / "hub").start()
    yield hub
    hub.stop()
    assert "Traceback" not in hub.log_path.read_text()


def open_move(qtbot: Any, w: Any, order_id: str) -> Any:
    w.select_queue("all")
    assert w.select_order(order_id)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.scan.setFocus()
    qtbot.keyClick(w.scan, Qt.Key.Key_B, CTRL_SHIFT)
    qtbot.waitUntil(lambda: w.desk_actions.dialog is not None and w.desk_actions.dialog.isVisible()
                    and w.desk_actions.dialog.order.order_id == order_id, timeout=5000)
    return w.desk_actions.dialog


def test_the_picker_offers_the_hubs_benches_online_and_a_typed_bench_with_the_hub_stopped(
        qtbot: Any, picker_hub: HubProcess, station: StationFactory) -> None:
    set_language("en")
    got = push_orders(picker_hub.url, [_order(f"BP-{i}") for i in range(3)])
    ids = [r["order_id"] for r in got]
    st = station(picker_hub.url, operator="D001", pin="2222", bench="")
    assert st.services is not None
    w = open_window(qtbot, st.services, "all")
    st.engine.start()
    qtbot.waitUntil(lambda: getattr(st.services.sync_state(), "status", "") != "offline", timeout=10_000)

    dlg = open_move(qtbot, w, ids[0])
    qtbot.waitUntil(lambda: dlg.hub_benches, timeout=10_000)
    box = dlg.bench_box
    labels = [box.itemText(i) for i in range(box.count())]
    assert box.currentText() == "" and "type its code" in box.lineEdit().placeholderText()  # not a blank box
    here = st.order(ids[0]).bench
    assert not any(label.split(" ")[0] == here for label in labels)  # not the bench it is at
    assert any(label.startswith("VIP1 (VIP) · ") for label in labels)
    assert any(label.startswith("GZ-B1 · ") and label.endswith(" · 0 open") for label in labels)
    others = [b for b in (st.order(i).bench for i in ids[1:]) if b != here]
    if others:  # a bench with orders waiting says how many
        n = sum(1 for i in ids if st.order(i).bench == others[0])
        assert any(label.startswith(f"{others[0]} · ") and label.endswith(f" · {n} open") for label in labels)
    w.grab().save("/tmp/tickets_hub_window.png")
    dlg.grab().save("/tmp/tickets_hub_bench_picker.png")
    # by keyboard: the first entry with Down, then the reason and Enter; the hub gets the bench's code
    assert QApplication.focusWidget() in (box, box.lineEdit())
    qtbot.keyClick(box, Qt.Key.Key_Down)
    target = dlg.chosen_bench()
    assert target == box.itemData(box.currentIndex()) and " " not in target
    submit(qtbot, dlg, "B1 缺人")
    qtbot.waitUntil(lambda: ids[0] not in w.desk_actions.waiting, timeout=20_000)
    assert st.order(ids[0]).bench == target

    picker_hub.stop()
    try:
        qtbot.waitUntil(lambda: getattr(st.services.sync_state(), "status", "") == "offline", timeout=15_000)
        dlg = open_move(qtbot, w, ids[1])
        assert w.desk_actions.fetch_benches(dlg) is False and not dlg.hub_benches  # nothing asked offline
        box = dlg.bench_box
        assert all(" · " not in box.itemText(i) for i in range(box.count()))  # this PC's benches
        typed = "B3" if st.order(ids[1]).bench != "B3" else "B2"
        qtbot.keyClicks(box.lineEdit(), typed)
        assert dlg.chosen_bench() == typed
        submit(qtbot, dlg, "B1 缺人")
        assert st.order(ids[1]).bench == typed and st.store.pending_count() == 1
    finally:
        picker_hub.start()


def test_the_hubs_bench_list_is_read_defensively_and_worded_in_both_languages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))  # the catalogues compiled from this tree
    set_language("en")
    assert from_wire({"benches": [{"bench": "B2", "warehouse": "WH-SH", "warehouse_name": "上海仓 / Shanghai",
                                   "vip": False, "open_orders": 4}, {"bench": ""}, "x", {"bench": 3},
                                  {"bench": "B9", "open_orders": -1, "vip": "yes"}]}) == [
        BenchChoice("B2", "WH-SH", "上海仓 / Shanghai", False, 4), BenchChoice("B9")]
    assert from_wire(None) == [] and from_wire({"benches": "B1"}) == []
    assert BenchChoice("B2", "WH-SH", "上海仓 / Shanghai", False, 4).label() == "B2 · Shanghai · 4 open"
    set_language("zh_CN")
    try:
        assert BenchChoice("VIP1", "WH-SH", "上海仓 / Shanghai", True, 0).label() == "VIP1（VIP） · 上海仓 · 0 单待处理"
    finally:
        set_language("en")


def test_the_hubs_list_arriving_keeps_what_was_typed(qtbot: Any, tmp_path: Path, qapp: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from core.desk import BY_KIND
    from core.settings import load_settings
    from core.store import open_store
    from tests.helpers.snapshots import snapshot
    from ui.desk_actions import DeskActionDialog
    from ui.services import AppServices, Operator

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language("en")
    store = open_store(tmp_path / "bench.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot("BL20261206-000001")])
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    try:
        order = store.get_order("BL20261206-000001")
        assert order is not None
        dlg = DeskActionDialog(svc, order, BY_KIND["reallocate"], benches=["B1", "B2"])
        qtbot.addWidget(dlg)
        box = dlg.bench_box
        assert box is not None
        box.setEditText("GZ-B")
        dlg.set_hub_benches([BenchChoice("B2", "WH-SH", "上海仓 / Shanghai", False, 3),
                             BenchChoice("GZ-B1", "WH-GZ", "广州仓 / Guangzhou", False, 0)])
        assert box.currentText() == "GZ-B" and dlg.chosen_bench() == "GZ-B"
        box.setCurrentIndex(box.findData("GZ-B1"))
        dlg.reason.setText("广州仓有空")
        assert dlg.payload() == {"reason": "广州仓有空", "bench": "GZ-B1"}
    finally:
        svc.shutdown()
