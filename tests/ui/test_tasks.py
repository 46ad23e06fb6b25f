"""ui/tasks.py TaskRunner: a worker's bug is caught by the suite's bug watch, and work submitted
after shutdown (a window reloading while the app closes) is dropped, never raised into whatever
runs next."""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication

from core.errors import UserError
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


class Widgetish:
    """Stands for a widget a task's closure captures."""


def task_holding(widget: Widgetish, error: type[Exception]) -> Callable[[], None]:
    def look_up_order() -> None:
        shown = widget  # a local of the failing frame too
        try:
            {}["BL20260222-008632"]
        except KeyError:  # a second traceback, chained as __context__
            raise error(f"no such order (for {type(shown).__name__})")  # noqa: B904 - the chain is the point
    return look_up_order


@pytest.mark.allow_error_log(match="background task failed|unexpected error")
@pytest.mark.parametrize("error", [LookupError, UserError])
def test_a_failed_task_keeps_nothing_it_captured_alive(qtbot: Any, error: type[Exception]) -> None:
    """The future keeps the exception; its frames would keep the task's closure, so a widget the
    task captured would die on whichever thread let go of the future last — a worker's maybe.
    The error still reaches its path: a bug the log and crash report, a UserError the callback."""
    runner = TaskRunner()
    watch = BugWatch().start()
    failures: list[UserError] = []
    try:
        widget = Widgetish()
        alive = weakref.ref(widget)
        with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda n: n == 0, timeout=5000):
            future = runner.run_db(task_holding(widget, error), on_failure=failures.append)
        del widget
    finally:
        watch.stop()
        runner.shutdown()
    gc.collect()
    assert alive() is None  # while the future, its exception and the log records are all still held
    exc = future.exception(0)
    assert type(exc) is error and str(exc) == "no such order (for Widgetish)"
    if error is UserError:
        assert failures == [exc] and watch.log_problems() == []
    else:
        assert failures == []
        problems = watch.log_problems()
        # the worker's log and the crash report keep the whole traceback, as text
        assert any(p.startswith("ERROR packdesk.ui.tasks") and "in look_up_order" in p and "KeyError" in p
                   and "LookupError: no such order" in p for p in problems), problems
        assert any(p.startswith("ERROR packdesk.crash") and "in look_up_order" in p for p in problems), problems


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
