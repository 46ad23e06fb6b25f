"""One task runner for background work (STYLE.md §2).

* ``run_db``: a single worker for local database writes — they never overlap and never run on the
  GUI thread.
* ``run_net``: a small pool for network calls (login, lookups).

Results come back to the GUI thread through a queued Signal; a worker never touches a widget.
A :class:`core.errors.UserError` goes to the failure callback (default: shown in plain words);
anything else is a bug: logged with its traceback and reported by the crash handler. Either way
the exception that reaches the future and the callbacks carries no traceback (a bug's traceback
travels as text): its frames would keep the task's closure, widgets and all, alive.

After :meth:`TaskRunner.shutdown` the runner takes no more work: a late ``run_db``/``run_net``
(a window reloading from a signal that arrived while the app closed) is dropped with a debug log
and gets a cancelled future, and results still queued for the GUI thread are not delivered — a
closing window must not raise, nor call back into widgets that are going away.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from core.errors import UserError

log = logging.getLogger("packdesk.ui.tasks")
T = TypeVar("T")

Callback = Callable[[Any], None]


class TaskRunner(QObject):
    """Runs callables off the GUI thread and calls back on it.

    Signals:
        _finished(object): internal; carries (token, outcome, value) to the GUI thread.
        failed(object): a UserError nobody handled (the main window shows it).
        busy_changed(int): how many tasks are in flight (for a busy indicator).
    """

    _finished = Signal(object)
    failed = Signal(object)
    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="db")
        self._net = ThreadPoolExecutor(4, thread_name_prefix="net")
        self._in_flight = 0
        self._closed = False
        self._tokens = itertools.count(1)
        #: token -> (work, on_success, on_failure) of the tasks not yet delivered (GUI-thread owned).
        self._pending: dict[int, tuple[Callable[[], Any], Any, Any]] = {}
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run_db(self, fn: Callable[[], T], on_success: Callable[[T], None] | None = None,
               on_failure: Callable[[UserError], None] | None = None) -> Future[T]:
        """Run a local-store call on the single database worker."""
        return self._submit(self._db, fn, on_success, on_failure)

    def run_net(self, fn: Callable[[], T], on_success: Callable[[T], None] | None = None,
                on_failure: Callable[[UserError], None] | None = None) -> Future[T]:
        """Run a network call on the network pool."""
        return self._submit(self._net, fn, on_success, on_failure)

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[[], T], on_success: Callable[[T], None] | None,
                on_failure: Callable[[UserError], None] | None) -> Future[T]:
        if self._closed:
            log.debug("task runner shut down: %r not run", fn)
            dropped: Future[T] = Future()
            dropped.cancel()
            return dropped
        self._in_flight += 1
        self.busy_changed.emit(self._in_flight)
        # The GUI thread keeps the only lasting references to the callables (and so to the widgets
        # their closures capture) until the result is delivered: were the worker thread to drop the
        # last reference, a parentless QObject captured by a callback would be destroyed on the
        # worker thread — a segfault some time later on the GUI thread.
        token = next(self._tokens)
        self._pending[token] = (fn, on_success, on_failure)
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        pool.submit(self._work, token, future)
        return future

    def _work(self, token: int, future: Future[Any]) -> None:
        """On the worker: run the task, then hand the outcome to the GUI thread.

        Every reference this thread took to the task's callables is gone before the outcome is
        emitted, so the GUI thread's :meth:`_deliver` drops the last one.
        """
        fn = self._pending[token][0]
        try:
            value = fn()
        except UserError as exc:
            del fn
            _drop_frames(exc)  # a user error needs no frames (they would keep the callables alive)
            future.set_exception(exc)
            self._finished.emit((token, "failure", exc))
            return
        except Exception as exc:
            del fn
            # The bug's report is its text; the exception keeps no frames (see _drop_frames), and
            # the log record gets the text, not exc_info, which would hold the traceback too.
            report = "".join(traceback.format_exception(exc))
            _drop_frames(exc)
            log.error("background task failed:\n%s", report)
            future.set_exception(exc)
            self._finished.emit((token, "bug", report))
            return
        del fn
        future.set_result(value)
        self._finished.emit((token, "success", value))

    def _deliver(self, item: tuple[int, str, Any]) -> None:
        self._in_flight -= 1
        self.busy_changed.emit(self._in_flight)
        token, kind, value = item
        _fn, on_success, on_failure = self._pending.pop(token)
        callback: Callback | None
        if kind == "success":
            callback = on_success
        elif kind == "failure":
            callback = on_failure or self.failed.emit
        else:
            callback = _report_bug
        if self._closed:
            log.debug("task runner shut down: result for %r not delivered", callback)
            return
        if callback is not None:
            callback(value)

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Block until queued database work has run (shutdown and tests only)."""
        if self._closed:
            return
        self._db.submit(lambda: None).result(timeout_s)

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` has run: new work is dropped."""
        return self._closed

    def shutdown(self) -> None:
        """Finish queued database writes, cancel network work; later submits are no-ops."""
        self._closed = True
        self._db.shutdown(wait=True)
        self._net.shutdown(wait=False, cancel_futures=True)


def _drop_frames(exc: BaseException) -> None:
    """Detach the tracebacks of ``exc`` and of every exception chained to it.

    A traceback's frames hold the task's locals and, through the function each frame ran (still
    held by a finished frame after ``frame.clear()`` on CPython 3.11, so
    ``traceback.clear_frames`` is not enough), its closure — widgets among them. The future keeps
    the exception; were its frames the last path to a widget, the widget would be destroyed on
    whichever thread dropped the future, a worker's as likely as not.
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = None
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
        if isinstance(e, BaseExceptionGroup):
            todo += e.exceptions


def _report_bug(report: str) -> None:
    from ui.crash import report_text

    report_text(report)
