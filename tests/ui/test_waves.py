"""Printing a wave from the main window: the pick list first, then the labels in the same walking order.

Real hub, real PDFs in a folder printer, every barcode decoded back with zbarimg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.helpers.station import open_window, start_demo_hub
from tests.hubproc import HubProcess
from tests.printing.conftest import decode_pdf
from tests.ui.conftest import StationFactory


@pytest.fixture
def bench_hub(tmp_path: Path) -> Any:
    hub = start_demo_hub(tmp_path / "hub", 120)
    yield hub
    hub.stop()


def _pages(pdf: Path, tmp_path: Path, prefix: str) -> list[list[str]]:
    folder = tmp_path / pdf.stem
    folder.mkdir()
    return [[c for c in page if c.startswith(prefix)] for page in decode_pdf(pdf.read_bytes(), folder)]


@pytest.mark.parametrize("flow", ["print-first", "pack-first"])
def test_a_wave_prints_the_pick_list_then_labels_in_its_walking_order(
        qtbot: Any, tmp_path: Path, bench_hub: HubProcess, station: StationFactory, flow: str) -> None:
    st = station(bench_hub.url, operator="P001", pin="1111", bench="B1")
    prints = tmp_path / "prints"
    st.settings.printers = {doc: f"pdf:{prints}" for doc in ("label", "pick_list", "packing_slip")}
    st.settings.wave_size = 3
    st.settings.bench_flow = flow
    w = open_window(qtbot, st.services, "to_print")
    wave = w.wave_orders()
    assert len(wave) == 3 and wave == w.models["to_print"].order_ids()[:3]  # most urgent first

    statuses: list[str] = []
    w.print_service.status_changed.connect(statuses.append)
    w.wave_action.trigger()  # asks first, with the count; Enter confirms
    qtbot.waitUntil(lambda: w.wave_box is not None and w.wave_box.isVisible(), timeout=5000)
    assert w.wave_box is not None and "3" in w.wave_box.text()
    with qtbot.waitSignal(w.print_service.job_finished, timeout=20_000,
                          check_params_cb=lambda outcome: outcome.doc_type == "pick_list"):
        qtbot.keyClick(w.wave_box, Qt.Key.Key_Return)
    # The labels go out from the pick list's on_done: their batch (and its progress) has begun by now.
    labels_begun = w.print_service.progress_dialog is not None
    picklist = next(prints.glob("picklist-*.pdf"))
    (tmp_path / "pl").mkdir()
    codes = sorted(c for page in decode_pdf(picklist.read_bytes(), tmp_path / "pl") for c in page)
    batch = next(c for c in codes if not c.startswith("BL"))
    assert set(wave) <= set(codes) and batch in w.notice.text()

    if flow == "pack-first":  # labels are printed after packing, one by one
        assert not labels_begun and not [t for t in statuses if t.startswith("Printing Label")]
        assert not list(prints.glob("label-*.pdf"))
        assert set(wave) <= set(w.models["to_print"].order_ids())
        return
    assert labels_begun
    qtbot.waitUntil(lambda: any(t.startswith("Printing Label") for t in statuses), timeout=20_000)
    started_labels = [t for t in statuses if t.startswith("Printing Label")]
    assert "3" in started_labels[0]
    qtbot.waitUntil(lambda: not set(wave) & set(w.models["to_print"].order_ids()), timeout=20_000)
    labels = list(prints.glob("label-*.pdf"))
    assert len(labels) == 1  # one job for the whole wave
    label_order = [page[0] for page in _pages(labels[0], tmp_path, "BL")]
    slots = st.services.journal.jobs(wave[0], limit=5)
    assert sorted(label_order) == sorted(wave)
    listed = next(j for j in slots if j["doc_type"] == "pick_list")
    assert label_order == listed["order_ids"]  # labels come off the printer in the pick list's slot order
    for oid in wave:
        local = st.store.get_order(oid)
        assert local is not None and local.state == "label_printed"


def test_an_empty_to_print_queue_prints_no_wave(qtbot: Any, tmp_path: Path, bench_hub: HubProcess,
                                                station: StationFactory) -> None:
    st = station(bench_hub.url, operator="P001", pin="1111", bench="B1")
    prints = tmp_path / "prints"
    st.settings.printers = {doc: f"pdf:{prints}" for doc in ("label", "pick_list", "packing_slip")}
    w = open_window(qtbot, st.services, "to_print")
    w.search.setText("no-such-order-anywhere")
    assert w.wave_orders() == []
    w.wave_action.trigger()
    assert w.wave_box is None  # nothing to ask about
    assert "empty" in w.notice.text() and w.notice.isVisible() and not prints.exists()


def test_label_preview_shows_the_label_and_prints_nothing(qtbot: Any, tmp_path: Path, bench_hub: HubProcess,
                                                          station: StationFactory) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.print_preview import PrintPreviewDialog

    st = station(bench_hub.url, operator="P001", pin="1111", bench="B1")
    prints = tmp_path / "prints"
    st.settings.printers = {doc: f"pdf:{prints}" for doc in ("label", "pick_list", "packing_slip")}
    w = open_window(qtbot, st.services, "to_print")
    w.select_queue("to_print")
    order_id = w.models["to_print"].order_ids()[0]
    assert w.select_order(order_id)

    def preview() -> PrintPreviewDialog | None:
        return next((d for d in QApplication.topLevelWidgets()
                     if isinstance(d, PrintPreviewDialog) and d.isVisible()), None)

    w.preview_action.trigger()
    qtbot.waitUntil(lambda: preview() is not None, timeout=15_000)
    dlg = preview()
    assert dlg is not None and len(dlg.pages) == 1 and dlg.pages[0].height() > dlg.pages[0].width()
    dlg.close()
    assert not prints.exists() and st.services.journal.jobs(order_id, limit=5) == []
    assert st.store.get_order(order_id).state == "allocated"  # type: ignore[union-attr]
