"""Draws a queue row's flags as chips: colour + icon + text, never colour alone.

Why a delegate: a plain background colour is lost on a cheap monitor and means nothing to a
colour-blind packer; a chip with its glyph and word (``▲ 异常``) reads at a distance. A conflict
chip is striped so it stands out from the (also red) VIP chip even in greyscale.

Two chips always fit: the queue sizes the column with :func:`pair_width` (the two widest chips of
the operator's language). With more flags than fit, the later chips are drawn compact (colour and
glyph, the words in the tooltip); only when not even that fits are the rest counted as "+N".
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from core.flags import ONE_OF, STYLES, Flag
from ui.queue_model import FLAG_TEXTS_ROLE, FLAGS_ROLE, display_icon

PAD_X = 5
GAP = 4
LEFT = 2  # the first chip's distance from the cell's left edge


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


def pair_width(font: QFont, chip_texts: Mapping[Flag, str]) -> int:
    """The Flags column width that holds any two chips an order can carry side by side (a third and
    more are drawn glyph-only after the first chip, see :meth:`FlagDelegate._layout`).

    Args:
        font: the table's font (chips are drawn in its bold face).
        chip_texts: each flag's chip text as :meth:`ui.queue_model.QueueModel.flag_text` makes it.
    """
    fm = QFontMetrics(_bold(font))
    width = {f: fm.horizontalAdvance(t) + 2 * PAD_X for f, t in chip_texts.items()}
    pairs = [width[a] + width[b] for a, b in combinations(width, 2) if not {a, b} <= ONE_OF]
    return LEFT + max(pairs, default=max(width.values(), default=0)) + GAP + 2


class FlagDelegate(QStyledItemDelegate):
    """Paints the Flags column: one rounded chip per flag, most severe first.

    ``last_drawn`` keeps what the last paint drew (chip texts, "+N"): tests read it beside the pixels.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last_drawn: list[str] = []

    def _chips(self, index: QModelIndex | QPersistentModelIndex) -> list[tuple[Flag, str]]:
        flags = index.data(FLAGS_ROLE) or []
        texts = index.data(FLAG_TEXTS_ROLE) or []
        return [(f, f"{display_icon(STYLES[f].icon)} {t}") for f, t in zip(flags, texts, strict=False)]

    @staticmethod
    def _layout(chips: list[tuple[Flag, str]], fm: QFontMetrics, room: int) -> tuple[list[tuple[Flag, str]], int]:
        """The chips to draw and how many are left over for "+N": the first layout that fits.

        Preference: as many chips with their word as fit (most severe first), then as many of the
        rest glyph-only as fit, the others counted as "+N".
        """
        full = [text for _f, text in chips]
        compact = [display_icon(STYLES[f].icon) for f, _t in chips]

        def width(texts: list[str], left_over: int) -> int:
            parts = [fm.horizontalAdvance(t) + 2 * PAD_X for t in texts]
            if left_over:
                parts.append(fm.horizontalAdvance(f"+{left_over}"))
            return LEFT + sum(parts) + GAP * max(len(parts) - 1, 0)

        for n_full in range(len(chips), -1, -1):
            for shown_n in range(len(chips), n_full - 1, -1):
                left_over = len(chips) - shown_n
                texts = full[:n_full] + compact[n_full:shown_n]
                if width(texts, left_over) <= room:
                    return [(f, t) for (f, _x), t in zip(chips, texts, strict=False)], left_over
        return [], len(chips)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        chips = self._chips(index)
        painter.save()
        rect: QRect = option.rect
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = _bold(option.font)
        painter.setFont(font)
        fm = QFontMetrics(font)
        x = rect.x() + LEFT
        h = min(rect.height() - 4, fm.height() + 6)
        y = rect.y() + (rect.height() - h) // 2
        shown, left_over = self._layout(chips, fm, rect.width())
        self.last_drawn = []
        for flag, text in shown:
            style = STYLES[flag]
            w = fm.horizontalAdvance(text) + 2 * PAD_X
            chip = QRect(x, y, w, h)
            painter.setPen(QPen(QColor("#424242"), 1))
            painter.setBrush(QBrush(QColor(style.colour)))
            painter.drawRoundedRect(chip, 4, 4)
            if style.striped:
                painter.setBrush(QBrush(QColor(0, 0, 0, 90), Qt.BrushStyle.BDiagPattern))
                painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(QPen(QColor("#000000")))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            self.last_drawn.append(text)
            x += w + GAP
        if left_over:
            # Out of room: the rest as "+N" so nothing is silently hidden (the tooltip lists them).
            more = f"+{left_over}"
            painter.setPen(QPen(option.palette.text().color()))
            painter.drawText(QRect(x, y, max(rect.right() - x, 0), h), Qt.AlignmentFlag.AlignVCenter, more)
            self.last_drawn.append(more)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        fm = QFontMetrics(_bold(option.font))
        width = LEFT + sum(fm.horizontalAdvance(t) + 2 * PAD_X + GAP for _f, t in self._chips(index))
        return QSize(max(width, 40), fm.height() + 10)
