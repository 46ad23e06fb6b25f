"""A status-bar label that warns when a shop connector at the hub has failed for minutes.

Hidden while all is well (or while the hub is unreachable: offline is the sync button's to show).
It asks the hub every :data:`POLL_MS` on the task runner's network pool; the words come from
:mod:`core.connector_health`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from core.connector_health import tooltip_text, warning_text
from core.errors import UserError
from ui.services import AppServices

POLL_MS = 60_000


class ConnectorStatusLabel(QLabel):
    """Shows :func:`core.connector_health.warning_text` of the hub's connector health."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectorStatus")
        self.services = services
        self.setStyleSheet("QLabel { color: #e65100; font-weight: bold; padding: 2px 8px; }")
        self.hide()
        #: How many answers (health or failure) it has drawn: what a test waits on.
        self.answered = 0
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        if services.engine is not None:
            self.timer.start()
            QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        engine = self.services.engine
        if engine is None:
            return
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.connector_health()), self.show_health,
                                    self._unknown)

    def show_health(self, health: dict[str, Any]) -> None:
        text = warning_text(health)
        self.setText(text)
        self.setToolTip(tooltip_text(health))
        self.setVisible(bool(text))
        self.answered += 1

    def _unknown(self, _error: UserError) -> None:
        self.hide()  # offline or not allowed: nothing to say about the shops from here
        self.answered += 1
