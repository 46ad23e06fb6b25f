"""The queue table: a QTableView that says so when the queue is empty.

An empty queue drawn as an empty grid looks like a screen that has not loaded (or has broken);
a packer should read "this queue has no orders", or "no orders match 'xyz'" while a search
narrows it. The line is painted on the viewport, so it needs no extra widget to keep in place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QTableView, QWidget


class QueueTable(QTableView):
    """A table view that paints :attr:`empty_text` in its middle while its model has no rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._empty_text = ""

    @property
    def empty_text(self) -> str:
        """The line shown while the model has no rows (tests read it)."""
        return self._empty_text

    def set_empty_text(self, text: str) -> None:
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    def is_empty(self) -> bool:
        model = self.model()
        return model is None or model.rowCount() == 0

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._empty_text or not self.is_empty():
            return
        painter = QPainter(self.viewport())
        font = self.font()
        font.setPointSize(font.pointSize() + 3)
        painter.setFont(font)
        painter.setPen(self.palette().placeholderText().color())
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._empty_text)
        painter.end()
