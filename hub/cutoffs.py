"""The hub's side of carrier cut-offs and handovers (docs/routing.md "Carrier cut-offs").

* :func:`stamp` puts the order's carrier cut-off rule on it (``handover_cutoff``) whenever the
  carrier may have changed (allocation, a void), so a bench printing offline can compute the due
  time itself (``core/store/overlay.py``);
* :func:`label_printed` sets ``handover_due`` from the hub's current rules and the print time;
* :func:`label_voided` drops it (the reprint sets it again);
* :func:`handover_record` is what a ``shipped_by_station`` with a ``batch_id`` leaves on the order.

The arithmetic is :mod:`core.cutoffs`, the same the bench runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.cutoffs import CUTOFF_KEY, cutoff_rule, next_cutoff
from core.timeutil import iso
from hub.routing import Rules

__all__ = ["handover_record", "label_printed", "label_voided", "stamp"]


def stamp(doc: dict[str, Any], rules: Rules, tz: str) -> None:
    """Stamp (or remove) the order's carrier cut-off rule."""
    carrier = doc.get("carrier")
    rule = cutoff_rule(carrier, rules.cutoffs.get(carrier) if carrier else None, tz)
    if rule is None:
        doc.pop(CUTOFF_KEY, None)
    else:
        doc[CUTOFF_KEY] = rule


def label_printed(doc: dict[str, Any], rules: Rules, tz: str, printed_at: datetime) -> None:
    """The label is printed at ``printed_at``: due at its carrier's next cut-off (none: no due time).

    ``label_printed_at`` is kept on the order so the handover's "still missing" list can say which day
    a parcel was printed (``updated_at`` moves with every later change, a hold or a note)."""
    stamp(doc, rules, tz)
    doc["label_printed_at"] = iso(printed_at)
    cutoff = rules.cutoffs.get(doc.get("carrier") or "")
    if cutoff is None:
        doc.pop("handover_due", None)
    else:
        doc["handover_due"] = iso(next_cutoff(printed_at, cutoff, tz))


def label_voided(doc: dict[str, Any], rules: Rules, tz: str) -> None:
    """The label is dead: nothing is due until the reprint; the carrier may have changed."""
    doc.pop("handover_due", None)
    doc.pop("label_printed_at", None)
    stamp(doc, rules, tz)


def handover_record(payload: dict[str, Any], *, station: str, operator: str, at: str) -> dict[str, str] | None:
    """``handover`` of a parcel shipped in a handover batch, or None when no batch was named."""
    batch = payload.get("batch_id")
    if not isinstance(batch, str) or not batch.strip():
        return None
    return {"batch_id": batch.strip(), "station": station, "operator": operator, "at": at}
