"""Code 128 and QR codes drawn as vector shapes.

Why not python-barcode's image writer: PNGs embedded per label make 14–18 MB PDFs at ~25 labels/s,
and bars resampled to a printer grid lose their edges. We take python-barcode's *module pattern*
(which also picks the shortest Code 128 code-set switching) and draw each bar as a rectangle whose
width is a whole number of printer dots, so a 203-dpi thermal head prints every module the same.

The human-readable line is drawn by us, a clear gap below the bars (reportlab's own touches them and
confuses some scanners). QR codes come from the ``qrcode`` matrix as one vector path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import qrcode
from barcode.codex import Code128
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.units import mm

from printing.fonts import font_name
from printing.zpl_canvas import Surface, ZplCanvas

#: One dot of a 203-dpi (8 dots/mm) thermal head, in points.
DOT_203 = 72.0 / 203.0
#: Default module width: 3 dots at 203 dpi = 0.375 mm (the platform notes' measured sweet spot).
MODULE_DOTS = 3
#: Quiet zone on each side, in modules (the spec asks ≥ 10).
QUIET_MODULES = 10


def dots(n: int, dpi: int = 203) -> float:
    """``n`` printer dots in points."""
    return n * 72.0 / dpi


def snap(value: float, dpi: int = 203) -> float:
    """Round a coordinate (points) to the printer's dot grid so bar edges land on dot edges."""
    step = 72.0 / dpi
    return round(value / step) * step


@lru_cache(maxsize=4096)
def code128_pattern(data: str) -> str:
    """The module pattern ('1' = bar) including start, check and stop characters."""
    if not data:
        raise ValueError("A Code 128 barcode needs data.")
    return str(Code128(data).build()[0])


@lru_cache(maxsize=4096)
def _bar_runs(data: str) -> tuple[tuple[int, int], ...]:
    """(start module, width in modules) of each bar, cached: the same IDs are drawn repeatedly."""
    pattern = code128_pattern(data)
    runs: list[tuple[int, int]] = []
    i = 0
    n = len(pattern)
    while i < n:
        if pattern[i] == "1":
            j = i
            while j < n and pattern[j] == "1":
                j += 1
            runs.append((i, j - i))
            i = j
        else:
            i += 1
    return tuple(runs)


@dataclass(frozen=True)
class BarcodeBox:
    """Where a drawn barcode went (points), for layout and for tests that check the gap."""

    x: float  # left edge of the left quiet zone
    bars_x: float  # first bar
    bars_width: float
    total_width: float  # bars + both quiet zones
    bars_bottom: float
    bars_top: float
    text_top: float  # top of the human-readable glyphs (below bars_bottom), or bars_bottom if none
    bottom: float  # lowest point used (text baseline minus descent)
    module: float


def code128_width(data: str, module_dots: int = MODULE_DOTS, quiet: bool = True) -> float:
    """Width in points of the bars (and quiet zones when ``quiet``)."""
    modules = len(code128_pattern(data)) + (2 * QUIET_MODULES if quiet else 0)
    return modules * dots(module_dots)


def fit_module_dots(data: str, max_width: float, choices: tuple[int, ...] = (3, 2)) -> int:
    """The widest module (whole dots) whose barcode plus quiet zones fits ``max_width`` points.

    Falls back to the narrowest choice: a barcode slightly into the margin still scans, one with
    sub-dot modules does not.
    """
    for d in choices:
        if code128_width(data, d) <= max_width:
            return d
    return choices[-1]


def draw_code128(
    c: Surface,
    data: str,
    x: float,
    y_top: float,
    bar_height: float,
    *,
    module_dots: int = MODULE_DOTS,
    text: str | None = "",
    text_size: float = 9.0,
    text_gap: float = 1.2 * mm,
    center_width: float | None = None,
) -> BarcodeBox:
    """Draw ``data`` as Code 128 with its top edge at ``y_top``.

    Args:
        x: left edge of the left quiet zone (points). With ``center_width`` the symbol is
            centred in ``[x, x + center_width]`` instead.
        bar_height: bar height in points.
        module_dots: module width in 203-dpi dots (3 = 0.375 mm).
        text: human-readable line; ``""`` means the data itself, ``None`` means no text.
        text_size: font size of the human-readable line.
        text_gap: clear space between the bars and the top of the text.
    """
    module = dots(module_dots)
    quiet = QUIET_MODULES * module
    n_modules = len(code128_pattern(data))
    bars_width = n_modules * module
    total = bars_width + 2 * quiet
    if center_width is not None:
        x = x + (center_width - total) / 2
    bars_x = snap(x + quiet)
    bars_bottom = snap(y_top - bar_height)
    height = snap(y_top) - bars_bottom
    if isinstance(c, ZplCanvas):
        c.code128(data, bars_x, bars_bottom, height, module_dots)  # the printer draws its own bars
    else:
        path = c.beginPath()
        for start, width in _bar_runs(data):
            path.rect(bars_x + start * module, bars_bottom, width * module, height)
        c.drawPath(path, stroke=0, fill=1)
    text_top = bars_bottom
    bottom = bars_bottom
    if text is not None:
        label = data if text == "" else text
        font = font_name()
        # Cap height ~0.72 em for the digits/Latin we print here: the gap is measured to the glyph tops.
        baseline = bars_bottom - text_gap - 0.72 * text_size
        c.setFont(font, text_size)
        c.drawCentredString(bars_x + bars_width / 2, baseline, label)
        text_top = baseline + 0.72 * text_size
        bottom = baseline - 0.22 * text_size
    return BarcodeBox(
        x, bars_x, bars_width, total, bars_bottom, bars_bottom + height, text_top, bottom, module
    )


@lru_cache(maxsize=2048)
def qr_matrix(data: str, error_correction: int = ERROR_CORRECT_M) -> tuple[tuple[bool, ...], ...]:
    """The QR module matrix without border (cached: labels of a batch share sender data)."""
    qr = qrcode.QRCode(border=0, error_correction=error_correction)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in qr.get_matrix())


@lru_cache(maxsize=2048)
def qr_modules(data: str, error_correction: int = ERROR_CORRECT_M) -> int:
    """How many modules wide the QR code of ``data`` is (version only: no mask evaluation)."""
    qr = qrcode.QRCode(border=0, error_correction=error_correction)
    qr.add_data(data)
    qr.best_fit()
    return 17 + 4 * int(qr.version)


def draw_qr(c: Surface, data: str, x: float, y_top: float, size: float) -> float:
    """Draw a QR code of ``data`` as vectors, ``size`` points square, top-left at (x, y_top).

    The caller leaves a 4-module quiet zone around it (the size of the square excludes it).
    Returns the module size in points, so a test can check it is large enough to scan.
    """
    if isinstance(c, ZplCanvas):
        return c.qr(data, x, y_top, size, qr_modules(data))
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / n
    path = c.beginPath()
    for r, row in enumerate(matrix):
        y = y_top - (r + 1) * module
        col = 0
        while col < n:
            if row[col]:
                end = col
                while end < n and row[end]:
                    end += 1
                path.rect(x + col * module, y, (end - col) * module, module)
                col = end
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    return module
