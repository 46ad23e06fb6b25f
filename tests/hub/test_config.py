"""Hub settings: a bad file or variable is a plain error naming what is wrong, before anything serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from hub.config import load_settings


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hub.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_settings_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, 'order_prefix = "SH"\nport = 9000\n[channel_secrets]\ndouyin = "s3cret"\n')
    s = load_settings(path, env={"PACKDESK_HUB_PORT": "9100", "PACKDESK_HUB_DB": "sqlite:///x.db"})
    assert (s.order_prefix, s.port, s.database_url) == ("SH", 9100, "sqlite:///x.db")
    assert s.secret_for("douyin") == b"s3cret"


@pytest.mark.parametrize("text,words", [
    ("port = 'eighty'", "port"),
    ("no_such_setting = 1", "no_such_setting"),
    ("port = ", "Cannot read"),
    ('[channel_secrets]\ndouyin = ""', "douyin"),
    ('[[webhooks]]\nname = "%s"\nurl = "http://erp/h"\nsecret = "s"' % ("w" * 65), "1 to 64"),
    ('[[webhooks]]\nname = "erp"\nurl = "ftp://erp/h"\nsecret = "s"', "http"),
    ('[[webhooks]]\nname = "erp"\nurl = "http://erp/h"\nsecret = ""', "secret"),
    ('[[webhooks]]\nname = "erp"\nurl = "http://erp/h"\nsecret = "s"\nevents = "shipped"', "events"),
    ('order_prefix = "bl"', "order_prefix"),
    ('order_prefix = "BL-"', "order_prefix"),
    ('timezone = "Mars/Olympus"', "timezone"),
    ("token_ttl_s = 0", "token_ttl_s"),
    ("longpoll_fallback_s = 0.0", "longpoll_fallback_s"),
])
def test_bad_settings_are_refused_in_plain_words(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words):
        load_settings(write(tmp_path, text), env={"PACKDESK_HUB_DB": "sqlite:///x.db"})


def test_a_bad_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="PACKDESK_HUB_PORT"):
        load_settings(None, env={"PACKDESK_HUB_PORT": "abc", "PACKDESK_HUB_DB": "sqlite:///x.db"})
