"""Cells for the spreadsheets PackDesk writes (CSV/XLSX exports): text can never become a formula.

Imported text is the buyer's and the channel's: a recipient named ``=HYPERLINK("http://x","点我")``
or a note ``@SUM(1+1)*cmd|' /C calc'!A0`` is a formula once a desk PC opens the export in Excel or
WPS (CSV injection; OWASP "CSV Injection"). Every export must pass each cell through
:func:`neutralise_cell`. No export exists yet (issue 9); this is the one rule later ones import.

A text cell that starts (after any leading spaces) with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, or their full-width forms (``＝ ＋ － ＠``, which a Chinese IME types), gets a
leading apostrophe: spreadsheets show the text as it was and never evaluate it. Numbers stay
numbers (a refund of -5 is not an attack), so only ``str`` values are changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: What makes a spreadsheet read a cell as a formula (or as a DDE command).
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def neutralise_cell(value: Any) -> Any:
    """``value`` safe to write into a CSV/XLSX cell.

    Args:
        value: a cell value (text, number, date, None).

    Returns:
        Text that could start a formula, with an apostrophe in front; anything else unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip(" \u3000")
    if stripped and stripped[0] in FORMULA_STARTS:
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    """:func:`neutralise_cell` over a row."""
    return [neutralise_cell(v) for v in row]
