"""Every symbol the screens show is in the CJK font the set-up installs (issue 11: ⏳ was an empty box).

scripts/bootstrap.sh installs WenQuanYi Micro Hei and nothing else; a bench PC has no emoji font.
So every non-ASCII character in a string of ui/ (and the flags' glyphs in core/flags.py, which the
queue and the pack screen draw) must have a glyph in that font, or it renders as a box. The font's
own character map says so (reportlab reads the .ttc: no extra dependency). The same holds for the
catalogues' messages and translations: a screen shows the translation, not the source string.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from reportlab.pdfbase.ttfonts import TTFontFile

from core import i18n
from core.flags import STYLES

ROOT = Path(__file__).resolve().parents[2]
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@lru_cache(maxsize=1)
def font_chars() -> frozenset[int]:
    assert FONT.exists(), f"{FONT} missing: scripts/bootstrap.sh installs fonts-wqy-microhei"
    return frozenset(TTFontFile(str(FONT), subfontIndex=0).charToGlyph)


def shown_strings() -> list[tuple[str, str]]:
    """(where, text) of every string constant in ui/ and of each flag glyph."""
    out = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    out += [(f"core/flags.py STYLES[{flag.value}]", style.icon) for flag, style in STYLES.items()]
    return out


def catalogue_strings() -> list[tuple[str, str]]:
    """(where, text) of every message id and translation in the zh_CN and en catalogues."""
    out = []
    for lang in ("zh_CN", "en"):
        for po in i18n.po_files(lang):
            with po.open("rb") as f:
                out += [(f"{po.relative_to(ROOT)}:{m.lineno}", text) for m in read_po(f) if m.id
                        for text in (m.id, m.string) if isinstance(text, str)]
    return out


def boxes(strings: list[tuple[str, str]]) -> list[str]:
    have = font_chars()
    return sorted({f"{ch!r} U+{ord(ch):04X} at {where}" for where, text in strings for ch in text
                   if ord(ch) > 0x7F and ord(ch) not in have and ch not in "\u2028\u2029"})


def test_every_symbol_of_the_screens_is_in_the_installed_cjk_font() -> None:
    missing = boxes(shown_strings())
    assert not missing, "glyphs the installed font lacks (they render as boxes):\n" + "\n".join(missing)


def test_every_symbol_of_the_catalogues_is_in_the_installed_cjk_font() -> None:
    strings = catalogue_strings()
    assert any(where.startswith("resources/locale/zh_CN/") for where, _ in strings)
    missing = boxes(strings)
    assert not missing, "catalogue glyphs the installed font lacks (they render as boxes):\n" + "\n".join(missing)


@pytest.mark.parametrize("glyph", ["⏳", "⚠", "⚡", "🎁", "⟳"])
def test_the_check_knows_a_box_when_it_sees_one(glyph: str) -> None:
    """The symbols the issue saw as boxes are indeed not in the font (the check above can fail)."""
    assert ord(glyph) not in font_chars()
