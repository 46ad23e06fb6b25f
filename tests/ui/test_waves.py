"""Printing a wave from the main window: the pick list first, then the labels in the same walking order;
a wave for one carrier, and an all-carrier wave's labels grouped by carrier.

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
    box = w.wave_box
    assert box is not None and box.chosen().carrier is None and len(box.chosen().order_ids) == 3
    assert "3" in box.buttons[0].text() and "3" in box.print_button.text() if flow == "print-first" else True
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


def test_a_wave_for_one_carrier_then_an_all_carrier_wave_grouped_by_carrier(
        qtbot: Any, tmp_path: Path, bench_hub: HubProcess, station: StationFactory) -> None:
    from core.waves import carrier_group_key
    from ui.wave_dialog import WaveDialog

    # A desk sees every bench: North China's orders go by YTO (cut-off 17:00), the others by ZTO (17:30).
    st = station(bench_hub.url, operator="D001", pin="2222", bench="")
    prints = tmp_path / "prints"
    st.settings.printers = {doc: f"pdf:{prints}" for doc in ("label", "pick_list", "packing_slip")}
    st.settings.wave_size = 4
    w = open_window(qtbot, st.services, "to_print")
    carriers = {oid: st.store.get_order(oid).snapshot["carrier"]  # type: ignore[union-attr]
                for oid in w.models["to_print"].order_ids()}
    waiting = {c: sum(1 for v in carriers.values() if v == c) for c in set(carriers.values())}
    assert {"YTO", "ZTO"} <= set(waiting)

    def ask() -> WaveDialog:
        w.wave_action.trigger()
        qtbot.waitUntil(lambda: w.wave_box is not None and w.wave_box.isVisible(), timeout=5000)
        assert w.wave_box is not None
        return w.wave_box

    box = ask()
    # all carriers first (chosen), then each carrier, earliest cut-off first, with its count and cut-off
    assert [c.carrier for c in box.choices][:3] == [None, "YTO", "ZTO"]
    assert box.chosen().carrier is None
    yto = box.choices[1]
    assert yto.waiting == waiting["YTO"] and len(yto.order_ids) == min(4, waiting["YTO"])
    assert f"{min(4, waiting['YTO'])}" in box.buttons[1].text() and "17:00" in box.buttons[1].text()
    qtbot.keyClick(box, Qt.Key.Key_2)  # the digit chooses YTO, Enter prints it
    assert box.chosen() is yto and box.buttons[1].isChecked()
    with qtbot.waitSignal(w.print_service.job_finished, timeout=20_000,
                          check_params_cb=lambda outcome: outcome.doc_type == "label"):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    first = next(prints.glob("label-*.pdf"))
    printed = [page[0] for page in _pages(first, tmp_path, "BL")]
    assert sorted(printed) == sorted(yto.order_ids) and {carriers[o] for o in printed} == {"YTO"}
    assert "圆通" in w.notice.text() or "YTO" in w.notice.text()

    # printed: recorded, so out of To print, before the next wave is built
    qtbot.waitUntil(lambda: not set(printed) & set(w.models["to_print"].order_ids()), timeout=20_000)
    ids = w.models["to_print"].order_ids()
    # the smallest wave that mixes carriers: up to the first order of another carrier than the most urgent's
    st.settings.wave_size = next(i for i, o in enumerate(ids) if carriers[o] != carriers[ids[0]]) + 2
    box = ask()  # all carriers: the default; Enter prints
    wave = list(box.chosen().order_ids)
    assert box.chosen().carrier is None and not set(wave) & set(printed)
    assert len({carriers[o] for o in wave}) >= 2, "the wave must mix carriers for the grouping to show"
    assert [carriers[o] for o in wave] != sorted(carriers[o] for o in wave)  # most urgent first is not grouped
    with qtbot.waitSignal(w.print_service.job_finished, timeout=20_000,
                          check_params_cb=lambda outcome: outcome.doc_type == "label"):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    second = next(p for p in prints.glob("label-*.pdf") if p != first)
    order = [page[0] for page in _pages(second, tmp_path, "BL")]
    assert sorted(order) == sorted(wave)
    keys = [carrier_group_key(carriers[o], st.store.get_order(o).snapshot["handover_cutoff"]["time"])  # type: ignore[union-attr]
            for o in order]
    assert keys == sorted(keys)  # grouped by carrier, the earliest courier's labels first
    listed = next(j for j in st.services.journal.jobs(wave[0], limit=5) if j["doc_type"] == "pick_list")
    assert listed["order_ids"] == order  # the pick list's slots are in the same grouped order
