"""Qt's own dialogs speak the operator's language: the file dialog the import opens, above all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QLabel


def _labels(qtbot: Any) -> list[str]:
    dialog = QFileDialog(None, "x")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # what the app gets on every bench PC here
    qtbot.addWidget(dialog)
    return [label.text() for label in dialog.findChildren(QLabel) if label.text()]


def test_the_file_dialog_says_look_in_and_files_of_type_in_chinese(qapp: Any, qtbot: Any, home: Path) -> None:
    """Qt 6's "&Look in:" / "Files of &type:" are missing from its Chinese catalogue as written:
    with qtbase_zh_CN.qm alone the dialog still said "Look in" and "Files of type"."""
    from ui.app import use_language

    try:
        use_language(qapp, "zh_CN")
        labels = _labels(qtbot)
        assert "查找范围(&L)：" in labels and "文件类型(&T)：" in labels and "文件名称(&N)：" in labels, labels
        assert not any("Look in" in t or "Files of" in t for t in labels), labels
    finally:
        use_language(qapp, "en")
    assert "&Look in:" in _labels(qtbot)  # back to English: the translator is removed, not stacked
