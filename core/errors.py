"""Typed errors.

A :class:`UserError` carries a message a person can act on; the UI shows it as it is.
Anything else that escapes is a bug: logged with its traceback, never shown raw.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """An error whose message says, in plain words, what went wrong and what to do.

    Args:
        message: the human text.
        code: a short stable machine code (used as ``error`` in the hub's JSON errors).
        details: anything structured that helps (field names, row numbers, current state).
    """

    code = "user_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class IllegalTransition(UserError):
    """A trigger that the transition table does not allow from the order's state."""

    code = "illegal_transition"


class OrderHeld(UserError):
    """A forward move refused because the order has an open hold."""

    code = "order_held"


class ValidationFailed(UserError):
    """Input that does not have the shape or values we need."""

    code = "validation_failed"
