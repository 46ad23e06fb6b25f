"""The search index finds exactly what the plain scan (core.queues.search) finds — also after
updates, removals and compaction — and the queue model shows those rows in the order the old
tuple-key sort gave, for every column and direction (property tests, hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from PySide6.QtCore import Qt

from core.queues import SEP, QueueRow, all_orders, needle, rank_of, search
from core.search_index import RS, SearchIndex, scan
from ui.queue_model import Column, QueueModel

# Small alphabets so that random needles find something; SEP and RS inside both the texts and the
# needles check that nothing is ever matched across two fields or two rows.
TEXT = st.text(alphabet="ab1é客" + SEP + RS, max_size=8)
PHONE = st.text(alphabet="0189", max_size=8)
NEEDLE = st.one_of(st.text(alphabet="ab1é客" + SEP + RS, min_size=1, max_size=3),
                   st.text(alphabet="0189", min_size=1, max_size=6))
IDS = st.sampled_from([f"BL-{i:02d}" for i in range(24)])


def make(oid: str, text: str, phone: str, sev: int = 8, ship: str = "", state: str = "allocated",
         recipient: str = "", items: int = 1, pending: int = 0, conflict: bool = False) -> QueueRow:
    return QueueRow(oid, state, "B1", recipient, items, "", pending, conflict, False, (),
                    (sev, ship, "2026-11-25T01:00:00Z", oid), f"{oid.lower()}{SEP}{text}", phone=phone)


class IndexMachine(RuleBasedStateMachine):
    """Adds, replaces and removes rows at random; after each step every needle finds the same rows."""

    def __init__(self) -> None:
        super().__init__()
        self.index = SearchIndex(compact_after=3)  # compaction happens often here
        self.rows: dict[str, QueueRow] = {}

    @rule(oid=IDS, text=TEXT, phone=PHONE)
    def add(self, oid: str, text: str, phone: str) -> None:
        r = make(oid, text, phone)
        self.index.add(r)
        self.rows[oid] = r

    @rule(oid=IDS)
    def remove(self, oid: str) -> None:
        self.index.remove(oid)
        self.rows.pop(oid, None)

    @rule(needle_=NEEDLE, limit=st.integers(0, 30))
    def find(self, needle_: str, limit: int) -> None:
        want = {r.order_id for r in search(list(self.rows.values()), needle_)}
        got = self.index.find(needle_, limit)
        if got is None:
            assert len(want) > limit or RS in needle_
        else:
            assert sorted(r.order_id for r in got) == sorted(want)  # each row once
        assert scan(list(self.rows.values()), needle_) == search(list(self.rows.values()), needle_)

    @rule(data=st.data())
    def find_part_of_a_phone(self, data: st.DataObject) -> None:
        """A needle cut from a row's phone: found only when it is the number's tail."""
        phones = [r.phone for r in self.rows.values() if len(r.phone) >= 4]
        if phones:
            phone = data.draw(st.sampled_from(phones))
            start = data.draw(st.integers(0, len(phone) - 4))
            end = data.draw(st.integers(start + 4, len(phone)))
            self.find(phone[start:end], 30)

    @invariant()
    def size(self) -> None:
        assert len(self.index) == len(self.rows)


def test_a_phone_tail_finds_only_numbers_ending_with_all_of_it_not_just_its_last_four_digits() -> None:
    rows = [make("BL-01", "x", "13900001234"), make("BL-02", "x", "13900011234"), make("BL-03", "x", "1234"),
            make("BL-04", "x", "234"), make("BL-05", "x", "")]
    index = SearchIndex(rows)
    for needle_ in ("1234", "01234", "001234", "11234", "91234", "0000", "234"):
        want = [r.order_id for r in search(rows, needle_)]
        assert [r.order_id for r in index.phone_rows(needle_)] == (want if len(needle_) >= 4 else [])
        got = index.find(needle_, 30)
        assert got is not None and sorted(r.order_id for r in got) == sorted(want)
    index.add(make("BL-02", "x", "13900001234"))  # a changed number: found under its new tail only
    index.remove("BL-01")
    assert [r.order_id for r in index.phone_rows("01234")] == ["BL-02"]


TestIndexMachine = IndexMachine.TestCase
TestIndexMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


@given(st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["", "2026-11-25", "2026-11-25T0", "9999"]),
                          st.sampled_from(["BL-1", "BL-10", "BL-2", "BL-1a"])), max_size=6))
def test_rank_sorts_as_the_key_tuple(keys: list[tuple[int, str, str]]) -> None:
    full = [(sev, ship, ship, oid) for sev, ship, oid in keys]
    assert sorted(full) == sorted(full, key=rank_of)


# The column keys before issue 18 (tuples compared per pair): the order the model must keep.
OLD_KEYS: dict[Column, Any] = {
    Column.FLAGS: lambda r: r.key,
    Column.ORDER_ID: lambda r: r.order_id,
    Column.STATE: lambda r: (r.state, r.key),
    Column.RECIPIENT: lambda r: (r.recipient, r.key),
    Column.ITEMS: lambda r: (r.items, r.key),
    Column.SHIP_BY: lambda r: (r.key[1], r.key),
    Column.SYNC: lambda r: (-int(r.conflict), -r.pending, r.key),
}
ROW = st.builds(make, IDS, TEXT, PHONE, sev=st.integers(0, 9), ship=st.sampled_from(["", "2026-11-25T0", "9999"]),
                state=st.sampled_from(["allocated", "packed"]), recipient=st.sampled_from(["", "a", "张三"]),
                items=st.integers(0, 3), pending=st.integers(0, 2), conflict=st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=30, unique_by=lambda r: r.order_id),
       changes=st.lists(st.tuples(IDS, st.one_of(st.none(), ROW)), max_size=8),
       column=st.sampled_from(list(OLD_KEYS)), desc=st.booleans(),
       typed=st.lists(NEEDLE, min_size=1, max_size=3), then=st.sampled_from(list(OLD_KEYS)))
def test_model_shows_what_the_scan_finds_in_the_old_order(qapp: Any, rows: list[QueueRow],
                                                          changes: list[tuple[str, QueueRow | None]],
                                                          column: Column, desc: bool, typed: list[str],
                                                          then: Column) -> None:
    model = QueueModel(all_orders, "all")
    model.set_rows(rows)
    order = Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder
    model.sort(column, order)
    current = {r.order_id: r for r in rows}

    def expect() -> list[str]:
        ordered = sorted(current.values(), key=OLD_KEYS[column], reverse=desc)
        return [r.order_id for r in search(ordered, model.filter_text)]

    text = ""
    for more in typed:  # typing on (narrowing), then the changes arriving under the search
        text += more
        model.set_filter_text(text)
        assert model.order_ids() == expect()
    for oid, new in changes:
        new = None if new is None else make(oid, new.search, new.phone, new.key[0], new.key[1], new.state,
                                            new.recipient, new.items, new.pending, new.conflict)
        model.apply_changes({oid: new})
        if new is None:
            current.pop(oid, None)
        else:
            current[oid] = new
        assert model.order_ids() == expect()
    model.set_filter_text(needle(text[:1]))
    assert model.order_ids() == expect()
    desc = not desc  # the same column the other way round: the exact reverse
    model.sort(column, Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder)
    assert model.order_ids() == expect()
    model.set_filter_text("")
    assert model.order_ids() == expect()
    # From the queue order (either way round) to another column, searching or not.
    model.set_filter_text(text[-1:])
    model.sort(Column.FLAGS, Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder)
    column = then
    model.sort(column, Qt.SortOrder.AscendingOrder if desc else Qt.SortOrder.DescendingOrder)
    desc = not desc
    assert model.order_ids() == expect()


def test_index_is_built_after_the_first_screen_and_keeps_up(qtbot: Any) -> None:
    """set_rows shows the rows first; the index follows on the next event-loop turn, then changes."""
    rows = [make(f"BL-{i:02d}", f"a{i}b", f"1890{i:02d}", sev=i % 3) for i in range(40)]
    model = QueueModel(all_orders, "all")
    model.set_rows(rows)
    assert model.rowCount() == 40 and not model._index_built  # the first screen does not wait
    qtbot.waitUntil(lambda: model._index_built)
    model.apply_changes({"BL-03": None, "BL-07": make("BL-07", "zzz", "0000"), "BL-99": make("BL-99", "a1b", "189001")})
    current = {r.order_id: r for r in rows if r.order_id not in ("BL-03", "BL-07")}
    current["BL-07"], current["BL-99"] = make("BL-07", "zzz", "0000"), make("BL-99", "a1b", "189001")
    for text in ("a1", "a1b", "zz", "9001", "189001", "b"):
        model.set_filter_text(text)
        assert model.order_ids() == [r.order_id for r in search(sorted(current.values(), key=lambda r: r.key), text)]


def test_rows_prepared_on_the_worker_arrive_sorted_and_indexed(qapp: Any) -> None:
    """The load's filter, sort and index run off the GUI thread (QueueModel.prepare); set_rows only
    takes them. A queue whose order changed meanwhile sorts and indexes the whole list itself."""
    rows = [make(f"BL-{i:02d}", f"a{i}b", f"1890{i:02d}", sev=i % 3, state=("allocated", "shipped")[i % 2])
            for i in range(40)]
    model = QueueModel(lambda r: r.state == "allocated", "x")
    prepared = model.prepare(rows)
    model.set_rows(prepared)
    assert model._index_built and model._index is prepared.index
    want = sorted((r for r in rows if r.state == "allocated"), key=lambda r: r.key)
    assert model.order_ids() == [r.order_id for r in want]
    model.set_filter_text("a1")
    assert model.order_ids() == [r.order_id for r in search(want, "a1")]
    model.set_filter_text("")

    stale = model.prepare(rows)
    model.sort(Column.RECIPIENT, Qt.SortOrder.DescendingOrder)  # the user sorted while the worker read
    model.set_rows(stale)
    assert not model._index_built and model._index is not stale.index
    assert model.order_ids() == [r.order_id for r in sorted(want, key=lambda r: (r.recipient, r.key), reverse=True)]
