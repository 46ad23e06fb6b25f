"""Importing orders from Excel or CSV at the desk: the way off the spreadsheet.

The steps (:class:`ImportFlow`, started by the main window's Import… action):

1. :class:`ImportStartDialog` — choose the file, or save our template ("下载模板") to fill in.
2. The file goes to the hub's ``/import`` (the hub gives every order its ID, so an import needs the
   hub; offline it says so and changes nothing). The hub recognises our headers and the platforms'
   export sheets (抖店, 拼多多, 淘宝, 微信小店); columns it does not know are ignored and listed.
3. A sheet whose columns the hub cannot place comes back as :class:`NeedsMapping`:
   :class:`ColumnMappingDialog` lets the clerk say which column is which field, and save the
   mapping under a name for every desk of the site; the file is then imported with it.
4. :class:`ImportResultDialog` — orders taken in, the notices, and every refused row with its row
   number and the reason in the operator's language, so the sheet can be fixed and imported again
   (rows already imported are recognised by their order number and not doubled).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
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
from core.i18n import _
from core.import_sheet import (
    FIELDS,
    PLATFORMS,
    field_label,
    missing_fields,
    refusal_text,
    row_error_text,
    write_template,
)
from core.sync import HubRefused, HubServerError, HubUnreachable, SyncEngine

#: The hub's limit for an import body (docs/api.md): checked here first, before a long upload.
MAX_IMPORT_BYTES = 20 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv", ".txt")


class NeedsMapping(UserError):
    """The hub found no column for some required fields: the clerk maps the sheet's columns.

    Attributes: ``headers`` (the sheet's, in order), ``suggested`` (header -> field the hub
    recognised), ``missing`` (fields without a column).
    """

    code = "needs_mapping"

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, details=details)
        self.headers = [str(h) for h in details.get("headers") or []]
        suggested = details.get("suggested")
        self.suggested = {str(h): str(f) for h, f in (suggested.items() if isinstance(suggested, dict) else ())}
        self.missing = [str(f) for f in details.get("missing") or []]


def read_sheet_file(path: Path) -> bytes:
    """A sheet's bytes for an import (disk: a worker thread), checked for type and the hub's size limit first.

    Raises:
        UserError: not .xlsx/.csv/.txt, over the hub's import limit, or unreadable (the operator's language).
    """
    if path.suffix.lower() not in SUFFIXES:
        raise UserError(_("{file} is not an Excel (.xlsx) or CSV file.").format(file=path.name))
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise UserError(_("{file} is {mb:.0f} MB; the hub takes up to 20 MB per import. Split the sheet "
                              "and import the parts.").format(file=path.name, mb=size / 1024 / 1024))
        return path.read_bytes()
    except OSError as exc:
        raise UserError(_("Cannot read {file}: {error}").format(file=path.name, error=exc.strerror or exc)) from exc


def upload_orders(engine: SyncEngine, path: Path, columns: dict[str, str] | None = None,
                  save_as: str = "", headers: list[str] | None = None) -> dict[str, Any]:
    """Read ``path`` and import it at the hub (network and disk: a worker thread, never the GUI's).

    Args:
        columns: the clerk's mapping (header -> field) for a sheet the hub did not recognise.
        save_as: also save that mapping at the hub under this name (every desk of the site uses it
            for sheets with the same ``headers``).

    Raises:
        NeedsMapping: the sheet has no column the hub recognises for some required fields.
        UserError: the file cannot be read or is too big, or the hub refused or cannot be reached
            (the message in the operator's language).
    """
    content = read_sheet_file(path)
    try:
        if save_as and columns is not None:
            engine.call_hub(lambda c: c.save_import_mapping(save_as, headers or list(columns), columns))
        answer: dict[str, Any] = engine.call_hub(lambda c: c.import_orders(path.name, content, columns),
                                                 read_timeout_s=300)
    except (HubUnreachable, HubServerError) as exc:
        raise UserError(_("The hub cannot be reached ({error}). Importing needs the hub (it gives each order "
                          "its ID); nothing was imported. Try again when the status bar says online.").format(
                              error=exc.message)) from exc
    except HubRefused as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        text = refusal_text(path.name, details, code=exc.code)
        if details.get("problem") == "missing_columns" and details.get("headers"):
            raise NeedsMapping(text, details) from exc
        raise UserError(text, code=exc.code, details=details) from exc
    return answer  # the new orders reach the queues through the change feed's long-poll


class ImportFlow(QObject):
    """One import from the main window: start dialog, upload, mapping step if needed, result.

    The window keeps the dialogs it shows as ``import_start``, ``import_mapping`` and
    ``import_result`` (tests read them).
    """

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window

    def start(self, path: str | None = None) -> None:
        """Open the start dialog, or go straight to importing ``path``."""
        if path:
            self.upload(path)
            return
        dialog = ImportStartDialog(self.window.services, self.window)
        dialog.chosen.connect(self.upload)
        self.window.import_start = dialog
        dialog.open()

    def upload(self, path: str, columns: dict[str, str] | None = None, save_as: str = "",
               headers: list[str] | None = None) -> None:
        w = self.window
        file = Path(path)
        engine = w.services.engine
        w.message_label.setText(_("Importing {file}…").format(file=file.name))
        w.import_action.setEnabled(False)  # one import at a time

        def done(answer: dict[str, Any]) -> None:
            w.import_action.setEnabled(True)
            w.message_label.setText("")
            w.import_result = ImportResultDialog(file.name, answer, w)
            w.import_result.open()

        def failed(exc: UserError) -> None:
            from ui.errors import show_error

            w.import_action.setEnabled(True)
            w.message_label.setText("")
            if isinstance(exc, NeedsMapping):
                mapping = ColumnMappingDialog(file.name, exc, w)
                mapping.mapped.connect(lambda cols, name: self.upload(path, cols, name, exc.headers))
                w.import_mapping = mapping
                mapping.open()
                return
            show_error(w, exc, _("Import failed"))

        w.services.tasks.run_net(lambda: upload_orders(engine, file, columns, save_as, headers), done, failed)


class ImportStartDialog(QDialog):
    """Choose the sheet to import, or save the template to fill in.

    Signals:
        chosen(str): the file to import.
    """

    chosen = Signal(str)

    def __init__(self, services: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importStart")
        self.services = services
        self.setWindowTitle(_("Import orders from Excel or CSV"))
        layout = QVBoxLayout(self)
        intro = QLabel(_("Choose an order sheet: our template, or an order export from Douyin shop, Pinduoduo, "
                         "Taobao or WeChat shop as it comes. Columns PackDesk does not use are skipped; for other "
                         "sheets you say once which column is which."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.status = QLabel("")
        self.status.setObjectName("importStartStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.choose_button = QPushButton(_("Choose file…"), self)
        self.choose_button.setObjectName("chooseSheet")
        self.choose_button.setDefault(True)
        self.template_button = QPushButton(_("Download template"), self)
        self.template_button.setObjectName("downloadTemplate")
        self.template_button.setAutoDefault(False)
        buttons.addButton(self.choose_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.template_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.choose_button.clicked.connect(lambda: self.choose())
        self.template_button.clicked.connect(lambda: self.save_template())
        layout.addWidget(buttons)
        self.resize(620, 220)

    def choose(self, path: str | None = None) -> None:
        """Ask for the sheet (``path`` skips the file dialog) and hand it on."""
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(
                self, _("Import orders from Excel or CSV"), "", _("Order sheets (*.xlsx *.csv *.txt)"))
        if path:
            self.accept()
            self.chosen.emit(path)

    def save_template(self, path: str | None = None) -> None:
        """Save our template where the clerk chooses (XLSX, or CSV for a .csv name), on a worker."""
        if path is None:
            path, _filter = QFileDialog.getSaveFileName(
                self, _("Save the order template"), _("order-template.xlsx"),
                _("Excel (*.xlsx);;CSV UTF-8 (*.csv)"))
        if not path:
            return
        target = path

        def saved(_result: None) -> None:
            self.status.setText(_("Template saved: {path}. Fill in one row per item; rows of one order share "
                                  "the order number.").format(path=target))

        def failed(exc: UserError) -> None:
            self.status.setText(exc.message)

        self.services.tasks.run_net(lambda: write_template(target), saved, failed)


class ColumnMappingDialog(QDialog):
    """Which column of the sheet is which field: the step for sheets the hub does not recognise.

    One row per column of the sheet with a choice of our fields (preset with what the hub
    recognised); Import stays disabled while a required field has no column, and says which.

    Signals:
        mapped(dict, str): header -> field, and the name to save the mapping under ("" = don't save).
    """

    mapped = Signal(dict, str)

    def __init__(self, filename: str, need: NeedsMapping, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importMapping")
        self.setWindowTitle(_("Which column is which: {file}").format(file=filename))
        self.headers = need.headers
        layout = QVBoxLayout(self)
        intro = QLabel(need.message)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(self.headers), 2, self)
        self.table.setObjectName("mappingTable")
        self.table.setHorizontalHeaderLabels([_("Column in the sheet"), _("PackDesk field")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.combos: dict[str, QComboBox] = {}
        for i, header in enumerate(self.headers):
            self.table.setItem(i, 0, QTableWidgetItem(header))
            combo = QComboBox(self.table)
            combo.addItem(_("(not imported)"), "")
            for key in FIELDS:
                combo.addItem(field_label(key), key)
            combo.setCurrentIndex(max(0, combo.findData(need.suggested.get(header, ""))))
            combo.currentIndexChanged.connect(self._update)
            self.table.setCellWidget(i, 1, combo)
            self.combos[header] = combo
        layout.addWidget(self.table, 1)
        self.missing_label = QLabel("")
        self.missing_label.setObjectName("mappingMissing")
        self.missing_label.setWordWrap(True)
        self.missing_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
        layout.addWidget(self.missing_label)
        self.save_box = QCheckBox(_("Save this mapping for every desk; sheets with the same columns then import "
                                    "without this step. Name:"), self)
        self.save_box.setObjectName("saveMapping")
        layout.addWidget(self.save_box)
        self.name_edit = QLineEdit(Path(filename).stem[:64], self)
        self.name_edit.setObjectName("mappingName")
        self.name_edit.setMaxLength(64)
        layout.addWidget(self.name_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.import_button = QPushButton(_("Import with these columns"), self)
        self.import_button.setObjectName("importMapped")
        self.import_button.setDefault(True)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.save_box.toggled.connect(self._update)
        self.name_edit.textChanged.connect(self._update)
        self._update()
        self.resize(760, 560)

    def columns(self) -> dict[str, str]:
        """The mapping as chosen: header -> field ("" for a column not imported)."""
        return {h: str(c.currentData() or "") for h, c in self.combos.items()}

    def _update(self) -> None:
        chosen = [f for f in self.columns().values() if f]
        missing = missing_fields(frozenset(chosen))
        problems = []
        if missing:
            problems.append(_("Still without a column: {fields}.").format(
                fields=_(", ").join(field_label(f) for f in missing)))
        if self.save_box.isChecked() and not self.name_edit.text().strip():
            problems.append(_("Give the mapping a name to save it."))
        self.missing_label.setText(" ".join(problems))
        self.import_button.setEnabled(not problems)

    def _accept(self) -> None:
        if not self.import_button.isEnabled():
            return
        name = self.name_edit.text().strip() if self.save_box.isChecked() else ""
        self.accept()
        self.mapped.emit(self.columns(), name)


class ImportResultDialog(QDialog):
    """How an import went: orders taken in, what was noticed, and every refused row with its row number.

    Attributes (tests): ``answer`` (the hub's), ``summary`` (QLabel), ``notices`` (QLabel),
    ``table`` (the refused rows), ``copy_button``.
    """

    def __init__(self, filename: str, answer: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importResult")
        self.answer = answer
        self.setWindowTitle(_("Import: {file}").format(file=filename))
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        imported = int(answer.get("imported") or 0)
        layout = QVBoxLayout(self)
        self.summary = QLabel(_("{file}: {n} orders imported, {m} rows refused.").format(
            file=filename, n=imported, m=len(errors)))
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        colour = "#1b5e20" if not errors else "#b71c1c"
        self.summary.setStyleSheet(f"font-size: 15pt; font-weight: bold; color: {colour};")
        layout.addWidget(self.summary)
        self.notices = QLabel(self._notices(answer))
        self.notices.setObjectName("importNotices")
        self.notices.setWordWrap(True)
        self.notices.setVisible(bool(self.notices.text()))
        layout.addWidget(self.notices)
        self.table = RowErrorTable(errors, row_error_text, self)
        self.table.setObjectName("importErrors")
        if errors:
            hint = QLabel(_("Fix these rows in the sheet and import it again: rows already imported are "
                            "recognised by their order number and not added twice."))
            hint.setWordWrap(True)
            layout.addWidget(hint)
            layout.addWidget(self.table, 1)
        else:
            self.table.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton(_("Copy the refused rows"), self)
        self.copy_button.setEnabled(bool(errors))
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.refused_text()))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 520 if errors else 200)

    @staticmethod
    def _notices(answer: dict[str, Any]) -> str:
        """What the hub noticed: the platform recognised, the saved mapping used, columns skipped."""
        lines = []
        preset = answer.get("preset")
        if isinstance(preset, str) and preset in PLATFORMS:
            lines.append(_("Read as an order export from {platform}.").format(platform=_(PLATFORMS[preset])))
        mapping = answer.get("mapping")
        if isinstance(mapping, str) and mapping:
            lines.append(_("Columns read with the saved mapping “{name}”.").format(name=mapping))
        ignored = [str(c) for c in answer.get("ignored_columns") or []]
        if ignored:
            lines.append(_("Columns not imported (PackDesk does not use them): {columns}").format(
                columns=_(", ").join(ignored)))
        return "\n".join(lines)

    def refused_text(self) -> str:
        """The refused rows as tab-separated lines (pastes into Excel as two columns)."""
        return self.table.refused_text()


class RowErrorTable(QTableWidget):
    """Refused rows of a sheet, one line each like a spreadsheet: the Excel row number and the reason in
    the operator's words (``text``: the order sheet's or the stock sheet's wording); the whole reason
    is the tooltip. Used by the order import's result and the stock import's preview."""

    def __init__(self, errors: list[dict[str, Any]], text: Callable[[dict[str, Any]], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(len(errors), 2, parent)
        self.setHorizontalHeaderLabels([_("Row"), _("Why it was refused")])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One line per refused row: wrapped reasons made rows several lines tall (a page showed a handful).
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for i, e in enumerate(errors):
            row = QTableWidgetItem(str(e.get("row", "")))
            row.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(i, 0, row)
            reason_text = text(e)
            reason = QTableWidgetItem(reason_text)
            reason.setToolTip(reason_text)
            self.setItem(i, 1, reason)

    def refused_text(self) -> str:
        """The refused rows as tab-separated lines (pastes into Excel as two columns)."""
        lines = []
        for i in range(self.rowCount()):
            cells = [self.item(i, c) for c in (0, 1)]
            lines.append("\t".join(c.text() if c is not None else "" for c in cells))
        return "\n".join(lines)
