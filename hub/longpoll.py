"""Serving ``GET /changes?wait=S``: many waiting long-polls for the price of one reader.

A long-poll is answered from the process's :class:`hub.feed.ChangeTail` while its cursor is
inside the tail's buffer, and from the table (``feed.read_changes``, the one place that decides
410 and 400) when it is not. While it waits it holds no thread, no connection and runs no query.

Its bearer token is checked when it starts and re-checked while it waits, at most once per
:data:`TOKEN_RECHECK_S` epoch for every token at once: all waiters wake at the epoch boundary and
their tokens are looked up together in one read transaction (``auth.authenticate`` each, so a
revocation rule there applies here too). A revoked or expired token therefore stops long-polling
within :data:`TOKEN_RECHECK_S` seconds; a new request whose token was checked in the current epoch
is not looked up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi.responses import Response

from core.errors import UserError
from hub.feed import ORDERS_ONLY, ChangeTail, Page
from hub.writer import Actor

#: How long a checked token is taken at its word (seconds): the longest a revoked token keeps
#: long-polling, and the interval at which waiting long-polls are re-checked together.
TOKEN_RECHECK_S = 5.0

#: Concurrent misses are gathered this long (seconds) into one batch: waiters woken together
#: (a commit, the epoch boundary) arrive a few loop turns apart.
_GATHER_S = 0.002


class TokenCheck:
    """Bearer tokens looked up in batches and remembered for the rest of the current epoch."""

    def __init__(self, lookup: Callable[[Sequence[str | None]], Awaitable[list[Actor | UserError]]],
                 recheck_s: float = TOKEN_RECHECK_S) -> None:
        """Args:
            lookup: authenticates each header in one read transaction, off the event loop; an
                invalid one gives its ``UserError`` in its place.
        """
        self._lookup = lookup
        self.recheck_s = recheck_s
        #: sha256 of the header (never the token itself) -> (epoch checked, actor).
        self._cache: dict[str, tuple[int, Actor]] = {}
        self._pending: dict[str, tuple[str | None, asyncio.Future[Actor]]] = {}
        self._flush_due = False
        self._flushing: set[asyncio.Task[None]] = set()  # the loop holds tasks weakly

    def _epoch(self) -> int:
        return int(time.monotonic() // self.recheck_s)

    def until_recheck(self) -> float:
        """Seconds to the next epoch boundary, when every waiter's token is checked again."""
        return (self._epoch() + 1) * self.recheck_s - time.monotonic() + 0.001

    async def actor(self, authorization: str | None) -> Actor:
        """The caller of ``authorization``; raises the auth error (401) of an invalid token."""
        key = hashlib.sha256((authorization or "").encode()).hexdigest()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self._epoch():
            return hit[1]
        pending = self._pending.get(key)
        if pending is None:
            fut: asyncio.Future[Actor] = asyncio.get_running_loop().create_future()
            self._pending[key] = (authorization, fut)
            if not self._flush_due:
                self._flush_due = True
                asyncio.get_running_loop().call_later(_GATHER_S, self._start_flush)
        else:
            fut = pending[1]
        return await asyncio.shield(fut)

    def _start_flush(self) -> None:
        task = asyncio.ensure_future(self._flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self) -> None:
        batch, self._pending, self._flush_due = self._pending, {}, False
        epoch = self._epoch()
        try:
            results = await self._lookup([header for header, _ in batch.values()])
        except Exception as exc:  # handed to every caller waiting on this batch (a 5xx there)
            for _, fut in batch.values():
                fut.set_exception(exc)
            return
        for (key, (_, fut)), result in zip(batch.items(), results, strict=True):
            if isinstance(result, Actor):
                self._cache[key] = (epoch, result)
                fut.set_result(result)
            else:
                self._cache.pop(key, None)
                fut.set_exception(result)
        for key in [k for k, (e, _) in self._cache.items() if e < epoch]:
            del self._cache[key]


async def serve(tail: ChangeTail, tokens: TokenCheck, read_page: Callable[[Actor, int, int], Awaitable[Page]],
                authorization: str | None, cursor: int, limit: int, wait: float,
                kinds: frozenset[str] = ORDERS_ONLY) -> Response:
    """Answer one long-poll (``wait`` > 0); see the module docstring.

    Args:
        read_page: ``feed.read_changes`` for an actor, cursor and limit, in a read transaction.
    """
    actor = await tokens.actor(authorization)
    deadline = time.monotonic() + wait
    read_table = True  # outside the buffer: read the table once, then again after each wake-up
    while True:
        remaining = 0.0 if tail.stopping else deadline - time.monotonic()
        page = tail.page(actor, cursor, limit, kinds)
        if page is None and read_table:
            page = await read_page(actor, cursor, limit)
            read_table = False
            if page.count or remaining <= 0:
                return _answer(page)
            cursor = page.next_cursor
            continue  # the tail may have moved while the table was read: look at it again first
        if page is not None:
            if page.count or remaining <= 0:
                return _answer(page)
            cursor = page.next_cursor
        elif remaining <= 0:
            return _answer(Page.of({"changes": [], "next_cursor": cursor, "more": False}))
        # Taken right after looking at the buffer, with no await between: a batch the tail adds
        # from here on sets this event.
        woken = tail.event_for(actor)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), timeout=max(0.0, min(remaining, tokens.until_recheck())))
        actor = await tokens.actor(authorization)
        read_table = True


def _answer(page: Page) -> Response:
    return Response(page.body, media_type="application/json")
