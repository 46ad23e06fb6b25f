"""Fixtures for sync tests: bench stations (store + outbox + engine) against a real hub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.outbox import Outbox
from core.queues import load_rows
from core.store import LocalStore, open_store
from core.sync.engine import SyncConfig, SyncEngine
from tests.helpers import hubapi
from tests.hubproc import HubProcess


@dataclass
class Station:
    store: LocalStore
    outbox: Outbox
    engine: SyncEngine
    operator: str

    def close(self) -> None:
        self.engine.stop()
        self.store.close()


def fast_config(hub_url: str, **over: Any) -> SyncConfig:
    base: dict[str, Any] = {
        "hub_url": hub_url,
        "station": "B1-PC",
        "bench": "B1",
        "device_id": "dev-b1",
        "long_poll_s": 1.0,
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.3,
        "connect_timeout_s": 1.0,
        "read_timeout_s": 10.0,
    }
    base.update(over)
    return SyncConfig(**base)


@pytest.fixture
def make_station(tmp_path: Path) -> Iterator[Callable[..., Station]]:
    made: list[Station] = []

    def make(
        hub_url: str,
        *,
        name: str = "B1-PC",
        bench: str | None = "B1",
        operator: str = "P001",
        pin: str = "1111",
        busy_timeout_s: float = 10.0,
        **cfg: Any,
    ) -> Station:
        store = open_store(tmp_path / f"{name}.sqlite3", busy_timeout_s=busy_timeout_s)
        engine = SyncEngine(
            store, fast_config(hub_url, station=name, bench=bench, device_id=f"dev-{name}", **cfg)
        )
        engine.set_credentials(operator, pin)
        outbox = Outbox(store)
        engine.watch_outbox(outbox)
        st = Station(store, outbox, engine, operator)
        made.append(st)
        return st

    yield make
    for st in made:
        st.close()


@pytest.fixture
def seeded_hub(sqlite_hub: HubProcess) -> HubProcess:
    """A hub with 200 demo orders (16 of them workable on bench B1)."""
    hubapi.demo(sqlite_hub.url, 200, seed=7)
    return sqlite_hub


def allocated(store: LocalStore, n: int) -> list[str]:
    """``n`` of the station's allocated orders without holds (bench work possible)."""
    ids = [r.order_id for r in load_rows(store) if r.state == "allocated" and not r.held]
    assert len(ids) >= n, f"need {n} workable orders on the bench, have {len(ids)}"
    return ids[:n]


def hub_action_counts(url: str, order_ids: list[str]) -> dict[str, int]:
    """How many audit entries each action_id has at the hub (for the set check)."""
    admin = hubapi.Session(url, operator="A001", pin="0000", station="AUDIT-PC", bench=None).login()
    counts: dict[str, int] = {}
    for oid in order_ids:
        r = admin.get(f"/api/v1/orders/{oid}/audit")
        assert r.status_code == 200, r.text
        seen_here: dict[str, int] = {}
        for e in r.json()["entries"]:
            if e.get("action_id"):
                seen_here[e["action_id"]] = seen_here.get(e["action_id"], 0) + 1
        for aid, n in seen_here.items():
            counts[aid] = counts.get(aid, 0) + n
    return counts
