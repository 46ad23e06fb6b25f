"""Text the hub's databases can store: no NUL characters, no lone UTF-16 surrogates.

PostgreSQL refuses a NUL (``\\u0000``) in any text value, and no database driver can encode a lone
surrogate (``\\ud800``, which JSON allows as an escape) as UTF-8. Both arrive easily from a
channel's JSON or a hand-written client, and without this check they surfaced as a 500 from deep
inside the insert. Every way text enters the hub (intake, import, login, actions, query strings)
runs through :func:`find_bad_text` first, so such input is a 4xx naming the field, and nothing is
written.

Other control characters are storable and are kept: a stray tab in a buyer's note must not cost
the shop an order.

:func:`check_depth` bounds how deeply free-form JSON (an action's payload) may nest. A payload
nested a few hundred levels deep was stored, and then every answer carrying that order (the
order itself, the change feed for every client) failed to serialise: one request could stop all
syncing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")
#: Nesting deeper than this is not walked further (request bodies are size-limited anyway).
_MAX_DEPTH = 64


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    m = _BAD.search(text)
    if m is None:
        return None
    if m.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return "contains a lone UTF-16 surrogate (broken Unicode)"


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first unstorable string (dict keys included) or non-finite number (NaN, Infinity)
    inside ``value``, as ``(path, problem)``.

    Walks dicts, lists, tuples and dataclasses; ``path`` is dotted with ``[i]`` for list items,
    e.g. ``recipient.name`` or ``lines[2].sku``.
    """
    return _walk(value, path, 0)


def _walk(value: Any, path: str, depth: int) -> tuple[str, str] | None:
    if isinstance(value, str):
        problem = text_problem(value)
        return (path or "value", problem) if problem else None
    if isinstance(value, float) and not math.isfinite(value):
        # Python's JSON reader takes NaN/Infinity (and 1e400 as inf); PostgreSQL's json refuses them.
        return (path or "value", f"is {value!r}, not a finite number")
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)):
                return (f"{path}.<key>" if path else "<key>", f"has a key that {problem}")
            found = _walk(item, sub, depth + 1)
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _walk(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found = _walk(getattr(value, f.name), f"{path}.{f.name}" if path else f.name, depth + 1)
            if found:
                return found
    return None


def check_text(value: Any, path: str = "") -> Any:
    """``value`` unchanged, or ValueError naming the field (for pydantic validators)."""
    found = find_bad_text(value, path)
    if found:
        where, problem = found
        raise ValueError(problem if isinstance(value, str) else f"'{where}' {problem}")
    return value


#: Nesting allowed in a client's free-form JSON (hold details, resolutions, step details).
MAX_DEPTH = 16


def nesting_depth(value: Any) -> int:
    """How deeply dicts and lists nest in ``value`` (a scalar is 0, ``{"a": 1}`` is 1); iterative."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:  # no need to look further
                return depth
            stack.extend((child, depth) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def check_depth(value: Any, path: str = "") -> Any:
    """``value`` unchanged, or ValueError when it nests deeper than :data:`MAX_DEPTH`."""
    if nesting_depth(value) > MAX_DEPTH:
        raise ValueError(f"'{path or 'value'}' nests deeper than {MAX_DEPTH} levels")
    return value


#: The largest action payload (compact JSON, UTF-8) and the longest text inside one. A bench's
#: real payloads are well under 2 KB (a step's details, a hold's reason, a resolution); without a
#: cap four steps with 1.9 MB notes made a 7.6 MB order (docs/api.md "Input rules").
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_FIELD_CHARS = 2000


def check_payload(value: Any, path: str = "payload") -> Any:
    """``value`` unchanged, or ValueError when a text in it (or a key) is longer than
    :data:`MAX_FIELD_CHARS` or the whole is larger than :data:`MAX_PAYLOAD_BYTES` as JSON."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str) and len(node) > MAX_FIELD_CHARS:
            raise ValueError(f"'{where}' is longer than {MAX_FIELD_CHARS} characters")
        if isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str) and len(key) > MAX_FIELD_CHARS:
                    raise ValueError(f"'{where}' has a key longer than {MAX_FIELD_CHARS} characters")
                stack.append((item, f"{where}.{key}"))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node))
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"'{path}' is {size} bytes as JSON, over the limit of {MAX_PAYLOAD_BYTES}")
    return value
