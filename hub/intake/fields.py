"""Strict readers for channel payload fields: money, counts, times, text — each error names its field.

Channel payloads are untrusted JSON. Every accessor here either returns a value of the promised
type or raises :class:`core.errors.ValidationFailed` whose ``details["field"]`` is the dotted path
of the offending field (``sku_order_list[1].item_num``), so the channel's developer knows exactly
what to fix. Nothing here ever lets a ``KeyError``/``TypeError``/``decimal`` signal escape: a
malformed push must be a 4xx, never a 5xx the channel would retry for ever.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ValidationFailed
from core.money import yuan_to_fen
from core.timeutil import to_utc

#: Money bounds: one order above 1e10 fen (100 million yuan) is a typo or an attack, not a sale.
MAX_FEN = 10**10
MAX_QTY = 100_000
#: Unix-time window accepted (2000-01-01 .. 2100-01-01): anything outside is a unit mix-up.
_MIN_TS = 946_684_800
_MAX_TS = 4_102_444_800
#: Above this a number is read as milliseconds (Xiaohongshu sends ms; the others seconds).
_MS_THRESHOLD = 100_000_000_000

_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


def bad(path: str, what: str) -> ValidationFailed:
    """Build the one error shape used everywhere: message naming the field, and details.field."""
    return ValidationFailed(f"Field '{path}' {what}.", details={"field": path})


#: The longest number literal a JSON body may carry, and the largest decimal exponent. No order,
#: amount, quantity, time or id needs more (a unix time in ms is 13 digits, money 12); without
#: these bounds ``1e1000000`` (11 bytes) cost the hub 39 s of CPU with the GIL held when a text
#: field turned it into digits, and ``1e999999999`` never finished (docs/api.md "Input rules").
MAX_NUMBER_LEN = 40
MAX_EXPONENT = 30


class JsonInt(int):
    """A JSON integer that remembers how it was written, so an id sent as a number keeps its digits.

    ``int("-0")`` is 0 and ``int("007")`` cannot occur in JSON, but ``-0`` can: a channel order
    number sent as ``-0`` must be stored as "-0", never as a different order "0".
    """

    literal: str

    def __new__(cls, literal: str) -> JsonInt:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


class NumberOutOfRange(ValueError):
    """A JSON number literal beyond :data:`MAX_NUMBER_LEN` characters or :data:`MAX_EXPONENT`."""


def _short(literal: str) -> str:
    return literal if len(literal) <= 24 else f"{literal[:12]}...{literal[-8:]} ({len(literal)} characters)"


def _bounded_literal(literal: str) -> None:
    if len(literal) > MAX_NUMBER_LEN:
        raise NumberOutOfRange(
            f"has a number {_short(literal)} longer than {MAX_NUMBER_LEN} characters; "
            "send long ids and codes as JSON text")


def bounded_float(literal: str, *, as_float: bool = False) -> Decimal | float:
    """``parse_float`` hook: a Decimal (or float), refusing huge literals and exponents before any work.

    Raises:
        NumberOutOfRange: the literal is too long, or its exponent is beyond :data:`MAX_EXPONENT`.
    """
    _bounded_literal(literal)
    d = Decimal(literal)  # linear in the literal's length, which is at most MAX_NUMBER_LEN
    exponent = d.as_tuple().exponent
    if (d and not -MAX_EXPONENT <= d.adjusted() <= MAX_EXPONENT) or not (
            isinstance(exponent, int) and -MAX_EXPONENT - MAX_NUMBER_LEN <= exponent <= MAX_EXPONENT):
        raise NumberOutOfRange(
            f"has a number {_short(literal)} beyond 10^±{MAX_EXPONENT}; no order field needs one")
    return float(d) if as_float else d


def bounded_int(literal: str) -> int:
    """``parse_int`` hook: an int that keeps its literal, refusing huge literals.

    JSON writes an integer one way only (no leading zeros, no ``+``), so ``str`` of the int gives
    its literal back, except for ``-0``: that one alone comes as a :class:`JsonInt`. A subclass
    instance for every number cost a fifth of parsing a push (issue 18).
    """
    _bounded_literal(literal)
    return JsonInt(literal) if literal == "-0" else int(literal)


def bounded_loads(data: bytes | str, *, floats: str = "decimal") -> Any:
    """``json.loads`` with every number bounded at parse time (``-0`` kept as :class:`JsonInt`).

    Args:
        data: the body.
        floats: ``"decimal"`` (channel payloads: money is never float) or ``"float"`` (the hub's
            own request models, whose free-form payloads are stored as JSON).

    Raises:
        NumberOutOfRange: a number is too long or too large/small.
        RecursionError, ValueError: as ``json.loads``.

    NaN and Infinity are left to the checks that name their field (``hub.textcheck``).
    """
    as_float = floats == "float"
    return json.loads(data, parse_float=lambda s: bounded_float(s, as_float=as_float), parse_int=bounded_int)


def load_json(data: bytes | str, path: str = "body") -> Any:
    """Parse a channel's JSON: numbers never floats, and bounded in size (:func:`bounded_loads`).

    Raises:
        ValidationFailed: not UTF-8/16/32 JSON, nested too deep to parse, or a number out of bounds.
    """
    try:
        return bounded_loads(data)
    except RecursionError:
        raise bad(path, "is nested too deeply to be an order push") from None
    except NumberOutOfRange as exc:
        raise bad(path, str(exc)) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValidationFailed(
            f"'{path}' is not valid JSON: {str(exc)[:120]}", details={"field": path}
        ) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_int(value: Any, path: str) -> int:
    """A whole number given as JSON int, integral Decimal, or digit text (several SDKs stringify ids)."""
    if _is_int(value):
        return int(value)
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
        and abs(value) < 10**15
    ):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,15}\s*", value):
        return int(value)
    raise bad(path, f"must be a whole number, not {_show(value)}")


def to_fen(value: Any, path: str) -> int:
    """An amount the channel already sends in fen (integer cents)."""
    fen = to_int(value, path)
    if fen < 0 or fen > MAX_FEN:
        raise bad(path, f"must be an amount in fen between 0 and {MAX_FEN}, not {fen}")
    return fen


def yuan_text_to_fen(value: Any, path: str) -> int:
    """An amount in yuan ("19.90", 19.9 read as Decimal, 20) into fen, exactly.

    We pre-check the Decimal ourselves because :func:`core.money.yuan_to_fen` would let a huge
    exponent ("1e999999") raise ``decimal.InvalidOperation`` rather than a ValidationFailed.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise bad(path, f"must be an amount in yuan (text or number), not {_show(value)}")
    if isinstance(value, str) and len(value) > 32:
        raise bad(path, "is too long to be an amount")
    text = str(value).strip().replace(",", "").lstrip("¥￥")
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        raise bad(path, f"is not an amount of money: {_show(value)}") from None
    if not d.is_finite() or d < 0 or d > Decimal(MAX_FEN // 100):  # compare before scaling: no Overflow
        raise bad(path, f"must be an amount between 0 and {MAX_FEN // 100} yuan, not {_show(value)}")
    try:
        return yuan_to_fen(d)
    except ValidationFailed as exc:
        raise bad(path, f"is not a valid amount ({exc.message})") from None


def to_qty(value: Any, path: str) -> int:
    """A line quantity: a whole number from 1 to :data:`MAX_QTY`."""
    qty = to_int(value, path)
    if qty < 1 or qty > MAX_QTY:
        raise bad(path, f"must be a quantity from 1 to {MAX_QTY}, not {qty}")
    return qty


def to_text(value: Any, path: str, *, max_len: int = 2000) -> str:
    """Text; whole numbers are accepted and kept as written (order ids arrive as numbers from some channels).

    A number with a fraction or an exponent (``1e3``, ``12.0``) is refused rather than rewritten:
    "1000" would be another order number than the one the channel means.
    """
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, JsonInt):
        text = value.literal
    elif _is_int(value):
        text = str(value)
    elif isinstance(value, Decimal):
        raise bad(path, f"must be text or a whole number written in digits, not {_show(value)}")
    else:
        raise bad(path, f"must be text, not {_show(value)}")
    if len(text) > max_len:
        raise bad(path, f"is longer than {max_len} characters")
    return text


def to_time(value: Any, path: str) -> datetime:
    """A channel time into aware UTC.

    Accepted: unix seconds or milliseconds (number or digit text), ISO 8601, "YYYY-MM-DD HH:MM:SS"
    and the usual Chinese spreadsheet forms, or a ``datetime``/``date`` (XLSX cells). A time without
    a zone is Asia/Shanghai, which is what every Chinese channel means.
    """
    if isinstance(value, datetime | date):
        dt = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        return _checked(dt, path)
    if _is_int(value) or isinstance(value, Decimal):
        return _from_epoch(value, path)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{9,14}", text):
            return _from_epoch(int(text), path)
        if len(text) <= 40:
            try:
                return _checked(datetime.fromisoformat(text.replace("Z", "+00:00")), path)
            except ValueError:
                pass
            for fmt in _TIME_FORMATS:
                try:
                    return _checked(datetime.strptime(text, fmt), path)
                except ValueError:
                    continue
    raise bad(path, f"is not a time (unix seconds, or 'YYYY-MM-DD HH:MM:SS'): {_show(value)}")


def _from_epoch(value: int | Decimal, path: str) -> datetime:
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value) > 10**15:
            raise bad(path, f"is not a unix time: {_show(value)}")
        value = int(value)
    seconds = value / 1000 if value > _MS_THRESHOLD else value
    if not _MIN_TS <= seconds <= _MAX_TS:
        raise bad(path, f"is not a plausible unix time (2000-2100): {value}")
    return datetime.fromtimestamp(seconds, UTC)


def _checked(dt: datetime, path: str) -> datetime:
    if not 2000 <= dt.year <= 2100:
        raise bad(path, f"is outside 2000-2100: {dt.isoformat()}")
    try:
        return to_utc(dt)
    except (OverflowError, ValueError):
        raise bad(path, f"is not a valid time: {dt!r}") from None


def to_flag(value: Any, path: str) -> bool:
    """A yes/no flag: JSON bool, 0/1, or the usual words in Chinese and English."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if _is_int(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise bad(path, f"must be yes/no (是/否, true/false, 1/0), not {_show(value)}")


_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "赠品", "需要", "要", "√", "✓"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "否", "不是", "不需要", "不要", "无", "×", "✗"})

_CUSTOM_PACKAGING_WORDS = ("定制包装", "定制礼盒", "礼盒包装", "礼品包装", "custom packaging", "gift wrap")
_NEGATIONS = ("不", "无", "别", "免", "勿", "no ", "without ")


def wants_custom_packaging(*notes: str) -> bool:
    """Whether buyer/seller notes ask for custom packaging (定制包装/礼盒包装…).

    Most channels have no structured flag for it; sellers and buyers write it in the remark. A
    negation just before the phrase ("不要礼盒包装") cancels it, so a refusal never triggers the
    (slower, costlier) custom-packaging path.
    """
    for note in notes:
        low = note.lower()
        for word in _CUSTOM_PACKAGING_WORDS:
            start = low.find(word)
            while start != -1:
                before = low[max(0, start - 8) : start]
                if not any(neg in before for neg in _NEGATIONS):
                    return True
                start = low.find(word, start + 1)
    return False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Obj:
    """A JSON object read with field paths, so every error says where it happened.

    Args:
        data: the decoded JSON value that must be an object.
        path: its dotted path inside the order ('' for the order itself).
    """

    def __init__(self, data: Any, path: str = "") -> None:
        if not isinstance(data, dict):
            raise bad(path or "order", f"must be a JSON object, not {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """Present and not null/empty (channels send "" or 0 for 'not set' as often as they omit)."""
        value = self.data.get(key)
        return value is not None and value != "" and value != []

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def need(self, key: str) -> Any:
        if not self.has(key):
            raise ValidationFailed(f"Missing field '{self.at(key)}'.", details={"field": self.at(key)})
        return self.data[key]

    def text(self, key: str, *, required: bool = True, default: str = "", max_len: int = 2000) -> str:
        if not required and not self.has(key):
            return default
        return to_text(self.need(key), self.at(key), max_len=max_len)

    def sub(self, key: str) -> Obj:
        """A required nested object."""
        return Obj(self.need(key), self.at(key))

    def obj(self, key: str, *, required: bool = True) -> Obj | None:
        if not required and not self.has(key):
            return None
        return Obj(self.need(key), self.at(key))

    def items(self, key: str, *, required: bool = True) -> list[tuple[str, Any]]:
        """The elements of a JSON array with their paths (``key[i]``)."""
        if not required and not self.has(key):
            return []
        value = self.need(key)
        if not isinstance(value, list):
            raise bad(self.at(key), f"must be a JSON array, not {type(value).__name__}")
        return [(f"{self.at(key)}[{i}]", item) for i, item in enumerate(value)]

    def fen(self, key: str) -> int:
        return to_fen(self.need(key), self.at(key))

    def yuan(self, key: str) -> int:
        return yuan_text_to_fen(self.need(key), self.at(key))

    def qty(self, key: str) -> int:
        return to_qty(self.need(key), self.at(key))

    def whole(self, key: str) -> int:
        return to_int(self.need(key), self.at(key))

    def time(self, key: str) -> datetime:
        return to_time(self.need(key), self.at(key))

    def opt_time(self, key: str) -> datetime | None:
        """An optional time; 0, "" and null mean 'not set' (how channels say it)."""
        value = self.data.get(key)
        if value is None or value == "" or value == 0 or value == "0":
            return None
        return to_time(value, self.at(key))

    def flag(self, key: str) -> bool:
        return to_flag(self.data.get(key), self.at(key))
