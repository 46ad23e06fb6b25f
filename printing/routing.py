"""The carrier's routing block on a shipping label: 大头笔, 三段码, 集包地 and the routing barcode.

An e-waybill provider answers a waybill number together with the data its sorting centres sort by
(``Snapshot["waybill_routing"]``, filled at the hub): the sort code (大头笔, e.g. ``830都江堰``), the
route code (三段码, e.g. ``830-120-00 012``), the package centre (集包地) with its code, and for some
carriers a routing barcode. The carriers' standard templates print it right under the top bar, the
大头笔 as the largest text on the label (docs/labels.md names the templates this follows):

* the sort code, centred, as large as the label is wide; a long one shrinks, then wraps onto a
  second line, then (only then) ends in "…" — but never below a floor that keeps it the largest
  text on the label (every other type size of the layout is smaller than the floor);
* the route code, large, left; its Code 128 (``routing_barcode``) beside it when both fit, else
  on the next row;
* 集包地: an inverse "集包地" tag, the centre's name, its code on the right.

Without routing data nothing is drawn and the label is what it always was. On a
:class:`~printing.zpl_canvas.ZplCanvas` the sort code and route code are their own ``^GFA`` fields,
each after a ``^FX`` comment naming it, so a printer log (and a test) can find them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from reportlab.lib.units import mm

from printing.barcodes import code128_width, draw_code128, fit_module_dots
from printing.draw import boxed_text, ellipsize, fit, hline, text_width
from printing.zpl_canvas import Surface, ZplCanvas

#: The keys of ``Snapshot["waybill_routing"]`` this block prints (``provider`` is not printed).
ROUTING_KEYS = ("sort_code", "route_code", "package_centre", "package_code", "routing_barcode")


def _clean(value: Any) -> str:
    """One line of printable text: whitespace runs become one space; anything but a string is ''."""
    return " ".join(value.split()) if isinstance(value, str) else ""


@dataclass(frozen=True)
class Routing:
    """What the routing block prints for one waybill (all strings, any may be empty)."""

    sort_code: str = ""
    route_code: str = ""
    package_centre: str = ""
    package_code: str = ""
    barcode: str = ""

    @classmethod
    def of(cls, order: Any) -> Routing | None:
        """The routing data of a snapshot, or None when it has none (demo waybills, old snapshots)."""
        data = order.get("waybill_routing") if isinstance(order, dict) else None
        if not isinstance(data, dict):
            return None
        sort_code, route_code, centre, code, barcode = (_clean(data.get(k)) for k in ROUTING_KEYS)
        # Code 128 prints ASCII; ^ and ~ would start ZPL commands (and be blanked there), so they
        # are dropped here for the PDF too: both labels carry the same symbol.
        barcode = "".join(ch for ch in barcode if ch.isascii() and ch.isprintable() and ch not in "^~")
        routing = cls(sort_code, route_code, centre, code, barcode.strip())
        return routing if any((sort_code, route_code, centre, code, routing.barcode)) else None


@dataclass(frozen=True)
class RoutingScale:
    """Type sizes (points) of the routing block for one label size.

    ``sort_min`` is above every other type size of that label's layout, so the sort code stays
    the largest text even when a long one has shrunk to it.
    """

    sort_max: float
    sort_min: float
    route_max: float
    centre: float
    bar_mm: float


SCALES = {
    "100x150": RoutingScale(34, 20, 20, 13, 8),
    "100x180": RoutingScale(36, 20, 22, 14, 8),
    "76x130": RoutingScale(30, 17, 17, 11.5, 8),
}

#: Route code text never shrinks below this (then it ends in "…").
_ROUTE_MIN = 12.0
#: Glyph extents of the CJK font as a share of the size (ascent above, descent below the baseline).
_ASCENT, _DESCENT = 0.86, 0.2


def fit_sort_code(text: str, width: float, scale: RoutingScale) -> tuple[list[str], float]:
    """Lines and size for the sort code in ``width`` points: one line as large as fits, shrinking
    to ``sort_min``; then two lines (from a quarter of the way up, so two lines stay about as
    tall as one large one would be); at ``sort_min`` the second
    line ends in "…". Never wider than ``width``."""
    size = scale.sort_max
    while size > scale.sort_min and text_width(text, size) > width:
        size = max(scale.sort_min, size - 0.5)
    if text_width(text, size) <= width:
        return [text], size
    fitted = fit(text, width, 2, scale.sort_min + (scale.sort_max - scale.sort_min) / 4, scale.sort_min, leading=1.0)
    return fitted.lines, fitted.size


def _named_text(c: Surface, name: str, x: float, y: float, text: str, *, centred: bool = False) -> None:
    """Draw a line of the routing block; on ZPL as its own field named ``name``."""
    if isinstance(c, ZplCanvas):
        c.named_text(name, x, y, text, anchor="ms" if centred else "ls")
    elif centred:
        c.drawCentredString(x, y, text)
    else:
        c.drawString(x, y, text)


def draw_routing(
    c: Surface, routing: Routing, scale: RoutingScale, font: str, x0: float, x1: float, y: float, page_w: float
) -> float:
    """Draw the routing block from ``y`` (top) down between ``x0`` and ``x1``; returns its bottom.

    ``page_w`` is the page width: a barcode's quiet zone may reach into the blank page margin.
    """
    width = x1 - x0
    big = routing.sort_code or routing.route_code
    big_name = "sort_code" if routing.sort_code else "route_code"
    big_size = scale.sort_max
    if big:
        lines, big_size = fit_sort_code(big, width, scale)
        c.setFont(font, big_size)
        for line in lines:
            _named_text(c, big_name, (x0 + x1) / 2, y - big_size * _ASCENT, line, centred=True)
            y -= big_size * (_ASCENT + _DESCENT)
        y -= 0.8 * mm
    route = routing.route_code if routing.sort_code else ""
    unscannable = ""
    if routing.barcode and code128_width(routing.barcode, 2) > page_w - 2 * mm:
        # Too long for a Code 128 on this label (a 1-dot module does not read): its characters
        # are printed under the route code instead of bars that would run off the label.
        unscannable, routing = routing.barcode, replace(routing, barcode="")
    if route or routing.barcode:
        y = _route_row(c, routing, route, min(scale.route_max, big_size - 3), scale, font, x0, x1, y, page_w)
    if unscannable:
        c.setFont(font, 9)
        c.drawCentredString((x0 + x1) / 2, y - 9 * _ASCENT, ellipsize(unscannable, 9, width))
        y -= 9 * (_ASCENT + _DESCENT) + 0.8 * mm
    if routing.package_centre or routing.package_code:
        y = _centre_row(c, routing, scale.centre, font, x0, x1, y)
    hline(c, x0, x1, y, width=1.2)
    return y - 1.5 * mm


def _route_row(
    c: Surface,
    routing: Routing,
    route: str,
    size: float,
    scale: RoutingScale,
    font: str,
    x0: float,
    x1: float,
    y: float,
    page_w: float,
) -> float:
    """三段码 large on the left, its barcode on the right (or under it when they do not fit)."""
    width = x1 - x0
    bar_h = scale.bar_mm * mm
    code = routing.barcode
    # Human-readable digits under the bars only when they differ from the route code printed big.
    plain = "".join(ch for ch in route if ch.isalnum())
    bar_text: str | None = None if code in (plain, route) else ""
    right_edge = page_w - 1 * mm  # the right quiet zone may use the blank margin
    if route:
        tw = text_width(route, size)
        if code:
            dots = fit_module_dots(code, right_edge - x0 - tw - 2 * mm, (3, 2))
            bw = code128_width(code, dots)
            if x0 + tw + 2 * mm + bw <= right_edge:  # side by side
                row_h = max(size * (_ASCENT + _DESCENT), bar_h + (0 if bar_text is None else 8.5))
                c.setFont(font, size)
                _named_text(c, "route_code", x0, y - row_h / 2 - size * (_ASCENT - _DESCENT) / 2, route)
                draw_code128(c, code, right_edge - bw, y, bar_h, module_dots=dots, text=bar_text, text_size=7)
                return y - row_h - 1.2 * mm
        while size > _ROUTE_MIN and text_width(route, size) > width:
            size = max(_ROUTE_MIN, size - 0.5)
        c.setFont(font, size)
        _named_text(c, "route_code", x0, y - size * _ASCENT, ellipsize(route, size, width))
        y -= size * (_ASCENT + _DESCENT) + 0.8 * mm
    if code:
        dots = fit_module_dots(code, page_w - 2 * mm, (3, 2))
        box = draw_code128(c, code, 0, y, bar_h, module_dots=dots, text=bar_text, text_size=7, center_width=page_w)
        y = box.bottom - 1.2 * mm
    return y


def _centre_row(c: Surface, routing: Routing, size: float, font: str, x0: float, x1: float, y: float) -> float:
    """集包地: inverse tag, the centre's name (shrinks, then "…"), its code right-aligned."""
    tag_size = size * 0.8
    pad = 1.0 * mm
    tag_h = tag_size * 1.25 + pad
    row_h = max(tag_h, size * 1.2)
    tag_w = boxed_text(c, "集包地", x0, y - (row_h - tag_h) / 2, tag_size, inverse=True, pad=pad)
    x = x0 + tag_w + 2 * mm
    baseline = y - row_h / 2 - size * (_ASCENT - _DESCENT) / 2
    code = routing.package_code
    code_size = size * 0.85
    code_w = text_width(code, code_size) if code else 0.0
    if code and not routing.package_centre:
        c.setFont(font, size)
        c.drawString(x, baseline, ellipsize(code, size, x1 - x))
        return y - row_h - 1.0 * mm
    room = x1 - x - (code_w + 2 * mm if code else 0.0)
    name_size = size
    while text_width(routing.package_centre, name_size) > room and name_size > 9:
        name_size = max(9.0, name_size - 0.5)
    c.setFont(font, name_size)
    c.drawString(x, baseline, ellipsize(routing.package_centre, name_size, room))
    if code:
        c.setFont(font, code_size)
        c.drawRightString(x1, baseline, code)
    return y - row_h - 1.0 * mm
