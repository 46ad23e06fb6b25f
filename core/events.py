"""Plain-callback events, so core code can tell the UI what happened without importing Qt.

A core object exposes ``Event`` attributes (``orders_changed``, ``sync_state_changed``); the UI
connects one QObject to them and re-emits each as a Signal on the GUI thread. Callbacks run on the
thread that emits (often the sync worker): they must be quick and must not touch widgets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger("packdesk.events")

T = TypeVar("T")


class Event(Generic[T]):
    """A list of callbacks taking one value. A failing callback is logged, never propagated.

    Not propagated because the emitter (the sync thread, an outbox write) must not fail for a
    listener's bug; logged at ERROR on ``packdesk.events`` with the traceback, so the bug is seen:
    in the app by the log, in the test suite by the bug watch that fails the test
    (tests/conftest.py ``_bug_watch``).

    Args:
        name: shown in logs when a callback fails.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[[T], object]] = []
        self._lock = threading.Lock()

    def connect(self, callback: Callable[[T], object]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], object]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(value)
            except Exception:
                log.exception("A %s callback failed", self.name)
