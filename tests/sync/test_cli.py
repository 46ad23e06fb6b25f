"""The headless entry point: ``main.py sync --once`` / ``--status`` print what they did."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.outbox import Outbox
from core.queues import load_rows
from core.store import open_store
from core.sync.cli import main
from tests.hubproc import HubProcess, free_port


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "client"))
    monkeypatch.delenv("PACKDESK_PIN", raising=False)
    return tmp_path / "client"


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_sync_once_pulls_pushes_and_reports(
    seeded_hub: HubProcess, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [
        "sync",
        "--once",
        "--hub",
        seeded_hub.url,
        "--station",
        "CLI-PC",
        "--bench",
        "B1",
        "--operator",
        "P001",
    ]
    monkeypatch.setenv("PACKDESK_PIN", "1111")
    code, text = run(args)
    assert code == 0, text
    assert "logged in: P001 (packer) on CLI-PC bench B1" in text
    assert "(full re-sync)" in text and "pending: 0" in text
    store = open_store()
    oid = next(r.order_id for r in load_rows(store) if r.state == "allocated" and not r.held)
    Outbox(store).perform(oid, "step", {"step": "picked"}, "P001")
    store.close()
    code, text = run(args)
    assert code == 0 and "pushed: 1 of 1 pending (applied 1)" in text, text
    code, text = run(["sync", "--status", "--hub", seeded_hub.url])
    assert code == 0 and "pending: 0" in text and "hub: online" in text and "cursor: " in text, text


def test_sync_once_with_hub_down_keeps_actions_and_says_offline(home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, text = run(["--once", "--hub", url, "--station", "CLI-PC", "--operator", "P001", "--pin", "1111"])
    assert code == 1 and "offline: Cannot reach the hub" in text


def test_sync_once_with_a_wrong_pin_says_refused_not_offline(seeded_hub: HubProcess, home: Path) -> None:
    code, text = run(
        ["--once", "--hub", seeded_hub.url, "--station", "CLI-PC", "--bench", "B1", "--operator", "P001", "--pin", "9999"]
    )
    assert code == 1 and "refused: The hub refused the login" in text and "offline" not in text, text


def test_status_without_hub_reads_local_store_only(home: Path) -> None:
    code, text = run(["--status"])
    assert code == 0 and "orders: 0" in text and "cursor: none (full sync needed)" in text


def test_missing_login_is_a_usage_error(home: Path) -> None:
    code, text = run(["--once", "--hub", "http://127.0.0.1:1", "--station", "X"])
    assert code == 2 and "--operator" in text


def test_corrupt_store_is_reported_and_kept(home: Path) -> None:
    data = home / "data"
    data.mkdir(parents=True)
    (data / "bench.sqlite3").write_bytes(b"garbage" * 1000)
    code, text = run(["--status"])
    assert code == 2 and "damaged" in text
    assert (data / "bench.sqlite3").read_bytes() == b"garbage" * 1000


def test_status_against_a_server_that_is_not_a_hub_says_so(home: Path) -> None:
    from tests.helpers.fake_http import FakeHTTPServer, send_json

    with FakeHTTPServer(lambda h, _body: send_json(h, 200, {"detail": "some other web app"})) as server:
        code, text = run(["--status", "--hub", server.url])
    assert code == 1 and "not like a PackDesk hub" in text and "hub: online" not in text, text
