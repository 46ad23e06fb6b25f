"""Small pieces every document shares: phone masking, item summaries, carriers, bins, logos, time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from reportlab.lib.utils import ImageReader

from core.display_names import carrier_name as _carrier_name
from core.model import Snapshot, SnapshotLine
from core.phones import mask_phone as mask_phone  # re-exported: labels and slips mask with the one rule
from core.timeutil import to_local, utcnow
from core.waves import carrier_group_key, cutoff_of
from printing.draw import wrap, wrap_chips


def carrier_name(code: str | None) -> str:
    """The carrier's Chinese name for a document (one table: :mod:`core.display_names`)."""
    return _carrier_name(code, "zh_CN")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    parts = re.split(r"(\d+)", text.upper())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def bin_key(bin_code: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Sort key for bin locations in walking order: ``A-2-3`` before ``A-10-1``; no bin last."""
    return (1, ()) if not bin_code else (0, _natural(bin_code))


def walking_order(orders: Sequence[Snapshot] | list[Snapshot]) -> list[Snapshot]:
    """Orders sorted by the bin of their first line (walking order), then by order ID."""
    return sorted(orders, key=lambda o: (bin_key(o["lines"][0]["bin"] if o["lines"] else ""), o["order_id"]))


def wave_order(orders: Sequence[Snapshot] | list[Snapshot]) -> list[Snapshot]:
    """A wave's orders grouped by carrier (earliest cut-off first, :func:`core.waves.carrier_group_key`),
    each group in walking order: the labels come off the printer ready for each courier's bag.

    With one carrier this is :func:`walking_order`.
    """
    return sorted(walking_order(orders), key=lambda o: carrier_group_key(o.get("carrier"), cutoff_of(dict(o))))


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
