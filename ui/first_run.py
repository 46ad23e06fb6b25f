"""First run: name this station, pick its bench, language, printers, label size and bench flow.

The same form (:class:`StationForm`) is reused by the settings dialog. Printers are real choices,
never stubs: the system's printers (``ui.print_qt.available_printers()``), "Save as PDF" into a
folder (stored as ``pdf:<folder>``) or a networked thermal printer taking ZPL (``tcp:<host>:<port>``).
Everything is saved through :mod:`core.settings` (the one place that knows the settings).
"""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

from PySide6.QtGui import QFontMetrics, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import paths
from core.i18n import LANGUAGES, _
from core.settings import DOC_TYPES, LABEL_SIZES, Settings
from printing.targets import PrinterSetting, parse_printer
from ui.print_qt import available_printers

RULES_FILE = Path(__file__).resolve().parents[1] / "resources" / "rules" / "default.toml"
NO_BENCH = ""  # a desk PC
#: The widest a settings field grows to fit its text: the dialog still fits a 1366×768 screen.
MAX_FIELD_WIDTH = 1000


def known_benches(rules_file: Path = RULES_FILE) -> list[str]:
    """Bench names from the routing rules (normal then VIP benches, per warehouse).

    The hub has no endpoint listing benches, so the list comes from the rules file shipped with the
    app (the embedded hub uses the same file); a site with its own rules can still type a name.
    """
    try:
        data = tomllib.loads(rules_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ["B1"]
    names: list[str] = []
    for wh in (data.get("warehouses") or {}).values():
        if isinstance(wh, dict):
            names += [str(b) for b in wh.get("benches") or []] + [str(b) for b in wh.get("vip_benches") or []]
    return list(dict.fromkeys(names)) or ["B1"]


def doc_name(doc_type: str) -> str:
    return {"label": _("Shipping label"), "pick_list": _("Pick list"),
            "packing_slip": _("Packing slip")}.get(doc_type, doc_type)


class PrinterChoice(QWidget):
    """One document type's printer: a system printer, Save as PDF (folder), or a ZPL printer (host:port)."""

    PDF = "pdf"
    TCP = "tcp"

    def __init__(self, printers: list[str], current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox(self)
        for name in printers:
            self.kind.addItem(name, "sys:" + name)
        self.kind.addItem(_("Save as PDF"), self.PDF)
        self.kind.addItem(_("Network thermal printer (ZPL)"), self.TCP)
        self.folder = QLineEdit(self)
        self.folder.setPlaceholderText(_("Folder for the PDF files"))
        self.host = QLineEdit(self)
        self.host.setPlaceholderText(_("Printer address, e.g. 192.168.1.50"))
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(9100)
        # The printer kind on one line, where it prints on the next at the form's full width: a
        # folder path or a printer address beside the kind was cut off (issue 11).
        fm = QFontMetrics(self.host.font())
        self.host.setMinimumWidth(fm.horizontalAdvance("255.255.255.255") + 24)
        self.port.setMinimumWidth(fm.horizontalAdvance("65535") + 48)  # and the up/down buttons
        self.folder.setMinimumWidth(fm.horizontalAdvance("C:/Users/packer/Documents/PackDesk/prints") + 24)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addWidget(self.kind)
        target = QHBoxLayout()
        target.addWidget(self.folder, 1)
        target.addWidget(self.host, 1)
        target.addWidget(self.port)
        rows.addLayout(target)
        self.folder.setText(str(paths.data_dir() / "prints"))
        self.set_value(current)
        self.kind.currentIndexChanged.connect(self._update)
        self._update()

    def set_value(self, value: str) -> None:
        setting = parse_printer(value)
        if setting.kind == "pdf":
            self.kind.setCurrentIndex(self.kind.findData(self.PDF))
            self.folder.setText(str(setting.folder or ""))
        elif setting.kind == "tcp":
            self.kind.setCurrentIndex(self.kind.findData(self.TCP))
            self.host.setText(setting.host)
            self.port.setValue(setting.port)
        elif setting.kind == "system" and self.kind.findData("sys:" + setting.name) >= 0:
            self.kind.setCurrentIndex(self.kind.findData("sys:" + setting.name))
        else:
            # Unset or a printer no longer installed: Save as PDF is the safe default.
            self.kind.setCurrentIndex(self.kind.findData(self.PDF))

    def _update(self) -> None:
        kind = self.kind.currentData()
        self.folder.setVisible(kind == self.PDF)
        self.host.setVisible(kind == self.TCP)
        self.port.setVisible(kind == self.TCP)

    def value(self) -> str:
        kind = self.kind.currentData()
        if kind == self.PDF:
            return PrinterSetting("pdf", folder=Path(self.folder.text().strip() or paths.data_dir() / "prints")).value()
        if kind == self.TCP:
            return PrinterSetting("tcp", host=self.host.text().strip(), port=self.port.value()).value()
        return PrinterSetting("system", name=str(kind)[4:]).value()

    def problem(self) -> str | None:
        if self.kind.currentData() == self.TCP and not self.host.text().strip():
            return _("Enter the thermal printer's network address.")
        return None


class StationForm(QWidget):
    """The station's settings as a form (first run and the settings dialog)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, benches: list[str] | None = None,
                 printers: list[str] | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        # Fields take the room there is (a long hub address, folder or bench flow is never cut off).
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.station = QLineEdit(settings.station or socket.gethostname(), self)
        self.station.setObjectName("stationName")
        self.form.addRow(_("Station name"), self.station)
        self.bench = QComboBox(self)
        self.bench.setObjectName("bench")
        self.bench.setEditable(True)
        names = benches if benches is not None else known_benches()
        for name in names:
            self.bench.addItem(name, name)
        self.bench.addItem(_("No bench (desk PC)"), NO_BENCH)
        current = settings.bench if settings.station else (settings.bench or "B1")
        index = self.bench.findData(current)
        if index < 0 and current:
            self.bench.addItem(current, current)
            index = self.bench.findData(current)
        self.bench.setCurrentIndex(index if index >= 0 else 0)
        self.form.addRow(_("Bench"), self.bench)
        self.language = QComboBox(self)
        self.language.setObjectName("language")
        for code, label in LANGUAGES.items():
            self.language.addItem(label, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.form.addRow(_("Language (takes effect on restart)"), self.language)
        system = printers if printers is not None else available_printers()
        self.printers: dict[str, PrinterChoice] = {}
        for doc in DOC_TYPES:
            choice = PrinterChoice(system, settings.printers.get(doc, ""), self)
            choice.setObjectName(f"printer_{doc}")
            self.printers[doc] = choice
            self.form.addRow(doc_name(doc), choice)
        self.label_size = QComboBox(self)
        for size in LABEL_SIZES:
            self.label_size.addItem(size.replace("x", " × ") + " mm", size)
        self.label_size.setCurrentIndex(max(0, self.label_size.findData(settings.label_size)))
        self.form.addRow(_("Label size"), self.label_size)
        self.flow = QComboBox(self)
        self.flow.setObjectName("benchFlow")
        self.flow.addItem(_("Print first (print label, pick, verify, pack)"), "print-first")
        self.flow.addItem(_("Pack first (pick, verify, pack, then print)"), "pack-first")
        self.flow.setCurrentIndex(max(0, self.flow.findData(settings.bench_flow)))
        self.form.addRow(_("Bench flow"), self.flow)
        self.handover = QComboBox(self)
        self.handover.setObjectName("handoverMode")
        self.handover.addItem(_("Ship when packed"), "at_pack")
        self.handover.addItem(_("Ship at the handover scan (Ctrl+H)"), "batch")
        self.handover.setToolTip(_("Ship at the handover scan: packed parcels wait, and each courier's batch "
                                   "ships when it is closed with its manifest"))
        self.handover.setCurrentIndex(max(0, self.handover.findData(settings.handover)))
        self.form.addRow(_("Hand-over"), self.handover)
        self.wave_size = QSpinBox(self)
        self.wave_size.setObjectName("waveSize")
        self.wave_size.setRange(1, 200)
        self.wave_size.setValue(settings.wave_size)
        self.wave_size.setSuffix(_(" orders"))
        self.form.addRow(_("Orders per printed wave"), self.wave_size)
        self.problem_label = QLabel(self)
        self.problem_label.setStyleSheet("color: #c62828; font-weight: bold;")
        self.form.addRow(self.problem_label)

    def showEvent(self, event: QShowEvent) -> None:
        """Every text field is at least as wide as what it holds (up to a bench screen), so the dialog
        opens wide enough: a hub address or a PDF folder cut off at the left reads as a wrong one."""
        for edit in self.findChildren(QLineEdit):
            fm = QFontMetrics(edit.font())
            need = fm.horizontalAdvance(edit.text() or edit.placeholderText()) + 24
            edit.setMinimumWidth(min(max(edit.minimumWidth(), need), MAX_FIELD_WIDTH))
        super().showEvent(event)

    def bench_value(self) -> str:
        text = self.bench.currentText().strip()
        data = self.bench.currentData()
        if data is not None and self.bench.itemText(self.bench.currentIndex()) == text:
            return str(data)
        return text  # typed by hand

    def problem(self) -> str | None:
        if not self.station.text().strip():
            return _("Give this station a name.")
        for choice in self.printers.values():
            if (p := choice.problem()) is not None:
                return p
        return None

    def apply_to(self, settings: Settings) -> None:
        settings.station = self.station.text().strip()
        settings.bench = self.bench_value()
        settings.language = str(self.language.currentData())
        settings.printers = {doc: choice.value() for doc, choice in self.printers.items()}
        settings.label_size = str(self.label_size.currentData())
        settings.bench_flow = str(self.flow.currentData())
        settings.handover = str(self.handover.currentData())
        settings.wave_size = int(self.wave_size.value())


class FirstRunDialog(QDialog):
    """Shown once, before the first login; saves the settings when accepted."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, benches: list[str] | None = None,
                 printers: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        self.setWindowTitle(_("Set up this station"))
        self.setMinimumWidth(720)  # room for a printer folder path without cutting it off
        self.settings = settings
        layout = QVBoxLayout(self)
        intro = QLabel(_("Welcome to PackDesk. Tell it which bench this PC serves and where it prints. "
                         "You can change this later in Settings."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.form = StationForm(settings, self, benches=benches, printers=printers)
        layout.addWidget(self.form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        problem = self.form.problem()
        if problem:
            self.form.problem_label.setText(problem)
            return
        self.form.apply_to(self.settings)
        self.settings.save()
        super().accept()
