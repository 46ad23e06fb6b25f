"""The rules file's ``[weighing]`` section: read, checked, absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from hub.routing import Rules
from tests.hub.test_routing import BASE, write_rules

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_rules_weigh_and_a_site_without_the_section_does_not(tmp_path: Path) -> None:
    assert Rules.load(ROOT / "resources" / "rules" / "default.toml").weighing == {
        "packaging_g": 120, "tolerance_g": 50, "tolerance_pct": 5}
    assert Rules.load(write_rules(tmp_path)).weighing is None


@pytest.mark.parametrize(("section", "key"), [
    ("packaging_g = 100\ntolerance_g = 50\ntolerance_pct = 150", "weighing.tolerance_pct"),
    ("packaging_g = -1\ntolerance_g = 50\ntolerance_pct = 5", "weighing.packaging_g"),
    ("packaging_g = 100\ntolerance_g = \"50\"\ntolerance_pct = 5", "weighing.tolerance_g"),
    ("packaging_g = 100\ntolerance_pct = 5", "weighing.tolerance_g"),
    ("packaging_g = 100\ntolerance_g = 50\ntolerance_pct = 5\ntolerance_kg = 1", "weighing.tolerance_kg"),
])
def test_a_bad_weighing_section_is_refused_naming_the_key(tmp_path: Path, section: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Rules.load(write_rules(tmp_path, BASE + "\n[weighing]\n" + section + "\n"))
    assert caught.value.details["key"] == key, caught.value.message
