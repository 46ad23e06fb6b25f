"""The sync status in the status bar: Online / Offline · N pending · last sync HH:MM.

Offline is a state, not an error (STYLE.md §5): the bar changes its words and colour, nothing
pops up. Clicking it lists the recent sync problems (the last :data:`KEEP_ERRORS` distinct
``SyncState.last_error`` values, with their times) in plain words, for the packer to read to
support.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QListWidget, QPushButton, QVBoxLayout, QWidget

from core.i18n import _
from core.sync import SyncState
from core.timeutil import to_local, utcnow
from ui.services import AppServices

KEEP_ERRORS = 20

_COLOURS = {"online": "#2e7d32", "syncing": "#1565c0", "offline": "#c62828"}


def status_text(state: SyncState | None) -> str:
    """The words of the status bar for a sync state."""
    if state is None:
        return _("Local only (no hub)")
    word = {"online": _("Online"), "offline": _("Offline"), "syncing": _("Syncing")}.get(state.status, state.status)
    if state.outdated:  # the hub needs a newer PackDesk: say it where the packer looks, not only on click
        word = "▲ " + _("Update PackDesk on this PC (click for details)")
    parts = [word, _("{n} pending").format(n=state.pending)]
    if state.conflicts:
        parts.append(_("{n} conflicts").format(n=state.conflicts))
    last = to_local(state.last_success).strftime("%H:%M") if state.last_success else "—"
    parts.append(_("last sync {time}").format(time=last))
    return " · ".join(parts)


class SyncStatusButton(QPushButton):
    """A flat button in the status bar showing the sync state; click: recent sync problems.

    Signals:
        errors_shown(): the recent-problems dialog was opened (tests).
    """

    errors_shown = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.setFlat(True)
        self.services = services
        self.state: SyncState | None = services.sync_state()
        self.errors: deque[tuple[datetime, str]] = deque(maxlen=KEEP_ERRORS)
        self.dialog: QDialog | None = None
        self.setToolTip(_("Click to see recent sync problems"))
        self.clicked.connect(self.show_errors)
        services.sync_state_changed.connect(self.set_state)
        self.set_state(self.state)

    def set_state(self, state: SyncState | None) -> None:
        previous = self.state
        self.state = state
        # A new problem (not the same one repeated by every retry) joins the recent list.
        if state is not None and state.last_error and (previous is None or previous.last_error != state.last_error):
            self.errors.append((utcnow(), state.last_error))
        colour = "#e65100" if state is not None and state.outdated else _COLOURS.get(
            state.status if state else "offline", "#555555")
        self.setText(("● " if state is not None else "") + status_text(state))
        self.setStyleSheet(f"QPushButton {{ color: {colour}; font-size: 13pt; font-weight: bold; "
                           "padding: 2px 8px; border: none; text-align: left; }")

    def error_lines(self) -> list[str]:
        """The recent problems, newest first, with site-local times."""
        return [f"{to_local(at).strftime('%m-%d %H:%M:%S')}  {text}" for at, text in reversed(self.errors)]

    def show_errors(self) -> None:
        dialog = QDialog(self.window())
        dialog.setObjectName("syncErrors")
        dialog.setWindowTitle(_("Recent sync problems"))
        layout = QVBoxLayout(dialog)
        listing = QListWidget(dialog)
        lines = self.error_lines() or [_("No sync problems since PackDesk started.")]
        listing.addItems(lines)
        listing.setWordWrap(True)
        layout.addWidget(listing)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.resize(640, 360)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        self.errors_shown.emit()
