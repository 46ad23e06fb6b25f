"""Proving a long-poll was *woken*, not answered some other way.

A long-poll that starts after the change it waits for is answered at once from the buffer, and
one whose wake-up is broken is still answered when the hub re-checks every waiter's token (each
:data:`hub.longpoll.TOKEN_RECHECK_S` epoch of the monotonic clock) or at its fallback re-read.
So a wake-up test (1) waits until the hub has authenticated the waiting request (the hub's
``tokens`` statement count, ``PACKDESK_HUB_COUNT_STATEMENTS=1``), (2) makes its change well inside
a re-check epoch and (3) asserts the answer came before that epoch ended, with the fallback set
longer than the test (``PACKDESK_HUB_LONGPOLL_FALLBACK``).

``time.monotonic`` is the machine's CLOCK_MONOTONIC (QueryPerformanceCounter on Windows), the
same clock in the hub process as in the test, so the test can tell where the hub's epochs fall.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hub.longpoll import TOKEN_RECHECK_S
from tests.helpers.hubapi import Session
from tests.helpers.waiting import wait_until

#: Environment for a hub whose waiters only a wake-up can answer within a test.
WAKE_TEST_ENV = {"PACKDESK_HUB_COUNT_STATEMENTS": "1", "PACKDESK_HUB_LONGPOLL_FALLBACK": "120"}


def token_lookups(s: Session) -> int:
    """How many statements the hub has run on the tokens table (a long-poll's first is its check)."""
    return int(s.get("/api/v1/health").json()["statements"].get("tokens", 0))


def wait_for_waiter(s: Session, before: int, n: int = 1) -> None:
    """Until ``n`` more long-polls than at ``before`` (:func:`token_lookups`) have been authenticated:
    from then on each is waiting (it checks the buffer and sleeps without another await)."""
    wait_until(lambda: token_lookups(s) - before >= n, timeout=20, what=f"{n} long-poll(s) waiting at the hub")


def next_recheck(t: float) -> float:
    """When the hub's token re-check epoch containing monotonic time ``t`` ends."""
    return (t // TOKEN_RECHECK_S + 1) * TOKEN_RECHECK_S


def inside_an_epoch(margin_s: float = 2.0) -> float:
    """Wait until at least 0.5 s have passed since the last re-check and ``margin_s`` remain to the
    next (the waiters are asleep again, and a prompt answer cannot straddle a re-check); return
    when the current epoch ends."""
    assert margin_s + 0.5 < TOKEN_RECHECK_S
    wait_until(lambda: 0.5 <= time.monotonic() % TOKEN_RECHECK_S <= TOKEN_RECHECK_S - margin_s,
               timeout=TOKEN_RECHECK_S + 1, what="the middle of a token re-check epoch")
    return next_recheck(time.monotonic())


def assert_woken(watcher: Session, cursor: int, change: Callable[[], object], wait: float = 20) -> None:
    """``watcher`` long-polls from ``cursor`` (its first long-poll this epoch); once it waits at the
    hub, ``change()`` commits one change it may see. The poll must answer with that change before
    the next token re-check: only the wake-up can (the hub runs with :data:`WAKE_TEST_ENV`)."""
    got: dict[str, float] = {}

    def poll() -> None:
        page = watcher.get("/api/v1/changes", cursor=cursor, wait=wait).json()
        got["at"] = time.monotonic()
        got["n"] = len(page["changes"])

    before = token_lookups(watcher)
    t = threading.Thread(target=poll, name="long-poll")
    t.start()
    wait_for_waiter(watcher, before)
    epoch_end = inside_an_epoch()
    change()
    t.join(wait + 10)
    assert got.get("n") == 1, got
    assert got["at"] < epoch_end, "answered by the token re-check, not woken by the change"
