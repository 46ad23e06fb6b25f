"""``python main.py hub carriers add|list|pause``: a secret comes from the environment, never the
command line, and nothing prints it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from hub.__main__ import build_parser
from hub.carriers.cli import run
from hub.config import HubSettings

ADD = ["carriers", "add", "--carrier", "zto", "--provider", "kdniao", "--base-url",
       "http://127.0.0.1:1/api/EOrderService", "--sender-name", "华东仓", "--sender-phone", "02166668888",
       "--sender-province", "上海市", "--sender-city", "上海市", "--sender-district", "青浦区",
       "--sender-address", "华新镇华志路 100 号", "--setting", "EBusinessID=1237100", "--secret", "AppKey"]


def test_add_list_pause_without_showing_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("PACKDESK_CARRIER_APPKEY", "app-key-not-shown-41")
    assert run(settings, build_parser().parse_args(ADD)) == 0
    assert run(settings, build_parser().parse_args(["carriers", "list"])) == 0
    assert run(settings, build_parser().parse_args(["carriers", "pause", "1"])) == 0
    out = capsys.readouterr().out
    assert "carrier account 1 added: ZTO through kdniao" in out and "settings AppKey, EBusinessID" in out
    assert "paused" in out and "app-key-not-shown-41" not in out
    with pytest.raises(ValidationFailed, match="has an e-waybill account already"):
        run(settings, build_parser().parse_args(ADD))
