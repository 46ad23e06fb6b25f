"""Queue model: queue order, flags as colour + icon + text, search keys, incremental updates, 100k rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.flags import STYLES, Flag
from core.i18n import set_language
from core.queues import QueueRow, all_orders, exceptions_queue, to_print_queue
from tests.helpers.queue_rows import HOLD, NOW, row, sample
from ui.queue_model import (
    FLAG_COLOURS_ROLE,
    FLAG_ICONS_ROLE,
    FLAG_TEXTS_ROLE,
    FLAGS_ROLE,
    ORDER_ID_ROLE,
    STRIPED_ROLE,
    Column,
    QueueModel,
)


@pytest.fixture(autouse=True)
def english(qapp: Any, home: Any) -> None:
    set_language("en")


def test_rows_sort_by_flag_severity_then_ship_by(qtbot: Any) -> None:
    rows = sample()
    model = QueueModel(all_orders, "all")
    model.set_rows(sorted(rows.values(), key=lambda r: r.key))
    ids = model.order_ids()
    by_id = {r.order_id: name for name, r in rows.items()}
    assert [by_id[i] for i in ids] == ["conflict", "vip", "overdue", "at_risk", "exception", "gift",
                                       "plain", "pending", "done"]


def test_flag_roles_give_colour_icon_and_text(qtbot: Any) -> None:
    rows = sample()
    model = QueueModel(all_orders, "all")
    model.set_rows(rows.values())
    for name, flag in (("conflict", Flag.CONFLICT), ("vip", Flag.VIP), ("overdue", Flag.OVERDUE),
                       ("exception", Flag.EXCEPTION), ("gift", Flag.GIFT), ("done", Flag.DONE)):
        idx = model.index(model.row_of(rows[name].order_id), Column.FLAGS)
        assert idx.data(FLAGS_ROLE)[0] == flag
        assert idx.data(FLAG_COLOURS_ROLE)[0] == STYLES[flag].colour
        assert idx.data(FLAG_ICONS_ROLE)[0] == STYLES[flag].icon
        assert idx.data(FLAG_TEXTS_ROLE)[0] == STYLES[flag].en
        assert STYLES[flag].en in idx.data(Qt.ItemDataRole.DisplayRole)
        assert idx.data(Qt.ItemDataRole.BackgroundRole).name() == STYLES[flag].colour
        assert idx.data(STRIPED_ROLE) is (flag == Flag.CONFLICT)
    sync = model.index(model.row_of(rows["pending"].order_id), Column.SYNC)
    assert "↻" in sync.data()
    assert "↯" in model.index(model.row_of(rows["conflict"].order_id), Column.SYNC).data()


def test_chinese_state_and_flag_words(qtbot: Any) -> None:
    set_language("zh_CN")
    model = QueueModel(all_orders, "all")
    model.set_rows([row(1, holds=[HOLD])])
    assert model.index(0, Column.STATE).data() == "已分仓"
    assert "异常" in model.index(0, Column.FLAGS).data()
    assert model.headerData(Column.ORDER_ID, Qt.Orientation.Horizontal) == "订单号"


def test_bench_scope_keeps_other_benches_out() -> None:
    # The queue filters themselves are core.queues' (tests/core/test_queues.py).
    rows = sample()
    extra = row(20, bench="B2")
    allrows = [*rows.values(), extra]
    scoped = QueueModel(all_orders, "all", bench_scope="B1")
    scoped.set_rows(allrows)
    assert extra.order_id not in scoped.order_ids() and scoped.total == len(rows)


@pytest.mark.parametrize(("text", "expect"), [
    ("bl20261125-000042", 42), ("C000042", 42), ("8000", None), ("李四", 43), ("sf000044", 44)])
def test_search_by_each_key(qtbot: Any, text: str, expect: int | None) -> None:
    rows = [row(i) for i in range(40, 46)]
    rows[3] = row(43, recipient={"name": "李四", "phone": "13900001111", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "address": "x", "postcode": ""})
    model = QueueModel(all_orders, "all")
    model.set_rows(rows)
    with qtbot.waitSignal(model.modelReset):
        model.set_filter_text(text)
    if expect is None:  # a phone tail shared by every sample order but 43
        assert model.rowCount() == 5
    else:
        assert model.order_ids() == [f"BL20261125-{expect:06d}"]
    model.set_filter_text("")
    assert model.rowCount() == 6


def test_few_changes_use_row_signals_not_reset(qtbot: Any) -> None:
    model = QueueModel(to_print_queue, "to_print")
    model.set_rows([row(i) for i in range(1, 11)])
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    new = row(11, ship_by="2026-11-25T10:00:00Z")  # earliest ship-by: first row
    with qtbot.waitSignal(model.rowsInserted) as ins:
        model.apply_changes({new.order_id: new})
    assert ins.args[1] == 0 and model.order_ids()[0] == new.order_id
    held = row(3, holds=[HOLD])  # now held: leaves "to print"
    with qtbot.waitSignal(model.rowsRemoved):
        model.apply_changes({held.order_id: held})
    assert held.order_id not in model.order_ids()
    renamed = row(5, recipient={"name": "王五", "phone": "1", "province": "", "city": "", "district": "",
                                "address": "", "postcode": ""})
    with qtbot.waitSignal(model.dataChanged):
        model.apply_changes({renamed.order_id: renamed})
    assert model.index(model.row_of(renamed.order_id), Column.RECIPIENT).data() == "王五"
    with qtbot.waitSignal(model.rowsRemoved):
        model.apply_changes({"BL20261125-000007": None})
    assert model.total == 9 and not resets
    model.set_filter_text("000008")
    gone = row(8, state="shipped")
    model.apply_changes({gone.order_id: gone})
    assert model.rowCount() == 0 and model.total == 8


def test_typing_on_narrows_the_shown_rows_and_still_sees_changes_made_meanwhile(qtbot: Any) -> None:
    model = QueueModel(all_orders, "all")
    model.set_rows([row(i) for i in range(1, 40)])
    model.set_filter_text("0000")  # BL20261125-000001 … 000039
    assert model.rowCount() == 39
    new = row(41)  # arrives while the clerk types
    model.apply_changes({new.order_id: new})
    model.set_filter_text("00004")  # one more character: only the rows already shown are searched
    fresh = QueueModel(all_orders, "all")
    fresh.set_rows([row(i) for i in range(1, 40)] + [new])
    fresh.set_filter_text("00004")
    assert model.order_ids() == fresh.order_ids() and new.order_id in model.order_ids()
    assert len(model.order_ids()) < 39
    model.set_filter_text("00003")  # not an extension of "00004": all rows again
    fresh.set_filter_text("00003")
    assert model.order_ids() == fresh.order_ids() and "BL20261125-000031" in model.order_ids()


def test_user_sort_by_column_and_back(qtbot: Any) -> None:
    model = QueueModel(all_orders, "all")
    rows = [row(i, recipient={"name": n, "phone": "", "province": "", "city": "", "district": "",
                              "address": "", "postcode": ""}) for i, n in ((1, "c"), (2, "a"), (3, "b"))]
    model.set_rows(rows)
    model.sort(Column.RECIPIENT, Qt.SortOrder.AscendingOrder)
    assert [model.index(i, Column.RECIPIENT).data() for i in range(3)] == ["a", "b", "c"]
    model.sort(Column.RECIPIENT, Qt.SortOrder.DescendingOrder)
    assert [model.index(i, Column.RECIPIENT).data() for i in range(3)] == ["c", "b", "a"]
    new = row(4, recipient={"name": "bb", "phone": "", "province": "", "city": "", "district": "", "address": "",
                            "postcode": ""})
    model.apply_changes({new.order_id: new})
    assert [model.index(i, Column.RECIPIENT).data() for i in range(4)] == ["c", "bb", "b", "a"]
    model.sort(Column.FLAGS, Qt.SortOrder.AscendingOrder)
    assert model.order_ids()[0] == "BL20261125-000001"


def test_100k_rows_filter_sort_and_update(qtbot: Any) -> None:
    base = row(1)
    rows = []
    for i in range(100_000):
        oid = f"BL20261125-{i:06d}"
        sev = 8 if i % 10 else 4
        rows.append(QueueRow(oid, "allocated", "B1", f"name{i}", 1, "", 0, False, sev == 4,
                             (Flag.EXCEPTION,) if sev == 4 else (), (sev, f"2026-11-26T{i % 24:02d}", "", oid),
                             f"{oid.lower()}\x1fc{i}\x1f1380000{i % 10000:04d}\x1fname{i}\x1fsf{i}"))
    assert base.search  # the synthetic rows mimic real ones
    rows.sort(key=lambda r: r.key)
    model = QueueModel(all_orders, "all")
    t0 = time.perf_counter()
    model.set_rows(rows)
    assert model.rowCount() == 100_000
    t1 = time.perf_counter()
    model.set_filter_text("name4242")
    t2 = time.perf_counter()
    assert model.order_ids() == ["BL20261125-004242", *[f"BL20261125-{i:06d}" for i in range(42420, 42430)]] or \
        set(model.order_ids()) == {f"BL20261125-{i:06d}" for i in [4242, *range(42420, 42430)]}
    model.set_filter_text("")
    first = model.index(0, Column.ORDER_ID).data(ORDER_ID_ROLE)
    assert model.row_at(0) is not None and model.row_at(0).key[0] == 4 and first is not None  # exceptions first
    changed = {r.order_id: QueueRow(r.order_id, r.state, r.bench, r.recipient, 2, "", 1, False, False, (),
                                    (8, "0000", "", r.order_id), r.search) for r in rows[:500]}
    model.apply_changes(changed)
    # the 500 changed orders were exceptions; now unflagged with ship-by "0000": first after the 9,500 left
    assert model.rowCount() == 100_000
    assert model.row_at(9499).key[0] == 4 and model.row_at(9500).order_id in changed
    # generous bounds: this is a correctness smoke, bench/queue_model.py reports the figures
    assert t1 - t0 < 2.0 and t2 - t1 < 1.0


def test_exceptions_show_type_who_raised_it_and_age_oldest_first(qapp: Any) -> None:
    from ui.queue_model import age_text

    newer = dict(HOLD, hold_id="h2", type="scan_mismatch", raised_by="P001", raised_at="2026-11-25T05:40:00Z")
    rows = [row(1, holds=[newer]), row(2, holds=[HOLD]), row(3, conflict=True)]
    model = QueueModel(exceptions_queue)
    model.set_rows(rows)
    model.sort(Column.HOLD, Qt.SortOrder.AscendingOrder)
    texts = [model.index(i, Column.HOLD).data() for i in range(3)]
    assert texts[0].startswith("Gift stock short (hub)")  # raised 02:00, the oldest
    assert texts[1].startswith("Scan mismatch (P001)")
    assert "Offline conflict" in texts[2]
    assert age_text(datetime(2026, 11, 25, 5, 40, tzinfo=UTC), NOW) == "20 min"
    assert age_text(datetime(2026, 11, 25, 2, 0, tzinfo=UTC), NOW) == "4 h"
    assert age_text(datetime(2026, 11, 20, 6, 0, tzinfo=UTC), NOW) == "5 d"
