"""ZPL II labels for thermal printers that take it (Zebra and the many clones on Chinese benches).

The ZPL label is the PDF label: the same layout code (:mod:`printing.label`) draws on a
:class:`printing.zpl_canvas.ZplCanvas`, so sizes, the two-part 100×180 e-waybill, the site
template (margins, sender, logo, fields) and text fitting are identical. Text and rules are sent as
one compressed ``^GFA`` graphic rendered with the embedded TrueType font — a printer's resident
fonts have no Chinese, and this way the label never depends on them; barcodes are the printer's
own ``^BC`` Code 128 and ``^BQ`` QR in whole dots. ``^CI28`` (UTF-8) heads every label in case a
site adds text fields of its own. Sizes are in dots at 203 dpi (8 dots/mm): 100×150 mm is
``^PW800^LL1200``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from reportlab.lib.units import mm

from core.model import Snapshot
from printing.label import LABEL_SIZES, _Label
from printing.templates import LabelTemplate
from printing.zpl_canvas import ZplCanvas, bitmap_gfa, hex_row_compress

__all__ = ["bitmap_gfa", "hex_row_compress", "label_zpl", "labels_zpl"]

DPMM = 8  # 203 dpi


def labels_zpl(
    orders: Iterable[Snapshot],
    size: str = "100x150",
    template: LabelTemplate | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """One ZPL label (``^XA … ^XZ``) per order, in the order given, as one printer job."""
    if size not in LABEL_SIZES:
        raise ValueError(f"Unknown label size {size!r}; use one of {', '.join(LABEL_SIZES)}.")
    tpl = template or LabelTemplate.load()
    w_mm, h_mm = LABEL_SIZES[size]
    c = ZplCanvas((w_mm * mm, h_mm * mm), DPMM)
    items = list(orders)
    for i, order in enumerate(items, 1):
        _Label(c, order, size, tpl, now).draw()
        c.showPage()
        if progress is not None:
            progress(i, len(items))
    return c.zpl()


def label_zpl(
    order: Snapshot,
    size: str = "100x150",
    template: LabelTemplate | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """A complete ZPL label for ``order`` at 203 dpi in ``size`` ("100x150", "100x180", "76x130")."""
    return labels_zpl([order], size, template, now=now)
