"""The generic channel's text length limit holds whether or not a push's body is walked (issue 18).

``parse_push`` skips the walk over every text when no run of bytes between two quotes of the body
can be a text over the limit (:func:`hub.intake.generic.may_hold_long_text`); texts made of escapes
(quotes, backslashes, ``\\uXXXX``) and of multi-byte characters must still be found.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.demo import generate_orders
from core.errors import ValidationFailed
from core.model import intake_to_json
from hub.intake import parse_push
from hub.intake.generic import MAX_TEXT_LEN, may_hold_long_text

#: Texts of MAX_TEXT_LEN + 1 characters that JSON writes with escapes or multi-byte characters.
TOO_LONG = {
    "quotes": '"' * (MAX_TEXT_LEN + 1),
    "backslashes": "\\" * (MAX_TEXT_LEN + 1),
    "backslash then quote": '\\"' * ((MAX_TEXT_LEN + 2) // 2),
    "chinese": "长" * (MAX_TEXT_LEN + 1),
    "newlines": "\n" * (MAX_TEXT_LEN + 1),
    "plain": "x" * (MAX_TEXT_LEN + 1),
}


def body(note: str, *, ascii_only: bool, where: str = "buyer_note") -> bytes:
    orders: list[dict[str, Any]] = [intake_to_json(o) for o in generate_orders(3, seed=7)]
    if where == "buyer_note":
        orders[1]["buyer_note"] = note
    else:
        orders[2]["lines"][0]["name"] = note
    return json.dumps({"orders": orders}, ensure_ascii=ascii_only).encode()


@pytest.mark.parametrize("kind", sorted(TOO_LONG))
@pytest.mark.parametrize("ascii_only", [True, False])
@pytest.mark.parametrize("where", ["buyer_note", "line name"])
def test_a_text_over_the_limit_refuses_the_push(kind: str, ascii_only: bool, where: str) -> None:
    raw = body(TOO_LONG[kind], ascii_only=ascii_only, where=where)
    assert may_hold_long_text(raw)
    with pytest.raises(ValidationFailed) as info:
        parse_push("generic", raw)
    details = info.value.details
    assert isinstance(details, dict)
    assert details["index"] == (1 if where == "buyer_note" else 2)
    assert details["field"] == ("buyer_note" if where == "buyer_note" else "lines[0].name")


@pytest.mark.parametrize("ascii_only", [True, False])
def test_texts_at_the_limit_pass_and_a_plain_body_is_not_walked(ascii_only: bool) -> None:
    for note in ("长" * MAX_TEXT_LEN, "x" * MAX_TEXT_LEN, '"' * MAX_TEXT_LEN):
        orders = parse_push("generic", body(note, ascii_only=ascii_only))
        assert orders[1].buyer_note == note
    plain = body("短", ascii_only=ascii_only)
    assert not may_hold_long_text(plain)
    assert len(parse_push("generic", plain)) == 3


def test_a_utf16_body_is_always_walked() -> None:
    raw = json.dumps({"orders": [intake_to_json(generate_orders(1, seed=8)[0])]}).encode("utf-16")
    assert may_hold_long_text(raw)
