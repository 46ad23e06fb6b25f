"""Documents a bench prints: labels, pick lists, packing slips, handover manifests, and the printer back-ends.

Qt-free on purpose: this package makes PDF and ZPL bytes and sends raw jobs (TCP 9100, files);
handing a PDF to a system printer through QPrinter lives in ``ui/print_qt.py``.
"""

from __future__ import annotations

from printing.backends import PdfFileBackend, PrinterError, PrintJob, PrintResult, RawTcpBackend, try_send
from printing.common import wave_order
from printing.fonts import active_font_name
from printing.label import mask_phone, render_label, render_labels, walking_order
from printing.manifest import Manifest, ManifestParcel, render_manifest
from printing.picklist import render_picklist
from printing.slip import render_slip
from printing.templates import LabelTemplate, PickListTemplate, SlipTemplate
from printing.zpl import label_zpl, labels_zpl

__all__ = [
    "LabelTemplate",
    "Manifest",
    "ManifestParcel",
    "PdfFileBackend",
    "PickListTemplate",
    "PrintJob",
    "PrintResult",
    "PrinterError",
    "RawTcpBackend",
    "SlipTemplate",
    "active_font_name",
    "label_zpl",
    "labels_zpl",
    "mask_phone",
    "render_label",
    "render_labels",
    "render_manifest",
    "render_picklist",
    "render_slip",
    "try_send",
    "walking_order",
    "wave_order",
]
