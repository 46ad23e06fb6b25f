"""A desk's change to one stock row, checked before it goes to the hub (issue 14, docs/stock.md).

Two kinds, both online only (stock is kept at the hub; a count queued offline would be stale by the
time it arrived): an **adjustment** with a reason (盘点 a count, 到货 a receipt, 破损 damage, 其他
other), and the **way out of quarantine** for damaged returns (报废 scrapped, or 复检合格 put back on
the shelf). :func:`plan` turns what the clerk typed into the hub request and a before → after line,
or says in words why it cannot be sent; the hub checks again (two desks may race).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import UserError
from core.i18n import N_, _

#: The adjustment reasons (hub/stock.py ADJUST_REASONS), in the order a clerk meets them.
ADJUST_KINDS: tuple[tuple[str, str], ...] = (
    ("cycle_count", N_("Cycle count: the units counted on the shelf")),
    ("receipt", N_("Receipt: units arrived")),
    ("damage", N_("Damage: units broken on the shelf")),
    ("other", N_("Other: a change up or down (say why)")),
)
#: What becomes of quarantined units (hub/stock.py QUARANTINE_OUTCOMES).
QUARANTINE_KINDS: tuple[tuple[str, str], ...] = (
    ("scrap", N_("Scrap: thrown away or sent back to the supplier")),
    ("restock", N_("Re-checked and good: back on the shelf")),
)
MAX_UNITS = 2_000_000_000


@dataclass(frozen=True)
class StockChange:
    """One request for the hub: ``call`` is ``"adjust"`` or ``"quarantine"``; ``args`` its keyword arguments."""

    call: str
    args: dict[str, Any]
    preview: str


def _counts(row: dict[str, Any]) -> tuple[int, int, int]:
    q = row.get("quarantine")
    return int(row["on_hand"]), int(row["reserved"]), q if isinstance(q, int) and not isinstance(q, bool) else 0


def plan(row: dict[str, Any], mode: str, kind: str, number: int, note: str) -> StockChange:
    """The request for ``row`` (a stock row as the hub sent it), or :class:`UserError` saying why not.

    ``mode``: ``"adjust"`` (``kind`` an adjustment reason; ``number`` the count for ``cycle_count``,
    the units otherwise, signed for ``other``) or ``"quarantine"`` (``kind`` scrap / restock,
    ``number`` the units leaving quarantine).
    """
    on_hand, reserved, held_back = _counts(row)
    note = note.strip()
    base = {"sku": row["sku"], "warehouse": row["warehouse"], "note": note[:200]}
    if mode == "quarantine":
        if kind not in dict(QUARANTINE_KINDS):
            raise UserError(_("Choose what becomes of the units."), code="choose")
        if held_back <= 0:
            raise UserError(_("Nothing of {sku} is in quarantine at {warehouse}.").format(
                sku=row["sku"], warehouse=row["warehouse"]), code="units")
        if not 1 <= number <= held_back:
            raise UserError(_("Between 1 and {n} units can leave quarantine.").format(n=held_back), code="units")
        back = number if kind == "restock" else 0
        preview = _("Quarantine {q0} → {q1}; on hand {h0} → {h1}; available {a0} → {a1}").format(
            q0=held_back, q1=held_back - number, h0=on_hand, h1=on_hand + back, a0=on_hand - reserved,
            a1=on_hand + back - reserved)
        return StockChange("quarantine", {**base, "outcome": kind, "units": number}, preview)
    if kind not in dict(ADJUST_KINDS):
        raise UserError(_("Choose the reason of the change."), code="choose")
    if kind == "cycle_count":
        new = number
        if not 0 <= new <= MAX_UNITS:
            raise UserError(_("A count is 0 or more units."), code="units")
        if new == on_hand:
            raise UserError(_("The count is what the hub already has: nothing to change."), code="units")
        args = {**base, "reason": kind, "on_hand": new}
    else:
        delta = {"receipt": number, "damage": -number}.get(kind, number)
        if kind in ("receipt", "damage") and number < 1:
            raise UserError(_("Give the number of units (1 or more)."), code="units")
        if delta == 0:
            raise UserError(_("Give the change in units (more or fewer, not 0)."), code="units")
        if kind == "other" and not note:
            raise UserError(_("Say why the stock changes."), code="note")
        new = on_hand + delta
        if new < 0:
            raise UserError(_("There are {n} on hand: it cannot go below 0.").format(n=on_hand), code="units")
        if new > MAX_UNITS:
            raise UserError(_("That is more units than the hub counts."), code="units")
        args = {**base, "reason": kind, "delta": delta}
    preview = _("On hand {h0} → {h1}; available {a0} → {a1}").format(
        h0=on_hand, h1=new, a0=on_hand - reserved, a1=new - reserved)
    if new < reserved:
        preview += " " + _("(below what is reserved: the newest orders will wait for stock)")
    return StockChange("adjust", args, preview)


def outcome_text(answer: dict[str, Any]) -> str:
    """The hub's answer in one line for the stock view's message."""
    text = _("{sku} at {warehouse}: {on_hand} on hand, {available} available.").format(
        sku=answer.get("sku", "?"), warehouse=answer.get("warehouse", "?"), on_hand=answer.get("on_hand", "?"),
        available=answer.get("available", "?"))
    released = answer.get("released") or []
    shed = answer.get("shed") or []
    if released:
        text += " " + _("{n} orders waiting for stock were released.").format(n=len(released))
    if shed:
        text += " " + _("{n} orders now wait for stock.").format(n=len(shed))
    return text


def change_refusal_text(details: Any, fallback: str) -> str:
    """A hub refusal of a stock change in the operator's words (the hub's own message is English)."""
    d = details if isinstance(details, dict) else {}
    if isinstance(d.get("quarantine"), int):
        return _("The hub has only {n} units in quarantine now (another desk changed it); refresh and try again.").format(
            n=d["quarantine"])
    if isinstance(d.get("on_hand"), int):
        return _("The hub has {n} on hand now (another change came first); refresh and try again.").format(n=d["on_hand"])
    return fallback
