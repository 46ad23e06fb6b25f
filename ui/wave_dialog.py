"""Ctrl+W's question: print the next wave for all carriers or for one, each with its count.

The choices come from :func:`core.waves.wave_choices` (all carriers first, then each carrier by
its cut-off); this dialog only draws them. Keyboard first: the digits 1..N (or Alt+digit, or the
arrow keys) choose, Enter prints the chosen wave, Esc cancels. "All carriers" is chosen when the
dialog opens, so Ctrl+W, Enter prints what it always printed.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.display_names import carrier_name
from core.i18n import _, language
from core.waves import WaveChoice

__all__ = ["WaveDialog", "choice_text"]


def choice_text(choice: WaveChoice) -> str:
    """How a choice reads: whose wave, how many orders it takes (of how many waiting), the cut-off."""
    n, waiting = len(choice.order_ids), choice.waiting
    if choice.carrier is None:
        text = (_("All carriers: {n} orders") if waiting <= n
                else _("All carriers: {n} of {waiting} orders")).format(n=n, waiting=waiting)
    else:
        name = carrier_name(choice.carrier or None, language())
        text = (_("{carrier}: {n} orders") if waiting <= n
                else _("{carrier}: {n} of {waiting} orders")).format(carrier=name, n=n, waiting=waiting)
    if choice.cutoff:
        text += " · " + _("cut-off {time}").format(time=choice.cutoff)
    return text


class WaveDialog(QDialog):
    """Modal question with one numbered choice per carrier; :meth:`chosen` is the answer."""

    def __init__(self, choices: list[WaveChoice], *, print_first: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert choices, "a wave question needs something to print"
        self.setObjectName("waveConfirm")
        self.setWindowTitle(_("Print a wave"))
        self.setModal(True)
        self.choices = list(choices)
        self.print_first = print_first
        font = QFont(self.font())
        font.setPointSize(max(font.pointSize(), 12))
        self.setFont(font)
        layout = QVBoxLayout(self)
        self.question = question = QLabel(_("Print the next wave: a pick list and its labels. For which carrier?") if print_first
                          else _("Print the pick list of the next wave. For which carrier?"))
        question.setWordWrap(True)
        layout.addWidget(question)
        self.group = QButtonGroup(self)
        self.buttons: list[QRadioButton] = []
        for i, choice in enumerate(self.choices):
            # a mnemonic for the first nine: Alt+digit, and the bare digit (keyPressEvent)
            prefix = f"&{i + 1}  " if i < 9 else "    "
            button = QRadioButton(prefix + choice_text(choice))
            button.setObjectName(f"waveChoice{i + 1}")
            self.group.addButton(button, i)
            layout.addWidget(button)
            self.buttons.append(button)
        hint = QLabel(_("Digits or arrow keys choose; Enter prints, Esc cancels."))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.box = QDialogButtonBox()
        self.print_button = QPushButton()
        self.print_button.setObjectName("wavePrint")
        self.box.addButton(self.print_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.box.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.print_button.setDefault(True)
        self.print_button.setAutoDefault(True)
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        layout.addWidget(self.box)
        self.group.idToggled.connect(self._toggled)
        self.pick(1)

    def pick(self, number: int) -> None:
        """Choose the ``number``-th choice (1-based); out of range does nothing."""
        if 1 <= number <= len(self.buttons):
            self.buttons[number - 1].setChecked(True)
            self.buttons[number - 1].setFocus()
            self._update_button()

    def text(self) -> str:
        """What the dialog says, as one text (the question, the choices, the print button): for a screen reader's
        summary and tests, like ``QMessageBox.text()`` which this dialog replaced."""
        lines = [self.question.text(), *(b.text().replace("&", "") for b in self.buttons),
                 self.print_button.text()]
        return "\n".join(lines)

    def chosen(self) -> WaveChoice:
        return self.choices[max(0, self.group.checkedId())]

    def _toggled(self, _id: int, on: bool) -> None:
        if on:
            self._update_button()

    def _update_button(self) -> None:
        n = len(self.chosen().order_ids)
        self.print_button.setText(_("Print {n} labels").format(n=n) if self.print_first else _("Print the pick list"))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if text.isdigit() and text.isascii():
            self.pick(int(text))
            event.accept()
            return
        super().keyPressEvent(event)
