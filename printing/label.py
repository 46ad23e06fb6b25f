"""Shipping labels as PDF: 100×150 mm (4×6 in), 100×180 mm two-part e-waybill, 76×130 mm one-part.

Drawn straight on a reportlab canvas (no platypus): a label is a fixed layout, and the canvas is
what makes ≥ 100 labels/s possible. Everything is sized for a 203-dpi thermal head: bars in whole
dots, no text under 6.5 pt, flags as boxed or inverse text (thermal labels have no colour).

Layout, top to bottom: carrier and flags · the carrier's routing block when the waybill has one
(大头笔 largest, 三段码, 集包地: :mod:`printing.routing`) · waybill Code 128 · recipient (name, masked phone, full
address — wrapped, shrunk to fit, never overflowing) · sender · item summary and buyer note · order
ID Code 128 with a QR code of the order ID · channel, print time, reprint count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.display_names import channel_name
from core.model import Snapshot
from printing.barcodes import code128_width, draw_code128, draw_qr, fit_module_dots
from printing.common import carrier_name, item_summary, logo_image, mask_phone, print_time, walking_order
from printing.draw import boxed_text, draw_lines, ellipsize, fit, fit_box, hline, text_width
from printing.fonts import font_name
from printing.routing import SCALES as ROUTING_SCALES
from printing.routing import Routing, draw_routing
from printing.templates import LabelTemplate
from printing.zpl_canvas import Surface

__all__ = ["LABEL_SIZES", "mask_phone", "render_label", "render_labels", "walking_order"]

#: Supported sizes, width × height in mm.
LABEL_SIZES: dict[str, tuple[float, float]] = {
    "100x150": (100, 150),
    "100x180": (100, 180),
    "76x130": (76, 130),
}


@dataclass(frozen=True)
class _Scale:
    """Per-size type sizes and block heights (points unless named _mm)."""

    carrier: float
    waybill_bar_mm: float
    waybill_text: float
    name: float
    addr_max: float
    addr_min: float
    addr_lines: int
    sender: float
    items: float
    order_bar_mm: float
    qr_mm: float
    small: float


#: Waybill bar height (mm) when the routing block takes its room at the top.
_ROUTED_BAR_MM = {"100x150": 15.0, "100x180": 14.0, "76x130": 13.0}

_SCALES = {
    "100x150": _Scale(18, 22, 14, 15, 17, 8, 6, 7.5, 9, 10, 20, 6.5),
    "100x180": _Scale(18, 18, 13, 15, 16, 8, 5, 7.5, 9, 8, 17, 6.5),
    "76x130": _Scale(15, 18, 12, 13, 14, 7, 6, 7, 8, 9, 17, 6.5),
}


def _flags(order: Snapshot) -> list[tuple[str, bool]]:
    """(text, inverse) flags, most important first. Never colour alone: text in a box."""
    out: list[tuple[str, bool]] = []
    flags = set(order.get("flags") or [])
    if "vip" in flags or order.get("lane") == "vip":
        out.append(("VIP", True))
    listed = order.get("merged_orders")
    merged = [m for m in listed if m] if isinstance(listed, list) else []
    if len(merged) > 1:  # one parcel for several orders (合单): the packer puts every order's items in
        out.append((f"合单{len(merged)}", True))
    if "gift" in flags or any(line["is_gift"] for line in order["lines"]):
        out.append(("赠品", False))
    if order.get("custom_packaging"):
        out.append(("定制包装", False))
    if order.get("cancel_requested"):
        out.append(("拦截", True))
    if order.get("label_count", 0) > 0:
        out.append((f"补打{order['label_count']}", False))
    return out


class _Label:
    """Draws one label page; holds the page geometry so the section methods stay small."""

    def __init__(
        self, c: Surface, order: Snapshot, size: str, tpl: LabelTemplate, now: datetime | None
    ) -> None:
        self.c = c
        self.o = order
        self.size = size
        self.tpl = tpl
        self.s = _SCALES[size]
        w_mm, h_mm = LABEL_SIZES[size]
        self.W, self.H = w_mm * mm, h_mm * mm
        top, right, bottom, left = (m * mm for m in tpl.margins_mm)
        self.x0, self.x1 = left, self.W - right
        self.y_top, self.y_bottom = self.H - top, bottom
        self.width = self.x1 - self.x0
        self.now = now
        self.font = font_name()
        self.routing = Routing.of(order)

    # -- sections -------------------------------------------------------------------------------
    def header(self, y: float) -> float:
        c, s = self.c, self.s
        x = self.x0
        h = s.carrier * 1.15
        if self.tpl.shows("logo") and self.tpl.logo:
            img = logo_image(self.tpl.logo)
            iw, ih = img.getSize()
            lw = h * iw / ih
            c.drawImage(img, x, y - h, lw, h, mask="auto")
            x += lw + 1.5 * mm
        flags = _flags(self.o) if self.tpl.shows("flags") else []
        # Flags right-aligned; measure first so the carrier name is never overlapped. The carrier
        # is what the courier sorts by: with many flags the flags shrink (to 7 pt) before the
        # carrier name is shortened.
        carrier = carrier_name(self.o["carrier"]) if self.tpl.shows("carrier") else ""
        need = text_width(carrier, s.carrier) + 2 * mm if carrier else 0.0
        fsize = 10.0
        while True:
            fwidths = [text_width(t, fsize) + 2 * mm for t, _ in flags]
            fx = self.x1 - sum(fwidths) - 1 * mm * max(0, len(flags) - 1)
            if fx - x >= need or fsize <= 7.0:
                break
            fsize -= 0.5
        if carrier:
            csize = s.carrier
            while text_width(carrier, csize) > fx - x - 2 * mm and csize > s.carrier * 0.7:
                csize -= 0.5
            c.setFont(self.font, csize)
            c.drawString(x, y - s.carrier * 0.9, ellipsize(carrier, csize, fx - x - 2 * mm))
        for (text, inverse), fw in zip(flags, fwidths, strict=True):
            boxed_text(c, text, fx, y - (h - fsize * 1.25 - 1 * mm) / 2, fsize, inverse=inverse)
            fx += fw + 1 * mm
        y -= h + 1 * mm
        hline(c, self.x0, self.x1, y)
        return y - 1.5 * mm

    def routing_block(self, y: float) -> float:
        """大头笔 / 三段码 / 集包地 under the top bar (nothing without routing data)."""
        if self.routing is None:
            return y
        scale = ROUTING_SCALES[self.size]
        return draw_routing(self.c, self.routing, scale, self.font, self.x0, self.x1, y, self.W)

    def _bar_mm(self) -> float:
        return _ROUTED_BAR_MM[self.size] if self.routing else self.s.waybill_bar_mm

    def waybill(self, y: float, bar_mm: float | None = None, text_size: float | None = None) -> float:
        if not self.tpl.shows("waybill_barcode"):
            return y
        waybill = self.o.get("waybill_no") or ""
        if not waybill:
            boxed_text(self.c, "无运单号 NO WAYBILL — 请勿发货", self.x0, y, 12, inverse=True)
            return y - 10 * mm
        size = text_size or self.s.waybill_text
        # The quiet zone may reach into the page margin (blank paper is blank paper).
        avail = self.W - 2 * mm
        dots = fit_module_dots(waybill, avail)
        box = draw_code128(
            self.c,
            waybill,
            0,
            y,
            (bar_mm or self.s.waybill_bar_mm) * mm,
            module_dots=dots,
            text=" ".join(waybill[i : i + 4] for i in range(0, len(waybill), 4)),
            text_size=size,
            center_width=self.W,
        )
        y = box.bottom - 1.2 * mm
        hline(self.c, self.x0, self.x1, y)
        return y - 1.5 * mm

    def _tag(self, text: str, x: float, y: float, size: float) -> float:
        """The square 收 / 寄 tag of a Chinese waybill (inverse for 收 so it stands out)."""
        side = size * 1.5
        c = self.c
        if text == "收":
            c.rect(x, y - side, side, side, stroke=0, fill=1)
            c.setFillGray(1)
        else:
            c.setLineWidth(1)
            c.rect(x, y - side, side, side, stroke=1, fill=0)
        c.setFont(self.font, size)
        c.drawCentredString(x + side / 2, y - side + (side - size) / 2 + size * 0.12, text)
        c.setFillGray(0)
        return side

    def recipient(self, y: float, addr_budget: float, addr_lines: int | None = None) -> float:
        if not self.tpl.shows("recipient"):
            return y
        r, s, c = self.o["recipient"], self.s, self.c
        tag = self._tag("收", self.x0, y, s.name)
        x = self.x0 + tag + 2 * mm
        width = self.x1 - x
        phone = mask_phone(r["phone"]) or "无电话"
        pw = text_width(phone, s.name)
        # A long name (艾力·买买提江·…) shrinks a little before it is shortened; the phone never is.
        room = width - pw - 3 * mm
        nsize = s.name
        while text_width(r["name"], nsize) > room and nsize > s.name * 0.7:
            nsize -= 0.5
        c.setFont(self.font, nsize)
        c.drawString(x, y - s.name * 0.9, ellipsize(r["name"], nsize, room))
        c.setFont(self.font, s.name)
        c.drawRightString(self.x1, y - s.name * 0.9, phone)
        y -= s.name * 1.3
        address = f"{r['province']}{r['city']}{r['district']}{r['address']}"
        max_size = s.addr_max if addr_lines is None else s.addr_min + 2
        fitted = fit_box(address, width, addr_budget, max_size, s.addr_min)
        y = draw_lines(c, fitted, x, y)
        y -= 1.2 * mm
        hline(c, self.x0, self.x1, y)
        return y - 1.2 * mm

    def sender(self, y: float, one_line: bool = False) -> float:
        snd = self.tpl.sender
        if not self.tpl.shows("sender") or not (snd.name or snd.address):
            return y
        s, c = self.s, self.c
        tag = self._tag("寄", self.x0, y, s.sender + 1)
        x = self.x0 + tag + 2 * mm
        width = self.x1 - x
        text = f"{snd.name}  {snd.phone}"
        if one_line:
            text += f"  {snd.address}"
            y = draw_lines(c, fit(text, width, 1, s.sender, 6.5), x, y)
        else:
            y = draw_lines(c, fit(text, width, 1, s.sender, 6.5), x, y)
            y = draw_lines(c, fit(snd.address, width, 2, s.sender, 6.5), x, y)
        y = min(y, self.y_top)  # keep the tag inside the block
        y -= 1.0 * mm
        hline(c, self.x0, self.x1, y, width=0.5)
        return y - 1.2 * mm

    def items(self, y: float, max_lines: int = 3) -> float:
        s, c = self.s, self.c
        if self.tpl.shows("items") and self.o["lines"]:
            label = "内容："
            lw = text_width(label, s.items)
            c.setFont(self.font, s.items)
            c.drawString(self.x0, y - s.items * 0.88, label)
            summary = item_summary(self.o["lines"], s.items, self.width - lw, max_lines)
            y = draw_lines(c, fit(summary, self.width - lw, max_lines, s.items, s.items), self.x0 + lw, y)
        note = (self.o.get("buyer_note") or "").strip()
        if self.tpl.shows("buyer_note") and note:
            label = "备注："
            lw = text_width(label, s.small + 1)
            c.setFont(self.font, s.small + 1)
            c.drawString(self.x0, y - (s.small + 1) * 0.88, label)
            y = draw_lines(c, fit(note, self.width - lw, 1, s.small + 1, s.small), self.x0 + lw, y)
        return y - 1 * mm

    def order_codes(self, y_bottom: float, bar_mm: float | None = None, qr_mm: float | None = None) -> float:
        """Order barcode (left) and QR (right), anchored at ``y_bottom``; returns their top."""
        s, c = self.s, self.c
        oid = self.o["order_id"]
        qr = (qr_mm or s.qr_mm) * mm if self.tpl.shows("qr") else 0.0
        bar_h = (bar_mm or s.order_bar_mm) * mm
        text_size = 9.0
        block_h = max(qr, bar_h + 1.2 * mm + text_size * 1.0)
        top = y_bottom + block_h
        if self.tpl.shows("order_barcode"):
            # The left quiet zone may use the blank page margin; the right one stops short of the QR.
            avail = (self.x1 - qr - 1.5 * mm) if qr else self.W
            dots = fit_module_dots(oid, avail)
            width = code128_width(oid, dots)
            x = max(0.0, (avail - width) / 2)
            draw_code128(
                c,
                oid,
                x,
                top - (block_h - bar_h - 1.2 * mm - text_size) / 2,
                bar_h,
                module_dots=dots,
                text=f"订单 {oid}",
                text_size=text_size,
            )
        if qr:
            draw_qr(c, oid, self.x1 - qr, top, qr)
        return top

    def footer(self) -> float:
        """Channel, print time, reprint marker; returns the y above it."""
        s, c = self.s, self.c
        y = self.y_bottom
        parts = []
        if self.tpl.shows("channel"):
            parts.append(f"{channel_name(self.o['channel'], 'zh_CN')} {self.o['channel_order_no']}")
        if self.tpl.shows("print_time"):
            parts.append(f"打印 {print_time(self.now)}")
        if parts:
            c.setFont(self.font, s.small)
            c.drawString(self.x0, y + 0.3 * mm, ellipsize("  ".join(parts), s.small, self.width))
            y += s.small * 1.2
        return y + 0.8 * mm

    # -- pages ----------------------------------------------------------------------------------
    def draw(self) -> None:
        if self.size == "100x180":
            self._two_part()
        else:
            self._one_part()

    def _one_part(self) -> None:
        y = self.header(self.y_top)
        y = self.routing_block(y)
        y = self.waybill(y, bar_mm=self._bar_mm())
        codes_top = self.order_codes(self.footer())
        # Everything between waybill and order codes: the address grows into the free space. Under
        # a routing block the address comes first: three lines are kept for it, the items give way.
        reserve = self._items_height(1 if self.routing else 3) + self._sender_height()
        y = self.recipient(y, max(self._addr_floor(), y - codes_top - reserve - self.s.name * 1.3 - 6 * mm))
        y = self.sender(y)
        if not self.routing or y - codes_top - 2 * mm >= self._items_height(1):
            self.items(y, self._lines_for(y - codes_top - 2 * mm))
        hline(self.c, self.x0, self.x1, codes_top + 1 * mm, width=0.5)

    def _two_part(self) -> None:
        # Upper part (派件联, ~108 mm): what the courier needs.
        tear = self.H - 110 * mm
        y = self.header(self.y_top)
        y = self.routing_block(y)
        y = self.waybill(y, bar_mm=self._bar_mm())
        y_sender_top = tear + self._sender_height() + self._items_height(1 if self.routing else 2) + 3 * mm
        y = self.recipient(y, max(self._addr_floor(), y - y_sender_top - self.s.name * 1.3 - 4 * mm))
        y = self.sender(y)
        # Under a tall routing block the 派件联 may have no room left for the items: the 收件联
        # below lists them anyway, so they are left out here rather than run over the tear line.
        if not self.routing or y - tear - 4 * mm >= self._items_height(1):
            self.items(y, self._lines_for(y - tear - 4 * mm))
        hline(self.c, 0, self.W, tear, width=0.6, dash=(3, 2))
        c = self.c
        c.setFont(self.font, self.s.small)
        c.drawRightString(self.x1, tear + 0.8 * mm, "沿虚线撕开")
        # Lower part (收件联): waybill again, small; recipient; items; order codes.
        y = tear - 2 * mm
        c.setFont(self.font, 9)
        c.drawString(self.x0, y - 8, "收件联")
        c.drawRightString(self.x1, y - 8, carrier_name(self.o["carrier"]))
        y -= 12
        y = self.waybill(y, bar_mm=9, text_size=10)
        codes_top = self.order_codes(self.footer(), bar_mm=7, qr_mm=14)
        y = self.recipient(y, 2 * (self.s.addr_min + 1) * 1.2, addr_lines=2)
        self.items(y, max_lines=1 if y - codes_top < 14 * mm else 2)

    def _addr_floor(self) -> float:
        """The least room (points) the address gets: three lines at the smallest size under a
        routing block; without one, as before (two lines on one-part labels, none reserved on
        the two-part)."""
        if self.routing:
            return 3 * self.s.addr_min * 1.2 + 0.5  # (+0.5: three lines, not 2.999…)
        return 20.0 if self.size != "100x180" else 0.0

    def _lines_for(self, room: float) -> int:
        """How many item-summary lines fit in ``room`` points (after the buyer note): the items
        take whatever the address left, so a long order shows more of itself."""
        room -= (self.s.small + 1) * 1.2 if self.o.get("buyer_note") else 0
        return max(1, min(8, int(room // (self.s.items * 1.2))))

    def _items_height(self, lines: int) -> float:
        return (lines * self.s.items * 1.2 if self.tpl.shows("items") else 0) + (
            (self.s.small + 1) * 1.2 if self.o.get("buyer_note") else 0
        )

    def _sender_height(self) -> float:
        return 3 * self.s.sender * 1.2 + 3 * mm if self.tpl.shows("sender") else 0


def _check_size(size: str) -> None:
    if size not in LABEL_SIZES:
        raise ValueError(f"Unknown label size {size!r}; use one of {', '.join(LABEL_SIZES)}.")


def _canvas(buf: BytesIO, size: str) -> Canvas:
    w, h = LABEL_SIZES[size]
    c = Canvas(buf, pagesize=(w * mm, h * mm), pageCompression=1, initialFontName=font_name())
    c.setTitle("Shipping labels")
    c.setCreator("PackDesk")
    return c


def render_labels(
    orders: Iterable[Snapshot],
    size: str = "100x150",
    template: LabelTemplate | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    now: datetime | None = None,
) -> bytes:
    """One PDF, one page per order, in the order given (sort with :func:`walking_order` first).

    Args:
        progress: called as ``progress(done, total)`` after each page, for a batch progress bar.
        now: print time shown on the label (default: now).
    """
    _check_size(size)
    tpl = template or LabelTemplate.load()
    items = list(orders)
    buf = BytesIO()
    c = _canvas(buf, size)
    for i, order in enumerate(items, 1):
        _Label(c, order, size, tpl, now).draw()
        c.showPage()
        if progress is not None:
            progress(i, len(items))
    c.save()
    return buf.getvalue()


def render_label(
    order: Snapshot,
    size: str = "100x150",
    template: LabelTemplate | None = None,
    *,
    now: datetime | None = None,
) -> bytes:
    """A one-page PDF shipping label for ``order`` in ``size`` ("100x150", "100x180", "76x130")."""
    return render_labels([order], size, template, now=now)
