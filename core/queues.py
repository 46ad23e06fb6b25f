"""The queues: their rows, and one definition of each queue, of "done" and of search.

A queue row (:class:`QueueRow`) is built from an order's local view in the store, through the
view's facts (:mod:`core.queue_facts`: read off the view when it is written, cached in the store's
``queue_rows``; :func:`load_rows`, :func:`load_rows_by_id` read that cache on the database worker
and add what depends on the clock); flags come from :func:`core.flags.flags_at`, the rule
:func:`core.flags.order_flags` applies to a whole snapshot. The queues a station shows are filters over those rows:

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
from itertools import chain
from typing import Any

from core.cutoffs import late_at
from core.flags import NO_FLAG_SEVERITY, STYLES, Flag, flags_at, is_done
from core.holds import hold_label
from core.i18n import _, language
from core.phones import is_phone_needle, tail_matches
from core.queue_facts import SEP as SEP  # re-exported: the search rule's separator
from core.queue_facts import facts_of, ship_by_of
from core.queue_facts import search_text as search_text  # re-exported: what a search looks in
from core.split_merge import link_badge, link_text
from core.states import BENCH_STATES, State
from core.store import LocalStore
from core.timeutil import DEFAULT_TZ, parse_iso, to_local, utcnow


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

    Through the view's facts (:func:`core.queue_facts.facts_of`), as a load builds them from the
    store's cache: one rule for both."""
    return row_from_facts((*facts_of(snap), pending, conflict), now=now, tz=tz, warn_window=warn_window)


def row_from_facts(facts: tuple[Any, ...], *, now: datetime, tz: str = DEFAULT_TZ,
                   warn_window: timedelta = timedelta(hours=2)) -> QueueRow:
    """Build a row from an order's facts (:data:`core.queue_facts.FACT_COLUMNS`, then pending and
    conflict: a row of the store's ``queue_rows``); the clock-based flags at ``now``.

    Run 100,000 times by a desk's load: plain values in, the parts most orders do not have (holds,
    a split or a merge, in ``extra``) only when present, times parsed once per distinct value."""
    (ship_key, created_key, order_id, state, bench, recipient, phone, items, updated_at, due, carrier,
     cutoff, search_, vip, gift, held, extra, pending, conflict) = facts
    ship_by = ship_by_of(ship_key)
    flags = flags_at(bool(conflict), bool(vip), state, _parse(ship_by), late_at(state, due, now), bool(held),
                     bool(gift), updated_at, now, warn_window, tz)
    hold, hold_since, link, link_tip = "", None, "", ""
    if extra is not None:
        doc = json.loads(extra)
        holds = doc.get("holds") or []
        if holds:
            lang = language()
            hold = " / ".join(f"{hold_label(str(h.get('type')), lang)} ({_who(h.get('raised_by'))})"
                              + (" · " + _("escalated") if h.get("escalated") else "") for h in holds)
            raised = [t for t in (parse_iso(h.get("raised_at")) for h in holds) if t is not None]
            hold_since = min(raised) if raised else None
        if "split" in doc or "merge" in doc:
            doc["order_id"] = order_id
            link, link_tip = link_badge(doc), link_text(doc)
    key = (_SEVERITY[flags[0]] if flags else NO_FLAG_SEVERITY, ship_key, created_key, order_id)  # flags: sorted
    # Positional, in field order (keyword arguments cost a tenth of the row here).
    return QueueRow(str(order_id), state, bench, recipient, int(items), _ship_text(ship_by, tz), int(pending),
                    bool(conflict), bool(held), tuple(flags), key, search_, hold, hold_since, phone, carrier, cutoff,
                    link, link_tip, rank_of(key))


_SEVERITY = {f: style.severity for f, style in STYLES.items()}


@lru_cache(maxsize=65536)
def _parse(text: str | None) -> datetime | None:
    """:func:`core.timeutil.parse_iso`, once per distinct time (a load's orders share many)."""
    return parse_iso(text)


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
    """Every order of the local store as queue rows, in queue order; with ``limit``, only the first
    that many by ship-by time (a first screen, shown while the rest is read).

    Runs on a worker thread. Reads the store's cache of each view's facts (``queue_rows``, in
    ship-by, order-time, ID order: :mod:`core.queue_facts`), not the JSON views: no document is
    parsed, and the queue order is that order within each severity, so the rows are put in
    order by a stable pass into severity buckets, not by a sort (a 100,000-string sort is one C
    call that holds the GIL ~30 ms: the GUI thread would wait that long).
    """
    when = now or utcnow()
    buckets: dict[int, list[QueueRow]] = {}
    for facts in store.queue_facts(limit=limit):
        row = row_from_facts(facts, now=when, tz=tz)
        sev = row.key[0]
        bucket = buckets.get(sev)
        if bucket is None:
            buckets[sev] = bucket = []
        bucket.append(row)
    return list(chain.from_iterable(buckets[s] for s in sorted(buckets)))




def load_rows_by_id(store: LocalStore, order_ids: Iterable[str], *, now: datetime | None = None,
                    tz: str = DEFAULT_TZ) -> dict[str, QueueRow | None]:
    """Re-read only the given orders; an ID mapped to None is gone from the store (dropped)."""
    ids = list(dict.fromkeys(order_ids))
    when = now or utcnow()
    found: dict[str, QueueRow | None] = dict.fromkeys(ids)
    for facts in store.queue_facts(ids):
        row = row_from_facts(facts, now=when, tz=tz)
        found[row.order_id] = row
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
