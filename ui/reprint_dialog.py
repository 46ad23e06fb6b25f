"""Asks why a label is printed again (the print journal records every reprint with its reason).

A second label for the same parcel is how parcels get shipped twice, so the reason is required:
the submit button stays disabled, with the reason why shown beside it, until something is typed.
Common reasons are one key away: the digits 1..N pick the numbered reasons, and the last number
("Other") opens the free-text field. Digits only go into that field once the operator chose it
(that number, or a click into it); before that, pressing 2 picks reason 2 instead of typing "2".
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent
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


class ReasonEdit(QLineEdit):
    """The reason field: until the operator chooses to type, a digit picks the numbered reason.

    The keys are handled here, in the field's own handlers, and not by an event filter in the
    dialog: a Python event filter still receives the field's events while the dialog is being
    destroyed, and crashed the process there.
    """

    def __init__(self, pick: Callable[[int], None]) -> None:
        super().__init__()
        self._pick = pick
        #: the operator chose to type a reason ("Other", or clicked the field): digits are text then
        self.free_text = False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.free_text = True  # clicked into the field: the operator means to type
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.free_text:
            text = event.text()
            if text.isdigit() and text.isascii() and not event.modifiers() & (
                    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
                self._pick(int(text))
                event.accept()
                return  # a number picks a reason; it is never typed into the field
            if text and text.isprintable():
                self.free_text = True  # letters: the operator is typing a reason of their own
        super().keyPressEvent(event)


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
        self.reason_edit = ReasonEdit(self.pick)
        quick = QHBoxLayout()
        self.reason_buttons: list[QPushButton] = []
        for i, text in enumerate(QUICK_REASONS, 1):
            shown_reason = _(text)
            btn = QPushButton(f"&{i} {shown_reason}")
            btn.setAutoDefault(False)
            btn.clicked.connect(lambda _checked=False, n=i: self.pick(n))
            quick.addWidget(btn)
            self.reason_buttons.append(btn)
        other_text = _("Other (type the reason)")
        other = QPushButton(f"&{len(QUICK_REASONS) + 1} {other_text}")
        other.setObjectName("reprintOther")
        other.setAutoDefault(False)
        other.clicked.connect(lambda _checked=False: self.pick(len(QUICK_REASONS) + 1))
        quick.addWidget(other)
        self.reason_buttons.append(other)
        layout.addLayout(quick)
        self.reason_edit.setObjectName("reprintReason")
        self.reason_edit.setPlaceholderText(_("Press 1-{n} to pick a reason; {n}: type your own").format(
            n=len(QUICK_REASONS) + 1))
        layout.addWidget(self.reason_edit)
        self.hint = QLabel()
        self.hint.setObjectName("reprintHint")
        self.hint.setStyleSheet("color: #b71c1c;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton(_("Reprint"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("reprintSubmit")
        self.submit.setDefault(True)  # a reason picked by its number, then Enter
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._update)
        self.reason_edit.returnPressed.connect(self._accept)
        self._update()
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def pick(self, n: int) -> None:
        """Choose reason ``n`` (1-based); the number after the last reason is "Other": type it."""
        if 1 <= n <= len(QUICK_REASONS):
            self.reason_edit.free_text = False
            self.reason_edit.setText(_(QUICK_REASONS[n - 1]))
        elif n == len(QUICK_REASONS) + 1:
            self.reason_edit.free_text = True
            self.reason_edit.clear()
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def free_text(self) -> bool:
        """Whether the operator chose to type a reason (digits are text then)."""
        return self.reason_edit.free_text

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _update(self) -> None:
        ok = bool(self.reason())
        self.submit.setEnabled(ok)
        self.hint.setText("" if ok else _("※ A reason is required before the label can be printed again."))

    def _accept(self) -> None:
        if self.reason():
            self.accept()
