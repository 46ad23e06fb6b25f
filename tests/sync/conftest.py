"""Fixtures for sync tests: bench stations (store + outbox + engine) against a real hub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.queues import load_rows
from core.store import LocalStore
from tests.helpers import hubapi
from tests.helpers.station import Station, bench_station
from tests.hubproc import HubProcess

__all__ = ["Station"]  # the sync tests import it from here


@pytest.fixture
def make_station(tmp_path: Path) -> Iterator[Callable[..., Station]]:
    """``make_station(hub_url, name=, bench=, operator=, pin=, busy_timeout_s=, **sync_config)``."""
    made: list[Station] = []

    def make(hub_url: str, **kw: Any) -> Station:
        st = bench_station(tmp_path, hub_url, **kw)
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
