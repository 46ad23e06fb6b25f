"""The handover manifest (交接单): every waybill and the batch ID read back, pages numbered, signatures last."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import pdf_fonts, pdf_text

from printing.manifest import Manifest, ManifestParcel, render_manifest

OPENED = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
CLOSED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def manifest(n: int) -> Manifest:
    return Manifest("HO-B1PC-20261125140000", "ZTO", "B1", "B1-PC", "P001 王小明", OPENED, CLOSED,
                    [ManifestParcel(f"7731{i:010d}", f"BL20261125-{i:06d}") for i in range(1, n + 1)])


def test_every_waybill_and_the_batch_barcode_read_back(decode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = render_manifest(manifest(45))
    pages = decode(pdf)
    assert len(pages) == 3  # 20 rows of two a page; the signatures fit after the last row
    codes = sorted(c for page in pages for c in page)
    assert codes == sorted(["HO-B1PC-20261125140000", *(f"7731{i:010d}" for i in range(1, 46))])
    assert "HO-B1PC-20261125140000" in pages[0]  # the batch barcode on the first page
    text = pdf_text(pdf, tmp_path)
    assert "交接单 · 中通快递" in text and "共 45 件" in text and "第 3/3 页" in text
    assert "2026-11-25 13:30" in text and "2026-11-25 14:00" in text  # site-local (Asia/Shanghai) times
    assert "BL20261125-000045" in text
    last = text.split("\f")[2]
    assert "快递员签字" in last and "交接人" in last and "日期" in last
    assert "快递员签字" not in text.split("\f")[0]
    fonts = [line for line in pdf_fonts(pdf, tmp_path).splitlines()[2:] if line.strip()]
    assert fonts and all(" yes " in row for row in fonts), fonts  # the CJK font embedded, as on labels


def test_a_full_last_page_puts_the_signatures_on_their_own_page(tmp_path: Path) -> None:
    pdf = render_manifest(manifest(40))  # exactly two full pages of rows
    pages = pdf_text(pdf, tmp_path).split("\f")
    signed = [i for i, p in enumerate(pages) if "快递员签字" in p]
    assert len(signed) == 1 and "7731" not in pages[signed[0]].replace("HO-B1PC", "")


def test_an_empty_manifest_is_refused() -> None:
    with pytest.raises(ValueError):
        render_manifest(manifest(0))
