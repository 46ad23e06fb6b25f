"""A parcel's tracking (物流轨迹) as people read it: each status in words, the history newest first.

The hub fills the order snapshot's ``tracking``, ``tracking_status`` and ``signed_at``
(hub/carriers/tracking.py, docs/tracking.md); the statuses are
:data:`core.model.TRACKING_STATUSES`. This module only says how they read; the desk's order detail
draws them (ui/order_detail.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.i18n import N_, _
from core.model import TRACKING_STATUSES

#: status -> English msgid (the zh_CN catalogue has 已揽收, 运输中, …)
STATUS_WORDS: dict[str, str] = {
    "collected": N_("Collected by the carrier"),
    "in_transit": N_("In transit"),
    "delivering": N_("Out for delivery"),
    "signed": N_("Signed for"),
    "problem": N_("Problem parcel"),
    "refused": N_("Refused by the recipient"),
    "returning": N_("Being returned"),
    "returned": N_("Returned to the sender"),
}
assert set(STATUS_WORDS) == set(TRACKING_STATUSES)

#: Statuses that need someone's attention (drawn as a warning, never by colour alone).
TROUBLE: frozenset[str] = frozenset({"problem", "refused", "returning", "returned"})


def status_words(status: Any) -> str:
    """A tracking status in the operator's language; an unknown one as recorded."""
    word = STATUS_WORDS.get(str(status or ""))
    return _(word) if word else str(status or "")


@dataclass(frozen=True)
class TrackLine:
    """One history line to show: when (ISO UTC), where, what the carrier said, its status."""

    at: str
    place: str
    text: str
    status: str


def track_lines(snapshot: dict[str, Any]) -> list[TrackLine]:
    """The snapshot's tracking history, newest first (malformed entries skipped)."""
    out = []
    for e in snapshot.get("tracking") or []:
        if isinstance(e, dict) and isinstance(e.get("at"), str):
            out.append(TrackLine(e["at"], str(e.get("place") or ""), str(e.get("text") or ""),
                                 str(e.get("status") or "")))
    return out
