"""Offline login without Qt: the hub step, the store step, the PIN record, and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.offline_login import (
    META_PREFIX,
    HubAnswer,
    LoginResult,
    OfflineRefused,
    WrongPin,
    check_offline,
    finish_login,
    hub_login,
)
from core.store import LocalStore, open_store
from core.sync import HubUnauthorized, HubUnreachable, LoginInfo, WrongStation

INFO = LoginInfo(token="t", expires_at="", operator="P001", operator_name="王小明", role="packer", station="B1-PC",
                 bench="B1", device_id="dev")


class FakeEngine:
    """The two engine calls a login makes: ``login`` (answers or raises ``error``) and ``set_credentials``."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.credentials: tuple[str, str] | None = None

    def login(self, code: str, pin: str) -> LoginInfo:
        if self.error is not None:
            raise self.error
        return INFO

    def set_credentials(self, code: str, pin: str) -> None:
        self.credentials = (code, pin)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def login(store: LocalStore, engine: FakeEngine | None, code: str, pin: str) -> LoginResult:
    answer = hub_login(engine, code, pin)  # type: ignore[arg-type]
    return finish_login(store, engine, code, pin, answer)  # type: ignore[arg-type]


def test_hub_login_is_remembered_as_a_salted_hash_written_in_the_store_step(store: LocalStore) -> None:
    answer = hub_login(FakeEngine(), "P001", "1111")  # type: ignore[arg-type]
    assert answer.info == INFO and answer.record is not None
    assert store.meta(META_PREFIX + "P001") is None  # the network step writes nothing
    result = finish_login(store, None, "P001", "1111", answer)
    assert not result.offline and (result.operator.code, result.operator.name, result.operator.role) == (
        "P001", "王小明", "packer")
    raw = store.meta(META_PREFIX + "P001") or ""
    assert "1111" not in raw and '"hash"' in raw and '"salt"' in raw
    assert check_offline(store, "P001", "1111") is not None
    assert check_offline(store, "P001", "2222") is None


def test_hub_unreachable_logs_in_a_known_operator_offline_and_hands_the_engine_the_pin(store: LocalStore) -> None:
    login(store, FakeEngine(), "P001", "1111")
    engine = FakeEngine(HubUnreachable("down"))
    result = login(store, engine, "P001", "1111")
    assert result.offline is True and engine.credentials == ("P001", "1111")
    with pytest.raises(OfflineRefused, match="Offline login is only"):
        login(store, FakeEngine(HubUnreachable("down")), "P001", "9999")  # known operator, wrong PIN
    with pytest.raises(OfflineRefused, match="has not logged in on this station before"):
        login(store, FakeEngine(HubUnreachable("down")), "D001", "2222")


def test_without_a_hub_only_known_operators(store: LocalStore) -> None:
    with pytest.raises(OfflineRefused, match="There is no hub"):
        login(store, None, "P001", "1111")
    login(store, FakeEngine(), "P001", "1111")
    assert login(store, None, "P001", "1111").offline is True


def test_hub_refusals(store: LocalStore) -> None:
    with pytest.raises(WrongPin):
        hub_login(FakeEngine(HubUnauthorized("no", code="bad_credentials")), "P001", "9")  # type: ignore[arg-type]
    with pytest.raises(HubUnauthorized) as refused:  # another refusal keeps the hub's own words
        hub_login(FakeEngine(HubUnauthorized("packers log in at a bench", code="role_not_allowed")),  # type: ignore[arg-type]
                  "P001", "1111")
    assert not isinstance(refused.value, WrongPin)
    with pytest.raises(WrongStation):
        hub_login(FakeEngine(WrongStation("other bench")), "P001", "1111")  # type: ignore[arg-type]
    assert hub_login(FakeEngine(HubUnreachable("down")), "P001", "1111").unreachable is not None  # type: ignore[arg-type]
    assert store.meta(META_PREFIX + "P001") is None


def test_an_unreadable_record_is_ignored(store: LocalStore) -> None:
    with store.write() as conn:
        store.set_meta(conn, META_PREFIX + "P001", "{not json")
    assert check_offline(store, "P001", "1111") is None
    with pytest.raises(OfflineRefused):
        finish_login(store, None, "P001", "1111", HubAnswer())
