"""Stations waiting for approval, and the ones approved or revoked: a supervisor's small desk.

A packer or desk PC that logs in on a station the hub does not know gets nothing until a
supervisor or admin approves it here (or with ``python main.py hub station approve``); the
approval sets the bench, so a packer's bench always comes from the hub, never from the PC
(docs/security.md). Every hub call runs on the network pool; the dialog only draws the answers.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.i18n import N_, _
from core.timeutil import local_text
from ui.services import AppServices

STATUS_NAMES = {"pending": N_("waiting for approval"), "approved": N_("approved"), "revoked": N_("revoked")}
#: Pending first: they are why a supervisor opens this dialog.
STATUS_ORDER = {"pending": 0, "approved": 1, "revoked": 2}
HEADERS = (N_("Station"), N_("Status"), N_("Bench"), N_("Asked for bench"), N_("Asked or approved by"), N_("When"),
           N_("Device"))


class StationsDialog(QDialog):
    """List the hub's stations; approve one on a bench, or revoke one.

    Attributes (tests): ``table``, ``bench`` (QComboBox), ``approve_button``, ``revoke_button``,
    ``message`` (QLabel), ``rows`` (the hub's station records as shown).
    """

    def __init__(self, services: AppServices, benches: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stationsDialog")
        self.setWindowTitle(_("Stations"))
        self.services = services
        self.rows: list[dict[str, Any]] = []
        self._note = ""
        layout = QVBoxLayout(self)
        intro = QLabel(_("A new bench or desk PC can do nothing until a supervisor approves it here. "
                         "The bench you approve is the only bench its packers see."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("stationsTable")
        self.table.setHorizontalHeaderLabels([_(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Bench"), self))
        self.bench = QComboBox(self)
        self.bench.setObjectName("stationBench")
        self.bench.setEditable(True)
        self.bench.addItem(_("(desk PC, no bench)"), "")
        for b in benches or []:
            self.bench.addItem(b, b)
        row.addWidget(self.bench, 1)
        self.approve_button = QPushButton(_("Approve on this bench"), self)
        self.approve_button.setObjectName("approveStation")
        self.approve_button.clicked.connect(self.approve_selected)
        row.addWidget(self.approve_button)
        self.revoke_button = QPushButton(_("Revoke"), self)
        self.revoke_button.setObjectName("revokeStation")
        self.revoke_button.clicked.connect(self.revoke_selected)
        row.addWidget(self.revoke_button)
        layout.addLayout(row)
        self.message = QLabel(self)
        self.message.setObjectName("stationsMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.refresh_button = QPushButton(_("Refresh"), self)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._selection_changed()
        self.resize(900, 420)

    # -- hub calls (network pool) ----------------------------------------------------------------

    def refresh(self) -> None:
        engine = self.services.engine
        if engine is None:
            self._say(_("There is no hub to ask; stations are approved at the hub."), error=True)
            return
        self._busy(_("Asking the hub for its stations…"))
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.stations()), self._show, self._failed)

    def approve_selected(self) -> None:
        st, engine = self.selected(), self.services.engine
        if st is None or engine is None:
            return
        text = self.bench.currentText().strip()
        data = self.bench.currentData()
        bench = str(data) if data is not None and self.bench.itemText(self.bench.currentIndex()) == text else text
        name = str(st["name"])
        self._busy(_("Approving {station}…").format(station=name))
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.approve_station(name, bench)),
                                    lambda doc: self._changed(_("Station {station} approved on bench {bench}.").format(
                                        station=name, bench=doc.get("bench") or _("none (desk PC)"))), self._failed)

    def revoke_selected(self) -> None:
        st, engine = self.selected(), self.services.engine
        if st is None or engine is None:
            return
        name = str(st["name"])
        self._busy(_("Revoking {station}…").format(station=name))
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.revoke_station(name)),
                                    lambda _doc: self._changed(_("Station {station} revoked: it can do nothing "
                                                                 "now.").format(station=name)), self._failed)

    # -- drawing (GUI thread) --------------------------------------------------------------------

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _show(self, rows: list[dict[str, Any]]) -> None:
        before = self.selected()
        # The rows change under the selection: clear it, so a button never acts on another station.
        self.table.clearSelection()
        self.rows = sorted(rows, key=lambda r: (STATUS_ORDER.get(str(r.get("status")), 3), str(r["name"])))
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            status = str(r.get("status") or "")
            cells = [r["name"], _(STATUS_NAMES.get(status, status)), r.get("bench") or "—",
                     r.get("requested_bench") or "—", r.get("requested_by") or r.get("approved_by") or "—",
                     local_text(r.get("requested_at") or r.get("approved_at") or "—", "%Y-%m-%d %H:%M"),
                     r.get("requested_device_id") or r.get("device_id") or "—"]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(str(value))
                if status == "pending":
                    item.setForeground(Qt.GlobalColor.darkBlue)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, c, item)
        for b in sorted({str(v) for r in self.rows for v in (r.get("bench"), r.get("requested_bench")) if v}):
            if self.bench.findData(b) < 0:
                self.bench.addItem(b, b)
        pending = sum(1 for r in self.rows if r.get("status") == "pending")
        summary = (_("{n} stations wait for approval.").format(n=pending) if pending
                   else _("No station waits for approval."))
        self._say(f"{self._note} {summary}" if self._note else summary)
        self._note = ""
        self.refresh_button.setEnabled(True)
        names = [str(r["name"]) for r in self.rows]
        if pending:
            self.table.selectRow(0)
        elif before is not None and before["name"] in names:
            self.table.selectRow(names.index(before["name"]))
        self._selection_changed()

    def _changed(self, text: str) -> None:
        self._note = text  # kept in front of the refreshed list's summary
        self.refresh()

    def _failed(self, exc: UserError) -> None:
        self.refresh_button.setEnabled(True)
        self._say(exc.message, error=True)
        self._selection_changed()

    def _busy(self, text: str) -> None:
        self._say(text)
        for b in (self.approve_button, self.revoke_button, self.refresh_button):
            b.setEnabled(False)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {'#c62828' if error else '#1565c0'}; font-size: 13pt;")
        self.message.setText(text)

    def _selection_changed(self) -> None:
        st = self.selected()
        self.approve_button.setEnabled(st is not None)
        self.revoke_button.setEnabled(st is not None and st.get("status") != "revoked")
        if st is not None:
            want = st.get("requested_bench") if st.get("status") != "approved" else st.get("bench")
            if want is None:
                want = st.get("bench")
            idx = self.bench.findData(want or "")
            if idx >= 0:
                self.bench.setCurrentIndex(idx)
            else:
                self.bench.setEditText(str(want))
