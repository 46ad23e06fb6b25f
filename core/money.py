"""Money as integer fen. Never float: 0.1 + 0.2 is not a price."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationFailed


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse an amount in yuan ("12.50", 12, Decimal("12.5")) into fen.

    Floats are refused on purpose: the caller must parse the channel's text itself (JSON numbers
    are read with ``parse_float=Decimal`` by the hub).

    Raises:
        ValidationFailed: not a number, negative, or more than 2 decimals that are not zeros.
    """
    if isinstance(value, bool | float):
        raise ValidationFailed(f"Amount {value!r} must be text or Decimal, not a float.")
    try:
        d = Decimal(str(value).strip().replace(",", "").lstrip("¥￥"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"'{value}' is not an amount of money.") from None
    if not d.is_finite() or d < 0:
        raise ValidationFailed(f"'{value}' is not a valid amount (negative or not finite).")
    fen = (d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if fen != d * 100:
        raise ValidationFailed(f"'{value}' has more than two decimals.")
    return int(fen)


def fen_to_yuan_text(fen: int) -> str:
    """Format fen as '¥1,234.50'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
