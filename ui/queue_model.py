"""The queue tables: one :class:`QueueModel` class, parameterised by a queue filter.

Why a model and not a proxy: STYLE.md §4 — sorting and filtering 100,000 Python rows through a
``QSortFilterProxyModel`` took ~25 s here; doing it on plain lists inside the model takes tens of
milliseconds. So each queue keeps two lists of light :class:`QueueRow` objects:

* ``_all`` — every row of the queue, kept sorted by the current sort key;
* ``_rows`` — what the view shows: ``_all`` filtered by the search box (the same list object when
  there is no search text).

Rows, flags, the queue filters and search are :mod:`core.queues` (built off the GUI thread by
``load_rows`` / ``load_rows_by_id`` on the task runner's database worker); the model only takes
finished lists and presents them: columns, display text, colours, sorting. A few changed
orders are merged in with row-level signals (the view keeps its selection and scroll position);
a big batch (a sync page) is merged with list operations and one reset, which is cheaper than
thousands of single-row signals.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from operator import attrgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from core import slices
from core.flags import STYLES, Flag
from core.i18n import _, language
from core.phones import is_phone_needle
from core.queues import QueueRow, RowFilter, all_orders, in_scope, matches, needle
from core.search_index import MAX_HITS, SearchIndex, scan_text
from core.states import state_label
from core.timeutil import utcnow

Index = QModelIndex | QPersistentModelIndex

#: Above this many changed orders at once, merge with list operations and one reset.
BULK_THRESHOLD = 200
#: A new search over at most this many rows is a pass over them (no index lookup); typing on is
#: always a pass over the last search's hits.
_NARROW_SCAN = 5000
#: A search pass over more rows than this is done in slices, one per event-loop turn: the first
#: slice is shown at once, the rest of the hits are appended (row signals) on the next turns. A
#: slice of 10,000 rows is ~3 ms on a quiet machine (~0.3 µs a row), well inside a 16 ms frame.
_FIRST_SLICE = 3000
_SLICE = 10_000
_SCREENFUL = 64


class Column(IntEnum):
    FLAGS = 0
    ORDER_ID = 1
    STATE = 2
    BENCH = 3
    RECIPIENT = 4
    ITEMS = 5
    SHIP_BY = 6
    SYNC = 7
    HOLD = 8  # open holds: type, who raised them, age (shown in the Exceptions queue)


#: Custom roles (the delegate and tests read these; never parse the display text).
ORDER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2  # list[Flag], most severe first
FLAG_COLOURS_ROLE = Qt.ItemDataRole.UserRole + 3  # list[str] "#rrggbb"
FLAG_ICONS_ROLE = Qt.ItemDataRole.UserRole + 4  # list[str] glyphs
FLAG_TEXTS_ROLE = Qt.ItemDataRole.UserRole + 5  # list[str] words in the UI language
SORT_KEY_ROLE = Qt.ItemDataRole.UserRole + 6  # core.flags.sort_key tuple
STRIPED_ROLE = Qt.ItemDataRole.UserRole + 7  # bool: conflict (drawn striped)


def display_icon(icon: str) -> str:
    """The flag glyph to draw. The flags' glyphs (:data:`core.flags.STYLES`) are all in the CJK
    font the set-up installs (WenQuanYi Micro Hei; tests/ui/test_glyphs.py checks every symbol of
    ui/), so none renders as an empty box; an emoji font is not needed."""
    return icon


class _Desc:
    """Wraps a sort key so that ascending list operations sort it descending (for bisect)."""

    __slots__ = ("k",)

    def __init__(self, k: Any) -> None:
        self.k = k

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.k < self.k)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.k == other.k)

    __hash__ = None  # type: ignore[assignment]


#: Each column's own sort key, a plain str or int (ties: queue order, :attr:`QueueRow.rank`).
#: A column sort is two stable key sorts (queue rank, then this), not a tuple comparison per pair:
#: the same order as sorting by ``(key, rank)``. The Flags column is the queue order itself (None).
_COLUMN_KEYS: dict[Column, Callable[[QueueRow], Any] | None] = {
    Column.FLAGS: None,
    Column.ORDER_ID: attrgetter("order_id"),
    Column.STATE: attrgetter("state"),
    Column.BENCH: attrgetter("bench"),
    Column.RECIPIENT: attrgetter("recipient"),
    Column.ITEMS: attrgetter("items"),
    Column.SHIP_BY: lambda r: r.key[1],
    Column.SYNC: lambda r: -((1 << 40 if r.conflict else 0) + r.pending),  # conflicts, then most pending
    # Oldest exception first: the one a customer has waited longest on.
    Column.HOLD: lambda r: "1" if r.hold_since is None else "0" + r.hold_since.isoformat(),
}
_rank = attrgetter("rank")
_order_id = attrgetter("order_id")


def _full_key(primary: Callable[[QueueRow], Any] | None) -> Callable[[QueueRow], Any]:
    """The one key the two-pass sort orders by (for bisect on a single row)."""
    if primary is None:
        return _rank
    return lambda r: (primary(r), r.rank)


# -- search indexes, built one queue per event-loop turn -------------------------------------------

@dataclass(frozen=True)
class PreparedRows:
    """One queue's rows, sorted and indexed off the GUI thread (:meth:`QueueModel.prepare`)."""

    rows: list[QueueRow]
    index: SearchIndex | None  #: None: the model searches a shared index (its owner keeps it)
    shape: tuple[Any, ...]
    source: list[QueueRow]  #: every row it was taken from (the queue changed meanwhile: taken again)
    by_id: dict[str, QueueRow] | None = None  #: ``rows`` by order ID (built on the worker too)


_BUILDS: list[weakref.ref[QueueModel]] = []


def _queue_index_build(model: QueueModel) -> None:
    """Build ``model``'s search index on a later event-loop turn, one queue per turn: after a load,
    six queues of up to 100,000 rows each would otherwise hold the GUI thread in one turn."""
    if QCoreApplication.instance() is None:
        return  # no event loop (a script): built at the first search
    _BUILDS.append(weakref.ref(model))
    if len(_BUILDS) == 1:
        QTimer.singleShot(0, _build_next_index)


def _build_next_index() -> None:
    while _BUILDS:
        model = _BUILDS.pop(0)()
        if model is not None and not model._index_built:
            model._build_index()
            break
    if _BUILDS:
        QTimer.singleShot(0, _build_next_index)


def pending_index_builds() -> int:
    """How many queues still wait for their search index (the bench spins the event loop on it)."""
    return sum(1 for ref in _BUILDS if (m := ref()) is not None and not m._index_built)


# -- the model -----------------------------------------------------------------------------------

class QueueModel(QAbstractTableModel):
    """One queue: the rows of the local store that pass ``row_filter``, sorted, searchable.

    Args:
        row_filter: which rows belong to this queue.
        name: a short name for logs and tests ("bench", "vip", …).
        bench_scope: when set, only this bench's orders (a packer sees only its own bench).
        index: a search index shared by several queues (the window's: every row once, not one copy
            per queue). Its owner keeps it up to date (add/remove before :meth:`apply_changes`, a
            whole new index adopted at a load); the model keeps only its own row list and finds its
            rows among the index's hits. None: the model keeps a private index of its own rows.

    Signals:
        count_changed(int): how many orders the queue holds (before the search filter).
        search_done(): a search pass done in slices (:attr:`searching`) has added its last hits.
    """

    count_changed = Signal(int)
    search_done = Signal()

    def __init__(self, row_filter: RowFilter, name: str = "", *, bench_scope: str | None = None,
                 parent: Any = None, index: SearchIndex | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._filter = row_filter
        self.bench_scope = bench_scope
        self._all: list[QueueRow] = []
        self._rows: list[QueueRow] = self._all
        self._by_id: dict[str, QueueRow] = {}
        self._needle = ""
        self._sort_column = Column.FLAGS
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._primary: Callable[[QueueRow], Any] | None = None
        self._key: Callable[[QueueRow], Any] = _rank
        self._shared = index is not None
        self._index = index if index is not None else SearchIndex()
        self._index_built = True  # False: _index is to be rebuilt from _all before its next use
        #: a search pass still going on later turns: (rows searched, next position, phone-only hits)
        self._scan: tuple[list[QueueRow], int, list[QueueRow]] | None = None
        self._scan_timer: QTimer | None = None
        self._zh = language().startswith("zh")
        self._headers = {
            Column.FLAGS: _("Flags"), Column.ORDER_ID: _("Order ID"), Column.STATE: _("State"),
            Column.BENCH: _("Bench"), Column.RECIPIENT: _("Recipient"), Column.ITEMS: _("Items"),
            Column.SHIP_BY: _("Ship by"), Column.SYNC: _("Sync"), Column.HOLD: _("Exception (raised by) · age"),
        }
        self._flag_words = {f: (STYLES[f].zh if self._zh else STYLES[f].en) for f in Flag}

    # -- loading -------------------------------------------------------------------------------
    def accepts(self, row: QueueRow) -> bool:
        return in_scope(row, self.bench_scope) and self._filter(row)

    def _kept(self, rows: list[QueueRow]) -> list[QueueRow]:
        """This queue's rows of ``rows``, in their order (one C-level ``filter`` when unscoped)."""
        if self.bench_scope is not None:
            return [r for r in rows if self.accepts(r)]
        if self._filter is all_orders:
            return list(rows)
        return list(filter(self._filter, rows))

    def set_scope(self, row_filter: RowFilter | None = None, bench_scope: str | None = None) -> None:
        """Change the queue's filter or bench scope (after a login); call :meth:`set_rows` next."""
        if row_filter is not None:
            self._filter = row_filter
        self.bench_scope = bench_scope

    def _shape(self) -> tuple[Any, ...]:
        """What :meth:`prepare` depends on: the filter, the bench scope and the order."""
        return (self._filter, self.bench_scope, self._sort_column, self._sort_order)

    def prepare(self, rows: list[QueueRow], *, ranked: bool = False) -> PreparedRows:
        """This queue's rows of ``rows``, in order, with their search index: the load's heavy part,
        for the database worker (it only reads the model's filter and order; :meth:`set_rows` checks
        they have not changed meanwhile). ``ranked``: ``rows`` are in queue order already (as
        :func:`core.queues.load_rows` gives them: no sort for the default order)."""
        shape = self._shape()
        kept = self._kept(rows)
        self._order(kept, False if ranked else None)
        by_id = slices.by_key(_order_id, kept)  # in slices: the worker gives the GIL up between them
        return PreparedRows(kept, None if self._shared else SearchIndex(kept), shape, rows, by_id)

    def set_rows(self, rows: Iterable[QueueRow] | PreparedRows) -> None:
        """Take a full list of rows (e.g. from :func:`load_rows`, sorted here), or rows the worker
        prepared (:meth:`prepare`: sorted and indexed there, nothing left for the GUI thread)."""
        ready = isinstance(rows, PreparedRows) and rows.shape == self._shape()
        by_id: dict[str, QueueRow] | None = None
        index: SearchIndex | None
        if isinstance(rows, PreparedRows) and ready:
            kept, index, by_id = rows.rows, rows.index, rows.by_id
            ready = index is not None or self._shared
        else:
            kept = self._kept(rows.source if isinstance(rows, PreparedRows) else list(rows))
            self._order(kept)  # near-linear when already in queue order
            # The index is built on a later event-loop turn (or at the first search, if sooner): the
            # first screen of rows is painted before it, and the load's GUI-thread work is split.
            index = None
        self.beginResetModel()
        self._all = kept
        self._by_id = by_id if by_id is not None else dict(zip(map(_order_id, kept), kept, strict=True))
        if not self._shared:  # a shared index is its owner's to fill
            self._index, self._index_built = index if index is not None else SearchIndex(), index is not None
        self._rows = self._apply_needle(self._all)
        self.endResetModel()
        self.count_changed.emit(len(self._all))
        if not self._index_built:
            _queue_index_build(self)

    def _build_index(self) -> None:
        """Index ``_all`` if :meth:`set_rows` left that for later (changes since are in ``_all``)."""
        if not self._index_built:
            self._index.reset(self._all)
            self._index_built = True

    def _sort_key_fn(self) -> Callable[[QueueRow], Any]:
        """The current order's key for one row (bisect); :meth:`_order` sorts whole lists."""
        key = self._key
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return lambda r: _Desc(key(r))
        return key

    def _order(self, rows: list[QueueRow], ranked: bool | None = None) -> None:
        """Sort ``rows`` in place in the current order: by queue rank, then (stable) by the column's
        plain key; descending is the exact reverse (keys are unique: the rank ends in the order ID).

        ``ranked``: the rows are already in queue order, descending (True) or ascending (False).
        """
        desc = self._sort_order == Qt.SortOrder.DescendingOrder
        if ranked is None:
            rows.sort(key=_rank, reverse=desc)
        elif ranked != desc:
            rows.reverse()
        if self._primary is not None:
            rows.sort(key=self._primary, reverse=desc)

    # -- incremental updates --------------------------------------------------------------------
    def apply_changes(self, changes: dict[str, QueueRow | None]) -> None:
        """Merge changed orders (None: gone). Few: row-level signals; many: list merge + one reset."""
        relevant = {oid: row for oid, row in changes.items()
                    if oid in self._by_id or (row is not None and self.accepts(row))}
        if not relevant:
            return
        self.finish_search()
        if len(relevant) > BULK_THRESHOLD:
            self._apply_bulk(relevant)
        else:
            for oid, row in relevant.items():
                self._apply_one(oid, row)
        self.count_changed.emit(len(self._all))

    def _apply_bulk(self, changes: dict[str, QueueRow | None]) -> None:
        kept = [r for r in self._all if r.order_id not in changes]
        new = [r for r in changes.values() if r is not None and self.accepts(r)]
        kept.extend(new)
        self._order(kept)  # timsort: one long sorted run + a short one, close to linear
        if not self._shared:
            for oid in changes:
                self._index.remove(oid)
            for r in new:
                self._index.add(r)
        self.beginResetModel()
        self._all = kept
        for oid in changes:
            self._by_id.pop(oid, None)
        self._by_id.update((r.order_id, r) for r in new)
        self._rows = self._apply_needle(self._all)
        self.endResetModel()

    def _position(self, rows: list[QueueRow], row: QueueRow) -> int:
        keyfn = self._sort_key_fn()
        return bisect.bisect_left(rows, keyfn(row), key=keyfn)

    def _apply_one(self, oid: str, row: QueueRow | None) -> None:
        old = self._by_id.get(oid)
        keep = row is not None and self.accepts(row)
        filtered = self._rows is not self._all
        if old is not None:
            pos = self._position(self._all, old)
            if pos < len(self._all) and self._all[pos] is old:
                if keep and row is not None and self._sort_key_fn()(row) == self._sort_key_fn()(old) \
                        and (not filtered or self._matches(row) == self._matches(old)):
                    self._replace_in_place(pos, old, row)
                    return
                if filtered:
                    self._remove_visible(old)
                    del self._all[pos]
                else:
                    self.beginRemoveRows(QModelIndex(), pos, pos)
                    del self._all[pos]
                    self.endRemoveRows()
            del self._by_id[oid]
            if not self._shared:
                self._index.remove(oid)
        if keep and row is not None:
            pos = self._position(self._all, row)
            self._all.insert(pos, row)
            self._by_id[oid] = row
            if not self._shared:
                self._index.add(row)
            if filtered:
                if self._matches(row):
                    vpos = self._position(self._rows, row)
                    self.beginInsertRows(QModelIndex(), vpos, vpos)
                    self._rows.insert(vpos, row)
                    self.endInsertRows()
            else:
                # _rows is _all: the insert above already happened; announce it.
                self.beginInsertRows(QModelIndex(), pos, pos)
                self.endInsertRows()

    def _replace_in_place(self, pos: int, old: QueueRow, row: QueueRow) -> None:
        self._all[pos] = row
        self._by_id[row.order_id] = row
        if not self._shared:
            self._index.add(row)
        if self._rows is self._all:
            vpos = pos
        else:
            vpos = self._position(self._rows, old)
            if not (vpos < len(self._rows) and self._rows[vpos] is old):
                return
            self._rows[vpos] = row
        self.dataChanged.emit(self.index(vpos, 0), self.index(vpos, len(Column) - 1))

    def _remove_visible(self, old: QueueRow) -> None:
        """Remove a row from the filtered list (when ``_rows`` is not ``_all``)."""
        vpos = self._position(self._rows, old)
        if vpos < len(self._rows) and self._rows[vpos] is old:
            self.beginRemoveRows(QModelIndex(), vpos, vpos)
            del self._rows[vpos]
            self.endRemoveRows()

    # -- search ---------------------------------------------------------------------------------
    def _matches(self, row: QueueRow) -> bool:
        return matches(row, self._needle)

    def _apply_needle(self, rows: list[QueueRow], narrowing: bool = False) -> list[QueueRow]:
        """``rows`` (``_all``, or the last search's hits when typing on narrows them) that the
        search finds.

        A new search over more than a few thousand rows asks the index first; it answers when it
        finds few (∝ the hits, plus a C scan of the haystack). Else, and always when narrowing, a
        pass over ``rows`` for the text (in their order, so no sort), with the phone-tail hits from
        the index; a pass over more than :data:`_FIRST_SLICE` rows shows the hits of the first slice
        now and appends the rest on later event-loop turns (:meth:`_scan_more`), so a keystroke never
        holds the GUI thread for a pass over 100,000 rows.
        """
        self._scan = None
        nd = self._needle
        if not nd:
            return rows
        if len(rows) > _NARROW_SCAN and not narrowing:
            self._build_index()
            # Per row found, the index costs about 4 rows of a pass: past a quarter of ``rows`` (or
            # MAX_HITS, one frame's worth of hits), the sliced pass is cheaper.
            hits = self._index.find(nd, min(len(rows) // 4, MAX_HITS))
            if hits is not None:
                if self._shared:
                    hits = self._members(hits)
                self._order(hits)
                return hits
        extra = self._phone_extra(nd)
        found: list[QueueRow] = []
        pos = 0
        if len(rows) <= _FIRST_SLICE or QCoreApplication.instance() is None:
            found, pos = scan_text(rows, nd), len(rows)
        # The first slice: until a screenful of hits is found (a few hundred rows when hits are
        # dense), at most _FIRST_SLICE rows.
        while pos < min(_FIRST_SLICE, len(rows)) and len(found) < _SCREENFUL:
            found += scan_text(rows[pos:pos + 500], nd)
            pos += 500
        if pos >= len(rows):
            if extra:
                found.extend(extra)
                self._order(found)
            return found
        self._scan = (rows, pos, extra)
        if self._scan_timer is None:
            self._scan_timer = QTimer(self)
            self._scan_timer.setSingleShot(True)
            self._scan_timer.setInterval(0)
            self._scan_timer.timeout.connect(self._scan_more)
        self._scan_timer.start()
        return found

    def _members(self, rows: list[QueueRow]) -> list[QueueRow]:
        """Those of ``rows`` (a shared index's hits) that are this queue's rows, as they are now."""
        by_id = self._by_id
        return [r for r in rows if by_id.get(r.order_id) is r]

    def _phone_extra(self, nd: str) -> list[QueueRow]:
        """This queue's rows whose phone ends with ``nd`` but whose text does not hold it (the hits
        a text pass does not find; from the index, ∝ the hits)."""
        if not is_phone_needle(nd):
            return []
        self._build_index()
        return [r for r in self._members(self._index.phone_rows(nd)) if nd not in r.search]

    def _scan_more(self, limit: int = _SLICE) -> None:
        """The next slice of a search pass (:meth:`_apply_needle`): its hits are appended."""
        job = self._scan
        if job is None:
            return
        rows, pos, extra = job
        end = pos + limit
        found = scan_text(rows[pos:end], self._needle)
        self._scan = (rows, end, extra) if end < len(rows) else None
        if found:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n + len(found) - 1)
            self._rows.extend(found)
            self.endInsertRows()
        if self._scan is not None:
            if self._scan_timer is not None:
                self._scan_timer.start()
            return
        for r in extra:  # phone-tail hits (a few): each at its place
            vpos = self._position(self._rows, r)
            self.beginInsertRows(QModelIndex(), vpos, vpos)
            self._rows.insert(vpos, r)
            self.endInsertRows()
        self.search_done.emit()

    def finish_search(self) -> None:
        """Finish a search pass still going on later turns, now (before the rows are changed or
        re-sorted: the pass appends in the current order)."""
        if self._scan is not None:
            self._scan_more(len(self._scan[0]))

    @property
    def searching(self) -> bool:
        """Whether a search pass is still adding hits on later event-loop turns."""
        return self._scan is not None

    def set_filter_text(self, text: str) -> None:
        """Show only rows whose order ID, channel order no, name, waybill or SKU contain ``text``, or
        whose phone ends with it (4 digits or more)."""
        wanted = needle(text)
        if wanted == self._needle:
            return
        # Typing one more character searches only what the last search found (kept in step with
        # every change; a pass still going on adds the rows it has not reached yet), so it costs
        # in proportion to those hits, not to the 100,000 rows. A phone tail is not narrowed that
        # way ("14322" may end a number that "1432" does not): its hits come from the index.
        narrowing = bool(self._needle) and self._needle in wanted and self._rows is not self._all
        rows = self._all
        if narrowing:
            rows = self._rows if self._scan is None else self._rows + self._scan[0][self._scan[1]:]
        self.beginResetModel()
        self._needle = wanted
        self._rows = self._apply_needle(rows, narrowing)
        self.endResetModel()

    @property
    def filter_text(self) -> str:
        return self._needle

    # -- sorting --------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column (ties: queue order). The Flags column is the queue order itself."""
        col = Column(column)
        if col == self._sort_column and order == self._sort_order:
            return
        self.finish_search()
        if col == self._sort_column:  # the other direction: the exact reverse (the keys are unique)
            self._sort_order = order
            self.layoutAboutToBeChanged.emit()
            old_persistent = self.persistentIndexList()
            n = len(self._rows)
            self._all.reverse()
            if self._rows is not self._all:
                self._rows.reverse()
            self.changePersistentIndexList(old_persistent, [
                self.index(n - 1 - i.row(), i.column()) if 0 <= i.row() < n else QModelIndex()
                for i in old_persistent])
            self.layoutChanged.emit()
            return
        # From the queue order (the Flags column) the first of the two sorts is already done.
        ranked = (self._sort_order == Qt.SortOrder.DescendingOrder) if self._primary is None else None
        self._sort_column, self._sort_order = col, order
        self._primary = _COLUMN_KEYS[col]
        self._key = _full_key(self._primary)
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        ids = [self._rows[i.row()].order_id if 0 <= i.row() < len(self._rows) else None for i in old_persistent]
        same = self._rows is self._all
        self._order(self._all, ranked)
        if not same:
            self._order(self._rows, ranked)  # the shown rows, in the new order: no new search
        where = self._new_positions(ids)
        new = [self.index(where[oid], i.column()) if oid in where else QModelIndex()
               for oid, i in zip(ids, old_persistent, strict=True)]
        self.changePersistentIndexList(old_persistent, new)
        self.layoutChanged.emit()

    def _new_positions(self, ids: list[str | None]) -> dict[str, int]:
        """Where the orders of the view's persistent indexes (a selection: a few) now are.

        A few are found by bisect; a map of every shown row only when there are many.
        """
        wanted = {oid for oid in ids if oid is not None}
        if len(wanted) > 64:
            return dict(zip(map(_order_id, self._rows), range(len(self._rows)), strict=True))
        where = {}
        for oid in wanted:
            row = self._by_id.get(oid)
            if row is not None:
                pos = self._position(self._rows, row)
                if pos < len(self._rows) and self._rows[pos] is row:
                    where[oid] = pos
        return where

    # -- access ---------------------------------------------------------------------------------
    def row_at(self, row: int) -> QueueRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, order_id: str) -> int:
        """The visible row of an order, or -1."""
        row = self._by_id.get(order_id)
        if row is None or not self._matches(row):
            return -1
        pos = self._position(self._rows, row)
        return pos if pos < len(self._rows) and self._rows[pos] is row else -1

    def order_ids(self) -> list[str]:
        return [r.order_id for r in self._rows]

    def shown_rows(self) -> list[QueueRow]:
        """A copy of the rows the view shows, in its order (the queue export reads it on a worker)."""
        return list(self._rows)

    def cell_text(self, r: QueueRow, col: int) -> str:
        """The text column ``col`` shows for ``r``: plain Python, no Qt call, so a worker may ask it."""
        return self._display(r, col)

    @property
    def total(self) -> int:
        return len(self._all)

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers.get(Column(section), "")
        return None

    def flag_text(self, flags: tuple[Flag, ...]) -> str:
        return "  ".join(f"{display_icon(STYLES[f].icon)} {self._flag_words[f]}" for f in flags)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == ORDER_ID_ROLE:
            return r.order_id
        if role == FLAGS_ROLE:
            return list(r.flags)
        if role == FLAG_COLOURS_ROLE:
            return [STYLES[f].colour for f in r.flags]
        if role == FLAG_ICONS_ROLE:
            return [STYLES[f].icon for f in r.flags]
        if role == FLAG_TEXTS_ROLE:
            return [self._flag_words[f] for f in r.flags]
        if role == STRIPED_ROLE:
            return any(STYLES[f].striped for f in r.flags)
        if role == SORT_KEY_ROLE:
            return r.key
        if role == Qt.ItemDataRole.BackgroundRole and col == Column.FLAGS and r.flags:
            return QColor(STYLES[r.flags[0]].colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == Column.FLAGS and r.flags:
                return self.flag_text(r.flags)
            if col == Column.SYNC:
                return self._sync_tip(r)
            if col == Column.ORDER_ID and r.link_tip:
                return r.link_tip
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Column.ITEMS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, r: QueueRow, col: int) -> str:
        if col == Column.FLAGS:
            return self.flag_text(r.flags)
        if col == Column.ORDER_ID:
            return f"{r.order_id} {r.link}" if r.link else r.order_id
        if col == Column.STATE:
            return state_text(r.state, zh=self._zh)
        if col == Column.BENCH:
            return r.bench
        if col == Column.RECIPIENT:
            return r.recipient
        if col == Column.ITEMS:
            return str(r.items)
        if col == Column.SHIP_BY:
            return r.ship_by
        if col == Column.SYNC:
            if r.conflict:
                return "↯ " + _("Conflict")
            if r.pending:
                return "↻ " + _("Pending")
            return ""
        if col == Column.HOLD:
            if not r.hold:
                return "↯ " + _("Offline conflict") if r.conflict else ""
            return f"{r.hold} · {age_text(r.hold_since)}" if r.hold_since else r.hold
        return ""

    def _sync_tip(self, r: QueueRow) -> str:
        if r.conflict:
            return _("The hub refused an action done on this station: open the order to resolve it.")
        if r.pending:
            return _("{n} action(s) not yet confirmed by the hub.").format(n=r.pending)
        return _("In step with the hub.")


def age_text(since: datetime, now: datetime | None = None) -> str:
    """How long a hold has been open, in the words a clerk uses: 12 min, 3 h, 2 d."""
    minutes = max(0, int(((now or utcnow()) - since).total_seconds() // 60))
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    if minutes < 48 * 60:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} d").format(n=minutes // (24 * 60))


def state_text(state: str, *, zh: bool | None = None) -> str:
    """A state in the UI language (core.states.STATE_LABELS_ZH in Chinese)."""
    use_zh = language().startswith("zh") if zh is None else zh
    return state_label(state, "zh_CN" if use_zh else "en")
