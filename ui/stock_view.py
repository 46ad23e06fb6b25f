"""Stock per SKU and warehouse for the desk and the supervisor (issue 14 "Views", docs/stock.md).

A dialog over the hub's ``GET /api/v1/stock/levels``: SKU, name, warehouse, on hand, reserved,
available, quarantine (returned units graded damaged, docs/returns.md), with a search box and sortable columns; the short ones (nothing available) first, in
red with ✘ and the word. The hub is asked on the task runner's network pool; the dialog only
draws the answer (the GUI thread never waits on the network).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.i18n import N_, _
from ui.services import AppServices

HEADERS = (N_("Stock status"), N_("SKU"), N_("Item name"), N_("Warehouse"), N_("On hand"), N_("Reserved"),
           N_("Available"), N_("Quarantine (damaged returns)"))
STATUS, SKU, NAME, WAREHOUSE, ON_HAND, RESERVED, AVAILABLE, QUARANTINE = range(len(HEADERS))
_NUMERIC = {ON_HAND: "on_hand", RESERVED: "reserved", AVAILABLE: "available", QUARANTINE: "quarantine"}
QUARANTINE_COLOUR = QColor("#e65100")


def quarantined(row: dict[str, Any]) -> int:
    """Returned units graded damaged at that warehouse (docs/returns.md); 0 from a hub that does not count them."""
    value = row.get("quarantine")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
_TEXT = {SKU: "sku", NAME: "name", WAREHOUSE: "warehouse"}
SHORT_COLOUR = QColor("#c62828")
OK_COLOUR = QColor("#2e7d32")


def is_short(row: dict[str, Any]) -> bool:
    """Nothing left to promise at that warehouse (available ≤ 0)."""
    return int(row["available"]) <= 0


def sort_key(row: dict[str, Any], column: int) -> tuple[Any, ...]:
    """The key of ``row`` for ``column``; ties go by SKU then warehouse. The status column puts the
    short ones first, the least available first among them."""
    tail = (str(row["sku"]), str(row["warehouse"]))
    if column == QUARANTINE:
        return (quarantined(row), *tail)
    if column in _NUMERIC:
        return (int(row[_NUMERIC[column]]), *tail)
    if column in _TEXT:
        return (str(row.get(_TEXT[column]) or ""), *tail)
    return (0 if is_short(row) else 1, int(row["available"]), *tail)


def matches(row: dict[str, Any], needle: str) -> bool:
    needle = needle.strip().casefold()
    return not needle or any(needle in str(row.get(k) or "").casefold() for k in ("sku", "name", "warehouse"))


class StockDialog(QDialog):
    """The stock table. Attributes (tests): ``table``, ``search``, ``message``, ``rows`` (the hub's
    rows), ``shown`` (the rows drawn, in table order), ``answered`` (answers drawn so far)."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stockDialog")
        self.setWindowTitle(_("Stock"))
        self.services = services
        self.rows: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.answered = 0
        self._truncated = False
        self._done_text = ""
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Search"), self))
        self.search = QLineEdit(self)
        self.search.setObjectName("stockSearch")
        self.search.setPlaceholderText(_("SKU, item name or warehouse"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self._draw())
        top.addWidget(self.search, 1)
        layout.addLayout(top)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("stockTable")
        self.table.setHorizontalHeaderLabels([_(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(STATUS, Qt.SortOrder.AscendingOrder)  # the short ones first
        header.sortIndicatorChanged.connect(lambda _col, _order: self._draw())
        layout.addWidget(self.table, 1)
        self.message = QLabel(self)
        self.message.setObjectName("stockMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))  # ours, not Qt's catalogue
        self.refresh_button = QPushButton(_("Refresh"), self)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        # Issue 14: a stock sheet (ui/stock_import.py); Ctrl+I here as Ctrl+I imports orders on the main window.
        self.import_button = QPushButton(_("Import stock sheet…"), self)
        self.import_button.setObjectName("stockImportButton")
        self.import_button.setToolTip(_("Import a stock sheet (Excel or CSV): preview, then apply") + " (Ctrl+I)")
        self.import_button.clicked.connect(self.import_sheet)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.import_shortcut = QShortcut(QKeySequence("Ctrl+I"), self, self.import_sheet)
        self.import_shortcut.setWhatsThis(_("Import a stock sheet (Excel or CSV): preview, then apply"))
        self.import_dialog: Any = None
        # Issue 14: an adjustment with a reason (F2) and the way out of quarantine (F3), on the selected row.
        self.adjust_button = QPushButton(_("Adjust…") + " (F2)", self)
        self.adjust_button.setObjectName("stockAdjustButton")
        self.adjust_button.setToolTip(_("Adjust the selected row: count, receipt, damage or other, with a reason"))
        self.adjust_button.clicked.connect(lambda: self.change_selected("adjust"))
        buttons.addButton(self.adjust_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.quarantine_button = QPushButton(_("Quarantine…") + " (F3)", self)
        self.quarantine_button.setObjectName("stockQuarantineButton")
        self.quarantine_button.setToolTip(_("Scrap the selected row's damaged returns, or put them back on the shelf"))
        self.quarantine_button.clicked.connect(lambda: self.change_selected("quarantine"))
        buttons.addButton(self.quarantine_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.adjust_shortcut = QShortcut(QKeySequence("F2"), self, lambda: self.change_selected("adjust"))
        self.adjust_shortcut.setWhatsThis(_("Adjust the selected row: count, receipt, damage or other, with a reason"))
        self.quarantine_shortcut = QShortcut(QKeySequence("F3"), self, lambda: self.change_selected("quarantine"))
        self.quarantine_shortcut.setWhatsThis(
            _("Scrap the selected row's damaged returns, or put them back on the shelf"))
        self.change_dialog: Any = None
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1000, 560)

    # -- hub call (network pool) -------------------------------------------------------------------

    def refresh(self) -> None:
        engine = self.services.engine
        if engine is None:
            self._say(_("There is no hub to ask; stock is kept at the hub."), error=True)
            self.answered += 1
            return
        self.refresh_button.setEnabled(False)
        self._say(_("Asking the hub for the stock…"))
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.stock_levels()), self.show_levels,
                                    self._failed)

    def import_sheet(self) -> None:
        """Open the stock sheet import (preview, then apply); the table refreshes after an import."""
        from ui.stock_import import StockImportDialog

        self.import_dialog = StockImportDialog(self.services, self)
        self.import_dialog.imported.connect(lambda _answer: self.refresh())
        self.import_dialog.open()

    def selected_row(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self.shown):
            return None
        return self.shown[rows[0].row()]

    def change_selected(self, mode: str) -> None:
        """F2 / F3: open the change dialog for the selected row (``mode`` adjust or quarantine)."""
        from ui.stock_change import StockChangeDialog

        row = self.selected_row()
        if row is None:
            self._say(_("Select a stock row first (arrow keys or a click)."), error=True)
            return
        if mode == "quarantine" and not quarantined(row):
            self._say(_("{sku} at {warehouse} has nothing in quarantine.").format(
                sku=row["sku"], warehouse=row["warehouse"]), error=True)
            return
        self.change_dialog = StockChangeDialog(self.services, row, mode, self)
        self.change_dialog.changed.connect(self._changed)
        self.change_dialog.open()

    def _changed(self, answer: dict[str, Any]) -> None:
        from core.stock_change import outcome_text

        self._done_text = outcome_text(answer)  # said with the refreshed table's own line
        self.refresh()

    def _selection_changed(self) -> None:
        row = self.selected_row()
        self.adjust_button.setEnabled(row is not None)
        self.quarantine_button.setEnabled(row is not None and quarantined(row) > 0)

    # -- drawing (GUI thread) ----------------------------------------------------------------------

    def show_levels(self, answer: dict[str, Any]) -> None:
        self.rows = list(answer["rows"])
        self._truncated = bool(answer.get("truncated"))
        self.refresh_button.setEnabled(True)
        self._draw()
        self.answered += 1

    def _failed(self, exc: UserError) -> None:
        self.refresh_button.setEnabled(True)
        self._say(exc.message, error=True)
        self.answered += 1

    def _draw(self) -> None:
        before = self.selected_row()
        keep = (before["sku"], before["warehouse"]) if before is not None else None
        header = self.table.horizontalHeader()
        column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        rows = sorted((r for r in self.rows if matches(r, self.search.text())), key=lambda r: sort_key(r, column),
                      reverse=order == Qt.SortOrder.DescendingOrder)
        self.shown = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            short = is_short(r)
            status = "✘ " + _("Out of stock") if short else "✓ " + _("In stock")
            held_back = quarantined(r)
            cells = [status, r["sku"], r.get("name") or "—", r["warehouse"], r["on_hand"], r["reserved"],
                     r["available"], f"◈ {held_back}" if held_back else "0"]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(str(value))
                if c in _NUMERIC:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in (STATUS, AVAILABLE):
                    item.setForeground(SHORT_COLOUR if short else OK_COLOUR)
                if c == QUARANTINE and held_back:
                    item.setForeground(QUARANTINE_COLOUR)
                    item.setToolTip(_("Damaged returns: counted, not on hand, never promised"))
                if short and c == STATUS:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, c, item)
        n_short = sum(1 for r in self.rows if is_short(r))
        text = _("{shown} of {total} stock rows; {short} out of stock.").format(
            shown=len(rows), total=len(self.rows), short=n_short)
        if self._truncated:
            text += " " + _("The hub sent only the first {n} rows.").format(n=len(self.rows))
        if self._done_text:
            text = self._done_text + " " + text
            self._done_text = ""
        self._say(text)
        for i, r in enumerate(rows):  # the row worked on stays selected after a refresh or a search
            if keep == (r["sku"], r["warehouse"]):
                self.table.selectRow(i)
                break
        self._selection_changed()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {'#c62828' if error else '#1565c0'}; font-size: 13pt;")
        self.message.setText(text)
