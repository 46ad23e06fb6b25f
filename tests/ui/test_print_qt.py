"""System printing through Qt: printed into a PDF file, the barcodes must still read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
for p in (str(ROOT), str(ROOT / "tests" / "printing")):
    if p not in sys.path:
        sys.path.insert(0, p)

from orders import make_order  # noqa: E402

from printing import PrinterError, PrintJob, render_label  # noqa: E402
from ui.print_qt import QtPrinterBackend, available_printers, preview_pdf, print_pdf  # noqa: E402


def _decode(pdf: Path, tmp_path: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(pdf), str(tmp_path / "q")], check=True)
    out = []
    for png in sorted(tmp_path.glob("q-*.png")):
        r = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        out.append(sorted(r.stdout.split()))
    return [" ".join(x) for x in out]


def test_print_to_pdf_keeps_barcodes_readable(qapp, tmp_path: Path) -> None:
    orders = [make_order(1, gift=True, vip=True, address=1), make_order(2, n_lines=8)]
    from printing import render_labels

    pdf = render_labels(orders, "100x150")
    out = tmp_path / "printed.pdf"
    print_pdf(pdf, "", (100, 150), output_pdf=out, resolution=203)
    pages = _decode(out, tmp_path)
    assert len(pages) == 2
    for o, page in zip(orders, pages, strict=True):
        assert page == " ".join(sorted([o["order_id"], o["order_id"], o["waybill_no"]]))


def test_preview_images(qapp) -> None:
    images = preview_pdf(render_label(make_order(3), "76x130"), dpi=100)
    assert len(images) == 1
    assert abs(images[0].width() - round(76 / 25.4 * 100)) <= 1


def test_unknown_printer_is_a_clear_error(qapp) -> None:
    assert isinstance(available_printers(), list)
    backend = QtPrinterBackend("No Such Printer 404", (100, 150))
    with pytest.raises(PrinterError) as err:
        backend.send(PrintJob("label", ("BL1",), render_label(make_order(4))))
    assert "No Such Printer 404" in err.value.message and err.value.reason == "not_found"
