"""The queues: their rows, and one definition of each queue, of "done" and of search.

A queue row (:class:`QueueRow`) is built from an order's local view in the store
(:func:`load_rows`, :func:`load_rows_by_id`, run on the database worker); flags come from
:func:`core.flags.order_flags`. The queues a station shows are filters over those rows:

* **my bench** — this bench's bench-workable orders (:data:`core.states.BENCH_STATES`);
* **VIP** — VIP orders not yet done;
* **exceptions** — an open hold or an unresolved conflict with the hub;
* **to print** — allocated and not held: a label can be printed now;
* **done** — done today: :func:`core.flags.is_done` and updated on the site's day (the DONE flag);
* **all** — everything this station holds.

"Done" has one rule (:func:`core.flags.is_done` on :data:`core.states.DONE_STATES`, plus "today"
for the flag); search has one rule (:func:`matches`). ``ui/queue_model.py`` presents the rows.
No Qt here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

from core.flags import Flag, is_done, order_flags, sort_key
from core.holds import hold_label
from core.i18n import _, language
from core.phones import is_phone_needle, phone_digits, tail_matches
from core.split_merge import link_badge, link_text
from core.states import BENCH_STATES, State
from core.store import LocalStore
from core.timeutil import DEFAULT_TZ, parse_iso, to_local, utcnow
from core.waves import cutoff_of

SEP = "\x1f"  # between search fields, so a search never matches across two fields


@dataclass(slots=True)
class QueueRow:
    """One order as a queue shows it: only what the columns, sorting and filtering need.

    Built once per change (off the GUI thread); 100,000 of them are a few tens of MB.
    """

    order_id: str
    state: str
    bench: str
    recipient: str
    items: int
    ship_by: str  # site-local "MM-DD HH:MM" or ""
    pending: int
    conflict: bool
    held: bool
    flags: tuple[Flag, ...]
    key: tuple[int, str, str, str]  # core.flags.sort_key
    search: str  # lowercase search keys joined with SEP (:func:`search_text`)
    hold: str = ""  # "gift stock short (system) / …" in the UI language
    hold_since: datetime | None = None  # when the oldest open hold was raised
    phone: str = ""  # the recipient's phone digits: searched by its tail (:func:`core.phones.tail_matches`)
    carrier: str = ""  # the carrier code ("" none): waves by carrier (core/waves.py)
    cutoff: str = ""  # the carrier's cut-off "HH:MM" the hub stamped ("" none known)
    link: str = ""  # "◐ 拆单" / "● 合单": split or merged (core/split_merge.py), "" neither
    link_tip: str = ""  # the connection in words: which orders
    # :attr:`key` as one string that sorts the same (:func:`rank_of`); filled in if "" (so a
    # dataclasses.replace that changes ``key`` must pass rank="")
    rank: str = ""

    def __post_init__(self) -> None:
        if not self.rank:
            self.rank = rank_of(self.key)


def rank_of(key: tuple[int, str, str, str]) -> str:
    """A queue sort key (:func:`core.flags.sort_key`) as one plain string that sorts the same.

    Why: Python sorts 100,000 plain strings several times faster than 100,000 tuples (no
    per-pair tuple comparison). Severity is a small non-negative number (zero-padded); the
    strings are joined with NUL, which sorts before any character the ISO times and IDs hold, so a
    field that is a prefix of another still sorts first, as in the tuple.
    """
    sev, ship_by, created, order_id = key
    return f"{sev:04d}\x00{ship_by}\x00{created}\x00{order_id}"


# -- search --------------------------------------------------------------------------------------

def search_text(snap: dict[str, Any]) -> str:
    """What a search looks in (any part): order ID, channel order no, recipient name, waybill, and
    each line's SKU.

    Lower-cased and joined with :data:`SEP`. The phone is not in it: a phone is found by its
    tail only (:attr:`QueueRow.phone`, :func:`core.phones.tail_matches`), as the hub's search
    does — "4321" finds "139-0000-4321", "1422" does not find 18592142232.
    """
    rec = snap.get("recipient") or {}
    return SEP.join((
        str(snap.get("order_id") or ""), str(snap.get("channel_order_no") or ""),
        str(rec.get("name") or ""), str(snap.get("waybill_no") or ""),
        *(str(line.get("sku") or "") for line in snap.get("lines") or ()),
    )).lower()


def needle(text: str) -> str:
    """The search box text as :func:`matches` takes it (trimmed, lower-cased; "" matches all)."""
    return text.strip().lower()


def matches(row: QueueRow, needle_: str) -> bool:
    """Whether a row is found by a search: ``needle_`` (from :func:`needle`) inside one of its keys,
    or (4 digits or more) the tail of its phone number."""
    return not needle_ or needle_ in row.search or tail_matches(row.phone, needle_)


def search(rows: list[QueueRow], needle_: str) -> list[QueueRow]:
    """The rows :func:`matches` finds, in their order (``rows`` itself when there is no search).

    The same test as :func:`matches`, written inline: the reference rule. The queue tables answer
    from :class:`core.search_index.SearchIndex` (or :func:`core.search_index.scan`), which find
    exactly these rows (tests/core/test_search_index.py) without a Python pass per row.
    """
    if not needle_:
        return rows
    if is_phone_needle(needle_):
        return [r for r in rows if needle_ in r.search or (r.phone and r.phone.endswith(needle_))]
    return [r for r in rows if needle_ in r.search]


# -- rows ----------------------------------------------------------------------------------------

def row_from_snapshot(snap: dict[str, Any], *, pending: int, conflict: bool, now: datetime,
                      tz: str = DEFAULT_TZ, warn_window: timedelta = timedelta(hours=2)) -> QueueRow:
    """Build a row from a local view; time-based flags (overdue / at risk / done today) use ``now``.

    Run 100,000 times by a desk's load: the parts most orders do not have (holds, a split or a
    merge) are skipped when absent, and the ship-by text is cached per distinct value."""
    flags = order_flags(snap, now=now, warn_window=warn_window, conflict=conflict, tz=tz)
    rec = snap.get("recipient") or {}
    holds = snap.get("holds") or []
    if holds:
        lang = language()
        hold = " / ".join(f"{hold_label(str(h.get('type')), lang)} ({_who(h.get('raised_by'))})"
                          + (" · " + _("escalated") if h.get("escalated") else "") for h in holds)
        raised = [t for t in (parse_iso(h.get("raised_at")) for h in holds) if t is not None]
    else:
        hold, raised = "", []
    linked = "split" in snap or "merge" in snap
    return QueueRow(
        order_id=str(snap["order_id"]),
        state=str(snap.get("state") or ""),
        bench=str(snap.get("bench") or ""),
        recipient=str(rec.get("name") or ""),
        items=sum(int(line.get("qty") or 0) for line in snap.get("lines") or []),
        ship_by=_ship_text(snap.get("ship_by"), tz),
        pending=pending,
        conflict=conflict,
        held=bool(holds),
        flags=tuple(flags),
        key=sort_key(flags, snap),
        search=search_text(snap),
        phone=phone_digits(str(rec.get("phone") or "")),
        hold=hold,
        hold_since=min(raised) if raised else None,
        carrier=str(snap.get("carrier") or ""),
        cutoff=cutoff_of(snap),
        link=link_badge(snap) if linked else "",
        link_tip=link_text(snap) if linked else "",
    )


@lru_cache(maxsize=8192)
def _ship_text(ship_by: str | None, tz: str) -> str:
    """A ship-by time as the queue shows it (site-local "MM-DD HH:MM"); orders share a few values."""
    ship = parse_iso(ship_by)
    return to_local(ship, tz).strftime("%m-%d %H:%M") if ship is not None else ""


def _who(raised_by: Any) -> str:
    """Who raised a hold: an operator code, or the hub's own rules ("system")."""
    return _("system") if raised_by in (None, "", "system") else str(raised_by)


def queue_order(row: QueueRow) -> tuple[int, str, str, str]:
    """The default queue order: most severe flag, then ship-by, then order time (:func:`core.flags.sort_key`)."""
    return row.key


def load_rows(store: LocalStore, *, now: datetime | None = None, tz: str = DEFAULT_TZ,
              limit: int | None = None) -> list[QueueRow]:
    """Every order of the local store as queue rows, in queue order (one SQL query); with ``limit``,
    only the first that many in storage order (a first screen, shown while the rest is read).

    Runs on a worker thread: ~100,000 JSON documents are parsed here, never on the GUI thread.
    """
    when = now or utcnow()
    rows = [row_from_snapshot(json.loads(local), pending=pending, conflict=conflict, now=when, tz=tz)
            for _oid, local, pending, conflict in store.order_views(limit=limit)]
    rows.sort(key=_rank)  # the same order as queue_order's tuples, without a tuple comparison per pair
    return rows


_rank = attrgetter("rank")


def load_rows_by_id(store: LocalStore, order_ids: Iterable[str], *, now: datetime | None = None,
                    tz: str = DEFAULT_TZ) -> dict[str, QueueRow | None]:
    """Re-read only the given orders; an ID mapped to None is gone from the store (dropped)."""
    ids = list(dict.fromkeys(order_ids))
    when = now or utcnow()
    found: dict[str, QueueRow | None] = dict.fromkeys(ids)
    for oid, local, pending, conflict in store.order_views(ids):
        found[oid] = row_from_snapshot(json.loads(local), pending=pending, conflict=conflict, now=when, tz=tz)
    return found


# -- the queues ----------------------------------------------------------------------------------

RowFilter = Callable[[QueueRow], bool]


def my_bench(bench: str) -> RowFilter:
    """This station's bench work (bench-workable states); nothing on a desk PC (no bench)."""
    return lambda r: bool(bench) and r.bench == bench and r.state in BENCH_STATES


def vip_queue(r: QueueRow) -> bool:
    """VIP orders still to be done (a VIP order shipped yesterday is done, not VIP work)."""
    return Flag.VIP in r.flags and not is_done(r.state)


def exceptions_queue(r: QueueRow) -> bool:
    """Orders with an open hold or a local conflict."""
    return r.held or r.conflict


_ALLOCATED = State.ALLOCATED.value  # an Enum's .value per row was a fifth of a 100k-row filter


def to_print_queue(r: QueueRow) -> bool:
    """Allocated, not held: a label can be printed now."""
    return r.state == _ALLOCATED and not r.held


def done_queue(r: QueueRow) -> bool:
    """Done today (site day): the DONE flag of :func:`core.flags.order_flags`."""
    return Flag.DONE in r.flags


def all_orders(_r: QueueRow) -> bool:
    return True


#: The queue keys a station shows, in Ctrl+1… order.
QUEUE_KEYS: tuple[str, ...] = ("bench", "vip", "exceptions", "to_print", "done", "all")


def queue_filter(key: str, bench: str) -> RowFilter:
    """The filter of the queue ``key`` (one of :data:`QUEUE_KEYS`) on a station with ``bench``."""
    if key == "bench":
        return my_bench(bench)
    return {"vip": vip_queue, "exceptions": exceptions_queue, "to_print": to_print_queue,
            "done": done_queue, "all": all_orders}[key]


def in_scope(row: QueueRow, bench_scope: str | None) -> bool:
    """A packer sees only their own bench's orders (``bench_scope``); None: every bench."""
    return bench_scope is None or row.bench == bench_scope
