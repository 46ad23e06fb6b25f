"""Draws a queue row's flags as chips: colour + icon + text, never colour alone.

Why a delegate: a plain background colour is lost on a cheap monitor and means nothing to a
colour-blind packer; a chip with its glyph and word (``⚠ 异常``) reads at a distance. A conflict
chip is striped so it stands out from the (also red) VIP chip even in greyscale.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from core.flags import STYLES, Flag
from ui.queue_model import FLAG_TEXTS_ROLE, FLAGS_ROLE, display_icon

PAD_X = 6
GAP = 4


class FlagDelegate(QStyledItemDelegate):
    """Paints the Flags column: one rounded chip per flag, most severe first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def _chips(self, index: QModelIndex | QPersistentModelIndex) -> list[tuple[Flag, str]]:
        flags = index.data(FLAGS_ROLE) or []
        texts = index.data(FLAG_TEXTS_ROLE) or []
        return [(f, f"{display_icon(STYLES[f].icon)} {t}") for f, t in zip(flags, texts, strict=False)]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        chips = self._chips(index)
        painter.save()
        rect: QRect = option.rect
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = option.font
        font.setBold(True)
        painter.setFont(font)
        fm = QFontMetrics(font)
        x = rect.x() + 2
        h = min(rect.height() - 4, fm.height() + 6)
        y = rect.y() + (rect.height() - h) // 2
        for flag, text in chips:
            style = STYLES[flag]
            w = fm.horizontalAdvance(text) + 2 * PAD_X
            if x + w > rect.right():
                # Out of room: show the rest as "+N" so nothing is silently hidden.
                more = f"+{len(chips) - chips.index((flag, text))}"
                painter.setPen(QPen(option.palette.text().color()))
                painter.drawText(QRect(x, y, rect.right() - x, h), Qt.AlignmentFlag.AlignVCenter, more)
                break
            chip = QRect(x, y, w, h)
            painter.setPen(QPen(QColor("#424242"), 1))
            painter.setBrush(QBrush(QColor(style.colour)))
            painter.drawRoundedRect(chip, 4, 4)
            if style.striped:
                painter.setBrush(QBrush(QColor(0, 0, 0, 90), Qt.BrushStyle.BDiagPattern))
                painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(QPen(QColor("#000000")))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            x += w + GAP
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        font = option.font
        font.setBold(True)
        fm = QFontMetrics(font)
        width = sum(fm.horizontalAdvance(t) + 2 * PAD_X + GAP for _f, t in self._chips(index))
        return QSize(max(width, 40), fm.height() + 10)
