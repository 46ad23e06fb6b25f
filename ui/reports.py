"""Reports from the app (issue 16 "Reports", docs/reports.md): the current queue as CSV, and the hub's
daily / weekly workbook.

* **Export the queue** (Ctrl+Shift+E, and under "More"): the queue on screen — its filter, search and
  sort as shown — with the columns the table shows, then the order fields a desk needs
  (:data:`core.order_csv.ORDER_FIELDS`). The GUI thread only copies the list of shown rows and the
  visible columns; the orders are read and the file written on the database worker, to a temporary
  file renamed into place, so a failed write leaves nothing half-written.
* **Reports…** (supervisor and admin): daily or weekly, a day picker and a warehouse; the workbook is
  downloaded on the network pool and saved there too; the dialog says in plain words what went wrong.

Where to save is asked through :attr:`ReportActions.ask_path` (a ``QFileDialog`` by default) — one
small seam, so a test gives a fixed path instead of a modal dialog.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.exporting import neutralise_row
from core.i18n import _, language
from core.order_csv import BOM, FIELD_KEYS, headers, order_cells
from core.queues import QueueRow
from core.roles import Role
from core.timeutil import DEFAULT_TZ, local_day, utcnow
from ui.queue_model import Column, QueueModel
from ui.services import AppServices

#: The order fields the table already shows when that column is visible (not repeated in the file).
_SHOWN_AS: dict[Column, str] = {Column.ORDER_ID: "order_id", Column.STATE: "state", Column.BENCH: "bench",
                                Column.RECIPIENT: "buyer", Column.HOLD: "hold"}

#: Orders read from the store per page of the export (their documents are parsed a page at a time).
EXPORT_PAGE = 1000

AskPath = Callable[[QWidget, str, str, str], str]


def ask_save_path(parent: QWidget, title: str, default_name: str, file_filter: str) -> str:
    """The Qt save dialog ("" when the user cancels)."""
    path, _filter = QFileDialog.getSaveFileName(parent, title, str(Path.home() / default_name), file_filter)
    return path


def save_atomically(path: Path, write: Callable[[Any], None], *, text: bool) -> None:
    """Write through a temporary file beside ``path`` and rename it into place.

    Raises:
        UserError: the folder is not writable, the disk is full, … (in plain words; nothing half-written).
    """
    tmp = path.with_name(f".{path.name}.part")
    try:
        with (open(tmp, "w", encoding="utf-8", newline="") if text else open(tmp, "wb")) as f:
            write(f)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(_("Could not save {path}: {why}").format(path=str(path), why=exc.strerror or exc),
                        code="save_failed") from None


# -- the queue as CSV -------------------------------------------------------------------------------

def export_rows(store: Any, model: QueueModel, rows: list[QueueRow], columns: list[tuple[int, str]],
                path: Path, *, tz: str = DEFAULT_TZ) -> int:
    """Write ``rows`` (the queue as shown) to ``path`` as CSV; returns how many. Runs on the database worker.

    Args:
        store: the local store (the orders' full fields come from their local views).
        model: the queue's model (its cell texts; plain Python, no Qt call).
        rows: the rows shown, in the table's order.
        columns: (column, header) of the visible columns, left to right.
    """
    lang = language()
    shown = {int(c) for c, _h in columns}
    keys = [k for k in FIELD_KEYS if not any(int(col) in shown and key == k for col, key in _SHOWN_AS.items())]

    def write(f: Any) -> None:
        f.write(BOM)
        out = csv.writer(f)
        out.writerow(neutralise_row([h for _c, h in columns] + headers(lang, keys)))
        for i in range(0, len(rows), EXPORT_PAGE):  # a page of documents at a time, not 100,000 at once
            page = rows[i:i + EXPORT_PAGE]
            docs = {oid: local for oid, local, _p, _c in store.order_views([r.order_id for r in page])}
            for r in page:
                cells = [r.order_id if c == Column.ORDER_ID else model.cell_text(r, c) for c, _h in columns]
                local = docs.get(r.order_id)
                full = order_cells(json.loads(local), tz=tz, lang=lang, keys=keys) if local else [""] * len(keys)
                out.writerow(neutralise_row(cells + full))
    save_atomically(path, write, text=True)
    return len(rows)


# -- the reports dialog -----------------------------------------------------------------------------

def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


class ReportsDialog(QDialog):
    """Daily or weekly report from the hub, saved where the user picks.

    Attributes (tests): ``kind``, ``day``, ``warehouse``, ``message``, ``download_button``,
    ``answered`` (downloads finished, well or not), ``saved`` (the last path written).
    """

    def __init__(self, services: AppServices, ask_path: AskPath, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportsDialog")
        self.setWindowTitle(_("Reports"))
        self.services = services
        self.ask_path = ask_path
        self.answered = 0
        self.saved: Path | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(_("The supervisor's figures of a day or a week as an Excel workbook with charts: "
                         "overview, fulfilment per hour, order states, exception reasons, short stock, benches."),
                       self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.kind = QComboBox(self)
        self.kind.setObjectName("reportKind")
        self.kind.addItem(_("Daily report"), "daily")
        self.kind.addItem(_("Weekly report (Monday to Sunday)"), "weekly")
        self.kind.currentIndexChanged.connect(lambda _i: self._describe())
        form.addRow(_("Report"), self.kind)
        self.day = QDateEdit(self)
        self.day.setObjectName("reportDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        today = local_day(utcnow(), DEFAULT_TZ)
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.day.setMaximumDate(QDate(today.year, today.month, today.day))
        self.day.dateChanged.connect(lambda _d: self._describe())
        form.addRow(_("Day"), self.day)
        self.warehouse = QLineEdit(self)
        self.warehouse.setObjectName("reportWarehouse")
        self.warehouse.setPlaceholderText(_("All warehouses (or type one, e.g. WH-SH)"))
        self.warehouse.setMaxLength(32)
        form.addRow(_("Warehouse"), self.warehouse)
        layout.addLayout(form)
        self.period = QLabel(self)
        self.period.setObjectName("reportPeriod")
        layout.addWidget(self.period)
        self.message = QLabel(self)
        self.message.setObjectName("reportMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(self)
        self.download_button = QPushButton(_("Download and save…"), self)
        self.download_button.setObjectName("reportDownload")
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.download)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText(_("Close"))  # ours, not Qt's catalogue
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._describe()
        self.resize(560, 300)

    def picked(self) -> tuple[str, date]:
        """The report kind and its day (weekly: the Monday of the picked day's week)."""
        kind = str(self.kind.currentData())
        q = self.day.date()
        d = date(q.year(), q.month(), q.day())
        return kind, (monday_of(d) if kind == "weekly" else d)

    def _describe(self) -> None:
        kind, d = self.picked()
        if kind == "weekly":
            self.period.setText(_("Week {first} (Monday) to {last} (Sunday)").format(
                first=d.isoformat(), last=(d + timedelta(days=6)).isoformat()))
        else:
            self.period.setText(_("Day {day}, site time").format(day=d.isoformat()))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c62828; font-weight: bold;" if error else "color: #2e7d32;")
        self.message.setText(("✘ " if error else "✓ ") + text if text else "")

    def download(self) -> None:
        """Ask where to save, then download and save on the network pool."""
        engine = self.services.engine
        if engine is None:
            self._say(_("There is no hub to ask; reports are made by the hub."), error=True)
            self.answered += 1
            return
        kind, d = self.picked()
        warehouse = self.warehouse.text().strip() or None
        default = f"packdesk-{kind}-{d.isoformat()}" + (f"-{warehouse}" if warehouse else "") + ".xlsx"
        chosen = self.ask_path(self, _("Save the report"), default, _("Excel workbook (*.xlsx)"))
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        self.download_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(_("Asking the hub for the report…"))

        def fetch_and_save() -> Path:
            body = engine.call_hub(lambda c: c.report(kind, d.isoformat(), warehouse=warehouse), read_timeout_s=120)
            save_atomically(path, lambda f: f.write(body), text=False)
            return path
        self.services.tasks.run_net(fetch_and_save, self._saved, self._failed)

    def _saved(self, path: Path) -> None:
        self.download_button.setEnabled(True)
        self.saved = path
        self._say(_("Saved: {path}").format(path=str(path)))
        self.answered += 1

    def _failed(self, exc: UserError) -> None:
        self.download_button.setEnabled(True)
        self._say(exc.message, error=True)
        self.answered += 1


# -- the window's actions ---------------------------------------------------------------------------

class ReportActions(QObject):
    """"Export queue to CSV" (Ctrl+Shift+E) and "Reports…" on the main window (both under "More").

    Args:
        window: the main window (``model``, ``table``, ``current_queue``, ``tell``, ``role``).
        make_action: the window's action factory, so F1 and docs/keys.md list the key.
        menu: the window's "More" menu.

    Attributes:
        ask_path: where to save (``QFileDialog`` by default; a test puts a fixed path here).
        exported: how many rows the last export wrote (tests), -1 before one finished.
    """

    def __init__(self, window: Any, make_action: Callable[..., QAction], menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.services: AppServices = window.services
        self.ask_path: AskPath = ask_save_path
        self.exported = -1
        self.last_path: Path | None = None
        self.dialog: ReportsDialog | None = None
        self.export_action = make_action(_("Export queue to CSV…"), "Ctrl+Shift+E", self.export_queue,
                                         "exportQueueAction", False,
                                         what=_("Export the queue as shown (filter, search, sort) to a CSV file "
                                                "for Excel or WPS"))
        self.reports_action = make_action(_("Reports…"), [], self.open_reports, "reportsAction", False)
        menu.addAction(self.export_action)
        menu.addAction(self.reports_action)

    def allowed(self) -> dict[QAction, bool]:
        """Export: anyone who sees the queue; reports: supervisors and admins with a hub."""
        supervisor = self._role().at_least(Role.SUPERVISOR) and self.services.engine is not None
        self.reports_action.setVisible(supervisor)
        return {self.export_action: True, self.reports_action: supervisor}

    def _role(self) -> Role:
        try:
            return Role(self.services.role)
        except ValueError:
            return Role.PACKER

    def visible_columns(self) -> list[tuple[int, str]]:
        """(column, header) of the table's visible columns, left to right as the user sees them."""
        table = self.window.table
        model = table.model()
        header = table.horizontalHeader()
        out = []
        for visual in range(header.count()):
            col = header.logicalIndex(visual)
            if not table.isColumnHidden(col):
                out.append((col, str(model.headerData(col, Qt.Orientation.Horizontal))))
        return out

    def export_queue(self) -> None:
        """Ctrl+Shift+E: the current queue as shown, to a CSV file the user picks."""
        model: QueueModel = self.window.model
        rows = model.shown_rows()
        if not rows:
            self.window.tell(_("This queue shows no orders: nothing to export."), "error")
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        default = f"packdesk-{self.window.current_queue}-{stamp}.csv"
        chosen = self.ask_path(self.window, _("Export the queue to CSV"), default, _("CSV for Excel / WPS (*.csv)"))
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() != ".csv":
            path = path.with_name(path.name + ".csv")
        columns = self.visible_columns()
        store = self.services.store
        self.window.tell(_("Writing {n} orders to {path}…").format(n=len(rows), path=str(path)))

        def done(n: int) -> None:
            self.exported, self.last_path = n, path
            self.window.tell(_("Exported {n} orders to {path}.").format(n=n, path=str(path)), "ok")

        def failed(exc: UserError) -> None:
            self.window.tell(exc.message, "error")
        self.services.tasks.run_db(lambda: export_rows(store, model, rows, columns, path), done, failed)

    def open_reports(self) -> None:
        """Reports… (supervisor and admin): the daily / weekly workbook from the hub."""
        if not self._role().at_least(Role.SUPERVISOR):
            self.window.tell(_("Only supervisors and admins download reports."), "error")
            return
        self.dialog = ReportsDialog(self.services, lambda *a: self.ask_path(*a), self.window)
        self.dialog.open()
