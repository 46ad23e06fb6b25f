"""Feeds the queue models: the load (first screen, then the rest) and merged changes, in slices.

Why (issue 18): at 100,000 orders a load took ~4 s before the first row showed, and a sync page
merged into six queues in one event-loop turn froze the window. Here:

* **One shared index.** Every queue model searches one :class:`core.search_index.SearchIndex`
  over every row (built once on the database worker), not a copy per queue; the feed keeps it up
  to date (rows added/removed once per change, before the queues merge the change).
* **Load in two steps.** On the first load (empty queues) of a big store the worker reads the first
  :data:`FIRST_ROWS` orders (by ship-by), builds, sorts and hands them over: the first screen,
  in the default sort, while the worker reads the rest. The full load replaces it. Its rows (from
  the store's cache of each view's facts, :mod:`core.queue_facts`: no JSON parsed, no sort), each
  queue's filtered and sorted list and its ID map, and the index are all built on the worker with
  the cyclic GC paused (100,000 new rows otherwise trigger collection after collection over a
  growing heap) and a short switch interval (:func:`quick_switches`; the whole-list C passes are cut
  in slices, :mod:`core.slices`), so the GUI thread gets the GIL within a frame while the worker
  builds; the GUI thread takes one queue per event-loop turn.
* **Changes in slices.** A big batch (a sync page) is merged one queue per event-loop turn, with the
  cyclic GC paused from the burst's first big batch until :data:`GC_IDLE_MS` after its last (no
  collection walks the rows inside a GUI turn, nor on a worker holding the GIL), then the live rows
  are frozen out of later scans (:func:`keep_out_of_gc_scans`). The price: cyclic garbage made
  during a burst is frozen with the rows (reference counting frees the rest). A small batch (a
  scan, one action) is merged at once, with row signals, as before.

Steps run in order (a FIFO): a change read after the load is applied after it.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from core.queues import QueueRow, load_rows
from core.search_index import SearchIndex

if TYPE_CHECKING:
    from core.store import LocalStore
    from ui.queue_model import PreparedRows, QueueModel
    from ui.tasks import TaskRunner

#: Orders read for the first screen of a first load (a screen shows ~30; more fills the other
#: queues' first screens too). Measured: 2,000 → 1,000 took the first screen from ~130 to ~80 ms.
FIRST_ROWS = 1000
#: A first screen only for stores above this many orders (a smaller full load takes < 300 ms anyway).
FIRST_SCREEN_FROM = 10_000
#: Above this many changed orders at once, the queues merge them one per event-loop turn.
SLICED_BATCH = 200

#: The cyclic GC stays paused until this long after a sync burst's last big batch (a sync brings a
#: page every few hundred ms: a collection between two pages, on the GUI thread or on the worker —
#: both hold the GIL — walked every row the burst had brought so far).
GC_IDLE_MS = 1000
#: Above this many young objects, :func:`keep_out_of_gc_scans` freezes them without a collection.
_YOUNG_WALK = 20_000

_gc_lock = threading.Lock()
_gc_holds = 0


#: The interpreter's switch interval while a load is built on the worker (the default is 5 ms).
#: A thread that wants the GIL waits up to this long for a thread running Python code to give it
#: up, and the GUI thread takes the GIL again after each call into Qt it makes while handling one
#: event: at 5 ms a 5 ms timer's tick waited 10–40 ms behind the worker's row building.
LOAD_SWITCH_S = 0.0005

_switch_lock = threading.Lock()
_switch_holds = 0
_switch_was = 0.0


@contextmanager
def quick_switches() -> Iterator[None]:
    """A short switch interval (:data:`LOAD_SWITCH_S`) while the block runs; nests across threads.

    Process-wide, so only around the worker's heavy part of a load: a switch costs a few µs, and
    only happens when another thread is waiting for the GIL.
    """
    global _switch_holds, _switch_was
    with _switch_lock:
        if _switch_holds == 0:
            _switch_was = sys.getswitchinterval()
            sys.setswitchinterval(LOAD_SWITCH_S)
        _switch_holds += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_holds -= 1
            if _switch_holds == 0:
                sys.setswitchinterval(_switch_was)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector (process-wide) while the block runs; nests across threads.

    Reference counting still frees everything; only the cyclic scans wait. Used around the
    worker's row building and the GUI thread's batch merges. When the last pause ends with many
    young objects (a load's rows), they are frozen before the collector is back: else its next
    run, on whichever thread allocates next, walks them all holding the GIL (600 ms at 100k rows).
    """
    _pause_gc()
    try:
        yield
    finally:
        _resume_gc()


def _pause_gc() -> None:
    global _gc_holds
    with _gc_lock:
        _gc_holds += 1
        gc.disable()


def _resume_gc() -> None:
    global _gc_holds
    with _gc_lock:
        _gc_holds = max(0, _gc_holds - 1)
        if _gc_holds == 0:
            if gc.get_count()[0] >= _YOUNG_WALK:
                gc.freeze()
            gc.enable()


def _release(held: dict[str, bool]) -> bool:
    """End a feed's pause of the collector, if it holds one (whether it did)."""
    if not held["held"]:
        return False
    held["held"] = False
    _resume_gc()
    return True


def keep_out_of_gc_scans() -> None:
    """Move what is alive now — the queues' rows, mostly — out of the cyclic collector's scans.

    Measured with 100,000 orders: a full (generation 2) collection walked every queue row and took
    100–190 ms, holding the GIL, so a sync on a worker thread still froze the window that long.
    The rows are long-lived and free no cycles; frozen, they are still freed by reference counting
    when a change replaces them, and a full collection only walks what came after. ``gc.freeze``
    moves lists, it does not walk them: cheap enough after every load and bulk merge. The young
    generations are collected first (they hold a few thousand objects at most), so fresh cyclic
    garbage — a failed request's traceback, say — is freed rather than frozen for good. Not after
    a load or batch made with the collector paused: then the young generation holds every new row
    (a collection of it took 600 ms at 100,000 rows), and they are frozen as they are (what little
    cyclic garbage is among them stays; the load's own garbage is freed by reference counting).
    """
    if gc.get_count()[0] < _YOUNG_WALK:
        gc.collect(1)
    gc.freeze()


Prepared = tuple[list[tuple["QueueModel", "PreparedRows"]], SearchIndex]


class QueueFeed(QObject):
    """Loads and updates a set of queue models that share one search index.

    Signals:
        first_screen(): the first rows of a first load are shown (the rest is being read).
        loaded(): a full load is in every queue.
        applied(object): a batch of changes (dict order ID → row or None) is in every queue.
    """

    first_screen = Signal()
    loaded = Signal()
    applied = Signal(object)

    def __init__(self, tasks: TaskRunner, store: LocalStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.store = store
        self.index = SearchIndex()  #: the one index every model searches
        self.models: list[QueueModel] = []
        self._steps: deque[Callable[[], None]] = deque()
        self._gen = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)
        self._gc_held = {"held": False}  # a dict: the destroyed hook must not hold the feed
        held = self._gc_held
        self.destroyed.connect(lambda *_a: _release(held))  # never leave the collector paused
        self._gc_idle = QTimer(self)
        self._gc_idle.setSingleShot(True)
        self._gc_idle.timeout.connect(self._burst_done)

    @property
    def busy(self) -> bool:
        """Whether steps wait for later event-loop turns."""
        return bool(self._steps)

    # -- load -------------------------------------------------------------------------------------
    def reload(self, on_failure: Callable[[Any], None] | None = None) -> None:
        """Read every order on the database worker; on a first load, the first screen before."""
        self._gen += 1
        gen, store, models = self._gen, self.store, list(self.models)

        def prepare(limit: int | None) -> Prepared | None:
            if limit is not None and store.count_orders() <= FIRST_SCREEN_FROM:
                return None  # no first screen: the full load is quick
            with gc_paused(), quick_switches():
                rows = load_rows(store, limit=limit)
                return [(m, m.prepare(rows, ranked=True)) for m in models], SearchIndex(rows)

        if not any(m.total for m in models):
            # A failed first screen is not reported: the full load right behind it reports its own.
            self.tasks.run_db(lambda: prepare(FIRST_ROWS), lambda p: self._head(gen, p), lambda _e: None)
        self.tasks.run_db(lambda: prepare(None), lambda p: self._full(gen, p), on_failure)

    def _head(self, gen: int, prepared: Prepared | None) -> None:
        if prepared is None or gen != self._gen or self._steps:
            return  # a newer load, or changes wait: the full load follows anyway
        pairs, index = prepared
        self.index.adopt(index)
        for model, rows in pairs:
            model.set_rows(rows)  # ~2,000 rows each: all in this turn
        self.first_screen.emit()

    def _full(self, gen: int, prepared: Prepared | None) -> None:
        if prepared is None or gen != self._gen:
            return
        pairs, index = prepared
        if len(index) <= FIRST_SCREEN_FROM:  # a small store: every queue in one step, as one change
            def all_at_once() -> None:
                self.index.adopt(index)
                for model, rows in pairs:
                    model.set_rows(rows)
                self._full_done()
            self._steps.append(all_at_once)
        else:
            self._steps.append(lambda: self.index.adopt(index))
            for model, rows in pairs:  # one queue per turn: each is a list swap and a reset
                self._steps.append(partial(model.set_rows, rows))
            self._steps.append(self._full_done)
        if len(self._steps) == 1:
            self._step()  # nothing waits before it: now
        else:
            self._kick()

    def _full_done(self) -> None:
        keep_out_of_gc_scans()
        self.loaded.emit()

    # -- changes ----------------------------------------------------------------------------------
    def apply(self, changes: dict[str, QueueRow | None]) -> None:
        """Merge changed orders (None: gone) into the index and every queue.

        A small batch with nothing waiting: now, row by row. Else one queue per event-loop turn."""
        if len(changes) <= SLICED_BATCH and not self._steps:
            self._index_changes(changes)
            for model in self.models:
                model.apply_changes(changes)
            self.applied.emit(changes)
            return
        if not self._gc_held["held"]:  # from now to GC_IDLE_MS after the burst's last batch
            self._gc_held["held"] = True
            _pause_gc()
        self._gc_idle.stop()
        self._steps.append(lambda: self._index_changes(changes))
        for model in self.models:
            self._steps.append(partial(model.apply_changes, changes))
        self._steps.append(lambda: self._batch_done(changes))
        self._kick()

    def _index_changes(self, changes: dict[str, QueueRow | None]) -> None:
        index = self.index
        for oid, row in changes.items():
            if row is None:
                index.remove(oid)
            else:
                index.add(row)

    def _batch_done(self, changes: dict[str, QueueRow | None]) -> None:
        if not self._steps:
            self._gc_idle.start(GC_IDLE_MS)
        self.applied.emit(changes)

    def _burst_done(self) -> None:
        """No big batch for a while: the collector runs again, the rows so far out of its scans."""
        if self._steps:
            self._gc_idle.start(GC_IDLE_MS)
            return
        if _release(self._gc_held):  # freezes the young objects first when there are many
            keep_out_of_gc_scans()

    # -- the steps --------------------------------------------------------------------------------
    def _kick(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _step(self) -> None:
        try:
            if self._steps:
                self._steps.popleft()()
        finally:
            if self._steps:
                self._timer.start()

    def settle(self) -> None:
        """Run every waiting step now (a script or test that does not spin the event loop)."""
        self._timer.stop()
        while self._steps:
            self._steps.popleft()()
