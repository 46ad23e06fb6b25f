"""The channel registry and :func:`parse_push`, the one entry point the intake endpoint calls.

Each channel module (``douyin``, ``pinduoduo``, ``wechat``, ``xiaohongshu``, ``generic``) has two
functions: ``split(doc)`` takes the channel's push envelope apart into per-order items, and
``parse(item)`` maps one item to an :class:`~core.model.IntakeOrder` (or ``None`` for a message that
carries no order, like a platform's URL check). Keeping envelope and order apart lets every error
say *which* order of a batched push is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import UserError, ValidationFailed
from core.model import IntakeOrder
from hub.intake import douyin, generic, pinduoduo, wechat, xiaohongshu
from hub.intake.fields import load_json
from hub.textcheck import find_bad_text

#: Upper bound on orders in one push: bigger batches are refused rather than held in memory.
MAX_ORDERS_PER_PUSH = 1000


class UnknownChannel(UserError):
    """The push names a channel the hub has no adapter for."""

    code = "unknown_channel"


@dataclass(frozen=True)
class Adapter:
    """A channel's envelope splitter and order parser."""

    name: str
    split: Callable[[Any], list[Any]]
    parse: Callable[[Any], IntakeOrder | None]


ADAPTERS: dict[str, Adapter] = {
    m.NAME: Adapter(m.NAME, m.split, m.parse) for m in (douyin, pinduoduo, wechat, xiaohongshu, generic)
}
CHANNELS: tuple[str, ...] = ("douyin", "pinduoduo", "wechat", "xiaohongshu", "generic")
assert set(CHANNELS) == set(ADAPTERS)


def parse_push(channel: str, body: bytes) -> list[IntakeOrder]:
    """Parse a channel's raw push into normalised orders.

    The whole push is refused if any order in it is malformed: the channel retries a refused push,
    and taking half a batch would make that retry's bookkeeping ours. Messages that carry no order
    (a platform's URL check) are skipped, so the list may be shorter than the batch.

    Args:
        channel: one of :data:`CHANNELS` (the ``{channel}`` of ``POST /api/v1/intake/{channel}``).
        body: the raw request body; JSON is parsed with ``parse_float=Decimal`` (money is never float)
            and every number bounded in length and exponent (``fields.load_json``).

    Returns:
        The orders, in push order.

    Raises:
        UnknownChannel: ``channel`` is not one of :data:`CHANNELS`.
        ValidationFailed: not JSON, wrong envelope, or an order with a missing/wrong field or
            with text no database can store (a NUL, a lone surrogate: ``hub.textcheck``);
            ``details`` is ``{"field": <path inside the order>, "index": <order's index or None>}``.
    """
    adapter = ADAPTERS.get(channel) if isinstance(channel, str) else None
    if adapter is None:
        raise UnknownChannel(
            f"Unknown channel {channel!r}; expected one of: {', '.join(CHANNELS)}.",
            details={"channel": str(channel)[:64], "known": list(CHANNELS)},
        )
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValidationFailed("The push body must be bytes.", details={"field": "body", "index": None})
    raw = bytes(body)
    if not raw.strip():
        raise ValidationFailed("The push body is empty.", details={"field": "body", "index": None})
    try:
        items = adapter.split(load_json(raw))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, details={"field": _field(exc), "index": None}) from None
    if not items:
        raise ValidationFailed("The push carries no orders.", details={"field": "body", "index": None})
    if len(items) > MAX_ORDERS_PER_PUSH:
        raise ValidationFailed(
            f"The push carries {len(items)} orders; send at most {MAX_ORDERS_PER_PUSH} per request.",
            details={"field": "body", "index": None},
        )
    orders: list[IntakeOrder] = []
    check_text = may_hold_bad_text(raw)
    for index, item in enumerate(items):
        try:
            order = adapter.parse(item)
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"Order #{index + 1} of the push (index {index}): {exc.message}",
                details={"field": _field(exc), "index": index},
            ) from None
        if order is None:
            continue
        bad_text = find_bad_text(order) if check_text else None
        if bad_text is not None:
            path, problem = bad_text
            raise ValidationFailed(
                f"Order #{index + 1} of the push (index {index}): Field '{path}' {problem}.",
                details={"field": path, "index": index},
            )
        orders.append(order)
    return orders


#: What in a raw body could become text no database stores, or a non-finite number
#: (:mod:`hub.textcheck`): a ``\u0000`` or UTF-16 surrogate escape (also inside a JSON string
#: that an adapter parses again), a surrogate encoded in UTF-8 bytes (``json.loads`` decodes
#: bytes with ``surrogatepass``), or the NaN / Infinity constants.
_RISKY = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|\xed[\xa0-\xbf]")


def may_hold_bad_text(raw: bytes) -> bool:
    """Whether the orders parsed from ``raw`` need :func:`hub.textcheck.find_bad_text`'s walk.

    False only for a UTF-8 body (no NUL byte: UTF-16/32 text of JSON always has some) with none
    of :data:`_RISKY`: every string of its orders then came from clean text, and the walk (a
    quarter of parsing a push) would find nothing. A false True only costs the walk.
    """
    return b"\x00" in raw or _RISKY.search(raw) is not None


def _field(exc: ValidationFailed) -> str | None:
    details = exc.details
    if isinstance(details, dict):
        value = details.get("field")
        return value if isinstance(value, str) else None
    return None
