"""Translations: gettext ``_()`` for core/, printing/ and ui/ alike.

Message IDs are English; ``resources/locale/<lang>/LC_MESSAGES/*.po`` hold the catalogues
(zh_CN first, en): ``packdesk.po`` plus one ``packdesk-<area>.po`` per part of the app, merged
into one catalogue when compiled. They are compiled to ``.mo`` at first use into the user cache folder (never into
git), and recompiled when a ``.po`` is newer. The language is chosen once at start-up
(:func:`set_language`); switching takes effect on restart.
"""

from __future__ import annotations

import gettext
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("packdesk.i18n")

LOCALE_DIR = Path(__file__).resolve().parents[1] / "resources" / "locale"
DOMAIN = "packdesk"
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def compiled_dir() -> Path:
    home = os.environ.get("PACKDESK_HOME")
    if home:
        return Path(home) / "locale"
    import platformdirs

    return Path(platformdirs.user_cache_dir("PackDesk", "PackDesk")) / "locale"


def po_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))


def read_catalogue(lang: str) -> Any:
    """All of ``lang``'s .po files merged into one babel Catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    merged = Catalog(locale=lang, domain=DOMAIN)
    for po in po_files(lang):
        with po.open("rb") as f:
            for message in read_po(f, locale=lang):
                if message.id:
                    merged[message.id] = message
    return merged


def compile_catalogue(lang: str, out_root: Path | None = None) -> Path:
    """Compile ``<lang>``'s .po files to one .mo (if stale) and return the .mo path."""
    from babel.messages.mofile import write_mo

    out = (out_root or compiled_dir()) / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    newest = max((p.stat().st_mtime for p in po_files(lang)), default=0.0)
    if out.exists() and out.stat().st_mtime >= newest:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    catalog = read_catalogue(lang)
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as f:
        write_mo(f, catalog)
    tmp.replace(out)
    return out


def set_language(lang: str) -> str:
    """Switch the process to ``lang`` (falls back to English with a logged warning); returns it."""
    global _translation, _language
    if lang not in LANGUAGES:
        log.warning("unknown language %r; using English", lang)
        lang = "en"
    try:
        mo = compile_catalogue(lang)
        with mo.open("rb") as f:
            _translation = gettext.GNUTranslations(f)
    except (OSError, ValueError) as exc:
        log.warning("cannot load the %s catalogue (%s); showing English", lang, exc)
        _translation = gettext.NullTranslations()
    _language = lang
    return lang


def language() -> str:
    return _language


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translate where it is shown)."""
    return message
