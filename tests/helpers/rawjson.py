"""JSON bodies with raw number literals in them (``1e999999999``, a 5,000-digit integer).

``json.dumps`` cannot write such numbers (it writes floats as ``inf`` and is slow with huge ints),
and they are exactly what a hostile client sends, so tests put a placeholder where the number
goes and swap the literal in.
"""

from __future__ import annotations

import json
from typing import Any

RAW = "__RAW_LITERAL__"


def with_literal(doc: Any, path: tuple[Any, ...], literal: str) -> bytes:
    """``doc`` as JSON with the value at ``path`` replaced by ``literal`` written as is.

    A path element ``"@data"`` descends into a string field ``data`` that holds JSON itself
    (抖店 and 小红书 messages), so the literal lands inside that inner document.
    """
    doc = json.loads(json.dumps(doc))
    if "@data" in path:
        i = path.index("@data")
        node = doc
        for key in path[:i]:
            node = node[key]
        inner = with_literal(json.loads(node["data"]), path[i + 1:], literal).decode()
        node["data"] = RAW
        return json.dumps(doc, ensure_ascii=False).replace(json.dumps(RAW), json.dumps(inner, ensure_ascii=False)).encode()
    if not path:
        return literal.encode()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = RAW
    return json.dumps(doc, ensure_ascii=False).replace(json.dumps(RAW), literal).encode()


def leaf_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path inside ``doc`` (objects and arrays), descending into JSON held in ``data`` strings."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "data" and isinstance(v, str) and v.startswith("{"):
                out += leaf_paths(json.loads(v), (*prefix, "@data"))
            else:
                out += leaf_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += leaf_paths(v, (*prefix, i))
    return out
