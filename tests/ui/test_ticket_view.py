"""The desk's ticket queue (Ctrl+T, issue 15) on the real main window, driven by keyboard against a real
hub: a ticket's life — opened from a contact, reply, close, reopen — online, and again with the hub
stopped (queued, shown at once, sent when it is back, the hub's ticket matching); the SLA flags move
with the clock without reading the store; a packer gets no tickets page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from core.i18n import set_language
from core.settings import load_settings
from core.store import open_store
from core.timeutil import iso, utcnow
from tests.helpers.hubapi import Session, demo
from tests.helpers.snapshots import snapshot
from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from tests.ui.test_desk_actions import ime
from ui.main_window import MainWindow
from ui.services import AppServices, Operator
from ui.ticket_view import SLA, TicketDialog, TicketView

CTRL = Qt.KeyboardModifier.ControlModifier


def open_tickets(qtbot: Any, w: MainWindow) -> TicketView:
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.scan.setFocus()
    qtbot.keyClick(w.scan, Qt.Key.Key_T, CTRL)
    view = w.ticket_view
    qtbot.waitUntil(lambda: w.stack.currentWidget() is view and view._loaded_once, timeout=5000)
    return view


def key(qtbot: Any, view: TicketView, k: Qt.Key, kind: str) -> TicketDialog:
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5000)
    view.table.setFocus()
    qtbot.keyClick(view.table, k)
    qtbot.waitUntil(lambda: view.dialog is not None and view.dialog.isVisible() and view.dialog.kind == kind,
                    timeout=5000)
    dlg = view.dialog
    assert dlg is not None
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)
    return dlg


def fill(qtbot: Any, dlg: TicketDialog, text: str) -> None:
    """Type into the focused field (Chinese through the input method) and press Enter."""
    field = QApplication.focusWidget()
    assert isinstance(field, QLineEdit) and field.window() is dlg, field
    ime(qtbot, field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert dlg.result() == 1, dlg.hint.text()


def life(qtbot: Any, w: MainWindow, view: TicketView, order_id: str) -> str:
    """Open a ticket from a contact on a typed order, reply, close, reopen; returns the ticket ID."""
    dlg = key(qtbot, view, Qt.Key.Key_F2, "contact")
    order_field = dlg.order
    order_field.clear()
    order_field.setFocus()
    qtbot.keyClicks(order_field, order_id)
    qtbot.keyClick(order_field, Qt.Key.Key_Tab)  # type box: keep the chosen type, channel phone
    dlg.text.setFocus()
    fill(qtbot, dlg, "包裹到哪了")
    qtbot.waitUntil(lambda: any(r.order_id == order_id for r in view.model.rows), timeout=5000)
    row = view.selected()
    assert row is not None and row.order_id == order_id and row.status == "open"
    tid = row.ticket_id
    fill(qtbot, key(qtbot, view, Qt.Key.Key_F3, "reply"), "已催快递，今天发")
    qtbot.waitUntil(lambda: (r := view.selected()) is not None and r.doc.get("replies") == 1, timeout=5000)
    fill(qtbot, key(qtbot, view, Qt.Key.Key_F4, "close"), "已答复客户")
    qtbot.waitUntil(lambda: (r := view.selected()) is not None and r.ticket_id == tid and r.status == "closed",
                    timeout=5000)
    fill(qtbot, key(qtbot, view, Qt.Key.Key_F6, "reopen"), "客户又来电")
    qtbot.waitUntil(lambda: (r := view.selected()) is not None and r.ticket_id == tid and r.status == "open",
                    timeout=5000)
    return tid


def test_a_tickets_life_by_keyboard_online_then_with_the_hub_stopped(
    qtbot: Any, sqlite_hub: HubProcess, station: StationFactory, tmp_path: Path
) -> None:
    orders = [o["order_id"] for o in demo(sqlite_hub.url, 3, seed=5)]
    st = station(sqlite_hub.url, operator="D001", pin="2222", bench="")
    assert st.services is not None
    w = open_window(qtbot, st.services, "all")
    st.engine.start()
    view = open_tickets(qtbot, w)
    hub_api = Session(sqlite_hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()

    tid = life(qtbot, w, view, orders[0])
    qtbot.waitUntil(lambda: st.store.pending_count() == 0, timeout=15_000)
    hub_doc = hub_api.get(f"/api/v1/tickets/{tid}").json()
    assert (hub_doc["status"], hub_doc["replies"], hub_doc["reopened"]) == ("open", 1, 1)
    qtbot.waitUntil(lambda: (r := view.selected()) is not None and r.pending == 0
                    and r.doc.get("version") == hub_doc["version"], timeout=10_000)
    qtbot.waitUntil(lambda: "The hub has it" in view.notice.text(), timeout=5000)
    w.grab().save(str(tmp_path / "tickets-online.png"))

    sqlite_hub.stop()
    try:
        qtbot.waitUntil(lambda: getattr(st.services.sync_state(), "status", "") == "offline", timeout=15_000)
        tid2 = life(qtbot, w, view, orders[1])
        assert "offline" in view.notice.text() or "离线" in view.notice.text()
        row = view.selected()
        assert row is not None and row.pending == 4 and "⇅" in str(view.model.data(view.model.index(
            view.table.currentIndex().row(), SLA)))
        assert st.store.pending_count() == 4
    finally:
        sqlite_hub.start()
    st.engine.wake()
    qtbot.waitUntil(lambda: st.store.pending_count() == 0, timeout=20_000)
    hub_doc2 = hub_api.login().get(f"/api/v1/tickets/{tid2}").json()
    assert (hub_doc2["status"], hub_doc2["replies"], hub_doc2["reopened"], hub_doc2["contacts"]) == ("open", 1, 1, 1)
    local = st.store.get_ticket(tid2)
    assert local is not None and local.doc["version"] == hub_doc2["version"] and local.conflict is None

    # Enter opens the order in the queues; Esc goes back there too.
    view.activateWindow()
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.queue_page, timeout=5000)
    sel = w.selected_row()
    assert sel is not None and sel.order_id == orders[1]


@pytest.fixture
def local(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    """A desk PC with orders and hub tickets in its store and no hub."""
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language("zh_CN")
    store = open_store(tmp_path / "desk.sqlite3")
    now = utcnow()
    docs = []
    types = ("urge_ship", "tracking", "address_change", "return_refund", "complaint", "other")
    snaps = [snapshot(f"BL20261206-{i:06d}") for i in range(1, 13)]
    for i, s in enumerate(snaps):
        due = now + timedelta(minutes=(-40 + i * 13))
        docs.append({"ticket_id": f"T{i:03d}", "order_id": s["order_id"], "type": types[i % 6], "status": "open",
                     "source": ("phone", "wecom", "shop_chat", "sms", "tracking")[i % 5], "vip": i == 3,
                     "assignee": ("D001", "D002", None)[i % 3], "opened_at": iso(now - timedelta(hours=2)),
                     "opened_by": "D001", "contacts": 1, "last_contact_at": iso(now - timedelta(minutes=90)),
                     "waiting_since": iso(now - timedelta(minutes=20 + i * 7)), "replies": 0,
                     "first_reply_at": None, "last_reply_at": None, "closed_at": None, "closed_by": None,
                     "resolution": None, "reopened": 0, "clock_from": iso(now - timedelta(hours=2)),
                     "reply_due_at": iso(due), "close_due_at": iso(now + timedelta(hours=20)), "due_at": iso(due),
                     "version": 1, "updated_at": iso(now),
                     "events": [{"kind": "contact", "at": iso(now - timedelta(minutes=90)), "operator": "D001",
                                 "channel": "phone", "text": "什么时候发货"}]})
    with store.write() as conn:
        store.apply_snapshots(conn, snaps)
        store.apply_ticket_docs(conn, docs)
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()
    set_language("en")


def test_queue_flags_filter_and_reflag_as_time_passes_zh(qtbot: Any, local: AppServices, tmp_path: Path) -> None:
    w = MainWindow(local)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.show_ticket_page()
    view = w.ticket_view
    qtbot.waitUntil(lambda: view._loaded_once, timeout=5000)
    qtbot.waitUntil(lambda: "T000" in view.detail.toPlainText(), timeout=5000)
    m = view.model
    assert len(m.rows) == 12 and [r.ticket_id for r in m.rows][:2] == ["T000", "T001"]  # by due time
    flags = [m.data(m.index(i, SLA)) for i in range(len(m.rows))]
    assert flags[0].startswith("▲ 已超时") or flags[0].startswith("▲"), flags[0]
    assert any(f.startswith("◐") for f in flags) and any(f.startswith("○") for f in flags)
    w.grab().save(str(tmp_path / "tickets-zh.png"))
    # The timer's tick moves the clock: everything due within 3 hours is overdue then (no store read).
    m.tick(utcnow() + timedelta(hours=3))
    assert all(str(m.data(m.index(i, SLA))).startswith("▲") for i in range(len(m.rows)))
    # filters by keyboard: mine, overdue, text (phone tail / buyer / words)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_M, CTRL)
    assert {r.assignee for r in m.rows} == {"D001"} and len(m.rows) == 4
    qtbot.keyClick(view.table, Qt.Key.Key_M, CTRL)
    qtbot.keyClick(view.table, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is view.search
    qtbot.keyClicks(view.search, "000005")
    assert [r.order_id for r in m.rows] == ["BL20261206-000005"]
    # F10 copies the buyer's phone
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    qtbot.keyClick(view.table, Qt.Key.Key_F10)
    assert QApplication.clipboard().text() == m.rows[0].phone and m.rows[0].phone
    # F8: the desk's own address dialog, on the ticket's order, in one step
    qtbot.keyClick(view.table, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: w.desk_actions.dialog is not None and w.desk_actions.dialog.isVisible(), timeout=5000)
    dlg = w.desk_actions.dialog
    assert dlg is not None and dlg.order.order_id == "BL20261206-000005" and dlg.action.kind == "address"
    dlg.reject()
    # A contact on an order this PC does not have: said in the dialog, which keeps what was typed; nothing queued.
    view.act("contact")
    qtbot.waitUntil(lambda: view.dialog is not None and view.dialog.isVisible(), timeout=5000)
    contact = view.dialog
    assert contact is not None
    contact.order.setText("BL20990101-000009")
    assert not contact.add_to.isChecked() and contact.type_box.isEnabled()
    contact.text.setText("查一下")
    qtbot.keyClick(contact.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "BL20990101-000009" in contact.hint.text(), timeout=5000)
    assert contact.isVisible() and contact.text.text() == "查一下" and local.store.pending_count() == 0
    contact.reject()


def test_packers_get_no_tickets_page(qtbot: Any, local: AppServices) -> None:
    local.set_operator(Operator("P001", "打包", "packer"))
    w = MainWindow(local)
    qtbot.addWidget(w)
    assert not w.tickets_action.isEnabled()
