"""The hub's ``min_client_version`` setting: checked at start, answered by health and the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from hub.config import load_settings


def test_the_setting_is_read_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('min_client_version = "0.3.0"\n', encoding="utf-8")
    assert load_settings(path, env={"PACKDESK_HUB_DB": "sqlite:///x.db"}).min_client_version == "0.3.0"
    env = {"PACKDESK_HUB_DB": "sqlite:///x.db", "PACKDESK_HUB_MIN_CLIENT_VERSION": "0.4"}
    assert load_settings(path, env=env).min_client_version == "0.4"
    assert load_settings(None, env={"PACKDESK_HUB_DB": "sqlite:///x.db"}).min_client_version == ""  # any client


@pytest.mark.parametrize("bad", ["latest", "1.0-beta", "v2"])
def test_a_version_that_is_not_one_stops_the_hub_in_plain_words(bad: str) -> None:
    with pytest.raises(ValidationFailed, match="min_client_version"):
        load_settings(None, env={"PACKDESK_HUB_DB": "sqlite:///x.db", "PACKDESK_HUB_MIN_CLIENT_VERSION": bad})
