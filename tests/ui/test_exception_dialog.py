"""The guided dialog on its own (no hub): lock, reasons, role line, keyboard, readability, outbox payload,
and where its choices come from (the hold's details; the hub's options endpoint, here a tiny fake hub).

End-to-end runs against a real hub are in tests/e2e/test_playbooks_hub.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QWidget

import ui.exception_dialog as mod
from core.i18n import _
from core.playbooks import Options
from core.settings import load_settings
from core.store import open_store
from core.sync import SyncConfig, SyncEngine, SyncState
from tests.helpers.snapshots import snapshot
from ui.exception_dialog import ExceptionDialog, mask_phone, open_exception_dialog, read_exception
from ui.services import AppServices, Operator

OID = "BL20261125-000042"
HOLD = {"hold_id": "h-rural", "type": "rural_no_phone", "reason": "农村地址且无有效电话 / rural address without a usable phone",
        "raised_at": "2026-11-25T01:00:00Z", "raised_by": "system", "details": {}}
RECIPIENT = {"name": "李桂兰", "phone": "", "province": "河南省", "city": "周口市", "district": "郸城县",
             "address": "汲冢镇丁楼村3组", "postcode": ""}


OPEN: list[ExceptionDialog] = []


@pytest.fixture(autouse=True)
def _close_dialogs() -> Iterator[None]:
    """Dialogs delete themselves when closed (so not qtbot.addWidget); one a test left open is closed here."""
    yield
    while OPEN:
        dlg = OPEN.pop()
        if dlg.resolved is None:
            dlg.reject()


@pytest.fixture
def services(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    store = open_store(tmp_path / "bench.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(OID, recipient=RECIPIENT, holds=[HOLD])])
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()


def make(services: AppServices, qtbot: Any, oid: str = OID, hold_id: str = "h-rural") -> ExceptionDialog:
    """Open the dialog the way the app does (the order read on the database worker)."""
    opened: list[ExceptionDialog] = []
    open_exception_dialog(services, oid, hold_id, None, on_opened=opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    dlg = opened[0]
    OPEN.append(dlg)
    assert dlg.isVisible() and dlg.isModal()
    return dlg


def combo_items(dlg: ExceptionDialog, name: str) -> list[tuple[Any, str]]:
    combo = dlg.form.widgets[name]
    assert isinstance(combo, QComboBox)
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


def fill(dlg: ExceptionDialog) -> None:
    combo = dlg.form.widgets["confirmed_via"]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("phone_call"))
    edit = dlg.form.widgets["confirmed_address"]
    assert isinstance(edit, QLineEdit)
    edit.setText("汲冢镇丁楼村3组12号")


def test_locked_until_complete_then_enter_submits_hold_released(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    assert not dlg.submit_button.isEnabled()
    # one language per screen: the operator's (English in these tests), never a 中文 / English pair
    assert "choose: How the buyer confirmed" in dlg.reasons_label.text() and "fill in: Confirmed address" in \
        dlg.reasons_label.text() and "请" not in dlg.reasons_label.text()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Enter on a locked form does nothing
    services.tasks.wait_idle()
    assert dlg.isVisible() and services.store.pending_count() == 0
    fill(dlg)
    assert dlg.submit_button.isEnabled() and dlg.reasons_label.text() == ""
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dlg.resolved is True, timeout=5000)
    [action] = services.store.pending_actions()
    assert action.type == "hold_released"
    assert action.payload["hold_id"] == "h-rural"
    assert action.payload["resolution"] == {"confirmed_via": "phone_call", "confirmed_address": "汲冢镇丁楼村3组12号"}
    assert action.payload["reason"].startswith("电话")
    order = services.store.get_order(OID)
    assert order is not None and order.snapshot["holds"] == [] and order.is_pending


def test_escape_cancels_and_tab_starts_at_the_first_field(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    dlg.activateWindow()
    assert dlg.focusWidget() is dlg.form.widgets["confirmed_via"]
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.resolved is False
    assert services.store.pending_count() == 0


def test_text_is_readable_and_phone_is_masked(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    for label in dlg.findChildren(QLabel):
        if label.text():
            assert label.font().pointSize() >= 13 or "font-size" in label.styleSheet(), label.text()
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138****0000") == "138****0000"
    copy = dlg.findChild(QWidget, "copyPhone")
    assert copy is not None and copy.isEnabled() is False  # no phone to copy


def test_packer_sees_needs_desk_and_no_submit(services: AppServices, qtbot: Any) -> None:
    services.set_operator(Operator("P001", "打包员", "packer"))
    dlg = make(services, qtbot)
    fill(dlg)
    assert dlg.role_label.text() == "needs desk" and dlg.role_label.isVisible()
    assert not dlg.submit_button.isEnabled()


def test_open_exception_dialog_is_modal_and_says_whether_resolved(services: AppServices, qtbot: Any) -> None:
    finished: list[bool] = []

    def drive() -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, ExceptionDialog)
        fill(dlg)
        dlg.submit_button.click()

    open_exception_dialog(services, OID, "h-rural", None, on_opened=lambda _d: QTimer.singleShot(0, drive),
                          on_finished=finished.append)
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished == [True]


def test_nothing_to_resolve_says_why(services: AppServices, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    finished: list[bool] = []
    monkeypatch.setattr(mod, "show_error", lambda _parent, text, *a: shown.append(str(text)))
    for oid, hold_id in ((OID, "gone"), (OID, ""), ("BL20261125-999999", "x")):
        open_exception_dialog(services, oid, hold_id, None, on_finished=finished.append)
    qtbot.waitUntil(lambda: len(finished) == 3, timeout=5000)
    assert finished == [False, False, False]
    assert ["already resolved" in shown[0], "no offline conflict" in shown[1], "not on this station" in shown[2]] == [
        True, True, True]


def test_pick_first_opens_the_first_hold(services: AppServices) -> None:
    found = read_exception(services.store, OID, None, pick_first=True)
    assert not isinstance(found, str) and found.hold is not None and found.hold["hold_id"] == "h-rural"
    assert isinstance(read_exception(services.store, OID, None), str)  # without it: the offline conflict only


# -- where the choices come from ---------------------------------------------------------------------

GIFT_OID = "BL20261125-000043"
CARRIER_OID = "BL20261125-000044"
GIFT_OPTIONS = Options(gift_skus={"GIFT-BAG-01", "GIFT-PEN-02"},
                       names={"GIFT-BAG-01": "品牌帆布袋 (赠品)", "GIFT-PEN-02": "签字笔 (赠品)"})
CARRIER_OPTIONS = Options(carriers={"SF", "YTO", "EMS"}, covering_carriers={"EMS"},
                          names={"SF": "顺丰速运", "YTO": "圆通速递", "EMS": "中国邮政 EMS"})


def hold(hold_id: str, htype: str, options: Options | None) -> dict[str, Any]:
    return {"hold_id": hold_id, "type": htype, "reason": "test", "raised_at": "2026-11-25T01:00:00Z",
            "raised_by": "system", "details": {"options": options.to_wire()} if options is not None else {}}


def seed(services: AppServices, oid: str, *holds: dict[str, Any]) -> None:
    store = services.store
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(oid, holds=list(holds))])


def test_gift_choices_and_names_come_from_the_hold_details(services: AppServices, qtbot: Any) -> None:
    seed(services, GIFT_OID, hold("h-gift", "gift_stock", GIFT_OPTIONS))
    dlg = make(services, qtbot, GIFT_OID, "h-gift")
    assert not dlg.fetching_options  # no hub here: nothing asked
    assert combo_items(dlg, "substitute_sku") == [
        (None, "— choose —"), ("GIFT-BAG-01", "GIFT-BAG-01  品牌帆布袋 (赠品)"), ("GIFT-PEN-02", "GIFT-PEN-02  签字笔 (赠品)")]
    combo = dlg.form.widgets["decision"]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("substitute"))
    consent = dlg.form.widgets["consent_by"]
    assert isinstance(consent, QLineEdit)
    consent.setText("买家 lgl")
    assert not dlg.submit_button.isEnabled()  # the substitute is still to choose
    sku = dlg.form.widgets["substitute_sku"]
    assert isinstance(sku, QComboBox)
    sku.setCurrentIndex(sku.findData("GIFT-PEN-02"))
    assert dlg.submit_button.isEnabled(), dlg.reasons_label.text()


def test_carriers_say_which_cover_the_area(services: AppServices, qtbot: Any) -> None:
    seed(services, CARRIER_OID, hold("h-car", "carrier_area", CARRIER_OPTIONS))
    dlg = make(services, qtbot, CARRIER_OID, "h-car")
    items = dict(combo_items(dlg, "carrier"))
    assert set(items) == {None, "EMS", "SF", "YTO"}
    assert items["EMS"] == f"China Post EMS — {_('covers this area')}"  # core/display_names.py, one language
    assert items["SF"] == f"SF Express — {_('does not cover this area')}"


def test_without_known_choices_the_code_is_typed_and_the_hub_checks(services: AppServices, qtbot: Any) -> None:
    seed(services, GIFT_OID, hold("h-gift", "gift_stock", None))  # an older hub: no details.options
    dlg = make(services, qtbot, GIFT_OID, "h-gift")
    sku = dlg.form.widgets["substitute_sku"]
    assert isinstance(sku, QComboBox) and sku.isEditable() and sku.count() == 0
    combo = dlg.form.widgets["decision"]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("substitute"))
    consent = dlg.form.widgets["consent_by"]
    assert isinstance(consent, QLineEdit)
    consent.setText("买家 lgl")
    assert not dlg.submit_button.isEnabled()
    sku.setEditText("GIFT-ANY-9")
    assert dlg.submit_button.isEnabled(), dlg.reasons_label.text()
    assert dlg.form.values()["substitute_sku"] == "GIFT-ANY-9"


class _FakeHub(BaseHTTPRequestHandler):
    """Just enough hub for the dialog's options request: a login and ``GET /orders/{id}/options``."""

    options: ClassVar[dict[str, Any] | None] = {}  # None: an older hub without the endpoint (404)
    asked: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.path == "/api/v1/auth/login"
        self._answer(200, {"token": "t", "expires_at": "", "device_id": req["device_id"],
                           "operator": {"code": req["operator"], "name": "客服", "role": "desk"},
                           "station": {"name": req["station"], "bench": None}})

    def do_GET(self) -> None:
        prefix, suffix = "/api/v1/orders/", "/options"
        if not (self.path.startswith(prefix) and self.path.endswith(suffix)):
            self._answer(404, {"error": "not_found", "message": "no such route"})
            return
        oid = self.path[len(prefix):-len(suffix)]
        self.asked.append(oid)
        assert self.headers["Authorization"] == "Bearer t"
        if self.options is None:
            self._answer(404, {"error": "not_found", "message": "Not Found"})
            return
        self._answer(200, {"order_id": oid, "options": self.options})


@pytest.fixture
def fake_hub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("hub_has_endpoint", [True, False])
def test_online_the_hubs_current_choices_refine_the_holds(tmp_path: Path, qapp: Any, qtbot: Any, fake_hub: str,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          hub_has_endpoint: bool) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    # Since the hold was raised GIFT-PEN-02 ran out and GIFT-CUP-03 came in; the hold knows the names.
    _FakeHub.options = Options(gift_skus={"GIFT-BAG-01", "GIFT-CUP-03"},
                               names={"GIFT-CUP-03": "茶杯 (赠品)"}).to_wire() if hub_has_endpoint else None
    _FakeHub.asked = []
    store = open_store(tmp_path / "online.sqlite3")
    engine = SyncEngine(store, SyncConfig(hub_url=fake_hub, station="DESK-1", bench=None, device_id="dev-1",
                                          connect_timeout_s=1.0, read_timeout_s=5.0))
    engine.login("D001", "2222")
    services = AppServices(load_settings(tmp_path / "settings.json"), store, engine)
    try:
        services.set_operator(Operator("D001", "客服", "desk"))
        monkeypatch.setattr(services, "sync_state", lambda: SyncState(status="online"))
        seed(services, GIFT_OID, hold("h-gift", "gift_stock", GIFT_OPTIONS))
        opened: list[ExceptionDialog] = []
        open_exception_dialog(services, GIFT_OID, "h-gift", None, on_opened=opened.append)
        qtbot.waitUntil(lambda: bool(opened), timeout=5000)
        dlg = opened[0]
        OPEN.append(dlg)
        sku = dlg.form.widgets["substitute_sku"]
        assert isinstance(sku, QComboBox)
        sku.setCurrentIndex(sku.findData("GIFT-BAG-01"))  # chosen before the hub answered: stays chosen
        qtbot.waitUntil(lambda: not dlg.fetching_options, timeout=10_000)
        assert _FakeHub.asked == [GIFT_OID]
        offered = [("GIFT-BAG-01", "GIFT-BAG-01  品牌帆布袋 (赠品)")]
        offered += ([("GIFT-CUP-03", "GIFT-CUP-03  茶杯 (赠品)")] if hub_has_endpoint
                    else [("GIFT-PEN-02", "GIFT-PEN-02  签字笔 (赠品)")])  # no answer: the hold's own
        assert combo_items(dlg, "substitute_sku") == [(None, "— choose —"), *offered]
        assert sku.currentData() == "GIFT-BAG-01"
        dlg.reject()
    finally:
        services.shutdown()


def test_a_stock_hold_names_what_is_short_and_the_guidance_offers_the_split(services: AppServices, qtbot: Any) -> None:
    short = {"hold_id": "h-short", "type": "stock_short", "reason": "库存不足", "raised_at": "2026-11-25T01:00:00Z",
             "raised_by": "system", "details": {"warehouse": "SH", "short": [
                 {"sku": "TEA-01", "name": "茶杯", "needed": 3, "available": 1, "is_gift": False},
                 {"sku": "POT-02", "name": "茶壶", "needed": 1, "available": 0, "is_gift": False}]}}
    seed(services, "BL20261125-000077", short)
    dlg = make(services, qtbot, "BL20261125-000077", "h-short")
    label = dlg.findChild(QLabel, "shortLines")
    assert label is not None and label.isVisible()
    lines = label.text().splitlines()
    assert len(lines) == 2
    assert "TEA-01" in lines[0] and "茶杯" in lines[0] and "3" in lines[0] and "1" in lines[0]
    assert "POT-02" in lines[1] and "0" in lines[1]
    words = " ".join(lb.text() for lb in dlg.findChildren(QLabel))
    assert "Ctrl+Shift+X" in words  # the split is the way to ship what is there


def test_a_hold_without_short_details_shows_no_short_row(services: AppServices, qtbot: Any) -> None:
    dlg = make(services, qtbot)
    assert dlg.findChild(QLabel, "shortLines") is None
    assert mod.short_lines({"short": "garbage"}) == "" and mod.short_lines(None) == ""
    assert mod.short_lines({"short": [{"sku": "A", "needed": 2, "in_stock": 1}, 7, {"name": "no sku"}]}).count("\n") == 0
