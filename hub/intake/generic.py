"""The generic channel: PackDesk's own JSON order shape, for integrations we do not have an adapter for.

Body: one order object, or ``{"orders": [ ... ]}``; each order is the shape written by
:func:`core.model.intake_to_json` and read by :func:`core.model.intake_from_json` (which validates
every field). ``channel`` inside an order is kept when given (a custom integration may label its
shop, e.g. "youzan"), else it is "generic".
"""

from __future__ import annotations

from typing import Any

from core.errors import ValidationFailed
from core.model import IntakeOrder, intake_from_json
from hub.intake.fields import MAX_FEN, MAX_QTY, Obj, bad

NAME = "generic"

#: A custom integration's own channel label is stored beside each order (``orders.channel``).
MAX_CHANNEL_LEN = 32


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
    # The same bounds as every other channel: a typo or an attack, not a sale.
    for i, line in enumerate(order.lines):
        if line.qty > MAX_QTY:
            raise bad(f"lines[{i}].qty", f"must be a quantity from 1 to {MAX_QTY}, not {line.qty}")
        if line.unit_price_fen > MAX_FEN:
            raise bad(f"lines[{i}].unit_price_fen", f"must be at most {MAX_FEN} fen, not {line.unit_price_fen}")
    if order.total_fen > MAX_FEN:
        raise bad("total_fen", f"must be at most {MAX_FEN} fen, not {order.total_fen}")
    return order
