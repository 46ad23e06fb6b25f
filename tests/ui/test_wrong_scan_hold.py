"""Three wrong scans with a hub on this PC (the embedded hub's path): the right dialog opens.

With the hub on the same machine, the hold the bench raised reaches the hub and its snapshot comes
back before the guided dialog reads the order; the dialog was asked for the bench's own
``local-…`` hold ID, which the hub's snapshot no longer has, and said the exception "is already
resolved" while it was open. The hub now keeps the raising action's ID on the hold, and the
dialog finds the hold by it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.store.overlay import LOCAL_HOLD_PREFIX
from tests.helpers.keyboard import wedge
from tests.helpers.station import start_demo_hub
from tests.ui.conftest import StationFactory
from ui.exception_dialog import ExceptionDialog, open_exception_dialog
from ui.pack_view import PackView
from ui.print_service import PrintService


def test_the_dialog_opens_on_the_hold_after_the_hub_numbered_it(qtbot: Any, tmp_path: Path,
                                                                 station: StationFactory) -> None:
    hub = start_demo_hub(tmp_path / "hub", 120)
    try:
        st = station(hub.url, operator="P001", pin="1111", bench="B1")
        st.engine.start()
        def workable() -> Any:
            return next((o for o in (st.store.get_order(oid) for oid in sorted(st.store.order_ids()))
                         if o is not None and o.state == "allocated" and not o.snapshot.get("holds")
                         and o.snapshot.get("bench") == "B1"), None)

        qtbot.waitUntil(lambda: workable() is not None, timeout=20_000)
        order = workable()
        oid = order.order_id
        view = PackView(st.services, PrintService(st.services))
        qtbot.addWidget(view)
        view.show()
        asked: list[tuple[str, str]] = []
        view.exception_requested.connect(lambda o, h: asked.append((o, h)))
        wedge(view.scan_field, oid)
        qtbot.waitUntil(lambda: view.phase == "scanning", timeout=10_000)
        for code in ("6900000000001", "SOCK-9", "PEN-RED"):
            wedge(view.scan_field, code)
        qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
        asked_oid, hold_id = asked[0]
        assert asked_oid == oid and hold_id.startswith(LOCAL_HOLD_PREFIX)

        def synced() -> bool:
            o = st.store.get_order(oid)
            return o is not None and not o.is_pending and any(
                h["type"] == "scan_mismatch" and not h["hold_id"].startswith(LOCAL_HOLD_PREFIX)
                for h in o.snapshot.get("holds") or [])

        qtbot.waitUntil(synced, timeout=20_000)  # the hub's snapshot replaced the bench's own hold
        boxes: list[str] = []  # a modal "already resolved" box instead of the dialog: record and close it

        def close_boxes() -> None:
            box = QApplication.activeModalWidget()
            if isinstance(box, QMessageBox):
                boxes.append(box.text())
                box.reject()

        watch = QTimer()
        watch.timeout.connect(close_boxes)
        watch.start(50)
        opened: list[ExceptionDialog] = []
        open_exception_dialog(st.services, oid, hold_id, view, on_opened=opened.append)
        qtbot.waitUntil(lambda: bool(opened) or bool(boxes), timeout=10_000)
        watch.stop()
        assert not boxes, boxes
        dlg = opened[0]
        assert dlg.hold is not None and dlg.hold["type"] == "scan_mismatch"
        assert not dlg.hold["hold_id"].startswith(LOCAL_HOLD_PREFIX)  # released by the hub's ID
        dlg.reject()
    finally:
        hub.stop()
