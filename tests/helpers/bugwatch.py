"""Catch the bugs a test would otherwise stay green over (used by ``tests/conftest.py``).

The app's safety nets keep it running after a bug: ``core.events.Event`` logs a failing callback
and carries on, ``ui.tasks.TaskRunner`` logs a worker's exception (``log.exception``) and hands it
to the crash handler (``log.error`` on ``packdesk.crash``), the sync threads log and retry, a plain
thread's exception goes to :func:`threading.excepthook` and is printed. Each of those leaves an
ERROR record on a ``packdesk.*`` logger or goes through the thread hook; a :class:`BugWatch`
collects both so the suite can fail the test (``@pytest.mark.allow_error_log`` for a test that
expects one).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

#: Every logger of the project is a child of this one (``packdesk.ui.tasks``, ``packdesk.events``, …).
PROJECT_LOGGER = "packdesk"


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(record)


@dataclass
class BugWatch:
    """ERROR records of ``packdesk.*`` and uncaught thread exceptions between :meth:`start` and :meth:`stop`."""

    records: list[logging.LogRecord] = field(default_factory=list)
    thread_errors: list[str] = field(default_factory=list)
    _handler: _Collect | None = None
    _previous_hook: Any = None

    def start(self) -> BugWatch:
        self._handler = _Collect(self.records)
        logging.getLogger(PROJECT_LOGGER).addHandler(self._handler)
        self._previous_hook = threading.excepthook
        threading.excepthook = self._thread_hook
        return self

    def stop(self) -> None:
        if self._handler is not None:
            logging.getLogger(PROJECT_LOGGER).removeHandler(self._handler)
            self._handler = None
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._previous_hook

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        self.thread_errors.append(f"thread {name}: {text}")

    def log_problems(self, allow: re.Pattern[str] | None = None) -> list[str]:
        """The ERROR records not matching ``allow``, each as a readable block with its traceback."""
        out: list[str] = []
        for record in self.records:
            text = record.getMessage()
            if allow is not None and allow.search(text):
                continue
            if record.exc_info and record.exc_info[1] is not None:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
            out.append(f"{record.levelname} {record.name}: {text}")
        return out
