"""The hub's background threads: one shape for every queue worker of a hub process.

Each worker (e-waybills, tracking, notifications) is a daemon thread that works rounds while there
is work and, idle, sleeps ``poll_s`` or until :meth:`BackgroundWorker.wake` is called (a row was
queued). A round that raises is logged with its traceback and the thread goes on: the next round
retries, the rows are still in their persisted queue.
"""

from __future__ import annotations

import logging
import threading


class BackgroundWorker:
    """A subclass gives :meth:`round`; this class owns the thread, the stop and the wake-up."""

    def __init__(self, name: str, *, poll_s: float, log: logging.Logger, what: str) -> None:
        self.poll_s = poll_s
        self._log = log
        self._what = what
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def round(self) -> bool:
        """Do the due work once; True when there was some (the next round starts at once)."""
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def wake(self) -> None:
        """Rows were queued: work now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.round()
            except Exception:
                self._log.exception("%s round failed", self._what)
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()
