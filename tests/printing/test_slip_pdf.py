"""Packing slips: barcodes, gifts, notes, multi-page."""

from __future__ import annotations

from pathlib import Path

from conftest import pdf_fonts, pdf_text
from orders import make_order

from printing import render_slip


def test_slip_barcodes_and_content(order, decode, tmp_path: Path) -> None:
    pdf = render_slip(order)
    pages = decode(pdf, 150)
    assert pages[0] == sorted([order["order_id"], order["order_id"]])
    text = pdf_text(pdf, tmp_path).replace(" ", "")
    assert "赠品" in text and "感谢您的购买" in text and "周末不在家" in text
    assert " yes " in pdf_fonts(pdf, tmp_path)


def test_long_slip_spans_pages_with_numbers(tmp_path: Path) -> None:
    o = make_order(8, n_lines=60, gift=True)
    pages = [p for p in pdf_text(render_slip(o), tmp_path).split("\f") if p.strip()]
    assert len(pages) >= 2
    assert all(f"第 {i}/{len(pages)} 页" in p for i, p in enumerate(pages, 1))
