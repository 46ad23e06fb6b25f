"""Changing one stock row from the stock view (issue 14, docs/stock.md "Adjustments" and "Quarantine").

**F2** adjusts the selected row with a reason (盘点 count, 到货 receipt, 破损 damage, 其他 other);
**F3** takes units out of quarantine (报废 scrap, or 复检合格 back on the shelf). The dialog shows
before → after as the clerk types (``core/stock_change.py plan``), Enter sends it to the hub on the
network pool, Esc closes. A refusal or an unreachable hub is said in the dialog and what was typed
stays, so nothing is lost; stock lives at the hub, so nothing is queued offline.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.i18n import _
from core.stock_change import (
    ADJUST_KINDS,
    MAX_UNITS,
    QUARANTINE_KINDS,
    StockChange,
    change_refusal_text,
    plan,
)
from core.sync import HubRefused, HubServerError, HubUnreachable
from ui.services import AppServices

BAD_COLOUR, INFO_COLOUR = "#b71c1c", "#1565c0"


class StockChangeDialog(QDialog):
    """One adjustment (``mode="adjust"``) or one quarantine disposal (``mode="quarantine"``) of ``row``.

    Attributes (tests): ``kind`` (QComboBox), ``number`` (QSpinBox), ``note`` (QLineEdit), ``preview``
    and ``problem`` (QLabel), ``send_button``, ``answer`` (the hub's answer once applied).

    Signals:
        changed(dict): the hub applied the change (the stock view refreshes and says what happened).
    """

    changed = Signal(dict)

    def __init__(self, services: AppServices, row: dict[str, Any], mode: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stockChange")
        self.services, self.row, self.mode = services, dict(row), mode
        self.answer: dict[str, Any] | None = None
        self._pending: StockChange | None = None
        quarantine = mode == "quarantine"
        title = _("Quarantined units of {sku}") if quarantine else _("Adjust stock of {sku}")
        self.setWindowTitle(title.format(sku=row["sku"]))
        layout = QVBoxLayout(self)
        name = f"{row['sku']}  {row.get('name') or ''}".strip()
        head = QLabel(_("{item} at {warehouse}: {on_hand} on hand, {reserved} reserved, {available} available, "
                        "{quarantine} in quarantine").format(
            item=name, warehouse=row["warehouse"], on_hand=row["on_hand"], reserved=row["reserved"],
            available=row["available"], quarantine=row.get("quarantine") or 0), self)
        head.setWordWrap(True)
        head.setStyleSheet("font-size: 13pt; font-weight: bold;")
        layout.addWidget(head)
        form = QFormLayout()
        self.kind = QComboBox(self)
        self.kind.setObjectName("stockChangeKind")
        for code, words in QUARANTINE_KINDS if quarantine else ADJUST_KINDS:
            self.kind.addItem(_(words), code)
        form.addRow(_("What happens") if quarantine else _("Reason"), self.kind)
        self.number_label = QLabel(self)
        self.number = QSpinBox(self)
        self.number.setObjectName("stockChangeNumber")
        form.addRow(self.number_label, self.number)
        self.note = QLineEdit(self)
        self.note.setObjectName("stockChangeNote")
        self.note.setMaxLength(200)
        self.note.setPlaceholderText(_("Note: shelf, count sheet, what was found"))
        form.addRow(_("Note"), self.note)
        layout.addLayout(form)
        self.preview = QLabel(self)
        self.preview.setObjectName("stockChangePreview")
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet(f"color: {INFO_COLOUR}; font-size: 13pt;")
        layout.addWidget(self.preview)
        self.problem = QLabel(self)
        self.problem.setObjectName("stockChangeProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {BAD_COLOUR}; font-weight: bold;")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(self)
        self.send_button = QPushButton(_("Apply at the hub (Enter)"), self)
        self.send_button.setObjectName("stockChangeSend")
        self.send_button.setDefault(True)
        cancel = QPushButton(_("Cancel (Esc)"), self)
        cancel.setAutoDefault(False)
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.send_button.clicked.connect(self.send)
        cancel.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.number.valueChanged.connect(lambda _v: self._check())
        self.note.textChanged.connect(lambda _t: self._check())
        self.note.returnPressed.connect(self.send)
        self._kind_changed()
        self.number.setFocus()
        self.number.selectAll()
        self.resize(640, 300)

    # -- typing (GUI thread) ---------------------------------------------------------------------

    def _kind_changed(self) -> None:
        code = self.kind.currentData()
        on_hand = int(self.row["on_hand"])
        held_back = int(self.row.get("quarantine") or 0)
        self.number.blockSignals(True)
        if self.mode == "quarantine":
            self.number_label.setText(_("Units"))
            self.number.setRange(1 if held_back else 0, max(held_back, 0))
            self.number.setValue(held_back)
        elif code == "cycle_count":
            self.number_label.setText(_("Counted on the shelf"))
            self.number.setRange(0, MAX_UNITS)
            self.number.setValue(on_hand)
        elif code == "other":
            self.number_label.setText(_("Change (+ more, − fewer)"))
            self.number.setRange(-on_hand, MAX_UNITS - on_hand)
            self.number.setValue(0)
        else:
            self.number_label.setText(_("Units"))
            self.number.setRange(1, on_hand if code == "damage" and on_hand > 0 else MAX_UNITS)
            self.number.setValue(1)
        self.number.blockSignals(False)
        self._check()

    def _check(self) -> None:
        try:
            self._pending = plan(self.row, self.mode, str(self.kind.currentData()), self.number.value(),
                                 self.note.text())
        except UserError as exc:
            self._pending = None
            self.preview.setText("")
            self.problem.setText("• " + exc.message)
        else:
            self.preview.setText(self._pending.preview)
            self.problem.setText("")
        self.send_button.setEnabled(self._pending is not None)

    # -- sending (network pool) ------------------------------------------------------------------

    def send(self) -> None:
        change = self._pending
        engine = self.services.engine
        if change is None or not self.send_button.isEnabled():
            return
        if engine is None:
            self.problem.setText("• " + _("There is no hub to ask; stock is kept at the hub."))
            return
        self.send_button.setEnabled(False)
        self.problem.setText("")
        self.preview.setText(_("Sending to the hub…"))
        args = dict(change.args)  # the client method's own keyword arguments (core/stock_change.py plan)

        def call() -> dict[str, Any]:
            if change.call == "quarantine":
                return engine.call_hub(lambda c: c.dispose_quarantine(**args))
            return engine.call_hub(lambda c: c.adjust_stock(**args))
        self.services.tasks.run_net(call, self._applied, self._failed)

    def _applied(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.changed.emit(answer)
        self.accept()

    def _failed(self, exc: UserError) -> None:
        if isinstance(exc, (HubUnreachable, HubServerError)):
            text = _("The hub cannot be reached ({error}). Stock is kept at the hub; nothing was changed. "
                     "Try again when the status bar says online.").format(error=exc.message)
        elif isinstance(exc, HubRefused):
            text = change_refusal_text(exc.details, exc.message)
        else:
            text = exc.message
        self._check()  # what was typed stays; the button comes back
        self.problem.setText("• " + text)
