"""Text layout helpers shared by the documents: width-exact wrapping and shrink-to-fit.

Chinese has no spaces, so wrapping is by character, but runs of Latin letters/digits (SKUs, order
numbers, "Room 1203") are kept whole when they fit a line. Widths come from the embedded font's
metrics, cached per character, so a long address can be proven to fit before it is drawn: text on
a label never runs past its box — it wraps, then shrinks, then (at the minimum size) ends in "…".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from printing.fonts import font_name
from printing.zpl_canvas import Surface


@lru_cache(maxsize=65536)
def _char_width(ch: str, font: str) -> float:
    return float(stringWidth(ch, font, 1000.0))


def text_width(text: str, size: float, font: str | None = None) -> float:
    """Width of ``text`` in points at ``size`` (cached per character)."""
    f = font or font_name()
    return sum(_char_width(ch, f) for ch in text) * size / 1000.0


#: Punctuation that must not begin a line (Chinese typesetting rule).
_NO_LINE_START = frozenset("，。、；：！？）》」』”’,.;:!?)")
#: Counters that must stay with the number before them: "888号", "3栋", "1203室", "2米".
_UNITS = frozenset("号栋幢楼层室组弄单元户座期区米件包只双个瓶盒袋")
#: Break at a space instead of mid-word when the last word is at most this many characters
#: ("USB-C 快充数据线 2米 编织" wraps as "… 2米 / 编织", not "… 2米 编 / 织").
_SHORT_TAIL = 4


def _tokens(text: str) -> list[str]:
    """Split into unbreakable pieces: ASCII word runs stay together (with a ``×n`` quantity),
    every other char stands alone."""
    out: list[str] = []
    buf = ""
    for ch in text:
        if (ch.isascii() and (ch.isalnum() or ch in "-_#./*+")) or ch == "×":
            buf += ch
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(ch)
    if buf:
        out.append(buf)
    return out


def _carry(line: list[str], tok: str) -> int:
    """How many tokens at the end of ``line`` must move down with ``tok`` (0: break before tok)."""
    if len(line) < 2:
        return 0
    if tok in _NO_LINE_START or (tok in _UNITS and line[-1][-1:].isdigit()):
        return 1  # "，" or "号" never starts a line: the token before goes down with it
    if tok != " " and " " in line:
        tail = len(line) - 1 - line[::-1].index(" ")  # index of the last space
        moved = line[tail + 1 :]
        if 0 < sum(len(t) for t in moved) + len(tok) <= _SHORT_TAIL and tail > 0:
            return len(moved)
    return 0


def wrap(text: str, size: float, width: float, font: str | None = None) -> list[str]:
    """Greedy wrap of ``text`` into lines no wider than ``width`` points (newlines respected).

    Chinese breaks between any two characters, except that a line never starts with closing
    punctuation or a counter after a number (号, 室, 栋 …), and a short last word after a space
    moves down whole. Latin runs (SKUs, house numbers) break only when longer than a line.
    """
    f = font or font_name()
    lines: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        line_w = 0.0
        for tok in _tokens(para):
            w = text_width(tok, size, f)
            if line_w + w <= width:
                line.append(tok)
                line_w += w
                continue
            k = _carry(line, tok)
            carried = line[len(line) - k :] if k else []
            kept = line[: len(line) - k]
            if "".join(kept).strip():
                lines.append("".join(kept).rstrip())
            line = [t for t in carried]
            line_w = sum(text_width(t, size, f) for t in line)
            if tok == " " and not line:
                continue
            if line_w + w <= width:
                line.append(tok)
                line_w += w
                continue
            if line:  # carried text plus tok still too wide: give up the carry
                lines.append("".join(line).rstrip())
                line, line_w = [], 0.0
            if w <= width:
                line, line_w = [tok], w
                continue
            for ch in tok:  # a token longer than a line: break it by character
                cw = text_width(ch, size, f)
                if line_w + cw > width and line:
                    lines.append("".join(line))
                    line, line_w = [], 0.0
                line.append(ch)
                line_w += cw
        lines.append("".join(line).rstrip())
    return lines


def ellipsize(text: str, size: float, width: float, font: str | None = None) -> str:
    """``text`` cut to ``width`` with a trailing "…" when it does not fit."""
    if text_width(text, size, font) <= width:
        return text
    while text and text_width(text + "…", size, font) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Fitted:
    """Lines of text and the size they fit at."""

    lines: list[str]
    size: float
    leading: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.leading


def fit(
    text: str, width: float, max_lines: int, max_size: float, min_size: float, leading: float = 1.2
) -> Fitted:
    """Wrap ``text`` into at most ``max_lines`` lines of ``width``, shrinking from ``max_size``.

    At ``min_size`` the last line is ellipsized, so the result always fits the box.
    """
    size = max_size
    while True:
        lines = wrap(text, size, width)
        if len(lines) <= max_lines or size <= min_size:
            break
        size = max(min_size, size - 0.5)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1] + "…", size, width)
    return Fitted(lines, size, size * leading)


def fit_box(
    text: str, width: float, height: float, max_size: float, min_size: float, leading: float = 1.2
) -> Fitted:
    """The largest size in [min_size, max_size] at which ``text`` wraps into ``height`` points.

    Used for the recipient address: it takes whatever room the label has left, as large as it can.
    """
    size = max_size
    while size > min_size:
        lines = wrap(text, size, width)
        if len(lines) * size * leading <= height:
            return Fitted(lines, size, size * leading)
        size -= 0.5
    return fit(text, width, max(1, int(height // (min_size * leading))), min_size, min_size, leading)


def draw_lines(c: Surface, fitted: Fitted, x: float, y_top: float) -> float:
    """Draw fitted lines with their first ascent at ``y_top``; returns the y below the last line."""
    c.setFont(font_name(), fitted.size)
    y = y_top - fitted.size * 0.88
    for line in fitted.lines:
        c.drawString(x, y, line)
        y -= fitted.leading
    return y_top - fitted.height


def boxed_text(
    c: Surface, text: str, x: float, y_top: float, size: float, *, inverse: bool = False, pad: float = 1.0 * mm
) -> float:
    """Text in a rectangle (flags: VIP, 赠品 — readable without colour). Returns the box width.

    ``inverse`` prints white on black, which a thermal label shows as strongly as colour would.
    """
    w = text_width(text, size) + 2 * pad
    h = size * 1.25 + pad
    c.setLineWidth(1.0)
    if inverse:
        c.rect(x, y_top - h, w, h, stroke=0, fill=1)
        c.setFillGray(1)
    else:
        c.rect(x, y_top - h, w, h, stroke=1, fill=0)
    c.setFont(font_name(), size)
    c.drawString(x + pad, y_top - h + pad * 0.5 + size * 0.3, text)
    c.setFillGray(0)
    return w


def hline(
    c: Surface, x0: float, x1: float, y: float, width: float = 0.8, dash: tuple[float, ...] = ()
) -> None:
    """A horizontal rule (dashed for a tear line)."""
    c.setLineWidth(width)
    if dash:
        c.setDash(list(dash), 0)
    c.line(x0, y, x1, y)
    if dash:
        c.setDash([], 0)


def wrap_chips(chips: list[str], size: float, width: float, sep: str = "  ") -> list[str]:
    """Lay out short unbreakable items (``#3×2``) into lines: an item never splits across lines."""
    lines: list[str] = []
    line = ""
    for chip in chips:
        candidate = f"{line}{sep}{chip}" if line else chip
        if line and text_width(candidate, size) > width:
            lines.append(line)
            line = chip
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines
