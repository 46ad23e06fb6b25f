"""Property: whatever a channel sends, parse_push answers with orders or a UserError — never a crash."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import UserError
from hub.intake import CHANNELS, parse_push

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"
_FILES = {
    "douyin": "douyin_push.json",
    "pinduoduo": "pinduoduo_order.json",
    "wechat": "wechat_push.json",
    "xiaohongshu": "xiaohongshu_push.json",
    "generic": "generic_push.json",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        ["19.90", "1e999999", "NaN", "-1", "0", "2026-02-22 10:15:30", "1771726530000", "", "是"]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)


def _call(channel: str, body: bytes) -> None:
    with contextlib.suppress(UserError):  # anything else (KeyError, InvalidOperation…) fails the test
        parse_push(channel, body)


@settings(max_examples=300, deadline=None)
@given(channel=st.sampled_from(CHANNELS), body=st.binary(max_size=300))
def test_arbitrary_bytes(channel: str, body: bytes) -> None:
    _call(channel, body)


@settings(max_examples=300, deadline=None)
@given(channel=st.sampled_from(CHANNELS), doc=json_values)
def test_arbitrary_json(channel: str, doc: Any) -> None:
    _call(channel, json.dumps(doc).encode())


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_realistic_push_with_one_field_replaced(data: st.DataObject) -> None:
    """Mutating one field of a real fixture reaches deep into each adapter's field handling."""
    channel = data.draw(st.sampled_from(CHANNELS))
    doc = json.loads((FIXTURES / _FILES[channel]).read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    node = doc
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()):
        node[path[-1]] = data.draw(json_values)
    elif isinstance(node, dict):
        del node[path[-1]]
    else:
        node.pop(path[-1])
    _call(channel, json.dumps(doc, ensure_ascii=False).encode())
