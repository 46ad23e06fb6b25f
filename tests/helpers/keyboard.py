"""Keys as the bench's hardware sends them: a wedge scanner (fast keystrokes + Enter) or a person.

:class:`ui.scan.ScanField` tells a scan from typing by the gaps between keystrokes, read from its
clock. :func:`wedge` and :func:`person` give the field a clock that steps like a scanner (6 ms a
key) or a person (150 ms a key) and type real key events into it, so a test drives the same code
path as the bench without sleeping.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ui.scan import ScanField

SCANNER_MS = 6.0
PERSON_MS = 150.0


class KeyClock:
    """A clock that moves ``step`` ms each time a key is read."""

    def __init__(self) -> None:
        self.t = 0.0
        self.step = SCANNER_MS

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def _clock(field: ScanField) -> KeyClock:
    clock = field._clock
    if not isinstance(clock, KeyClock):
        clock = KeyClock()
        field._clock = clock
    return clock


def wedge(field: ScanField, code: str) -> None:
    """A barcode scanner types ``code`` into ``field`` and presses Enter."""
    _clock(field).step = SCANNER_MS
    QTest.keyClicks(field, code)
    QTest.keyClick(field, Qt.Key.Key_Return)


def person(field: ScanField, text: str, *, enter: bool = True) -> None:
    """A person types ``text`` into ``field`` (and presses Enter)."""
    _clock(field).step = PERSON_MS
    QTest.keyClicks(field, text)
    if enter:
        QTest.keyClick(field, Qt.Key.Key_Return)
