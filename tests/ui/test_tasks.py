"""ui/tasks.py TaskRunner: a worker's bug is caught by the suite's bug watch, and work submitted
after shutdown (a window reloading while the app closes) is dropped, never raised into whatever
runs next."""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication

from tests.helpers.bugwatch import BugWatch
from ui.tasks import TaskRunner


@pytest.mark.allow_error_log(match="background task failed|unexpected error")
def test_a_worker_bug_is_logged_where_the_bug_watch_sees_it(qtbot: Any) -> None:
    runner = TaskRunner()
    watch = BugWatch().start()
    reported: list[str] = []
    try:
        def bug() -> None:
            raise KeyError("no such order")

        future = runner.run_db(bug, on_success=lambda _v: reported.append("success"))
        with pytest.raises(KeyError):
            future.result(10)
        qtbot.waitUntil(lambda: any(r.name == "packdesk.crash" for r in watch.records), timeout=5000)
    finally:
        watch.stop()
        runner.shutdown()
    problems = watch.log_problems()
    assert any("background task failed" in p and "KeyError: 'no such order'" in p for p in problems), problems
    assert any(p.startswith("ERROR packdesk.crash") for p in problems), problems
    assert reported == []


def test_work_after_shutdown_is_dropped_with_a_debug_log(qtbot: Any, caplog: pytest.LogCaptureFixture) -> None:
    runner = TaskRunner()
    ran: list[str] = []
    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda n: n == 0, timeout=5000):
        runner.run_db(lambda: ran.append("before"))
    runner.shutdown()
    assert runner.closed
    caplog.set_level(logging.DEBUG, logger="packdesk.ui.tasks")
    late_db = runner.run_db(lambda: ran.append("db after shutdown"), on_success=lambda _v: ran.append("cb"))
    late_net = runner.run_net(lambda: ran.append("net after shutdown"))
    runner.wait_idle()  # no raise either
    assert late_db.cancelled() and late_net.cancelled()
    with pytest.raises(CancelledError):
        late_db.result(0)
    QCoreApplication.processEvents()  # a (wrongly) queued delivery would run here
    assert ran == ["before"]
    assert sum("not run" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG) == 2


def test_results_still_queued_at_shutdown_are_not_delivered(qtbot: Any) -> None:
    """A result on its way to the GUI thread when the runner shuts down is dropped: its callback
    would touch a window that is closing (or already gone, in the next test)."""
    runner = TaskRunner()
    delivered: list[int] = []
    future = runner.run_db(lambda: 42, on_success=delivered.append)
    assert future.result(10) == 42  # done on the worker; the delivery is queued, not yet run
    runner.shutdown()
    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda n: n == 0, timeout=5000):
        pass  # the queued delivery runs now, and only counts down
    assert delivered == []
