"""Packing slips: the sheet that goes in the parcel.

Sender block (and logo) on top, the order's barcode and a QR code (the bench scans either to open
the order when a parcel comes back), recipient, the lines with quantities, gifts listed on their
own so the packer sees they must go in, the buyer's note and the site's note to the customer.
Multi-page for long orders with rows never split and "第 i/n 页" on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from io import BytesIO

from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.display_names import channel_name
from core.model import Snapshot, SnapshotLine
from printing.barcodes import code128_width, draw_code128, draw_qr, fit_module_dots
from printing.common import logo_image, mask_phone, print_time, total_units
from printing.draw import Fitted, boxed_text, draw_lines, fit, hline, wrap
from printing.fonts import font_name
from printing.templates import SlipTemplate

PAPERS: dict[str, tuple[float, float]] = {"A4": A4, "A5": A5, "100X150": (100 * mm, 150 * mm)}
SIZE = 9.0
LEADING = SIZE * 1.3


def _money(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


class _Slip:
    def __init__(self, order: Snapshot, tpl: SlipTemplate, now: datetime | None) -> None:
        self.o, self.tpl, self.now = order, tpl, now
        self.W, self.H = PAPERS.get(tpl.paper.upper(), A5)
        top, right, bottom, left = (m * mm for m in tpl.margins_mm)
        self.x0, self.x1, self.top, self.bottom = left, self.W - right, self.H - top, bottom
        self.font = font_name()
        w = self.x1 - self.x0
        self.c_sku = self.x0 + 7 * mm
        self.c_name = self.c_sku + 0.25 * w
        self.prices = tpl.shows("prices")
        self.c_qty = self.x1 - (22 * mm if self.prices else 0)
        self.name_w = self.c_qty - 12 * mm - self.c_name

    def _header(self, c: Canvas) -> float:
        """Sender, title, order barcode and QR, recipient (first page only). Returns body top."""
        y = self.top
        x = self.x0
        if self.tpl.shows("logo") and self.tpl.logo:
            img = logo_image(self.tpl.logo)
            iw, ih = img.getSize()
            c.drawImage(img, x, y - 12 * mm, 12 * mm * iw / ih, 12 * mm, mask="auto")
            x += 12 * mm * iw / ih + 3 * mm
        qr = 20 * mm if self.tpl.shows("qr") else 0.0
        right = self.x1 - qr - (3 * mm if qr else 0)
        c.setFont(self.font, 14)
        c.drawString(x, y - 5 * mm, self.tpl.title or "发货清单 Packing slip")
        snd = self.tpl.sender
        yy = y - 7 * mm
        if self.tpl.shows("sender") and (snd.name or snd.address):
            # Name and phone on one line, the address on the next: one run-on line wrapped a
            # lone "仓" onto a line of its own.
            yy = draw_lines(c, fit(f"{snd.name}  {snd.phone}", right - x, 1, 8, 7), x, yy)
            yy = draw_lines(c, fit(snd.address, right - x, 2, 8, 7), x, yy)
        if qr:
            draw_qr(c, self.o["order_id"], self.x1 - qr, y, qr)
        y = min(yy, y - qr) - 2 * mm
        if self.tpl.shows("order_barcode"):
            oid = self.o["order_id"]
            dots = fit_module_dots(oid, self.x1 - self.x0)
            box = draw_code128(
                c,
                oid,
                self.x0 - 10 * dots * 72 / 203,
                y,
                11 * mm,
                module_dots=dots,
                text=f"订单 {oid}",
                text_size=9,
            )
            y = box.bottom - 1 * mm
            info = []
            if self.tpl.shows("channel"):
                info.append(f"{channel_name(self.o['channel'], 'zh_CN')} {self.o['channel_order_no']}")
            if self.tpl.shows("print_time"):
                info.append(f"打印 {print_time(self.now)}")
            c.setFont(self.font, 8)
            bx = self.x0 + code128_width(oid, dots) + 2 * mm
            for i, t in enumerate(info):
                c.drawString(bx, y + 9 * mm - i * 4 * mm, t)
        if self.tpl.shows("recipient"):
            r = self.o["recipient"]
            text = (
                f"收货人：{r['name']}  {mask_phone(r['phone'])}\n"
                f"{r['province']}{r['city']}{r['district']}{r['address']}"
            )
            y = draw_lines(c, fit(text, self.x1 - self.x0, 4, 10, 8), self.x0, y - 1 * mm) - 1 * mm
        hline(c, self.x0, self.x1, y, width=1)
        return y

    def _table_head(self, c: Canvas, y: float) -> float:
        c.setFont(self.font, 8)
        base = y - 4 * mm
        c.drawString(self.x0, base, "#")
        c.drawString(self.c_sku, base, "SKU")
        c.drawString(self.c_name, base, "商品 Item")
        c.drawRightString(self.c_qty, base, "数量 Qty")
        if self.prices:
            c.drawRightString(self.x1, base, "金额")
        hline(c, self.x0, self.x1, y - 5.5 * mm, width=0.5)
        return y - 5.5 * mm

    def _row(self, i: int, line: SnapshotLine) -> tuple[float, Callable[[Canvas, float], None]]:
        gift_tag = "赠品"
        names = wrap(line["name"], SIZE, self.name_w - (10 * mm if line["is_gift"] else 0))
        h = len(names) * LEADING + 2 * mm

        def draw(c: Canvas, y: float) -> None:
            base = y - 1 * mm - SIZE * 0.9
            c.setFont(self.font, SIZE)
            c.drawString(self.x0, base, str(i))
            c.drawString(self.c_sku, base, line["sku"])
            draw_lines(c, Fitted(names, SIZE, LEADING), self.c_name, y - 1 * mm)
            if line["is_gift"]:
                boxed_text(c, gift_tag, self.c_qty - 20 * mm, y - 1.2 * mm, 7, pad=0.7 * mm)
            c.setFont(self.font, SIZE + 2)
            c.drawRightString(self.c_qty, base, str(line["qty"]))
            if self.prices:
                c.setFont(self.font, SIZE)
                c.drawRightString(
                    self.x1, base, "赠送" if line["is_gift"] else _money(line["qty"] * line["unit_price_fen"])
                )
            hline(c, self.x0, self.x1, y - h, width=0.25)

        return h, draw

    def _tail(self) -> list[tuple[float, Callable[[Canvas, float], None]]]:
        """Totals, gifts, buyer note, note to the customer — each kept whole."""
        width = self.x1 - self.x0
        out: list[tuple[float, Callable[[Canvas, float], None]]] = []
        units = total_units(self.o["lines"])
        gifts = [ln for ln in self.o["lines"] if ln["is_gift"]]

        def totals(c: Canvas, y: float) -> None:
            c.setFont(self.font, 10)
            text = f"共 {len(self.o['lines'])} 种 {units} 件"
            if self.prices:
                text += f"   合计 {_money(self.o['total_fen'])}"
            c.drawRightString(self.x1, y - 5 * mm, text)

        out.append((7 * mm, totals))
        texts: list[tuple[str, str]] = []
        if self.tpl.shows("gifts") and gifts:
            texts.append(("赠品 Gifts：", "、".join(f"{g['name']}×{g['qty']}" for g in gifts)))
        if self.tpl.shows("buyer_note") and self.o.get("buyer_note"):
            texts.append(("买家留言：", self.o["buyer_note"]))
        if self.tpl.shows("note") and self.tpl.note:
            texts.append(("", self.tpl.note))
        for label, body in texts:
            inset = 4 * mm if label == "" else 0.0  # the boxed note wraps inside its frame
            f = Fitted(wrap(label + body, SIZE, width - inset), SIZE, LEADING)

            def draw(c: Canvas, y: float, f: Fitted = f, boxed: bool = label == "") -> None:
                draw_lines(c, f, self.x0 + (2 * mm if boxed else 0), y - 1.5 * mm)
                if boxed:
                    c.setLineWidth(0.5)
                    c.rect(self.x0, y - f.height - 3 * mm, self.x1 - self.x0, f.height + 2 * mm)

            out.append((f.height + 4 * mm, draw))
        return out

    def render(self) -> bytes:
        rows = [self._row(i, ln) for i, ln in enumerate(self.o["lines"], 1)]
        tail = self._tail()
        buf = BytesIO()
        c = Canvas(buf, pagesize=(self.W, self.H), pageCompression=1, initialFontName=font_name())
        c.setTitle(f"Packing slip {self.o['order_id']}")
        c.setCreator("PackDesk")
        # Paginate on a dry run of the first page's header height.
        header_h = self.top - self._dry_header()
        floor = self.bottom + 5 * mm
        pages: list[list[tuple[float, Callable[[Canvas, float], None], bool]]] = [[]]
        y = self.top - header_h - 5.5 * mm
        for kind, items in (("row", rows), ("tail", tail)):
            for h, fn in items:
                if y - h < floor and pages[-1]:
                    pages.append([])
                    y = self.top - 8 * mm - 5.5 * mm
                pages[-1].append((h, fn, kind == "row"))
                y -= h
        for n, blocks in enumerate(pages, 1):
            if n == 1:
                y = self._header(c)
            else:
                c.setFont(self.font, 9)
                c.drawString(
                    self.x0, self.top - 4 * mm, f"{self.tpl.title or '发货清单'}  {self.o['order_id']}（续）"
                )
                y = self.top - 6 * mm
            if blocks and blocks[0][2]:
                y = self._table_head(c, y)
            for h, fn, _ in blocks:
                fn(c, y)
                y -= h
            c.setFont(self.font, 8)
            c.drawRightString(self.x1, self.bottom - 4, f"第 {n}/{len(pages)} 页")
            c.drawString(self.x0, self.bottom - 4, self.o["order_id"])
            c.showPage()
        c.save()
        return buf.getvalue()

    def _dry_header(self) -> float:
        scratch = Canvas(BytesIO(), pagesize=(self.W, self.H))
        return self._header(scratch)


def render_slip(
    order: Snapshot, template: SlipTemplate | None = None, *, now: datetime | None = None
) -> bytes:
    """A packing slip PDF for ``order`` (paper, margins, sender, note and fields from the template)."""
    return _Slip(order, template or SlipTemplate.load(), now).render()
