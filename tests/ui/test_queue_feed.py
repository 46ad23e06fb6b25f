"""Issue 18: queues sharing one search index; typing on searches the last hits; a search pass over
many rows shown in slices; the load's first screen; big change batches merged one queue per turn.

Every answer is checked against the reference rule, :func:`core.queues.search` over the queue's
rows in its order. No timing here (bench/queue_model.py measures).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import UserError
from core.flags import Flag
from core.i18n import set_language
from core.queues import QueueRow, all_orders, load_rows, needle, search, to_print_queue
from core.search_index import SearchIndex
from core.store import open_store
from tests.helpers.snapshots import snapshot
from ui import queue_feed, queue_model
from ui.queue_feed import QueueFeed
from ui.queue_model import QueueModel
from ui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def english(qapp: Any, home: Any) -> None:
    set_language("en")


def rows(n: int) -> list[QueueRow]:
    """``n`` rows in queue order: every tenth an exception, phones ending in their number."""
    out = []
    for i in range(n):
        oid = f"BL20261125-{i:06d}"
        held = i % 10 == 0
        state = "allocated" if i % 3 else "picking"
        out.append(QueueRow(oid, state, "B1", f"name{i}", 1, "", 0, False, held,
                            (Flag.EXCEPTION,) if held else (), (4 if held else 8, f"2026-11-26T{i % 24:02d}", "", oid),
                            f"{oid.lower()}\x1fc{i}\x1fname{i}\x1fsf{i:06d}", phone=f"1390000{i:04d}"))
    out.sort(key=lambda r: r.key)
    return out


def shared_models(all_rows: list[QueueRow]) -> tuple[SearchIndex, QueueModel, QueueModel]:
    index = SearchIndex(all_rows)
    everything = QueueModel(all_orders, "all", index=index)
    to_print = QueueModel(to_print_queue, "to_print", index=index)
    for m in (everything, to_print):
        m.set_rows(m.prepare(all_rows))
    return index, everything, to_print


def expected(model: QueueModel, text: str) -> list[str]:
    return [r.order_id for r in search(model._all, needle(text))]


def settle(qtbot: Any, model: QueueModel) -> None:
    if model.searching:
        with qtbot.waitSignal(model.search_done, timeout=10_000):
            pass
    assert not model.searching


def test_two_queues_search_one_shared_index_and_typing_on_narrows_in_slices(qtbot: Any) -> None:
    all_rows = rows(30_000)
    index, everything, to_print = shared_models(all_rows)
    assert len(index) == 30_000 and to_print.total < everything.total
    # "1" is in nearly every row: a pass in slices; the first slice is shown at once.
    everything.set_filter_text("1")
    assert everything.searching and 0 < everything.rowCount() < len(expected(everything, "1"))
    settle(qtbot, everything)
    assert everything.order_ids() == expected(everything, "1")
    # Typing on while the pass still runs: the new search covers what it had not reached yet.
    for text in ("12", "123", "1234", "12345"):  # "1234": a phone tail too (from the index)
        everything.set_filter_text(text)
        settle(qtbot, everything)
        assert everything.order_ids() == expected(everything, text), text
    # The shared index answers the other queue with its own rows only, in its own order.
    for text in ("name2", "name29999", "0042", "sf0001"):
        to_print.set_filter_text(text)
        settle(qtbot, to_print)
        assert to_print.order_ids() == expected(to_print, text), text


def test_a_phone_tail_typed_on_finds_numbers_the_shorter_tail_did_not(qtbot: Any) -> None:
    all_rows = rows(12_000)
    _index, everything, _p = shared_models(all_rows)
    everything.set_filter_text("1432")
    settle(qtbot, everything)
    everything.set_filter_text("14322")  # ends no number "1432" ended; found through the index
    settle(qtbot, everything)
    assert everything.order_ids() == expected(everything, "14322")


def test_a_change_during_a_sliced_search_finishes_it_first_and_is_merged(qtbot: Any) -> None:
    all_rows = rows(20_000)
    index, everything, to_print = shared_models(all_rows)
    everything.set_filter_text("name1")
    assert everything.searching
    old = everything._all[-1]
    new = QueueRow(old.order_id, "allocated", "B1", "name1-renamed", 1, "", 0, False, True, (Flag.EXCEPTION,),
                   (4, "0000", "", old.order_id), f"{old.order_id.lower()}\x1fname1-renamed")
    gone = everything._all[5].order_id
    changes: dict[str, QueueRow | None] = {new.order_id: new, gone: None}
    index.add(new)  # the owner keeps the shared index, then the queues merge
    index.remove(gone)
    for m in (everything, to_print):
        m.apply_changes(changes)
    assert not everything.searching
    assert everything.order_ids() == expected(everything, "name1") and everything.order_ids()[0] == new.order_id
    assert gone not in everything.order_ids()
    # sorting and clearing mid-pass are safe too
    everything.set_filter_text("name")
    everything.sort(queue_model.Column.RECIPIENT)
    assert not everything.searching and everything.order_ids() == expected(everything, "name")
    everything.set_filter_text("")
    assert everything.rowCount() == everything.total


def test_load_shows_a_first_screen_then_every_queue_and_merges_a_big_batch_per_turn(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_feed, "FIRST_SCREEN_FROM", 10)  # a small store here, a big one in the app
    monkeypatch.setattr(queue_feed, "FIRST_ROWS", 5)
    monkeypatch.setattr(queue_feed, "SLICED_BATCH", 3)
    monkeypatch.setattr(queue_feed, "GC_IDLE_MS", 10)
    store = open_store(tmp_path / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}", bench="B1") for i in range(40)])
    runner = TaskRunner()
    try:
        feed = QueueFeed(runner, store)
        everything = QueueModel(all_orders, "all", index=feed.index)
        to_print = QueueModel(to_print_queue, "to_print", index=feed.index)
        feed.models = [everything, to_print]
        seen: list[int] = []
        feed.first_screen.connect(lambda: seen.append(everything.total))
        with qtbot.waitSignal(feed.loaded, timeout=20_000):
            feed.reload()
        assert seen == [5] and everything.total == 40 and len(feed.index) == 40
        assert gc.isenabled()
        everything.set_filter_text("bl20261125-00003")
        assert everything.order_ids() == [f"BL20261125-{i:06d}" for i in range(30, 40)] or \
            sorted(everything.order_ids()) == [f"BL20261125-{i:06d}" for i in range(30, 40)]
        # A batch above SLICED_BATCH: one queue per turn, the collector paused until after the last.
        with store.write() as conn:
            store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}", bench="B2", state="picking", version=2)
                                         for i in range(30, 36)])
        assert len([r for r in load_rows(store) if r.bench == "B2"]) == 6
        changes: dict[str, QueueRow | None] = {r.order_id: r for r in load_rows(store) if r.bench == "B2"}
        changes["BL20261125-000039"] = None  # gone
        with qtbot.waitSignal(feed.applied, timeout=10_000):
            feed.apply(changes)
            assert feed.busy and not gc.isenabled()
        assert not feed.busy
        qtbot.waitUntil(gc.isenabled, timeout=5000)  # GC_IDLE_MS after the burst's last batch
        assert everything.order_ids() == expected(everything, "bl20261125-00003")
        assert set(everything.order_ids()) == {f"BL20261125-{i:06d}" for i in range(30, 39)}
        assert not any(r.order_id in changes for r in to_print._all)  # picking, or gone: not printable
        assert to_print.total == 40 - 7
        # A small batch (nothing waiting): merged at once.
        one: dict[str, QueueRow | None] = {"BL20261125-000001": None}
        feed.apply(one)
        assert "BL20261125-000001" not in everything._by_id and len(feed.index) == 40 - 2
    finally:
        runner.shutdown()


def test_a_load_that_fails_says_so_keeps_the_rows_shown_and_resumes_the_collector(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in range(5)])
    runner = TaskRunner()
    try:
        feed = QueueFeed(runner, store)
        everything = QueueModel(all_orders, "all", index=feed.index)
        feed.models = [everything]
        with qtbot.waitSignal(feed.loaded, timeout=20_000):
            feed.reload()
        assert everything.total == 5

        def broken(*_a: Any, **_k: Any) -> list[Any]:
            raise UserError("The local database could not be read.")

        monkeypatch.setattr(store, "queue_facts", broken)  # what a load reads (the facts cache, store v9)
        errors: list[UserError] = []
        feed.reload(on_failure=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
        assert "could not be read" in str(errors[0])
        assert everything.total == 5 and len(feed.index) == 5  # what was shown stays
        assert gc.isenabled()
    finally:
        runner.shutdown()


def test_the_worker_builds_a_load_with_quick_gil_switches_and_gives_the_interval_back(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(f"BL20261125-{i:06d}") for i in range(5)])
    before = sys.getswitchinterval()
    seen: list[float] = []

    def load(*a: Any, **k: Any) -> list[QueueRow]:
        seen.append(sys.getswitchinterval())
        return load_rows(*a, **k)

    monkeypatch.setattr(queue_feed, "load_rows", load)
    runner = TaskRunner()
    try:
        feed = QueueFeed(runner, store)
        feed.models = [QueueModel(all_orders, "all", index=feed.index)]
        with qtbot.waitSignal(feed.loaded, timeout=20_000):
            feed.reload()
        assert seen == [queue_feed.LOAD_SWITCH_S] and sys.getswitchinterval() == before

        def broken(*_a: Any, **_k: Any) -> list[QueueRow]:
            raise UserError("The local database could not be read.")

        monkeypatch.setattr(queue_feed, "load_rows", broken)
        errors: list[UserError] = []
        feed.reload(on_failure=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
        assert sys.getswitchinterval() == before  # a failed load gives it back too
    finally:
        runner.shutdown()
