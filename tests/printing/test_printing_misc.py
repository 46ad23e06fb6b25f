"""Fonts, templates, barcode geometry, and the no-Qt rule for printing/."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printing import LabelTemplate, active_font_name
from printing.barcodes import DOT_203, QUIET_MODULES, code128_width, draw_code128, fit_module_dots
from printing.templates import TemplateError


def test_font_is_a_cjk_truetype() -> None:
    assert (
        "WenQuanYi" in active_font_name() or "YaHei" in active_font_name() or "SimHei" in active_font_name()
    )


def test_module_is_whole_dots_with_quiet_zone_and_text_clear_of_bars() -> None:
    c = Canvas(BytesIO())
    box = draw_code128(c, "BL20260222-008632", 0, 100 * mm, 15 * mm)
    assert box.module == pytest.approx(3 * DOT_203)
    assert box.bars_x - box.x >= QUIET_MODULES * box.module - DOT_203
    assert box.text_top < box.bars_bottom - 1 * mm  # a clear gap under the bars
    assert fit_module_dots("BL20260222-008632", code128_width("BL20260222-008632", 3)) == 3
    assert fit_module_dots("BL20260222-008632", 50 * mm) == 2


def test_site_template_overrides_and_validates(tmp_path: Path) -> None:
    site = tmp_path / "label.toml"
    site.write_text(
        '[sender]\nname = "测试仓"\n[page]\nmargins_mm = [5, 5, 5, 5]\n[fields]\nshow = ["waybill_barcode", "recipient"]\n'
    )
    tpl = LabelTemplate.load(site)
    assert tpl.sender.name == "测试仓" and tpl.sender.phone  # phone inherited from the bundled file
    assert tpl.margins_mm == (5, 5, 5, 5) and not tpl.shows("qr")
    bad = tmp_path / "bad.toml"
    bad.write_text('[fields]\nshow = ["recipent"]\n')
    with pytest.raises(TemplateError, match="recipent"):
        LabelTemplate.load(bad)


def test_template_hides_fields(decode) -> None:
    from orders import make_order

    from printing import render_label

    o = make_order(2)
    tpl = LabelTemplate.load().with_fields(hide=("qr", "order_barcode"))
    assert decode(render_label(o, template=tpl))[0] == [o["waybill_no"]]
