"""Pick lists: one order, or a batch (wave) of orders picked in one walk.

Lines are grouped by SKU and sorted by bin in walking order, with the total to pick and which
order each unit goes to (by slot number — the order's place in the batch, i.e. its tote or
pigeonhole — plus the order ID's tail). The batch barcode at the top opens the batch at the bench;
each order's barcode is printed in the orders section at the end.

Layout is computed before drawing (a list of blocks with heights), so every page knows the page
count ("第 2/5 页") and a row never breaks across pages. A SKU spread over more orders than fit on a
page is the one exception: it continues on the next page with its row header repeated ("续").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from core.model import Snapshot
from printing.barcodes import code128_width, draw_code128, fit_module_dots
from printing.common import bin_key, carrier_name, logo_image, print_time, total_units, wave_order
from printing.draw import Fitted, boxed_text, draw_lines, ellipsize, hline, wrap, wrap_chips
from printing.fonts import font_name
from printing.templates import PickListTemplate

PAPERS = {"A4": A4, "A5": A5}
ROW_SIZE = 9.5  # body text, pt
LEADING = ROW_SIZE * 1.25
ORDERS_CONT = 7 * mm  # the orders section's continuation line


@dataclass
class _Group:
    """One SKU to pick: where, what, how many, and for which orders."""

    sku: str
    name: str
    bin: str
    total: int
    shares: list[tuple[int, str, int]]  # (slot, order_id, qty)
    gift: bool


@dataclass
class _Block:
    height: float
    draw: Callable[[Canvas, float], None]  # draws with its top edge at y
    kind: str  # "row" or "order"


def _groups(orders: Sequence[Snapshot]) -> list[_Group]:
    """One row per (SKU, bin): stock of one SKU kept in two bins is two stops on the walk, each
    with its own count — one row naming only the first bin would send the picker to the wrong
    shelf for the rest."""
    by_sku: dict[tuple[str, str], _Group] = {}
    for slot, order in enumerate(orders, 1):
        for line in order["lines"]:
            key = (line["sku"], line["bin"] or "")
            g = by_sku.get(key)
            if g is None:
                g = by_sku[key] = _Group(line["sku"], line["name"], line["bin"], 0, [], line["is_gift"])
            g.total += line["qty"]
            if g.shares and g.shares[-1][1] == order["order_id"]:
                s, oid, q = g.shares[-1]
                g.shares[-1] = (s, oid, q + line["qty"])
            else:
                g.shares.append((slot, order["order_id"], line["qty"]))
    return sorted(by_sku.values(), key=lambda g: (bin_key(g.bin), g.sku))


class _PickList:
    def __init__(
        self, orders: Sequence[Snapshot], batch_id: str | None, tpl: PickListTemplate, now: datetime | None
    ):
        if not orders:
            raise ValueError("A pick list needs at least one order.")
        if batch_id is None and len(orders) > 1:
            raise ValueError("A pick list of several orders needs the batch_id its barcode opens.")
        self.orders = wave_order(orders) if len(orders) > 1 else list(orders)
        self.batch = len(self.orders) > 1
        self.code = batch_id or self.orders[0]["order_id"]
        self.tpl = tpl
        self.now = now
        self.W, self.H = PAPERS.get(tpl.paper.upper(), A4)
        top, right, bottom, left = (m * mm for m in tpl.margins_mm)
        self.x0, self.x1, self.top, self.bottom = left, self.W - right, self.H - top, bottom
        self.font = font_name()
        # Columns: slot/# | bin | SKU | name | total | distribution
        w = self.x1 - self.x0
        self.c_bin = self.x0 + 8 * mm
        self.c_sku = self.c_bin + 22 * mm
        self.c_name = self.c_sku + 30 * mm
        self.show_names = tpl.shows("names")
        dist_w = 0.38 * w if self.batch else 0.0
        self.c_total = self.x1 - dist_w - 14 * mm
        self.c_dist = self.x1 - dist_w
        if not self.show_names:
            self.c_total = self.c_name
        self.name_w = self.c_total - self.c_name - 2 * mm
        self.dist_w = dist_w

    # -- blocks ----------------------------------------------------------------------------------
    def _share_text(self, slot: int, oid: str, qty: int) -> str:
        return f"#{slot}×{qty}" if self.tpl.shows("slots") else f"{oid}×{qty}"

    def _row_blocks(self, index: int, g: _Group) -> list[_Block]:
        name_lines = (
            wrap(g.name + (" (赠品)" if g.gift and "赠" not in g.name else ""), ROW_SIZE, self.name_w)
            if self.show_names
            else []
        )
        dist_lines = (
            wrap_chips([self._share_text(*s) for s in g.shares], ROW_SIZE, self.dist_w - 2 * mm)
            if self.batch
            else []
        )
        max_lines = max(1, int((self.top - self.bottom - 40 * mm) // LEADING))
        chunks = [dist_lines[i : i + max_lines] for i in range(0, len(dist_lines), max_lines)] or [[]]
        blocks = []
        for part, dist in enumerate(chunks):
            names = name_lines if part == 0 else [f"（续）{g.sku}"]
            n = max(len(names), len(dist), 1)
            h = n * LEADING + 2.5 * mm
            blocks.append(_Block(h, self._row_drawer(index, g, names, dist, h, part > 0), "row"))
        return blocks

    def _row_drawer(
        self, index: int, g: _Group, names: list[str], dist: list[str], h: float, cont: bool
    ) -> Callable[[Canvas, float], None]:
        def draw(c: Canvas, y: float) -> None:
            base = y - 1.2 * mm - ROW_SIZE * 0.9
            c.setFont(self.font, ROW_SIZE)
            c.drawString(self.x0, base, str(index))
            c.setFont(self.font, ROW_SIZE + 1.5)
            c.drawString(
                self.c_bin, base, ellipsize(g.bin or "—", ROW_SIZE + 1.5, self.c_sku - self.c_bin - 1 * mm)
            )
            c.setFont(self.font, ROW_SIZE)
            c.drawString(self.c_sku, base, ellipsize(g.sku, ROW_SIZE, self.c_name - self.c_sku - 1 * mm))
            if names:
                draw_lines(c, Fitted(names, ROW_SIZE, LEADING), self.c_name, y - 1.2 * mm)
            if not cont:
                c.setFont(self.font, ROW_SIZE + 4)
                total_x = self.c_dist - 3 * mm if self.batch else self.x1
                c.drawRightString(total_x, base - 1, str(g.total))
            if dist:
                draw_lines(c, Fitted(dist, ROW_SIZE, LEADING), self.c_dist, y - 1.2 * mm)
            hline(c, self.x0, self.x1, y - h, width=0.3)

        return draw

    def _order_blocks(self) -> list[_Block]:
        if not (self.batch and self.tpl.shows("order_barcodes")):
            return []
        blocks = [_Block(12 * mm, self._orders_title, "title")]
        col_w = (self.x1 - self.x0) / 2
        h = 24 * mm
        for i in range(0, len(self.orders), 2):
            pair = self.orders[i : i + 2]
            blocks.append(_Block(h, self._order_row_drawer(i, pair, col_w, h), "order"))
        return blocks

    def _orders_title(self, c: Canvas, y: float) -> None:
        c.setFont(self.font, 12)
        c.drawString(self.x0, y - 8 * mm, f"订单条码 Orders ({len(self.orders)}) — 扫码打开订单")
        hline(c, self.x0, self.x1, y - 10 * mm)

    def _order_row_drawer(
        self, start: int, pair: list[Snapshot], col_w: float, h: float
    ) -> Callable[[Canvas, float], None]:
        def draw(c: Canvas, y: float) -> None:
            for j, order in enumerate(pair):
                x = self.x0 + j * col_w
                slot = start + j + 1
                c.setFont(self.font, 16)
                c.drawString(x, y - 8 * mm, f"#{slot}")
                c.setFont(self.font, 8)
                c.drawString(x, y - 13 * mm, f"{total_units(order['lines'])}件")
                fx = x
                flags = []
                if "vip" in order.get("flags", []) or order.get("lane") == "vip":
                    flags.append(("VIP", True))
                if any(ln["is_gift"] for ln in order["lines"]):
                    flags.append(("赠品", False))  # the label's word for it too
                for text, inv in flags:
                    fx += boxed_text(c, text, fx, y - 15 * mm, 7, inverse=inv, pad=0.8 * mm) + 1 * mm
                if order.get("carrier"):  # a wave is grouped by carrier: say whose bag the parcel goes in
                    c.setFont(self.font, 7)
                    c.drawString(x, y - 20.5 * mm, carrier_name(order.get("carrier")))
                oid = order["order_id"]
                avail = col_w - 12 * mm
                dots = fit_module_dots(oid, avail)
                bx = x + 12 * mm + (avail - code128_width(oid, dots)) / 2
                draw_code128(c, oid, bx, y - 2 * mm, 12 * mm, module_dots=dots, text_size=9)
            hline(c, self.x0, self.x1, y - h + 1 * mm, width=0.3)

        return draw

    # -- pages -----------------------------------------------------------------------------------
    def _header(self, c: Canvas, page: int, pages: int) -> float:
        """Header on every page; the first page carries the big batch barcode. Returns body top."""
        y = self.top
        x = self.x0
        if page == 1 and self.tpl.shows("logo") and self.tpl.logo:
            img = logo_image(self.tpl.logo)
            iw, ih = img.getSize()
            c.drawImage(img, x, y - 12 * mm, 12 * mm * iw / ih, 12 * mm, mask="auto")
            x += 12 * mm * iw / ih + 3 * mm
        title = self.tpl.title or "拣货单 Pick list"
        c.setFont(self.font, 16 if page == 1 else 11)
        c.drawString(x, y - 6 * mm, title)
        c.setFont(self.font, 10 if page == 1 else 9)
        kind = "批次 Batch" if self.batch else "订单 Order"
        c.drawString(x, y - (12 if page == 1 else 10) * mm, f"{kind} {self.code}")
        if page == 1:
            units = sum(total_units(o["lines"]) for o in self.orders)
            c.setFont(self.font, 10)
            c.drawString(x, y - 17 * mm, f"{len(self.orders)} 单 · {len(self.groups)} 种商品 · 共 {units} 件")
            if self.tpl.shows("print_time"):
                c.setFont(self.font, 8)
                c.drawString(x, y - 21.5 * mm, f"打印 {print_time(self.now)}")
            if self.tpl.shows("batch_barcode"):
                dots = fit_module_dots(self.code, (self.x1 - self.x0) * 0.55)
                w = code128_width(self.code, dots)
                draw_code128(
                    c,
                    self.code,
                    self.x1 - w + 10 * dots * 72 / 203,
                    y,
                    14 * mm,
                    module_dots=dots,
                    text_size=10,
                )
            y -= 26 * mm
        else:
            y -= 13 * mm
        hline(c, self.x0, self.x1, y, width=1.0)
        return y

    def _table_head(self, c: Canvas, y: float) -> float:
        c.setFont(self.font, 8.5)
        base = y - 4 * mm
        c.drawString(self.x0, base, "#")
        c.drawString(self.c_bin, base, "库位 Bin")
        c.drawString(self.c_sku, base, "SKU")
        if self.show_names:
            c.drawString(self.c_name, base, "品名 Item")
        total_x = self.c_dist - 3 * mm if self.batch else self.x1
        c.drawRightString(total_x, base, "数量 Qty")
        if self.batch:
            c.drawString(
                self.c_dist,
                base,
                "分配 #格口×数量 (格口见末页订单条码)" if self.tpl.shows("slots") else "分配 订单×数量",
            )
        hline(c, self.x0, self.x1, y - 5.5 * mm, width=0.6)
        return y - 5.5 * mm

    def _footer(self, c: Canvas, page: int, pages: int) -> None:
        c.setFont(self.font, 8)
        c.drawString(self.x0, self.bottom - 5, f"{self.code}")
        c.drawRightString(self.x1, self.bottom - 5, f"第 {page}/{pages} 页")

    def blocks(self) -> list[_Block]:
        """Every row and order block of the document, in print order."""
        self.groups = _groups(self.orders)
        blocks: list[_Block] = []
        for i, g in enumerate(self.groups, 1):
            blocks.extend(self._row_blocks(i, g))
        blocks.extend(self._order_blocks())
        return blocks

    def body_top(self, page: int, first: _Block | None) -> float:
        """Where blocks start on ``page``: below the header, the table head (pages that start
        with rows) or the orders section's "（续）" line (pages that start with orders)."""
        y = self.top - (26 if page == 1 else 13) * mm
        if first is not None and first.kind == "row":
            y -= 5.5 * mm
        elif first is not None and first.kind == "order" and page > 1:
            y -= ORDERS_CONT
        return y

    @property
    def floor(self) -> float:
        return self.bottom + 4 * mm

    def paginate(self, blocks: list[_Block]) -> list[list[_Block]]:
        """Blocks into pages, whole: a block that does not fit starts the next page."""
        pages: list[list[_Block]] = [[]]
        y = self.body_top(1, blocks[0] if blocks else None)
        for k, b in enumerate(blocks):
            # A section title stays with the first block after it.
            need = b.height + (blocks[k + 1].height if b.kind == "title" and k + 1 < len(blocks) else 0)
            if y - need < self.floor and pages[-1]:
                pages.append([])
                y = self.body_top(len(pages), b)
            pages[-1].append(b)
            y -= b.height
        return pages

    def render(self) -> bytes:
        pages = self.paginate(self.blocks())
        buf = BytesIO()
        c = Canvas(buf, pagesize=(self.W, self.H), pageCompression=1, initialFontName=font_name())
        c.setTitle(f"Pick list {self.code}")
        c.setCreator("PackDesk")
        for n, page_blocks in enumerate(pages, 1):
            y = self._header(c, n, len(pages))
            first = page_blocks[0] if page_blocks else None
            if first is not None and first.kind == "row":
                y = self._table_head(c, y)
            elif first is not None and first.kind == "order" and n > 1:
                c.setFont(self.font, 10)
                c.drawString(self.x0, y - 5 * mm, "订单条码 Orders（续）— 扫码打开订单")
                y -= ORDERS_CONT
            for b in page_blocks:
                b.draw(c, y)
                y -= b.height
            self._footer(c, n, len(pages))
            c.showPage()
        c.save()
        return buf.getvalue()


def render_picklist(
    orders: Sequence[Snapshot],
    batch_id: str | None = None,
    template: PickListTemplate | None = None,
    *,
    now: datetime | None = None,
) -> bytes:
    """A pick list PDF for one order, or for a batch (then ``batch_id`` is required: its barcode
    is what the bench scans to open the batch). Orders are grouped by carrier, then put in walking
    order (:func:`printing.common.wave_order`) and numbered as slots 1..N; each SKU row says which slots get how many."""
    return _PickList(orders, batch_id, template or PickListTemplate.load(), now).render()
