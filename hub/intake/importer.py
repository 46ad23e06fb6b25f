"""CSV/XLSX order import — the way off "orders in an Excel sheet".

A person made this file, so the rules favour them: Chinese or English headers; CSV in UTF-8 (with
or without the BOM Excel adds) or GBK/GB18030 (what Excel on Chinese Windows writes); one row per
line item, rows of one order grouped by order number; and every bad row reported with its Excel row
number (header = row 1) and the column to fix, while good orders are kept.

An order is imported whole or not at all: if one of its rows is bad, its other rows are reported
as "not imported" too — packing half an order is worse than packing it a little later.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub.intake.fields import MAX_FEN, to_flag, to_qty, to_time, yuan_text_to_fen

#: Refuse files above this size before parsing (a peak day is ~86k orders; that is ~20 MB of CSV).
MAX_BYTES = 50 * 1024 * 1024


@dataclass
class RowError:
    """One row that was not imported. ``row`` is the Excel row number (the header is row 1)."""

    row: int
    reason: str


@dataclass
class ImportResult:
    """Orders read (with the row of their first line) and rows refused."""

    orders: list[tuple[int, IntakeOrder]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# Canonical column → accepted headers (compared after normalising: lower case, no spaces/"*"/units).
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("订单号", "订单编号", "order_no", "orderno", "order_id", "order_number"),
    "name": ("收件人", "收货人", "收件人姓名", "name", "recipient", "receiver"),
    "phone": ("手机", "手机号", "电话", "联系电话", "收件人电话", "phone", "mobile", "tel"),
    "province": ("省", "省份", "province"),
    "city": ("市", "城市", "city"),
    "district": ("区", "区县", "县区", "district", "county"),
    "address": ("详细地址", "地址", "address", "street"),
    "sku": ("sku", "商品编码", "商家编码", "sku编码", "货号", "sku_code"),
    "item_name": ("商品名称", "商品名", "品名", "item_name", "product_name", "item"),
    "qty": ("数量", "qty", "quantity", "件数"),
    "unit_price": ("单价", "unit_price", "price", "商品单价"),
    "is_gift": ("是否赠品", "赠品", "is_gift", "gift"),
    "total": ("订单金额", "实付金额", "total", "order_total", "amount"),
    "created_at": ("下单时间", "创建时间", "created_at", "order_time"),
    "status": ("付款状态", "支付状态", "订单状态", "status", "payment_status"),
    "custom_packaging": ("定制包装", "custom_packaging"),
    "buyer_note": ("买家留言", "买家备注", "buyer_note", "buyer_message"),
    "seller_note": ("卖家备注", "商家备注", "seller_note"),
    "ship_by": ("最晚发货", "最晚发货时间", "ship_by", "ship_before"),
    "postcode": ("邮编", "postcode", "zip"),
}
REQUIRED = (
    "order_no",
    "name",
    "phone",
    "province",
    "city",
    "district",
    "address",
    "sku",
    "qty",
    "unit_price",
)
#: Columns describing the order rather than the line: later rows may leave them empty, not contradict them.
ORDER_LEVEL = (
    "name",
    "phone",
    "province",
    "city",
    "district",
    "address",
    "postcode",
    "total",
    "created_at",
    "status",
    "custom_packaging",
    "buyer_note",
    "seller_note",
    "ship_by",
)
# Columns that may be empty on a row: a rural order may lack a phone, some cities have no district.
_MAY_BE_EMPTY = frozenset({"phone", "district"})
#: How a column is named in messages: "单价/unit_price".
_ZH = {key: next(n for n in names if not n.isascii()) for key, names in COLUMNS.items()}
_LABEL = {key: f"{_ZH[key]}/{next(n for n in names if n.isascii())}" for key, names in COLUMNS.items()}

_ALIASES: dict[str, str] = {}
for _key, _names in COLUMNS.items():
    for _name in _names:
        _ALIASES[re.sub(r"[\s_]", "", _name.lower())] = _key

_STATUS_WORDS: dict[str, ChannelStatus] = {
    "": ChannelStatus.PAID,
    "已付款": ChannelStatus.PAID,
    "已支付": ChannelStatus.PAID,
    "付款": ChannelStatus.PAID,
    "paid": ChannelStatus.PAID,
    "待发货": ChannelStatus.PAID,
    "未付款": ChannelStatus.UNPAID,
    "待付款": ChannelStatus.UNPAID,
    "unpaid": ChannelStatus.UNPAID,
    "已取消": ChannelStatus.CANCELLED,
    "取消": ChannelStatus.CANCELLED,
    "cancelled": ChannelStatus.CANCELLED,
    "canceled": ChannelStatus.CANCELLED,
}


class _RowProblem(Exception):
    """A cell that cannot be read; becomes a RowError naming the column."""


def parse_import(filename: str, data: bytes, *, default_channel: str = "import") -> ImportResult:
    """Read orders from a CSV or XLSX file.

    Args:
        filename: the uploaded file's name; its extension picks the format (content is sniffed
            when the extension says nothing useful).
        data: the file's bytes.
        default_channel: the ``channel`` of the orders (their order numbers are unique per channel).

    Returns:
        Good orders with the row of their first line, and one :class:`RowError` per refused row.

    Raises:
        ValidationFailed: empty, too large, not CSV/XLSX, a corrupt file, or a header row with a
            missing, unknown or repeated column (``details``: ``row``, ``missing``, ``unknown``,
            ``duplicated``).
    """
    if not data or not data.strip().strip(codecs.BOM_UTF8).strip() or data in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise ValidationFailed("The file is empty. 文件是空的。", details={"file": filename})
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it. 文件太大，请拆分。",
            details={"file": filename},
        )
    ext = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if ext == "xls":
        raise ValidationFailed(
            "Old Excel .xls files are not supported; save as .xlsx or CSV. 请另存为 .xlsx 或 CSV。",
            details={"file": filename},
        )
    if ext in ("xlsx", "xlsm") or (ext not in ("csv", "txt", "tsv") and data[:4] == b"PK\x03\x04"):
        rows = _xlsx_rows(data, filename)
    elif ext in ("csv", "txt", "tsv", ""):
        rows = _csv_rows(data, filename)
    else:
        raise ValidationFailed(
            f"'{filename}' is not a CSV or XLSX file. 只支持 CSV 或 XLSX 文件。", details={"file": filename}
        )
    return _read_rows(rows, default_channel, filename)


# --- reading files -------------------------------------------------------------------------------


def _decode(data: bytes, filename: str) -> str:
    """UTF-8 (BOM or not) first, then GB18030 (a superset of GBK that Chinese Excel writes).

    A UTF-16 byte-order mark wins over both: Excel's "Unicode 文本 (*.txt)" export is UTF-16 LE
    with a BOM, tab-separated.
    """
    encodings: tuple[str, ...] = ("utf-8-sig", "gb18030")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encodings = ("utf-16",)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Decoding succeeding is not enough: random bytes decode as GB18030 too. Text files have no
        # control characters besides tab and line breaks.
        if not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text) and "\ufffd" not in text:
            return text
    raise ValidationFailed(
        f"'{filename}' is not a readable CSV text file (expected UTF-8, GBK or UTF-16). 无法读取：不是 UTF-8、GBK 或 UTF-16 编码的 CSV 文件。",
        details={"file": filename},
    )


def _csv_rows(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    text = _decode(data, filename)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Row numbers count records, as Excel does, not physical lines (a quoted cell may span lines).
        return [(n, row) for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ValidationFailed(
            f"'{filename}' is not a valid CSV file: {exc}. CSV 格式错误。", details={"file": filename}
        ) from None


def _xlsx_rows(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    import openpyxl  # imported here: only the import endpoint needs it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        # openpyxl reports a damaged file through many exception types (BadZipFile, KeyError,
        # InvalidFileException, XML parse errors…); all of them mean "cannot read this file".
        raise ValidationFailed(
            f"'{filename}' is not a readable XLSX file ({type(exc).__name__}). 无法读取 XLSX 文件（文件损坏？）。",
            details={"file": filename},
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows = []
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((n, list(row)))
        return rows
    except Exception as exc:  # a corrupt sheet only surfaces while iterating (read-only mode is lazy)
        raise ValidationFailed(
            f"'{filename}' has an unreadable sheet ({type(exc).__name__}). 工作表无法读取。",
            details={"file": filename},
        ) from None
    finally:
        book.close()


# --- rows to orders --------------------------------------------------------------------------------


def _norm_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = re.sub(r"[（(][^）)]*[）)]", "", text)  # "单价(元)" → "单价"
    return re.sub(r"[\s_*:：]", "", text.lower())


def _read_rows(rows: list[tuple[int, list[Any]]], channel: str, filename: str) -> ImportResult:
    result = ImportResult()
    rows = [(n, r) for n, r in rows if any(_cell_text(c) for c in r)]
    if not rows:
        raise ValidationFailed("The file has no rows. 文件没有内容。", details={"file": filename})
    header_row, header = rows[0]
    columns: dict[str, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for i, cell in enumerate(header):
        name = _norm_header(cell)
        if not name:
            continue
        key = _ALIASES.get(name)
        if key is None:
            unknown.append(str(cell).strip())
        elif key in columns:
            duplicated.append(str(cell).strip())
        else:
            columns[key] = i
    missing = [_LABEL[k] for k in REQUIRED if k not in columns]
    problems = []
    if missing:
        problems.append("missing required column(s) 缺少必填列: " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s) 无法识别的列: " + ", ".join(unknown))
    if duplicated:
        problems.append("column(s) given twice 重复的列: " + ", ".join(duplicated))
    if problems:
        # Not a row-level problem: without the right header no row can be read, so the whole
        # file is refused (a 4xx), naming the columns to fix.
        accepted = "; ".join(_LABEL[k] for k in COLUMNS)
        raise ValidationFailed(
            f"'{filename}' row {header_row} is not a usable header: " + " | ".join(problems)
            + f". Accepted columns 可用列: {accepted}",
            details={"file": filename, "row": header_row, "missing": missing, "unknown": unknown,
                     "duplicated": duplicated},
        )

    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, raw in rows[1:]:
        cells = {key: (raw[i] if i < len(raw) else None) for key, i in columns.items()}
        order_no = _cell_text(cells["order_no"])
        if not order_no:
            result.errors.append(RowError(n, "订单号/order_no is empty. 订单号为空。"))
            continue
        if len(order_no) > 64:
            result.errors.append(RowError(n, "订单号/order_no is longer than 64 characters. 订单号过长。"))
            continue
        groups.setdefault(order_no, []).append((n, cells))

    now = utcnow()
    for order_no, group in groups.items():
        try:
            order = _order(order_no, group, channel, filename, now, result)
        except _GroupRefused:
            continue
        result.orders.append((group[0][0], order))
    result.errors.sort(key=lambda e: e.row)
    return result


class _GroupRefused(Exception):
    """An order with a bad row; its errors are already recorded."""


def _order(
    order_no: str,
    group: list[tuple[int, dict[str, Any]]],
    channel: str,
    filename: str,
    now: datetime,
    result: ImportResult,
) -> IntakeOrder:
    first_row, first = group[0]
    bad_rows: dict[int, str] = {}
    lines: list[OrderLine] = []
    head: dict[str, Any] = {}
    try:
        head = _order_fields(first)
    except _RowProblem as exc:
        bad_rows[first_row] = str(exc)
    for n, cells in group:
        try:
            lines.append(_line(cells))
            if n != first_row:
                _check_consistent(first, cells)
        except _RowProblem as exc:
            bad_rows.setdefault(n, str(exc))
    if not bad_rows and head.get("total") is None:
        total = sum(line.qty * line.unit_price_fen for line in lines)
        if total > MAX_FEN:
            bad_rows[first_row] = (
                "订单金额/total: the lines add up to more than the allowed maximum. 金额过大。"
            )
        head["total"] = total
    if bad_rows:
        rows_text = ", ".join(str(r) for r in sorted(bad_rows))
        for n, _ in group:
            reason = bad_rows.get(n) or (
                f"Order {order_no} not imported because row(s) {rows_text} have errors. 订单 {order_no} 未导入：第 {rows_text} 行有错误。"
            )
            result.errors.append(RowError(n, reason))
        raise _GroupRefused
    created = head["created_at"] or now
    return IntakeOrder(
        channel=channel,
        channel_order_no=order_no,
        status=head["status"],
        recipient=head["recipient"],
        lines=lines,
        total_fen=head["total"],
        created_at=created,
        channel_updated_at=created,
        paid_at=None,
        ship_by=head["ship_by"],
        custom_packaging=head["custom_packaging"],
        buyer_note=head["buyer_note"],
        seller_note=head["seller_note"],
        message_id="",
        extra={"source_file": filename, "rows": [n for n, _ in group]},
    )


def _cell_text(value: Any) -> str:
    """A cell as text; Excel numbers like 13800138000.0 become '13800138000'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _need(cells: dict[str, Any], key: str) -> str:
    text = _cell_text(cells.get(key))
    if not text and key not in _MAY_BE_EMPTY:
        raise _RowProblem(f"{_LABEL[key]} is empty. 「{_ZH[key]}」不能为空。")
    return text


def _order_fields(cells: dict[str, Any]) -> dict[str, Any]:
    recipient = Recipient(
        name=_need(cells, "name"),
        phone=_need(cells, "phone"),
        province=_need(cells, "province"),
        city=_need(cells, "city"),
        district=_need(cells, "district"),
        address=_need(cells, "address"),
        postcode=_cell_text(cells.get("postcode")),
    )
    status_word = _cell_text(cells.get("status")).lower()
    if status_word not in _STATUS_WORDS:
        raise _RowProblem(
            f"{_LABEL['status']}: unknown status {status_word!r}; use 已付款/paid, 未付款/unpaid or 已取消/cancelled."
        )
    total_text = _cell_text(cells.get("total"))
    return {
        "recipient": recipient,
        "status": _STATUS_WORDS[status_word],
        "total": _money(cells.get("total"), "total") if total_text else None,
        "created_at": _time(cells.get("created_at"), "created_at"),
        "ship_by": _time(cells.get("ship_by"), "ship_by"),
        "custom_packaging": _flag(cells.get("custom_packaging"), "custom_packaging"),
        "buyer_note": _cell_text(cells.get("buyer_note")),
        "seller_note": _cell_text(cells.get("seller_note")),
    }


def _check_consistent(first: dict[str, Any], cells: dict[str, Any]) -> None:
    """A later row of the same order may leave order columns empty, but must not contradict row one."""
    for key in ORDER_LEVEL:
        if key not in cells:
            continue
        text = _cell_text(cells[key])
        if text and text != _cell_text(first.get(key)):
            raise _RowProblem(
                f"{_LABEL[key]} differs from the order's first row ({text!r} vs {_cell_text(first.get(key))!r}); "
                "same order number, different order? 同一订单号的行内容不一致。"
            )


def _line(cells: dict[str, Any]) -> OrderLine:
    sku = _need(cells, "sku")
    name = _cell_text(cells.get("item_name")) or sku
    qty_raw = cells.get("qty")
    if isinstance(qty_raw, float) and qty_raw.is_integer():
        qty_raw = int(qty_raw)
    try:
        qty = to_qty(_cell_text(qty_raw) if not isinstance(qty_raw, int) else qty_raw, "qty")
    except ValidationFailed:
        raise _RowProblem(
            f"{_LABEL['qty']}: {_cell_text(qty_raw)!r} is not a whole number from 1 to 100000. 数量必须是正整数。"
        ) from None
    price = _money(cells.get("unit_price"), "unit_price")
    return OrderLine(
        sku=sku, name=name, qty=qty, unit_price_fen=price, is_gift=_flag(cells.get("is_gift"), "is_gift")
    )


def _money(value: Any, key: str) -> int:
    """Yuan → fen. XLSX numbers arrive as floats; their shortest repr is what Excel showed."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif not isinstance(value, Decimal | int) or isinstance(value, bool):
        value = _cell_text(value)
    if value == "":
        raise _RowProblem(f"{_LABEL[key]} is empty. 「{_ZH[key]}」不能为空。")
    try:
        return yuan_text_to_fen(value, key)
    except ValidationFailed:
        raise _RowProblem(
            f"{_LABEL[key]}: {_cell_text(value)!r} is not an amount in yuan like 19.90. 金额格式错误。"
        ) from None


def _time(value: Any, key: str) -> datetime | None:
    if value is None or _cell_text(value) == "":
        return None
    try:
        return to_time(value if isinstance(value, datetime | date) else _cell_text(value), key)
    except ValidationFailed:
        raise _RowProblem(
            f"{_LABEL[key]}: {_cell_text(value)!r} is not a time like 2026-02-22 10:15. 时间格式错误。"
        ) from None


def _flag(value: Any, key: str) -> bool:
    try:
        return to_flag(_cell_text(value) if not isinstance(value, bool) else value, key)
    except ValidationFailed:
        raise _RowProblem(
            f"{_LABEL[key]}: {_cell_text(value)!r} is not yes/no (是/否). 请填 是 或 否。"
        ) from None
