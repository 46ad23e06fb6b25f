"""Product barcodes: what a valid one is, how a catalogue cell lists them, how a scan matches one.

Goods carry GS1 barcodes: EAN-13 (Chinese goods start with 69…), UPC-A (12 digits), EAN-8, and on
outer cases a GTIN-14 / ITF-14. A SKU has any number of them, each with the units one scan counts
(the unit barcode is 1; a case barcode of 6 counts 6). That is ``OrderLine.barcodes`` and the
snapshot line's ``"barcodes"``: ``{barcode: units per scan}``.

The check digit is verified here, once, for every source (catalogue CSV, connectors, import), so a
mistyped digit in a sheet is caught when the sheet is read and not at the bench with a parcel in
hand. A scanner set to report UPC-A as EAN-13 adds a leading 0: :func:`scan_forms` lets either form
match.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The GS1 code lengths whose last digit is a check digit (EAN-8, UPC-A, EAN-13, GTIN-14).
GS1_LENGTHS = frozenset({8, 12, 13, 14})
#: The most units one case barcode may stand for (a typo like "*600" is refused, not counted).
MAX_UNITS_PER_SCAN = 999


class BarcodeError(ValueError):
    """A barcode or a barcode list that cannot be right; ``str()`` says why in plain words."""


def gs1_check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (the code without its last digit): weights 3,1,3,… from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_barcode(code: str) -> str:
    """Return ``code`` cleaned (spaces removed) if it is a valid product barcode, else raise.

    Raises:
        BarcodeError: not digits, a length no GS1 barcode has, or a wrong check digit.
    """
    code = code.strip().replace(" ", "")
    if not code.isdigit() or not code.isascii():
        raise BarcodeError(f"barcode {code!r} must be digits only")
    if len(code) not in GS1_LENGTHS:
        raise BarcodeError(f"barcode {code} has {len(code)} digits; EAN-13, UPC-A, EAN-8 and GTIN-14 have 13, 12, "
                           "8 and 14")
    if gs1_check_digit(code[:-1]) != int(code[-1]):
        raise BarcodeError(f"barcode {code} has a wrong check digit (expected {gs1_check_digit(code[:-1])}): "
                           "a digit is mistyped")
    return code


def parse_barcodes(text: str) -> dict[str, int]:
    """Read a catalogue cell: ``6901234567892;16901234567899*6`` → ``{code: units per scan}``.

    Entries are separated by ``;`` (a Chinese ``；`` or ``,`` too, as sheets get typed); ``*N`` gives the
    units one scan of that code counts (default 1). An empty cell is no barcodes.

    Raises:
        BarcodeError: a bad code, a bad quantity, or the same code twice in the cell.
    """
    out: dict[str, int] = {}
    for entry in text.replace("；", ";").replace(",", ";").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        code, star, qty_text = entry.partition("*")
        qty = 1
        if star:
            qty_text = qty_text.strip()
            if not qty_text.isdigit() or not 1 <= int(qty_text) <= MAX_UNITS_PER_SCAN:
                raise BarcodeError(f"quantity {qty_text!r} after {code.strip()}* must be a whole number "
                                   f"1-{MAX_UNITS_PER_SCAN}")
            qty = int(qty_text)
        code = check_barcode(code)
        if code in out:
            raise BarcodeError(f"barcode {code} is listed twice")
        out[code] = qty
    return out


def format_barcodes(barcodes: Mapping[str, int]) -> str:
    """The catalogue-cell form of a barcode dict (the inverse of :func:`parse_barcodes`)."""
    return ";".join(code if qty == 1 else f"{code}*{qty}" for code, qty in barcodes.items())


def clean_barcodes(value: Any) -> dict[str, int]:
    """A snapshot line's ``"barcodes"`` as a dict, whatever an old or odd row holds (absent, None, bad).

    Old snapshots have no key; entries with a non-positive or non-integer quantity are dropped
    rather than trusted (a case that counts 0 or -6 units would corrupt the count).
    """
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, int] = {}
    for code, qty in value.items():
        if isinstance(code, str) and code and isinstance(qty, int) and not isinstance(qty, bool) and qty > 0:
            out[code] = qty
    return out


def merge_barcodes(line: Mapping[str, int], catalogue: Mapping[str, int]) -> dict[str, int]:
    """The line's barcodes with the catalogue's added; the line's own quantity wins for a code in both."""
    return {**catalogue, **line}


def barcodes_in(*codes: str) -> dict[str, int]:
    """The channel's merchant codes that are product barcodes (each one unit per scan).

    Shops have no barcode field on an order line, but sellers often fill a merchant code
    (抖店 商家编码, 拼多多 outer_id, 微信小店 sku_code, 小红书 erpcode) with the goods' own EAN-13.
    A code counts only when it is one: digits of a GS1 length with the right check digit.
    """
    out: dict[str, int] = {}
    for code in codes:
        try:
            out.setdefault(check_barcode(code), 1)
        except BarcodeError:
            continue
    return out


def scan_forms(code: str) -> set[str]:
    """The forms a scanner may report a barcode in: UPC-A ``0…`` as 13 digits and back."""
    forms = {code}
    if code.isdigit():
        if len(code) == 12:
            forms.add("0" + code)
        elif len(code) == 13 and code.startswith("0"):
            forms.add(code[1:])
    return forms
