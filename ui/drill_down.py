"""The queue page's drill-down: "the orders behind this figure" from the dashboard (issue 16).

A click on a dashboard figure brings the hub's list of the orders it counted; the queue page then
shows exactly those in the All queue, with a line above the table — "筛选：<figure> · N 单" — and a
button to clear it (Esc in the scan field clears it too, as does choosing another queue). The
filter is a row predicate set on the All queue's model through its public ``set_scope`` and a
reload on the database worker: the model's internals are not touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from core.dashboard import Drill
from core.i18n import _
from core.queues import QueueRow, queue_filter

if TYPE_CHECKING:
    from ui.main_window import MainWindow

QUEUE = "all"


class DrillDown(QObject):
    """The filter line on the queue page and the predicate behind it.

    Attributes (tests): ``active``, ``ids`` (the order IDs shown), ``label``, ``bar`` (the line).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self.ids: frozenset[str] = frozenset()
        self.label = ""
        self.hub_total = 0
        central = window.centralWidget()
        assert central is not None  # MainWindow._build set it
        self.bar = QWidget(central)
        self.bar.setObjectName("drillBar")
        self.bar.setStyleSheet("#drillBar { background: #fff8e1; border: 2px solid #f9a825; border-radius: 4px; }")
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(8, 2, 8, 2)
        self.text = QLabel(self.bar)
        self.text.setObjectName("drillText")
        self.text.setStyleSheet("font-size: 14pt; font-weight: bold; color: #5d4037;")
        row.addWidget(self.text, 1)
        self.clear_button = QPushButton(_("✖ Clear filter (Esc)"), self.bar)
        self.clear_button.setObjectName("drillClear")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.clear_button)
        self.bar.hide()
        layout: Any = central.layout()
        layout.insertWidget(layout.indexOf(window.notice) + 1, self.bar)
        window.queue_list.currentRowChanged.connect(self._queue_chosen)
        window.services.operator_changed.connect(lambda _op: self.clear())
        window.loaded.connect(self._loaded)

    def show_orders(self, drill: Drill, answer: dict[str, Any]) -> None:
        """Show the orders of the hub's ``answer`` (``order_ids``, ``total``, ``truncated``) in the All queue."""
        ids = frozenset(str(i) for i in answer.get("order_ids") or ())
        self.active, self.ids, self.label = True, ids, drill.label
        self.hub_total = int(answer.get("total") or len(ids))
        w = self.window
        w.select_queue(QUEUE)
        w.search.clear()
        w.models[QUEUE].set_scope(self._predicate(ids), None)
        self._say(None)
        self.bar.show()
        w.show_queue_page()
        w.reload()
        w.raise_()
        w.activateWindow()

    @staticmethod
    def _predicate(ids: frozenset[str]) -> Any:
        def behind_figure(row: QueueRow) -> bool:
            return row.order_id in ids
        return behind_figure

    def clear(self) -> None:
        """Back to the whole All queue."""
        if not self.active:
            return
        self.active, self.ids, self.label = False, frozenset(), ""
        w = self.window
        w.models[QUEUE].set_scope(queue_filter(QUEUE, w.settings.bench), None)
        self.bar.hide()
        w.reload()

    def _queue_chosen(self, row: int) -> None:
        if self.active and self.window.current_queue != QUEUE:
            self.clear()

    def _loaded(self) -> None:
        if self.active:
            self._say(self.window.models[QUEUE].total)

    def _say(self, here: int | None) -> None:
        text = _("Filter: {what} · {n} orders").format(what=self.label, n=self.hub_total)
        if here is not None and here < self.hub_total:
            text += " " + _("({here} of them on this PC so far)").format(here=here)
        self.text.setText(text)
