"""HMAC-SHA256 signatures on channel pushes.

Every channel integration signs the raw request body with a secret shared with the hub, and sends
``X-PackDesk-Signature: sha256=<hex>``. We sign the *raw bytes*, never a re-serialised JSON, because
any re-encoding (key order, spacing, escapes) would change the digest.
"""

from __future__ import annotations

import hashlib
import hmac

from core.errors import UserError

SIGNATURE_HEADER = "X-PackDesk-Signature"
_PREFIX = "sha256="


class BadSignature(UserError):
    """The push carries no signature, or one that does not match its body."""

    code = "bad_signature"


def _check_secret(secret: bytes) -> None:
    # An empty secret would make every signature forgeable: that is a configuration bug, not the
    # caller's fault, so it is a plain ValueError (a 5xx) and never a quiet pass.
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise ValueError("The channel secret must be non-empty bytes.")


def sign(secret: bytes, body: bytes) -> str:
    """Sign a request body.

    Args:
        secret: the channel's shared secret.
        body: the exact bytes sent as the request body.

    Returns:
        ``"sha256=<lowercase hex HMAC-SHA256 of body>"``, the value of :data:`SIGNATURE_HEADER`.
    """
    _check_secret(secret)
    return _PREFIX + hmac.new(bytes(secret), bytes(body), hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header_value: str | None) -> None:
    """Check a push's signature header against its body.

    The comparison is constant-time (:func:`hmac.compare_digest`) so a caller cannot learn the
    right digest byte by byte from response times. Upper-case hex and surrounding spaces are
    accepted because some HTTP stacks and hand-written integrations produce them.

    Raises:
        BadSignature: the header is missing, malformed or does not match.
        ValueError: the secret is empty (a configuration error).
    """
    _check_secret(secret)
    if header_value is None or not str(header_value).strip():
        raise BadSignature(
            f"The push has no {SIGNATURE_HEADER} header; sign the body with HMAC-SHA256 and send 'sha256=<hex>'.",
            details={"header": SIGNATURE_HEADER},
        )
    given = str(header_value).strip()
    if given[: len(_PREFIX)].lower() == _PREFIX:
        given = given[len(_PREFIX) :]
    expected = hmac.new(bytes(secret), bytes(body), hashlib.sha256).hexdigest()
    # Encode before comparing: compare_digest refuses non-ASCII str, and a hostile header may carry any.
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("utf-8", "replace")):
        raise BadSignature(
            f"The {SIGNATURE_HEADER} header does not match the body; check the shared secret and sign the raw bytes.",
            details={"header": SIGNATURE_HEADER},
        )
