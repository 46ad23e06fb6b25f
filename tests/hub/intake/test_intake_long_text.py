"""The generic channel's text length limit, and the field it names (issue 18).

The walk first only measures and names the field in a second walk (``_check_text_lengths``):
texts written with escapes (quotes, backslashes, newlines) or multi-byte characters are counted
in characters, anywhere in any order of the push.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.demo import generate_orders
from core.errors import ValidationFailed
from core.model import intake_to_json
from hub.intake import parse_push
from hub.intake.generic import MAX_TEXT_LEN

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
    with pytest.raises(ValidationFailed) as info:
        parse_push("generic", raw)
    details = info.value.details
    assert isinstance(details, dict)
    assert details["index"] == (1 if where == "buyer_note" else 2)
    assert details["field"] == ("buyer_note" if where == "buyer_note" else "lines[0].name")


@pytest.mark.parametrize("ascii_only", [True, False])
def test_texts_at_the_limit_pass(ascii_only: bool) -> None:
    for note in ("长" * MAX_TEXT_LEN, "x" * MAX_TEXT_LEN, '"' * MAX_TEXT_LEN, "\\" * MAX_TEXT_LEN):
        orders = parse_push("generic", body(note, ascii_only=ascii_only))
        assert orders[1].buyer_note == note
