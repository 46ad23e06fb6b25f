"""The main window: queues with counts, search, order detail, scan field, pack page, sync status.

Keyboard first: the scan field at the top keeps the keyboard whenever the user is not typing in
another field; arrow keys and Page Up/Down in it move the queue's selection, Enter on an empty scan
field opens the selected order (in pack mode, or its exception dialog in the Exceptions queue).
A scan opens the scanned order in the pack page (a :class:`QStackedWidget`: queues ↔ pack); a scan
that opens nothing is answered on the queue page itself — red, the error tone and plain words
(another bench's order, no such order, not a barcode of ours) — by :mod:`core.queue_scan`.

Each page has its own keys: the window's actions work on the queue page only (a disabled action
takes no key), so pack mode's own F1/F5/F7/F9 are not taken by them; :mod:`ui.keys` reads every
key per page for F1 and docs/keys.md. The window fits the screen and remembers its geometry per
station (:mod:`ui.window_geometry`). Ctrl+Shift+Q hands the bench to the next shift's operator.

Data flow (STYLE.md §2–4): every queue is a :class:`ui.queue_model.QueueModel` over rows read
in one SQL query on the database worker; ``services.orders_changed`` re-reads only the changed
orders (coalesced while a read is in flight) and merges them into every queue.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.display_names import carrier_name
from core.errors import UserError
from core.flags import Flag
from core.holds import HOLD_TYPES, hold_label
from core.i18n import N_, _, language
from core.queue_scan import Answer, QueueScan, ask_hub, look_up_scan
from core.queues import QueueRow, all_orders, load_rows_by_id, queue_filter
from core.roles import Role
from core.scan_rules import normalise_code
from core.states import PRINTABLE_STATES, State
from core.waves import WaveChoice, WaveRow, wave_choices, wave_ids
from ui import window_geometry
from ui.connector_status import ConnectorStatusLabel
from ui.desk_actions import DeskActions
from ui.drill_down import DrillDown
from ui.exception_dialog import open_exception_dialog
from ui.flag_delegate import FlagDelegate, pair_width
from ui.handover_view import HandoverView
from ui.keys import help_html, mode_keys
from ui.order_detail import OrderDetail
from ui.pack_view import PackView
from ui.print_service import PrintService
from ui.queue_feed import QueueFeed
from ui.queue_model import Column, QueueModel, state_text
from ui.queue_table import QueueTable
from ui.reports import ReportActions
from ui.returns_view import ReturnsView
from ui.scan import ScanField
from ui.services import AppServices
from ui.status_bar import SyncStatusButton
from ui.ticket_view import TicketView
from ui.wave_dialog import WaveDialog

log = logging.getLogger("packdesk.ui.main")

TABLE_PT = 13
FIGURE_PT = 17

#: (key, label) of the queues, in Ctrl+1… order.
QUEUES: list[tuple[str, str]] = [
    ("bench", N_("My bench")),
    ("vip", N_("VIP")),
    ("exceptions", N_("Exceptions")),
    ("to_print", N_("To print")),
    ("done", N_("Packed / done today")),
    ("all", N_("All benches")),
]

ROLE_NAMES = {"packer": N_("Packer"), "desk": N_("Desk"), "supervisor": N_("Supervisor"), "admin": N_("Admin")}

#: The queue page's answer line: (background, text colour, icon) per kind.
NOTICE_STYLES: dict[str, tuple[str, str, str]] = {
    "ok": ("#1b5e20", "#ffffff", "✔"),
    "error": ("#b71c1c", "#ffffff", "✖"),
    "info": ("#0d47a1", "#ffffff", "▶"),
}
NOTICE_PT = 18


#: How long the search box waits after a keystroke before the detail pane reads the selected order.
DETAIL_AFTER_TYPING_MS = 150


def search_hint() -> str:
    """The order search box's hint, with its key (read in the operator's language when asked)."""
    return _("Search: order ID, channel order no, phone, name, waybill, SKU (Ctrl+F)")


class MainWindow(QMainWindow):
    """The bench / desk window.

    Args:
        services: the app's service layer (store, engine, tasks, operator).
        print_service: the shared print service (made here when not given).

    Signals:
        loaded(): a full load of the queues finished.
        changes_applied(list): changed order IDs were merged into the queues.
        current_order_changed(str): the selected order ("" when none).
        scan_answered(object): a queue-page scan was answered (a :class:`core.queue_scan.QueueScan`).
        operator_switched(object): the next shift's operator logged in (an ``Operator``).
    """

    loaded = Signal()
    changes_applied = Signal(list)
    current_order_changed = Signal(str)
    scan_answered = Signal(object)
    operator_switched = Signal(object)

    #: Keys a widget handles itself (not a QAction or QShortcut), by page, for F1 and docs/keys.md:
    #: Enter and the arrows in the scan field and the table, Esc in the search box (eventFilter).
    FIELD_KEYS: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {
        "queue": (("Enter", N_("Open the selected order in pack mode (Exceptions: open the exception)")),
                  ("↑ ↓ PgUp PgDn", N_("Move in the queue")),
                  ("Esc", N_("In the search box: clear the search"))),
        "tickets": TicketView.FIELD_KEYS,
    }

    def __init__(self, services: AppServices, print_service: PrintService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.services = services
        self.settings = services.settings
        self.print_service = print_service if print_service is not None else PrintService(services, self)
        services.print_service = self.print_service  # the exception dialog reprints through it
        self.models: dict[str, QueueModel] = {}
        #: loads and updates the queues, which share one search index (ui/queue_feed.py)
        self.feed = QueueFeed(services.tasks, services.store, self)
        self.current_queue = "bench"
        self._dirty: set[str] = set()
        self._reading = False
        self._loading = False
        self._current_order = ""
        # While the clerk types in the search box the selection follows every keystroke; the detail
        # pane (a database read, and the hub's audit over the network) waits until typing pauses.
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_AFTER_TYPING_MS)
        self._detail_timer.timeout.connect(self._show_current_detail)
        self.login_dialog: Any = None  # the shift change's login dialog while it is open
        self.wave_box: WaveDialog | None = None  # Ctrl+W's question while it is open
        self.settings_dialog: Any = None  # Ctrl+, while it is open
        #: queue-page scans (code, typed by a person) waiting for the one being answered
        self._scans: deque[tuple[str, bool]] = deque()
        self._scan_busy = False
        self._build()
        self._build_actions()
        self.drill_down = DrillDown(self)  # issue 16: the dashboard's click-through (ui/drill_down.py)
        self.dashboard: Any = None  # Ctrl+D's window while it is open
        services.orders_changed.connect(self._orders_changed)
        self.feed.models = list(self.models.values())
        self.feed.loaded.connect(self._loaded)
        self.feed.applied.connect(self._changes_applied)
        self.feed.first_screen.connect(self._update_empty_text)
        services.operator_changed.connect(lambda _op: self.apply_role())
        services.tasks.failed.connect(self._task_failed)
        QApplication.instance().focusChanged.connect(self._focus_changed)  # type: ignore[union-attr]
        self.apply_role()
        self.select_queue(self._first_queue())
        self.reload()
        self._tick = QTimer(self)
        self._tick.setInterval(5 * 60 * 1000)  # overdue / at-risk move with the clock
        self._tick.timeout.connect(self.reload)
        self._tick.start()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowTitle(_("PackDesk · {station}").format(station=self.settings.station or "—"))
        central = QWidget(self)
        root = QVBoxLayout(central)
        root.setContentsMargins(6, 6, 6, 0)
        top = QHBoxLayout()
        self.scan = ScanField(central)
        self.scan.setPlaceholderText(_("Scan an order, waybill or pick list…"))
        self.scan.setStyleSheet("font-size: 18pt; padding: 4px; border: 3px solid #0d47a1;")
        self.scan.scanned.connect(self.handle_scan)
        self.scan.typed.connect(self.handle_typed)
        self.scan.installEventFilter(self)
        top.addWidget(self.scan, 3)
        self.search = QLineEdit(central)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(search_hint())
        self.search.setClearButtonEnabled(True)
        self.search.setStyleSheet("font-size: 14pt; padding: 4px;")
        self.search.textChanged.connect(self._search_changed)
        self.search.installEventFilter(self)
        top.addWidget(self.search, 2)
        self.operator_label = QLabel(central)
        self.operator_label.setStyleSheet(f"font-size: {FIGURE_PT - 3}pt; font-weight: bold; padding: 0 8px;")
        top.addWidget(self.operator_label)
        root.addLayout(top)
        # The answer to a scan or a key, where the packer looks (the status bar is easy to miss).
        self.notice = QLabel(central)
        self.notice.setObjectName("queueNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.notice_kind = ""
        root.addWidget(self.notice)

        self.stack = QStackedWidget(central)
        root.addWidget(self.stack, 1)
        self.queue_page = QSplitter(Qt.Orientation.Horizontal, self.stack)
        self.queue_list = QListWidget(self.queue_page)
        self.queue_list.setObjectName("queueList")
        self.queue_list.setStyleSheet(f"QListWidget {{ font-size: {FIGURE_PT - 2}pt; }} "
                                      "QListWidget::item { padding: 10px 6px; }")
        self.queue_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for key, label in QUEUES:
            item = QListWidgetItem(_(label))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.queue_list.addItem(item)
            model = QueueModel(all_orders, key, parent=self, index=self.feed.index)
            model.count_changed.connect(lambda n, k=key: self._count_changed(k, n))
            model.modelReset.connect(lambda k=key: self._model_reset(k))
            self.models[key] = model
        self.queue_list.currentRowChanged.connect(lambda row: self.select_queue(QUEUES[row][0]) if row >= 0 else None)
        self.table = QueueTable(self.queue_page)
        self.table.setObjectName("queueTable")
        font = self.table.font()
        font.setPointSize(TABLE_PT)
        self.table.setFont(font)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(False)  # the model sorts itself; header clicks call model.sort
        self.table.setWordWrap(False)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(int(TABLE_PT * 2.6))
        hh = self.table.horizontalHeader()
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.sortIndicatorChanged.connect(lambda col, order: self.table.model().sort(col, order))
        hh.setStretchLastSection(False)
        self.table.setItemDelegateForColumn(Column.FLAGS, FlagDelegate(self.table))
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.installEventFilter(self)
        self.detail = OrderDetail(self.services, self.queue_page)
        self.queue_page.addWidget(self.queue_list)
        self.queue_page.addWidget(self.table)
        self.queue_page.addWidget(self.detail)
        self.queue_page.setStretchFactor(0, 0)
        self.queue_page.setStretchFactor(1, 3)
        self.queue_page.setStretchFactor(2, 2)
        self.queue_page.setSizes([180, 800, 300])
        self.stack.addWidget(self.queue_page)
        self.pack_view = PackView(self.services, self.print_service, self.stack)
        self.stack.addWidget(self.pack_view)
        self.pack_view.activated.connect(self.show_pack_page)
        self.pack_view.closed.connect(self.show_queue_page)
        self.pack_view.exception_requested.connect(self.open_exception)
        self.handover_view = HandoverView(self.services, self.print_service, self.stack)
        self.stack.addWidget(self.handover_view)
        self.handover_view.closed.connect(self.show_queue_page)
        self.returns_view = ReturnsView(self.services, self.stack)  # 退货入库 (Ctrl+R, docs/returns.md)
        self.stack.addWidget(self.returns_view)
        self.returns_view.closed.connect(self.show_queue_page)
        self.ticket_view = TicketView(self.services, self.stack)  # 工单 (Ctrl+T, ui/ticket_view.py)
        self.stack.addWidget(self.ticket_view)
        self.ticket_view.closed.connect(self.show_queue_page)
        self.ticket_view.open_order.connect(self.show_ticket_order)
        self.ticket_view.change_address.connect(lambda oid: self.desk_actions.open("address", oid))
        self.setCentralWidget(central)
        self.sync_status = SyncStatusButton(self.services, self)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.connector_status = ConnectorStatusLabel(self.services, self)  # shop connectors failing (issue 12)
        self.statusBar().addPermanentWidget(self.connector_status)
        self.message_label = QLabel(self)
        self.statusBar().addWidget(self.message_label, 1)
        self.resize(window_geometry.PREFERRED)  # until show_fitted() fits the screen

    def _build_actions(self) -> None:
        bar = QToolBar(_("Actions"), self)
        self.toolbar = bar
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setStyleSheet("QToolButton { font-size: 13pt; padding: 4px 10px; }")
        self.addToolBar(bar)

        def action(text: str, keys: str | QKeySequence.StandardKey | list[str], slot: Callable[[], Any],
                   name: str, on_bar: bool = True, what: str = "") -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            act.setWhatsThis(what)  # F1 and docs/keys.md read it (ui/keys.py)
            if isinstance(keys, list):
                act.setShortcuts([QKeySequence(k) for k in keys])
            else:
                act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _checked=False: slot())
            self.addAction(act)
            if on_bar:
                bar.addAction(act)
            return act

        self.open_action = action(_("Open / pack (Enter)"), [], self.open_selected, "openAction")
        self.print_action = action(_("Print label (Ctrl+P)"), "Ctrl+P", self.print_selected, "printAction",
                                   what=_("Print the selected order's label"))
        self.wave_action = action(_("Print a wave (Ctrl+W)"), "Ctrl+W", self.print_wave, "waveAction",
                                  what=_("Print the next wave: pick list, then labels (print-first)"))
        self.picklist_action = action(_("Pick list (Ctrl+L)"), "Ctrl+L", self.print_picklist_selected,
                                      "pickListAction", what=_("Print the selected order's pick list"))
        self.slip_action = action(_("Packing slip"), "Ctrl+Shift+P", self.print_slip_selected,
                                  "slipAction", False, what=_("Print the selected order's packing slip"))
        self.preview_action = action(_("Preview label"), "Ctrl+Shift+L", self.preview_selected, "previewAction",
                                     False, what=_("Preview the selected order's label (prints nothing)"))
        self.import_action = action(_("Import orders…"), "Ctrl+I", self.import_orders, "importAction",
                                    False, what=_("Import orders from an Excel or CSV file"))
        self.handover_action = action(_("Handover (Ctrl+H)"), "Ctrl+H", self.show_handover_page, "handoverAction",
                                      what=_("Handover mode: scan the parcels into the courier's bag, close the "
                                             "batch, print the manifest"))
        self.returns_action = action(_("Returns…"), "Ctrl+R", self.show_returns_page, "returnsAction", False,
                                     what=_("Returns mode (desk): scan the return parcel, grade each item, note what "
                                            "is missing; the refund goes to the desk's queue"))
        self.tickets_action = action(_("Tickets (Ctrl+T)"), "Ctrl+T", self.show_ticket_page, "ticketsAction",
                                     False, what=_("Customer tickets (desk): the queue by due time, the order "
                                                   "beside it, contact / reply / close by key"))
        self.refresh_action = action(_("Refresh (F5)"), "F5", self.refresh, "refreshAction",
                                     what=_("Refresh the queues and sync now"))
        self.search_action = action(_("Search (Ctrl+F)"), "Ctrl+F", self.focus_search, "searchAction", False,
                                    what=_("Search"))
        self.settings_action = action(_("Settings"), "Ctrl+,", self.open_settings, "settingsAction", False,
                                      what=_("Station settings"))
        self.help_action = action(_("Keys (F1)"), "F1", self.show_help, "helpAction", what=_("This list of keys"))
        self.stations_action = action(_("Stations…"), [], self.open_stations, "stationsAction", False)
        self.stock_action = action(_("Stock…"), "Ctrl+Shift+S", self.open_stock, "stockAction", False,
                                   what=_("Stock per SKU and warehouse (desk and supervisor)"))
        self.split_action = action(_("Split order…"), "Ctrl+Shift+X", lambda: self.open_split_merge("split"),
                                   "splitAction", False, what=_("Split the selected order: what ships now and a "
                                                                "back-order part (desk)"))
        self.merge_action = action(_("Merge orders…"), "Ctrl+Shift+M", lambda: self.open_split_merge("merge"),
                                   "mergeAction", False, what=_("Merge the selected order with the same buyer's "
                                                                "orders into one parcel, or unmerge it (desk)"))
        self.switch_action = action(_("Change operator…"), "Ctrl+Shift+Q", self.switch_operator, "switchAction",
                                    False, what=_("Shift change: log out and let the next operator log in "
                                                  "(work not yet synced stays queued under its operator)"))
        self.dashboard_action = action(_("Dashboard…"), "Ctrl+D", self.open_dashboard, "dashboardAction", False,
                                       what=_("The live dashboard: orders by state, fulfilment per hour, exception "
                                              "reasons, who is behind (supervisor)"))
        # The bench's frequent actions stay on the bar; the desk's occasional ones sit under "More".
        more = QMenu(self)
        more.setObjectName("moreMenu")
        more.setStyleSheet("QMenu { font-size: 13pt; }")
        for act in (self.preview_action, self.slip_action, self.import_action, self.settings_action,
                    self.stations_action, self.stock_action, self.returns_action, self.tickets_action,
                    self.split_action, self.merge_action, self.switch_action, self.dashboard_action):
            more.addAction(act)
        self.desk_actions = DeskActions(self, action, more)  # issue 15: the desk's dialogs (ui/desk_actions.py)
        self.report_actions = ReportActions(self, action, more)  # issue 16: queue CSV, reports (ui/reports.py)
        self.more_button = QToolButton(bar)
        self.more_button.setObjectName("moreButton")
        self.more_button.setText(_("More"))
        self.more_button.setMenu(more)
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(self.more_button)
        self.queue_actions: list[QAction] = []
        for n, (key, label) in enumerate(QUEUES, start=1):
            self.queue_actions.append(
                action(f"Ctrl+{n}", f"Ctrl+{n}", partial(self.select_queue, key), f"queue{n}", False,
                       what=_("Switch to the queue: {queue}").format(queue=_(label))))
        #: Actions that work on every page (the rest belong to the queue page: see action_in_mode).
        self.global_actions = {self.switch_action}
        self.stack.currentChanged.connect(self._page_changed)
        self._update_actions()

    def _page_changed(self, _index: int) -> None:
        """Each page has its keys; an answer line about the other page is stale there."""
        self.tell("")
        self._update_actions()
        # On the tickets page Ctrl+F filters the tickets: the order search box does not claim the key there.
        self.search.setPlaceholderText(
            _("Search orders: order ID, channel order no, phone, name, waybill, SKU")
            if self.stack.currentWidget() is self.ticket_view else search_hint())

    def action_in_mode(self, act: QAction, mode: str) -> bool:
        """Whether a window action works on ``mode``'s page ("queue" or "pack"); ui/keys.py lists by it.

        The queue page's actions work on the queue's selection; in pack mode they would act on an order
        the packer cannot see, and take the pack page's own keys (F1, F5) from it. So they are disabled
        there (a disabled action takes no key) — see :meth:`_update_actions`.
        """
        if act.parent() is not self or act.shortcuts() == []:
            return False
        return mode == "queue" or act in self.global_actions

    # -- role -----------------------------------------------------------------------------------
    @property
    def role(self) -> Role:
        try:
            return Role(self.services.role)
        except ValueError:
            return Role.PACKER

    def apply_role(self) -> None:
        """Packers see their own bench only; desk and above see every bench. Rebuilds the scopes."""
        op = self.services.operator
        bench = self.settings.bench
        packer = not self.role.at_least(Role.DESK)
        scope = bench if (packer and bench) else None
        for key, model in self.models.items():
            model.set_scope(queue_filter(key, bench), scope)
        all_item = self.queue_list.item(len(QUEUES) - 1)
        all_item.setFlags(all_item.flags() | Qt.ItemFlag.ItemIsEnabled if not packer
                          else all_item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        all_item.setToolTip("" if not packer else _("Packers see the orders of their own bench only."))
        bench_item = self.queue_list.item(0)
        bench_item.setToolTip(_("This PC has no bench (desk PC).") if not bench else "")
        self.import_action.setToolTip(
            _("Import orders from an Excel or CSV file") if self.role.at_least(Role.DESK)
            else _("Only desk staff and above import orders."))
        self.settings_action.setToolTip(
            _("Station settings") if self.role.at_least(Role.DESK)
            else _("Only desk staff, supervisors and admins can change the station settings."))
        supervisor = self.role.at_least(Role.SUPERVISOR) and self.services.engine is not None
        self.stations_action.setToolTip(_("Approve or revoke bench and desk PCs") if supervisor
                                        else _("Only supervisors and admins approve stations."))
        who = f"{op.name} ({_(ROLE_NAMES.get(op.role, op.role))})" if op is not None else _("not logged in")
        where = self.settings.bench or _("desk")
        self.operator_label.setText(f"{who} · {where}")
        if packer and self.current_queue == "all":
            self.select_queue(self._first_queue())
        self._update_actions()
        if not self._loading and any(m.total for m in self.models.values()):
            self.reload()

    def _first_queue(self) -> str:
        return "bench" if self.settings.bench else ("all" if self.role.at_least(Role.DESK) else "to_print")

    # -- queues ---------------------------------------------------------------------------------
    def select_queue(self, key: str) -> None:
        row = next(i for i, (k, _l) in enumerate(QUEUES) if k == key)
        item = self.queue_list.item(row)
        if not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.tell(item.toolTip(), "error")
            return
        changed = key != self.current_queue or self.table.model() is None
        self.current_queue = key
        if self.queue_list.currentRow() != row:
            self.queue_list.setCurrentRow(row)
        if changed:
            model = self.models[key]
            model.set_filter_text(self.search.text())
            self.table.setModel(model)
            self.table.selectionModel().selectionChanged.connect(self._selection_changed)
            hh = self.table.horizontalHeader()
            hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            for col, width in self._column_widths(model).items():
                self.table.setColumnWidth(col, width)
            self.table.setColumnHidden(Column.BENCH, not self.role.at_least(Role.DESK))
            # The Exceptions queue is worked by type and age; the other queues by ship-by. There the
            # hold column takes the room of state, items, ship-by and sync (the detail pane has them,
            # and overdue / at-risk / conflict are chips in the flags), so the row fits without a side
            # scroll.
            exceptions = key == "exceptions"
            self.table.setColumnHidden(Column.HOLD, not exceptions)
            for col in (Column.STATE, Column.ITEMS, Column.SHIP_BY, Column.SYNC):
                self.table.setColumnHidden(col, exceptions)
            # One column takes what is left, so the row fits without a side scroll: the hold text in
            # the Exceptions queue (elided if it must), the recipient elsewhere.
            hh.setSectionResizeMode(Column.HOLD if exceptions else Column.RECIPIENT, QHeaderView.ResizeMode.Stretch)
            if hh.visualIndex(Column.HOLD) != 1:
                hh.moveSection(hh.visualIndex(Column.HOLD), 1)  # beside the flags, where the eye starts
            self._reselect()
            self._update_empty_text()

    def _column_widths(self, model: QueueModel) -> dict[Column, int]:
        """Column widths from the table's font: wide enough for the header and a typical value.

        Measured rather than fixed in pixels, so a larger system font or another language still fits;
        ResizeToContents would measure every one of 100,000 rows.
        """
        fm = QFontMetrics(self.table.font())
        header_fm = QFontMetrics(self.table.horizontalHeader().font())
        pad = 14

        def fit(col: Column, *samples: str) -> int:
            header = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
            return max([header_fm.horizontalAdvance(header) + pad + 12]
                       + [fm.horizontalAdvance(s) + pad for s in samples])

        # Any two chips side by side (the two widest); the delegate draws a third glyph-only or as "+1".
        flags_width = pair_width(self.table.font(), {f: model.flag_text((f,)) for f in Flag})
        lang = "zh_CN" if language().startswith("zh") else "en"
        hold = max((hold_label(t, lang) for t in HOLD_TYPES), key=fm.horizontalAdvance)
        return {
            Column.FLAGS: flags_width,
            # a split part's ID and the split / merge glyph fit; the mark's word may be elided (the cell's
            # tooltip and the detail pane say it whole): the recipient keeps its room at 1366 px
            Column.ORDER_ID: fit(Column.ORDER_ID, "BL20261231-000000", "BL20261231-000000-1 ●"),
            Column.STATE: fit(Column.STATE, *(state_text(s) for s in State)),
            Column.BENCH: fit(Column.BENCH, "VIP-B1"),
            Column.RECIPIENT: fit(Column.RECIPIENT, "欧阳某某"),
            Column.ITEMS: fit(Column.ITEMS, "999"),
            Column.SHIP_BY: fit(Column.SHIP_BY, "12-31 23:59"),
            Column.SYNC: fit(Column.SYNC, "↻ " + _("Pending"), "↯ " + _("Conflict")),
            Column.HOLD: fit(Column.HOLD, f"{hold} ({_('system')}) · " + _("{n} min").format(n=59)),
        }

    @property
    def model(self) -> QueueModel:
        return self.models[self.current_queue]

    def _count_changed(self, key: str, n: int) -> None:
        row = next(i for i, (k, _l) in enumerate(QUEUES) if k == key)
        self.queue_list.item(row).setText(f"{_(QUEUES[row][1])}  ({n})")
        self._update_empty_text()

    def _search_changed(self, text: str) -> None:
        if text and self.stack.currentWidget() not in (self.queue_page, self.pack_view):
            # The box is on every page but its results are the queue page's: typed on the tickets,
            # returns or handover page it filtered a hidden table. Go there, as Ctrl+F does (not
            # from the pack page, where Ctrl+F is off too: an order is being packed there).
            self.show_queue_page()
            self.search.setFocus()
        self._detail_timer.start()  # (re)started: the detail follows once typing pauses
        self.model.set_filter_text(text)
        self._reselect()
        self._update_empty_text()

    def empty_text(self) -> str:
        """What the table says when the current queue shows no rows (a bare grid looks broken)."""
        if self._loading and self.model.total == 0:
            return _("Reading the orders…")
        text = self.search.text().strip()
        if text:
            return _("No orders match '{text}'").format(text=text)
        return _("This queue has no orders")

    def _update_empty_text(self) -> None:
        self.table.set_empty_text(self.empty_text())

    def _model_reset(self, key: str) -> None:
        if key == self.current_queue:
            QTimer.singleShot(0, self._reselect)

    def _reselect(self) -> None:
        """Keep the selected order selected across resets; else select the first row."""
        model = self.model
        row = model.row_of(self._current_order) if self._current_order else -1
        if row < 0 and model.rowCount() > 0:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self._set_current("")

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row_at(rows[0].row()) if rows else None
        self._set_current(row.order_id if row is not None else "")

    def _set_current(self, order_id: str) -> None:
        if order_id == self._current_order and (order_id == "" or self.detail.order_id == order_id):
            return
        self._current_order = order_id
        if not order_id or not self._detail_timer.isActive():
            self.detail.show_order(order_id or None)
        self._update_actions()
        self.current_order_changed.emit(order_id)

    def _show_current_detail(self) -> None:
        """Typing paused: the detail pane shows the order the search left selected."""
        if self._current_order and self.detail.order_id != self._current_order:
            self.detail.show_order(self._current_order)

    def selected_row(self) -> QueueRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row_at(rows[0].row()) if rows else None

    def select_order(self, order_id: str) -> bool:
        row = self.model.row_of(order_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    # -- loading --------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read every order on the database worker (:class:`ui.queue_feed.QueueFeed`: a first screen,
        then the rest, handed to the queues one per event-loop turn)."""
        self._loading = True
        self.feed.reload()

    def _loaded(self) -> None:
        self._loading = False
        self._update_actions()
        self._update_empty_text()
        self.loaded.emit()

    def _orders_changed(self, ids: list[str], _initiator: object = None) -> None:
        self._dirty.update(ids)
        if not self._reading:
            self._read_dirty()

    def _read_dirty(self) -> None:
        ids, self._dirty = list(self._dirty), set()
        if not ids:
            return
        self._reading = True
        store = self.services.store
        self.services.tasks.run_db(lambda: load_rows_by_id(store, ids), self._apply_changes,
                                   lambda exc: self._read_failed(exc))

    def _read_failed(self, exc: Any) -> None:
        self._reading = False
        log.warning("could not re-read changed orders: %s", exc)

    def _apply_changes(self, changes: dict[str, QueueRow | None]) -> None:
        self._reading = False
        self.feed.apply(changes)  # a big batch: one queue per event-loop turn
        if self._dirty:
            self._read_dirty()

    def _changes_applied(self, changes: dict[str, QueueRow | None]) -> None:
        self._update_actions()
        self.changes_applied.emit(list(changes))

    # -- actions --------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        """Enable each action for the page, the role and the selection (one place decides all three)."""
        row = self.selected_row() if self.table.model() is not None else None
        if row is None:
            printable = False
            self.print_action.setToolTip(_("Select an order first."))
        elif row.held or row.conflict:
            printable = False
            self.print_action.setToolTip(_("This order is held: resolve its exception before printing."))
        elif row.state not in PRINTABLE_STATES:
            printable = False
            self.print_action.setToolTip(_("A label can be printed only for an allocated order."))
        else:
            printable = True
            self.print_action.setToolTip(_("Print the shipping label of the selected order (Ctrl+P)."))
        desk = self.role.at_least(Role.DESK)
        allowed = {self.open_action: row is not None, self.print_action: printable,
                   self.import_action: desk, self.settings_action: desk, self.queue_actions[-1]: desk,
                   self.stations_action: self.role.at_least(Role.SUPERVISOR) and self.services.engine is not None,
                   self.stock_action: desk and self.services.engine is not None, self.returns_action: desk,
                   self.tickets_action: desk,
                   self.split_action: desk and row is not None, self.merge_action: desk and row is not None,
                   self.dashboard_action: self.role.at_least(Role.SUPERVISOR) and self.services.engine is not None}
        allowed.update(self.desk_actions.allowed(row is not None))
        allowed.update(self.report_actions.allowed())
        on_queue_page = self.stack.currentWidget() is self.queue_page
        for act in self.actions():
            if act.parent() is self and act not in self.global_actions:
                act.setEnabled(on_queue_page and allowed.get(act, True))
        self.toolbar.setVisible(on_queue_page)  # the pack page has its own buttons

    def tell(self, text: str, kind: str = "info", reason: str = "") -> None:
        """Say what a scan or a key did, in the queue page's answer line (big, coloured, with an icon).

        Args:
            text: the big line ("" hides the answer line).
            kind: ``ok`` (green), ``error`` (red) or ``info`` (blue).
            reason: a second line: why, and what to do.
        """
        self.notice_kind = kind if text else ""
        if not text:
            self.notice.hide()
            self.notice.setText("")
            return
        bg, fg, icon = NOTICE_STYLES[kind]
        self.notice.setStyleSheet(f"#queueNotice {{ background: {bg}; color: {fg}; font-size: {NOTICE_PT}pt; "
                                  "font-weight: bold; padding: 6px 12px; border-radius: 4px; }")
        self.notice.setText(f"{icon}  {text}" + (f"\n{reason}" if reason else ""))
        self.notice.show()

    def handle_scan(self, code: str, *, typed: bool = False) -> None:
        """Answer a scan (or a code keyed in: ``typed``).

        In pack mode the pack page answers it. On the queue page, what the code is gets decided
        first (:mod:`core.queue_scan`, on the database worker; another bench's order asks the hub on
        the network pool): an order or pick list of this station opens in pack mode, which answers
        with its own banner and tone; a phone number a person typed searches the queue; anything
        else is answered here — red, the error tone, words.
        """
        code = normalise_code(code)
        if not code:
            return
        if (self.stack.currentWidget() is self.pack_view or self.pack_view.busy) and not self._scans:
            # In pack mode, or an order is being opened there: the items scanned next are its items.
            self.pack_view.handle_scan(code)
            return
        self._scans.append((code, typed))  # answered one at a time, in the order scanned
        self._next_scan()

    def handle_typed(self, code: str) -> None:
        """Text a person typed into the scan field and sent with Enter (:attr:`ScanField.typed`)."""
        self.handle_scan(code, typed=True)

    def _next_scan(self) -> None:
        if self._scan_busy or not self._scans:
            return
        code, typed = self._scans.popleft()
        self._scan_busy = True
        store, bench = self.services.store, self.settings.bench
        own = bool(bench) and not self.role.at_least(Role.DESK)
        self.services.tasks.run_db(lambda: look_up_scan(store, code, bench=bench, own_bench_only=own, typed=typed),
                                   self._scan_looked_up, lambda exc: self._scan_failed(code, exc))

    def _scan_looked_up(self, scan: QueueScan) -> None:
        if scan.answer == Answer.OPEN:
            self.tell(scan.text(), "ok")
            self._scan_busy = False
            self.pack_view.handle_scan(scan.code)  # opens it, with the pack page's banner and tone
            while self._scans:  # scanned meanwhile: the items of the order being opened
                self.pack_view.handle_scan(self._scans.popleft()[0])
            self.scan_answered.emit(scan)
            return
        if scan.answer == Answer.SEARCH:
            # A person typed a phone number: the queue search finds it (and the box shows what
            # narrowed the queue; Esc there clears it). Not a scan: no tone.
            self.search.setText(scan.search_text)
            self.tell(scan.text(), "info", scan.reason())
            self._scan_busy = False
            self.scan_answered.emit(scan)
            self._next_scan()
            return
        if scan.answer == Answer.ASK_HUB and self.services.engine is not None:
            engine, bench = self.services.engine, self.settings.bench
            own = bool(bench) and not self.role.at_least(Role.DESK)
            self.tell(scan.text(), "info", _("Asking the hub whose order it is…"))
            self.services.tasks.run_net(lambda: ask_hub(engine, scan, bench=bench, own_bench_only=own),
                                        self._scan_answered, lambda exc: self._scan_failed(scan.code, exc))
            return
        self._scan_answered(scan)

    def _scan_answered(self, scan: QueueScan) -> None:
        self.tell(scan.text(), "ok" if scan.ok else "error", scan.reason())
        getattr(self.pack_view.sounds, scan.tone)()
        self._scan_busy = False
        self.scan_answered.emit(scan)
        self._next_scan()

    def _scan_failed(self, code: str, exc: UserError) -> None:
        self.tell(_("Could not check {code}").format(code=code), "error", exc.message)
        self.pack_view.sounds.error()
        self._scan_busy = False
        self.scan_answered.emit(QueueScan(Answer.UNCHECKED, code))
        self._next_scan()

    def open_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if self.current_queue == "exceptions" and (row.held or row.conflict):
            self.open_exception(row.order_id, "")
            return
        self.open_order(row.order_id)

    def open_order(self, order_id: str) -> None:
        self.pack_view.open_order(order_id)
        self.show_pack_page()

    def open_exception(self, order_id: str, hold_id: str) -> None:
        """The guided dialog for a hold (``hold_id`` "" picks the first hold, or the offline conflict)."""
        open_exception_dialog(self.services, order_id, hold_id or None, self, pick_first=not hold_id)

    def print_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.print_action.isEnabled():
            return
        self.print_service.print_label(row.order_id, parent=self)

    def _wave_rows(self) -> list[WaveRow]:
        """To print as the clerk sees it (search box and sort applied): the rows a wave is built from."""
        model = self.models["to_print"]
        model.set_filter_text(self.search.text())  # what the clerk would see on that queue
        rows = (model.row_at(i) for i in range(model.rowCount()))
        return [WaveRow(r.order_id, r.carrier, r.cutoff) for r in rows if r is not None]

    def wave_orders(self, carrier: str | None = None) -> list[str]:
        """The next wave: the first ``wave_size`` orders of To print, most urgent first (held ones are not in it).

        For a packer that is its own bench's queue; the search box narrows it (e.g. to a name or a phone),
        and a column the clerk sorted by orders it, as on screen. ``carrier``: only that carrier's orders
        (core/waves.py); None: all carriers.
        """
        return wave_ids(self._wave_rows(), carrier, self.settings.wave_size)

    def print_wave(self) -> None:
        """Print-first: the wave's pick list, then its labels, grouped by carrier, in walking order.
        Pack-first: the pick list only.

        The question offers all carriers or one (core/waves.py). The labels go only after the pick
        list printed: a packer must not stand with labels and no list to pick by. A failed pick list
        shows its Retry; retried successfully, the labels follow.
        """
        choices = wave_choices(self._wave_rows(), self.settings.wave_size)
        if not choices:
            self.tell(_("Nothing to print: the To print queue is empty."), "error")
            return
        box = self.wave_question(choices)
        self.wave_box = box

        def answered(code: int) -> None:
            self.wave_box = None
            box.deleteLater()
            if code == QDialog.DialogCode.Accepted:
                choice = box.chosen()
                self._print_wave(list(choice.order_ids), choice.carrier)
            else:
                self.tell(_("Wave not printed."), "info")

        box.finished.connect(answered)
        box.open()

    def wave_question(self, choices: list[WaveChoice]) -> WaveDialog:
        """Ctrl+W's question: all carriers or one, with counts; Enter prints the chosen wave, Esc cancels."""
        return WaveDialog(choices, print_first=self.settings.bench_flow == "print-first", parent=self)

    def _print_wave(self, ids: list[str], carrier: str | None = None) -> None:
        service = self.print_service
        print_first = self.settings.bench_flow == "print-first"

        def after_list(outcome: Any) -> None:
            if outcome.ok and print_first:
                service.print_labels(list(outcome.order_ids), parent=self)

        batch = service.print_picklist(ids, parent=self, on_done=after_list)
        if carrier is None:
            text = (_("Wave {batch}: {n} orders, pick list first, then labels.") if print_first
                    else _("Wave {batch}: pick list for {n} orders.")).format(batch=batch, n=len(ids))
        else:
            text = (_("Wave {batch} ({carrier}): {n} orders, pick list first, then labels.") if print_first
                    else _("Wave {batch} ({carrier}): pick list for {n} orders.")).format(
                batch=batch, n=len(ids), carrier=carrier_name(carrier or None, language()))
        self.tell(text, "info")

    def import_orders(self, path: str | None = None) -> None:
        """Desk: import an Excel/CSV sheet at the hub (start dialog, column mapping, result: ui/import_dialog.py)."""
        if not self.role.at_least(Role.DESK) or self.services.engine is None:
            return
        from ui.import_dialog import ImportFlow

        flow = getattr(self, "import_flow", None) or ImportFlow(self)  # one per window, reused
        self.import_flow = flow
        flow.start(path)

    def _selected_or_say(self) -> QueueRow | None:
        """The selected order, or None after saying that nothing is selected."""
        row = self.selected_row()
        if row is None:
            self.tell(_("Nothing selected: select an order in the queue first."), "error")
        return row

    def print_picklist_selected(self) -> None:
        """Ctrl+L: the selected order's pick list, and a line saying what became of it."""
        row = self._selected_or_say()
        if row is None:
            return
        oid = row.order_id
        self.tell(_("Printing the pick list of {order}…").format(order=oid), "info")

        def done(outcome: Any) -> None:
            if outcome.ok:
                self.tell(_("Pick list printed for {n} order(s): {orders} ({printer})").format(
                    n=len(outcome.order_ids), orders=", ".join(outcome.order_ids), printer=outcome.printer), "ok")
            elif outcome.cancelled:
                self.tell(_("Pick list not printed"), "info")
            else:
                self.tell(_("Pick list not printed"), "error", outcome.message)

        self.print_service.print_picklist([oid], parent=self, on_done=done)

    def preview_selected(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self.print_service.preview_label(row.order_id, parent=self)

    def print_slip_selected(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self.print_service.print_slip(row.order_id, parent=self)

    def refresh(self) -> None:
        engine = self.services.engine
        if engine is not None:
            self.services.tasks.run_db(engine.wake)  # it re-reads the counts: the store, not the GUI thread
        self.reload()

    def focus_search(self) -> None:
        self.show_queue_page()
        self.search.setFocus()
        self.search.selectAll()

    def open_settings(self) -> None:
        if not self.role.at_least(Role.DESK):
            return
        from ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self, scale=self.services.scale)
        self.settings_dialog = dialog

        def finished(code: int) -> None:  # open(), not exec(): no nested event loop on the bench
            self.settings_dialog = None
            dialog.deleteLater()
            if code == SettingsDialog.DialogCode.Accepted and dialog.needs_restart:
                self.tell(_("Saved. Restart PackDesk to apply the changes."), "info")

        dialog.finished.connect(finished)
        dialog.open()

    def open_stations(self) -> None:
        """Supervisor: the stations waiting for approval (and the approved and revoked ones)."""
        if not self.role.at_least(Role.SUPERVISOR) or self.services.engine is None:
            return
        from ui.stations_dialog import StationsDialog

        self.stations_dialog = StationsDialog(self.services, parent=self)
        self.stations_dialog.open()
        self.stations_dialog.refresh()

    def open_stock(self) -> None:
        """Ctrl+Shift+S, desk and above: stock per SKU and warehouse, the short ones first (ui/stock_view.py)."""
        if not self.role.at_least(Role.DESK) or self.services.engine is None:
            return
        from ui.stock_view import StockDialog

        self.stock_dialog = StockDialog(self.services, parent=self)
        self.stock_dialog.open()
        self.stock_dialog.refresh()

    def open_dashboard(self) -> None:
        """Ctrl+D, supervisor and admin: the live dashboard (ui/dashboard_view.py); a click on a figure
        shows its orders here (ui/drill_down.py)."""
        if not self.role.at_least(Role.SUPERVISOR) or self.services.engine is None:
            return
        from ui.dashboard_view import DashboardWindow

        if self.dashboard is None or self.dashboard.isHidden():
            if self.dashboard is not None:
                self.dashboard.deleteLater()
            self.dashboard = DashboardWindow(self.services, on_drill=self.drill_down.show_orders, parent=self)
            self.dashboard.show_fitted()
            self.dashboard.start()
        self.dashboard.raise_()
        self.dashboard.activateWindow()

    def open_split_merge(self, which: str) -> None:
        """Ctrl+Shift+X / Ctrl+Shift+M, desk and above: split the selected order, or merge it (ui/split_merge_dialog.py).

        The order is read on the database worker; the dialog opens when it is there."""
        row = self.selected_row()
        if row is None or not self.role.at_least(Role.DESK):
            return
        from ui.split_merge_dialog import MergeDialog, SplitDialog

        def opened(order: Any) -> None:
            if order is None:
                return
            if which == "split":
                self.split_merge_dialog: QDialog = SplitDialog(self.services, order, parent=self)
                self.split_merge_dialog.open()
            else:
                dialog = MergeDialog(self.services, order, parent=self)
                self.split_merge_dialog = dialog
                dialog.open()
                dialog.refresh()

        oid, store = row.order_id, self.services.store
        self.services.tasks.run_db(lambda: store.get_order(oid), opened)

    def show_help(self) -> None:
        """F1: the queue page's keys, read from the actions themselves (the same list as docs/keys.md)."""
        text = help_html(mode_keys(self, "queue"))
        box = QMessageBox(QMessageBox.Icon.Information, _("Keyboard shortcuts"), text, QMessageBox.StandardButton.Ok,
                          self)
        box.setObjectName("helpBox")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()

    def switch_operator(self) -> None:
        """Ctrl+Shift+Q: a shift change — log out and show the login dialog, without quitting.

        The local store and the outbox stay as they are: actions not yet synced were signed with
        their operator's action key when they were done (core/outbox.py), so the next login pushes
        them as that operator's. The next operator gets their own role's queues (apply_role on
        ``operator_changed``). Cancel on the login dialog closes PackDesk, as at start.
        """
        from ui.login_dialog import LoginDialog

        if self.login_dialog is not None:
            return
        if self.stack.currentWidget() is self.pack_view:
            self.pack_view.close_order()
            self.show_queue_page()
        if self.stack.currentWidget() in (self.handover_view, self.returns_view, self.ticket_view):  # kept (stored)
            self.show_queue_page()
        before = self.services.operator
        if self.services.engine is not None:
            self.services.engine.logout()
        self.services.set_operator(None)
        self.tell(_("{name} logged out. Next operator: log in.").format(name=before.name if before else "—"), "info")
        dialog = LoginDialog(self.services, self, switching=True)
        self.login_dialog = dialog

        def finished(code: int) -> None:
            self.login_dialog = None
            dialog.deleteLater()
            result = dialog.result_value
            if code != LoginDialog.DialogCode.Accepted or result is None:
                self.close()  # nobody logged in: the bench is not left open as nobody
                return
            who = result.operator
            self.tell(_("{name} logged in ({role}).").format(name=who.name, role=_(ROLE_NAMES.get(who.role, who.role))),
                      "ok", _("Offline login: the hub will check the PIN when it can be reached.")
                      if result.offline else "")
            self.select_queue(self._first_queue())
            self.operator_switched.emit(who)

        dialog.finished.connect(finished)
        dialog.open()

    def show_fitted(self) -> None:
        """Show the window fitted to the screen (maximised on a bench), as this station last left it."""
        window_geometry.show_fitted(self, self.queue_page, station=self.settings.station, bench=self.settings.bench)

    def closeEvent(self, event: QCloseEvent) -> None:
        window_geometry.remember(self, self.queue_page, station=self.settings.station)
        super().closeEvent(event)

    def _task_failed(self, exc: Any) -> None:
        from ui.errors import show_error

        show_error(self, exc)

    # -- pages and focus ------------------------------------------------------------------------
    def show_pack_page(self) -> None:
        if self.stack.currentWidget() is not self.pack_view:
            self.stack.setCurrentWidget(self.pack_view)
            self.scan.setVisible(False)  # the pack page has its own scan field
            self.pack_view.scan_field.setFocus()

    def show_handover_page(self) -> None:
        """Ctrl+H: handover mode (its own scan field and keys); an open batch comes back as it was."""
        if self.stack.currentWidget() is not self.handover_view:
            self.stack.setCurrentWidget(self.handover_view)
            self.scan.setVisible(False)
        self.handover_view.enter()

    def show_returns_page(self) -> None:
        """Ctrl+R (desk): returns mode; a return being counted comes back as it was."""
        if self.stack.currentWidget() is not self.returns_view:
            self.stack.setCurrentWidget(self.returns_view)
            self.scan.setVisible(False)
        self.returns_view.enter()

    def show_ticket_page(self) -> None:
        """Ctrl+T (desk): the customer ticket queue (ui/ticket_view.py)."""
        if self.stack.currentWidget() is not self.ticket_view:
            self.stack.setCurrentWidget(self.ticket_view)
            self.scan.setVisible(False)
        self.ticket_view.enter()

    def show_ticket_order(self, order_id: str) -> None:
        """Enter on a ticket: its order in the queues (all benches)."""
        self.show_queue_page()
        self.select_queue("all")
        self.select_order(order_id)

    def show_queue_page(self) -> None:
        self.ticket_view.leave()
        if self.stack.currentWidget() is not self.queue_page:
            self.stack.setCurrentWidget(self.queue_page)
            self.scan.setVisible(True)
            self.scan.setFocus()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Give the keyboard back to the scan field unless the user is typing somewhere else."""
        if self.stack.currentWidget() is not self.queue_page or not self.isActiveWindow():
            return
        if new is None or new in (self.table, self.queue_list) or new is self:
            QTimer.singleShot(0, self.scan.setFocus)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.scan and key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                                                Qt.Key.Key_PageDown):
                QApplication.sendEvent(self.table, QKeyEvent(event.type(), key, event.modifiers()))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                    watched is self.table or (watched is self.scan and not self.scan.text().strip())):
                self.open_selected()
                return True
            if watched is self.scan and key == Qt.Key.Key_Escape and self.drill_down.active:
                self.drill_down.clear()  # the dashboard's drill-down filter (ui/drill_down.py)
                return True
            if watched is self.search and key == Qt.Key.Key_Escape:
                self.search.clear()
                self.scan.setFocus()
                return True
            if watched is self.search and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.scan.setFocus()
                return True
        return super().eventFilter(watched, event)
