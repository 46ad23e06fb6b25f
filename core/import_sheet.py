"""An order sheet's fields, and how import problems are said to the operator.

One home for both sides (STYLE.md §17): the hub's importer (``hub/intake/importer.py``) reads a
sheet into these fields and answers with stable codes (``code`` + ``details`` per refused row, a
``problem`` in a refused file's details); the desk (``ui/import_dialog.py``) offers the same fields
in its column-mapping step and turns the codes into sentences in the operator's language — never
the hub's English, never both languages on one screen. The hub's own ``reason`` / ``message``
texts are for API users and logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import N_, _

#: Our fields, in the order the mapping step lists them, with their English msgid label.
FIELDS: dict[str, str] = {
    "order_no": N_("Order number"),
    "name": N_("Recipient"),
    "phone": N_("Phone"),
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "street": N_("Street / town"),
    "address": N_("Detailed address"),
    "full_address": N_("Full address (province city district street)"),
    "postcode": N_("Postcode"),
    "sku": N_("SKU code"),
    "item_name": N_("Item name"),
    "item_spec": N_("Item variant"),
    "barcode": N_("Product barcode"),
    "qty": N_("Quantity"),
    "unit_price": N_("Unit price (yuan)"),
    "line_total": N_("Line amount (yuan)"),
    "total": N_("Order amount (yuan)"),
    "is_gift": N_("Gift (yes/no)"),
    "status": N_("Order status"),
    "created_at": N_("Order time"),
    "ship_by": N_("Ship by"),
    "custom_packaging": N_("Custom packaging (yes/no)"),
    "buyer_note": N_("Buyer's note"),
    "seller_note": N_("Seller's note"),
}

#: Fields a sheet must have a column for. The address may come as parts or as one cell
#: (``full_address``); a price as unit price, line amount or order amount — see :func:`missing_fields`.
REQUIRED = ("order_no", "name", "phone", "sku", "qty")
ADDRESS_PARTS = ("province", "city", "district", "address")
PRICES = ("unit_price", "line_total", "total")


def missing_fields(mapped: set[str] | frozenset[str]) -> list[str]:
    """The fields a sheet still needs a column for, given the fields it has (stable order)."""
    missing = [k for k in REQUIRED if k not in mapped]
    if "full_address" not in mapped:
        missing += [k for k in ADDRESS_PARTS if k not in mapped]
    if not mapped & set(PRICES):
        missing.append("unit_price")
    return sorted(missing, key=list(FIELDS).index)


def field_label(key: str) -> str:
    """A field's name in the operator's language (the key itself for a field we do not know)."""
    return _(FIELDS[key]) if key in FIELDS else key


def _labels(keys: Any) -> str:
    return _(", ").join(field_label(str(k)) for k in keys) if isinstance(keys, list) else ""


# Row problems: code -> sentence. {column} is the field's name, {value} what the cell held.
ROW_TEXT: dict[str, str] = {
    "empty": N_("{column} is empty."),
    "too_long": N_("{column} is longer than 64 characters."),
    "bad_qty": N_("{column} “{value}” is not a whole number from 1 to 100000."),
    "bad_money": N_("{column} “{value}” is not an amount in yuan like 19.90."),
    "bad_time": N_("{column} “{value}” is not a time like 2026-02-22 10:15."),
    "bad_flag": N_("{column} “{value}” is not yes or no (是/否)."),
    "bad_status": N_("{column} “{value}” is not a status we know (e.g. 待发货, 已付款, 待付款, 已取消)."),
    "status_done": N_("{column} is “{value}”: the platform already shipped or finished this order; it was not "
                      "imported."),
    "inconsistent": N_("{column} “{value}” differs from the order's first row (“{first}”): same order number, "
                       "different order?"),
    "total_too_large": N_("{column}: the lines add up to more than the allowed maximum."),
    "unknown_sku": N_("{column} “{value}” is not in the product catalogue: check the code (or add the product "
                      "to the catalogue) and import the sheet again."),
    "bad_address": N_("{column} “{value}” cannot be split into province, city and district; put them in "
                      "separate columns."),
}


def row_error_text(error: dict[str, Any], *, texts: dict[str, str] | None = None,
                   label: Callable[[str], str] = field_label) -> str:
    """One refused row's reason (``{"row", "reason", "code", "details"}`` from the hub) in the operator's words.

    ``texts`` (code -> msgid) and ``label`` (field -> name) let another sheet (the stock sheet,
    ``core/stock_sheet.py``) word its rows the same way; by default the order sheet's.
    """
    code = str(error.get("code") or "")
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    assert isinstance(details, dict)
    if code == "order_refused":
        rows = details.get("rows")
        rows_text = ", ".join(str(r) for r in rows) if isinstance(rows, list) else "?"
        return _("Order {order} was not imported because row(s) {rows} have errors.").format(
            order=details.get("order_no", ""), rows=rows_text)
    template = (ROW_TEXT if texts is None else texts).get(code)
    if template is None:
        return _("This row could not be read; check it against the template.")
    return _(template).format(column=label(str(details.get("column", ""))),
                              value=str(details.get("value", "")), first=str(details.get("first", "")))


def refusal_text(filename: str, details: Any, *, code: str = "") -> str:
    """Why the hub refused a whole file (``details`` of its 4xx answer), in the operator's words."""
    info = details if isinstance(details, dict) else {}
    problem = str(info.get("problem") or info.get("reason") or "")
    row = info.get("row", 1)
    if problem == "missing_columns":
        return _("{file}: the sheet has no column for {fields} (header row {row}). Choose which column holds "
                 "them, or use the template.").format(file=filename, fields=_labels(info.get("missing")), row=row)
    if problem == "empty":
        return _("{file} is empty.").format(file=filename)
    if problem == "no_rows":
        return _("{file} has a header but no orders below it.").format(file=filename)
    if problem == "xls":
        return _("{file} is an old Excel .xls file: open it in Excel and save it as .xlsx or CSV.").format(file=filename)
    if problem in ("rows", "too_big"):
        return _("{file} is too large for one import: split it into smaller sheets.").format(file=filename)
    if problem in ("uncompressed_size", "members", "compression_ratio", "record_size"):
        return _("{file} unpacks to far more than an order sheet would: open it in Excel, save it again "
                 "(or split it) and import the new file.").format(file=filename)
    if code == "forbidden":
        return _("Only desk staff and above import orders.")
    return _("{file} is not a readable order sheet: save it from Excel as .xlsx or CSV (UTF-8) and import it "
             "again.").format(file=filename)


#: Names of the platforms whose export sheets the hub recognises (the import answer's ``preset``).
PLATFORMS: dict[str, str] = {
    "douyin": N_("Douyin shop"),
    "pinduoduo": N_("Pinduoduo"),
    "taobao": N_("Taobao"),
    "wechat": N_("WeChat shop"),
}

#: Our template: Chinese headers (what the hub reads first) and one example order.
TEMPLATE: tuple[tuple[str, str], ...] = (
    ("订单号", "DD20261205001"),
    ("收件人", "张伟"),
    ("手机", "13812345678"),
    ("省", "浙江省"),
    ("市", "杭州市"),
    ("区", "西湖区"),
    ("详细地址", "文三路90号东部软件园3号楼"),
    ("商品编码", "SKU-TEA-001"),
    ("商品名称", "西湖龙井 明前特级 250g"),
    ("商品条码", "6901234567892"),
    ("数量", "2"),
    ("单价", "398.00"),
    ("订单金额", "796.00"),
    ("是否赠品", "否"),
    ("订单状态", "待发货"),
    ("下单时间", "2026-12-05 10:15"),
    ("买家留言", "周末送货"),
    ("卖家备注", ""),
)


def write_template(path: str, template: tuple[tuple[str, str], ...] = TEMPLATE, title: str = "订单") -> None:
    """Save our order-sheet template (headers + one example row) as XLSX, or CSV for a ``.csv`` name;
    ``template`` / ``title`` give another sheet's (the stock sheet's, ``core/stock_sheet.py``).

    Disk work: called on a worker thread. The CSV has a UTF-8 BOM so Excel on Chinese Windows opens
    it without garbling the headers.

    Raises:
        UserError: the file cannot be written (plain words, the operator's language).
    """
    from core.errors import UserError

    headers = [h for h, _example in template]
    example = [v for _header, v in template]
    try:
        if path.lower().endswith(".csv"):
            import csv

            with open(path, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(headers)
                writer.writerow(example)
            return
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = title
        sheet.append(headers)
        sheet.append(example)
        for i, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, len(header) * 3)
            sheet.cell(2, i).number_format = "@"  # keep 0-leading codes and long numbers as typed
        book.save(path)
    except OSError as exc:
        raise UserError(_("Cannot save the template to {path}: {error}").format(
            path=path, error=exc.strerror or exc)) from exc
