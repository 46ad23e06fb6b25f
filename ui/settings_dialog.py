"""Station settings after the first run: the first-run form plus the hub address.

Station, bench, language and hub changes take effect on restart (the sync engine and the login
are bound to them); printers, label size and bench flow are read at each print. The scale
(port, baud rate, protocol) applies at once; "Test scale" reads the port as typed and shows the
live weight before anything is saved.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.i18n import _, language
from core.scale import BAUD_RATES, PROTOCOLS, Link, Reading
from core.settings import Settings
from ui.first_run import StationForm
from ui.scale_service import ScaleService, link_text, protocol_name, reading_text


class SettingsDialog(QDialog):
    """Edit and save the station's settings.

    Attributes:
        needs_restart: after accept, whether a changed setting only applies after a restart.
    """

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, benches: list[str] | None = None,
                 printers: list[str] | None = None, scale: ScaleService | None = None) -> None:
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
        self._scale_section(scale)
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
        self.settings.scale_port = self.scale_port.text().strip()
        self.settings.scale_baud = int(self.scale_baud.currentData())
        self.settings.scale_protocol = str(self.scale_protocol.currentData())
        self.settings.save()
        self.needs_restart = before != (self.settings.station, self.settings.bench, self.settings.language,
                                        self.settings.hub_url)
        super().accept()

    # -- the scale ---------------------------------------------------------------------------------
    def _scale_section(self, scale: ScaleService | None) -> None:
        """Port, baud rate and protocol on one row; the test button and the live reading on the next."""
        s = self.settings
        #: the app's scale service (its port is freed for the test), or one of our own
        self.scale = scale if scale is not None else ScaleService(s, self, silence_s=3.0, retry_s=1.0)
        self._own_scale = scale is None
        self.scale_port = QLineEdit(s.scale_port, self)
        self.scale_port.setObjectName("scalePort")
        self.scale_port.setPlaceholderText(_("Empty: no scale (e.g. COM3)"))
        self.scale_baud = QComboBox(self)
        self.scale_baud.setObjectName("scaleBaud")
        for baud in BAUD_RATES:
            self.scale_baud.addItem(str(baud), baud)
        self.scale_baud.setCurrentIndex(max(0, self.scale_baud.findData(s.scale_baud)))
        self.scale_protocol = QComboBox(self)
        self.scale_protocol.setObjectName("scaleProtocol")
        for key in PROTOCOLS:
            self.scale_protocol.addItem(protocol_name(key, language()), key)
        self.scale_protocol.setCurrentIndex(max(0, self.scale_protocol.findData(s.scale_protocol)))
        row = QHBoxLayout()
        row.addWidget(self.scale_port, 1)
        row.addWidget(self.scale_baud, 0)
        form = self.form.form
        at = form.rowCount() - 1  # above the problem line, which stays last
        form.insertRow(at, _("Scale port and baud rate"), row)
        form.insertRow(at + 1, _("Scale output format"), self.scale_protocol)
        self.test_scale = QPushButton(_("Test scale"), self)
        self.test_scale.setObjectName("testScale")
        self.test_scale.clicked.connect(self.start_scale_test)
        self.scale_live = QLabel(self)
        self.scale_live.setObjectName("scaleLive")
        self.scale_live.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scale_live.setStyleSheet("font-size: 16pt; font-weight: bold;")
        # A long link message (a port path, an error) wraps instead of widening the dialog past the screen.
        self.scale_live.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_scale, 0)
        test_row.addWidget(self.scale_live, 1)
        form.insertRow(at + 2, "", test_row)
        self.testing = False
        self.scale.reading.connect(self._scale_reading)
        self.scale.link_changed.connect(self._scale_link)
        self.finished.connect(self._end_scale_test)

    def start_scale_test(self) -> None:
        """Read the port as typed (not yet saved) and show what the scale sends."""
        port = self.scale_port.text().strip()
        if not port:
            self.scale_live.setText(_("Type the scale's port first (e.g. COM3)."))
            return
        self.testing = True
        self.scale_live.setText(link_text(Link.CONNECTING, port))
        self.scale.use(port, int(self.scale_baud.currentData()), str(self.scale_protocol.currentData()))

    def _scale_reading(self, reading: Reading | None) -> None:
        if self.testing and reading is not None:
            self.scale_live.setText(reading_text(reading))

    def _scale_link(self, link: str, _detail: str) -> None:
        if self.testing and link != Link.CONNECTED.value:
            self.scale_live.setText(link_text(Link(link), self.scale.port))

    def _end_scale_test(self, _code: Any = None) -> None:
        """The dialog closed: our own reader stops; the app's reads what the settings now say."""
        self.testing = False
        if self._own_scale:
            self.scale.stop()
        elif self.scale.reader is not None or self.scale.configured:
            self.scale.restart()
