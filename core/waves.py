"""Waves by carrier: which orders a wave takes, and the order carriers come out in.

A wave (Ctrl+W) is the first ``wave_size`` orders of To print, most urgent first. The packer may
build it for **all carriers** or for **one carrier** (each offered with its count), so a wave's
labels and its handover come out grouped: a one-carrier wave holds only that carrier's orders,
and an all-carrier wave prints its pick list slots and labels grouped by carrier
(:func:`carrier_group_key`), then in walking order (``printing/common.py wave_order``).

Carriers come in the order their couriers leave: earliest cut-off first (``handover_cutoff``
stamped by the hub, core/cutoffs.py), carriers without one last, then by code. No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.cutoffs import CUTOFF_KEY

__all__ = ["WaveChoice", "WaveRow", "carrier_group_key", "cutoff_of", "wave_choices", "wave_ids"]


@dataclass(frozen=True)
class WaveRow:
    """What a wave needs of a To print row: the order, its carrier ("" none) and cut-off ("HH:MM" or "")."""

    order_id: str
    carrier: str
    cutoff: str = ""


@dataclass(frozen=True)
class WaveChoice:
    """One answer to the wave question.

    Attributes:
        carrier: the carrier code; None for all carriers ("" is orders without a carrier).
        order_ids: the wave's orders, most urgent first (at most ``wave_size``).
        waiting: how many To print orders this choice had to pick from.
        cutoff: the carrier's cut-off ("HH:MM"), "" for all carriers or none known.
    """

    carrier: str | None
    order_ids: tuple[str, ...]
    waiting: int
    cutoff: str = ""


def cutoff_of(snapshot: dict[str, Any]) -> str:
    """The "HH:MM" cut-off the hub stamped on an order, or ""."""
    rule = snapshot.get(CUTOFF_KEY)
    value = rule.get("time") if isinstance(rule, dict) else None
    return value if isinstance(value, str) else ""


def carrier_group_key(carrier: str | None, cutoff: str) -> tuple[str, str]:
    """Carriers sort by cut-off (earliest first; none last), then by code (none last)."""
    return (cutoff or "\uffff", carrier or "\uffff")


def wave_ids(rows: Iterable[WaveRow], carrier: str | None, size: int) -> list[str]:
    """The wave for ``carrier`` (None: all) from To print rows in urgency order: the first ``size``."""
    size = max(1, size)
    picked = [r.order_id for r in rows if carrier is None or r.carrier == carrier]
    return picked[:size]


def wave_choices(rows: Iterable[WaveRow], size: int) -> list[WaveChoice]:
    """"All carriers" first, then one choice per carrier present (by :func:`carrier_group_key`).

    Empty when there is nothing to print. Only one carrier waiting: still offered by name, so the
    packer sees whose wave it is.
    """
    rows = list(rows)
    if not rows:
        return []
    size = max(1, size)
    out = [WaveChoice(None, tuple(wave_ids(rows, None, size)), len(rows))]
    carriers: dict[str, str] = {}
    for r in rows:
        carriers.setdefault(r.carrier, r.cutoff)
    for code in sorted(carriers, key=lambda c: carrier_group_key(c, carriers[c])):
        mine = [r for r in rows if r.carrier == code]
        out.append(WaveChoice(code, tuple(wave_ids(mine, code, size)), len(mine), carriers[code]))
    return out
