"""Crash handling: excepthook + faulthandler to a crash log, and a dialog raised on the GUI thread.

The app keeps its data: everything a user did is already in the local store's outbox, so a bug
dialog can offer to carry on or quit without losing work.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("packdesk.crash")
_fault_file: IO[str] | None = None


class CrashSignal(QObject):
    """Signals:
        crashed(str): the formatted traceback of an unexpected error.
    """

    crashed = Signal(str)


crash_signal: CrashSignal | None = None


def install(log_folder: Path) -> CrashSignal:
    """Route uncaught exceptions to the log and to :data:`crash_signal`; dump hard crashes to a file."""
    global _fault_file, crash_signal
    log_folder.mkdir(parents=True, exist_ok=True)
    _fault_file = open(log_folder / "crash.log", "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
    faulthandler.enable(_fault_file)
    crash_signal = CrashSignal()
    sys.excepthook = report_exception
    return crash_signal


def report_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """The excepthook: log the uncaught exception with its traceback and raise the crash dialog."""
    report_text("".join(traceback.format_exception(exc_type, exc, tb)))


def report_text(text: str) -> None:
    """Report an unexpected error already formatted (a task runner's bug, whose frames are gone)."""
    log.error("unexpected error:\n%s", text)
    if crash_signal is not None:
        crash_signal.crashed.emit(text)
