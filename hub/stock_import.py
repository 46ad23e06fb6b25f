"""Reading a stock sheet (CSV/XLSX: SKU, warehouse, on hand, optional note) into checked rows.

The file is read by the order import's reader (``hub.intake.importer.read_sheet``: encodings,
XLSX zip-bomb checks, the size and row limits); this module only says which column is which
(``core.stock_sheet.STOCK_HEADERS``) and checks each row. Every bad row is reported with its Excel
row number and a stable ``code`` (``empty``, ``too_long``, ``note_too_long``, ``unknown_warehouse``,
``bad_count``, ``negative``, ``duplicate``); a sheet with any bad row is applied not at all (a
stock sheet is one count: half of it applied is a count nobody made). Applying is
``hub.stock.import_counts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ValidationFailed
from core.stock_sheet import MAX_NOTE, STOCK_FIELDS, STOCK_HEADERS, STOCK_REQUIRED
from hub.intake.importer import (
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    ROW_NUMBER_LIMIT,
    ImportTooLarge,
    RowError,
    _cell_text,
    read_sheet,
)
from hub.intake.sheet_presets import norm_header

MAX_COUNT = 2_000_000_000
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.0+)?$")


@dataclass(frozen=True)
class StockRow:
    """One good row: the Excel row number, SKU, warehouse (the rules' spelling), count and note."""

    row: int
    sku: str
    warehouse: str
    on_hand: int
    note: str


class StockSheet:
    """A stock sheet being read (a :class:`hub.intake.importer.SheetSink`): good ``rows``, ``errors``,
    the header columns no field takes (``ignored``)."""

    def __init__(self, filename: str, warehouses: list[str], max_rows: int = MAX_ROWS,
                 columns: dict[str, str] | None = None) -> None:
        self.filename = filename
        self.max_rows = max_rows
        self.header_row = 0
        self.count = 0  #: non-empty rows below the header
        self.rows: list[StockRow] = []
        self.errors: list[RowError] = []
        self.ignored: list[str] = []
        self._columns = columns
        self._warehouses = {w.casefold(): w for w in warehouses}
        self._plan: dict[str, int] = {}
        self._first: dict[tuple[str, str], int] = {}

    def _add(self, n: int, raw: list[Any] | tuple[Any, ...]) -> None:
        if n > ROW_NUMBER_LIMIT:
            self._too_many(n)
        if not any(_cell_text(c) for c in raw):
            return
        if not self.header_row:
            self._header(n, raw)
            return
        self.count += 1
        if self.count > self.max_rows:
            self._too_many(n)
        cells = {key: raw[i] if i < len(raw) else None for key, i in self._plan.items()}
        try:
            self.rows.append(self._row(n, cells))
        except _Bad as bad:
            self.errors.append(RowError(n, str(bad), bad.code, bad.details))

    def _too_many(self, n: int) -> None:
        raise ImportTooLarge(
            f"'{self.filename}' has more than {self.max_rows} rows below the header (row {n} is past the limit); "
            f"split it into files of at most {self.max_rows} rows.",
            details={"file": self.filename, "reason": "rows", "limit": self.max_rows, "row": n})

    def _header(self, n: int, header: list[Any] | tuple[Any, ...]) -> None:
        texts = [_cell_text(c) for c in header]
        if self._columns is not None:
            names = {norm_header(h): key for h, key in self._columns.items() if key in STOCK_FIELDS}
        else:
            names = {norm_header(alias): key for key, aliases in STOCK_HEADERS.items() for alias in aliases}
        plan: dict[str, int] = {}
        for i, text in enumerate(texts):
            key = names.get(norm_header(text))
            if key is not None and key not in plan:
                plan[key] = i
            elif norm_header(text):
                self.ignored.append(text)
        missing = [k for k in STOCK_REQUIRED if k not in plan]
        if missing:
            raise ValidationFailed(
                f"'{self.filename}' row {n}: no column for {', '.join(missing)}; a stock sheet needs "
                f"商品编码 (SKU), 仓库 (warehouse) and 库存 (on hand).",
                details={"file": self.filename, "problem": "missing_columns", "row": n, "missing": missing,
                         "headers": [t for t in texts if t],
                         "suggested": {texts[i]: key for key, i in plan.items()}})
        self.header_row = n
        self._plan = plan

    def _row(self, n: int, cells: dict[str, Any]) -> StockRow:
        sku = _cell_text(cells["sku"])
        if not sku:
            raise _Bad("empty", "sku", "", "is empty")
        if len(sku) > 64:
            raise _Bad("too_long", "sku", sku, "is longer than 64 characters")
        wh_text = _cell_text(cells["warehouse"])
        if not wh_text:
            raise _Bad("empty", "warehouse", "", "is empty")
        warehouse = self._warehouses.get(wh_text.casefold())
        if warehouse is None:
            raise _Bad("unknown_warehouse", "warehouse", wh_text,
                       f"is not one of the site's warehouses ({', '.join(self._warehouses.values())})")
        on_hand = _count(cells["on_hand"])
        note = _cell_text(cells.get("note"))
        if len(note) > MAX_NOTE:
            raise _Bad("note_too_long", "note", note, f"is longer than {MAX_NOTE} characters")
        key = (sku, warehouse)
        first = self._first.setdefault(key, n)
        if first != n:
            raise _Bad("duplicate", "sku", sku, f"{sku} at {warehouse} is already on row {first}", first=first)
        return StockRow(n, sku, warehouse, on_hand, note)


class _Bad(Exception):
    def __init__(self, code: str, column: str, value: Any, message: str, **more: Any) -> None:
        super().__init__(f"{column} {message}" + (f" ({_cell_text(value)!r})" if _cell_text(value) else ""))
        self.code = code
        self.details: dict[str, Any] = {"column": column, "value": _cell_text(value)[:200], **more}


def _count(value: Any) -> int:
    """A cell as a whole count ≥ 0: 120, "120", "1,200", 120.0 (Excel's numbers), " 120 "."""
    if isinstance(value, bool):
        raise _Bad("bad_count", "on_hand", value, "is not a whole number")
    text = _cell_text(value).replace("，", ",")
    if not text:
        raise _Bad("empty", "on_hand", "", "is empty")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _Bad("bad_count", "on_hand", value, "is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise _Bad("bad_count", "on_hand", value, "is not a whole number")
    if number < 0:
        raise _Bad("negative", "on_hand", value, "is below zero")
    if number > MAX_COUNT:
        raise _Bad("bad_count", "on_hand", value, "is too large")
    return int(number)


def read_stock_sheet(filename: str, data: bytes, warehouses: list[str], *, max_rows: int = MAX_ROWS,
                     max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
                     columns: dict[str, str] | None = None) -> StockSheet:
    """Read and check a whole stock sheet before anything is written.

    Args:
        warehouses: the site's warehouse codes (the rules' ``[warehouses]``); matched ignoring case.
        columns: header -> field, instead of recognising the headers by name.

    Raises:
        ValidationFailed: not a readable sheet, or no column for SKU, warehouse or on hand
            (``details.problem``: as the order import's, ``missing_columns`` with ``missing``), or no
            rows below the header (``no_rows``).
        ImportTooLarge: over the import limits (rows, unpacked size).
    """
    sheet = StockSheet(filename, warehouses, max_rows, columns)
    read_sheet(filename, data, sheet, max_uncompressed_bytes)
    if not sheet.count:
        raise ValidationFailed(f"'{filename}' has a header but no rows below it.",
                               details={"file": filename, "problem": "no_rows"})
    sheet.errors.sort(key=lambda e: e.row)
    return sheet
