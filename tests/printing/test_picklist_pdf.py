"""Pick lists: batch and order barcodes decode, rows sorted by bin, page numbers, rows never split."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pdf_text
from orders import make_batch, make_order

from printing import render_picklist
from printing.common import bin_key
from printing.picklist import _groups


def test_batch_picklist_every_barcode_reads_back(batch, decode) -> None:
    pdf = render_picklist(batch, "WV20260222-0007")
    pages = decode(pdf, 150)
    assert "WV20260222-0007" in pages[0]
    found = [code for page in pages for code in page]
    assert sorted(c for c in found if c.startswith("BL")) == sorted(o["order_id"] for o in batch)


def test_page_numbers_and_header_on_every_page(tmp_path: Path) -> None:
    big = make_batch(60, 8)
    text = pdf_text(render_picklist(big, "WV1"), tmp_path)
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 2
    for i, page in enumerate(pages, 1):
        assert f"第 {i}/{len(pages)} 页" in page
        assert "WV1" in page


def test_groups_sorted_by_bin_with_totals() -> None:
    orders = make_batch(10, 4)
    groups = _groups(orders)
    assert [bin_key(g.bin) for g in groups] == sorted(bin_key(g.bin) for g in groups)
    assert sum(g.total for g in groups) == sum(ln["qty"] for o in orders for ln in o["lines"])
    for g in groups:
        assert sum(q for _, _, q in g.shares) == g.total


def test_single_order_picklist_uses_order_barcode(decode) -> None:
    o = make_order(4, n_lines=6, gift=True)
    assert decode(render_picklist([o]), 150)[0] == [o["order_id"]]


def test_batch_needs_an_id() -> None:
    with pytest.raises(ValueError, match="batch_id"):
        render_picklist(make_batch(3))


def test_thousand_line_batch_renders(tmp_path: Path) -> None:
    orders = make_batch(200, 5)
    pdf = render_picklist(orders, "WV-BIG")
    text = pdf_text(pdf, tmp_path)
    assert text.count("第 ") >= 3 and "WV-BIG" in text


def test_page_breaks_never_split_a_block_and_continue_the_orders_section(tmp_path: Path) -> None:
    from printing.picklist import _PickList
    from printing.templates import PickListTemplate

    big = make_batch(80, 6)
    pl = _PickList(big, "WV2", PickListTemplate.load(), None)
    blocks = pl.blocks()
    pages = pl.paginate(blocks)
    assert [b for page in pages for b in page] == blocks  # every block once, in order
    for n, page in enumerate(pages, 1):
        room = pl.body_top(n, page[0]) - pl.floor
        assert sum(b.height for b in page) <= room + 0.01, n  # whole blocks only
    text = pdf_text(render_picklist(big, "WV2"), tmp_path)
    order_pages = [p for p in text.split("\f") if "BL2026" in p and "库位" not in p]
    assert order_pages and all("订单条码 Orders" in p for p in order_pages)


def test_one_sku_in_two_bins_is_two_stops() -> None:
    a, b = make_order(1, n_lines=1), make_order(2, n_lines=1)
    b["lines"] = [dict(a["lines"][0], bin="D-30-6", qty=2)]  # type: ignore[list-item]
    groups = _groups([a, b])
    assert [(g.sku, g.bin, g.total) for g in groups] == [
        (a["lines"][0]["sku"], a["lines"][0]["bin"], a["lines"][0]["qty"]),
        (a["lines"][0]["sku"], "D-30-6", 2),
    ]


def test_pick_list_flags_a_gift_with_the_labels_word(tmp_path: Path) -> None:
    """Issue 13: the pick list said 礼品 where the label says 赠品 — one word for one thing. The flag
    is a word of its own (row names carry "（赠品）" / "(赠品)" inside a longer word)."""
    import re
    import subprocess

    from printing import render_label

    def flag_words(pdf: bytes) -> list[str]:
        src = tmp_path / "f.pdf"
        src.write_bytes(pdf)
        html = subprocess.run(["pdftotext", "-bbox", str(src), "-"], capture_output=True, text=True, check=True).stdout
        return re.findall(r"<word [^>]*>([^<]*)</word>", html)

    batch = [make_order(1, n_lines=2, gift=True), make_order(2, n_lines=2)]
    pick = flag_words(render_picklist(batch, "WV-GIFT"))
    label = flag_words(render_label(batch[0]))
    assert pick.count("赠品") == 1 and "赠品" in label  # one gift order, one flag; the label's word
    assert not any("礼品" in w for w in pick + label)
