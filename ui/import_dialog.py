"""Importing orders from Excel or CSV at the desk: the way off the spreadsheet.

The file goes to the hub's ``/import`` (the hub gives every order its ID, so an import needs the
hub; offline it says so and changes nothing). Good rows are kept; each refused row comes back with
its Excel row number and the reason, shown in :class:`ImportResultDialog` so the clerk can fix the
sheet and import it again — rows already imported are recognised by their order number and not
doubled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
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
from core.sync import HubServerError, HubUnreachable, SyncEngine

#: The hub's limit for an import body (docs/api.md): checked here first, before a long upload.
MAX_IMPORT_BYTES = 20 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv", ".txt")


def upload_orders(engine: SyncEngine, path: Path) -> dict[str, Any]:
    """Read ``path`` and import it at the hub (network and disk: a worker thread, never the GUI's).

    Raises:
        UserError: the file cannot be read or is too big, or the hub refused or cannot be reached.
    """
    if path.suffix.lower() not in SUFFIXES:
        raise UserError(_("{file} is not an Excel (.xlsx) or CSV file.").format(file=path.name))
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise UserError(_("{file} is {mb:.0f} MB; the hub takes up to 20 MB per import. Split the sheet "
                              "and import the parts.").format(file=path.name, mb=size / 1024 / 1024))
        content = path.read_bytes()
    except OSError as exc:
        raise UserError(_("Cannot read {file}: {error}").format(file=path.name, error=exc.strerror or exc)) from exc
    try:
        answer: dict[str, Any] = engine.call_hub(lambda c: c.import_orders(path.name, content), read_timeout_s=300)
    except (HubUnreachable, HubServerError) as exc:
        raise UserError(_("The hub cannot be reached ({error}). Importing needs the hub (it gives each order "
                          "its ID); nothing was imported. Try again when the status bar says online.").format(
                              error=exc.message)) from exc
    return answer  # the new orders reach the queues through the change feed's long-poll


class ImportResultDialog(QDialog):
    """How an import went: orders taken in, and every refused row with its row number and reason.

    Attributes (tests): ``answer`` (the hub's), ``summary`` (QLabel), ``table`` (the refused rows),
    ``copy_button``.
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
        self.table = QTableWidget(len(errors), 2, self)
        self.table.setObjectName("importErrors")
        self.table.setHorizontalHeaderLabels([_("Row"), _("Why it was refused")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        for i, e in enumerate(errors):
            row = QTableWidgetItem(str(e.get("row", "")))
            row.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, 0, row)
            self.table.setItem(i, 1, QTableWidgetItem(str(e.get("reason", ""))))
        self.table.resizeRowsToContents()
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
        self.resize(760, 480 if errors else 160)

    def refused_text(self) -> str:
        """The refused rows as tab-separated lines (pastes into Excel as two columns)."""
        lines = []
        for i in range(self.table.rowCount()):
            cells = [self.table.item(i, c) for c in (0, 1)]
            lines.append("\t".join(c.text() if c is not None else "" for c in cells))
        return "\n".join(lines)
