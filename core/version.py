"""This client's version, and the check against the oldest version a hub still takes (no Qt).

A site updates its hub first; when a change needs every bench updated too, the hub's
``min_client_version`` setting says so. The client sends its version with every request
(:data:`HEADER`); a hub that needs a newer one refuses with ``426 client_too_old`` and the client
says so in plain words (:func:`too_old_message`) while its outbox stays exactly as it is: nothing
is pushed, nothing dropped, and an updated client sends it all.
"""

from __future__ import annotations

import re

__all__ = ["CLIENT_VERSION", "HEADER", "is_older", "parse_version", "too_old_message"]

#: The version of this code (pyproject.toml's ``version``; a test keeps the two equal).
CLIENT_VERSION = "0.1.0"
#: The request header that carries it.
HEADER = "X-PackDesk-Version"

_VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"1.2.10"`` → ``(1, 2, 10)``; None for anything else (a pre-release suffix is not a version here)."""
    text = text.strip()
    if not _VERSION_RE.match(text):
        return None
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (4 - len(parts))


def is_older(version: str, minimum: str) -> bool:
    """Whether ``version`` is older than ``minimum`` (an empty or unreadable minimum asks for nothing;
    an unreadable ``version`` is older than any minimum)."""
    need = parse_version(minimum) if minimum else None
    if need is None:
        return False
    have = parse_version(version)
    return have is None or have < need


def too_old_message(version: str, minimum: str) -> str:
    """The plain words a bench shows (in the operator's language, Chinese first)."""
    from core.i18n import _

    return _("This PC's PackDesk {version} is older than the hub accepts (at least {minimum}). "
             "Install the new version on this PC. Nothing is lost: work not yet sent stays on this PC "
             "and is sent after the update.").format(version=version, minimum=minimum)
