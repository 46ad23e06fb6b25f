"""Scans as a USB keyboard-wedge scanner types them: the code's keys in a burst, then Enter.

``qtbot.keyClicks`` sends the keys back to back (well under the scan field's 50 ms gap), so
:class:`ui.scan.ScanField` takes them for a scanner, exactly as at the bench.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def wedge_scan(qtbot: Any, field: QWidget, code: str) -> None:
    """Type ``code`` into ``field`` as a scanner does (a fast burst of keys ending in Enter)."""
    field.setFocus()
    qtbot.keyClicks(field, code)
    qtbot.keyClick(field, Qt.Key.Key_Return)
