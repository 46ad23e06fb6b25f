"""The queue page answers every scan, asks before a wave, says what Ctrl+L did, and never shows a bare grid.

Real hub with demo orders, real window, scans typed into the scan field as a wedge scanner does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.i18n import set_language
from core.queue_scan import Answer, QueueScan
from core.queues import matches
from tests.helpers.hubapi import Session
from tests.helpers.keyboard import person, wedge
from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.main_window import MainWindow


def answer_to(qtbot: Any, w: MainWindow, code: str) -> QueueScan:
    """Scan ``code`` on the queue page; the answer once it is given (the tone is requested with it)."""
    before = w.pack_view.sounds.count
    with qtbot.waitSignal(w.scan_answered, timeout=10_000) as sig:
        wedge(w.scan, code)
    scan = sig.args[0]
    assert isinstance(scan, QueueScan)
    if not scan.ok:  # opening is answered by the pack page (its own tone comes after its read)
        assert w.pack_view.sounds.count == before + 1
    return scan


def other_bench_order(hub: HubProcess, bench: str) -> str:
    desk = Session(hub.url, operator="D001", pin="2222", station="DESK-look", bench=None).login()
    orders = desk.get("/api/v1/orders", bench=bench, limit=1).json()["orders"]
    assert orders, bench
    return str(orders[0]["order_id"])


def test_every_queue_page_scan_gets_an_answer(qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    sounds = w.pack_view.sounds

    theirs = other_bench_order(demo_hub, "B2")
    scan = answer_to(qtbot, w, theirs)  # not on this PC: the hub says whose it is
    assert scan.answer == Answer.OTHER_BENCH and scan.bench == "B2"
    assert sounds.last_requested == "error" and w.notice_kind == "error" and w.notice.isVisible()
    assert f"{theirs} belongs to bench B2" in w.notice.text()
    assert w.stack.currentWidget() is w.queue_page  # nothing opened

    scan = answer_to(qtbot, w, "bl20200101-999999")  # an order ID nobody has (lower case: caps lock off)
    assert scan.answer == Answer.NO_ORDER and "No such order: BL20200101-999999" in w.notice.text()
    assert sounds.last_requested == "error" and w.notice_kind == "error"

    scan = answer_to(qtbot, w, "%%GARBAGE-42")
    assert scan.answer == Answer.UNREADABLE and "Unrecognised barcode: %%GARBAGE-42" in w.notice.text()
    assert sounds.last_requested == "error"

    mine = next(r for r in w.models["bench"]._all if not r.held and r.state == "allocated")
    scan = answer_to(qtbot, w, mine.order_id)
    assert scan.answer == Answer.OPEN
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.pack_view, timeout=5000)
    qtbot.waitUntil(lambda: sounds.last_requested == "ok", timeout=5000)  # the pack page's green answer


def test_a_scan_offline_says_the_hub_could_not_be_asked(qtbot: Any, tmp_path: Path, station: StationFactory) -> None:
    from tests.helpers.station import start_demo_hub

    hub = start_demo_hub(tmp_path / "hub", 40)
    try:
        st = station(hub.url, operator="P001", pin="1111", bench="B1")
        w = open_window(qtbot, st.services)
        hub.stop()
        scan = answer_to(qtbot, w, "BL20200101-999998")
        assert scan.answer == Answer.UNCHECKED and "not on this station" in w.notice.text()
        assert "cannot be reached" in w.notice.text() and w.pack_view.sounds.last_requested == "error"
    finally:
        hub.stop()


def test_a_phone_number_typed_by_a_person_searches_the_queue(qtbot: Any, demo_hub: HubProcess,
                                                              station: StationFactory) -> None:
    """A packer keys in the number (or its last four digits) a buyer reads out: the queue shows
    that buyer's orders. The same digits from the scanner are still no code of ours."""
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    sounds = w.pack_view.sounds
    rows = w.models["bench"]._all
    target = next(r for r in rows if len(r.phone) == 11)
    for typed in (target.phone, target.phone[-4:]):
        found = sorted(r.order_id for r in rows if matches(r, typed))
        assert target.order_id in found and len(found) < len(rows)  # it narrows the queue
        before = sounds.count
        with qtbot.waitSignal(w.scan_answered, timeout=10_000) as sig:
            person(w.scan, typed)
        scan = sig.args[0]
        assert isinstance(scan, QueueScan) and scan.answer == Answer.SEARCH
        assert w.search.text() == typed and sorted(w.model.order_ids()) == found
        assert w.notice_kind == "info" and typed in w.notice.text()
        assert sounds.count == before and w.stack.currentWidget() is w.queue_page  # no tone, nothing opened
    scan = answer_to(qtbot, w, target.phone)  # the scanner types it: not a code of ours
    assert scan.answer == Answer.UNREADABLE and f"Unrecognised barcode: {target.phone}" in w.notice.text()
    assert sounds.last_requested == "error" and w.notice_kind == "error"


def test_answers_read_in_chinese(home: Path) -> None:
    try:
        set_language("zh_CN")
        assert QueueScan(Answer.OTHER_BENCH, "X", "BL20261125-000001", "BJ-B1").text() == \
            "BL20261125-000001 属于工作台 BJ-B1"
        assert QueueScan(Answer.NO_ORDER, "BL20261125-000002").text() == "没有这个订单：BL20261125-000002"
        assert QueueScan(Answer.UNREADABLE, "??").text() == "无法识别的条码：??"
        assert QueueScan(Answer.SEARCH, "5678").text() == "电话尾号 5678 的订单"
        assert QueueScan(Answer.SEARCH, "138-0013-8000").text() == "电话为 13800138000 的订单"
    finally:
        set_language("en")


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Escape], ids=["enter-prints", "esc-cancels"])
def test_ctrl_w_asks_once_with_the_count(qtbot: Any, tmp_path: Path, demo_hub: HubProcess, station: StationFactory,
                                         key: Qt.Key) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    st.settings.wave_size = 4
    w = open_window(qtbot, st.services, "to_print")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    jobs: list[Any] = []
    w.print_service.job_finished.connect(jobs.append)
    qtbot.keyClick(w.scan, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.wave_box is not None and w.wave_box.isVisible(), timeout=5000)
    box = w.wave_box
    assert box is not None and "4 labels" in box.text() and jobs == []  # asked, nothing printed yet
    qtbot.keyClick(box, key)
    if key == Qt.Key.Key_Escape:
        qtbot.waitUntil(lambda: w.wave_box is None, timeout=5000)
        assert "not printed" in w.notice.text() and jobs == []
        assert not (tmp_path / "st0" / "prints").exists()
        return
    qtbot.waitUntil(lambda: any(j.doc_type == "pick_list" for j in jobs), timeout=20_000)
    assert "Wave" in w.notice.text() and "4 orders" in w.notice.text()


def test_ctrl_l_says_what_it_printed_or_that_nothing_is_selected(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services, "to_print")
    w.select_queue("to_print")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    oid = w.models["to_print"].order_ids()[0]
    assert w.select_order(oid)
    qtbot.keyClick(w.scan, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert w.notice.isVisible() and oid in w.notice.text()  # at once: printing…
    qtbot.waitUntil(lambda: w.notice_kind == "ok", timeout=20_000)
    assert "Pick list printed for 1 order(s)" in w.notice.text() and oid in w.notice.text()

    w.search.setText("no-such-order-anywhere")  # the queue shows nothing: nothing selected
    qtbot.waitUntil(lambda: w.selected_row() is None, timeout=5000)
    w.scan.setFocus()
    qtbot.keyClick(w.scan, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert w.notice_kind == "error" and "Nothing selected" in w.notice.text()


def test_an_empty_queue_says_so_and_a_search_says_what_matched_nothing(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    assert w.table.empty_text and not w.table.is_empty()
    assert w.models["vip"].total == 0  # the demo's VIP orders go to the VIP bench
    w.select_queue("vip")
    assert w.table.is_empty() and w.table.empty_text == "This queue has no orders"
    qtbot.keyClicks(w.search, "zzz-nothing")
    assert w.table.is_empty() and w.table.empty_text == "No orders match 'zzz-nothing'"
    before = w.table.viewport().grab().toImage()
    w.search.clear()
    w.search.setText("zzz-nothing")
    w.table.set_empty_text("")
    after = w.table.viewport().grab().toImage()
    assert before != after  # the line is painted, not only kept in an attribute


def test_items_scanned_right_after_the_order_count_in_pack_mode(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory) -> None:
    """A packer scans the order and at once its first item: the item waits for the order, it is not
    answered as an unknown barcode on the queue page."""
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    w = open_window(qtbot, st.services)
    mine = next(r for r in w.models["bench"]._all if not r.held and r.state == "allocated")
    order = st.store.get_order(mine.order_id)
    assert order is not None
    sku = order.snapshot["lines"][0]["sku"]
    wedge(w.scan, mine.order_id)
    wedge(w.scan, sku)  # before the order's read came back
    qtbot.waitUntil(lambda: w.pack_view.session is not None and w.pack_view.session.counted.get(sku, 0) == 1,
                    timeout=10_000)
    assert w.stack.currentWidget() is w.pack_view and not w.notice.isVisible()  # the pack page answers now
