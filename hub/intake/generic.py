"""The generic channel: PackDesk's own JSON order shape, for integrations we do not have an adapter for.

Body: one order object, or ``{"orders": [ ... ]}``; each order is the shape written by
:func:`core.model.intake_to_json` and read by :func:`core.model.intake_from_json` (which validates
every field). ``channel`` inside an order is kept when given (a custom integration may label its
shop, e.g. "youzan"), else it is "generic".

A label may not be another source's name: orders are keyed by (channel, channel_order_no), so a
generic push labelled "import" or "Douyin" could rewrite and cancel that source's orders with
the generic secret. :func:`reserved_label` refuses every spelling of those names.
"""

from __future__ import annotations

import functools
import unicodedata
from datetime import datetime
from typing import Any

from core.errors import ValidationFailed
from core.model import IntakeOrder, intake_from_json
from hub.intake.fields import MAX_FEN, MAX_QTY, Obj, bad

NAME = "generic"

#: A custom integration's own channel label is stored beside each order (``orders.channel``).
MAX_CHANNEL_LEN = 32
#: The longest text field of a generic order (the other channels' limit: ``fields.to_text``).
MAX_TEXT_LEN = 2000
#: Sources with their own secret or their own door (the CSV/XLSX import is channel "import").
RESERVED_LABELS = frozenset({"douyin", "pinduoduo", "wechat", "xiaohongshu", "import"})


def label_key(label: str) -> str:
    """How a label compares: width- and case-folded, without spaces or invisible characters."""
    folded = unicodedata.normalize("NFKC", label).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))


@functools.lru_cache(maxsize=1024)  # pure; a push asks it twice per order, of a few labels
def reserved_label(label: str) -> bool:
    """Whether a generic push's ``channel`` names another source (any case, width or spacing)."""
    return label_key(label) in RESERVED_LABELS


def split(doc: Any) -> list[Any]:
    """``{"orders": [...]}`` is a batch; any other object is one order."""
    if isinstance(doc, dict) and "orders" in doc:
        return [item for _, item in Obj(doc, "").items("orders")]
    if isinstance(doc, dict):
        return [doc]
    raise bad("body", 'must be an order object or {"orders": [...]}')


def parse(item: Any) -> IntakeOrder:
    """One generic order; errors keep intake_from_json's field names."""
    if isinstance(item, dict) and "channel" in item and not isinstance(item["channel"], str):
        raise bad("channel", "must be text")
    if isinstance(item, dict) and isinstance(item.get("channel"), str) and len(item["channel"].strip()) > MAX_CHANNEL_LEN:
        raise bad("channel", f"is longer than {MAX_CHANNEL_LEN} characters")
    if isinstance(item, dict) and isinstance(item.get("channel"), str) and reserved_label(item["channel"]):
        raise bad("channel", f"may not be {item['channel'].strip()!r}: that name belongs to another source; "
                  "push to that source's own endpoint, or label your shop with a name of its own")
    _check_text_lengths(item, "")
    try:
        order = intake_from_json(item)
    except ValidationFailed:
        raise
    except (OverflowError, ValueError, TypeError) as exc:
        # intake_from_json converts naive times to UTC; year-1 style times overflow there.
        raise ValidationFailed(
            f"The order has a field out of range: {str(exc)[:120]}", details={"field": None}
        ) from None
    order.channel = order.channel.strip() or NAME
    for f in ("created_at", "channel_updated_at", "paid_at", "ship_by"):
        when = getattr(order, f)
        # The other channels' window (fields.to_time): a year-9999 paid_at overflowed ship_by.
        if isinstance(when, datetime) and not 2000 <= when.year <= 2100:
            raise bad(f, f"is outside 2000-2100: {when.isoformat()}")
    # The same bounds as every other channel: a typo or an attack, not a sale.
    for i, line in enumerate(order.lines):
        if line.qty > MAX_QTY:
            raise bad(f"lines[{i}].qty", f"must be a quantity from 1 to {MAX_QTY}, not {line.qty}")
        if line.unit_price_fen > MAX_FEN:
            raise bad(f"lines[{i}].unit_price_fen", f"must be at most {MAX_FEN} fen, not {line.unit_price_fen}")
    if order.total_fen > MAX_FEN:
        raise bad("total_fen", f"must be at most {MAX_FEN} fen, not {order.total_fen}")
    return order


def _check_text_lengths(value: Any, path: str) -> None:
    """Every text of the order at most :data:`MAX_TEXT_LEN` characters (notes, names, address); iterative.

    A first walk only measures (no paths built: they were most of its cost, and almost every
    order passes); an order with a text too long is walked again to name it (issue 18).
    """
    stack = [value]
    pop, many = stack.pop, stack.extend
    while stack:
        node = pop()
        if isinstance(node, str):
            if len(node) > MAX_TEXT_LEN:
                break
        elif isinstance(node, dict):
            many(node.values())
        elif isinstance(node, list):
            many(node)
    else:
        return
    _name_long_text(value, path)


def _name_long_text(value: Any, path: str) -> None:
    """:func:`_check_text_lengths`'s second walk: raises naming the first text too long."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if len(node) > MAX_TEXT_LEN:
                raise bad(where or "order", f"is longer than {MAX_TEXT_LEN} characters")
        elif isinstance(node, dict):
            stack.extend((item, f"{where}.{key}" if where else str(key)) for key, item in node.items())
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node))
