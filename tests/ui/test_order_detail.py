"""The detail pane in the operator's language (issue 11): no channel, carrier, audit or print codes,
the phone masked as everywhere a packer sees it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.display_names import carrier_name
from core.i18n import set_language
from core.print_journal import PrintJobResult
from tests.hubproc import HubProcess
from tests.ui.conftest import StationFactory
from ui.order_detail import OrderDetail


@pytest.fixture
def chinese() -> Any:
    set_language("zh_CN")
    yield
    set_language("en")


def test_chinese_detail_pane_has_no_codes_and_masks_the_phone(
        qtbot: Any, demo_hub: HubProcess, station: StationFactory, chinese: None) -> None:
    packer = station(demo_hub.url, operator="P001", pin="1111", bench="B1")
    services = packer.services
    order = next(o for o in (services.store.get_order(oid) for oid, *_r in services.store.order_views())
                 if o is not None and o.state == "allocated" and not o.snapshot.get("holds")
                 and len(re.sub(r"\D", "", o.snapshot["recipient"]["phone"])) == 11)
    services.journal.record_print(PrintJobResult("label", [order.order_id], "ZD420", True), "P001")
    pane = OrderDetail(services)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.shown, timeout=5000):
        pane.show_order(order.order_id)
    qtbot.waitUntil(lambda: pane.hub_audit is not None, timeout=10_000)
    text = pane.text()
    snap = order.snapshot
    assert "通用接口" in text and carrier_name(snap["carrier"], "zh_CN") in text, text
    for code in ("generic", "routing rules", "push", "print_ok", "label", ": paid", snap["carrier"] + " "):
        assert code not in text, (code, text)
    assert "按路由规则分配" in text and "通用接口推送" in text and "已打印 面单" in text
    phone = re.sub(r"\D", "", snap["recipient"]["phone"])
    assert phone not in re.sub(r"[^\d*]", "", text) and f"{phone[:3]}****{phone[-4:]}" in text
    pane.resize(420, 700)
    pane.show()
    assert pane.grab().save("/tmp/words-detail.png")
