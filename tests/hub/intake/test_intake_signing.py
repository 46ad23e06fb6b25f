"""HMAC-SHA256 push signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hub.intake import SIGNATURE_HEADER, BadSignature, sign, verify_signature

SECRET = b"s3cret-shared-with-the-channel"
BODY = '{"orders": [{"channel_order_no": "订单-1"}]}'.encode()


def test_sign_format_matches_hmac_sha256() -> None:
    expected = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY) == expected
    assert SIGNATURE_HEADER == "X-PackDesk-Signature"


def test_good_signature_passes() -> None:
    verify_signature(SECRET, BODY, sign(SECRET, BODY))
    verify_signature(SECRET, BODY, "  " + sign(SECRET, BODY).upper().replace("SHA256=", "sha256=") + " ")


@pytest.mark.parametrize(
    "header",
    [
        sign(b"other-secret", BODY),
        sign(SECRET, BODY + b" "),
        sign(SECRET, BODY)[:-1],
        "sha256=",
        "md5=abc",
        "sha256=签名",
        hmac.new(SECRET, BODY, hashlib.sha256).hexdigest() + "00",
    ],
)
def test_bad_signature(header: str) -> None:
    with pytest.raises(BadSignature) as info:
        verify_signature(SECRET, BODY, header)
    assert info.value.code == "bad_signature"
    assert SIGNATURE_HEADER in info.value.message


def test_bare_hex_without_prefix_is_accepted() -> None:
    verify_signature(SECRET, BODY, hmac.new(SECRET, BODY, hashlib.sha256).hexdigest())


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header: str | None) -> None:
    with pytest.raises(BadSignature) as info:
        verify_signature(SECRET, BODY, header)
    assert info.value.code == "bad_signature"
    assert "no X-PackDesk-Signature" in info.value.message


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        sign(b"", BODY)
    with pytest.raises(ValueError):
        verify_signature(b"", BODY, "sha256=00")
