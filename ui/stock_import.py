"""Importing a stock sheet from the stock view (docs/stock.md "Stock sheet import").

The order import's machinery (``ui/import_dialog.py``: the file check and read, the refused-rows
table) with a preview first: the file goes to the hub's ``/stock/import`` as a dry run, which runs
the whole import and rolls it back, so the preview shows exactly the counts that would change, the
refused rows and the orders that would reserve or wait; **Import** (enabled only for a clean sheet
with changes) sends it again for real. Both calls run on the network pool; the dialog only draws.

Keys: ``Ctrl+O`` (or the first button, focused when the dialog opens) chooses the file; after a
clean preview **Import** is the default button (Enter); Esc closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.i18n import _
from core.stock_sheet import stock_refusal_text, stock_row_text, write_stock_template
from core.sync import HubRefused, HubServerError, HubUnreachable, SyncEngine
from ui.import_dialog import RowErrorTable, read_sheet_file
from ui.services import AppServices

OK_COLOUR, BAD_COLOUR, INFO_COLOUR = "#1b5e20", "#b71c1c", "#1565c0"


def upload_stock(engine: SyncEngine, path: Path, *, dry_run: bool) -> dict[str, Any]:
    """Read ``path`` and send it to the hub's stock import (worker thread: disk and network).

    Raises:
        UserError: the file cannot be read or is too big, the hub refused it or cannot be reached
            (the operator's language); nothing was changed.
    """
    content = read_sheet_file(path)
    try:
        answer: dict[str, Any] = engine.call_hub(lambda c: c.import_stock(path.name, content, dry_run=dry_run),
                                                 read_timeout_s=300)
    except (HubUnreachable, HubServerError) as exc:
        raise UserError(_("The hub cannot be reached ({error}). Stock is kept at the hub; nothing was imported. "
                          "Try again when the status bar says online.").format(error=exc.message)) from exc
    except HubRefused as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        raise UserError(stock_refusal_text(path.name, details, code=exc.code), code=exc.code,
                        details=details) from exc
    return answer


class StockImportDialog(QDialog):
    """Choose a stock sheet, see its preview (changes and refused rows), import it.

    Attributes (tests): ``path`` (the chosen file), ``preview`` / ``outcome`` (the hub's answers),
    ``summary`` (QLabel), ``changes`` (QTableWidget), ``errors`` (:class:`RowErrorTable` or None),
    ``choose_button``, ``apply_button``, ``answered`` (answers drawn so far).

    Signals:
        imported(dict): the hub applied the sheet (the stock view refreshes).
    """

    imported = Signal(dict)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stockImport")
        self.setWindowTitle(_("Import a stock sheet"))
        self.services = services
        self.path: Path | None = None
        self.preview: dict[str, Any] | None = None
        self.outcome: dict[str, Any] | None = None
        self.errors: RowErrorTable | None = None
        self.answered = 0
        self._layout = QVBoxLayout(self)
        intro = QLabel(_("A stock sheet (Excel or CSV) has one row per SKU and warehouse with the count on hand: "
                         "columns 商品编码, 仓库 and 库存 (or 在库数量), optionally 备注. The count replaces what the hub "
                         "has. You see a preview first; nothing changes until you press Import."), self)
        intro.setWordWrap(True)
        self._layout.addWidget(intro)
        self.summary = QLabel("", self)
        self.summary.setObjectName("stockImportSummary")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSize(12)
        font.setBold(True)
        self.summary.setFont(font)
        self._layout.addWidget(self.summary)
        self.changes = QTableWidget(0, 4, self)
        self.changes.setObjectName("stockImportChanges")
        self.changes.setHorizontalHeaderLabels([_("Row"), _("SKU"), _("Warehouse"), _("On hand: before → after")])
        self.changes.verticalHeader().setVisible(False)
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.changes.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.changes.hide()
        self._layout.addWidget(self.changes, 100)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
        self.choose_button = QPushButton(_("Choose file…"), self)
        self.choose_button.setObjectName("stockImportChoose")
        self.choose_button.setDefault(True)
        self.apply_button = QPushButton(_("Import"), self)
        self.apply_button.setObjectName("stockImportApply")
        self.apply_button.setEnabled(False)
        # The sheet to fill in: our headers and one example row (core/stock_sheet.py STOCK_TEMPLATE).
        self.template_button = QPushButton(_("Download template"), self)
        self.template_button.setObjectName("stockTemplate")
        self.template_button.setAutoDefault(False)
        self.template_button.clicked.connect(lambda: self.save_template())
        buttons.addButton(self.template_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.choose_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.choose_button.clicked.connect(lambda: self.choose())
        self.apply_button.clicked.connect(self.apply)
        self.choose_shortcut = QShortcut(QKeySequence("Ctrl+O"), self, lambda: self.choose())
        self.choose_shortcut.setWhatsThis(_("Choose the stock sheet (Excel or CSV) and preview it"))
        # Before a preview (the table hidden) the words stay at the top; the table, once shown, takes the room.
        self._layout.addStretch(1)
        self._layout.addWidget(buttons)
        self.choose_button.setFocus()
        self.resize(900, 560)

    # -- steps (GUI thread; the work runs on the network pool) -----------------------------------

    def save_template(self, path: str | None = None) -> None:
        """Save the stock sheet template where the clerk chooses (XLSX, or CSV for a .csv name), on a worker."""
        if path is None:
            path, _filter = QFileDialog.getSaveFileName(self, _("Save the stock sheet template"),
                                                        _("stock-template.xlsx"), _("Excel (*.xlsx);;CSV UTF-8 (*.csv)"))
        if not path:
            return
        target = path

        def saved(_result: None) -> None:
            self._say(_("Template saved: {path}. One row per SKU and warehouse with the count on the shelf; "
                        "replace the example row.").format(path=target), INFO_COLOUR)
            self.answered += 1

        def failed(exc: UserError) -> None:
            self._say("✖ " + exc.message, BAD_COLOUR)
            self.answered += 1

        self.services.tasks.run_net(lambda: write_stock_template(target), saved, failed)

    def choose(self, path: str | None = None) -> None:
        """Ask for the sheet (``path`` skips the file dialog) and preview it."""
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(self, _("Import a stock sheet"), "",
                                                        _("Stock sheets (*.xlsx *.csv *.txt)"))
        if not path:
            return
        self.path = Path(path)
        self.preview = self.outcome = None
        self._send(dry_run=True)

    def apply(self) -> None:
        """Import the previewed sheet for real."""
        if self.path is None or not self.apply_button.isEnabled():
            return
        self._send(dry_run=False)

    def _send(self, *, dry_run: bool) -> None:
        engine = self.services.engine
        assert self.path is not None
        path = self.path
        if engine is None:
            self._failed(UserError(_("There is no hub to ask; stock is kept at the hub.")))
            return
        self.apply_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self._say((_("Checking {file}…") if dry_run else _("Importing {file}…")).format(file=path.name), INFO_COLOUR)
        self.services.tasks.run_net(lambda: upload_stock(engine, path, dry_run=dry_run),
                                    self._previewed if dry_run else self._applied, self._failed)

    # -- drawing ------------------------------------------------------------------------------

    def _previewed(self, answer: dict[str, Any]) -> None:
        self.preview = answer
        name = self.path.name if self.path else ""
        errors = [e for e in answer["errors"] if isinstance(e, dict)]
        self._draw(answer, errors)
        if errors:
            self._say(_("{file}: {m} rows refused; nothing will be imported. Fix them in the sheet and choose it "
                        "again.").format(file=name, m=len(errors)), BAD_COLOUR)
        elif not answer["changed"]:
            self._say(_("{file}: all {n} counts are what the hub already has; nothing to import.").format(
                file=name, n=answer["rows"]), OK_COLOUR)
        else:
            self._say(_("Preview of {file}: {n} rows, {c} counts change ({new} SKUs counted here for the first "
                        "time). {r} orders would reserve now, {h} would wait for stock, {w} waiting orders would be "
                        "released. Press Import to apply.").format(
                file=name, n=answer["rows"], c=answer["changed"], new=answer["new_rows"],
                r=len(answer["reserved_late"]), h=len(answer["held_short"]), w=len(answer["released"])), INFO_COLOUR)
            self.apply_button.setEnabled(True)
            self.apply_button.setDefault(True)
            self.apply_button.setFocus()
        self.choose_button.setEnabled(True)
        self.answered += 1

    def _applied(self, answer: dict[str, Any]) -> None:
        self.outcome = answer
        name = self.path.name if self.path else ""
        errors = [e for e in answer["errors"] if isinstance(e, dict)]
        self._draw(answer, errors)
        if answer["applied"]:
            self._say("✓ " + _("{file} imported: {c} counts changed. {r} orders reserved now, {h} wait for stock, "
                               "{w} waiting orders released.").format(
                file=name, c=answer["changed"], r=len(answer["reserved_late"]), h=len(answer["held_short"]),
                w=len(answer["released"])), OK_COLOUR)
            self.imported.emit(answer)
        else:  # the sheet changed on disk since the preview and now has refused rows
            self._say("✖ " + _("{file}: {m} rows refused; nothing was imported.").format(file=name, m=len(errors)),
                      BAD_COLOUR)
        self.choose_button.setEnabled(True)
        self.choose_button.setDefault(True)
        self.choose_button.setFocus()
        self.answered += 1

    def _failed(self, exc: UserError) -> None:
        self._say("✖ " + exc.message, BAD_COLOUR)
        self.choose_button.setEnabled(True)
        self.choose_button.setFocus()
        self.answered += 1

    def _draw(self, answer: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        changes = [c for c in answer["changes"] if isinstance(c, dict)]
        self.changes.setRowCount(len(changes))
        for i, c in enumerate(changes):
            before = _("new") if c.get("before") is None else str(c.get("before"))
            cells = [str(c.get("row", "")), str(c.get("sku", "")), str(c.get("warehouse", "")),
                     f"{before} → {c.get('on_hand', '')}"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.changes.setItem(i, col, item)
        self.changes.setVisible(bool(changes) and not errors)
        if self.errors is not None:
            self._layout.removeWidget(self.errors)
            self.errors.hide()
            self.errors.deleteLater()
            self.errors = None
        if errors:
            self.errors = RowErrorTable(errors, stock_row_text, self)
            self.errors.setObjectName("stockImportErrors")
            self._layout.insertWidget(self._layout.count() - 2, self.errors, 100)  # above the stretch and the buttons

    def _say(self, text: str, colour: str) -> None:
        self.summary.setStyleSheet(f"color: {colour};")
        self.summary.setText(text)
        # A wrapped label's height follows its text only when asked (else a long preview is clipped).
        self.summary.setMinimumHeight(self.summary.heightForWidth(max(self.summary.width(), self.width() - 40)))
