"""Errors on screen: plain words a person can act on, never a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import UserError
from core.i18n import _


def show_error(parent: QWidget | None, error: UserError | str, title: str | None = None) -> None:
    """Show a UserError's message (or a plain text) in a modal box."""
    text = error.message if isinstance(error, UserError) else str(error)
    box = QMessageBox(QMessageBox.Icon.Warning, title or _("Cannot do that"), text, QMessageBox.StandardButton.Ok,
                      parent)
    box.setObjectName("errorBox")
    box.exec()


def show_bug(parent: QWidget | None, log_file: str) -> None:
    """An unexpected error: say it was logged and that no work was lost."""
    QMessageBox.critical(parent, _("Something went wrong"),
                         _("PackDesk hit an unexpected problem. Your work is saved and will sync.\n"
                           "Details were written to: {path}").format(path=log_file))
