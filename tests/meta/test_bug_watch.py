"""The suite-wide bug watch (tests/conftest.py ``_bug_watch``): a bug the app's safety nets swallow
still fails the test that caused it — a failing ``core.events.Event`` callback, an exception in a
thread, an ERROR record of ``packdesk.*`` — and ``@pytest.mark.allow_error_log`` lets a test that
expects one pass. Run on inner test files with pytester, so each case really is a test's outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

INNER_CONFTEST = """
import sys
sys.path.insert(0, {root!r})
from tests.conftest import _bug_watch  # noqa: F401  (the fixture under test)
"""

INNER_INI = """
[pytest]
markers =
    allow_error_log: expected error log
"""

CASES = '''
import logging
import threading

import pytest

from core.events import Event


def _failing(_value):
    raise ValueError("callback bug")


def test_event_callback_bug():
    ev = Event("orders_changed")
    ev.connect(_failing)
    ev.emit(1)  # logged and swallowed by Event


def test_thread_bug():
    t = threading.Thread(target=lambda: 1 / 0, name="worker-x")
    t.start()
    t.join()


def test_error_record():
    logging.getLogger("packdesk.sync").error("sync gave up")


def test_warning_is_fine():
    logging.getLogger("packdesk.sync").warning("hub away, retrying")


def test_other_library_error_is_not_ours():
    logging.getLogger("urllib3").error("connection pool full")


@pytest.mark.allow_error_log
def test_expected_error():
    logging.getLogger("packdesk.sync").error("sync gave up")


@pytest.mark.allow_error_log(match="gave up")
def test_expected_error_matching():
    logging.getLogger("packdesk.sync").error("sync gave up")


@pytest.mark.allow_error_log(match="gave up")
def test_unexpected_error_beside_an_expected_one():
    logging.getLogger("packdesk.sync").error("sync gave up")
    logging.getLogger("packdesk.outbox").error("outbox row lost")


@pytest.mark.allow_error_log
def test_marker_does_not_hide_a_thread_bug():
    t = threading.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()


@pytest.mark.allow_error_log(threads=True)
def test_thread_bug_expected():
    t = threading.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()
'''


def test_bugs_fail_their_test_and_expected_ones_pass(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INNER_CONFTEST.format(root=str(ROOT)))
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_cases=CASES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:qt", "-rA")
    outcomes = {}
    for line in result.outlines:
        for word in ("PASSED", "ERROR", "FAILED"):
            if line.startswith(word + " ") and "::" in line:
                outcomes.setdefault(line.split("::")[1].split(" ")[0], set()).add(word)
    failed = {name for name, seen in outcomes.items() if seen & {"ERROR", "FAILED"}}
    assert failed == {"test_event_callback_bug", "test_thread_bug", "test_error_record",
                      "test_unexpected_error_beside_an_expected_one", "test_marker_does_not_hide_a_thread_bug"}, (
        result.stdout.str())
    text = result.stdout.str()
    assert "A orders_changed callback failed" in text and "ValueError: callback bug" in text
    assert "thread worker-x" in text and "ZeroDivisionError" in text
    assert "outbox row lost" in text
