"""The supervisor's dashboard window (issue 16, docs/dashboard.md): Ctrl+D, supervisor and admin.

What it shows: headline figures (orders, held, delay rate, the desk's touchpoint response), the
order-state ring, the hourly fulfilment line, the ranked exception reasons, who is behind (the
bench table), the TOP5 short SKUs and the shop connectors' health — for the slice the filter bar
names (warehouse, channel, bench, days, hours), as ``GET /api/v1/metrics/dashboard`` answers it.

How it stays live without stalling the GUI thread: one refresh at a time on the network pool
(``services.tasks.run_net``; :func:`core.dashboard.fetch` reads and checks the answer there), every
30 s and a few seconds after the change feed reports changes (coalesced: changes during a refresh
ask for one more, never a second request in flight); the answer is applied in one step, the charts
updated in place. Offline, the last figures stay with "as of hh:mm" and a plain "hub not reachable".

Every figure is clickable: the hub answers the orders behind it (``GET /api/v1/metrics/orders``)
and ``on_drill`` shows exactly those in the queue page (:mod:`ui.drill_down`).

F11: full screen for the packing floor's TV (larger fonts, no filter bar); Esc leaves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import dashboard
from core.dashboard import Drill, Figures, Filters
from core.display_names import channel_name
from core.errors import UserError
from core.i18n import N_, _, language
from core.sync.client import HubUnreachable
from core.timeutil import local_day, to_local, utcnow
from ui.dashboard_charts import HourLine, ReasonBars, StateRing
from ui.services import AppServices

log = logging.getLogger("packdesk.ui.dashboard")

#: How often the figures are read again (the issue: every 30 s).
REFRESH_MS = 30_000
#: How long changes from the feed are gathered before one refresh.
COALESCE_MS = 3_000
#: A bench whose oldest order has waited this long is shown as behind.
BEHIND_MIN = 60
#: Font factor in full screen (the packing floor's TV, read from metres away).
WALL_SCALE = 1.8
HOURS_CHOICES = ("", "0-10", "10-24", "0-12", "12-24", "8-18")

BENCH_HEADERS = (N_("Bench"), N_("Backlog"), N_("Oldest waiting"), N_("Packed / hour"), N_("Last hour"),
                 N_("Hours to clear"))
SHORT_HEADERS = (N_("SKU"), N_("Item name"), N_("Warehouse"), N_("Units short"), N_("Orders waiting"))
CONNECTOR_HEADERS = (N_("Shop"), N_("State"), N_("Lag"), N_("Orders today"))
#: connector state → (glyph, colour); the word is the state's own (never colour alone)
CONNECTOR_LOOKS = {"ok": ("✔", "#2e7d32"), "starting": ("↻", "#1565c0"), "failing": ("✖", "#c62828"),
                   "paused": ("◐", "#757575")}


def connector_word(state: str) -> str:
    return {"ok": _("working"), "starting": _("starting"), "failing": _("failing"), "paused": _("paused")}.get(
        state, state)


def wait_text(minutes: int) -> str:
    """A bench's longest wait as the web dashboard says it: "45 分钟", "15 小时 4 分" (not "904 分钟")."""
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    return _("{h} h {m} min").format(h=minutes // 60, m=minutes % 60)


class DashboardWindow(QDialog):
    """The dashboard (non-modal; its own window beside the main window).

    Args:
        services: the app's services (engine, tasks, ``orders_changed``).
        on_drill: called with (drill, hub answer) when the orders behind a clicked figure arrived.

    Signals:
        refreshed(): figures were drawn (or a failure was said): tests wait on it.
        drilled(object, object): (Drill, answer) — the orders behind a click arrived.

    Attributes (tests): ``figures`` (the last drawn), ``answered`` (refreshes finished, either
    way), ``requests`` (refreshes started), ``in_flight``.
    """

    refreshed = Signal()
    drilled = Signal(object, object)

    def __init__(self, services: AppServices, on_drill: Callable[[Drill, dict[str, Any]], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardWindow")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setWindowTitle(_("Dashboard"))
        self.services = services
        self.on_drill = on_drill
        self.figures: Figures | None = None
        self.answered = 0
        self.requests = 0
        self.in_flight = False
        self._again = False
        self._drill_token = 0
        self._closed = False
        self.wall = False
        self.status_error = False
        self._shown = Filters()  # the slice of the figures on screen (a click drills into that)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(COALESCE_MS)
        self._soon.timeout.connect(self.refresh)
        services.orders_changed.connect(self._orders_changed)
        self.resize(1366, 740)

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(4)
        self.filter_bar = QWidget(self)
        bar = QHBoxLayout(self.filter_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.warehouse = self._combo(_("Warehouse"), bar)
        self.channel = self._combo(_("Channel"), bar)
        self.bench = self._combo(_("Bench"), bar)
        today = self._site_today()
        bar.addWidget(QLabel(_("From"), self.filter_bar))
        self.first = QDateEdit(today, self.filter_bar)
        self.first.setCalendarPopup(True)
        self.first.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.first)
        bar.addWidget(QLabel(_("to"), self.filter_bar))
        self.last = QDateEdit(today, self.filter_bar)
        self.last.setCalendarPopup(True)
        self.last.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.last)
        bar.addWidget(QLabel(_("Order hours"), self.filter_bar))
        self.hours = QComboBox(self.filter_bar)
        self.hours.setObjectName("dashHours")
        self.hours.setEditable(True)
        for h in HOURS_CHOICES:
            self.hours.addItem(h.replace("-", ":00–") + ":00" if h else _("Whole day"), h)
        self.hours.setToolTip(_("Orders that came in between these hours, e.g. 10-24: received after 10:00"))
        bar.addWidget(self.hours)
        self.apply_button = QPushButton(_("Apply"), self.filter_bar)
        self.apply_button.setObjectName("dashApply")
        self.apply_button.clicked.connect(self.refresh)
        bar.addWidget(self.apply_button)
        bar.addStretch(1)
        root.addWidget(self.filter_bar)

        self.status = QLabel(self)
        self.status.setObjectName("dashStatus")
        self.status.setWordWrap(True)
        root.addWidget(self.status)

        heads = QHBoxLayout()
        self.total_button = self._headline("dashTotal", heads)
        self.held_button = self._headline("dashHeld", heads)
        self.delay_button = self._headline("dashDelay", heads)
        self.touch_label = QLabel(self)
        self.touch_label.setObjectName("dashTouchpoint")
        self.touch_label.setToolTip(_("Customer touchpoint response today (desk tickets, docs/tickets.md)"))
        heads.addWidget(self.touch_label, 2)
        self.held_button.clicked.connect(lambda: self._drill(Drill("held", "", _("Held orders"), self._shown)))
        self.delay_button.clicked.connect(lambda: self._drill(Drill("late", "", _("Late or not shipped"), self._shown)))
        self.total_button.clicked.connect(lambda: self._drill(Drill("total", "", _("Orders of the slice"), self._shown)))
        root.addLayout(heads)

        grid = QGridLayout()
        grid.setSpacing(4)
        self.ring = StateRing(self)
        self.line = HourLine(self)
        self.bars = ReasonBars(self)
        for col, chart in enumerate((self.ring, self.line, self.bars)):
            chart.drill.connect(self._drill)
            chart.setMinimumHeight(220)
            grid.addWidget(chart, 0, col)
        self.bench_table = self._table("dashBenches", BENCH_HEADERS)
        self.short_table = self._table("dashShort", SHORT_HEADERS, stretch=1)
        self.connector_table = self._table("dashConnectors", CONNECTOR_HEADERS, stretch=0)
        self.bench_table.cellClicked.connect(lambda r, _c: self.click_bench(r))
        self.short_table.cellClicked.connect(lambda r, _c: self.click_short(r))
        self.connector_table.cellClicked.connect(lambda r, _c: self.click_connector(r))
        for col in range(3):
            grid.setColumnStretch(col, 1)
        root.addLayout(grid, 3)
        # the tables' own widths: the bench table has the most columns (who is behind comes first)
        tables = QHBoxLayout()
        tables.setSpacing(4)
        tables.addWidget(self._titled(_("Who is behind"), self.bench_table), 5)
        tables.addWidget(self._titled(_("TOP5 short-stock SKUs"), self.short_table), 4)
        tables.addWidget(self._titled(_("Shop connectors"), self.connector_table), 3)
        root.addLayout(tables, 2)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        self.wall_button = QPushButton(_("Full screen (F11)"), self)
        self.wall_button.setObjectName("dashWall")
        self.wall_button.clicked.connect(self.toggle_wall)
        buttons.addButton(self.wall_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.refresh_button = QPushButton(_("Refresh (F5)"), self)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        root.addWidget(buttons)
        self.wall_key = QShortcut(QKeySequence("F11"), self, self.toggle_wall)
        self.wall_key.setWhatsThis(_("Full screen for a wall TV (larger figures); Esc leaves it"))
        self.refresh_key = QShortcut(QKeySequence("F5"), self, self.refresh)
        self.refresh_key.setWhatsThis(_("Read the figures again now"))
        self._apply_scale()

    def _combo(self, label: str, bar: QHBoxLayout) -> QComboBox:
        bar.addWidget(QLabel(label, self.filter_bar))
        box = QComboBox(self.filter_bar)
        box.setEditable(True)
        box.addItem(_("All"), "")
        box.setMinimumContentsLength(8)
        bar.addWidget(box)
        return box

    def _headline(self, name: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(self)
        button.setObjectName(name)
        button.setFlat(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        row.addWidget(button, 1)
        return button

    def _table(self, name: str, headers: tuple[str, ...], stretch: int = -1) -> QTableWidget:
        table = QTableWidget(0, len(headers), self)
        table.setObjectName(name)
        table.setHorizontalHeaderLabels([_(h) for h in headers])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if stretch >= 0:  # the one column that takes what is left (elided if it must): no side scroll
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        else:
            header.setStretchLastSection(True)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setToolTip(_("Click a row to open its orders in the queue"))
        return table

    def _titled(self, title: str, table: QTableWidget) -> QWidget:
        box = QWidget(self)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        label = QLabel(title, box)
        label.setObjectName("dashTableTitle")
        lay.addWidget(label)
        lay.addWidget(table, 1)
        return box

    @staticmethod
    def _site_today() -> QDate:
        d = local_day(utcnow())
        return QDate(d.year, d.month, d.day)

    # -- filters ----------------------------------------------------------------------------------
    def filters(self) -> Filters:
        """The slice the filter bar names (an "All" choice sends nothing)."""
        def pick(box: QComboBox) -> str:
            text = box.currentText().strip()
            data = box.currentData()
            return str(data) if data is not None and box.itemText(box.currentIndex()) == text else text
        hours = pick(self.hours)
        return Filters(pick(self.warehouse), pick(self.channel), pick(self.bench),
                       self.first.date().toString("yyyy-MM-dd"), self.last.date().toString("yyyy-MM-dd"), hours)

    def _learn(self, box: QComboBox, values: list[str]) -> None:
        """Offer the values the hub's answer named (benches, shops) in a filter box, once each."""
        known = {box.itemData(i) for i in range(box.count())}
        for v in sorted(set(values) - known):
            box.addItem(channel_name(v, language()) if box is self.channel else v, v)

    def show_fitted(self) -> None:
        """Show it fitted to the screen's free area: maximised on a small screen (1366×768 with a task
        bar), else 1366×768 centred — so nothing is cut off below the task bar."""
        screen = self.screen() or QApplication.primaryScreen()
        free = screen.availableGeometry() if screen is not None else None
        if free is not None and (free.width() < 1500 or free.height() < 850):
            self.showMaximized()
            return
        self.resize(1366, 768)
        if free is not None:
            self.move(free.center() - self.rect().center())
        self.show()

    # -- refresh (network pool) --------------------------------------------------------------------
    def start(self) -> None:
        """Show the window and start refreshing (now, then every 30 s)."""
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Read the figures again — unless a read is in flight: then once more when it is back."""
        if self._closed:
            return
        if self.in_flight:
            self._again = True
            return
        engine = self.services.engine
        try:
            filters = self.filters()
            filters.params()
        except ValueError as exc:
            self._say(str(exc), error=True)
            self.answered += 1
            self.refreshed.emit()
            return
        if engine is None:
            self._say(_("There is no hub to ask; the figures are kept at the hub."), error=True)
            self.answered += 1
            self.refreshed.emit()
            return
        self.in_flight = True
        self.requests += 1
        self.services.tasks.run_net(lambda: dashboard.fetch(engine, filters),
                                    lambda figures: self._arrived(figures, filters), self._failed)

    def _orders_changed(self, ids: list[str], _initiator: object = None) -> None:
        """The change feed moved orders: refresh soon, once for a burst of changes."""
        if ids and not self._closed and self.isVisible() and not self._soon.isActive():
            self._soon.start()

    def _finish(self) -> None:
        self.in_flight = False
        self.answered += 1
        self.refreshed.emit()
        if self._again and not self._closed:
            self._again = False
            self.refresh()

    def _arrived(self, figures: Figures, filters: Filters) -> None:
        self.apply(figures, filters)
        self._finish()

    def _failed(self, exc: UserError) -> None:
        when = self._as_of()
        text = _("Hub not reachable.") if isinstance(exc, HubUnreachable) else exc.message
        self._say(f"{when}  ✖ {text}" if when else f"✖ {text}", error=True)
        self._finish()

    # -- drawing (GUI thread, one step) ------------------------------------------------------------
    def apply(self, figures: Figures, filters: Filters) -> None:
        """Draw an answer: headline, charts in place, tables."""
        self.figures = figures
        self._shown = filters
        self.total_button.setText(_("Orders: {n}").format(n=figures.total))
        self.held_button.setText(_("▲ Held: {n}").format(n=figures.held))
        rate = "—" if figures.delay_rate is None else f"{figures.delay_rate * 100:.1f}%"
        self.delay_button.setText(_("Delay rate: {rate} ({late} of {due})").format(
            rate=rate, late=figures.late, due=figures.due))
        self.touch_label.setText(self._touch_text(figures.touchpoint))
        self.ring.update_from(figures, filters)
        self.line.update_from(figures, filters)
        self.bars.update_from(figures, filters)
        self._fill_benches(figures)
        self._fill_short(figures)
        self._fill_connectors(figures)
        self._learn(self.bench, [b.bench for b in figures.benches])
        self._learn(self.channel, [c.platform for c in figures.connectors])
        self._learn(self.warehouse, [s.warehouse for s in figures.short])
        self._say(self._as_of())

    @staticmethod
    def _touch_text(total: dict[str, Any] | None) -> str:
        if not total:
            return _("Touchpoint: —")
        median = total.get("reply_median_s")
        share = total.get("closed_within_4h_share")
        reply = "—" if not isinstance(median, (int, float)) else _("{n} min").format(n=round(median / 60))
        within = "—" if not isinstance(share, (int, float)) else f"{share * 100:.0f}%"
        return _("Touchpoint: first reply {reply} (median) · closed within 4 h {within} · {n} contacts").format(
            reply=reply, within=within, n=total.get("contacts", 0))

    def _as_of(self) -> str:
        if self.figures is None:
            return ""
        return _("As of {time}").format(time=to_local(self.figures.at).strftime("%H:%M"))

    def _fill(self, table: QTableWidget, rows: list[list[tuple[str, str | None]]]) -> None:
        """Rows of (text, colour) cells; the table keeps its items where it can (no flicker, no rebuild)."""
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, (text, colour) in enumerate(cells):
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(r, c, item)
                item.setText(text)
                item.setForeground(QColor(colour) if colour else QColor("#000000"))

    def _fill_benches(self, figures: Figures) -> None:
        rows = []
        for b in figures.benches:
            behind = (b.oldest_wait_min or 0) >= BEHIND_MIN
            wait = "—" if b.oldest_wait_min is None else wait_text(b.oldest_wait_min)
            rows.append([(f"‼ {b.bench} · {_('behind')}" if behind else b.bench, "#e65100" if behind else None),
                         (str(b.backlog), None), (wait, "#e65100" if behind else None),
                         (f"{b.per_hour:g}", None), (str(b.packed_last_hour), None),
                         ("—" if b.hours_to_clear is None else _("{n} h").format(n=f"{b.hours_to_clear:g}"), None)])
        self._fill(self.bench_table, rows)

    def _fill_short(self, figures: Figures) -> None:
        self._fill(self.short_table, [[("✘ " + s.sku, "#c62828"), (s.name or "—", None), (s.warehouse, None),
                                       (str(s.short), "#c62828"), (str(s.orders), None)] for s in figures.short])

    def _fill_connectors(self, figures: Figures) -> None:
        rows = []
        for c in figures.connectors:
            glyph, colour = CONNECTOR_LOOKS.get(c.state, ("•", "#000000"))
            lag = "—" if c.lag_s is None else _("{n} min").format(n=round(float(c.lag_s) / 60))
            rows.append([(f"{channel_name(c.platform, language())} · {c.shop_id}", None),
                         (f"{glyph} {connector_word(c.state)}", colour), (lag, None), (str(c.orders_today), None)])
        self._fill(self.connector_table, rows)
        self.connector_table.setToolTip(_("No shop connectors at this hub") if not rows
                                        else _("Click a row to open its orders in the queue"))

    def _say(self, text: str, *, error: bool = False) -> None:
        size = round(12 * (WALL_SCALE if self.wall else 1))
        self.status.setStyleSheet(f"color: {'#c62828' if error else '#455a64'}; font-size: {size}pt;")
        self.status.setText(text)
        self.status_error = error

    # -- clicks → the orders behind a figure -------------------------------------------------------
    def click_bench(self, row: int) -> None:
        if self.figures is not None and 0 <= row < len(self.figures.benches):
            b = self.figures.benches[row].bench
            self._drill(Drill("bench_backlog", b, _("Backlog of bench {bench}").format(bench=b), self._shown))

    def click_short(self, row: int) -> None:
        if self.figures is not None and 0 <= row < len(self.figures.short):
            s = self.figures.short[row]
            where = Filters(s.warehouse, self._shown.channel, self._shown.bench, self._shown.first, self._shown.last,
                            self._shown.hours)
            self._drill(Drill("short_sku", s.sku, _("Waiting for {sku} ({warehouse})").format(
                sku=s.sku, warehouse=s.warehouse), where))

    def click_connector(self, row: int) -> None:
        if self.figures is not None and 0 <= row < len(self.figures.connectors):
            p = self.figures.connectors[row].platform
            self._drill(Drill("channel", p, _("Orders from {shop}").format(shop=channel_name(p, language())),
                              self._shown))

    def _drill(self, drill: Drill) -> None:
        """Ask the hub for the orders behind a figure; the latest click wins."""
        engine = self.services.engine
        if engine is None:
            return
        self._drill_token += 1
        token = self._drill_token
        params = drill.params()
        self._say(_("Opening the orders behind “{what}”…").format(what=drill.label))

        def done(answer: dict[str, Any]) -> None:
            if token != self._drill_token or self._closed:
                return
            self._say(self._as_of())
            self.drilled.emit(drill, answer)
            if self.on_drill is not None:
                self.on_drill(drill, answer)

        def failed(exc: UserError) -> None:
            if token == self._drill_token and not self._closed:
                self._say(_("Could not open those orders: {why}").format(
                    why=_("Hub not reachable.") if isinstance(exc, HubUnreachable) else exc.message), error=True)

        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.metrics_orders(params)), done, failed)

    # -- full screen (wall TV) ---------------------------------------------------------------------
    def toggle_wall(self) -> None:
        """F11: full screen with larger figures and no filter bar; again (or Esc) to leave."""
        self.wall = not self.wall
        if self.wall:
            self.showFullScreen()
        else:
            self.showNormal()
        self.filter_bar.setVisible(not self.wall)
        self.buttons.setVisible(not self.wall)
        self._apply_scale()

    def _apply_scale(self) -> None:
        factor = WALL_SCALE if self.wall else 1.0
        for chart in (self.ring, self.line, self.bars):
            chart.scale_fonts(factor)
        head = round(15 * factor)
        for b in (self.total_button, self.held_button, self.delay_button):
            b.setStyleSheet(f"font-size: {head}pt; font-weight: bold; text-align: left; padding: 2px 6px;")
        self.touch_label.setStyleSheet(f"font-size: {round(12 * factor)}pt;")
        table_pt = round(11 * factor)
        for table in (self.bench_table, self.short_table, self.connector_table):
            table.setStyleSheet(f"QTableWidget, QHeaderView::section {{ font-size: {table_pt}pt; }}")
            table.verticalHeader().setDefaultSectionSize(round(table_pt * 2.3))
        for label in self.findChildren(QLabel, "dashTableTitle"):
            label.setStyleSheet(f"font-size: {round(12 * factor)}pt; font-weight: bold;")
        self._say(self.status.text(), error=self.status_error)

    def reject(self) -> None:
        """Esc: leave full screen first; otherwise close the dashboard."""
        if self.wall:
            self.toggle_wall()
            return
        super().reject()

    def done(self, code: int) -> None:
        self._closed = True
        self._timer.stop()
        self._soon.stop()
        super().done(code)
