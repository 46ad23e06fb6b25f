"""Site-adjustable document templates (``resources/templates/*.toml``).

A site changes margins, the sender block, a logo, the customer note and which fields show without
touching code: it copies a template file to its own folder (``$PACKDESK_TEMPLATES`` or an explicit
path) and edits it. A site file only needs the keys it changes; the rest comes from the bundled file.
Unknown field names are an error that names the file — a typo must not silently hide the address.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Self

from core.errors import UserError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "resources" / "templates"

#: Every field a document knows; ``fields.show`` in a template picks from these.
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "label": frozenset(
        {
            "carrier",
            "waybill_barcode",
            "recipient",
            "sender",
            "items",
            "flags",
            "order_barcode",
            "qr",
            "buyer_note",
            "channel",
            "print_time",
            "logo",
        }
    ),
    "picklist": frozenset({"batch_barcode", "order_barcodes", "names", "slots", "print_time", "logo"}),
    "slip": frozenset(
        {
            "order_barcode",
            "qr",
            "recipient",
            "sender",
            "prices",
            "gifts",
            "note",
            "buyer_note",
            "channel",
            "print_time",
            "logo",
        }
    ),
}


class TemplateError(UserError):
    """A template file that cannot be used; the message names the file and the key."""

    code = "template_error"


@dataclass(frozen=True)
class Sender:
    """The sender block printed on labels and slips."""

    name: str = ""
    phone: str = ""
    address: str = ""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise TemplateError(f"Cannot read the template {path}: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"The template {path} is not valid TOML: {exc}.") from exc


@dataclass(frozen=True)
class DocTemplate:
    """What a site may adjust on one document type.

    Attributes:
        margins_mm: top, right, bottom, left.
        paper: page size for pick lists and slips ("A4", "A5", "100x150"); labels take their size
            from the call, since one station prints several label sizes.
        fields: which optional parts show (see :data:`KNOWN_FIELDS`).
        note: the note to the customer (slips) or a footer line.
    """

    DOC_TYPE: ClassVar[str] = ""

    margins_mm: tuple[float, float, float, float] = (3.0, 3.0, 3.0, 3.0)
    sender: Sender = field(default_factory=Sender)
    logo: Path | None = None
    fields: frozenset[str] = frozenset()
    paper: str = "A4"
    title: str = ""
    note: str = ""
    source: str = "built-in"

    def shows(self, name: str) -> bool:
        """Whether the optional part ``name`` is printed."""
        return name in self.fields

    def with_fields(self, *show: str, hide: tuple[str, ...] = ()) -> Self:
        """A copy with extra fields shown and/or some hidden (handy for tests and previews)."""
        return replace(self, fields=(self.fields | set(show)) - set(hide))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Self:
        """The bundled template overlaid with a site file.

        Args:
            path: a site template file; default ``$PACKDESK_TEMPLATES/<doc_type>.toml`` if it exists.
        """
        if path is None:
            site_dir = os.environ.get("PACKDESK_TEMPLATES")
            if site_dir and (Path(site_dir) / f"{cls.DOC_TYPE}.toml").is_file():
                path = Path(site_dir) / f"{cls.DOC_TYPE}.toml"
        return cls._load(str(path) if path else "")

    @classmethod
    @lru_cache(maxsize=16)
    def _load(cls, path: str) -> Self:
        bundled = BUNDLED_DIR / f"{cls.DOC_TYPE}.toml"
        data = _read(bundled)
        where = bundled
        if path:
            where = Path(path)
            data = _merge(data, _read(where))
        return cls._from_dict(data, where)

    @classmethod
    def _from_dict(cls, data: dict[str, Any], where: Path) -> Self:
        page = data.get("page", {})
        margins = page.get("margins_mm", [3, 3, 3, 3])
        if not (
            isinstance(margins, list)
            and len(margins) == 4
            and all(isinstance(m, int | float) for m in margins)
        ):
            raise TemplateError(f"{where}: page.margins_mm must be four numbers (top, right, bottom, left).")
        if any(m < 0 or m > 40 for m in margins):
            raise TemplateError(f"{where}: page.margins_mm must be between 0 and 40 mm.")
        shown = data.get("fields", {}).get("show", [])
        unknown = sorted(set(shown) - KNOWN_FIELDS[cls.DOC_TYPE])
        if unknown:
            raise TemplateError(
                f"{where}: unknown field(s) {', '.join(unknown)} in fields.show; "
                f"known: {', '.join(sorted(KNOWN_FIELDS[cls.DOC_TYPE]))}."
            )
        logo_text = str(data.get("logo", {}).get("path", "") or "")
        logo: Path | None = None
        if logo_text:
            logo = Path(logo_text)
            if not logo.is_absolute():
                logo = where.parent / logo
            if not logo.is_file():
                raise TemplateError(f"{where}: logo file {logo} does not exist.")
        s = data.get("sender", {})
        text = data.get("text", {})
        return cls(
            margins_mm=(float(margins[0]), float(margins[1]), float(margins[2]), float(margins[3])),
            sender=Sender(str(s.get("name", "")), str(s.get("phone", "")), str(s.get("address", ""))),
            logo=logo,
            fields=frozenset(shown),
            paper=str(page.get("paper", "A4")),
            title=str(text.get("title", "")),
            note=str(text.get("note", "")),
            source=str(where),
        )


class LabelTemplate(DocTemplate):
    """Shipping label template (``label.toml``)."""

    DOC_TYPE = "label"


class PickListTemplate(DocTemplate):
    """Pick list template (``picklist.toml``)."""

    DOC_TYPE = "picklist"


class SlipTemplate(DocTemplate):
    """Packing slip template (``slip.toml``)."""

    DOC_TYPE = "slip"
