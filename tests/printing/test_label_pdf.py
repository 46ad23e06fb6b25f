"""Shipping labels: every barcode reads back exactly, Chinese is embedded, long text never overflows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import pdf_fonts, pdf_text
from orders import make_order

from printing import mask_phone, render_label, render_labels, walking_order
from printing.common import item_summary
from printing.draw import fit, fit_box, text_width, wrap
from printing.label import LABEL_SIZES


@pytest.mark.parametrize("size", list(LABEL_SIZES))
def test_label_barcodes_decode_at_203dpi(size: str, order, decode) -> None:
    pages = decode(render_label(order, size))
    assert len(pages) == 1
    # Waybill Code 128, order ID Code 128, order ID QR — each exactly.
    # (zbarimg reports identical symbols once, so the 100x180 stub's repeat is checked below.)
    assert pages[0] == sorted([order["waybill_no"], order["order_id"], order["order_id"]])


def test_two_part_stub_decodes_on_its_own(order, tmp_path: Path) -> None:
    import subprocess

    from PIL import Image

    pdf = tmp_path / "l.pdf"
    pdf.write_bytes(render_label(order, "100x180"))
    subprocess.run(
        ["pdftoppm", "-r", "203", "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "l")], check=True
    )
    im = Image.open(tmp_path / "l.png")
    im.crop((0, int(im.height * 0.62), im.width, im.height)).save(tmp_path / "stub.png")
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "stub.png")], capture_output=True, text=True
    )
    assert sorted(out.stdout.split()) == sorted([order["waybill_no"], order["order_id"], order["order_id"]])


@pytest.mark.parametrize("carrier", range(5))
def test_every_carrier_waybill_decodes_on_small_label(carrier: int, decode) -> None:
    o = make_order(100 + carrier, carrier=carrier, n_lines=2)
    assert o["waybill_no"] in decode(render_label(o, "76x130"))[0]


def test_chinese_font_embedded_and_text_extractable(order, tmp_path: Path) -> None:
    pdf = render_label(order)
    fonts = pdf_fonts(pdf, tmp_path)
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(" yes " in row for row in rows), fonts  # every font embedded (emb = yes)
    text = pdf_text(pdf, tmp_path)
    assert "凉山彝族自治州" in text.replace(" ", "").replace("\n", "")
    assert "130****" in text or "****" in text
    assert "VIP" in text and "赠品" in text


@pytest.mark.parametrize("channel", ["generic", "douyin", "import"])
def test_chinese_label_has_no_english_leftovers(channel: str, tmp_path: Path) -> None:
    """Issue 11: the label printed "礼品 GIFT" and the channel code "generic"; a Chinese carrier
    label is Chinese: 赠品, the channel's Chinese name (通用接口 / 抖店 / 表格导入), 中通快递."""
    o = make_order(7, gift=True)
    o["channel"] = channel
    o["carrier"] = "ZTO"
    o["lines"][0]["is_gift"] = True
    text = pdf_text(render_label(o), tmp_path)
    flat = text.replace(" ", "").replace("\n", "")
    assert not re.search(r"GIFT(?![-\w])", text)  # the flag word (SKU codes such as GIFT-CARD are codes)
    assert channel not in text.lower()
    assert "赠品" in flat and "中通快递" in flat
    assert {"generic": "通用接口", "douyin": "抖店", "import": "表格导入"}[channel] in flat


def test_label_shows_masked_phone_not_full(tmp_path: Path) -> None:
    o = make_order(3, phone="13812345678")
    text = pdf_text(render_label(o), tmp_path)
    assert "138****5678" in text and "13812345678" not in text


def test_mask_phone() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+86 138 1234 1234") == "138****1234"
    assert mask_phone("010-12345678") == "010-****5678"
    assert mask_phone("13812341234-5678") == "138****1234-5678"
    assert mask_phone("138****1234") == "138****1234"
    assert mask_phone("0991-12345678-123") == "0991-****5678-123"  # extension kept, not masked into
    assert mask_phone("0571-8765432") == "0571-***5432"
    assert mask_phone("") == ""


def test_long_address_wraps_within_width() -> None:
    address = "新疆维吾尔自治区伊犁哈萨克自治州霍城县清水河镇" * 6
    for width in (150.0, 200.0):
        fitted = fit_box(address, width, 80, 17, 8)
        assert all(text_width(line, fitted.size) <= width + 0.01 for line in fitted.lines)
        assert fitted.height <= 80 + 0.01 or fitted.lines[-1].endswith("…")
    f = fit(address, 150, 2, 12, 8)
    assert len(f.lines) == 2 and f.lines[-1].endswith("…")


def test_no_line_starts_with_chinese_comma() -> None:
    lines = wrap(
        "四川省凉山彝族自治州木里藏族自治县水洛乡平翁村三组27号旁边小卖部，到了打电话，没人接", 12, 150
    )
    assert not any(line.startswith(("，", "。")) for line in lines[1:])


def test_wrap_keeps_numbers_with_counters_and_short_words_whole() -> None:
    for width in range(40, 90, 3):
        lines = wrap("清水河镇江苏大道888号伊犁国际物流园区三组27号", 9.5, width)
        assert not any(line.startswith("号") for line in lines), lines  # "888号", "27号" stay whole
        assert all(text_width(line, 9.5) <= width + 0.01 for line in lines)
    assert wrap("USB-C 快充数据线 2米 编织", 9.5, 100) == ["USB-C 快充数据线 2米", "编织"]
    assert wrap("MASK-KN95×4 BOOK-9787×1", 9.5, 80) == ["MASK-KN95×4", "BOOK-9787×1"]


def test_item_summary_keeps_each_item_whole_and_the_gift_when_cut() -> None:
    o = make_order(5, n_lines=20, gift=True)
    o["lines"][0]["sku"] = "VERYLONGSKU-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789"
    s = item_summary(o["lines"], 9, 200, 3)
    assert len(wrap(s, 9, 200)) <= 3 and s.endswith("件") and "(赠)" in s
    for line in s.split("\n")[1:]:
        assert all("×" in part or part.startswith("等") for part in line.split(" ")), line


def test_many_flags_never_hide_the_carrier(tmp_path: Path) -> None:
    o = make_order(5, vip=True, gift=True, cancel_requested=True, label_count=2, carrier=0)
    o["carrier"] = "DEPPON"
    for size in LABEL_SIZES:
        text = pdf_text(render_label(o, size), tmp_path)
        assert "德邦快递" in text and "补打2" in text and "拦截" in text, size


def test_a_merged_parcels_label_says_how_many_orders_it_carries(tmp_path: Path) -> None:
    o = make_order(6, vip=True, gift=True, label_count=1, carrier=1)
    o["merged_orders"] = [o["order_id"], "BL20261206-000101", "BL20261206-000102"]
    for size in LABEL_SIZES:
        text = pdf_text(render_label(o, size), tmp_path)
        assert "合单3" in text and "中通快递" in text, size
    o["merged_orders"] = [o["order_id"]]  # a parcel of one (the others left): no merge flag
    assert "合单" not in pdf_text(render_label(o, "100x150"), tmp_path)


def test_item_summary_truncates_with_total() -> None:
    o = make_order(5, n_lines=20)
    total = sum(ln["qty"] for ln in o["lines"])
    s = item_summary(o["lines"], 9, 200, 2)
    assert s.endswith(f"等{total}件")
    assert len(wrap(s, 9, 200)) <= 2
    short = item_summary(o["lines"][:2], 9, 400, 2)
    assert "等" not in short and "×" in short


def test_render_labels_one_page_per_order_in_order_with_progress(decode) -> None:
    orders = [make_order(i, n_lines=2) for i in range(1, 6)]
    seen: list[tuple[int, int]] = []
    pdf = render_labels(orders, "100x150", progress=lambda d, t: seen.append((d, t)))
    pages = decode(pdf, 150)
    assert [o["order_id"] in p for o, p in zip(orders, pages, strict=True)] == [True] * 5
    assert seen[-1] == (5, 5) and len(seen) == 5


def test_walking_order_sorts_by_first_bin_naturally() -> None:
    a = make_order(1)
    b = make_order(2)
    c = make_order(3)
    a["lines"][0]["bin"] = "A-10-1"
    b["lines"][0]["bin"] = "A-2-3"
    c["lines"][0]["bin"] = ""
    assert [o["order_id"] for o in walking_order([a, c, b])] == [b["order_id"], a["order_id"], c["order_id"]]


def test_unknown_size_is_refused(order) -> None:
    with pytest.raises(ValueError, match="100x150"):
        render_label(order, "A4")


def test_missing_waybill_still_renders_and_warns(tmp_path: Path) -> None:
    o = make_order(9, waybill_no=None)
    assert "无运单号" in pdf_text(render_label(o), tmp_path)


def test_labels_are_small_vector_pdfs(order) -> None:
    pdf = render_labels([make_order(i) for i in range(50)])
    assert len(pdf) < 600_000  # vector barcodes + one font subset, no images
