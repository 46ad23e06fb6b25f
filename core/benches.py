"""The desk's bench picker: the hub's list of benches (``GET /api/v1/benches``) read and worded.

``hub/benches.py`` answers with every bench the rules and the orders know, its warehouse and how
many orders wait at it; the "move to bench" dialog (ui/desk_actions.py) offers them. The wire shape
is read here, defensively: an entry that is not as documented is left out, never fatal (the dialog
still lets a bench be typed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.i18n import _, language


@dataclass(frozen=True)
class BenchChoice:
    """One bench the hub knows: where it is and how busy."""

    bench: str
    warehouse: str | None = None
    warehouse_name: str | None = None
    vip: bool = False
    open_orders: int | None = None

    def label(self) -> str:
        """What the picker shows: "B2 · 上海仓 · 12 open" (the bench code first: typing it finds it)."""
        parts = [_("{bench} (VIP)").format(bench=self.bench) if self.vip else self.bench]
        names = (self.warehouse_name or "").split(" / ")  # the rules' names: "上海仓 / Shanghai warehouse"
        where = (names[0] if language().startswith("zh") else names[-1]).strip() or self.warehouse
        if where:
            parts.append(where)
        if self.open_orders is not None:
            parts.append(_("{n} open").format(n=self.open_orders))
        return " · ".join(parts)


def from_wire(data: Any) -> list[BenchChoice]:
    """The benches of a ``GET /benches`` answer (``{"benches": [...]}``); malformed entries are skipped."""
    raw = data.get("benches") if isinstance(data, dict) else None
    out: list[BenchChoice] = []
    for e in raw if isinstance(raw, list) else []:
        if not isinstance(e, dict) or not isinstance(e.get("bench"), str) or not e["bench"].strip():
            continue
        n = e.get("open_orders")
        out.append(BenchChoice(
            bench=e["bench"].strip(),
            warehouse=e["warehouse"] if isinstance(e.get("warehouse"), str) else None,
            warehouse_name=e["warehouse_name"] if isinstance(e.get("warehouse_name"), str) else None,
            vip=e.get("vip") is True,
            open_orders=n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None))
    return out
