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
from printing.draw import wrap, wrap_chips

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
    number the channel already masked (contains ``*``) is kept; a landline keeps its area code,
    last four digits and extension (``010-****5678``, ``0991-***4567-123``); an extension after a
    mobile number is kept, since virtual numbers need it. Anything shorter than 7 digits is printed as given.
    """
    phone = phone.strip()
    if not phone or "*" in phone:
        return phone
    main, sep, ext = phone.partition("-") if re.fullmatch(r"1\d{10}-\d{1,6}", phone) else (phone, "", "")
    digits = re.sub(r"\D", "", main)
    if re.fullmatch(r"(\+?86)?1\d{10}", digits):
        core = digits[-11:]
        return f"{core[:3]}****{core[-4:]}" + (sep + ext if ext else "")
    landline = re.fullmatch(r"(\(?0\d{2,3}\)?[\s-]?)(\d{7,8})([-转#]\d{1,6})?", phone)
    if landline:  # 010-12345678, 0991-1234567-123: keep area code and extension
        area, number, extension = landline.group(1), landline.group(2), landline.group(3) or ""
        return f"{area}{'*' * (len(number) - 4)}{number[-4:]}{extension}"
    if len(digits) < 7:
        return phone
    # Anything else: mask the four digits before the last four, keep the layout.
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
    """``SKU×qty`` for each line, laid out in at most ``max_lines`` lines of ``width`` at ``size``.

    Each ``SKU×qty`` stays whole on one line (lines are joined with newlines). When not every
    line fits, the tail becomes ``等N件`` where N is the order's total units, so the packer still
    sees how much should be in the box; gift lines (marked ``(赠)``) are kept in a cut summary,
    since a forgotten gift is the complaint.
    """
    def chip(ln: SnapshotLine) -> str:
        return f"{ln['sku']}×{ln['qty']}" + ("(赠)" if ln["is_gift"] else "")

    if not lines:
        return ""
    regular = [chip(ln) for ln in lines if not ln["is_gift"]]
    gifts = [chip(ln) for ln in lines if ln["is_gift"]]
    def laid(chips: list[str]) -> str | None:
        text = "\n".join(wrap_chips(chips, size, width, sep=" "))
        return text if len(wrap(text, size, width)) <= max_lines else None  # a chip wider than a line wraps

    full = laid([chip(ln) for ln in lines])
    if full is not None:
        return full
    tail = f"等{total_units(lines)}件"
    for k in range(len(regular) - 1, -1, -1):
        cut = laid([*regular[:k], *gifts, tail])
        if cut is not None:
            return cut
    return "\n".join(wrap_chips([*gifts, tail], size, width, sep=" ")[:max_lines])


@lru_cache(maxsize=8)
def logo_image(path: Path) -> ImageReader:
    """The logo, decoded once per process (reportlab then embeds it once per PDF)."""
    return ImageReader(str(path))


def print_time(now: datetime | None = None) -> str:
    """Site-local print time for the document footer."""
    return to_local(now or utcnow()).strftime("%Y-%m-%d %H:%M")
