"""Queue model at 100,000 orders: load, filter, sort, scan-to-open; GUI stall during a 10,000-change sync.

    .venv/bin/python bench/queue_model.py [--orders 100000] [--changes 10000] [--no-sync]

Part 1 puts synthetic hub snapshots straight into a local store (``apply_snapshots``) and drives
the real main window offscreen: the load (first screen, then every queue; the longest GUI-thread
turn meanwhile, from the gaps between ticks of a 5 ms QTimer), the process's RSS (VmRSS) after it,
search (the keystroke — what the GUI thread does before the next event — and, apart, until a search
done in slices has all its hits), sort and scan-to-open. Search and sort are measured the new way (the window's search box,
the model's sort) beside the old way in the same run (``core.queues.search``'s list comprehension,
a sort by the old tuple keys), since this machine's absolute times are noisy: the ratio is the
figure to compare. Part 2 starts a real hub with N demo orders, and measures the
longest gap between ticks of a 5 ms QTimer on the GUI thread while the sync engine downloads them
and the window merges every change into its queues, and the cyclic GC's pauses on the GUI thread
(``gc.callbacks``). Last line: ``name: value unit (target …)``.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench._client_common import hub_with_orders  # noqa: E402
from core.i18n import set_language  # noqa: E402
from core.queues import QueueRow, load_rows, needle, search  # noqa: E402
from core.search_index import SearchIndex  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.store import open_store  # noqa: E402
from core.sync import SyncConfig, SyncEngine  # noqa: E402
from tests.helpers.snapshots import snapshot  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.queue_model import Column  # noqa: E402
from ui.services import AppServices, Operator  # noqa: E402

HOLD = {"hold_id": "h", "type": "gift_stock", "reason": "short", "raised_at": "2026-11-25T02:00:00Z",
        "raised_by": "hub", "details": {}}


def synthetic(i: int) -> dict[str, object]:
    extra: dict[str, Any] = {
        "ship_by": f"2026-11-{25 + i % 3:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "recipient": {"name": f"客户{i}", "phone": f"13{i % 10}{(i * 7919) % 10**8:08d}", "province": "浙江省", "city": "杭州市",
                      "district": "西湖区", "address": f"文三路 {i} 号", "postcode": ""},
        "bench": ("B1", "B2", "B3", "VIP1")[i % 4],
        "lines": [{"sku": f"SKU-{i % 997:04d}", "name": "茶杯", "qty": 1, "unit_price_fen": 1000, "is_gift": False,
                   "bin": "A-01"}, {"sku": f"TEA-{i % 31:02d}", "name": "茶叶", "qty": 2, "unit_price_fen": 500,
                                    "is_gift": False, "bin": "A-02"}],
    }
    if i % 20 == 0:
        extra["holds"] = [dict(HOLD, hold_id=f"h{i}")]
    if i % 50 == 0:
        extra.update(lane="vip", flags=["vip"])
    return snapshot(f"BL20261125-{i:06d}", **extra)


def wait(signal: object, timeout_ms: int = 600_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def spin_until(cond: object, timeout_s: float = 600) -> None:
    """Run the event loop until ``cond()`` holds, idle between events as the app's own loop is.

    Not a busy ``processEvents`` poll: a poll keeps the GUI thread on the GIL, and the database
    worker whose answer it waits for then waits a switch interval (5 ms) for it, a delay the app,
    idle in ``exec``, never has. A 20 ms heartbeat re-checks ``cond`` and the deadline.
    """
    deadline = time.monotonic() + timeout_s
    beat = QTimer()
    beat.start(20)
    try:
        while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents
                                       | QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        beat.stop()


def vm_rss_mb() -> float:
    """This process's resident memory now (psutil is not installed: /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Ticker:
    """The longest gap between ticks of a 5 ms QTimer: the longest GUI-thread turn meanwhile."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


class FeedTurns:
    """The longest piece of GUI-thread work the queue feed does in one event-loop turn: CPU time
    of this thread (``time.thread_time``: what the window's own code costs, whatever else runs on
    this shared machine) and wall time (which also counts waiting for the GIL and the CPU)."""

    def __init__(self, feed: Any) -> None:
        self.cpu = self.wall = 0.0
        for name in ("_step", "_head", "_full", "apply"):
            setattr(feed, name, self.timed(getattr(feed, name)))
        feed._timer.timeout.disconnect()
        feed._timer.timeout.connect(feed._step)

    def timed(self, fn: Any) -> Any:
        def run(*args: Any) -> None:
            c, t = time.thread_time(), time.perf_counter()
            fn(*args)
            self.cpu = max(self.cpu, (time.thread_time() - c) * 1000)
            self.wall = max(self.wall, ms(t))
        return run


class GcPauses:
    """The cyclic GC's pauses on this (the GUI) thread, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.gui = threading.get_ident()
        self.longest = 0.0
        self.count = 0
        self.other = 0.0  # the longest on another thread (it holds the GIL too)
        self.t0 = 0.0
        gc.callbacks.append(self.callback)

    def callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self.t0 = time.perf_counter()
            return
        took = (time.perf_counter() - self.t0) * 1000
        if threading.get_ident() == self.gui:
            self.count += 1
            self.longest = max(self.longest, took)
        else:
            self.other = max(self.other, took)

    def stop(self) -> None:
        gc.callbacks.remove(self.callback)


def part1(home: Path, n: int) -> dict[str, float]:
    store = open_store(home / "big.sqlite3")
    t = time.perf_counter()
    for start in range(0, n, 5000):
        with store.write() as conn:
            store.apply_snapshots(conn, [synthetic(i) for i in range(start, min(n, start + 5000))])
    print(f"insert {n} snapshots: {time.perf_counter() - t:.1f} s")
    settings = load_settings(home / "settings.json")
    settings.station, settings.bench = "DESK-1", ""
    services = AppServices(settings, store, None)
    services.set_operator(Operator("D001", "张丽", "desk"))
    t = time.perf_counter()
    rows = load_rows(store)
    print(f"load_rows (SQL facts cache + flags, worker thread): {(time.perf_counter() - t) * 1000:.0f} ms, {len(rows)} rows")
    del rows
    gc.collect()
    t = time.perf_counter()
    w = MainWindow(services)  # starts the load on the database worker
    ticker = Ticker()  # from here: building the window is one turn, not the load's
    turns = FeedTurns(w.feed)
    out: dict[str, float] = {"first_screen": float("nan")}
    w.feed.first_screen.connect(lambda: out.__setitem__("first_screen", (time.perf_counter() - t) * 1000))
    wait(w.loaded)
    out["load"] = (time.perf_counter() - t) * 1000
    out["load_turn"] = ticker.stop()
    out["load_cpu"], out["load_wall"] = turns.cpu, turns.wall
    if out["first_screen"] != out["first_screen"]:  # no first screen (a small store): the load is it
        out["first_screen"] = out["load"]
    out["rss"] = vm_rss_mb()
    model = w.models["all"]
    assert model.total == n, model.total
    w.select_queue("all")
    out.update(search_and_sort(w, model, load_rows(store)))
    target = f"BL20261125-{n // 2 + 7:06d}"
    worst = 0.0
    for oid in (target, f"BL20261125-{n - 3:06d}", "BL20261125-000011"):
        timer = QElapsedTimer()
        timer.start()
        w.handle_scan(oid)
        if w.pack_view is not None:
            spin_until(lambda o=oid: w.pack_view.order is not None and w.pack_view.order.order_id == o)
        worst = max(worst, timer.nsecsElapsed() / 1e6)
        w.show_queue_page()
    out["scan_to_open"] = worst
    out["app_rss"] = app_rss(home, home / "big.sqlite3")
    timer = QElapsedTimer()
    timer.start()
    w.select_order(target)
    spin_until(lambda: w.detail.data is not None and w.detail.data.order is not None
               and w.detail.data.order.order_id == target)
    out["select_to_detail"] = timer.nsecsElapsed() / 1e6
    services.shutdown()
    return out


#: Distinct searches a clerk types: order tail, name, phone tail, waybill, SKU, a miss.
QUERIES = ("000042", "客户777", "8000", "sf012345", "sku-0421", "no-such-order")
# The column sort keys before issue 18 (a tuple compared per pair), measured beside the new sort.
OLD_SORT = {Column.RECIPIENT: lambda r: (r.recipient, r.key), Column.STATE: lambda r: (r.state, r.key),
            Column.SHIP_BY: lambda r: (r.key[1], r.key)}


def ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000


def search_and_sort(w: MainWindow, model: object, rows: list[QueueRow]) -> dict[str, float]:
    """Search (whole query pasted, and typed character by character) and sort, new beside old."""
    out = {"filter": 0.0, "filter_old": 0.0, "narrow": 0.0, "narrow_old": 0.0, "sort": 0.0, "sort_old": 0.0,
           "filter_all": 0.0, "narrow_all": 0.0, "slice_turn": 0.0}

    def settle() -> float:
        """Spin the event loop until a search done in slices has all its hits: the time it took,
        and the longest single turn meanwhile (into out["slice_turn"])."""
        t0 = time.perf_counter()
        while model.searching:  # type: ignore[attr-defined]
            t1 = time.perf_counter()
            QApplication.processEvents()
            out["slice_turn"] = max(out["slice_turn"], ms(t1))
        return ms(t0)

    everything = list(model._all)  # type: ignore[attr-defined]  # the model's rows, in its order
    for text in QUERIES:
        w.search.setText("")
        t = time.perf_counter()
        w.search.setText(text)  # the new way, as the clerk sees it: model reset and all
        new = ms(t)
        out["filter_all"] = max(out["filter_all"], new + settle())
        shown = model.order_ids()  # type: ignore[attr-defined]
        t = time.perf_counter()
        old_rows = search(everything, needle(text))  # the old way: a Python pass over every row
        old = ms(t)
        assert [r.order_id for r in old_rows] == shown, text  # the same rows, in the same order
        out["filter"], out["filter_old"] = max(out["filter"], new), max(out["filter_old"], old)
        print(f"  filter {text!r}: {len(shown)} rows, {new:.1f} ms (old scan {old:.1f} ms)")
        # Typed one character at a time: each further character (the first is a whole search).
        w.search.setText("")
        prev_old: list[QueueRow] = everything
        worst = worst_old = 0.0
        for k in range(1, len(text) + 1):
            t, c = time.perf_counter(), time.thread_time()
            w.search.setText(text[:k])
            new = ms(t)
            cpu = (time.thread_time() - c) * 1000
            done = new + settle()  # a clerk types a key every ~150 ms: the pass ends before the next
            if k > 1:
                out["narrow_all"] = max(out["narrow_all"], done)
                out["narrow_cpu"] = max(out.get("narrow_cpu", 0.0), cpu)
            nd, before = needle(text[:k]), needle(text[:k - 1])
            narrowing = bool(before) and before in nd and prev_old is not everything and not nd.isdigit()
            t = time.perf_counter()
            prev_old = search(prev_old if narrowing else everything, nd)  # what the old model did
            old = ms(t)
            if k > 1:
                worst, worst_old = max(worst, new), max(worst_old, old)
        out["narrow"], out["narrow_old"] = max(out["narrow"], worst), max(out["narrow_old"], worst_old)
        print(f"    typed on: worst further character {worst:.1f} ms (old {worst_old:.1f} ms)")
    w.search.setText("")
    out["toggle"] = 0.0
    for col, old_key in OLD_SORT.items():
        for desc in (False, True):
            order = Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder
            other = Qt.SortOrder.AscendingOrder if desc else Qt.SortOrder.DescendingOrder
            t = time.perf_counter()
            model.sort(col, order)  # type: ignore[attr-defined]  # a new column (from queue order)
            new = ms(t)
            shown = list(model._all)  # type: ignore[attr-defined]
            t = time.perf_counter()
            old_sorted = sorted(everything, key=old_key, reverse=desc)
            old = ms(t)
            assert old_sorted == shown, col
            again = list(everything)
            t = time.perf_counter()
            model._order(again)  # type: ignore[attr-defined]  # the two key sorts alone, no view
            keys_only = ms(t)
            assert again == shown, col
            out["sort"], out["sort_old"] = max(out["sort"], new), max(out["sort_old"], old)
            out["sort_keys"] = max(out.get("sort_keys", 0.0), keys_only)
            t = time.perf_counter()
            model.sort(col, other)  # type: ignore[attr-defined]  # the same column, other way
            toggle = ms(t)
            assert list(model._all) == shown[::-1], col  # type: ignore[attr-defined]
            out["toggle"] = max(out["toggle"], toggle)
            print(f"  sort {col.name} {'desc' if desc else 'asc'}: {new:.0f} ms in the window (its list sorts "
                  f"alone {keys_only:.0f} ms; old tuple sort {old:.0f} ms); then the other way {toggle:.1f} ms")
            model.sort(Column.FLAGS)  # type: ignore[attr-defined]
    w.search.setText("")
    t = time.perf_counter()
    index = SearchIndex(rows)
    out["index_build"] = ms(t)
    out["index_mb"] = index.memory() / 2**20
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def part2(home: Path, changes: int) -> dict[str, float]:
    hub = hub_with_orders(home / "hub", changes)
    try:
        store = open_store(home / "sync.sqlite3")
        settings = load_settings(home / "settings2.json")
        settings.station, settings.bench = "DESK-2", ""
        engine = SyncEngine(store, SyncConfig(hub.url, "DESK-2", None, settings.device_id))
        info = engine.login("D001", "2222")
        services = AppServices(settings, store, engine)
        services.set_operator(Operator(info.operator, info.operator_name, info.role))
        w = MainWindow(services)
        wait(w.loaded)
        ticker = Ticker()
        pauses = GcPauses()
        turns = FeedTurns(w.feed)
        t = time.perf_counter()
        engine.start()
        spin_until(lambda: w.models["all"].total >= changes and not w.feed.busy, 600)
        print(f"sync of {changes} orders into the window: {time.perf_counter() - t:.1f} s, "
              f"queue total {w.models['all'].total}")
        stall = ticker.stop()
        pauses.stop()
        services.shutdown()
        return {"stall": stall, "gc_gui": pauses.longest, "gc_gui_n": pauses.count, "gc_other": pauses.other,
                "cpu": turns.cpu, "wall": turns.wall}
    finally:
        hub.stop()


def app_rss(home: Path, db: Path) -> float:
    """The desk app's own RSS at this store's size: a fresh process opens the store and the
    window, waits for the load, collects, and says its VmRSS (this process also held the
    synthetic snapshots it wrote, and the old-way copies of the rows it compares with)."""
    env = {**os.environ, "PACKDESK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, __file__, "--app-rss", str(db)], env=env, capture_output=True,
                       text=True, timeout=900, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def measure_app_rss(db: Path) -> int:
    app = QApplication.instance() or QApplication([])
    set_language("zh_CN")
    store = open_store(db)
    settings = load_settings(db.parent / "settings_rss.json")
    settings.station, settings.bench = "DESK-1", ""
    services = AppServices(settings, store, None)
    services.set_operator(Operator("D001", "张丽", "desk"))
    w = MainWindow(services)
    wait(w.loaded)
    w.show()
    QApplication.processEvents()
    gc.collect()
    print(f"{vm_rss_mb():.1f}")
    services.shutdown()
    del app
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--changes", type=int, default=10_000)
    p.add_argument("--no-sync", action="store_true", help="part 1 only (load, search, sort, scan)")
    p.add_argument("--app-rss", type=Path, help=argparse.SUPPRESS)  # internal: app_rss's fresh process
    args = p.parse_args()
    if args.app_rss is not None:
        return measure_app_rss(args.app_rss)
    # A sync thread abandoned mid long-poll may still touch the store as the folder goes away.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        os.environ["PACKDESK_HOME"] = str(home)
        app = QApplication.instance() or QApplication([])
        set_language("zh_CN")
        r = part1(home, args.orders)
        stall = None if args.no_sync else part2(home, args.changes)
        del app
    print(f"queue load, first screen ({args.orders} orders): {r['first_screen']:.0f} ms (target < 300 ms)")
    print(f"queue load, every queue ({args.orders} orders, worker + model): {r['load']:.0f} ms "
          "(target < 1500 ms)")
    print(f"longest GUI-thread turn during the load: {r['load_turn']:.0f} ms (target < 16 ms); the queue feed's "
          f"longest step {r['load_cpu']:.1f} ms CPU, {r['load_wall']:.1f} ms wall")
    print(f"RSS of the desk app after the load ({args.orders} orders, a fresh process: store, window, every "
          f"queue): {r['app_rss']:.0f} MB (target < 600 MB); this bench process {r['rss']:.0f} MB after its "
          f"load, peak {r['peak_rss']:.0f} MB (it also wrote the snapshots)")
    print(f"scan-to-open in pack view (worst of 3): {r['scan_to_open']:.1f} ms (target < 10 ms)")
    print(f"select-to-detail pane: {r['select_to_detail']:.1f} ms")
    print(f"search index ({args.orders} rows, one for every queue): built in {r['index_build']:.0f} ms "
          f"(on the worker), {r['index_mb']:.0f} MB")
    print(f"sort by a column (worst of 6): {r['sort']:.0f} ms in the window (key sorts alone "
          f"{r['sort_keys']:.0f} ms; old tuple sort alone {r['sort_old']:.0f} ms, ratio "
          f"{r['sort_old'] / max(r['sort_keys'], 1e-3):.1f}x; the same column the other way {r['toggle']:.1f} ms) "
          "(target < 50 ms)")
    print(f"search until every hit is in (slices on later turns), worst: pasted {r['filter_all']:.1f} ms, "
          f"a further character {r['narrow_all']:.1f} ms; longest turn meanwhile {r['slice_turn']:.1f} ms "
          "(target < 16 ms)")
    print(f"search, each further typed character (worst keystroke): {r['narrow']:.1f} ms wall, "
          f"{r['narrow_cpu']:.1f} ms CPU of the GUI thread (old {r['narrow_old']:.1f} ms, "
          f"ratio {r['narrow_old'] / max(r['narrow'], 1e-3):.1f}x) (target < 2 ms)")
    if stall is not None:
        print(f"cyclic GC on the GUI thread during the sync: {stall['gc_gui_n']:.0f} collections, longest "
              f"{stall['gc_gui']:.1f} ms (on other threads, longest {stall['gc_other']:.1f} ms)")
        print(f"the queue feed's longest step during the sync (GUI thread): {stall['cpu']:.1f} ms CPU, "
              f"{stall['wall']:.1f} ms wall (target < 16 ms)")
        print(f"gui_stall_during_sync_{args.changes}: {stall['stall']:.0f} ms (target < 33 ms)")
    print(f"queue_filter_worst_{args.orders // 1000}k: {r['filter']:.1f} ms, worst of {len(QUERIES)} "
          f"(old scan {r['filter_old']:.1f} ms, ratio {r['filter_old'] / max(r['filter'], 1e-3):.1f}x) "
          "(target < 10 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
