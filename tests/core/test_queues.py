"""The queues without Qt: each queue's definition, "done", search, and rows read from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.flags import Flag, is_done
from core.outbox import Outbox
from core.queues import (
    QUEUE_KEYS,
    QueueRow,
    all_orders,
    done_queue,
    exceptions_queue,
    in_scope,
    load_rows,
    load_rows_by_id,
    matches,
    my_bench,
    needle,
    queue_filter,
    search,
    to_print_queue,
    vip_queue,
)
from core.states import DONE_STATES, State
from core.store import LocalStore, open_store
from tests.helpers.queue_rows import GIFT_LINE, HOLD, NOW, TODAY, row, sample
from tests.helpers.snapshots import snapshot

YESTERDAY = "2026-11-24T03:00:00Z"


def ids(rows: list[QueueRow], keep: Any) -> set[str]:
    return {r.order_id for r in rows if keep(r)}


def test_queue_filters() -> None:
    rows = sample()
    extra = row(20, bench="B2")
    allrows = [*rows.values(), extra]
    assert ids(allrows, my_bench("B1")) == {r.order_id for n, r in rows.items() if n != "done"}
    assert not any(my_bench("")(r) for r in allrows)
    assert [r.order_id for r in allrows if vip_queue(r)] == [rows["vip"].order_id]
    assert ids(allrows, exceptions_queue) == {rows["conflict"].order_id, rows["exception"].order_id}
    assert rows["exception"].order_id not in ids(allrows, to_print_queue)
    assert rows["pending"].order_id not in ids(allrows, to_print_queue)
    assert [r.order_id for r in allrows if done_queue(r)] == [rows["done"].order_id]
    assert ids(allrows, all_orders) == {r.order_id for r in allrows}


def test_my_bench_is_the_bench_workable_states_of_this_bench_only() -> None:
    queue = my_bench("B1")
    assert {s for s in State if queue(row(1, state=s.value))} == {State.ALLOCATED, State.LABEL_PRINTED}
    assert not queue(row(1, bench="B2")) and not queue(row(1, bench=None))


def test_to_print_is_allocated_and_not_held() -> None:
    assert {s for s in State if to_print_queue(row(1, state=s.value))} == {State.ALLOCATED}
    assert not to_print_queue(row(1, holds=[HOLD]))
    assert to_print_queue(row(1, pending=1))  # pending work does not stop a label


def test_exceptions_are_open_holds_or_conflicts_in_any_state() -> None:
    assert exceptions_queue(row(1, state="paid", holds=[HOLD]))
    assert exceptions_queue(row(1, state="shipped", conflict=True))
    assert not exceptions_queue(row(1, pending=3, lines=[GIFT_LINE]))


@pytest.mark.parametrize("state", sorted(s.value for s in State))
def test_done_has_one_rule_done_states_and_today_for_the_flag(state: str) -> None:
    today, yesterday = row(1, state=state, updated_at=TODAY), row(2, state=state, updated_at=YESTERDAY)
    assert is_done(state) is (state in DONE_STATES)
    # The "done" queue and flag: done and updated on the site's day.
    assert done_queue(today) is is_done(state) and (Flag.DONE in today.flags) is is_done(state)
    assert not done_queue(yesterday) and Flag.DONE not in yesterday.flags
    # The VIP queue leaves out every done order, today's or older.
    for when in (TODAY, YESTERDAY):
        vip = row(3, state=state, updated_at=when, lane="vip", flags=["vip"])
        assert vip_queue(vip) is not is_done(state)


def test_done_today_is_the_sites_day_not_utc() -> None:
    # 2026-11-24T17:00Z is 01:00 on the 25th in Shanghai: today there, yesterday in UTC.
    assert done_queue(row(1, state="delivered", updated_at="2026-11-24T17:00:00Z"))
    assert not done_queue(row(1, state="delivered", updated_at="2026-11-24T15:59:00Z"))


def test_vip_by_hub_flag_or_lane() -> None:
    assert vip_queue(row(1, flags=["vip"])) and vip_queue(row(2, lane="vip"))
    assert not vip_queue(row(3))


def test_queue_filter_names_every_queue() -> None:
    rows = [*sample().values(), row(20, bench="B2")]
    named = {"vip": vip_queue, "exceptions": exceptions_queue, "to_print": to_print_queue, "done": done_queue,
             "all": all_orders}
    assert set(QUEUE_KEYS) == {"bench", *named}
    for key, fn in named.items():
        assert ids(rows, queue_filter(key, "B1")) == ids(rows, fn), key
    assert ids(rows, queue_filter("bench", "B1")) == ids(rows, my_bench("B1"))
    assert not ids(rows, queue_filter("bench", ""))
    with pytest.raises(KeyError):
        queue_filter("nonesuch", "B1")


def test_bench_scope() -> None:
    assert in_scope(row(1), None) and in_scope(row(1), "B1") and not in_scope(row(1), "B2")


LI_SI = {"name": "李四", "phone": "139-0000-4321", "province": "", "city": "", "district": "", "address": "",
         "postcode": ""}


@pytest.mark.parametrize(("text", "expect"), [
    ("bl20261125-000002", {2}),  # order ID, any case
    ("  BL20261125-000002 ", {2}),  # scanner/IME spaces trimmed
    ("C000002", {2}),  # channel order number
    ("4321", {2}),  # phone tail, whatever the phone's punctuation
    ("139", set()),  # the start of a phone is not its tail (docs/api.md: the hub matches the tail too)
    ("00004321", {2}),  # a longer tail
    ("3900", set()),  # the middle of a phone is not its tail
    ("李", {2}),  # name
    ("四", {2}),  # any part of the name
    ("SF000001", {1}),  # waybill
    ("000001", {1}),
    ("", {1, 2}),  # no search: everything
    ("no-such", set()),
])
def test_search_by_id_channel_no_phone_name_and_waybill(text: str, expect: set[int]) -> None:
    rows = [row(1), row(2, recipient=LI_SI)]
    found = {int(r.order_id[-6:]) for r in rows if matches(r, needle(text))}
    assert found == expect
    assert search(rows, needle(text)) == [r for r in rows if int(r.order_id[-6:]) in expect]  # same rule, in order


def test_phone_search_matches_the_tail_not_any_part() -> None:
    """Issue 11: "1422" found 18592142232 (a substring in the middle); a phone is searched by its tail."""
    r = row(1, recipient={**LI_SI, "phone": "18592142232"})
    assert not matches(r, needle("1422")) and search([r], needle("1422")) == []
    assert matches(r, needle("2232")) and search([r], needle("2232")) == [r]
    assert matches(r, needle("18592142232"))
    assert not matches(r, needle("232"))  # fewer than 4 digits: not a phone search


def test_search_never_matches_across_two_fields() -> None:
    r = row(1)  # ... "sf000001" is the last field, "c000001" the second
    assert not matches(r, needle("000001" + "c0"))
    assert not matches(r, needle("张三sf"))


# -- rows from the store ---------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def test_rows_come_from_the_local_view_with_pending_and_conflict(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in (1, 2, 3)])
        store.apply_snapshots(conn, [snapshot("BL20261125-000004", flags=["vip"], ship_by="2026-11-27T00:00:00Z")])
    Outbox(store).perform("BL20261125-000002", "hold_raised", {"type": "scan_mismatch", "reason": "x"}, "P001")
    with store.write() as conn:
        conn.exec_driver_sql("UPDATE orders SET conflict_json = '{}' WHERE order_id = 'BL20261125-000003'")
    rows = load_rows(store, now=NOW)
    by_id = {r.order_id: r for r in rows}
    assert by_id["BL20261125-000002"].pending == 1 and by_id["BL20261125-000002"].held  # the local view
    assert by_id["BL20261125-000003"].conflict and Flag.CONFLICT in by_id["BL20261125-000003"].flags
    # Queue order: conflict, VIP, exception, then the rest.
    assert [r.order_id[-1] for r in rows] == ["3", "4", "2", "1"]
    changed = load_rows_by_id(store, ["BL20261125-000001", "BL20261125-000009"], now=NOW)
    assert changed["BL20261125-000001"] == by_id["BL20261125-000001"]
    assert changed["BL20261125-000009"] is None  # not (or no longer) in the store


def test_rows_by_id_read_more_orders_than_one_sql_statement_binds(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in range(1, 2001)])
    wanted = [f"BL20261125-{i:06d}" for i in range(1, 2101)]
    found = load_rows_by_id(store, wanted, now=NOW)
    assert list(found) == wanted
    assert sum(r is not None for r in found.values()) == 2000
