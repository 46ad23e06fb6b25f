"""A whole handover at the bench driven by scans and keys only: offline (hub unreachable) and online.

Ctrl+H enters handover mode; the scanner (wedge keystrokes) does the rest; F8 closes the batch.
Offline, the shipped actions wait in the outbox; online, the hub ships the orders. The manifest
is a real PDF in a folder printer and its barcodes are decoded back with zbarimg.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.handover import Outcome, Verdict
from core.store import LocalOrder
from core.sync.client import HubUnreachable
from tests.helpers.keyboard import wedge
from tests.helpers.snapshots import snapshot
from tests.helpers.station import Station, app_station, open_window
from tests.hubproc import HubProcess
from tests.printing.conftest import decode_pdf
from tests.ui.conftest import StationFactory
from ui.main_window import MainWindow

HOLD = {"hold_id": "h-1", "type": "carrier_area", "reason": "不覆盖", "raised_at": "2026-11-25T01:00:00Z",
        "raised_by": "hub", "details": {}}


def printed(n: int, **extra: Any) -> dict[str, Any]:
    extra.setdefault("carrier", "ZTO")
    extra.setdefault("waybill_no", f"7731{n:08d}")
    return snapshot(f"BL20261125-{n:06d}", state="label_printed", label_count=1, **extra)


def answer(qtbot: Any, w: MainWindow, code: str, check: Callable[[Outcome], bool] = lambda _o: True) -> Outcome:
    """Scan ``code`` with the wedge scanner and wait for the handover page's answer to it."""
    view = w.handover_view
    with qtbot.waitSignal(view.answered, timeout=10_000, check_params_cb=check) as blocker:
        wedge(view.scan_field, code)
    out = blocker.args[0]
    assert isinstance(out, Outcome)
    return out


def press(qtbot: Any, w: MainWindow, key: Qt.Key, check: Callable[[Outcome], bool]) -> Outcome:
    view = w.handover_view
    with qtbot.waitSignal(view.answered, timeout=15_000, check_params_cb=check) as blocker:
        qtbot.keyClick(view.scan_field, key)
    return blocker.args[0]  # type: ignore[no-any-return]


def enter_handover(qtbot: Any, w: MainWindow) -> None:
    qtbot.keyClick(w.scan, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert w.stack.currentWidget() is w.handover_view
    qtbot.waitUntil(lambda: not w.handover_view.busy and bool(w.handover_view.flow.carriers), timeout=10_000)


def manifest_codes(prints: Path, tmp_path: Path) -> list[str]:
    pdf = next(prints.glob("manifest-*.pdf"))
    (tmp_path / "decoded").mkdir()
    return sorted(c for page in decode_pdf(pdf.read_bytes(), tmp_path / "decoded") for c in page)


def test_offline_handover_by_scans_only_keeps_the_shipments_in_the_outbox(
        qtbot: Any, tmp_path: Path, home: Path, qapp: Any) -> None:
    st = app_station(tmp_path / "st", "http://127.0.0.1:9", name="B1-OFF", bench="B1", login=False, sync=False,
                     printers=("pick_list",), connect_timeout_s=0.5, read_timeout_s=1.0)
    try:
        with st.store.write() as conn:
            st.store.apply_snapshots(conn, [printed(1), printed(2), printed(3), printed(4, holds=[HOLD]),
                                            printed(5, carrier="SF", waybill_no="SF1234567890"),
                                            printed(6, cancel_requested=True)])
        st.settings.handover = "batch"  # packed parcels wait for this scan
        w = open_window(qtbot, st.services)
        enter_handover(qtbot, w)
        view = w.handover_view
        assert not view.mode_note.isVisible()
        assert view.flow.carriers == [("ZTO", 3), ("SF", 1)] and view.selected_carrier() == "ZTO"
        tones: list[str] = []
        view.sounds.requested.connect(tones.append)

        out = answer(qtbot, w, "773100000001")
        assert out.banner == "ok" and view.status_kind == "ok" and view.flow.batch is not None
        assert view.flow.batch.carrier == "ZTO" and "1" in view.count_label.text()
        out = answer(qtbot, w, "773100000004")  # held: the 拦截 moment — red, loud, the reason
        assert out.refusal == Verdict.HELD and view.status_kind == "error" and tones[-1] == "error"
        assert view.banner_icon.text() == "✖" and view.reason_label.isVisible()
        assert answer(qtbot, w, "SF1234567890").refusal == Verdict.OTHER_CARRIER
        assert answer(qtbot, w, "773100000006").refusal == Verdict.CANCEL_REQUESTED
        assert answer(qtbot, w, "NOT-A-PARCEL-42").refusal == Verdict.UNKNOWN
        assert answer(qtbot, w, "773100000001").banner == "repeat"  # scanned twice: counted once
        assert answer(qtbot, w, "773100000002").banner == "ok"
        assert view.flow.count == 2 and view.missing_list.count() == 1  # parcel 3 is still on the bench
        assert "773100000003" in view.missing_list.item(0).text()
        if os.environ.get("PACKDESK_SCREENSHOTS"):
            w.resize(1366, 740)
            answer(qtbot, w, "773100000004")
            w.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "handover-refusal.png"))

        out = press(qtbot, w, Qt.Key.Key_F8, lambda o: o.banner == "confirm")  # one is missing: asks again
        assert "1" in out.text and st.store.pending_count() == 0
        with qtbot.waitSignal(view.manifest_printed, timeout=20_000) as printed_sig:
            qtbot.keyClick(view.scan_field, Qt.Key.Key_F8)
        assert printed_sig.args[0].ok
        assert view.status_kind == "done" and view.flow.batch is None
        actions = [a for a in st.store.pending_actions() if a.type == "shipped_by_station"]
        assert [a.order_id for a in actions] == ["BL20261125-000001", "BL20261125-000002"]
        batch_id = actions[0].payload["batch_id"]
        assert all(a.payload == {"batch_id": batch_id, "carrier": "ZTO"} for a in actions)
        with pytest.raises(HubUnreachable):  # the hub is down: nothing is lost, nothing is answered
            st.sync()
        assert st.store.pending_count() == 2 and st.order("BL20261125-000001").state == "shipped"
        assert manifest_codes(tmp_path / "st" / "prints", tmp_path) == sorted(
            [batch_id, "773100000001", "773100000002"])
        # keyboard only: ↓ picks the next carrier, Enter on the empty field opens its batch, F12 twice cancels
        qtbot.waitUntil(lambda: not view.busy and view.flow.carriers == [("SF", 1), ("ZTO", 1)], timeout=5000)
        assert view.selected_carrier() == "SF"
        qtbot.keyClick(view.scan_field, Qt.Key.Key_Down)
        assert view.selected_carrier() == "ZTO"
        out = press(qtbot, w, Qt.Key.Key_Return, lambda o: o.banner == "ready")
        assert view.flow.batch is not None and view.flow.batch.carrier == "ZTO" and "ZTO" in view.batch_label.text()
        assert press(qtbot, w, Qt.Key.Key_F12, lambda o: o.banner == "confirm").banner == "confirm"
        press(qtbot, w, Qt.Key.Key_F12, lambda o: o.banner == "idle")
        assert view.flow.batch is None and st.store.pending_count() == 2
        qtbot.keyClick(view.scan_field, Qt.Key.Key_Escape)
        assert w.stack.currentWidget() is w.queue_page
    finally:
        st.close()


def _allocated_by_carrier(st: Station) -> dict[str, list[LocalOrder]]:
    out: dict[str, list[LocalOrder]] = {}
    for oid in sorted(st.store.order_ids()):
        o = st.store.get_order(oid)
        if (o is not None and o.state == "allocated" and o.bench == "B1" and not o.snapshot.get("holds")
                and o.snapshot.get("waybill_no") and not o.snapshot.get("cancel_requested")):
            out.setdefault(str(o.snapshot.get("carrier")), []).append(o)
    return out


def test_online_handover_ships_the_orders_at_the_hub(
        qtbot: Any, tmp_path: Path, demo_hub: HubProcess, station: StationFactory) -> None:
    st = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    prints = tmp_path / "prints"
    st.settings.printers = {"pick_list": f"pdf:{prints}"}
    by_carrier = _allocated_by_carrier(st)
    carrier, orders = max(by_carrier.items(), key=lambda kv: len(kv[1]))
    parcels = orders[:2]
    for o in parcels:  # their labels printed (as the print journal records it)
        st.outbox.perform(o.order_id, "label_printed", {"printer": "test", "job_id": uuid.uuid4().hex}, "P001",
                          role="packer")
    st.sync()
    assert all(st.store.hub_snapshot(o.order_id)["state"] == "label_printed" for o in parcels)  # type: ignore[index]
    unprinted = orders[2]
    w = open_window(qtbot, st.services)
    enter_handover(qtbot, w)
    # this station ships at pack (the default): the screen says why packed parcels would be refused
    assert w.handover_view.mode_note.isVisible() and "Hand-over" in w.handover_view.mode_note.text()
    waybills = [str(o.snapshot["waybill_no"]) for o in parcels]
    assert answer(qtbot, w, waybills[0]).banner == "ok"
    assert answer(qtbot, w, str(unprinted.snapshot["waybill_no"])).refusal == Verdict.NOT_PRINTED
    assert answer(qtbot, w, parcels[1].order_id).banner == "ok"  # the order ID's barcode works too
    view = w.handover_view
    with qtbot.waitSignal(view.manifest_printed, timeout=20_000) as printed_sig:
        qtbot.keyClick(view.scan_field, Qt.Key.Key_F8)
    assert printed_sig.args[0].ok
    batch_id = next(a.payload["batch_id"] for a in st.store.pending_actions() if a.type == "shipped_by_station")
    st.sync()
    for o in parcels:
        hub = st.store.hub_snapshot(o.order_id)
        assert hub is not None and hub["state"] == "shipped", hub
        assert st.order(o.order_id).pending == 0
    assert st.store.pending_count() == 0
    assert manifest_codes(prints, tmp_path) == sorted([batch_id, *waybills])
    assert answer(qtbot, w, waybills[0]).refusal == Verdict.SHIPPED  # and it cannot go twice
    assert carrier  # the batch was that carrier's
