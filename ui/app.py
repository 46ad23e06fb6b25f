"""Start the desktop app: logging, crash handler, settings, language, store, hub, login, window.

Order matters: the language is set before the first widget exists (switching takes effect on
restart); a second launch on the same PC hands over to the first (:mod:`ui.single_instance`: its
window comes to the front) and exits 0 before it touches the store; the local store is opened before anything else touches it, and a damaged or locked file
stops the start with a plain message (exit code 2) and is left exactly as it is. With no hub
configured, the embedded hub (:mod:`ui.embedded_hub`) starts as a child process — on a set-up PC
main.py launches it before this module's imports, so that both start side by side; the app waits for
it on a worker thread, with a progress dialog — and is stopped at exit, on every way out.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QLibraryInfo, QLocale, Qt, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QProgressDialog

from core import paths
from core.errors import UserError
from core.i18n import _, set_language
from core.logsetup import setup_logging
from core.settings import Settings, load_settings
from core.store import LocalStore, StoreError, open_store
from core.sync import SyncConfig, SyncEngine

log = logging.getLogger("packdesk.ui.app")
T = TypeVar("T")

CJK_FONTS = ("WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "Noto Sans CJK SC", "PingFang SC")
BASE_PT = 12


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packdesk", description="PackDesk bench and desk app")
    p.add_argument("--demo", action="store_true", help="load demo orders into the built-in hub")
    p.add_argument("--hub", metavar="URL", help="use this hub for this run (overrides the settings)")
    p.add_argument("--measure-startup", action="store_true",
                   help="print startup_s=<seconds from start to the login window shown> and exit (docs/build.md)")
    return p


def pick_font(app: QApplication) -> str:
    """Use a CJK-capable font (Chinese must not render as boxes); returns the family used."""
    families = set(QFontDatabase.families())
    family = next((f for f in CJK_FONTS if f in families), "")
    if not family:  # the Linux bundle ships its font; fontconfig does not know that folder
        from printing.fonts import BUNDLED_FONT

        if BUNDLED_FONT.is_file() and QFontDatabase.addApplicationFont(str(BUNDLED_FONT)) >= 0:
            families = set(QFontDatabase.families())
            family = next((f for f in CJK_FONTS if f in families), "")
    font = QFont(family) if family else app.font()
    font.setPointSize(BASE_PT)
    app.setFont(font)
    log.info("UI font: %s", family or f"system default ({app.font().family()})")
    return family


class QtWords(QTranslator):
    """Qt's own words (dialog buttons, the file dialog) from ``qtbase_<lang>.qm``, mnemonics included.

    Qt 6 added mnemonics to some of its texts ("&Look in:", "Files of &type:") that the shipped
    Chinese catalogue still has only without them ("Look in:" → "查找范围："), so the file dialog
    said "Look in" and "Files of type" in English on a Chinese screen. A text not found as written
    is looked up without its "&" and given the Chinese-style mnemonic: "查找范围(&L)：".
    """

    _COLON = re.compile(r"^(.*?)([:：]?)$", re.DOTALL)

    def isEmpty(self) -> bool:
        return False  # the lookups below answer even where the .qm file has no entry as written

    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str | None:
        text = super().translate(context, source, disambiguation, n)
        if text or "&" not in source:
            return text or None  # None: not here, ask the next translator (Qt's own English)
        key = re.search(r"&(\w)", source)
        text = super().translate(context, source.replace("&", "", 1), disambiguation, n)
        if not text or key is None:
            return None
        m = self._COLON.match(text)
        assert m is not None
        return f"{m.group(1)}(&{key.group(1).upper()}){m.group(2)}"


_qt_translator: QTranslator | None = None


def use_language(app: QApplication, lang: str) -> str:
    """Switch our catalogue and Qt's own words (OK, Cancel, Save in dialogs) to ``lang``.

    Qt's standard buttons and context menus come from Qt's ``qtbase_<lang>.qm``, shipped with PySide6;
    without it a Chinese dialog says "Save" and "Cancel". A missing file is logged, not fatal.
    """
    global _qt_translator
    lang = set_language(lang)
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)
        _qt_translator = None
    QLocale.setDefault(QLocale(lang))
    if lang != "en":
        translator = QtWords(app)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if translator.load(f"qtbase_{lang}", folder):
            app.installTranslator(translator)
            _qt_translator = translator
        else:
            log.warning("Qt's own %s words not found in %s; standard buttons stay in English", lang, folder)
    return lang


def run_blocking(fn: Callable[[], T], label: str, parent: Any = None, *, show_after_ms: int = 0) -> T:
    """Run a blocking call on a thread while a progress dialog keeps the GUI alive.

    ``show_after_ms``: the dialog appears only if the call takes that long (a call that is
    usually instant, like opening the store, should not flash a dialog at every start)."""
    result: dict[str, Any] = {}
    loop = QEventLoop()
    done = threading.Event()

    def work() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # handed back to the GUI thread below
            result["error"] = exc
        finally:
            done.set()

    dialog = QProgressDialog(label, "", 0, 0, parent)
    dialog.setObjectName("startProgress")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    if show_after_ms > 0:
        QTimer.singleShot(show_after_ms, lambda: None if done.is_set() else dialog.show())
    else:
        dialog.show()
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: loop.quit() if done.is_set() else None)
    thread = threading.Thread(target=work, name="packdesk-start", daemon=True)
    thread.start()
    timer.start()
    loop.exec()
    timer.stop()
    dialog.close()
    dialog.deleteLater()
    if "error" in result:
        raise result["error"]
    return result["value"]


class App:
    """One run of the desktop app; the steps are methods so tests can drive them one by one."""

    def __init__(self, argv: list[str], started: float | None = None, hub: Any = None) -> None:
        self.args = build_parser().parse_args(argv)
        self.started = time.perf_counter() if started is None else started
        #: the embedded hub main.py already launched (ui.embedded_hub.launch_early), or None
        self.early_hub = hub
        self.settings: Settings | None = None
        self.store: LocalStore | None = None
        self.hub: Any = None  # ui.embedded_hub.EmbeddedHub
        self.services: Any = None  # ui.services.AppServices
        self.window: Any = None
        self.hub_url = ""
        self.instance: Any = None  # ui.single_instance.SingleInstance

    def prepare(self) -> QApplication:
        self.log_file = setup_logging("app")
        from ui import crash

        signal = crash.install(paths.log_dir())
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        app.setApplicationName("PackDesk")
        app.setOrganizationName("PackDesk")
        self.settings = load_settings()
        if self.args.hub:
            self.settings.hub_url = self.args.hub.rstrip("/")  # this run only; Settings saves it for good
        use_language(app, self.settings.language)
        pick_font(app)
        signal.crashed.connect(self._crashed)
        return app

    def _crashed(self, _text: str) -> None:
        from ui.errors import show_bug

        show_bug(self.window, str(self.log_file))

    def claim_instance(self) -> bool:
        """Whether this is the PC's only PackDesk (for this user); if not, the first is asked to come forward."""
        from ui.single_instance import SingleInstance

        self.instance = SingleInstance(paths.data_dir())
        if not self.instance.acquire():
            return False
        self.instance.raise_requested.connect(self.bring_to_front)
        return True

    def bring_to_front(self) -> None:
        """Show this instance's window (or the dialog it is at: first run, login) in front, restored."""
        target = self.window if self.window is not None else QApplication.activeModalWidget()
        if target is None:
            target = next((w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()), None)
        if target is None:
            return
        if target.isMinimized():
            target.setWindowState(target.windowState() & ~Qt.WindowState.WindowMinimized)
        target.show()
        target.raise_()
        target.activateWindow()
        log.info("brought the window to the front for a second launch")

    def open_store(self) -> bool:
        try:
            # Off the GUI thread: after an upgrade the store rebuilds its queue cache (~3 s at
            # 100,000 orders, core/store/db.py); the window says so instead of seeming not to start.
            self.store = run_blocking(open_store, _("Opening this PC's copy of the orders…"), show_after_ms=300)
        except StoreError as exc:
            log.error("cannot open the local store: %s", exc.message)
            QMessageBox.critical(None, _("PackDesk cannot start"), exc.message)
            return False
        return True

    def first_run(self) -> bool:
        assert self.settings is not None
        if self.settings.station:
            return True
        from ui.first_run import FirstRunDialog

        dialog = FirstRunDialog(self.settings)
        ok = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        if ok:
            app = QApplication.instance()
            assert isinstance(app, QApplication)
            use_language(app, self.settings.language)  # widgets made from now on use the chosen language
        return ok

    def start_hub(self) -> bool:
        assert self.settings is not None
        if self.settings.hub_url:
            self.hub_url = self.settings.hub_url
            return True
        from ui.embedded_hub import EmbeddedHub

        s = self.settings
        if self.early_hub is not None:  # launched before the GUI's imports; only wait for it here
            self.hub = self.early_hub
            try:
                self.hub_url = run_blocking(self.early_hub.wait_ready, _("Starting the built-in hub…"))
            except UserError as exc:
                QMessageBox.critical(None, _("PackDesk cannot start"), exc.message)
                return False
            return True
        hub = EmbeddedHub(paths.data_dir(), demo=self.args.demo)
        self.hub = hub
        try:
            if self.args.demo:
                run_blocking(hub.load_demo, _("Loading demo orders…"))
                self.hub_url = run_blocking(hub.start, _("Starting the built-in hub…"))
            else:  # a real hub: this PC's own station is approved (docs/security.md), in the same process
                self.hub_url = run_blocking(lambda: hub.start(approve=(s.station, s.bench or None, s.device_id)),
                                            _("Starting the built-in hub…"))
        except UserError as exc:
            QMessageBox.critical(None, _("PackDesk cannot start"), exc.message)
            return False
        return True

    def make_services(self) -> None:
        from ui.services import AppServices

        assert self.settings is not None and self.store is not None
        s = self.settings
        engine = SyncEngine(self.store, SyncConfig(self.hub_url, s.station, s.bench or None, s.device_id))
        self.services = AppServices(s, self.store, engine)

    def login(self) -> bool:
        from ui.login_dialog import LoginDialog

        dialog = LoginDialog(self.services)
        if self.args.measure_startup:  # runs once exec() has shown the dialog
            QTimer.singleShot(0, lambda: self._startup_measured(dialog))
        ok = dialog.exec() == QDialog.DialogCode.Accepted
        if ok and dialog.result_value is not None and dialog.result_value.offline:
            self.offline_login = True
        dialog.deleteLater()
        return ok

    def _startup_measured(self, dialog: QDialog) -> None:
        """``--measure-startup``: the login window is on screen; say when, and end the run."""
        if sys.stdout is not None:  # None in a windowed Windows exe
            print(f"startup_s={time.perf_counter() - self.started:.3f}", flush=True)
        dialog.reject()

    def show_main(self) -> None:
        from ui.main_window import MainWindow

        self.window = MainWindow(self.services)
        if getattr(self, "offline_login", False):
            self.window.message_label.setText(_("Offline login: the hub will check the PIN when it can be reached."))
        self.services.engine.start()
        self.window.show_fitted()  # fits the screen, maximised on a bench, as this station last left it

    def shutdown(self) -> None:
        """Stop sync, finish queued local writes, close the store, stop the embedded hub."""
        try:
            if self.window is not None:
                self.window.close()
            if self.services is not None:
                # Do not wait for a long-poll in flight: its answer would be dropped anyway.
                self.services.engine.stop(timeout_s=0.5)
                self.services.shutdown()
            elif self.store is not None:
                self.store.close()
        finally:
            if self.hub is not None:
                self.hub.stop()
            if self.instance is not None:
                self.instance.release()

    def run(self) -> int:
        self.hub = self.early_hub  # every way out below stops it (shutdown)
        try:
            app = self.prepare()
            if not self.claim_instance():
                return 0  # the PackDesk already running here came to the front instead
            if not self.open_store():
                return 2
            if not self.first_run() or not self.start_hub():
                return 0 if self.hub is None else 1
            self.make_services()
            if not self.login():
                return 0
            self.show_main()
            return int(app.exec())
        finally:
            self.shutdown()


def run(argv: list[str], started: float | None = None, hub: Any = None) -> int:
    """The desktop app's entry point (``python main.py [--demo] [--hub URL]``).

    Args:
        started: ``time.perf_counter()`` at the process's first line (main.py), for ``--measure-startup``.
        hub: the embedded hub main.py launched before importing this module, if it did.
    """
    return App(argv, started, hub).run()
