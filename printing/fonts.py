"""The CJK font every document embeds.

A label must not depend on the fonts of the printer or of the PC: reportlab's built-in CID font
``STSong-Light`` is *not embedded* (poppler without poppler-data silently drops Chinese lines) and
Noto Sans CJK ships CFF outlines reportlab cannot load. So we look for a TrueType CJK font, register
it once per process (registration parses the whole file: ~50 ms) and let reportlab embed a subset.

Search order: ``$PACKDESK_CJK_FONT`` (a path, optionally ``path#index`` for a .ttc), fonts shipped in
``resources/fonts/``, WenQuanYi Micro Hei (Debian/Ubuntu), Microsoft YaHei / SimHei (Windows benches),
Noto Sans CJK only when it is a TrueType build. With none found we fall back to Helvetica with a loud
warning: Latin text and barcodes still print, Chinese does not.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger("packdesk.printing")

#: The name documents draw with (registered once; see :func:`cjk_font`).
FONT_NAME = "PackDeskCJK"
FALLBACK_FONT = "Helvetica"

_RESOURCES = Path(__file__).resolve().parent.parent / "resources" / "fonts"
#: The font the Linux bundle ships (packaging/packdesk.spec copies the system's WenQuanYi Micro Hei here).
BUNDLED_FONT = _RESOURCES / "wqy-microhei.ttc"
_WINDIR = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"

#: (path, subfont index, human name), most preferred first.
CANDIDATES: list[tuple[Path, int, str]] = [
    (BUNDLED_FONT, 0, "WenQuanYi Micro Hei (bundled)"),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0, "WenQuanYi Micro Hei"),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0, "WenQuanYi Zen Hei"),
    (_WINDIR / "msyh.ttc", 0, "Microsoft YaHei"),
    (_WINDIR / "msyh.ttf", 0, "Microsoft YaHei"),
    (_WINDIR / "simhei.ttf", 0, "SimHei"),
    (Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"), 2, "Noto Sans CJK SC (TrueType)"),
    (Path("/System/Library/Fonts/STHeiti Medium.ttc"), 0, "STHeiti"),
]


@dataclass(frozen=True)
class FontChoice:
    """Which font documents use and where it came from (shown in settings and the docs)."""

    name: str  # the reportlab font name to draw with
    description: str  # human name, e.g. "WenQuanYi Micro Hei"
    path: Path | None  # None for the Latin-only fallback
    index: int = 0  # subfont index in a .ttc collection

    @property
    def has_cjk(self) -> bool:
        return self.path is not None


_lock = threading.Lock()
_choice: FontChoice | None = None


def _candidates() -> list[tuple[Path, int, str]]:
    env = os.environ.get("PACKDESK_CJK_FONT", "").strip()
    extra: list[tuple[Path, int, str]] = []
    if env:
        path, _, index = env.partition("#")
        extra.append((Path(path), int(index or 0), f"{Path(path).name} ($PACKDESK_CJK_FONT)"))
    return extra + CANDIDATES


def _try_register(path: Path, index: int) -> bool:
    try:
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=index))
    except Exception as exc:  # a CFF-flavoured or damaged font: try the next one
        log.info("font %s#%d not usable: %s", path, index, exc)
        return False
    return True


def cjk_font() -> FontChoice:
    """Find and register the document font once per process; later calls are free."""
    global _choice
    if _choice is not None:
        return _choice
    with _lock:
        if _choice is None:
            for path, index, description in _candidates():
                if path.is_file() and _try_register(path, index):
                    _choice = FontChoice(FONT_NAME, description, path, index)
                    log.info("documents use the CJK font %s (%s)", description, path)
                    break
            else:
                message = (
                    "No TrueType Chinese font found (looked for WenQuanYi Micro Hei, Microsoft YaHei, "
                    "SimHei); documents fall back to Helvetica and Chinese text will NOT print. "
                    "Install fonts-wqy-microhei or set PACKDESK_CJK_FONT to a .ttf/.ttc file."
                )
                log.warning(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)
                _choice = FontChoice(FALLBACK_FONT, "Helvetica (no Chinese glyphs)", None)
    return _choice


def font_name() -> str:
    """The reportlab font name to draw with."""
    return cjk_font().name


def active_font_name() -> str:
    """Which font documents use, for people: e.g. ``WenQuanYi Micro Hei (/usr/share/…/wqy-microhei.ttc)``."""
    choice = cjk_font()
    return f"{choice.description} ({choice.path})" if choice.path else choice.description
