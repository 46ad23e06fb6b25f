"""A short confirmation over the window: "Exception resolved on BL…", in the operator's language.

Why not a message box: a confirmation the operator must click away slows the bench down and is
soon clicked blind; why not only the status bar: its left side is where 离线 · N 待同步 lives and a
message there is missed. A toast sits at the bottom of the window, green, readable at arm's
length, for a few seconds, and never takes the keyboard focus (the scanner keeps typing into the
scan field).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

#: How long a toast stays (long enough to read two lines at a glance away from the scanner).
TOAST_MS = 6000


class Toast(QLabel):
    """A confirmation label floating at the bottom centre of ``host`` (see the module docstring)."""

    def __init__(self, host: QWidget, text: str, *, ms: int = TOAST_MS) -> None:
        super().__init__(text, host)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setStyleSheet("background: #1b5e20; color: #ffffff; font-size: 15pt; padding: 10px 18px;"
                           " border-radius: 6px;")
        self._host = host
        self._place()
        self.show()
        self.raise_()
        QTimer.singleShot(ms, self._expire)

    def _expire(self) -> None:
        self.hide()
        self.deleteLater()

    def _place(self) -> None:
        width = min(max(self._host.width() - 80, 200), 720)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((self._host.width() - width) // 2, max(self._host.height() - self.height() - 48, 0))


def show_toast(parent: QWidget | None, text: str) -> Toast | None:
    """Show ``text`` over ``parent``'s window; None when there is no window to show it on."""
    if parent is None:
        return None
    host = parent.window()
    for old in host.findChildren(Toast):  # one at a time: the newest says what just happened
        old.hide()
    return Toast(host, text)
