"""Regenerate docs/screenshots/{main-window,queue-scan-answer,exceptions-queue,exception-dialog}.png from the real app.

Run under a virtual screen (the app's real start-up: first run, embedded hub with demo orders,
login as desk clerk D001)::

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python tests/ui/screenshots.py [--out DIR]

(1366×768: the small screen benches and laptops have; the window fits it, status bar included.)

Pack mode and the wrong-scan screen come from ``PACKDESK_SCREENSHOTS=1 pytest
tests/ui/test_pack_view.py -k screenshots``. Nothing here fakes a widget: each picture is
``QWidget.grab()`` of what a clerk sees.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402

Step = tuple[float, Callable[[Any], None]]  # (seconds to wait first, what to do with the main window)


class Driver:
    """Answers the start-up dialogs, then runs the steps on the main window, one per timer tick."""

    def __init__(self, out: Path, steps: list[Step]) -> None:
        self.out = out
        self.steps = steps
        self.window: Any = None
        self.next_at = 0.0
        self.logged_in = False
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(100)

    def shoot(self, widget: Any, name: str) -> None:
        path = self.out / name
        assert widget.grab().save(str(path)), path
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")

    def tick(self) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        shown: dict[str, Any] = {type(w).__name__: w for w in app.topLevelWidgets() if w.isVisible()}
        if self.window is None:
            if "FirstRunDialog" in shown:
                first = shown["FirstRunDialog"]
                first.form.bench.setCurrentIndex(first.form.bench.findData(""))  # a desk PC
                first.accept()
            elif "LoginDialog" in shown and not self.logged_in:
                login = shown["LoginDialog"]
                login.code.setText("D001")
                login.pin.setText("2222")
                login.submit()
                self.logged_in = True
            elif "MainWindow" in shown:
                self.window = shown["MainWindow"]  # as the app shows it: fitted to the screen
                self.next_at = time.monotonic() + 4  # first sync and queue load
            return
        if time.monotonic() < self.next_at:
            return
        if not self.steps:
            self.timer.stop()
            app.quit()
            return
        wait, step = self.steps.pop(0)
        step(self.window)
        self.next_at = time.monotonic() + wait


def modal(name: str, driver: Driver, fill: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
    """A step that shoots the open modal dialog (after ``fill``), then closes it."""

    def step(_window: Any) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        dialog = next(w for w in app.topLevelWidgets() if w.isVisible() and isinstance(w, QDialog))
        if fill is not None:
            fill(dialog)
            QApplication.processEvents()
        driver.shoot(dialog, name)
        dialog.reject()

    return step


def select_first(queue: str, pick: Callable[[Any, Any], bool]) -> Callable[[Any], None]:
    """A step that opens ``queue`` and selects its first row for which ``pick(window, row)`` holds."""

    def step(w: Any) -> None:
        w.select_queue(queue)
        row = next(r for r in w.model._rows if pick(w, r))
        w.select_order(row.order_id)

    return step


def hold_type(w: Any, row: Any) -> str:
    order = w.services.store.get_order(row.order_id)
    holds = (order.snapshot.get("holds") or []) if order is not None else []
    return str(holds[0].get("type")) if holds else ""


def fill_rural(dialog: Any) -> None:
    """Half-filled, so the lock reasons show: how the customer confirmed, no address yet."""
    how = dialog.form.widgets.get("confirmed_via")
    if how is not None and hasattr(how, "setCurrentIndex"):
        how.setCurrentIndex(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="packdesk-shots-")
    os.environ["PACKDESK_HOME"] = home
    app = QApplication(sys.argv[:1])
    driver = Driver(args.out, [])
    driver.steps = [
        (1.5, select_first("all", lambda _w, r: "vip" in {f.value for f in r.flags})),
        (0.5, lambda w: driver.shoot(w, "main-window.png")),
        (2.0, lambda w: w.handle_scan("BL20200101-999999")),  # a scan of an order nobody has
        (0.5, lambda w: driver.shoot(w, "queue-scan-answer.png")),
        (0.1, lambda w: w.tell("")),
        (1.5, select_first("exceptions", lambda w, r: hold_type(w, r) == "gift_stock")),
        (0.5, lambda w: driver.shoot(w, "exceptions-queue.png")),
        (0.5, select_first("exceptions", lambda w, r: hold_type(w, r) == "rural_no_phone")),
        (2.0, lambda w: QTimer.singleShot(0, w.open_selected)),  # the dialog runs its own loop
        (0.5, modal("exception-dialog.png", driver, fill_rural)),
    ]
    from ui.app import App

    code = App(["--demo"]).run()
    del app
    return code


if __name__ == "__main__":
    sys.exit(main())
