"""A drawing surface with the reportlab canvas calls our layouts use, that produces ZPL.

The label layout (:mod:`printing.label`) is written once, against the handful of canvas calls it
needs (``drawString``, ``rect``, ``line``, ``drawImage``, barcodes through
:func:`printing.barcodes.draw_code128` / :func:`~printing.barcodes.draw_qr`). Handed a
:class:`ZplCanvas` instead of a reportlab ``Canvas``, the same code makes the ZPL label — so the ZPL
and PDF labels have the same layout, template (margins, sender, logo, fields) and two-part stub.

How it is printed: text, rules, boxes and the logo are drawn at the printer's resolution with the
same embedded TrueType font the PDFs use (a printer's resident fonts have no Chinese), and sent as
one compressed ``^GFA`` graphic; the barcodes are the printer's own ``^BC`` Code 128 and ``^BQ`` QR
at the same place and in whole dots, so the head draws them at full sharpness.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from printing.fonts import cjk_font

#: ZPL field data must not contain the command prefixes.
_FD_BAD = str.maketrans({"^": " ", "~": " "})


def fd(text: str) -> str:
    """Field data with ZPL's control characters neutralised (``^`` and ``~`` would start commands)."""
    return text.translate(_FD_BAD)


@lru_cache(maxsize=64)
def _font(px_x4: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    choice = cjk_font()
    if choice.path is None:
        return ImageFont.load_default(px_x4 / 4)
    return ImageFont.truetype(str(choice.path), px_x4 / 4, index=choice.index)


@lru_cache(maxsize=16384)
def _glyph(ch: str, px_x4: int) -> tuple[Image.Image | None, int, int, float]:
    """One character as a black/white mask: (mask, left, top relative to the baseline, advance).

    Cached per character and size: a label's text comes from a few hundred distinct glyphs.
    """
    font = _font(px_x4)
    advance = float(font.getlength(ch))
    left, top, right, bottom = (int(v) for v in font.getbbox(ch, anchor="ls"))
    if right <= left or bottom <= top:
        return None, 0, 0, advance
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), ch, font=font, fill=255, anchor="ls")
    return mask.point(_INK, mode="1"), left, top, advance


@lru_cache(maxsize=4096)
def _line(text: str, px_x4: int) -> tuple[Image.Image | None, int, int, float]:
    """A line of text as one mask: (mask, left, top relative to the baseline origin, width).

    Cached too: the sender block, tags, flags and headings repeat on every label.
    """
    glyphs = [_glyph(ch, px_x4) for ch in text]
    width = sum(g[3] for g in glyphs)
    boxes = []
    x = 0.0
    for mask, left, top, advance in glyphs:
        if mask is not None:
            boxes.append((mask, round(x) + left, top))
        x += advance
    if not boxes:
        return None, 0, 0, width
    x0 = min(b[1] for b in boxes)
    y0 = min(b[2] for b in boxes)
    x1 = max(b[1] + b[0].size[0] for b in boxes)
    y1 = max(b[2] + b[0].size[1] for b in boxes)
    out = Image.new("1", (x1 - x0, y1 - y0), 0)
    for mask, gx, gy in boxes:
        out.paste(1, (gx - x0, gy - y0, gx - x0 + mask.size[0], gy - y0 + mask.size[1]), mask)
    return out, x0, y0, width


def _count(n: int) -> str:
    """ZPL repeat count: G–Y are 1–19, g–z are 20–400 (in twenties); they add up."""
    code = "z" * (n // 400)
    n %= 400
    if n >= 20:
        code += chr(ord("g") + n // 20 - 1)
        n %= 20
    if n:
        code += chr(ord("G") + n - 1)
    return code


_RUN = re.compile(r"([0-9A-F])\1{2,}")  # a pair costs as much as its count
_COUNTS = [_count(n) for n in range(4096)]  # a row is at most 2 × 2,000 hex digits wide


def _run(m: re.Match[str]) -> str:
    s = m.group(0)
    return _COUNTS[len(s)] + s[0]


@lru_cache(maxsize=8192)
def hex_row_compress(row: str) -> str:
    """ZPL ASCII compression of one hex row: runs as counts, trailing zeros as ``,``.

    Cached: rows of the sender block, headers and rules repeat from label to label.
    """
    stripped = row.rstrip("0")
    if not stripped:
        return ","
    return _RUN.sub(_run, stripped) + ("," if len(stripped) < len(row) else "")


_INVERT = bytes(range(255, -1, -1))
#: Grey → black/white by threshold, not dithering (dithered glyph edges print as fuzz). A
#: threshold above the middle keeps thin CJK strokes whole on a thermal head.
_THRESHOLD = [0 if v < 150 else 255 for v in range(256)]
_INK = [255 if v > 255 - 150 else 0 for v in range(256)]  # the same cut for glyph coverage masks


def _mono(img: Image.Image) -> Image.Image:
    return img if img.mode == "1" else img.convert("L").point(_THRESHOLD, mode="1")
#: A ``^GF`` graphic's byte count is documented as at most 99,999; clones are often stricter.
MAX_GRAPHIC_BYTES = 20_000
#: Blank rows inside a band cost one ``,`` each; a longer gap starts a new band.
_BAND_GAP = 24


def _gfa(rows: list[bytes]) -> str:
    width_bytes = len(rows[0])
    out: list[str] = []
    prev = b""
    for row in rows:
        out.append(":" if row == prev else hex_row_compress(row.hex().upper()))
        prev = row
    total = width_bytes * len(rows)
    return f"^GFA,{total},{total},{width_bytes},{''.join(out)}"


def bitmap_gfa(img: Image.Image) -> str:
    """A PIL image as one compressed ``^GFA`` command (black = printed; identical rows as ``:``)."""
    mono = _mono(img)
    wb = (mono.width + 7) // 8
    raw = mono.tobytes().translate(_INVERT)  # PIL "1": 1 = white; ZPL: 1 = black
    return _gfa([raw[r * wb : (r + 1) * wb] for r in range(mono.height)])


def bitmap_fields(img: Image.Image, x: int = 0, y: int = 0) -> list[str]:
    """A page bitmap as ``^FO…^GFA…^FS`` fields: blank rows skipped, each band cropped to its
    inked columns and kept under :data:`MAX_GRAPHIC_BYTES`."""
    mono = _mono(img)
    wb = (mono.width + 7) // 8
    raw = mono.tobytes().translate(_INVERT)
    rows = [raw[r * wb : (r + 1) * wb] for r in range(mono.height)]
    inked = [r for r, row in enumerate(rows) if row.strip(b"\0")]
    fields: list[str] = []
    i = 0
    while i < len(inked):
        start = end = inked[i]
        lo, hi = wb, 0
        j = i
        while j < len(inked) and inked[j] - end <= _BAND_GAP:
            row = rows[inked[j]]
            new_lo = min(lo, len(row) - len(row.lstrip(b"\0")))
            new_hi = max(hi, len(row.rstrip(b"\0")))
            if (new_hi - new_lo) * (inked[j] - start + 1) > MAX_GRAPHIC_BYTES and j > i:
                break
            lo, hi, end = new_lo, new_hi, inked[j]
            j += 1
        band = [row[lo:hi] for row in rows[start : end + 1]]
        fields.append(f"^FO{x + lo * 8},{y + start}{_gfa(band)}^FS")
        i = j
    return fields


_FO = re.compile(r"\^FO(\d+),(\d+)(.*)", re.S)


@lru_cache(maxsize=1024)
def _text_bands(text: str, px_x4: int) -> tuple[tuple[int, int, str], ...]:
    """A line of text as ``^GFA…^FS`` bands, each with its offset from the text's ink box.

    Cached: a wave's labels repeat the same few sort codes and route codes.
    """
    mask, *_ = _line(text, px_x4)
    if mask is None:
        return ()
    # Whole bytes wide: a row's padding bits would otherwise print as a black column.
    img = Image.new("1", ((mask.size[0] + 7) // 8 * 8, mask.size[1]), 1)
    img.paste(0, (0, 0, mask.size[0], mask.size[1]), mask)
    out = []
    for band in bitmap_fields(img):
        m = _FO.fullmatch(band)
        assert m is not None
        out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return tuple(out)


class _Path:
    """Stands in for reportlab's path object (barcodes draw natively, so nothing is collected)."""

    def rect(self, x: float, y: float, w: float, h: float) -> None:  # pragma: no cover - unused
        raise NotImplementedError


class ZplCanvas:
    """Records one ZPL label (``^XA … ^XZ``) per page, through reportlab-like calls.

    Coordinates are reportlab's: points, origin bottom-left. ``dpmm`` is the printer's dots per
    mm (8 for a "203 dpi" head, 12 for 300 dpi); all sizes in the output are in its dots.
    """

    def __init__(self, pagesize: tuple[float, float], dpmm: int = 8) -> None:
        self.dpi = dpmm * 25.4  # "203 dpi" heads are 8 dots/mm exactly: 100 mm = 800 dots
        self.k = self.dpi / 72.0
        self.pw = round(pagesize[0] * self.k)
        self.ll = round(pagesize[1] * self.k)
        self.labels: list[str] = []
        self._size = 10.0
        self._line_width = 1.0
        self._dash: list[float] = []
        self._fill = 0
        self._new_page()

    def _new_page(self) -> None:
        self.img = Image.new("1", (self.pw, self.ll), 1)  # drawn in black and white directly
        self.draw = ImageDraw.Draw(self.img)
        self.fields: list[str] = []
        self._fill = 0

    # -- geometry ---------------------------------------------------------------------------------
    def dots(self, value: float) -> int:
        """A length in points as whole printer dots."""
        return round(value * self.k)

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return x * self.k, self.ll - y * self.k

    # -- the reportlab calls the layouts use ------------------------------------------------------
    def setFont(self, name: str, size: float) -> None:
        self._size = size

    def setFillGray(self, gray: float) -> None:
        self._fill = 255 if gray >= 0.5 else 0

    def setLineWidth(self, width: float) -> None:
        self._line_width = width

    def setDash(self, dash: list[float], phase: float = 0) -> None:
        self._dash = list(dash)

    def _text(self, x: float, y: float, text: str, anchor: str) -> None:
        """Draw ``text`` glyph by glyph from the cache; ``anchor`` is PIL's (ls, rs, ms)."""
        mask, left, top, width = _line(text, round(self._size * self.k * 4))
        if mask is None:
            return
        X, Y = self._xy(x, y)
        if anchor != "ls":
            X -= width if anchor == "rs" else width / 2
        gx, gy = round(X) + left, round(Y) + top
        self.img.paste(self._fill, (gx, gy, gx + mask.size[0], gy + mask.size[1]), mask)

    def named_text(self, name: str, x: float, y: float, text: str, anchor: str = "ls") -> None:
        """Draw ``text`` as its own ``^GFA`` field after a ``^FX`` comment naming it.

        For the label's routing block (大头笔, 三段码): the printer draws it like any graphic, and a
        printer log or a test can find it by name. ``anchor`` is PIL's (ls, rs, ms).
        """
        px_x4 = round(self._size * self.k * 4)
        mask, left, top, width = _line(text, px_x4)
        if mask is None:
            return
        X, Y = self._xy(x, y)
        if anchor != "ls":
            X -= width if anchor == "rs" else width / 2
        gx, gy = max(0, round(X) + left), max(0, round(Y) + top)
        bands = [f"^FO{gx + dx},{gy + dy}{rest}" for dx, dy, rest in _text_bands(text, px_x4)]
        self.fields.append("\n".join([f"^FX{fd(name)}", *bands]))

    def drawString(self, x: float, y: float, text: str) -> None:
        self._text(x, y, text, "ls")

    def drawRightString(self, x: float, y: float, text: str) -> None:
        self._text(x, y, text, "rs")

    def drawCentredString(self, x: float, y: float, text: str) -> None:
        self._text(x, y, text, "ms")

    def _box(self, x0: float, y0: float, x1: float, y1: float, fill: int) -> None:
        """Fill the dots covering [x0, x1] × [y0, y1] (points)."""
        X0, Y1 = self._xy(min(x0, x1), min(y0, y1))
        X1, Y0 = self._xy(max(x0, x1), max(y0, y1))
        self.draw.rectangle((round(X0), round(Y0), max(round(X0), round(X1) - 1),
                             max(round(Y0), round(Y1) - 1)), fill=fill)

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        half = max(self._line_width, 72.0 / self.dpi) / 2
        if y0 == y1:  # the layouts draw horizontal rules and the odd vertical one
            segments = [(x0, x1)]
            if self._dash:
                on, off = self._dash[0], self._dash[1] if len(self._dash) > 1 else self._dash[0]
                segments, pos = [], min(x0, x1)
                while pos < max(x0, x1):
                    segments.append((pos, min(pos + on, max(x0, x1))))
                    pos += on + off
            for a, b in segments:
                self._box(a, y0 - half, b, y0 + half, 0)
        else:
            self._box(x0 - half, y0, x1 + half, y1, 0)

    def rect(self, x: float, y: float, width: float, height: float, stroke: int = 1, fill: int = 0) -> None:
        if fill:
            self._box(x, y, x + width, y + height, self._fill)
        if stroke:
            t = max(self._line_width, 72.0 / self.dpi)
            self._box(x, y, x + width, y + t, 0)
            self._box(x, y + height - t, x + width, y + height, 0)
            self._box(x, y, x + t, y + height, 0)
            self._box(x + width - t, y, x + width, y + height, 0)

    def drawImage(
        self, image: ImageReader, x: float, y: float, width: float, height: float, mask: object = None
    ) -> None:
        w, h = image.getSize()
        src = Image.frombytes("RGB", (w, h), image.getRGBData()).convert("L")
        X, Y = self._xy(x, y + height)
        size = (max(1, self.dots(width)), max(1, self.dots(height)))
        logo = src.resize(size, Image.Resampling.LANCZOS).point(_THRESHOLD, mode="1")
        self.img.paste(logo, (round(X), round(Y)))

    def beginPath(self) -> _Path:
        return _Path()

    def drawPath(self, path: _Path, stroke: int = 1, fill: int = 0) -> None:
        pass

    # -- native barcodes --------------------------------------------------------------------------
    def code128(self, data: str, bars_x: float, bars_bottom: float, height: float, module_dots: int) -> None:
        """The printer's own Code 128 with its bars where the PDF would draw them."""
        X, Y = self._xy(bars_x, bars_bottom + height)
        h = self.dots(height)
        self.fields.append(f"^BY{module_dots}^FO{round(X)},{round(Y)}^BCN,{h},N,N,N,A^FD{fd(data)}^FS")

    def qr(self, data: str, x: float, y_top: float, size: float, modules: int) -> float:
        """The printer's own QR (model 2, error correction M) in whole dots, centred in the square.

        Returns the module size actually used, in points.
        """
        mag = max(1, min(10, self.dots(size) // modules))
        side = mag * modules
        X, Y = self._xy(x, y_top)
        off = (self.dots(size) - side) // 2
        self.fields.append(f"^FO{round(X) + off},{round(Y) + off}^BQN,2,{mag}^FDMA,{fd(data)}^FS")
        return mag / self.k

    # -- pages ------------------------------------------------------------------------------------
    def showPage(self) -> None:
        head = f"^XA^CI28^PW{self.pw}^LL{self.ll}^LH0,0^PON"
        graphics = bitmap_fields(self.img)
        self.labels.append("\n".join([head, *graphics, *self.fields, "^XZ"]) + "\n")
        self._new_page()

    def zpl(self) -> str:
        """All finished labels."""
        return "".join(self.labels)


#: What the layouts draw on: a reportlab canvas (PDF) or a :class:`ZplCanvas`.
Surface = Canvas | ZplCanvas
