"""Channel intake: turn what a shop channel or a spreadsheet sends into :class:`core.model.IntakeOrder`.

Pure functions, no HTTP: the hub's endpoints call :func:`verify_signature`, then :func:`parse_push`
(``POST /api/v1/intake/{channel}``) or :func:`parse_import` (``POST /api/v1/import``).
Channel shapes and their sources are described in ``docs/channels.md``.
"""

from __future__ import annotations

from hub.intake.adapters import CHANNELS, UnknownChannel, parse_push
from hub.intake.importer import ImportResult, RowError, parse_import
from hub.intake.signing import SIGNATURE_HEADER, BadSignature, sign, verify_signature

__all__ = [
    "CHANNELS",
    "SIGNATURE_HEADER",
    "BadSignature",
    "ImportResult",
    "RowError",
    "UnknownChannel",
    "parse_import",
    "parse_push",
    "sign",
    "verify_signature",
]
