"""Orders as CSV rows, for the desk (issue 16 "Reports", docs/reports.md): one home for the columns.

Both exports of orders use these: the hub's streamed ``GET /api/v1/orders.csv`` and the app's
"export this queue" (ui/queue_export.py). So the desk gets the same fields with the same words,
masks and times from either. The file is UTF-8 with a byte-order mark: Excel and WPS on a Chinese
Windows PC otherwise read UTF-8 as GBK and show 乱码. Every text cell passes
:func:`core.exporting.neutralise_cell` (a buyer named ``=HYPERLINK(…)`` stays text). Fields with a
comma, a quote or a line break are quoted by :mod:`csv`, so they survive a round trip.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from core.exporting import neutralise_row
from core.holds import hold_label
from core.phones import mask_phone
from core.states import state_label
from core.timeutil import DEFAULT_TZ, parse_iso, to_local

#: What a byte-order mark looks like in UTF-8 (Excel and WPS take the file as UTF-8 with it).
BOM = "\ufeff"

#: The order fields a desk needs, in file order: (key, Chinese header, English header).
ORDER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("order_id", "订单号", "Order ID"),
    ("channel", "渠道", "Channel"),
    ("channel_order_no", "渠道订单号", "Channel order no"),
    ("state", "状态", "State"),
    ("warehouse", "仓库", "Warehouse"),
    ("bench", "工作台", "Bench"),
    ("hold", "异常", "Hold"),
    ("buyer", "收件人", "Recipient"),
    ("phone", "电话（已隐藏中间四位）", "Phone (masked)"),
    ("address", "地址", "Address"),
    ("items", "商品", "Items"),
    ("waybill", "运单号", "Waybill"),
    ("carrier", "快递", "Carrier"),
    ("ship_by", "承诺发货时间", "Promised ship-by"),
    ("created", "下单时间", "Ordered at"),
)
FIELD_KEYS: tuple[str, ...] = tuple(k for k, _zh, _en in ORDER_FIELDS)


def headers(lang: str, keys: Sequence[str] = FIELD_KEYS) -> list[str]:
    """The headers of ``keys`` in ``lang`` (zh_CN: Chinese; anything else: English)."""
    names = {k: (zh if lang.startswith("zh") else en) for k, zh, en in ORDER_FIELDS}
    return [names[k] for k in keys]


def bilingual_headers(keys: Sequence[str] = FIELD_KEYS) -> list[str]:
    """"订单号 / Order ID" for a file the hub writes (it does not know the reader's language)."""
    names = {k: f"{zh} / {en}" for k, zh, en in ORDER_FIELDS}
    return [names[k] for k in keys]


def _time(value: Any, tz: str) -> str:
    try:
        t = parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        return str(value)
    return to_local(t, tz).strftime("%Y-%m-%d %H:%M") if t is not None else ""


def order_cells(doc: dict[str, Any], *, tz: str = DEFAULT_TZ, lang: str = "zh_CN",
                keys: Sequence[str] = FIELD_KEYS) -> list[Any]:
    """One order document (the hub's or the bench's local view) as the cells of ``keys``.

    The phone is masked as the app shows it (``138****5678``); times are the site's; items read
    ``SKU 名称 ×2; …``; holds ``类型：原因``.
    """
    rec = doc.get("recipient") or {}
    lines = doc.get("lines") or []
    holds = doc.get("holds") or []
    values: dict[str, Any] = {
        "order_id": doc.get("order_id") or "",
        "channel": doc.get("channel") or "",
        "channel_order_no": doc.get("channel_order_no") or "",
        "state": state_label(str(doc.get("state") or ""), lang),
        "warehouse": doc.get("warehouse") or "",
        "bench": doc.get("bench") or "",
        "hold": "; ".join(
            hold_label(str(h.get("type") or ""), lang) + (f"：{h['reason']}" if h.get("reason") else "")
            for h in holds if isinstance(h, dict)),
        "buyer": rec.get("name") or "",
        "phone": mask_phone(str(rec.get("phone") or "")),
        "address": " ".join(str(rec.get(k) or "") for k in ("province", "city", "district", "address")
                            if rec.get(k)),
        "items": "; ".join(
            f"{ln.get('sku') or ''} {ln.get('name') or ''} ×{ln.get('qty') or 0}".replace("  ", " ")
            for ln in lines if isinstance(ln, dict)),
        "waybill": doc.get("waybill_no") or "",
        "carrier": doc.get("carrier") or "",
        "ship_by": _time(doc.get("ship_by"), tz),
        "created": _time(doc.get("created_at"), tz),
    }
    return [values[k] for k in keys]


def csv_line(row: Iterable[Any]) -> str:
    """One CSV record (quoted where needed, CRLF as Excel writes), every text cell neutralised."""
    buf = io.StringIO()
    csv.writer(buf).writerow(neutralise_row(row))
    return buf.getvalue()


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *, per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV file as UTF-8 bytes in chunks (BOM and header first): a streamed answer never holds
    more than ``per_chunk`` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write(BOM)
    writer.writerow(neutralise_row(header))
    for n, row in enumerate(rows, start=1):
        writer.writerow(neutralise_row(row))
        if n % per_chunk == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole CSV file (a small table: the reports' headline figures)."""
    return b"".join(csv_chunks(header, rows))
