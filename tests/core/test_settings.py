"""Client settings: declared once, bad values fall back to defaults with a warning, device ID kept."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core.errors import ValidationFailed
from core.settings import SETTINGS, Settings, load_settings


def test_first_run_makes_and_keeps_a_device_id(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    first = load_settings(path)
    assert path.exists()
    assert load_settings(path).device_id == first.device_id
    assert first.language == "zh_CN" and first.bench_flow == "print-first" and first.label_size == "100x150"


def test_bad_and_unknown_values_fall_back_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "language": "fr",
                "bench_flow": 3,
                "printers": {"label": 5},
                "hub_url": "http://h",
                "colour": "blue",
                "device_id": "not-a-uuid",
            }
        )
    )
    with caplog.at_level(logging.WARNING, logger="packdesk.settings"):
        s = load_settings(path)
    assert (s.language, s.bench_flow, s.printers, s.hub_url) == ("zh_CN", "print-first", {}, "http://h")
    text = caplog.text
    assert "language" in text and "bench_flow" in text and "colour" in text
    assert len(s.device_id) == 36


def test_unreadable_file_is_kept_aside_and_defaults_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    s = load_settings(path)
    assert s.language == "zh_CN"
    assert (tmp_path / "settings.json.bad").read_text() == "{not json"


def test_save_and_reload_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = load_settings(path)
    s.language, s.bench_flow, s.printers, s.label_size = "en", "pack-first", {"label": "ZD420"}, "100x180"
    s.save()
    again = load_settings(path)
    assert again == s and again.printer_for("label") == "ZD420" and again.printer_for("pick_list") is None


def test_invalid_value_is_not_saved(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "settings.json")
    s.language = "klingon"
    with pytest.raises(ValidationFailed, match="language"):
        s.save()


def test_default_location_follows_packdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    s = load_settings()
    assert s.path == tmp_path / "data" / "settings.json"


def test_every_declared_setting_is_a_field() -> None:
    assert {spec.name for spec in SETTINGS} <= set(Settings.__dataclass_fields__)
