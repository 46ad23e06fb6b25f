"""The action signature (core/action_sig.py), pinned by a known answer.

Client and hub both call this module; the vector below was checked with an independent tool
(``printf '%s' CANONICAL | openssl dgst -sha256 -hmac KEY``), so a change to the canonical form
on either side — key order, separators, escaping of Chinese text, a field added or dropped —
fails here before benches and hub stop understanding each other.
"""

from __future__ import annotations

from core.action_sig import canonical, sign, verify

KEY = "test-key-0123456789abcdef"
ACTION = {
    "action_id": "6f1c2a1e-0000-4000-8000-000000000001",
    "seq": 42,
    "order_id": "BL20261201-000123",
    "type": "hold_released",
    "payload": {"hold_id": "H1", "reason": "主管签字", "resolution": {"packaging_checked": True}},
    "base_version": 7,
    "operator": "S001",
    "done_at": "2026-12-01T08:30:00Z",
}
CANONICAL = ('{"action_id":"6f1c2a1e-0000-4000-8000-000000000001","base_version":7,"done_at":"2026-12-01T08:30:00Z",'
             '"operator":"S001","order_id":"BL20261201-000123","payload":{"hold_id":"H1","reason":"主管签字",'
             '"resolution":{"packaging_checked":true}},"seq":42,"type":"hold_released"}')
SIG = "6e70599153e5d4bf2da2c6c28b464535a9a3856dc608676f9f9029b9781c6b04"


def test_known_answer() -> None:
    assert canonical(ACTION) == CANONICAL.encode("utf-8")
    assert sign(KEY, ACTION) == SIG


def test_fields_outside_the_signed_set_do_not_count_and_each_signed_one_does() -> None:
    assert sign(KEY, {**ACTION, "key_id": "ak_1", "sig": "x", "attempts": 3}) == SIG
    for field, other in (("action_id", "x"), ("seq", 43), ("order_id", "BL20261201-000124"), ("type", "step"),
                         ("payload", {}), ("base_version", 8), ("operator", "P001"), ("done_at", "2026-12-01T08:30:01Z")):
        assert sign(KEY, {**ACTION, field: other}) != SIG, field


def test_a_missing_payload_signs_like_an_empty_one_as_the_hub_reads_it() -> None:
    bare = {k: v for k, v in ACTION.items() if k != "payload"}
    assert sign(KEY, bare) == sign(KEY, {**ACTION, "payload": {}})


def test_verify_accepts_only_the_right_signature() -> None:
    assert verify(KEY, ACTION, SIG) and verify(KEY, ACTION, SIG.upper())
    assert not verify(KEY, ACTION, "0" * 64)
    assert not verify("other-key", ACTION, SIG)
    assert not verify(KEY, ACTION, "签名")  # non-ASCII text is simply wrong, never an exception
