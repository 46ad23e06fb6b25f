"""Small pieces every document shares: phone masking, item summaries, carriers, bins, logos, time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from reportlab.lib.utils import ImageReader

from core.model import Snapshot, SnapshotLine
from core.timeutil import to_local, utcnow
from printing.draw import wrap

#: Carrier codes as the hub stores them → the name a courier and a customer recognise.
CARRIER_NAMES = {
    "SF": "顺丰速运",
    "ZTO": "中通快递",
    "YTO": "圆通速递",
    "STO": "申通快递",
    "YD": "韵达快递",
    "YUNDA": "韵达快递",
    "JD": "京东物流",
    "EMS": "中国邮政EMS",
    "JT": "极兔速递",
    "JTSD": "极兔速递",
    "DBL": "德邦快递",
    "DEPPON": "德邦快递",
}


def carrier_name(code: str | None) -> str:
    """Display name of a carrier code; unknown codes print as given."""
    if not code:
        return "未指定快递"
    return CARRIER_NAMES.get(code.upper(), code)


_DIGITS = re.compile(r"\d")


def mask_phone(phone: str) -> str:
    """Mask a phone number for a label: ``13812341234`` → ``138****1234``.

    Labels travel through many hands; Chinese platforms print the middle four digits masked. A
    number the channel already masked (contains ``*``) is kept; a landline keeps its area code and
    last four digits (``010-****5678``); an extension after the number is kept, since virtual
    numbers need it. Anything shorter than 7 digits is printed as given.
    """
    phone = phone.strip()
    if not phone or "*" in phone:
        return phone
    main, sep, ext = phone.partition("-") if re.fullmatch(r"1\d{10}-\d{1,6}", phone) else (phone, "", "")
    digits = re.sub(r"\D", "", main)
    if re.fullmatch(r"(\+?86)?1\d{10}", digits):
        core = digits[-11:]
        return f"{core[:3]}****{core[-4:]}" + (sep + ext if ext else "")
    if len(digits) < 7:
        return phone
    # Landline: mask the four digits before the last four, keep the layout (area code, dashes).
    positions = [m.start() for m in _DIGITS.finditer(main)]
    hide = set(positions[-8:-4])
    return "".join("*" if i in hide else ch for i, ch in enumerate(main)) + (sep + ext if ext else "")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    parts = re.split(r"(\d+)", text.upper())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def bin_key(bin_code: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Sort key for bin locations in walking order: ``A-2-3`` before ``A-10-1``; no bin last."""
    return (1, ()) if not bin_code else (0, _natural(bin_code))


def walking_order(orders: Sequence[Snapshot] | list[Snapshot]) -> list[Snapshot]:
    """Orders sorted by the bin of their first line (walking order), then by order ID."""
    return sorted(orders, key=lambda o: (bin_key(o["lines"][0]["bin"] if o["lines"] else ""), o["order_id"]))


def total_units(lines: Sequence[SnapshotLine]) -> int:
    return sum(line["qty"] for line in lines)


def item_summary(lines: Sequence[SnapshotLine], size: float, width: float, max_lines: int) -> str:
    """``SKU×qty`` for each line, condensed to fit ``max_lines`` lines of ``width`` at ``size``.

    When not every line fits, the tail becomes ``等N件`` where N is the order's total units, so the
    packer still sees how much should be in the box. Gift lines are marked ``(赠)``.
    """
    parts = [f"{ln['sku']}×{ln['qty']}" + ("(赠)" if ln["is_gift"] else "") for ln in lines]
    if not parts:
        return ""
    total = total_units(lines)
    full = " ".join(parts)
    if len(wrap(full, size, width)) <= max_lines:
        return full
    # Upper bound by characters, then step down until the wrapped text fits.
    k = len(parts)
    while k > 0:
        text = " ".join(parts[:k]) + f" 等{total}件"
        if len(wrap(text, size, width)) <= max_lines:
            return text
        k -= 1
    return f"等{total}件"


@lru_cache(maxsize=8)
def logo_image(path: Path) -> ImageReader:
    """The logo, decoded once per process (reportlab then embeds it once per PDF)."""
    return ImageReader(str(path))


def print_time(now: datetime | None = None) -> str:
    """Site-local print time for the document footer."""
    return to_local(now or utcnow()).strftime("%Y-%m-%d %H:%M")
