"""A stock sheet's fields and header names, and how its row problems are said to the operator.

One home for both sides (STYLE.md §17), like ``core/import_sheet.py`` for order sheets: the hub's
stock import (``hub/stock_import.py``) reads a sheet's columns by these names and answers each
refused row with a stable ``code`` + ``details``; the desk (``ui/stock_import.py``) words them with
:func:`stock_row_text` (the operator's language only; the hub's ``reason`` is English, for logs).
"""

from __future__ import annotations

from typing import Any

from core.i18n import N_, _
from core.import_sheet import row_error_text

#: A stock sheet's fields, in the order the desk lists them, with their English msgid label.
STOCK_FIELDS: dict[str, str] = {
    "sku": N_("SKU code"),
    "warehouse": N_("Warehouse"),
    "on_hand": N_("On hand (count)"),
    "note": N_("Note"),
}
STOCK_REQUIRED = ("sku", "warehouse", "on_hand")

#: Header names per field, compared normalised (``hub.intake.sheet_presets.norm_header``: lower case,
#: no spaces, ``_``, ``*``, ``:`` or a bracketed unit). The first ones are what our sheets use.
STOCK_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ("商品编码", "sku", "sku编码", "商品sku", "商家编码", "货号", "skucode"),
    "warehouse": ("仓库", "仓库编码", "仓库代码", "warehouse", "wh"),
    "on_hand": ("库存", "在库数量", "库存数量", "在库库存", "实际库存", "现有库存", "库存数", "onhand", "stock",
                "qty"),
    "note": ("备注", "说明", "note", "notes", "remark"),
}

#: The stock sheet template the desk saves ("下载模板" in the stock import): our headers, one example row.
STOCK_TEMPLATE: tuple[tuple[str, str], ...] = (
    ("商品编码", "SKU-TEA-001"),
    ("仓库", "WH-SH"),
    ("库存", "120"),
    ("备注", "A-03 货架盘点"),
)


def write_stock_template(path: str) -> None:
    """Save the stock sheet template as XLSX (or CSV for a ``.csv`` name). Disk work: a worker thread.

    Raises:
        UserError: the file cannot be written.
    """
    from core.import_sheet import write_template

    write_template(path, STOCK_TEMPLATE, "库存")


#: Longest note a row may carry (``stock_moves.note`` holds the file name and the note, 200 wide).
MAX_NOTE = 100

# Row problems: code -> sentence. {column} is the field's name, {value} what the cell held.
STOCK_ROW_TEXT: dict[str, str] = {
    "empty": N_("{column} is empty."),
    "too_long": N_("{column} is longer than 64 characters."),
    "note_too_long": N_("{column} is longer than 100 characters."),
    "unknown_warehouse": N_("{column} “{value}” is not a warehouse of this site (see the routing rules)."),
    "bad_count": N_("{column} “{value}” is not a whole number of units."),
    "negative": N_("{column} “{value}” is below zero; a count is 0 or more."),
    "duplicate": N_("This SKU and warehouse are already on row {first}: keep one row per SKU and warehouse."),
}


def stock_field_label(key: str) -> str:
    """A stock sheet field's name in the operator's language (the key itself for one we do not know)."""
    return _(STOCK_FIELDS[key]) if key in STOCK_FIELDS else key


def stock_row_text(error: dict[str, Any]) -> str:
    """One refused stock row's reason (``{"row", "reason", "code", "details"}`` from the hub), in the operator's words."""
    return row_error_text(error, texts=STOCK_ROW_TEXT, label=stock_field_label)


def stock_refusal_text(filename: str, details: Any, *, code: str = "") -> str:
    """Why the hub refused a whole stock sheet (``details`` of its 4xx answer), in the operator's words."""
    from core.import_sheet import refusal_text

    info = details if isinstance(details, dict) else {}
    if info.get("problem") == "missing_columns":
        raw = info.get("missing")
        missing = raw if isinstance(raw, list) else []
        return _("{file}: the sheet has no column for {fields} (header row {row}). A stock sheet needs the "
                 "columns 商品编码, 仓库 and 库存.").format(
                     file=filename, fields=_(", ").join(stock_field_label(str(k)) for k in missing),
                     row=info.get("row", 1))
    if code == "forbidden":
        return _("Only desk staff and above import stock sheets.")
    if info.get("problem") == "no_rows":
        return _("{file} has a header but no stock rows below it.").format(file=filename)
    return refusal_text(filename, details, code=code)
