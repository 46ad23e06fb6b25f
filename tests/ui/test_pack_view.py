"""Pack mode: scripted bench sessions against a real local store (and one against a real hub)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.queues import load_rows
from core.store import open_store
from core.sync.engine import SyncConfig, SyncEngine
from tests.helpers import hubapi
from tests.helpers.printer import closed_port
from tests.hubproc import HubProcess
from tests.ui.conftest_pack import PackEnv, order_snap, pack_env
from ui.pack_view import PackView
from ui.print_service import PrintService
from ui.services import AppServices, Operator

__all__ = ["pack_env"]  # the fixture, re-exported for pytest

ROOT = Path(__file__).resolve().parents[2]
OID = "BL20261125-000001"
HOLD = {"hold_id": "h-77", "type": "carrier_area", "reason": "顺丰不覆盖该地区", "raised_at": "2026-11-25T01:00:00Z",
        "raised_by": "hub", "details": {}}


def make_view(qtbot: Any, env: PackEnv) -> PackView:
    view = PackView(env.services, PrintService(env.services))
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    return view


def answered(qtbot: Any, view: PackView) -> None:
    """Wait until the view has answered the scans so far: a code that is not an item of the open order
    (an order, a waybill, a wrong item) is looked up in the store on the database worker first."""
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)


def steps(env: PackEnv, order_id: str = OID) -> list[Any]:
    out: list[Any] = []
    for type_, payload in env.outbox(order_id):
        out.append(payload["step"] if type_ == "step" else type_)
    return out


def test_scripted_pack_print_first(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))  # label already printed (print-first)
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID.lower() + "\r\n")
    assert view.order is not None and view.phase == "scanning"
    assert view.table.rowCount() == 3 and view.total_label.text() == "Scanned 0 of 4 units"

    view.handle_scan("TEA-250")
    assert view.status_kind == "ok" and "TEA-250" in view.banner_text.text() and "(1/2)" in view.banner_text.text()
    assert view.sounds.last_requested == "ok"
    assert view.table.item(0, 4).text() == "1 / 2"

    view.handle_scan("SOCK-9")  # wrong item: red, reason, nothing counted
    answered(qtbot, view)
    assert view.status_kind == "error" and view.banner_icon.text() == "✖"
    assert "SOCK-9" in view.reason_label.text() and view.reason_label.isVisibleTo(view)
    assert view.sounds.last_requested == "error"
    assert view.session is not None and view.session.verified_units == 1

    view.handle_scan("TEA-250")
    view.handle_scan("TEA-250")  # one too many
    assert view.status_kind == "error" and "Too many" in view.banner_text.text()
    assert view.session.verified_units == 2
    view.handle_scan("CUP-01")
    with qtbot.waitSignal(view.order_finished, timeout=10000) as sig:
        view.handle_scan("GIFT-BAG")
    assert sig.args == [OID]
    assert steps(pack_env) == ["verified", "packed", "shipped_by_station"]
    verified = pack_env.outbox(OID)[0][1]
    assert verified["detail"] == {"TEA-250": 2, "CUP-01": 1, "GIFT-BAG": 1}
    order = pack_env.store.get_order(OID)
    assert order is not None and order.state == "shipped" and order.is_pending
    assert view.status_kind == "done" and view.sounds.last_requested == "done"
    assert "Pending sync" in view.sync_label.text()
    assert pack_env.services.journal.jobs() == []  # the label was printed before: no new print


def test_print_first_prints_the_label_when_not_printed_yet(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, state="allocated"))
    view = make_view(qtbot, pack_env)
    view.handle_scan(OID)
    for code in ("TEA-250", "TEA-250", "CUP-01"):
        view.handle_scan(code)
    with qtbot.waitSignal(view.order_finished, timeout=20000):
        view.handle_scan("GIFT-BAG")
    assert steps(pack_env) == ["verified", "packed", "label_printed", "shipped_by_station"]
    assert [j["doc_type"] for j in pack_env.services.journal.jobs(OID)] == ["label"]


def test_pack_first_prints_and_only_then_ships(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.settings.bench_flow = "pack-first"
    pack_env.settings.printers["label"] = f"tcp:127.0.0.1:{closed_port()}"  # the printer is off
    pack_env.seed(order_snap(1, state="allocated"))
    view = make_view(qtbot, pack_env)
    view.handle_scan(OID)
    for code in ("TEA-250", "TEA-250", "CUP-01"):
        view.handle_scan(code)
    with qtbot.waitSignal(view.print_service.job_failed, timeout=20000):
        view.handle_scan("GIFT-BAG")
    qtbot.waitUntil(lambda: view.phase == "print_failed")
    assert steps(pack_env) == ["verified", "packed"]  # not printed, so not shipped
    assert view.status_kind == "error" and "F5" in view.reason_label.text()
    assert view.retry_button.isEnabled()
    box = view.print_service.error_box
    assert box is not None and box.isVisible()
    box.reject()  # the packer closes the printer's message and fixes the printer
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)

    pack_env.settings.printers["label"] = f"pdf:{pack_env.prints}"  # another printer chosen
    with qtbot.waitSignal(view.order_finished, timeout=20000):
        QTest.keyClick(view.scan_field, Qt.Key.Key_F5)
    assert steps(pack_env) == ["verified", "packed", "label_printed", "shipped_by_station"]
    assert [j["ok"] for j in pack_env.services.journal.jobs(OID)] == [True, False]


def test_held_order_blocks_packing_and_asks_for_the_exception(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, state="allocated", holds=[HOLD]))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.exception_requested) as sig:
        view.handle_scan(OID)
    assert sig.args == [OID, "h-77"]
    assert view.phase == "blocked" and view.status_kind == "held" and view.banner_icon.text() == "▲"
    assert view.hold_banner.isVisibleTo(view) and "顺丰不覆盖该地区" in view.hold_banner.text()
    assert "Carrier does not cover area" in view.hold_banner.text()
    view.handle_scan("TEA-250")
    assert view.session is not None and view.session.verified_units == 0
    assert view.status_kind == "error" and pack_env.outbox() == []


def test_conflict_blocks_with_empty_hold_id(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    with pack_env.store.write() as conn:
        conn.exec_driver_sql("UPDATE orders SET conflict_json = ? WHERE order_id = ?",
                             ('{"outcome": "conflict", "reason": "cancelled at the hub"}', OID))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.exception_requested) as sig:
        view.handle_scan(OID)
    assert sig.args == [OID, ""] and "cancelled at the hub" in view.hold_banner.text()


def settle(env: PackEnv) -> None:
    """Let queued database work and the signals it queued for the GUI thread all arrive."""
    for _ in range(3):
        env.services.tasks.wait_idle()
        QApplication.processEvents()


def test_three_wrong_scans_raise_scan_mismatch(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    view = make_view(qtbot, pack_env)
    view.handle_scan(OID)
    view.handle_scan("TEA-250")
    view.handle_scan("X-1")
    view.handle_scan("X-2")
    asked: list[tuple[str, str]] = []
    view.exception_requested.connect(lambda oid, hid: asked.append((oid, hid)))
    with qtbot.waitSignal(view.exception_requested, timeout=10000) as sig:
        view.handle_scan("X-3")
    settle(pack_env)
    assert len(asked) == 1, asked  # one dialog for one hold, not one per change notice
    order = pack_env.store.get_order(OID)
    assert order is not None
    hold = order.snapshot["holds"][0]
    assert hold["type"] == "scan_mismatch" and sig.args == [OID, hold["hold_id"]]
    assert [s["code"] for s in hold["details"]["scans"]] == ["X-1", "X-2", "X-3"]
    assert hold["details"]["verified"]["TEA-250"] == 1
    assert [t for t, _p in pack_env.outbox()] == ["hold_raised"]
    assert view.phase == "blocked" and view.status_kind == "held"


def test_report_problem_raises_item_missing(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    QTest.keyClick(view.scan_field, Qt.Key.Key_F9)
    dlg = view.problem_dialog
    assert dlg is not None
    dlg.sku_box.setCurrentIndex(1)
    dlg.kind_box.setCurrentIndex(1)
    asked: list[tuple[str, str]] = []
    view.exception_requested.connect(lambda oid, hid: asked.append((oid, hid)))
    with qtbot.waitSignal(view.exception_requested, timeout=10000):
        dlg.accept()
    settle(pack_env)
    assert len(asked) == 1, asked
    hold = pack_env.store.get_order(OID).snapshot["holds"][0]  # type: ignore[union-attr]
    assert hold["type"] == "item_missing" and hold["details"]["sku"] == "CUP-01"
    assert hold["details"]["problem"] == "damaged" and "CUP-01" in hold["reason"]


def test_unknown_code_and_unknown_order(qtbot: Any, pack_env: PackEnv) -> None:
    view = make_view(qtbot, pack_env)
    with qtbot.assertNotEmitted(view.activated):
        view.handle_scan("NOPE-123")
        answered(qtbot, view)
    assert view.status_kind == "error" and "NOPE-123" in view.banner_text.text()
    assert view.sounds.last_requested == "error"
    view.handle_scan("BL20261125-999999")
    answered(qtbot, view)
    assert view.status_kind == "error" and view.order is None


def test_waybill_and_channel_no_open_the_order_and_switching_keeps_counts(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1), order_snap(2))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.activated):
        view.handle_scan("SF000001")  # waybill
    assert view.order is not None and view.order.order_id == OID
    view.handle_scan("TEA-250")
    with qtbot.waitSignal(view.activated):
        view.handle_scan("C000002")  # channel order no of the second order: switch, ask nothing
    assert view.order is not None and view.order.order_id == "BL20261125-000002"
    assert view.session is not None and view.session.verified_units == 0
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID)
    assert view.session is not None and view.session.verified_units == 1
    assert pack_env.outbox() == []  # nothing recorded until an order completes


def test_esc_closes_the_order(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    with qtbot.waitSignal(view.closed):
        QTest.keyClick(view.scan_field, Qt.Key.Key_Escape)
    assert view.order is None and view.table.rowCount() == 0


def test_picklist_batch_scan_opens_its_orders_in_turn(qtbot: Any, pack_env: PackEnv) -> None:
    one = [{"sku": "CUP-01", "name": "杯", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "B-1"}]
    two = [{"sku": "TEA-250", "name": "茶", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "A-1"}]
    pack_env.seed(order_snap(1, lines=one), order_snap(2, lines=two))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.print_service.job_finished, timeout=20000):
        batch = view.print_service.print_picklist([OID, "BL20261125-000002"])
    with qtbot.waitSignal(view.activated):
        view.handle_scan(batch.lower())
    assert view.order is not None and view.order.order_id == "BL20261125-000002"  # slot #1: bin A-1
    assert batch in view.batch_label.text() and "0/2" in view.batch_label.text()
    with qtbot.waitSignal(view.order_finished, timeout=10000):
        view.handle_scan("TEA-250")
    qtbot.waitUntil(lambda: view.order is not None and view.order.order_id == OID)
    assert "1/2" in view.batch_label.text()
    with qtbot.waitSignal(view.order_finished, timeout=10000):
        view.handle_scan("CUP-01")
    qtbot.waitUntil(lambda: "complete" in view.banner_text.text())


def _grab(qtbot: Any, view: PackView, name: str, tmp_path: Path) -> Path:
    qtbot.waitUntil(lambda: not view.flashing)  # the steady look, not the 250 ms flash
    QApplication.processEvents()
    target = ROOT / "docs" / "screenshots" if os.environ.get("PACKDESK_SCREENSHOTS") else tmp_path
    path = target / name
    assert view.grab().save(str(path))
    return path


def test_screenshots(qtbot: Any, pack_env: PackEnv, tmp_path: Path) -> None:
    """Pack mode mid-session and a wrong scan (PACKDESK_SCREENSHOTS=1 writes docs/screenshots/)."""
    from core import i18n

    i18n.set_language("zh_CN")
    try:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        old = app.font()
        app.setFont(QFont("WenQuanYi Micro Hei", 11))
        pack_env.seed(order_snap(8632, flags=["gift"], buyer_note="请多放点冰袋", seller_note="不放价格单",
                                 packing_note="红色礼盒，丝带打蝴蝶结，附手写贺卡", lines=[
            {"sku": "TEA-LJ-250", "name": "西湖龙井明前特级 250g 礼盒", "qty": 2, "unit_price_fen": 19900,
             "is_gift": False, "bin": "A-02-3"},
            {"sku": "CUP-GL-01", "name": "双层玻璃茶杯 350ml", "qty": 1, "unit_price_fen": 2900, "is_gift": False,
             "bin": "A-10-1"},
            {"sku": "GIFT-BAG", "name": "品牌帆布袋", "qty": 1, "unit_price_fen": 0, "is_gift": True, "bin": "C-01"},
        ]))
        view = PackView(pack_env.services, PrintService(pack_env.services))
        qtbot.addWidget(view)
        view.resize(1366, 768)
        view.show()
        view.handle_scan("BL20261125-008632")
        view.handle_scan("TEA-LJ-250")
        view.handle_scan("CUP-GL-01")
        answered(qtbot, view)
        mid = _grab(qtbot, view, "pack-mode.png", tmp_path)
        view.handle_scan("SOCK-M-BLK")
        answered(qtbot, view)
        wrong = _grab(qtbot, view, "pack-wrong-scan.png", tmp_path)
        assert mid.stat().st_size < 300_000 and wrong.stat().st_size < 300_000
        app.setFont(old)
    finally:
        i18n.set_language("en")


@pytest.mark.timeout(120)
def test_end_to_end_with_a_real_hub(qtbot: Any, tmp_path: Path, sqlite_hub: HubProcess,
                                    monkeypatch: pytest.MonkeyPatch, qapp: Any) -> None:
    """A packer on bench B1 packs a demo order; the hub ends with it shipped."""
    from core.settings import load_settings

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    hubapi.demo(sqlite_hub.url, 120, seed=7)
    settings = load_settings(tmp_path / "settings.json")
    settings.bench = "B1"
    settings.printers = {"label": f"pdf:{tmp_path / 'prints'}"}
    store = open_store(tmp_path / "bench.sqlite3")
    engine = SyncEngine(store, SyncConfig(sqlite_hub.url, "B1-PC", "B1", settings.device_id, long_poll_s=1.0,
                                          backoff_base_s=0.05, backoff_cap_s=0.3, connect_timeout_s=1.0))
    engine.set_credentials("P001", "1111")
    services = AppServices(settings, store, engine)
    services.set_operator(Operator("P001", "王小明", "packer"))
    try:
        engine.start()

        def workable() -> list[Any]:
            return [store.get_order(r.order_id) for r in load_rows(store)
                    if r.state == "allocated" and r.bench == "B1" and not r.held and not r.pending]

        qtbot.waitUntil(lambda: bool(workable()), timeout=30000)
        order = workable()[0]
        view = PackView(services, PrintService(services))
        qtbot.addWidget(view)
        view.handle_scan(order.order_id)
        units = [line["sku"] for line in order.snapshot["lines"] for _ in range(line["qty"])]
        with qtbot.waitSignal(view.order_finished, timeout=30000):
            for sku in units:
                view.handle_scan(sku)
        hub = hubapi.Session(sqlite_hub.url).login()
        qtbot.waitUntil(lambda: hub.order(order.order_id)["state"] == "shipped", timeout=30000)
        snap = hub.order(order.order_id)
        assert "verified" in snap["steps"] and "packed" in snap["steps"] and snap["label_count"] == 1
        qtbot.waitUntil(lambda: not store.get_order(order.order_id).is_pending, timeout=30000)  # type: ignore[union-attr]
        qtbot.waitUntil(lambda: "Synced" in view.sync_label.text(), timeout=10000)
    finally:
        services.shutdown()
