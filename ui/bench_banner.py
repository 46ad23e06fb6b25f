"""The big banner of the handover and returns screens: icon + words + a reason line, coloured by
kind, with a thick frame flashed on every tone (a PC may have no speaker). Never colour alone.

A mixin for the screen's widget: :meth:`BenchBanner._build_banner` makes ``banner``,
``banner_icon``, ``banner_text`` and ``reason_label``; ``status_kind`` is the kind shown. Palettes,
not style sheets, per scan (a style sheet re-polishes the page); fixed heights, so a longer text
never moves the rows below.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

#: the frame flashed per tone (anything else: the error red)
FLASH = {"ok": "#00e676", "done": "#00e676"}


class BenchBanner:
    """See the module docstring; the class sets ``banner_styles`` (kind → background, text, icon)."""

    banner_styles: dict[str, tuple[str, str, str]]
    banner: QFrame
    banner_icon: QLabel
    banner_text: QLabel
    reason_label: QLabel
    status_kind: str = "idle"

    def _build_banner(self, root: QVBoxLayout, name: str, banner_pt: int, reason_pt: int,
                      reason_lines: int = 2) -> None:
        parent = self if isinstance(self, QWidget) else None
        self.banner = QFrame(parent)
        self.banner.setObjectName(f"{name}Banner")
        self.banner.setAutoFillBackground(True)
        self.banner.setFrameShape(QFrame.Shape.Box)
        self.banner.setLineWidth(6)
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(14, 4, 14, 4)
        self.banner_icon = QLabel(self.banner)
        self.banner_icon.setObjectName("bannerIcon")
        self.banner_text = QLabel(self.banner)
        self.banner_text.setObjectName("bannerText")
        self.banner_text.setWordWrap(True)
        for label, pt in ((self.banner_icon, banner_pt + 8), (self.banner_text, banner_pt)):
            font = QFont(label.font())
            font.setPointSize(pt)
            font.setBold(True)
            label.setFont(font)
        row.addWidget(self.banner_icon, 0)
        row.addWidget(self.banner_text, 1)
        self.banner.setFixedHeight(QFontMetrics(self.banner_text.font()).lineSpacing() * 2 + 24)
        root.addWidget(self.banner)
        self.reason_label = QLabel(parent)
        self.reason_label.setObjectName(f"{name}Reason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        font = QFont(self.reason_label.font())
        font.setPointSize(reason_pt)
        font.setBold(True)
        self.reason_label.setFont(font)
        self.reason_label.setFixedHeight(QFontMetrics(font).lineSpacing() * reason_lines + 4)
        root.addWidget(self.reason_label)

    def _paint_banner(self, frame: str | None = None) -> None:
        bg, fg, _icon = self.banner_styles[self.status_kind]
        pal = QPalette(self.banner.palette())
        pal.setColor(QPalette.ColorRole.Window, QColor(bg))
        pal.setColor(QPalette.ColorRole.WindowText, QColor(frame or bg))  # the frame's colour
        self.banner.setPalette(pal)
        for label in (self.banner_icon, self.banner_text):
            lp = QPalette(label.palette())
            lp.setColor(QPalette.ColorRole.WindowText, QColor(fg))
            label.setPalette(lp)

    def _set_banner(self, kind: str, text: str, reason: str = "") -> None:
        self.status_kind = kind
        self._paint_banner()
        self.banner_icon.setText(self.banner_styles[kind][2])
        self.banner_text.setText(text)
        pal = QPalette(self.reason_label.palette())
        pal.setColor(QPalette.ColorRole.WindowText, QColor("#b71c1c" if kind in ("error", "confirm") else "#263238"))
        self.reason_label.setPalette(pal)
        self.reason_label.setText(reason)

    def _flash(self, tone: str) -> None:
        """A visual answer to every tone: a thick frame for a moment."""
        self._paint_banner(FLASH.get(tone, "#ff1744"))
        QTimer.singleShot(250, self._unflash)

    def _unflash(self) -> None:
        self._paint_banner()
