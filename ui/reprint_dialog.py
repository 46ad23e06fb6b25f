"""Asks why a label is printed again (the print journal records every reprint with its reason).

A second label for the same parcel is how parcels get shipped twice, so the reason is required:
the submit button stays disabled, with the reason why shown beside it, until something is typed.
Common reasons are one key away.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.i18n import N_, _

QUICK_REASONS = (N_("Label damaged"), N_("Printer jammed"), N_("Label lost"), N_("Barcode does not scan"))


class ReprintDialog(QDialog):
    """Modal dialog: which labels are reprinted, and a required reason."""

    def __init__(self, order_ids: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reprintDialog")
        self.setWindowTitle(_("Reprint label"))
        self.setModal(True)
        font = QFont(self.font())
        font.setPointSize(max(font.pointSize(), 13))
        self.setFont(font)
        layout = QVBoxLayout(self)
        shown = ", ".join(order_ids[:5]) + (" …" if len(order_ids) > 5 else "")
        intro = QLabel(_("A label was already printed for: {orders}.\nSay why it is printed again.").format(
            orders=shown))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.reason_edit = QLineEdit()
        quick = QHBoxLayout()
        for i, text in enumerate(QUICK_REASONS, 1):
            shown_reason = _(text)
            btn = QPushButton(f"&{i} {shown_reason}")
            btn.setAutoDefault(False)
            btn.clicked.connect(lambda _checked=False, t=shown_reason: self.reason_edit.setText(t))
            quick.addWidget(btn)
        layout.addLayout(quick)
        self.reason_edit.setObjectName("reprintReason")
        self.reason_edit.setPlaceholderText(_("Reason for the reprint (required)"))
        layout.addWidget(self.reason_edit)
        self.hint = QLabel()
        self.hint.setObjectName("reprintHint")
        self.hint.setStyleSheet("color: #b71c1c;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton(_("Reprint"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("reprintSubmit")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._update)
        self._update()
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _update(self) -> None:
        ok = bool(self.reason())
        self.submit.setEnabled(ok)
        self.hint.setText("" if ok else _("※ A reason is required before the label can be printed again."))

    def _accept(self) -> None:
        if self.reason():
            self.accept()
