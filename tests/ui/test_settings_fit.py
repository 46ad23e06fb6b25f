"""Settings and first-run fields show their whole content (issue 11: the ZPL host and other fields
were cut off), in both languages, and the dialog still fits a 1366×768 screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QSpinBox

from core.i18n import set_language
from core.settings import load_settings
from ui.first_run import FirstRunDialog
from ui.settings_dialog import SettingsDialog

PRINTERS = ["ZDesigner ZD420-203dpi ZPL (网络)", "Microsoft Print to PDF"]


def settings(home: Path) -> Any:
    s = load_settings(home / "settings.json")
    s.station, s.bench = "PACK-BENCH-GZ-B1-PC07", "GZ-B1"
    s.hub_url = "http://packdesk-hub.warehouse-sh.example.cn:8765"
    s.printers = {"label": "tcp:192.168.100.250:9100",
                  "pick_list": "pdf:C:/Users/packer/Documents/PackDesk/prints/拣货单",
                  "packing_slip": f"sys:{PRINTERS[0]}"}
    return s


def assert_every_field_shows_its_text(dialog: QDialog) -> None:
    for edit in dialog.findChildren(QLineEdit):
        if not edit.isVisible() or isinstance(edit.parent(), (QComboBox, QSpinBox)):
            continue
        text = edit.text() or edit.placeholderText()
        need = QFontMetrics(edit.font()).horizontalAdvance(text)
        room = edit.contentsRect().width() - edit.textMargins().left() - edit.textMargins().right() - 4
        assert room >= need, f"{edit.objectName() or text!r}: {room} px for {need} px of text"
    for combo in dialog.findChildren(QComboBox):
        if combo.isVisible():
            need = QFontMetrics(combo.font()).horizontalAdvance(combo.currentText())
            assert combo.width() - 30 >= need, f"{combo.objectName()}: {combo.currentText()!r}"
    for spin in dialog.findChildren(QSpinBox):
        if spin.isVisible():
            need = QFontMetrics(spin.font()).horizontalAdvance(spin.text())
            assert spin.width() - 24 >= need, f"{spin.objectName()}: {spin.text()!r}"
    assert dialog.width() <= 1366 and dialog.height() <= 728


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_settings_fields_show_their_content(qtbot: Any, home: Path, lang: str) -> None:
    set_language(lang)
    try:
        dialog = SettingsDialog(settings(home), printers=PRINTERS)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        host = dialog.form.printers["label"].host
        assert host.isVisible() and host.text() == "192.168.100.250"
        assert_every_field_shows_its_text(dialog)
        dialog.grab().save(f"/tmp/settings-{lang}.png")
    finally:
        set_language("en")


def test_first_run_fields_show_their_content(qtbot: Any, home: Path) -> None:
    dialog = FirstRunDialog(settings(home), printers=PRINTERS)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert_every_field_shows_its_text(dialog)
