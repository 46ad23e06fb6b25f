"""A search index over queue rows that answers a search without a Python pass over every row.

Why: a desk PC holds 100,000 orders on a peak day; ``[r for r in rows if needle in r.search]``
costs ~0.6 µs a row (60 ms a keystroke). Here every row's search text is kept in one long string
(the *haystack*, each row's text ended by :data:`RS`), so a search is ``str.find`` over it — a C
scan of a few MB — plus a little Python work per row found. A phone-tail search looks up the
needle's last four digits in a map of every number's last four digits to its slots, and keeps
those whose number ends with the whole needle: ∝ the few numbers sharing the tail (it was a find
of ``needle + RS`` in a haystack of phone digits, ~1 ms of C scan a keystroke at 100,000 rows).
The needle holds neither :data:`RS` nor :data:`core.queues.SEP`, so a find never spans
two rows or two fields: what is found is exactly what :func:`core.queues.search` finds (a property
test checks this, also after updates and removals).

Rows get a *slot* when added; slots are never reused. Removing a row only marks its slot dead
(its text stays in the haystack and is skipped); new rows are appended at the next search. When
a quarter of the slots are dead the haystacks are rebuilt from the live rows (C-speed joins).

A search that finds many rows (a short needle) gives up after ``limit`` rows and returns None:
the caller then filters its rows in one pass (:func:`scan`), which is cheaper than finding and
ordering tens of thousands of hits one by one. No Qt here.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from itertools import compress, repeat
from operator import attrgetter, contains
from typing import TYPE_CHECKING

from core import slices
from core.phones import MIN_TAIL, is_phone_needle

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.queues import QueueRow

__all__ = ["MAX_HITS", "RS", "SearchIndex", "scan", "scan_text"]

RS = "\x1e"  # ends each row's text in a haystack (core.queues.SEP separates fields)

#: Above this many rows found, :meth:`SearchIndex.find` returns None (the caller scans instead).
MAX_HITS = 2000

_search_of = attrgetter("search")
_phone_of = attrgetter("phone")
_id_of = attrgetter("order_id")


def _ends(texts: list[str], start: int) -> array[int]:
    """Where each text ends (after its :data:`RS`) when ``texts`` are joined from ``start`` on.

    All C, in slices (:mod:`core.slices`): no Python-level step per row, and the worker that
    builds a 100,000-row index gives the GIL up between slices.
    """
    return slices.ends(texts, start)


def _tails(rows: list[QueueRow]) -> dict[str, array[int]]:
    """Every number's last :data:`core.phones.MIN_TAIL` digits → the slots of ``rows`` holding it,
    ascending (a plain loop: a worker building it gives the GIL up as it goes)."""
    out: dict[str, array[int]] = {}
    get = out.get
    for slot, phone in enumerate(map(_phone_of, rows)):
        if len(phone) >= MIN_TAIL:
            tail = phone[-MIN_TAIL:]
            slots = get(tail)
            if slots is None:
                out[tail] = slots = array("q")
            slots.append(slot)
    return out


def scan(rows: list[QueueRow], needle: str) -> list[QueueRow]:
    """The rows a search finds (:func:`core.queues.search`'s rule), in their order, in one pass.

    The per-row steps are C (``map`` / ``compress``), but measured at 100,000 rows this is about
    as fast as the list comprehension (the substring test and reaching each row dominate): it is
    the fallback for searches that find a large part of the rows, not the fast path."""
    if not needle:
        return rows
    found = map(contains, map(_search_of, rows), repeat(needle))
    if is_phone_needle(needle):
        tail = map(str.endswith, map(_phone_of, rows), repeat(needle))
        found = map(max, found, tail)  # max(bool, bool) is "or", in C
    return list(compress(rows, found))


def scan_text(rows: list[QueueRow], needle: str) -> list[QueueRow]:
    """The rows whose search text holds ``needle``, in their order (no phone tails): one C-level pass.

    The queue model's narrowing pass; phone-tail hits come from :meth:`SearchIndex.phone_rows`."""
    return list(compress(rows, map(contains, map(_search_of, rows), repeat(needle))))


class _Haystack:
    """One text per slot, ended by :data:`RS`, in one string; start offsets per slot."""

    __slots__ = ("offsets", "pending", "text")

    def __init__(self) -> None:
        self.text = ""
        self.offsets = array("q", [0])  # offsets[s] = start of slot s; last = len(text)
        self.pending: list[str] = []  # texts of slots not yet appended

    def reset(self, texts: list[str]) -> None:
        self.text = slices.join(RS, texts) + RS if texts else ""
        self.offsets = _ends(texts, 0)
        self.pending = []

    def append(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        if self.pending:
            more = RS.join(self.pending) + RS
            self.offsets.extend(_ends(self.pending, len(self.text))[1:])  # [0]: already the last offset
            self.text += more
            self.pending = []

    def slots_with(self, needle: str, seen: set[int], out: list[int], alive: list[QueueRow | None],
                   limit: int) -> bool:
        """Append to ``out`` the live slots whose text contains ``needle`` (not in ``seen``).

        Returns False when more than ``limit`` slots would be found (``out`` is then incomplete).
        """
        offsets, find = self.offsets, self.text.find
        pos = find(needle)
        while pos >= 0:
            slot = bisect_right(offsets, pos) - 1
            if alive[slot] is not None and slot not in seen:
                seen.add(slot)
                out.append(slot)
                if len(out) > limit:
                    return False
            pos = find(needle, offsets[slot + 1])  # on to the next row
        return True


class SearchIndex:
    """The rows of one queue, searchable by :func:`core.queues.search`'s rule without a scan.

    Keeps up with changes row by row (:meth:`add`, :meth:`remove`); :meth:`reset` rebuilds.
    """

    def __init__(self, rows: Iterable[QueueRow] = (), *, compact_after: int = 1000) -> None:
        self._compact_after = compact_after  # rebuild when this many slots (and ≥ 1/4) are dead
        self._rows: list[QueueRow | None] = []  # by slot; None: removed
        self._slot: dict[str, int] = {}  # order ID → live slot
        self._text = _Haystack()
        self._tails: dict[str, array[int]] = {}  # a number's last MIN_TAIL digits → its slots, ascending
        self._dead = 0
        self.reset(rows)

    def reset(self, rows: Iterable[QueueRow]) -> None:
        """Index exactly ``rows`` (one per order ID), dropping whatever was indexed."""
        live = list(rows)
        self._rows = list(live)
        self._slot = slices.slots(list(map(_id_of, live)))
        self._text.reset(list(map(_search_of, live)))
        self._tails = _tails(live)
        self._dead = 0

    def adopt(self, other: SearchIndex) -> None:
        """Take ``other``'s contents (built on a worker thread) in place: whoever holds this index
        (every queue model) sees the new rows at once; ``other`` must not be used afterwards."""
        self._compact_after, self._rows, self._slot = other._compact_after, other._rows, other._slot
        self._text, self._tails, self._dead = other._text, other._tails, other._dead

    def phone_rows(self, needle: str) -> list[QueueRow]:
        """The indexed rows whose phone digits end with ``needle`` (a phone tail, ∝ the hits)."""
        if not is_phone_needle(needle) or RS in needle:
            return []
        self._maintain()
        out: list[int] = []
        self._tail_slots(needle, set(), out, len(self._rows))
        rows = self._rows
        return [rows[s] for s in out]  # type: ignore[misc]  # live slots only

    def _tail_slots(self, needle: str, seen: set[int], out: list[int], limit: int) -> bool:
        """Append to ``out`` the live slots whose phone ends with ``needle`` (not in ``seen``), in
        slot order; False when more than ``limit`` would be found (``out`` is then incomplete)."""
        rows = self._rows
        for slot in self._tails.get(needle[-MIN_TAIL:], ()):
            row = rows[slot]
            if row is not None and slot not in seen and row.phone.endswith(needle):
                seen.add(slot)
                out.append(slot)
                if len(out) > limit:
                    return False
        return True

    def memory(self) -> int:
        """Bytes the index holds beyond the rows themselves (haystacks, offsets, slot tables)."""
        return sum(sys.getsizeof(x) for x in (
            self._text.text, self._text.offsets, self._tails, self._rows, self._slot)) + sum(
                sys.getsizeof(slots) for slots in self._tails.values())

    def __len__(self) -> int:
        return len(self._slot)

    def add(self, row: QueueRow) -> None:
        """Index a row (replacing the row of the same order ID, if any)."""
        self.remove(row.order_id)
        self._slot[row.order_id] = len(self._rows)
        self._rows.append(row)
        self._text.append(row.search)
        phone = row.phone
        if len(phone) >= MIN_TAIL:
            tail = self._tails.get(phone[-MIN_TAIL:])
            if tail is None:
                self._tails[phone[-MIN_TAIL:]] = tail = array("q")
            tail.append(self._slot[row.order_id])

    def remove(self, order_id: str) -> None:
        """Forget an order (nothing if it is not indexed)."""
        slot = self._slot.pop(order_id, None)
        if slot is not None:
            self._rows[slot] = None
            self._dead += 1

    def find(self, needle: str, limit: int = MAX_HITS) -> list[QueueRow] | None:
        """The indexed rows a search ``needle`` (from :func:`core.queues.needle`) finds, in no
        particular order; None when more than ``limit`` rows match (scan instead).

        Every row for "" (no search) is "too many" too: the caller shows all its rows.
        """
        if not needle or RS in needle:
            return None
        self._maintain()
        if self._surely_more(needle, limit):
            return None
        seen: set[int] = set()
        out: list[int] = []
        if not self._text.slots_with(needle, seen, out, self._rows, limit):
            return None
        if is_phone_needle(needle) and not self._tail_slots(needle, seen, out, limit):
            return None
        rows = self._rows
        return [rows[s] for s in out]  # type: ignore[misc]  # live slots only

    def _surely_more(self, needle: str, limit: int) -> bool:
        """Whether a sixteenth of the haystack already holds ``needle`` more than twice as often as
        ``limit`` allows (a C count): then the caller's pass is cheaper than finding hits one by
        one only to give up. An estimate, so it only chooses the way; the answer is exact either way.
        """
        part = len(self._text.text) >> 4
        return part > 4096 and self._text.text.count(needle, 0, part) * 16 > 2 * limit

    def _maintain(self) -> None:
        if self._dead > self._compact_after and self._dead * 4 > len(self._rows):
            self.reset(r for r in self._rows if r is not None)
        else:
            self._text.flush()
