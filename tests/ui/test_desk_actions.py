"""The desk's six dialogs (issue 15), driven by keyboard on the real main window: online against a
real hub process, then with that hub stopped (queued, shown at once, answered after the restart),
role-gated for packers, and their checks (reason, phone, bench) without a hub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from core.i18n import set_language
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.settings import load_settings
from core.store import open_store
from tests.helpers.hubapi import Session, push_orders
from tests.helpers.snapshots import snapshot
from tests.helpers.station import open_window
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.desk_actions import DeskActionDialog
from ui.main_window import MainWindow
from ui.services import AppServices, Operator

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
KEYS = {"address": Qt.Key.Key_A, "cancel": Qt.Key.Key_C, "refund": Qt.Key.Key_R, "reallocate": Qt.Key.Key_B,
        "delivered": Qt.Key.Key_D, "payment": Qt.Key.Key_F}
SHANGHAI = Recipient("张伟", "13812345678", "上海市", "上海市", "浦东新区", "世纪大道100号1203室")
#: The issue's address: a village in 西藏阿里, no phone (ZTO, the Shanghai warehouse's first carrier, excludes Tibet).
ALI = ("", "西藏自治区", "阿里地区", "噶尔县", "狮泉河镇加木村3组")


def _order(no: str, paid: bool = True) -> IntakeOrder:
    t = datetime.now(UTC) - timedelta(hours=1)
    lines = [OrderLine("SKU-TEA-001", "西湖龙井", 1, 398_00)]
    return IntakeOrder(channel="generic", channel_order_no=no, status=ChannelStatus.PAID if paid else ChannelStatus.UNPAID,
                       recipient=SHANGHAI, lines=lines, total_fen=398_00, created_at=t, channel_updated_at=t,
                       paid_at=t if paid else None)


@pytest.fixture(scope="module")
def desk_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubProcess, dict[str, str]]]:
    """One hub for the module, with an order per case in the state the case needs."""
    hub = HubProcess(tmp_path_factory.mktemp("desk-hub")).start()
    names = ["address", "cancel", "intercept", "refund", "reallocate", "delivered", "payment",
             "off_address", "off_intercept", "off_delivered"]
    got = push_orders(hub.url, [_order(f"I15-{n}", paid=not n.endswith("payment")) for n in names])
    ids = {n: r["order_id"] for n, r in zip(names, got, strict=True)}
    admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN", bench=None).login()
    for n in ("intercept", "delivered", "off_intercept", "off_delivered"):
        assert admin.do(ids[n], "label_printed", {"printer": "pdf", "job_id": n})["outcome"] == "applied"
    for n in ("delivered", "off_delivered"):
        assert admin.do(ids[n], "shipped_by_station", {})["outcome"] == "applied"
    yield hub, ids
    hub.stop()
    assert "Traceback" not in hub.log_path.read_text()


def press(qtbot: Any, w: MainWindow, kind: str, order_id: str) -> DeskActionDialog:
    """Select the order in the queue and press the dialog's key; the dialog opens with the order."""
    w.select_queue("all")
    assert w.select_order(order_id)
    w.activateWindow()  # a closed dialog hands the focus back to the window
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.scan.setFocus()
    qtbot.keyClick(w.scan, KEYS[kind], CTRL_SHIFT)
    actions = w.desk_actions
    qtbot.waitUntil(lambda: actions.dialog is not None and actions.dialog.isVisible()
                    and actions.dialog.order.order_id == order_id, timeout=5000)
    assert actions.dialog is not None
    return actions.dialog


def ime(qtbot: Any, field: QLineEdit, text: str) -> None:
    """Type ``text`` as a person does: ASCII by keys, Chinese committed by the input method
    (QTest can only type ASCII: a CJK key event aborts it)."""
    if text.isascii():
        qtbot.keyClicks(field, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(field, event)


def type_here(qtbot: Any, dlg: DeskActionDialog, text: str, *, tab: bool = True) -> None:
    """Replace the focused field's text by typing, then Tab to the next field."""
    field = QApplication.focusWidget()
    assert isinstance(field, QLineEdit) and field.window() is dlg
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    if text:
        ime(qtbot, field, text)
    if tab:
        qtbot.keyClick(field, Qt.Key.Key_Tab)


def submit(qtbot: Any, dlg: DeskActionDialog, reason: str) -> None:
    """Type the reason (the last field) and press Enter: the dialog closes once the action is queued."""
    dlg.reason.setFocus()  # reached by Tab from the fields before it; the simple dialogs open on it
    type_here(qtbot, dlg, reason, tab=False)
    assert dlg.submit.isEnabled(), dlg.hint.text()
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert dlg.result() == 1


def change_address(qtbot: Any, dlg: DeskActionDialog, reason: str) -> None:
    assert QApplication.focusWidget() is dlg.fields["name"]
    qtbot.keyClick(dlg.fields["name"], Qt.Key.Key_Tab)  # the name stays
    for text in ALI:
        type_here(qtbot, dlg, text)
    assert "Rural address without a phone" in dlg.warning.text()
    submit(qtbot, dlg, reason)


def answered(qtbot: Any, w: MainWindow, order_id: str) -> str:
    qtbot.waitUntil(lambda: order_id not in w.desk_actions.waiting, timeout=20_000)
    return w.notice.text()


def test_each_desk_action_by_keyboard_online_then_with_the_hub_stopped(qtbot: Any, desk_hub: tuple[HubProcess, dict[str, str]],
                                             station: StationFactory) -> None:
    hub, ids = desk_hub
    st = station(hub.url, operator="D001", pin="2222", bench="")
    assert st.services is not None
    services = st.services
    w = open_window(qtbot, services, "all")
    w.activateWindow()
    st.engine.start()

    change_address(qtbot, press(qtbot, w, "address", ids["address"]), "买家电话改地址")
    text = answered(qtbot, w, ids["address"])
    assert "no carrier covers the new address" in text and "Carrier does not cover area" in text, text
    local = st.order(ids["address"]).snapshot
    assert local["carrier"] is None and local["warehouse"] == "WH-CD"
    assert {h["type"] for h in local["holds"]} == {"carrier_area", "rural_no_phone"}

    dlg = press(qtbot, w, "cancel", ids["cancel"])
    assert dlg.submit.text() == "Cancel the order"
    submit(qtbot, dlg, "买家不要了")
    assert "closed" in answered(qtbot, w, ids["cancel"])

    dlg = press(qtbot, w, "cancel", ids["intercept"])
    assert dlg.submit.text() == "Request intercept" and "intercept" in dlg.effect.text()
    submit(qtbot, dlg, "买家不要了")
    assert "intercept requested" in answered(qtbot, w, ids["intercept"])
    assert st.order(ids["intercept"]).snapshot["cancel_requested"] is True
    qtbot.waitUntil(lambda: "pull the parcel" in w.detail.text(), timeout=5000)  # the pane beside the queue

    submit(qtbot, press(qtbot, w, "refund", ids["refund"]), "质量问题退款")
    assert st.order(ids["refund"]).state == "closed" or "closed" in answered(qtbot, w, ids["refund"])

    dlg = press(qtbot, w, "reallocate", ids["reallocate"])
    bench = dlg.bench_box
    assert bench is not None and QApplication.focusWidget() in (bench, bench.lineEdit())
    target = "B3" if st.order(ids["reallocate"]).bench != "B3" else "B2"
    qtbot.keyClicks(bench, target)
    submit(qtbot, dlg, "B1 缺人")
    answered(qtbot, w, ids["reallocate"])
    assert st.order(ids["reallocate"]).bench == target

    submit(qtbot, press(qtbot, w, "delivered", ids["delivered"]), "买家电话确认已收到")
    assert "delivered" in answered(qtbot, w, ids["delivered"])

    submit(qtbot, press(qtbot, w, "payment", ids["payment"]), "银行转账已到账")
    answered(qtbot, w, ids["payment"])
    assert st.order(ids["payment"]).state == "allocated"

    # a dialog for a state it does not apply in says why instead of opening
    assert w.select_order(ids["delivered"])
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    qtbot.keyClick(w.scan, KEYS["refund"], CTRL_SHIFT)
    qtbot.waitUntil(lambda: "not possible while the order is delivered" in w.notice.text(), timeout=5000)
    assert not w.desk_actions.dialog or not w.desk_actions.dialog.isVisible()
    offline_then_answered(qtbot, hub, ids, st, w)


def offline_then_answered(qtbot: Any, hub: HubProcess, ids: dict[str, str], st: Any, w: MainWindow) -> None:
    """The same window with the hub stopped: each action queued and shown at once, answered after the restart.

    (Part of the online test: one station and window for both keeps the module's time down.)
    """
    services = st.services
    hub.stop()
    try:
        qtbot.waitUntil(lambda: getattr(services.sync_state(), "status", "") == "offline", timeout=15_000)
        change_address(qtbot, press(qtbot, w, "address", ids["off_address"]), "买家微信改地址")
        assert "the hub is offline" in w.notice.text()
        dlg = press(qtbot, w, "cancel", ids["off_intercept"])
        submit(qtbot, dlg, "买家不要了")
        submit(qtbot, press(qtbot, w, "delivered", ids["off_delivered"]), "买家发来签收照片")
        # the local view shows each at once: new address, the intercept's hold, delivered
        assert st.order(ids["off_address"]).snapshot["recipient"]["city"] == "阿里地区"
        held = st.order(ids["off_intercept"]).snapshot
        assert held["cancel_requested"] is True and held["holds"][0]["type"] == "cancel_request"
        assert st.order(ids["off_delivered"]).state == "delivered"
        assert st.store.pending_count() == 3
    finally:
        hub.start()
    st.engine.wake()
    for oid in (ids["off_address"], ids["off_intercept"], ids["off_delivered"]):
        answered(qtbot, w, oid)
    assert w.desk_actions.answers[ids["off_address"]][0] == "ok"
    assert "no carrier covers the new address" in w.desk_actions.answers[ids["off_address"]][1]
    assert st.store.pending_count() == 0
    admin = Session(hub.url, operator="A001", pin="0000", station="ADMIN2", bench=None).login()
    routed = admin.order(ids["off_address"])
    assert routed["carrier"] is None and {h["type"] for h in routed["holds"]} == {"carrier_area", "rural_no_phone"}
    assert admin.order(ids["off_intercept"])["state"] == "label_printed"
    assert admin.order(ids["off_delivered"])["state"] == "delivered"


@pytest.fixture
def local(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    """A PC with two orders in its store and no hub (the checks are this PC's own)."""
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language("en")
    store = open_store(tmp_path / "bench.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot("BL20261206-000001"), snapshot("BL20261206-000002", bench="B2")])
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()


def test_packers_get_no_desk_action(qtbot: Any, local: AppServices) -> None:
    local.set_operator(Operator("P001", "打包员", "packer"))
    w = MainWindow(local)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.models["all"].total > 0 or w.models["to_print"].total > 0, timeout=5000)
    assert not any(a.isEnabled() for a in w.desk_actions.actions.values())
    assert not w.desk_actions.submenu.menuAction().isVisible()
    w.desk_actions.open("cancel", "BL20261206-000001")  # a way round the disabled key: still refused
    assert w.desk_actions.dialog is None and "Only desk staff" in w.notice.text()


def test_each_dialog_locks_until_its_reason_and_fields_are_right(qtbot: Any, local: AppServices) -> None:
    w = MainWindow(local)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.models["all"].total == 2, timeout=5000)
    w.desk_actions.open("address", "BL20261206-000001")
    qtbot.waitUntil(lambda: w.desk_actions.dialog is not None, timeout=5000)
    dlg = w.desk_actions.dialog
    assert dlg is not None and not dlg.submit.isEnabled()
    assert "unchanged" in dlg.hint.text() and "reason" in dlg.hint.text()
    dlg.fields["phone"].setText("12345")
    assert "courier can call" in dlg.hint.text()
    dlg.fields["phone"].setText("021-64381234")
    dlg.fields["city"].setText("")
    assert "City is required" in dlg.hint.text()
    dlg.fields["city"].setText("上海市")
    dlg.fields["address"].setText("世纪大道200号")
    dlg.reason.setText("x")
    assert not dlg.submit.isEnabled()
    dlg.reason.setText("买家来电")
    assert dlg.submit.isEnabled() and dlg.hint.text() == ""
    dlg.reject()
    w.desk_actions.open("reallocate", "BL20261206-000001")
    qtbot.waitUntil(lambda: w.desk_actions.dialog is not dlg and w.desk_actions.dialog is not None, timeout=5000)
    re = w.desk_actions.dialog
    assert re is not None and re.bench_box is not None
    assert [re.bench_box.itemText(i) for i in range(re.bench_box.count())] == ["B2"]  # the others this PC knows
    re.reason.setText("B1 缺人")
    assert "Choose the bench" in re.hint.text()
    re.bench_box.setCurrentIndex(0)
    assert re.submit.isEnabled() and re.payload() == {"reason": "B1 缺人", "bench": "B2"}
    re.reject()
