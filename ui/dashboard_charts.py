"""The dashboard's three charts (QtCharts, issue 16): the order-state ring, the hourly fulfilment line
(today beside the same weekday last week) and the ranked exception bars.

Each chart is built once and updated in place by ``update_from(figures, filters)`` (slice values, a line's points,
a bar set's values and the axis' categories): a 30 s refresh repaints, it does not rebuild the
scene. A click on a slice, a point of the line or a bar emits ``drill`` with a
:class:`core.dashboard.Drill` (the window asks the hub for the orders behind it).

Why QtCharts (PySide6-Addons): kept by the Qt Company in the same release as PySide6-Essentials
(one pin, one Qt), native widgets that paint offscreen in tests and need no web view in the bundle.
"""

from __future__ import annotations

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QPieSeries,
    QPieSlice,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from core.dashboard import Drill, Figures, Filters
from core.holds import hold_label
from core.i18n import _, language
from core.states import State, state_label

#: One colour per state (the legend also says the state in words and its count).
STATE_COLOURS = {
    State.PENDING_PAYMENT: "#9e9e9e", State.PAID: "#1e88e5", State.ALLOCATED: "#00897b",
    State.LABEL_PRINTED: "#5e35b1", State.SHIPPED: "#43a047", State.DELIVERED: "#2e7d32", State.CLOSED: "#6d4c41",
}
TODAY_COLOUR = "#1565c0"
LAST_WEEK_COLOUR = "#9e9e9e"
#: How many hold types and how many words the bars rank.
TOP_TYPES = 6
TOP_WORDS = 6


def _lang() -> str:
    return "zh_CN" if language().startswith("zh") else "en"


class _Chart(QChartView):
    """A chart view with a title, a font scale (full screen) and the ``drill`` signal.

    Signals:
        drill(object): a :class:`core.dashboard.Drill` — the figure clicked.
    """

    drill = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_.setTitle(title)
        self.chart_.setMargins(QMargins(2, 2, 2, 2))
        self.chart_.setBackgroundRoundness(4)
        self.chart_.setAnimationOptions(QChart.AnimationOption.NoAnimation)  # a refresh must not move things
        self.filters = Filters()
        self.scale_fonts(1.0)

    def scale_fonts(self, factor: float) -> None:
        """Fonts for a desk screen (1.0) or the packing floor's TV (full screen, larger)."""
        title = QFont(self.font())
        title.setPointSizeF(12 * factor)
        title.setBold(True)
        self.chart_.setTitleFont(title)
        body = QFont(self.font())
        body.setPointSizeF(10 * factor)
        self.chart_.legend().setFont(body)
        for axis in self.chart_.axes():
            axis.setLabelsFont(body)
        for series in self.chart_.series():
            if isinstance(series, QHorizontalBarSeries):
                for bar_set in series.barSets():
                    bar_set.setLabelFont(body)


class StateRing(_Chart):
    """Orders of the slice by state: a ring (a pie with a hole), one slice per state, 0 included."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Orders by state"), parent)
        self.series = QPieSeries()
        self.series.setHoleSize(0.45)
        self.slices: dict[str, QPieSlice] = {}
        for s in State:
            sl = self.series.append(state_label(s.value, _lang()), 0)
            sl.setColor(QColor(STATE_COLOURS[s]))
            sl.setBorderColor(QColor("#ffffff"))
            self.slices[s.value] = sl
        self.series.clicked.connect(self._clicked)
        self.chart_.addSeries(self.series)
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignRight)

    def update_from(self, figures: Figures, filters: Filters) -> None:
        self.filters = filters
        for state, sl in self.slices.items():
            n = figures.states.get(state, 0)
            sl.setValue(n)
            sl.setLabel(f"{state_label(state, _lang())}  {n}")

    def values(self) -> dict[str, int]:
        """What the ring shows now (tests compare it with the hub's answer)."""
        return {state: int(sl.value()) for state, sl in self.slices.items()}

    def _clicked(self, sl: QPieSlice) -> None:
        state = next(s for s, x in self.slices.items() if x is sl)
        self.click_state(state)

    def click_state(self, state: str) -> None:
        self.drill.emit(Drill("state", state, _("State: {state}").format(state=state_label(state, _lang())),
                              self.filters))


class HourLine(_Chart):
    """Fulfilment rate per hour (on time ÷ due, %) of the slice's last day, beside the same weekday a
    week before. A click on a point opens the orders due in that hour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Fulfilment rate per hour"), parent)
        self.today = QLineSeries()
        self.last_week = QLineSeries()
        for series, colour, width in ((self.last_week, LAST_WEEK_COLOUR, 2), (self.today, TODAY_COLOUR, 3)):
            pen = QPen(QColor(colour))
            pen.setWidth(width)
            if series is self.last_week:
                pen.setStyle(Qt.PenStyle.DashLine)  # not told apart by colour alone
            series.setPen(pen)
            series.setPointsVisible(True)
            self.chart_.addSeries(series)
        self.x_axis = QValueAxis()
        self.x_axis.setRange(0, 23)
        self.x_axis.setTickCount(7)
        self.x_axis.setLabelFormat("%d:00")
        self.y_axis = QValueAxis()
        self.y_axis.setRange(0, 100)
        self.y_axis.setLabelFormat("%d%%")
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        for series in (self.today, self.last_week):
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
        self.day = self.last_week_day = ""
        self.today.clicked.connect(lambda p: self._clicked(p, self.day))
        self.last_week.clicked.connect(lambda p: self._clicked(p, self.last_week_day))
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.scale_fonts(1.0)

    def update_from(self, figures: Figures, filters: Filters) -> None:
        self.filters = filters
        self.day, self.last_week_day = figures.day, figures.last_week_day
        self.today.replace([QPointF(p.hour, p.rate * 100) for p in figures.today if p.rate is not None])
        self.last_week.replace([QPointF(p.hour, p.rate * 100) for p in figures.last_week if p.rate is not None])
        self.today.setName(_("Today {day}").format(day=figures.day[5:]))
        self.last_week.setName(_("Same weekday last week {day}").format(day=figures.last_week_day[5:]))

    def points(self, which: str = "today") -> list[tuple[int, float]]:
        series = self.today if which == "today" else self.last_week
        return [(int(p.x()), round(p.y(), 6)) for p in series.points()]

    def _clicked(self, point: QPointF, day: str) -> None:
        self.click_hour(day, max(0, min(23, round(point.x()))))

    def click_hour(self, day: str, hour: int) -> None:
        self.drill.emit(Drill("due_hour", f"{day}T{hour:02d}",
                              _("Due {day} {hour}:00–{hour}:59").format(day=day[5:], hour=hour), self.filters))


class ReasonBars(_Chart):
    """Exception reasons ranked: the hold types (▲), then the words people wrote (「…」), most first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Exception reasons"), parent)
        self.set = QBarSet(_("Holds"))
        self.set.setColor(QColor("#f9a825"))
        self.set.setLabelColor(QColor("#000000"))
        self.series = QHorizontalBarSeries()
        self.series.append(self.set)
        self.series.setLabelsVisible(True)
        self.chart_.addSeries(self.series)
        self.axis = QBarCategoryAxis()
        self.axis.setTruncateLabels(False)  # the reason is the point: never "…"
        self.count_axis = QValueAxis()
        self.count_axis.setLabelFormat("%d")
        self.chart_.addAxis(self.axis, Qt.AlignmentFlag.AlignLeft)
        self.chart_.addAxis(self.count_axis, Qt.AlignmentFlag.AlignBottom)
        self.series.attachAxis(self.axis)
        self.series.attachAxis(self.count_axis)
        self.chart_.legend().hide()
        self.ranked: list[tuple[str, str, int]] = []  # (figure, value, count), top first
        self.set.clicked.connect(self._clicked)
        self.scale_fonts(1.0)

    def update_from(self, figures: Figures, filters: Filters) -> None:
        self.filters = filters
        lang = _lang()
        items = [("hold_type", t, n) for t, n in figures.hold_types[:TOP_TYPES]]
        items += [("word", w, n) for w, n in figures.words[:TOP_WORDS]]
        self.ranked = items
        labels = [self.label(f, v, lang) for f, v, _n in items]
        # a horizontal bar chart draws its first category at the bottom: the largest goes last
        self.set.remove(0, self.set.count())
        self.set.append([float(n) for _f, _v, n in reversed(items)])
        self.axis.setCategories(list(reversed(labels)) or [_("No exceptions")])
        top = max((n for _f, _v, n in items), default=0)
        self.count_axis.setRange(0, max(1, top * 1.15))
        self.count_axis.setTickCount(min(6, max(2, top + 1)))

    @staticmethod
    def label(figure: str, value: str, lang: str) -> str:
        return f"▲ {hold_label(value, lang)}" if figure == "hold_type" else f"「{value}」"

    def values(self) -> list[tuple[str, str, int]]:
        return list(self.ranked)

    def _clicked(self, index: int) -> None:
        self.click_item(len(self.ranked) - 1 - index)

    def click_item(self, rank: int) -> None:
        """The ``rank``-th bar from the top (0: the largest)."""
        figure, value, _n = self.ranked[rank]
        text = (_("Held for: {reason}").format(reason=hold_label(value, _lang())) if figure == "hold_type"
                else _("Reason mentions 「{word}」").format(word=value))
        self.drill.emit(Drill(figure, value, text, self.filters))
