"""The supervisor's dashboard does not stall the GUI thread (issue 16; target < 50 ms).

A hub with ``--orders`` demo orders (10,000 by default); a supervisor's desk PC with an empty store
opens the dashboard, then its sync engine downloads every order while the dashboard refreshes again
and again (each answer asks for the next, as a burst of change-feed events would, besides its 30 s
timer). A 5 ms ``QTimer`` on the GUI thread measures the longest gap between its ticks — the longest
turn the GUI thread was busy. Measured twice: with the main window's queues open too (the whole
app: the queues merge every sync page on the GUI thread) and with the dashboard alone (its own
stall: the last line); ``--baseline`` adds the same sync with nothing open (the floor: the sync
thread's own hold on the GIL and the machine's load) and with the queues but no dashboard. The apply alone
(charts in place, tables) is timed too.

    python bench/dashboard_stall.py [--orders 10000] [--refreshes 40]

Last line: ``dashboard_gui_stall: … ms (target < 50 ms)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from bench._client_common import hub_with_orders
from core.i18n import set_language
from core.settings import load_settings
from core.store import open_store
from core.sync.engine import SyncConfig, SyncEngine

TARGET_MS = 50.0


def spin_until(cond: object, timeout_s: float = 600) -> bool:
    deadline = time.monotonic() + timeout_s
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return bool(cond())  # type: ignore[operator]


def run(home: Path, hub_url: str, n: int, refreshes: int, dashboard: bool = True, queues: bool = True) -> dict[str, float]:
    """One sync of the hub's ``n`` orders into a new empty store, timed on the GUI thread. ``queues``: the
    main window is open (its queues merge every sync page); ``dashboard``: it refreshes back to back meanwhile."""
    from ui.dashboard_view import DashboardWindow
    from ui.main_window import MainWindow
    from ui.services import AppServices, Operator

    home.mkdir(parents=True, exist_ok=True)
    store = open_store(home / "sup.sqlite3")
    settings = load_settings(home / "settings.json")
    settings.station, settings.bench = f"SUP-{home.name}", ""
    engine = SyncEngine(store, SyncConfig(hub_url, settings.station, None, settings.device_id, page_size=1000))
    info = engine.login("S001", "3333")
    services = AppServices(settings, store, engine)
    services.set_operator(Operator(info.operator, info.operator_name, info.role))
    window = MainWindow(services) if queues else None
    dash = DashboardWindow(services, parent=window)
    if window is not None:
        window.show()
    if dashboard:
        dash.show()
        dash.start()
        spin_until(lambda: dash.answered >= 1, 120)
    else:
        refreshes = 0  # the baseline: the same sync with no dashboard open
    applies: list[float] = []
    real_apply = dash.apply

    def timed_apply(figures: object, filters: object) -> None:
        t = time.perf_counter()
        real_apply(figures, filters)  # type: ignore[arg-type]
        applies.append((time.perf_counter() - t) * 1000)
    dash.apply = timed_apply  # type: ignore[method-assign]
    # each answer asks for the next: refreshes back to back, the worst case the coalescing allows
    dash.refreshed.connect(lambda: dash.refresh() if len(applies) < refreshes else None)
    if window is not None:
        spin_until(lambda: not window._loading, 60)
    gaps = {"max": 0.0}
    clock = QElapsedTimer()
    clock.start()
    last = {"t": 0.0}

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps["max"] = max(gaps["max"], now - last["t"])
        last["t"] = now
    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(tick)
    t0 = time.perf_counter()
    last["t"] = clock.nsecsElapsed() / 1e6
    ticker.start()
    engine.start()
    spin_until(lambda: store.count_orders() >= n and len(applies) >= min(refreshes, 3)
               and (window is None or window.models["all"].total >= n), 900)
    synced = time.perf_counter() - t0
    if dashboard:
        spin_until(lambda: len(applies) >= refreshes or not dash.in_flight, 120)
    ticker.stop()
    total = store.count_orders()
    dash.close()
    if window is not None:
        window.close()
    services.shutdown()
    print(f"synced {total} of {n} orders in {synced:.1f} s with {len(applies)} dashboard refreshes applied "
          f"({dash.requests} requested)")
    return {"stall": gaps["max"], "apply_max": max(applies, default=0.0),
            "apply_median": sorted(applies)[len(applies) // 2] if applies else 0.0}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--refreshes", type=int, default=40)
    p.add_argument("--baseline", action="store_true",
                   help="also the same sync with nothing open, and with the queues but no dashboard")
    p.add_argument("--dashboard-only", action="store_true", help="only the last line's run (the meta test's small run)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        os.environ["PACKDESK_HOME"] = str(home)
        app = QApplication.instance() or QApplication([])
        set_language("zh_CN")
        hub = hub_with_orders(home / "hub", args.orders)  # one hub: each run syncs it into a new store
        try:
            floor = base = None
            if args.baseline:
                floor = run(home / "floor", hub.url, args.orders, 0, dashboard=False, queues=False)
                base = run(home / "base", hub.url, args.orders, 0, dashboard=False)
            whole = None if args.dashboard_only else run(home / "whole", hub.url, args.orders, args.refreshes)
            r = run(home / "dash", hub.url, args.orders, args.refreshes, queues=False)
        finally:
            hub.stop()
        del app
    if floor is not None:
        print(f"baseline, the sync alone with nothing open (the sync thread's own hold on the GIL, the machine's "
              f"load): longest GUI-thread turn {floor['stall']:.0f} ms")
    if base is not None:
        print(f"baseline, the sync with the queues open and no dashboard: longest GUI-thread turn {base['stall']:.0f} ms")
    if whole is not None:
        print(f"the sync with the queues open and the dashboard refreshing: longest GUI-thread turn "
              f"{whole['stall']:.0f} ms (the queues' merge of sync pages is bench/queue_model.py's figure)")
    print(f"dashboard apply (charts in place, tables): median {r['apply_median']:.1f} ms, worst {r['apply_max']:.1f} ms")
    print(f"dashboard_gui_stall: {r['stall']:.0f} ms, the dashboard refreshing during a {args.orders}-order sync "
          f"(target < {TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
