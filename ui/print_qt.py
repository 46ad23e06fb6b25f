"""Printing a PDF on a system printer through Qt, without a dialog on the bench's happy path.

Each PDF page is rasterised with pdfium at the printer's own resolution (capped at 600 dpi) with
path anti-aliasing off, so every Code 128 bar lands on whole printer dots, and drawn 1:1 with
QPainter on a QPrinter whose page is set to the exact paper size with zero margins. (Scaling a
low-resolution raster, or letting the driver fit the page, is what blurs bars into unscannable
grey.) Qt cannot tell "out of paper" for most drivers; it does tell a missing or stopped printer
and a job that could not start, which become :class:`PrinterError` naming the printer.
"""

from __future__ import annotations

import time
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from core.i18n import _
from core.timeutil import utcnow
from printing.backends import PDF, PrinterError, PrintJob, PrintResult

MAX_DPI = 600


def available_printers() -> list[str]:
    """Names of the system's printers (for the per-station printer setting)."""
    return [info.printerName() for info in QPrinterInfo.availablePrinters()]


def default_printer() -> str:
    """The system default printer's name, or "" when there is none."""
    return QPrinterInfo.defaultPrinter().printerName()


def _render_pages(pdf_bytes: bytes, dpi: float) -> list[QImage]:
    try:
        doc = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as exc:
        raise ValueError(f"Not a readable PDF: {exc}") from exc
    images: list[QImage] = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            bitmap = page.render(scale=dpi / 72.0, grayscale=True, no_smoothpath=True)
            pil = bitmap.to_pil().convert("L")
            data = pil.tobytes()
            img = QImage(data, pil.width, pil.height, pil.width, QImage.Format.Format_Grayscale8).copy()
            images.append(img)
            page.close()
    finally:
        doc.close()
    return images


def preview_pdf(pdf_bytes: bytes, dpi: float = 110) -> list[QImage]:
    """The pages as images for an on-demand preview (screen resolution)."""
    return _render_pages(pdf_bytes, dpi)


def _setup(printer: QPrinter, name: str, paper_mm: tuple[float, float] | None) -> None:
    if paper_mm is not None:
        size = QPageSize(
            QSizeF(*paper_mm), QPageSize.Unit.Millimeter, "", QPageSize.SizeMatchPolicy.ExactMatch
        )
        layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
        if not printer.setPageLayout(layout):
            raise PrinterError(
                _("Printer {printer} does not accept paper {w:g}×{h:g} mm — set that paper size in the printer's "
                  "driver, then retry.").format(printer=name, w=paper_mm[0], h=paper_mm[1]),
                printer=name,
                reason="unsupported",
            )
    printer.setFullPage(True)


def print_pdf(
    pdf_bytes: bytes,
    printer_name: str,
    paper_mm: tuple[float, float] | None = None,
    *,
    copies: int = 1,
    output_pdf: str | Path | None = None,
    resolution: int | None = None,
    doc_name: str = "PackDesk",
) -> None:
    """Print every page of ``pdf_bytes`` on ``printer_name``; raises PrinterError on failure.

    Args:
        paper_mm: (width, height) of the paper; None keeps the printer's current paper.
        output_pdf: print into this PDF file instead (tests, "print to file").
        resolution: force a resolution (dpi); default: the printer's own, capped at 600.
    """
    name = printer_name if output_pdf is None else f"PDF {output_pdf}"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if output_pdf is not None:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(output_pdf))
    else:
        info = QPrinterInfo.printerInfo(printer_name)
        if info.isNull():
            raise PrinterError(
                _("Printer {printer} is not installed on this PC — choose another printer in the station "
                  "settings.").format(printer=printer_name),
                printer=name,
                reason="not_found",
            )
        if info.state() == QPrinter.PrinterState.Error:
            raise PrinterError(
                _("Printer {printer} reports an error (offline, out of paper or jammed) — check it, then "
                  "retry.").format(printer=printer_name),
                printer=name,
                reason="failed",
            )
        printer.setPrinterName(printer_name)
    if resolution:
        printer.setResolution(resolution)
    _setup(printer, name, paper_mm)
    printer.setCopyCount(copies)
    printer.setDocName(doc_name)
    dpi = min(printer.resolution(), MAX_DPI)
    pages = _render_pages(pdf_bytes, dpi)
    painter = QPainter()
    if not painter.begin(printer):
        raise PrinterError(
            _("Printer {printer} refused the job (offline or stopped?) — check it, then retry.").format(printer=name),
            printer=name,
            reason="refused",
        )
    try:
        target = printer.pageRect(QPrinter.Unit.DevicePixel)
        for i, img in enumerate(pages):
            if i and not printer.newPage():
                raise PrinterError(
                    _("Printer {printer} failed after page {page} — check it, then retry.").format(
                        printer=name, page=i),
                    printer=name,
                    reason="failed",
                )
            # Draw at the printer's pixel grid: 1 image pixel = 1 device pixel when dpi matches.
            scale = printer.resolution() / dpi
            painter.drawImage(QRectF(target.x(), target.y(), img.width() * scale, img.height() * scale), img)
    finally:
        if not painter.end():
            raise PrinterError(
                _("Printer {printer} did not finish the job — check it, then retry.").format(printer=name),
                printer=name,
                reason="failed",
            )


class QtPrinterBackend:
    """A system printer as a print back-end (same ``send(job)`` interface as printing.backends)."""

    def __init__(self, printer_name: str, paper_mm: tuple[float, float] | None = None) -> None:
        self.printer_name = printer_name
        self.paper_mm = paper_mm

    @property
    def name(self) -> str:
        return self.printer_name

    def send(self, job: PrintJob) -> PrintResult:
        if job.content_type != PDF:
            raise PrinterError(
                _("Printer {printer} prints PDF documents, not {content}.").format(
                    printer=self.name, content=job.content_type),
                printer=self.name,
                reason="unsupported",
            )
        started = utcnow()
        t0 = time.perf_counter()
        print_pdf(job.payload, self.printer_name, self.paper_mm, copies=job.copies, doc_name=job.doc_type)
        return PrintResult(job.job_id, self.name, True, started, time.perf_counter() - t0, len(job.payload))
