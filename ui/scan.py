"""The bench's scan field: takes a USB scanner's keystrokes and tells a scan from typing.

A barcode scanner is a keyboard wedge: it types the code very fast and presses Enter. A person
types slowly. :class:`ScanDetector` (no widgets, fed ``(char, timestamp_ms)``) decides which it
was from the gaps between keystrokes; :class:`ScanField` is the line edit that feeds it.

The input method is switched off on the field: with a Chinese IME active, the scanner's letters
go into the IME's composition window and the code arrives split, converted to Chinese, or not at
all. Latin-only hints and no prediction keep on-screen keyboards and IMEs out of the way too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from core.scan_rules import normalise_code

#: The longest gap between two keystrokes (and before Enter) that still counts as a scanner.
#: Scanners type with gaps well under 30 ms; fast human typing is ~80-150 ms a key. 50 ms leaves
#: room for a busy PC delivering key events a little late without taking a typist for a scanner.
SCAN_MAX_GAP_MS = 50.0
#: A scan has at least this many characters (a typist's quick double-tap is not a scan).
SCAN_MIN_CHARS = 3


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class ScanDetector:
    """Tells scanner input from human typing by keystroke timing.

    Feed every printable key with :meth:`feed`; call :meth:`finish` on Enter. The input was a
    scan when it had at least :data:`SCAN_MIN_CHARS` characters and no gap (between keys, and
    from the last key to Enter) was longer than ``max_gap_ms``.
    """

    def __init__(self, max_gap_ms: float = SCAN_MAX_GAP_MS, min_chars: int = SCAN_MIN_CHARS) -> None:
        self.max_gap_ms = max_gap_ms
        self.min_chars = min_chars
        self.reset()

    def reset(self) -> None:
        self.buffer = ""
        self._last: float | None = None
        self._slow = False

    def feed(self, char: str, timestamp_ms: float) -> None:
        if self._last is not None and timestamp_ms - self._last > self.max_gap_ms:
            self._slow = True
        self._last = timestamp_ms
        self.buffer += char

    def mark_slow(self) -> None:
        """Something no scanner does happened (editing keys, paste): this input is typing."""
        self._slow = True

    def finish(self, timestamp_ms: float) -> bool:
        """Enter was pressed at ``timestamp_ms``: was the input a scan? Resets for the next one."""
        fast = not self._slow and len(self.buffer) >= self.min_chars
        if self._last is not None and timestamp_ms - self._last > self.max_gap_ms:
            fast = False
        self.reset()
        return fast


class ScanField(QLineEdit):
    """A line edit that always takes the scanner's input, with the input method off.

    Signals:
        scanned(str): a scanner's code (fast keystrokes ending in Enter), cleaned with
            :func:`core.scan_rules.normalise_code`.
        typed(str): text a person typed (or pasted) and submitted with Enter, cleaned the same way;
            the main window may use it as a search.
        star_on_empty(): "*" pressed on an empty field (pack mode: quantity entry); the "*" is
            not typed. Only emitted when ``star_is_key`` is set.
    """

    scanned = Signal(str)
    typed = Signal(str)
    star_on_empty = Signal()

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = _now_ms) -> None:
        super().__init__(parent)
        self.setObjectName("scanField")
        self._clock = clock
        self.detector = ScanDetector()
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.setInputMethodHints(
            Qt.InputMethodHint.ImhLatinOnly
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
            | Qt.InputMethodHint.ImhPreferLatin
        )
        self.setClearButtonEnabled(False)
        #: "*" on an empty field is a key (``star_on_empty``), not text. A signal from the field
        #: itself rather than an event filter in the parent: a parent's Python event filter still
        #: receives its children's events while the parent is being destroyed, and crashed there.
        self.star_is_key = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.star_is_key and event.key() == Qt.Key.Key_Asterisk and not self.text():
            event.accept()
            self.star_on_empty.emit()
            return
        now = self._clock()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit(self.detector.finish(now))
            event.accept()
            return
        if not self.text():
            self.detector.reset()
        text = event.text()
        printable = bool(text) and text.isprintable() and not (
            event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier))
        if printable:
            self.detector.feed(text, now)
        elif event.key() not in (Qt.Key.Key_Shift, Qt.Key.Key_CapsLock):
            # Backspace, arrows, Ctrl+V: a person is editing.
            self.detector.mark_slow()
        super().keyPressEvent(event)

    def _submit(self, was_scan: bool) -> None:
        code = normalise_code(self.text())
        self.clear()
        if not code:
            return
        (self.scanned if was_scan else self.typed).emit(code)
