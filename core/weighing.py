"""Weighing a packed parcel: the expected weight, the tolerance, and when a reading counts (no Qt).

The hub's routing puts each line's catalogue unit weight on the line (``weight_g``) and the site's
weighing rule (``[weighing]`` in the rules file: packaging grams, tolerance in grams and percent)
on the order (``snapshot["weighing"]``); :func:`expected_weight` adds them up on the bench. An
order whose lines do not all have a unit weight (a SKU not in the catalogue, an order routed
before this existed) has no expected weight: the parcel is weighed and the weight recorded, but
nothing is compared.

:class:`Weigher` decides which scale reading is *the* weight of the parcel: a stable reading of
something on the scale, seen twice in a row, and only after the scale was empty since the last
parcel taken (so a parcel left on the platform is never weighed for the next order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.scale import Reading

__all__ = ["EMPTY_G", "Expected", "Weigher", "expected_weight", "format_kg", "weighing_rule"]

#: Below this many grams the platform counts as empty.
EMPTY_G = 20


@dataclass(frozen=True)
class Expected:
    """What a parcel should weigh.

    Attributes:
        grams: goods (unit weight × quantity, every line) plus packaging.
        tolerance_g: how far off a weight may be and still pass.
    """

    grams: int
    tolerance_g: int

    def accepts(self, grams: int) -> bool:
        return abs(grams - self.grams) <= self.tolerance_g

    def to_detail(self) -> dict[str, int]:
        return {"expected_g": self.grams, "tolerance_g": self.tolerance_g}


def weighing_rule(packaging_g: int, tolerance_g: int, tolerance_pct: int) -> dict[str, int]:
    """The ``weighing`` key the hub puts on an order (one shape, written and read here)."""
    return {"packaging_g": packaging_g, "tolerance_g": tolerance_g, "tolerance_pct": tolerance_pct}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def expected_weight(snapshot: dict[str, Any]) -> Expected | None:
    """The expected weight of an order's parcel, or None when it cannot be known.

    Tolerance: the larger of ``tolerance_g`` and ``tolerance_pct`` percent of the expected weight.
    """
    rule = snapshot.get("weighing")
    lines = snapshot.get("lines") or []
    if not isinstance(rule, dict) or not lines:
        return None
    packaging, tol_g, tol_pct = (_int(rule.get(k)) for k in ("packaging_g", "tolerance_g", "tolerance_pct"))
    if packaging is None or tol_g is None or tol_pct is None:
        return None
    total = packaging
    for line in lines:
        unit, qty = _int(line.get("weight_g")), _int(line.get("qty"))
        if unit is None or qty is None:
            return None
        total += unit * qty
    return Expected(total, max(tol_g, (total * tol_pct + 99) // 100))


def format_kg(grams: int) -> str:
    """``1.234 kg``: how the bench shows a weight."""
    sign = "-" if grams < 0 else ""
    g = abs(grams)
    return f"{sign}{g // 1000}.{g % 1000:03d} kg"


class Weigher:
    """Picks the parcel's weight out of the scale's stream (see the module docstring).

    Attributes:
        last: the latest reading (None: none yet, or the scale was lost).
        armed: the platform was empty since the last weight was taken.
    """

    def __init__(self) -> None:
        self.last: Reading | None = None
        self.armed = True
        self._prev: Reading | None = None

    def feed(self, reading: Reading | None) -> int | None:
        """Take one reading (None: the scale was lost); returns grams when this is a parcel's weight."""
        prev, self._prev = self._prev, reading
        self.last = reading
        if reading is None or reading.overload:
            return None
        if reading.stable and abs(reading.grams) < EMPTY_G:
            self.armed = True
            return None
        if not (self.armed and reading.stable and reading.grams >= EMPTY_G):
            return None
        if prev is None or not prev.stable or prev.grams != reading.grams:
            return None  # one stable frame could be a corrupted one: wait for a second like it
        return reading.grams

    def taken(self) -> None:
        """The weight was used: the next parcel needs the platform emptied first."""
        self.armed = False
