"""物流轨迹 in the desk's order detail (issue 13 part C): the carrier's history in the site's time zone,
the status in words with an icon, plain words when there is nothing yet — Chinese on a Chinese screen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.i18n import set_language
from core.settings import load_settings
from core.store import open_store
from tests.helpers.snapshots import snapshot
from ui.order_detail import OrderDetail
from ui.services import AppServices, Operator

SIGNED = "BL20261201-000007"
SHIPPED = "BL20261201-000008"
REFUSED = "BL20261201-000009"
TRACK = [  # newest first, as the hub keeps it
    {"at": "2026-12-02T07:00:00Z", "place": "上海,上海市,浦东新区", "text": "已签收，签收人：本人", "status": "signed"},
    {"at": "2026-12-02T04:00:00Z", "place": "上海,上海市,浦东新区", "text": "【上海浦东】派件员正在派件",
     "status": "delivering"},
    {"at": "2026-12-01T11:00:00Z", "place": "浙江,杭州市", "text": "离开【杭州转运中心】发往【上海转运中心】",
     "status": "in_transit"},
    {"at": "2026-12-01T02:00:00Z", "place": "浙江,杭州市", "text": "【杭州萧山】已揽收", "status": "collected"},
]


@pytest.fixture
def services(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language("zh_CN")
    store = open_store(tmp_path / "desk.sqlite3")
    with store.write() as conn:
        store.apply_snapshots(conn, [
            snapshot(SIGNED, state="delivered", tracking=TRACK, tracking_status="signed",
                     signed_at="2026-12-02T07:00:00Z"),
            snapshot(SHIPPED, state="shipped"),
            snapshot(REFUSED, state="shipped", tracking_status="refused", tracking=[
                {"at": "2026-12-03T01:30:00Z", "place": "上海,上海市", "text": "收件人拒收", "status": "refused"}]),
        ])
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    yield svc
    svc.shutdown()
    set_language("en")


def show(pane: OrderDetail, qtbot: Any, oid: str) -> str:
    with qtbot.waitSignal(pane.shown, timeout=5000):
        pane.show_order(oid, with_hub_audit=False)
    return pane.text()


def test_tracking_section_in_chinese_with_local_times_words_and_icons(services: AppServices, qtbot: Any) -> None:
    pane = OrderDetail(services)
    qtbot.addWidget(pane)
    text = show(pane, qtbot, SIGNED)
    assert "物流轨迹" in text and "✓ 已签收" in text and "签收时间 12-02 15:00" in text
    # each event: its time in Asia/Shanghai (UTC+8), the carrier's words, where, the status in words
    lines = [ln for ln in text.splitlines() if ln.strip()]
    at = lines.index("物流轨迹")
    body = "\n".join(lines[at:])
    for when, words in (("12-02 15:00", "已签收，签收人：本人"), ("12-02 12:00", "派件员正在派件"),
                        ("12-01 19:00", "发往【上海转运中心】"), ("12-01 10:00", "已揽收")):
        assert when in body and words in body, (when, body)
    assert body.index("12-02 15:00") < body.index("12-01 10:00")  # newest first
    assert "上海,上海市,浦东新区" in body and "派送中" in body and "运输中" in body
    for code in ("signed", "delivering", "in_transit", "collected", "Tracking"):
        assert code not in text, (code, text)
    if os.environ.get("PACKDESK_SCREENSHOTS"):  # to look at it (docs/ui.md)
        pane.resize(420, 720)
        pane.show()
        assert pane.grab().save(str(Path(os.environ["PACKDESK_SCREENSHOTS"]) / "tracking-detail.png"))
    # refused: a warning in words and icon, not colour alone
    text = show(pane, qtbot, REFUSED)
    assert "✘ 收件人拒签" in text and "收件人拒收" in text
    # shipped, nothing from the carrier yet: plain words
    text = show(pane, qtbot, SHIPPED)
    assert "物流轨迹" in text and "快递暂无物流信息" in text
