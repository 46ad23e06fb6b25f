"""Fixtures for the pack view and print service tests (imported by those test modules).

``pack_env`` builds real services on a temp ``PACKDESK_HOME``: a real local store, settings with
the label printer set to a PDF folder, no hub (local-only: every action stays pending in the
outbox). ``seed`` puts hand-made hub snapshots into the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, load_settings
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot
from ui.services import AppServices, Operator

LINES = [
    {"sku": "TEA-250", "name": "西湖龙井 250g", "qty": 2, "unit_price_fen": 9900, "is_gift": False, "bin": "A-02"},
    {"sku": "CUP-01", "name": "玻璃茶杯", "qty": 1, "unit_price_fen": 2900, "is_gift": False, "bin": "A-10"},
    {"sku": "GIFT-BAG", "name": "帆布袋（赠品）", "qty": 1, "unit_price_fen": 0, "is_gift": True, "bin": "C-01"},
]


@dataclass
class PackEnv:
    home: Path
    settings: Settings
    store: LocalStore
    services: AppServices
    prints: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def seed(self, *snaps: dict[str, Any]) -> None:
        with self.store.write() as conn:
            self.store.apply_snapshots(conn, list(snaps))

    def outbox(self, order_id: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        return [(a.type, a.payload) for a in self.store.pending_actions()
                if order_id is None or a.order_id == order_id]


def order_snap(seq: int, *, state: str = "label_printed", label_count: int | None = None,
               lines: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A bench order with three lines (4 units) — label already printed unless told otherwise."""
    oid = f"BL20261125-{seq:06d}"
    count = label_count if label_count is not None else (1 if state == "label_printed" else 0)
    return snapshot(oid, state=state, label_count=count, lines=lines or LINES, **extra)


@pytest.fixture
def pack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[PackEnv]:
    home = tmp_path / "home"
    monkeypatch.setenv("PACKDESK_HOME", str(home))
    home.mkdir()
    settings = load_settings(home / "settings.json")
    prints = tmp_path / "prints"
    settings.station, settings.bench = "B1-PC", "B1"
    settings.printers = {"label": f"pdf:{prints}", "pick_list": f"pdf:{prints}", "packing_slip": f"pdf:{prints}"}
    store = open_store(tmp_path / "bench.sqlite3")
    services = AppServices(settings, store, None)
    services.set_operator(Operator("P001", "王小明", "packer"))
    env = PackEnv(home, settings, store, services, prints)
    yield env
    services.shutdown()
