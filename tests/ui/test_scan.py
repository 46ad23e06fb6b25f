"""The scan field: scanner vs typing by timing, Enter-terminated, IME off, codes cleaned."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from ui.scan import SCAN_MAX_GAP_MS, ScanDetector, ScanField


def feed(det: ScanDetector, text: str, gap_ms: float, start: float = 1000.0) -> float:
    t = start
    for ch in text:
        det.feed(ch, t)
        t += gap_ms
    return t


def test_detector_fast_keys_are_a_scan() -> None:
    det = ScanDetector()
    end = feed(det, "BL20261125-000001", 8)
    assert det.finish(end) is True
    assert det.buffer == ""  # reset for the next code


def test_detector_slow_keys_are_typing() -> None:
    det = ScanDetector()
    end = feed(det, "BL20261125", 120)
    assert det.finish(end) is False


def test_detector_one_slow_gap_or_late_enter_is_typing() -> None:
    det = ScanDetector()
    t = feed(det, "ABC", 5)
    t = feed(det, "DEF", 5, t + SCAN_MAX_GAP_MS * 3)
    assert det.finish(t) is False
    t = feed(det, "ABCDEF", 5)
    assert det.finish(t + SCAN_MAX_GAP_MS * 4) is False


def test_detector_too_short_is_not_a_scan() -> None:
    det = ScanDetector()
    assert det.finish(feed(det, "A1", 5)) is False


class FakeClock:
    def __init__(self, step_ms: float) -> None:
        self.t = 0.0
        self.step = step_ms

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def make_field(qtbot: Any, step_ms: float) -> ScanField:
    field = ScanField(clock=FakeClock(step_ms))
    qtbot.addWidget(field)
    field.show()
    field.setFocus()
    return field


def test_field_emits_scanned_for_scanner_input(qtbot: Any) -> None:
    field = make_field(qtbot, 6)
    typed: list[str] = []
    field.typed.connect(typed.append)
    with qtbot.waitSignal(field.scanned) as sig:
        QTest.keyClicks(field, "bl20261125-000001 ")
        QTest.keyClick(field, Qt.Key.Key_Return)
    assert sig.args == ["BL20261125-000001"]
    assert field.text() == "" and typed == []


def test_field_emits_typed_for_a_person(qtbot: Any) -> None:
    field = make_field(qtbot, 150)
    with qtbot.waitSignal(field.typed) as sig:
        QTest.keyClicks(field, "13800")
        QTest.keyClick(field, Qt.Key.Key_Enter)
    assert sig.args == ["13800"]


def test_field_editing_keys_make_it_typing(qtbot: Any) -> None:
    field = make_field(qtbot, 5)
    with qtbot.waitSignal(field.typed):
        QTest.keyClicks(field, "ABCDX")
        QTest.keyClick(field, Qt.Key.Key_Backspace)
        QTest.keyClick(field, Qt.Key.Key_Return)


def test_field_ignores_empty_input(qtbot: Any) -> None:
    field = make_field(qtbot, 5)
    with qtbot.assertNotEmitted(field.scanned), qtbot.assertNotEmitted(field.typed):
        QTest.keyClicks(field, "   ")
        QTest.keyClick(field, Qt.Key.Key_Return)


def test_input_method_is_off(qtbot: Any) -> None:
    field = make_field(qtbot, 5)
    assert not field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    hints = field.inputMethodHints()
    assert hints & Qt.InputMethodHint.ImhLatinOnly
    assert hints & Qt.InputMethodHint.ImhNoPredictiveText
    assert QGuiApplication.instance() is not None


def test_sounds_are_requested_and_never_crash(qtbot: Any, tmp_path: Any) -> None:
    import wave

    from ui.sounds import Sounds, tone_files

    files = tone_files(tmp_path)
    assert set(files) == {"ok", "error", "done"}
    with wave.open(str(files["error"])) as w:
        assert w.getnchannels() == 1 and w.getnframes() > 1000
    sounds = Sounds(folder=tmp_path)
    with qtbot.waitSignal(sounds.requested) as sig:
        sounds.error()
    assert sig.args == ["error"] and sounds.last_requested == "error"
    sounds.ok()
    sounds.done()
    assert sounds.last_requested == "done" and sounds.count == 3
