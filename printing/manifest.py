"""The handover manifest (交接单): the courier signs it for the parcels of one handover batch.

A4 portrait (the bench's document printer, like pick lists). Every page: the title, carrier, batch
ID, page x/y. The first page: the batch ID as a Code 128 barcode, bench / station, operator (交接人),
opened and closed times (site-local), and the parcel count large. The body: every parcel in scan
order, two per row, each with its waybill number as a Code 128 barcode (the courier's scanner reads
it), the number below the bars, and the order ID. The last page ends with the signature lines
(交接人 / 快递员签字 / 日期); it is laid out before drawing, so the signatures never fall off a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.timeutil import to_local
from printing.barcodes import code128_width, draw_code128, fit_module_dots
from printing.common import carrier_name, print_time
from printing.draw import ellipsize, hline
from printing.fonts import font_name

MARGIN = 12 * mm
ROW_H = 21 * mm  # one row of two parcels: bars 10 mm + the number + the order ID + air
FIRST_HEAD = 44 * mm
NEXT_HEAD = 16 * mm
TABLE_HEAD = 7 * mm
SIGN_H = 34 * mm
FOOT = 8 * mm


@dataclass(frozen=True)
class ManifestParcel:
    """One parcel on the manifest."""

    waybill_no: str
    order_id: str


@dataclass(frozen=True)
class Manifest:
    """What a manifest shows (plain data: :mod:`ui.print_service` fills it from the closed batch).

    Attributes:
        batch_id: the handover batch (its barcode opens nothing; it names the batch on every page).
        carrier: the carrier code (``ZTO``); its Chinese name is printed.
        bench, station: where the parcels were handed over.
        operator: who handed them over (交接人), as the operator code and name.
        opened_at, closed_at: the batch's times (aware; printed in the site's time).
        parcels: in scan order.
    """

    batch_id: str
    carrier: str
    bench: str
    station: str
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    parcels: Sequence[ManifestParcel]


def _time(dt: datetime | None) -> str:
    return to_local(dt).strftime("%Y-%m-%d %H:%M") if dt is not None else "—"


class _Doc:
    def __init__(self, m: Manifest, now: datetime | None) -> None:
        if not m.parcels:
            raise ValueError("A handover manifest needs at least one parcel.")
        self.m = m
        self.now = now
        self.W, self.H = A4
        self.x0, self.x1 = MARGIN, self.W - MARGIN
        self.top, self.bottom = self.H - MARGIN, MARGIN
        self.font = font_name()
        self.col_w = (self.x1 - self.x0) / 2

    def paginate(self) -> list[list[int]]:
        """Row indexes per page; the last page keeps room for the signature block."""
        rows = list(range((len(self.m.parcels) + 1) // 2))
        pages: list[list[int]] = [[]]
        y = self.top - FIRST_HEAD - TABLE_HEAD
        floor = self.bottom + FOOT
        for r in rows:
            if y - ROW_H < floor:
                pages.append([])
                y = self.top - NEXT_HEAD - TABLE_HEAD
            pages[-1].append(r)
            y -= ROW_H
        if y - SIGN_H < floor:  # no room left for the signatures: they get a page of their own
            pages.append([])
        return pages

    def header(self, c: Canvas, page: int, pages: int) -> float:
        m, y = self.m, self.top
        c.setFont(self.font, 18 if page == 1 else 12)
        c.drawString(self.x0, y - 7 * mm, f"交接单 · {carrier_name(m.carrier)}")
        c.setFont(self.font, 9)
        c.drawString(self.x0, y - (12 if page == 1 else 11) * mm, f"Handover manifest · {m.carrier} · {m.batch_id}")
        if page > 1:
            c.drawRightString(self.x1, y - 7 * mm, f"第 {page}/{pages} 页")
            hline(c, self.x0, self.x1, y - NEXT_HEAD + 2 * mm, width=1.0)
            return y - NEXT_HEAD
        dots = fit_module_dots(m.batch_id, (self.x1 - self.x0) * 0.5)
        w = code128_width(m.batch_id, dots)
        draw_code128(c, m.batch_id, self.x1 - w, y, 12 * mm, module_dots=dots, text_size=9)
        c.setFont(self.font, 10.5)
        lines = [
            f"工作台 Bench: {m.bench or '—'}    工作站 Station: {m.station or '—'}",
            f"交接人 Handed over by: {m.operator}",
            f"开始 Opened: {_time(m.opened_at)}    交接 Closed: {_time(m.closed_at)}",
        ]
        for i, text in enumerate(lines):
            c.drawString(self.x0, y - (19 + 5.5 * i) * mm, ellipsize(text, 10.5, (self.x1 - self.x0) * 0.62))
        c.setFont(self.font, 22)
        c.drawRightString(self.x1, y - 34 * mm, f"共 {len(m.parcels)} 件")
        c.setFont(self.font, 8)
        c.drawRightString(self.x1, y - 39 * mm, f"parcels · 打印 {print_time(self.now)}")
        hline(c, self.x0, self.x1, y - FIRST_HEAD + 2 * mm, width=1.2)
        return y - FIRST_HEAD

    def table_head(self, c: Canvas, y: float) -> float:
        c.setFont(self.font, 8.5)
        for col in range(2):
            x = self.x0 + col * self.col_w
            c.drawString(x, y - 4.5 * mm, "序号 #")
            c.drawString(x + 12 * mm, y - 4.5 * mm, "运单号 Waybill · 订单号 Order ID")
        hline(c, self.x0, self.x1, y - TABLE_HEAD + 1 * mm, width=0.5)
        return y - TABLE_HEAD

    def row(self, c: Canvas, r: int, y: float) -> None:
        for col in range(2):
            i = 2 * r + col
            if i >= len(self.m.parcels):
                break
            p = self.m.parcels[i]
            x = self.x0 + col * self.col_w
            c.setFont(self.font, 13)
            c.drawString(x, y - 8 * mm, str(i + 1))
            avail = self.col_w - 14 * mm
            dots = fit_module_dots(p.waybill_no, avail)
            box = draw_code128(c, p.waybill_no, x + 12 * mm, y - 2 * mm, 10 * mm, module_dots=dots,
                               text=None)
            c.setFont(self.font, 10)
            c.drawString(box.bars_x, box.bars_bottom - 4.2 * mm, p.waybill_no)
            c.setFont(self.font, 8)
            c.drawString(box.bars_x, box.bars_bottom - 7.6 * mm, f"订单 {p.order_id}")
        hline(c, self.x0, self.x1, y - ROW_H + 0.5 * mm, width=0.3)

    def signatures(self, c: Canvas, y: float) -> None:
        c.setFont(self.font, 11)
        c.drawString(self.x0, y - 7 * mm, f"本批共 {len(self.m.parcels)} 件，已当面点交。"
                                          f" {len(self.m.parcels)} parcel(s) handed over in person.")
        labels = ["交接人 Handed over by", "快递员签字 Courier's signature", "日期 Date"]
        w = (self.x1 - self.x0) / 3
        for k, label in enumerate(labels):
            x = self.x0 + k * w
            c.setFont(self.font, 10)
            c.drawString(x, y - 15 * mm, label)
            hline(c, x, x + w - 6 * mm, y - 27 * mm, width=0.8)

    def footer(self, c: Canvas, page: int, pages: int) -> None:
        c.setFont(self.font, 8)
        c.drawString(self.x0, self.bottom - 4, self.m.batch_id)
        c.drawRightString(self.x1, self.bottom - 4, f"第 {page}/{pages} 页")

    def render(self) -> bytes:
        pages = self.paginate()
        buf = BytesIO()
        c = Canvas(buf, pagesize=A4, pageCompression=1, initialFontName=self.font)
        c.setTitle(f"Handover manifest {self.m.batch_id}")
        c.setCreator("PackDesk")
        for n, page_rows in enumerate(pages, 1):
            y = self.header(c, n, len(pages))
            if page_rows:
                y = self.table_head(c, y)
            for r in page_rows:
                self.row(c, r, y)
                y -= ROW_H
            if n == len(pages):
                self.signatures(c, y)
            self.footer(c, n, len(pages))
            c.showPage()
        c.save()
        return buf.getvalue()


def render_manifest(manifest: Manifest, *, now: datetime | None = None) -> bytes:
    """The handover manifest PDF (A4) of a closed batch."""
    return _Doc(manifest, now).render()
