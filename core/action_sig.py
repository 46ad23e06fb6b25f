"""Action signatures: proof that an outbox action was written by the operator it names.

A bench pushes its whole outbox under whoever is logged in when the network is back, so the hub
cannot take an action's ``operator`` field on trust (a packer could name a supervisor). At every
online login the hub gives the device an *action key* for that operator (``key_id`` + a random
secret, valid for a time window); the client signs each action at the moment it is written, with
the key of the operator logged in then. The hub checks the signature with its copy of the key.

Both sides call :func:`canonical` and :func:`sign` from here, so they cannot drift apart; a
known-answer test (``tests/core/test_action_sig.py``) pins the bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

#: The action fields the signature covers, in the canonical JSON object (keys sorted anyway).
SIGNED_FIELDS = ("action_id", "seq", "order_id", "type", "payload", "base_version", "operator", "done_at")


def canonical(action: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: the signed fields as compact, key-sorted UTF-8 JSON.

    A missing field counts as ``null`` (a missing ``payload`` as ``{}``, as the hub reads it), so a
    client that leaves an optional field out and a hub that fills in the default sign the same.
    """
    body = {k: action.get(k) for k in SIGNED_FIELDS}
    if body["payload"] is None:
        body["payload"] = {}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sign(key: str, action: Mapping[str, Any]) -> str:
    """HMAC-SHA256 of :func:`canonical` under the action key (its text as UTF-8), as lowercase hex."""
    return hmac.new(key.encode("utf-8"), canonical(action), hashlib.sha256).hexdigest()


def verify(key: str, action: Mapping[str, Any], sig: str) -> bool:
    """Whether ``sig`` is :func:`sign` of ``action`` under ``key`` (constant-time compare)."""
    if not isinstance(sig, str) or not sig.isascii():
        return False  # compare_digest refuses non-ASCII text; such a signature is wrong anyway
    return hmac.compare_digest(sign(key, action), sig.lower())
