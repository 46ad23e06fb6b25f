"""Colour flags: what a queue row shows, and how queues sort.

A flag is always colour + icon + text (never colour alone: colour-blind packers and cheap
monitors). This module decides which flags an order has and the sort key; ``ui/`` draws them.
Queues sort by the most severe flag, then ship-by time, then order time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.cutoffs import handover_late
from core.states import DONE_STATES, FULFILMENT_STATES
from core.timeutil import DEFAULT_TZ, local_day, parse_iso


class Flag(StrEnum):
    CONFLICT = "conflict"
    VIP = "vip"
    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    #: printed, and its carrier's cut-off passed without a handover (core/cutoffs.py)
    HANDOVER_LATE = "handover_late"
    EXCEPTION = "exception"
    GIFT = "gift"
    DONE = "done"


@dataclass(frozen=True)
class FlagStyle:
    severity: int  # lower sorts first
    colour: str  # background, legible with black text
    icon: str  # a glyph that reads without colour
    zh: str
    en: str
    striped: bool = False


STYLES: dict[Flag, FlagStyle] = {
    Flag.CONFLICT: FlagStyle(0, "#e53935", "↯", "冲突", "Conflict", striped=True),
    Flag.VIP: FlagStyle(1, "#ef5350", "★", "VIP", "VIP"),
    Flag.OVERDUE: FlagStyle(2, "#fb8c00", "‼", "超时", "Overdue"),
    Flag.AT_RISK: FlagStyle(3, "#ffb74d", "◐", "将超时", "At risk"),
    # As urgent as overdue: the courier has left and the parcel is still here.
    Flag.HANDOVER_LATE: FlagStyle(2, "#ff7043", "※", "未交接", "Missed cut-off"),
    Flag.EXCEPTION: FlagStyle(4, "#fdd835", "▲", "异常", "Exception"),
    Flag.GIFT: FlagStyle(5, "#64b5f6", "◈", "赠品", "Gift"),
    Flag.DONE: FlagStyle(9, "#a5d6a7", "✔", "已完成", "Done"),
}
NO_FLAG_SEVERITY = 8


def is_done(state: object) -> bool:
    """Whether an order in ``state`` is done for the warehouse (:data:`core.states.DONE_STATES`).

    The one rule: the queues' "done" flag and queue are this plus "today" (:func:`order_flags`),
    the VIP queue leaves these out, a :class:`core.store.LocalOrder` carries ``done`` for them.
    """
    return state in DONE_STATES


#: Flags an order never carries together: overdue / at risk need an open order, done a finished one.
ONE_OF: frozenset[Flag] = frozenset({Flag.OVERDUE, Flag.AT_RISK, Flag.DONE})


def local_flags(view: dict[str, Any], pending: int, conflict: dict[str, Any] | None) -> tuple[str, ...]:
    """The flags a local order carries without a clock: the hub's plus what this station knows.

    Hub flags (``vip``, ``gift``…), then ``conflict`` (an unresolved refusal), ``exception`` (an open
    hold), ``cancel_requested``, ``pending`` (actions not yet answered) and ``done`` (:func:`is_done`).
    """
    flags = [f for f in view.get("flags") or [] if isinstance(f, str)]
    if conflict is not None:
        flags.append("conflict")
    if view.get("holds"):
        flags.append("exception")
    if view.get("cancel_requested"):
        flags.append("cancel_requested")
    if pending:
        flags.append("pending")
    if is_done(view.get("state")):
        flags.append("done")
    return tuple(flags)


def order_flags(order: dict[str, Any], *, now: datetime, warn_window: timedelta = timedelta(hours=2),
                conflict: bool = False, tz: str = DEFAULT_TZ) -> list[Flag]:
    """The flags of one order snapshot, most severe first.

    ``handover_late`` (未交接): a printed parcel whose carrier cut-off (``handover_due``) has passed.

    Args:
        order: the snapshot (hub shape).
        now: the current time (aware).
        warn_window: how long before ship-by an order counts as at risk (a site setting).
        conflict: the bench holds an unresolved conflict for it (local knowledge, not the hub's).
        tz: the site's time zone ("done today" is the site's day).
    """
    return flags_at(conflict=conflict, vip=is_vip(order), state=order.get("state"),
                    ship_by=parse_iso(order.get("ship_by")), late=handover_late(order, now),
                    held=bool(order.get("holds")), gift=has_gift(order), updated_at=order.get("updated_at"),
                    now=now, warn_window=warn_window, tz=tz)


def is_vip(order: dict[str, Any]) -> bool:
    """The hub flagged it VIP or routed it to the VIP lane (a fact of the order, not of the clock)."""
    return "vip" in set(order.get("flags") or []) or order.get("lane") == "vip"


def has_gift(order: dict[str, Any]) -> bool:
    """The hub flagged a gift, or a line is a gift."""
    return "gift" in set(order.get("flags") or []) or any(line.get("is_gift") for line in order.get("lines") or [])


def flags_at(conflict: bool, vip: bool, state: Any, ship_by: datetime | None, late: bool, held: bool,
             gift: bool, updated_at: Any, now: datetime, warn_window: timedelta, tz: str) -> list[Flag]:
    """The flags from an order's facts at ``now`` (:func:`order_flags` reads the facts off a snapshot;
    the queue rows' cache keeps them in columns, core/queue_facts.py), most severe first.

    ``late``: :func:`core.cutoffs.handover_late` at ``now``; ``updated_at``: the ISO text (read only
    for a done order). Positional arguments too: a load calls this 100,000 times.
    """
    flags: list[Flag] = []
    if conflict:
        flags.append(Flag.CONFLICT)
    if vip:
        flags.append(Flag.VIP)
    if ship_by is not None and state in FULFILMENT_STATES:
        if now >= ship_by:
            flags.append(Flag.OVERDUE)
        elif now >= ship_by - warn_window:
            flags.append(Flag.AT_RISK)
    if late:
        flags.append(Flag.HANDOVER_LATE)
    if held:
        flags.append(Flag.EXCEPTION)
    if gift:
        flags.append(Flag.GIFT)
    if is_done(state):
        updated = parse_iso(updated_at)
        if updated is not None and local_day(updated, tz) == local_day(now, tz):
            flags.append(Flag.DONE)
    if len(flags) > 1:
        flags.sort(key=_SEVERITY.__getitem__)
    return flags


_SEVERITY = {f: s.severity for f, s in STYLES.items()}


def severity(flags: list[Flag]) -> int:
    return min((STYLES[f].severity for f in flags), default=NO_FLAG_SEVERITY)


def sort_key(flags: list[Flag], order: dict[str, Any]) -> tuple[int, str, str, str]:
    """Most severe flag first, then earliest ship-by, then oldest order (ISO strings sort as times)."""
    return (severity(flags), order.get("ship_by") or NO_SHIP_BY, order.get("created_at") or "", order.get("order_id", ""))


#: The ship-by part of :func:`sort_key` of an order without a ship-by time (sorts after any time).
NO_SHIP_BY = "9999"


def flag_text(flag: Flag, lang: str = "zh_CN") -> str:
    style = STYLES[flag]
    return f"{style.icon} {style.zh if lang.startswith('zh') else style.en}"
