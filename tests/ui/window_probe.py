"""Run as ``python -m tests.ui.window_probe WIDTHxHEIGHT BENCH [OUT.png]``: the real main window on an
offscreen screen of that size, shown as the app shows it; prints where it landed as JSON.

A separate process, because a screen's size is fixed when QApplication starts (Qt's offscreen
platform reads it from a config file: ``-platform offscreen:configfile=…``). ``PACKDESK_HOME`` must
point at a temp folder: the window remembers its geometry there between two runs of the probe.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    width, height = (int(v) for v in argv[0].split("x"))
    bench = argv[1] if len(argv) > 1 and argv[1] != "-" else ""
    out = argv[2] if len(argv) > 2 else ""
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    app = QApplication(["probe", "-platform", f"offscreen:configfile={config}"])
    from core.i18n import set_language
    from core.settings import load_settings
    from core.store import open_store
    from ui.app import pick_font
    from ui.main_window import MainWindow
    from ui.services import AppServices, Operator

    set_language(os.environ.get("PROBE_LANG", "zh_CN"))
    pick_font(app)
    home = Path(os.environ["PACKDESK_HOME"])
    settings = load_settings(home / "settings.json")
    settings.station, settings.bench = f"PC-{bench or 'DESK'}", bench
    store = open_store(home / f"{settings.station}.sqlite3")
    services = AppServices(settings, store, None)
    services.set_operator(Operator("D001", "客服", "desk"))
    window = MainWindow(services)
    window.show_fitted()
    app.processEvents()
    if len(argv) > 3:  # a second run moves and resizes the window, to be remembered
        x, y, w, h = (int(v) for v in argv[3].split(","))
        window.showNormal()
        window.setGeometry(x, y, w, h)
        app.processEvents()
    bar = window.statusBar()
    bar_bottom = bar.mapToGlobal(QPoint(0, bar.height())).y()
    sync = window.sync_status
    sync_right = sync.mapToGlobal(QPoint(sync.width(), 0)).x()
    avail = window.screen().availableGeometry()
    geo = window.geometry()
    result = {"maximized": window.isMaximized(), "geometry": [geo.x(), geo.y(), geo.width(), geo.height()],
              "available": [avail.x(), avail.y(), avail.width(), avail.height()],
              "status_bottom": bar_bottom, "status_visible": bar.isVisible() and sync.isVisible(),
              "sync_right": sync_right}
    if out:
        window.grab().save(out)
    window.close()
    services.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
