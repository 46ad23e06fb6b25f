"""Shared fixtures: real hubs on 127.0.0.1 (SQLite and PostgreSQL), Qt offscreen, and the bug watch.

PostgreSQL tests skip with the reason when the server is not reachable, unless
``PACKDESK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which turns the skip into a failure.

Every test runs under :class:`tests.helpers.bugwatch.BugWatch` (``_bug_watch`` below): an ERROR
record on a ``packdesk.*`` logger (a failing event callback, a TaskRunner worker's bug, the crash
handler, a sync thread's unexpected error) or an exception escaping a thread fails the test. A
test that provokes one on purpose says so: ``@pytest.mark.allow_error_log`` (any error record) or
``@pytest.mark.allow_error_log(match=r"regex")`` (only those messages); ``threads=True`` also
allows uncaught thread exceptions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.bugwatch import BugWatch
from tests.hubproc import HubProcess, fresh_pg_database, postgres_available


@pytest.fixture(autouse=True)
def _bug_watch(request: pytest.FixtureRequest) -> Iterator[BugWatch]:
    """Fail the test on an unexpected ERROR log of the project or an uncaught thread exception.

    Autouse fixtures are set up first, so this one is torn down last: what the test's own
    fixtures log while they shut down (a station's task runner, a sync engine) counts too.
    """
    watch = BugWatch().start()
    try:
        yield watch
    finally:
        watch.stop()
    marker = request.node.get_closest_marker("allow_error_log")
    allowed = marker.kwargs if marker is not None else {}
    problems = [] if allowed.get("threads") else list(watch.thread_errors)
    if marker is None or "match" in allowed:
        problems += watch.log_problems(re.compile(allowed["match"]) if "match" in allowed else None)
    if problems:
        pytest.fail("a bug was logged or raised in a thread during the test (mark it "
                    "@pytest.mark.allow_error_log if it is expected):\n\n" + "\n\n".join(problems),
                    pytrace=False)


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("PACKDESK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (PACKDESK_REQUIRE_POSTGRES=1: PostgreSQL tests are required here)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_postgres()
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        with fresh_pg_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    """A fresh hub process on SQLite and on PostgreSQL (the test runs once for each)."""
    proc = HubProcess(tmp_path / "hub", db_url=db_url).start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-4000:]


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A fresh hub on SQLite only (for client-side tests where the backend does not matter)."""
    proc = HubProcess(tmp_path / "hub").start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-4000:]


@pytest.fixture
def hub_url(sqlite_hub: HubProcess) -> str:
    return sqlite_hub.url


#: Figures a test measures and the run should show (precision and recall of a rule, …).
FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report_figure("rural rule: precision=…")`` prints the line in the run's summary, even with -q."""
    return request.config.stash.setdefault(FIGURES, []).append


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures measured by tests")
        for line in lines:
            terminalreporter.write_line(line)
