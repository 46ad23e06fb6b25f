"""The queue tables: one :class:`QueueModel` class, parameterised by a queue filter.

Why a model and not a proxy: STYLE.md §4 — sorting and filtering 100,000 Python rows through a
``QSortFilterProxyModel`` took ~25 s here; doing it on plain lists inside the model takes tens of
milliseconds. So each queue keeps two lists of light :class:`QueueRow` objects:

* ``_all`` — every row of the queue, kept sorted by the current sort key;
* ``_rows`` — what the view shows: ``_all`` filtered by the search box (the same list object when
  there is no search text).

Rows are built off the GUI thread (:func:`load_rows`, :func:`load_rows_by_id`, run on the task
runner's database worker) from one SQL query; the model only takes finished lists. A few changed
orders are merged in with row-level signals (the view keeps its selection and scroll position);
a big batch (a sync page) is merged with list operations and one reset, which is cheaper than
thousands of single-row signals.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from core.flags import STYLES, Flag, order_flags, sort_key
from core.holds import hold_label
from core.i18n import _, language
from core.states import BENCH_STATES, State, state_label
from core.store import LocalStore
from core.timeutil import DEFAULT_TZ, parse_iso, to_local, utcnow

Index = QModelIndex | QPersistentModelIndex

#: Above this many changed orders at once, merge with list operations and one reset.
BULK_THRESHOLD = 200

SEP = "\x1f"  # between search fields, so a search never matches across two fields


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
    search: str  # lowercase search keys joined with SEP
    hold: str = ""  # "gift stock short (system) / …" in the UI language
    hold_since: datetime | None = None  # when the oldest open hold was raised


def row_from_snapshot(snap: dict[str, Any], *, pending: int, conflict: bool, now: datetime,
                      tz: str = DEFAULT_TZ, warn_window: timedelta = timedelta(hours=2)) -> QueueRow:
    """Build a row from a local view; time-based flags (overdue / at risk / done today) use ``now``."""
    flags = order_flags(snap, now=now, warn_window=warn_window, conflict=conflict, tz=tz)
    rec = snap.get("recipient") or {}
    phone = "".join(ch for ch in str(rec.get("phone") or "") if ch.isdigit())
    ship = parse_iso(snap.get("ship_by"))
    holds = snap.get("holds") or []
    lang = language()
    hold = " / ".join(f"{hold_label(str(h.get('type')), lang)} ({_who(h.get('raised_by'))})" for h in holds)
    raised = [t for t in (parse_iso(h.get("raised_at")) for h in holds) if t is not None]
    search = SEP.join((
        str(snap.get("order_id") or ""), str(snap.get("channel_order_no") or ""), phone,
        str(rec.get("name") or ""), str(snap.get("waybill_no") or ""),
    )).lower()
    return QueueRow(
        order_id=str(snap["order_id"]),
        state=str(snap.get("state") or ""),
        bench=str(snap.get("bench") or ""),
        recipient=str(rec.get("name") or ""),
        items=sum(int(line.get("qty") or 0) for line in snap.get("lines") or []),
        ship_by=to_local(ship, tz).strftime("%m-%d %H:%M") if ship is not None else "",
        pending=pending,
        conflict=conflict,
        held=bool(snap.get("holds")),
        flags=tuple(flags),
        key=sort_key(flags, snap),
        search=search,
        hold=hold,
        hold_since=min(raised) if raised else None,
    )


_SELECT = "SELECT order_id, local_json, pending, conflict_json IS NOT NULL AS conflict FROM orders"


def load_rows(store: LocalStore, *, now: datetime | None = None, tz: str = DEFAULT_TZ) -> list[QueueRow]:
    """Every order of the local store as queue rows, sorted by queue order (one SQL query).

    Runs on a worker thread: ~100,000 JSON documents are parsed here, never on the GUI thread.
    """
    when = now or utcnow()
    with store.read() as conn:
        raw = conn.exec_driver_sql(_SELECT).all()
    rows = [row_from_snapshot(json.loads(r[1]), pending=int(r[2]), conflict=bool(r[3]), now=when, tz=tz)
            for r in raw]
    rows.sort(key=_default_key)
    return rows


def load_rows_by_id(store: LocalStore, order_ids: Iterable[str], *, now: datetime | None = None,
                    tz: str = DEFAULT_TZ) -> dict[str, QueueRow | None]:
    """Re-read only the given orders; an ID mapped to None is gone from the store (dropped)."""
    ids = list(dict.fromkeys(order_ids))
    when = now or utcnow()
    found: dict[str, QueueRow | None] = dict.fromkeys(ids)
    with store.read() as conn:
        for i in range(0, len(ids), 900):
            chunk = ids[i:i + 900]
            sql = f"{_SELECT} WHERE order_id IN ({', '.join('?' for _ in chunk)})"
            for r in conn.exec_driver_sql(sql, tuple(chunk)).all():
                found[r[0]] = row_from_snapshot(json.loads(r[1]), pending=int(r[2]), conflict=bool(r[3]),
                                                now=when, tz=tz)
    return found


_EMOJI_FONTS = ("Noto Color Emoji", "Segoe UI Emoji", "Apple Color Emoji", "Twemoji", "EmojiOne")
_EMOJI_FALLBACK = {"🎁": "❖"}
_has_emoji: bool | None = None


def display_icon(icon: str) -> str:
    """The flag glyph to draw: an emoji only when an emoji font is installed (else it is a box)."""
    global _has_emoji
    if _has_emoji is None:
        from PySide6.QtGui import QFontDatabase

        families = set(QFontDatabase.families())
        _has_emoji = any(f in families for f in _EMOJI_FONTS)
    return icon if _has_emoji else _EMOJI_FALLBACK.get(icon, icon)


def _default_key(row: QueueRow) -> Any:
    return row.key


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


_COLUMN_KEYS: dict[Column, Callable[[QueueRow], Any]] = {
    Column.FLAGS: lambda r: r.key,
    Column.ORDER_ID: lambda r: r.order_id,
    Column.STATE: lambda r: (r.state, r.key),
    Column.BENCH: lambda r: (r.bench, r.key),
    Column.RECIPIENT: lambda r: (r.recipient, r.key),
    Column.ITEMS: lambda r: (r.items, r.key),
    Column.SHIP_BY: lambda r: (r.key[1], r.key),
    Column.SYNC: lambda r: (-int(r.conflict), -r.pending, r.key),
    # Oldest exception first: the one a customer has waited longest on.
    Column.HOLD: lambda r: (r.hold_since is None, r.hold_since.isoformat() if r.hold_since else "", r.key),
}


# -- queue filters -------------------------------------------------------------------------------

RowFilter = Callable[[QueueRow], bool]


def my_bench(bench: str) -> RowFilter:
    """This station's bench work (allocated / label printed); nothing on a desk PC."""
    return lambda r: bool(bench) and r.bench == bench and r.state in BENCH_STATES


def vip_queue(r: QueueRow) -> bool:
    return Flag.VIP in r.flags and Flag.DONE not in r.flags and r.state != State.CLOSED.value


def exceptions_queue(r: QueueRow) -> bool:
    """Orders with an open hold or a local conflict."""
    return r.held or r.conflict


def to_print_queue(r: QueueRow) -> bool:
    """Allocated, not held: a label can be printed now."""
    return r.state == State.ALLOCATED.value and not r.held


def done_queue(r: QueueRow) -> bool:
    """Shipped or closed today (site day)."""
    return Flag.DONE in r.flags


def all_orders(_r: QueueRow) -> bool:
    return True


# -- the model -----------------------------------------------------------------------------------

class QueueModel(QAbstractTableModel):
    """One queue: the rows of the local store that pass ``row_filter``, sorted, searchable.

    Args:
        row_filter: which rows belong to this queue.
        name: a short name for logs and tests ("bench", "vip", …).
        bench_scope: when set, only this bench's orders (a packer sees only its own bench).

    Signals:
        count_changed(int): how many orders the queue holds (before the search filter).
    """

    count_changed = Signal(int)

    def __init__(self, row_filter: RowFilter, name: str = "", *, bench_scope: str | None = None,
                 parent: Any = None) -> None:
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
        self._key: Callable[[QueueRow], Any] = _default_key
        self._zh = language().startswith("zh")
        self._headers = {
            Column.FLAGS: _("Flags"), Column.ORDER_ID: _("Order ID"), Column.STATE: _("State"),
            Column.BENCH: _("Bench"), Column.RECIPIENT: _("Recipient"), Column.ITEMS: _("Items"),
            Column.SHIP_BY: _("Ship by"), Column.SYNC: _("Sync"), Column.HOLD: _("Exception (raised by) · age"),
        }
        self._flag_words = {f: (STYLES[f].zh if self._zh else STYLES[f].en) for f in Flag}

    # -- loading -------------------------------------------------------------------------------
    def accepts(self, row: QueueRow) -> bool:
        if self.bench_scope is not None and row.bench != self.bench_scope:
            return False
        return self._filter(row)

    def set_scope(self, row_filter: RowFilter | None = None, bench_scope: str | None = None) -> None:
        """Change the queue's filter or bench scope (after a login); call :meth:`set_rows` next."""
        if row_filter is not None:
            self._filter = row_filter
        self.bench_scope = bench_scope

    def set_rows(self, rows: Iterable[QueueRow]) -> None:
        """Take a full list of rows (e.g. from :func:`load_rows`); they are sorted here."""
        kept = [r for r in rows if self.accepts(r)]
        kept.sort(key=self._sort_key_fn())  # near-linear when already in queue order
        self.beginResetModel()
        self._all = kept
        self._by_id = {r.order_id: r for r in kept}
        self._rows = self._apply_needle(self._all)
        self.endResetModel()
        self.count_changed.emit(len(self._all))

    def _sort_key_fn(self) -> Callable[[QueueRow], Any]:
        key = self._key
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return lambda r: _Desc(key(r))
        return key

    # -- incremental updates --------------------------------------------------------------------
    def apply_changes(self, changes: dict[str, QueueRow | None]) -> None:
        """Merge changed orders (None: gone). Few: row-level signals; many: list merge + one reset."""
        relevant = {oid: row for oid, row in changes.items()
                    if oid in self._by_id or (row is not None and self.accepts(row))}
        if not relevant:
            return
        if len(relevant) > BULK_THRESHOLD:
            self._apply_bulk(relevant)
        else:
            for oid, row in relevant.items():
                self._apply_one(oid, row)
        self.count_changed.emit(len(self._all))

    def _apply_bulk(self, changes: dict[str, QueueRow | None]) -> None:
        keyfn = self._sort_key_fn()
        kept = [r for r in self._all if r.order_id not in changes]
        new = [r for r in changes.values() if r is not None and self.accepts(r)]
        kept.extend(new)
        kept.sort(key=keyfn)  # timsort: one long sorted run + a short one, close to linear
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
        if keep and row is not None:
            pos = self._position(self._all, row)
            self._all.insert(pos, row)
            self._by_id[oid] = row
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
        return not self._needle or self._needle in row.search

    def _apply_needle(self, rows: list[QueueRow]) -> list[QueueRow]:
        if not self._needle:
            return rows
        needle = self._needle
        return [r for r in rows if needle in r.search]

    def set_filter_text(self, text: str) -> None:
        """Show only rows whose order ID, channel order no, phone, name or waybill contain ``text``."""
        needle = text.strip().lower()
        if needle == self._needle:
            return
        # Typing one more character narrows what is shown already (kept in step with every change),
        # instead of scanning all 100,000 rows again on each keystroke.
        narrowing = bool(self._needle) and self._needle in needle and self._rows is not self._all
        self.beginResetModel()
        self._needle = needle
        self._rows = self._apply_needle(self._rows if narrowing else self._all)
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
        self._sort_column, self._sort_order = col, order
        self._key = _default_key if col == Column.FLAGS else _COLUMN_KEYS[col]
        keyfn = self._sort_key_fn()
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        ids = [self._rows[i.row()].order_id if 0 <= i.row() < len(self._rows) else None for i in old_persistent]
        same = self._rows is self._all
        self._all.sort(key=keyfn)
        self._rows = self._all if same else self._apply_needle(self._all)
        where = {r.order_id: n for n, r in enumerate(self._rows)}
        new = [self.index(where[oid], i.column()) if oid in where else QModelIndex()
               for oid, i in zip(ids, old_persistent, strict=True)]
        self.changePersistentIndexList(old_persistent, new)
        self.layoutChanged.emit()

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
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Column.ITEMS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, r: QueueRow, col: int) -> str:
        if col == Column.FLAGS:
            return self.flag_text(r.flags)
        if col == Column.ORDER_ID:
            return r.order_id
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
                return "⚡ " + _("Conflict")
            if r.pending:
                return "⟳ " + _("Pending")
            return ""
        if col == Column.HOLD:
            if not r.hold:
                return "⚡ " + _("Offline conflict") if r.conflict else ""
            return f"{r.hold} · {age_text(r.hold_since)}" if r.hold_since else r.hold
        return ""

    def _sync_tip(self, r: QueueRow) -> str:
        if r.conflict:
            return _("The hub refused an action done on this station: open the order to resolve it.")
        if r.pending:
            return _("{n} action(s) not yet confirmed by the hub.").format(n=r.pending)
        return _("In step with the hub.")


def _who(raised_by: Any) -> str:
    """Who raised a hold: an operator code, or the hub's own rules ("system")."""
    return _("system") if raised_by in (None, "", "system") else str(raised_by)


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
