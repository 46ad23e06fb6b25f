"""The carrier's routing block (大头笔 / 三段码 / 集包地, issue 13): printed large, scannable, never
overflowing — and labels without routing data exactly as before."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import zpl_decode
from conftest import pdf_text
from orders import ROUTING, make_order

from core.model import Snapshot
from printing import label_zpl, render_label, zpl_canvas
from printing.draw import text_width
from printing.label import LABEL_SIZES, _Label
from printing.routing import SCALES, Routing, fit_sort_code
from printing.templates import LabelTemplate
from printing.zpl_canvas import ZplCanvas

#: Eight, twelve and twenty-three CJK characters: shrink, wrap, and (last) end in "…".
LONG_SORT_CODES = ["杭州转运中心西湖", "乌鲁木齐国际快递分拨中心", "新疆维吾尔自治区伊犁哈萨克自治州霍城县清水河镇"]


def routed(seq: int = 1, **routing: str) -> Snapshot:
    o = make_order(seq, n_lines=12, gift=True, vip=True, address=1, buyer_note="周末不在家，放快递柜，谢谢！")
    o["waybill_routing"] = {**ROUTING, **routing}
    return o


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")


def words(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word of the text layer with its box (x0, y0, x1, y1 in points, y down)."""
    _need("pdftotext")
    src = tmp_path / "w.pdf"
    src.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(src), "-"], capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(t, float(a), float(b), float(c), float(d)) for a, b, c, d, t in re.findall(pattern, html)]


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_every_barcode_decodes_with_the_routing_block(size: str, decode) -> None:
    o = routed()
    pages = decode(render_label(o, size))
    assert pages == [sorted([o["waybill_no"], o["order_id"], o["order_id"], ROUTING["routing_barcode"]])]


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_sort_code_is_the_largest_text_and_the_block_is_labelled(size: str, tmp_path: Path) -> None:
    pdf = render_label(routed(), size)
    ws = words(pdf, tmp_path)
    height = {w[0]: w[4] - w[2] for w in ws}
    assert "830都江堰" in height, ws
    others = [h for t, h in height.items() if t != "830都江堰"]
    assert height["830都江堰"] > max(others) * 1.15  # (glyph boxes: height ∝ font size, one font)
    flat = pdf_text(pdf, tmp_path).replace(" ", "")
    assert "830-120-00012" in flat and "集包地" in flat and "成都转运中心" in flat and "280104" in flat
    # The route code is large: larger than anything but the sort code (the carrier name included).
    route = next(w for w in ws if w[0] == "830-120-00")
    assert route[4] - route[2] >= max(h for t, h in height.items() if t not in ("830都江堰", "830-120-00", "012"))


@pytest.mark.parametrize("sort_code", LONG_SORT_CODES)
@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_long_sort_codes_shrink_inside_the_label_and_overlap_nothing(size: str, sort_code: str, tmp_path: Path) -> None:
    tpl = LabelTemplate.load()
    w_mm = LABEL_SIZES[size][0]
    width = (w_mm - tpl.margins_mm[1] - tpl.margins_mm[3]) * 72 / 25.4
    lines, font_size = fit_sort_code(sort_code, width, SCALES[size])
    assert 1 <= len(lines) <= 2 and font_size >= SCALES[size].sort_min
    assert all(text_width(line, font_size) <= width + 0.01 for line in lines)  # the real CJK font's metrics
    assert "".join(lines).rstrip("…") == sort_code[: len("".join(lines).rstrip("…"))]
    ws = words(render_label(routed(sort_code=sort_code), size), tmp_path)
    top = max(w[4] - w[2] for w in ws)
    sort_words = [w for w in ws if w[4] - w[2] > top - 0.1]
    assert "".join(w[0] for w in sort_words).rstrip("…") == "".join(lines).rstrip("…")  # still the largest
    assert max(w[4] - w[2] for w in ws if w not in sort_words) < top - 1
    left, right = tpl.margins_mm[3] * 72 / 25.4, (w_mm - tpl.margins_mm[1]) * 72 / 25.4
    for t, x0, y0, x1, y1 in sort_words:
        assert left - 0.5 <= x0 and x1 <= right + 0.5, (t, x0, x1)
        for other in ws:
            if other in sort_words:
                continue
            overlap = min(x1, other[3]) - max(x0, other[1]) > 0.5 and min(y1, other[4]) - max(y0, other[2]) > 0.5
            assert not overlap, (t, other)


class _RecordingCanvas(ZplCanvas):
    """A ZplCanvas that notes the type size of every text it draws (outside the named fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sizes: list[tuple[str, float]] = []

    def _text(self, x: float, y: float, text: str, anchor: str) -> None:
        self.sizes.append((text, self._size))
        super()._text(x, y, text, anchor)

    def named_text(self, name: str, x: float, y: float, text: str, anchor: str = "ls") -> None:
        self.sizes.append((f"{name}:{text}", self._size))
        super().named_text(name, x, y, text, anchor)


_NAMED = re.compile(r"\^FX(\w+)\n\^FO(\d+),(\d+)\^GFA,(\d+),(\d+),(\d+),([^\^]*)\^FS")


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_zpl_sort_code_field_is_the_tallest_text_and_the_routing_barcode_is_native(size: str) -> None:
    from reportlab.lib.units import mm

    o = routed()
    w, h = LABEL_SIZES[size]
    canvas = _RecordingCanvas((w * mm, h * mm))
    _Label(canvas, o, size, LabelTemplate.load(), None).draw()
    canvas.showPage()
    z = canvas.zpl()
    assert z == label_zpl(o, size)  # the recording canvas draws what label_zpl sends
    fields = {m.group(1): m for m in _NAMED.finditer(z)}
    assert set(fields) == {"sort_code", "route_code"}
    sort = fields["sort_code"]
    wb, total = int(sort.group(6)), int(sort.group(4))
    field_h = total // wb  # the field is cropped to its ink: its height is the glyphs' height
    sort_px = dict(canvas.sizes)["sort_code:830都江堰"] * canvas.k
    assert 0.7 * sort_px <= field_h <= 1.1 * sort_px
    # Exactly the glyphs, nothing more (a row's padding bits once printed as a black column).
    raw = zpl_decode.decompress(sort.group(7), wb, total)
    inked = sum(bin(b).count("1") for b in raw)
    glyphs, *_ = zpl_canvas._line("830都江堰", round(sort_px * 4))
    assert glyphs is not None and inked == glyphs.convert("L").histogram()[255]
    other_px = max(s for t, s in canvas.sizes if not t.startswith("sort_code:")) * canvas.k
    assert field_h > other_px  # taller than any other text is even set (let alone inked)
    (label,) = zpl_decode.read(z)
    bc = [s for s in label.symbols if s.kind == "code128" and s.data == ROUTING["routing_barcode"]]
    assert len(bc) == 1 and f"^BCN,{bc[0].h},N,N,N,A^FD{ROUTING['routing_barcode']}^FS" in z
    for s in label.symbols:  # nothing of the routing block (or anything) inside a quiet zone
        q = 10 * s.module if s.kind == "code128" else 2 * s.module
        assert zpl_decode.ink_in(label, (s.x - q, s.y - s.module, s.x + s.w + q, s.y + s.h + s.module)) == 0, s
    # The sort code field sits inside the margins: 3 mm = 24 dots either side.
    x = int(sort.group(2))
    assert x >= 24 - 8 and x + wb * 8 <= label.pw - 24 + 8


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_long_sort_code_in_zpl_stays_on_the_label(size: str) -> None:
    z = label_zpl(routed(sort_code=LONG_SORT_CODES[-1]), size)
    (label,) = zpl_decode.read(z)
    sorts = [m for m in _NAMED.finditer(z) if m.group(1) == "sort_code"]
    assert len(sorts) == 2  # two lines
    for m in sorts:
        x, wb = int(m.group(2)), int(m.group(6))
        assert x >= 16 and x + wb * 8 <= label.pw - 16


@pytest.mark.parametrize(
    "routing",
    [None, {}, {"provider": "demo"}, dict.fromkeys(ROUTING, ""), "garbage", {"sort_code": 830, "route_code": None}],
)
@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_without_routing_data_the_label_is_unchanged(size: str, routing: Any) -> None:
    plain = make_order(2, n_lines=4, gift=True)
    with_key = make_order(2, n_lines=4, gift=True)
    if routing is not None:
        with_key["waybill_routing"] = routing
    assert Routing.of(with_key) is None
    assert label_zpl(with_key, size) == label_zpl(plain, size)
    assert "^FX" not in label_zpl(plain, size)


def test_partial_routing_data_prints_what_there_is(tmp_path: Path, decode) -> None:
    # Only a route code: it becomes the large line; only a centre: the 集包地 row alone.
    only_route = routed(sort_code="", package_centre="", package_code="", routing_barcode="")
    ws = words(render_label(only_route, "76x130"), tmp_path)
    top = max(ws, key=lambda w: w[4] - w[2])
    assert top[0] == "830-120-00"
    only_centre = routed(sort_code="", route_code="", routing_barcode="", package_code="")
    flat = pdf_text(render_label(only_centre, "100x180"), tmp_path).replace(" ", "")
    assert "集包地成都转运中心" in flat and "830" not in flat.split("成都转运中心")[0]
    only_barcode = routed(sort_code="", route_code="", package_centre="", package_code="", routing_barcode="R-77^~X")
    z = label_zpl(only_barcode)
    assert "^FDR-77X^FS" in z and z.count("^XZ") == 1  # ZPL control characters never reach field data
    assert "R-77X" in decode(render_label(only_barcode, "100x150"))[0]  # and the PDF carries the same


def test_routing_of_cleans_values() -> None:
    r = Routing.of({"waybill_routing": {"sort_code": " 杭州\n西湖 ", "routing_barcode": "ＡB\u00001"}})
    assert r == Routing(sort_code="杭州 西湖", barcode="B1")


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_worst_case_routing_overlaps_nothing_and_every_barcode_reads(size: str, tmp_path: Path, decode) -> None:
    """Long sort code, long route code, long barcode, long centre name, a doubled address, twelve
    lines and a note: no word overlaps another or leaves the page, and every barcode reads."""
    o = routed(
        sort_code=LONG_SORT_CODES[-1],
        route_code="356-01-02 AOF3-11 西北",
        package_centre="乌鲁木齐国际快递分拨中心综合处理二部",
        routing_barcode="ZTO-356-01-02AOF3-11",
    )
    o["recipient"]["address"] *= 2
    pdf = render_label(o, size)
    assert decode(pdf) == [sorted([o["waybill_no"], o["order_id"], o["order_id"], "ZTO-356-01-02AOF3-11"])]
    ws = words(pdf, tmp_path)
    page_w, page_h = (v * 72 / 25.4 for v in LABEL_SIZES[size])
    for i, (t, x0, y0, x1, y1) in enumerate(ws):
        assert x0 >= 0 and x1 <= page_w and y0 >= 0 and y1 <= page_h, t
        for u, a0, b0, a1, b1 in ws[i + 1 :]:
            assert not (min(x1, a1) - max(x0, a0) > 0.5 and min(y1, b1) - max(y0, b0) > 1.0), (t, u)


def test_a_routing_barcode_too_long_to_scan_is_printed_as_text(tmp_path: Path) -> None:
    code = "ROUTE" + "X7" * 30  # 65 characters: no whole-dot Code 128 of it fits 76 mm
    o = routed(routing_barcode=code)
    z = label_zpl(o, "76x130")
    assert f"^FD{code}^FS" not in z and z.count("^BC") == 2  # waybill and order ID only
    ws = words(render_label(o, "76x130"), tmp_path)
    assert any(w[0].startswith("ROUTEX7") for w in ws)
    assert all(w[3] <= 76 * 72 / 25.4 for w in ws)
