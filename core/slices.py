"""Whole-list C passes cut into slices, so a worker thread gives the GIL up between them.

Why (issue 18): a desk's load builds, on the database worker, maps and joined texts over 100,000
rows: ``dict(zip(ids, rows))`` or ``"\\x1e".join(texts)`` is one C call that holds the GIL for
20–60 ms, and the GUI thread, which needs the GIL for every event it handles, waits that long (the
window stalls though its own work per turn is a few ms). Cut into slices of :data:`SLICE` items,
each call is a few ms, and between two slices the interpreter may hand the GIL to the GUI thread.
Same results as the one-call forms; only slower by a loop step per slice. No Qt here.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable, Sequence
from itertools import accumulate, count, islice
from operator import add
from typing import TypeVar

__all__ = ["SLICE", "by_key", "ends", "join", "slots"]

#: Items per C call (~1–3 ms on this machine for the passes below).
SLICE = 8192

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def by_key(key: Callable[[V], K], items: Sequence[V]) -> dict[K, V]:
    """``{key(item): item}`` over ``items`` (later items win, as with ``dict(zip(...))``)."""
    out: dict[K, V] = {}
    for start in range(0, len(items), SLICE):
        part = items[start:start + SLICE]
        out.update(zip(map(key, part), part, strict=True))
    return out


def slots(keys: Sequence[K], start: int = 0) -> dict[K, int]:
    """``{keys[i]: start + i}`` (a later duplicate wins, as with ``dict(zip(keys, count(start)))``)."""
    out: dict[K, int] = {}
    for at in range(0, len(keys), SLICE):
        out.update(zip(islice(keys, at, at + SLICE), count(start + at)))
    return out


def join(sep: str, texts: Sequence[str]) -> str:
    """``sep.join(texts)``: joined in slices, then the slices joined (one copy more, a memcpy)."""
    if len(texts) <= SLICE:
        return sep.join(texts)
    return sep.join([sep.join(texts[at:at + SLICE]) for at in range(0, len(texts), SLICE)])


def ends(texts: Sequence[str], start: int, sep_len: int = 1) -> array[int]:
    """Where each text ends (after its separator) when ``texts`` are joined from ``start`` on, with
    ``start`` first: ``len(texts) + 1`` offsets in an ``array('q')``."""
    out = array("q", [start])
    at_ = start
    for at in range(0, len(texts), SLICE):
        part = array("q", accumulate(map(add, map(len, texts[at:at + SLICE]), [sep_len] * min(SLICE, len(texts) - at)),
                                     initial=at_))
        out.extend(part[1:])
        at_ = part[-1]
    return out
