"""Station settings after the first run: the first-run form plus the hub address.

Station, bench, language and hub changes take effect on restart (the sync engine and the login
are bound to them); printers, label size and bench flow are read at each print.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.i18n import _
from core.settings import Settings
from ui.first_run import StationForm


class SettingsDialog(QDialog):
    """Edit and save the station's settings.

    Attributes:
        needs_restart: after accept, whether a changed setting only applies after a restart.
    """

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, benches: list[str] | None = None,
                 printers: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(_("Settings"))
        self.settings = settings
        self.needs_restart = False
        layout = QVBoxLayout(self)
        self.form = StationForm(settings, self, benches=benches, printers=printers)
        self.hub_url = QLineEdit(settings.hub_url, self)
        self.hub_url.setObjectName("hubUrl")
        self.hub_url.setPlaceholderText(_("Empty: the built-in hub on this PC"))
        self.form.form.insertRow(0, _("Hub address"), self.hub_url)
        layout.addWidget(self.form)
        note = QLabel(_("Changes to the station, bench, language or hub apply after a restart."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        url = self.hub_url.text().strip().rstrip("/")
        if url and not url.startswith(("http://", "https://")):
            self.form.problem_label.setText(_("The hub address starts with http:// or https://"))
            return
        problem = self.form.problem()
        if problem:
            self.form.problem_label.setText(problem)
            return
        before = (self.settings.station, self.settings.bench, self.settings.language, self.settings.hub_url)
        self.form.apply_to(self.settings)
        self.settings.hub_url = url
        self.settings.save()
        self.needs_restart = before != (self.settings.station, self.settings.bench, self.settings.language,
                                        self.settings.hub_url)
        super().accept()
