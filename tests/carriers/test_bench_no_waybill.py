"""The bench never prints a label without a waybill: an order whose number has not come from the
carrier yet says so when opened, and its label is refused in plain words (nothing printed, not shipped)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.ui.conftest_pack import PackEnv, order_snap, pack_env
from tests.ui.test_pack_view import OID, make_view, steps

__all__ = ["pack_env"]  # the fixture, re-exported for pytest


def test_no_label_without_a_waybill(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, state="allocated", carrier="ZTO", waybill_no=None))
    view = make_view(qtbot, pack_env)
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID)
    assert "◐ waybill number not yet received" in view.info_label.text()
    for code in ("TEA-250", "TEA-250", "CUP-01", "GIFT-BAG"):
        view.handle_scan(code)
    qtbot.waitUntil(lambda: view.print_service.last_outcome is not None, timeout=10000)
    outcome = view.print_service.last_outcome
    assert not outcome.ok and "waybill number not yet received from the carrier" in outcome.message
    assert pack_env.services.journal.jobs(OID) == [] and not list(Path(pack_env.prints).glob("*"))
    assert "label_printed" not in steps(pack_env) and "shipped_by_station" not in steps(pack_env)
    if os.environ.get("PACKDESK_SCREENSHOTS"):
        view.grab().save(os.environ["PACKDESK_SCREENSHOTS"])
