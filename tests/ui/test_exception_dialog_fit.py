"""Every exception dialog fits a 1366×768 bench screen without scrolling, buttons in view (issue 11:
the rural form needed scrolling), in both languages; and a release ends in a visible confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QScrollArea, QWidget

from core.holds import HOLD_TYPES
from core.i18n import set_language
from core.settings import load_settings
from core.store import OutboxAction, conflicts, open_store
from tests.helpers.snapshots import snapshot
from ui.exception_dialog import ExceptionDialog, fit_to_screen, open_exception_dialog
from ui.services import AppServices, Operator
from ui.toast import Toast

#: A 1366×768 screen less a 40 px taskbar: what a bench monitor offers a dialog.
BENCH_ROOM = QSize(1366, 728)
RECIPIENT = {"name": "欧阳桂兰", "phone": "0394-5512345", "province": "河南省", "city": "周口市", "district": "郸城县",
             "address": "汲冢镇丁楼村3组", "postcode": ""}
LINES = [{"sku": f"SKU-SNK-00{n}", "name": name, "qty": n, "unit_price_fen": 1000, "is_gift": n == 4, "bin": f"A-0{n}-01"}
         for n, name in ((1, "新疆和田大枣 特级 1kg"), (2, "绍兴黄酒 十年陈 500ml×6"), (3, "老干妈 风味豆豉 280g×3"),
                         (4, "福鼎白茶 寿眉 300g"))]


#: What came back on the refund_review order (docs/returns.md): its dialog shows it.
RETURNS = [{"lines": [{"sku": ln["sku"], "qty_good": 1, "qty_damaged": 1 if n == 2 else 0,
                       "qty_missing": ln["qty"] - 1 - (1 if n == 2 else 0)} for n, ln in enumerate(LINES, 1)],
            "note": "外箱压坏，一瓶黄酒漏了", "by": "D001", "at": "2026-11-27T02:00:00Z"}]


#: The custom packaging a VIP sign-off checks (core/demo.py's note): every dialog shows it, and still fits.
SELLER_NOTE = "定制礼盒包装：外加防震气泡袋，附手写贺卡，不放价格单"


def order_id(n: int) -> str:
    return f"BL20261125-{n:06d}"


TYPES = sorted(t for t in HOLD_TYPES if t != "offline_conflict")


@pytest.fixture(params=["zh_CN", "en"])
def services(request: Any, tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    set_language(request.param)
    store = open_store(tmp_path / "bench.sqlite3")
    snaps = [snapshot(order_id(n), recipient=RECIPIENT, lines=LINES, buyer_note="送人的，不要放价格单",
                      seller_note=SELLER_NOTE,
                      holds=[{"hold_id": f"h-{t}", "type": t, "reason": "系统挂起：请按步骤处理 / held: follow the steps",
                              "raised_at": "2026-11-25T01:00:00Z", "raised_by": "system", "details": {}}],
                      **({"returns": RETURNS} if t == "refund_review" else {}))
             for n, t in enumerate(TYPES, 1)]
    snaps.append(snapshot(order_id(99), recipient=RECIPIENT, lines=LINES))
    with store.write() as conn:
        store.apply_snapshots(conn, snaps)
    svc = AppServices(load_settings(tmp_path / "settings.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))  # a desk clerk also sees the escalation box
    yield svc
    svc.shutdown()
    set_language("en")


def opened(services: AppServices, qtbot: Any, oid: str, hold_id: str | None, parent: QWidget | None = None,
           finished: list[bool] | None = None) -> ExceptionDialog:
    got: list[ExceptionDialog] = []
    open_exception_dialog(services, oid, hold_id, parent, on_opened=got.append,
                          on_finished=finished.append if finished is not None else None)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    return got[0]


def assert_fits(dlg: ExceptionDialog, qtbot: Any, name: str) -> None:
    size = fit_to_screen(dlg, 1240, 860, room=BENCH_ROOM)
    dlg.resize(size)
    qtbot.waitUntil(lambda: dlg.size() == size, timeout=2000)
    assert dlg.height() <= 768 - 40 - 30, name  # and a title bar above it
    dlg.grab().save(f"/tmp/exception-{name}.png")
    for area in dlg.findChildren(QScrollArea):
        assert area.verticalScrollBar().maximum() == 0, f"{name}: {area.objectName() or 'a column'} scrolls"
    for button in (dlg.submit_button, dlg.cancel_button):
        top_left = button.mapTo(dlg, button.rect().topLeft())
        assert button.isVisible() and dlg.rect().contains(top_left) and \
            top_left.y() + button.height() <= dlg.height(), name


@pytest.mark.parametrize("hold_type", TYPES)
def test_every_hold_dialog_fits_a_bench_screen(services: AppServices, qtbot: Any, hold_type: str) -> None:
    from core.i18n import language

    dlg = opened(services, qtbot, order_id(TYPES.index(hold_type) + 1), f"h-{hold_type}")
    try:
        assert_fits(dlg, qtbot, f"{hold_type}-{language()}")
        notes = {name: dlg.findChild(QLabel, name) for name in ("buyer_note", "seller_note")}
        assert notes["seller_note"] is not None and notes["seller_note"].text() == SELLER_NOTE
        assert notes["buyer_note"] is not None and notes["buyer_note"].text() == "送人的，不要放价格单"
        # the gift line is marked once: its name has no 赠品 in it here
        assert dlg.findChild(QLabel, "orderLines").text().count("赠品" if language() == "zh_CN" else "gift") == 1
    finally:
        dlg.reject()


def test_the_offline_conflict_dialog_fits_too(services: AppServices, qtbot: Any) -> None:
    from core.i18n import language

    store = services.store
    refused = OutboxAction(1, "a-1", order_id(98), "label_printed", {"printer": "ZD420", "job_id": "j"}, 1, "P001",
                           "2026-11-25T02:00:00Z")
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(order_id(98), recipient=RECIPIENT, lines=LINES)])
        conflicts.record(conn, refused, "conflict", {"reason": "订单已取消 / the order was cancelled"}, None,
                         "2026-11-25T02:01:00Z")
        store.refresh_views(conn, [order_id(98)])
    dlg = opened(services, qtbot, order_id(98), None)
    try:
        assert_fits(dlg, qtbot, f"offline_conflict-{language()}")
    finally:
        dlg.reject()


def test_a_release_says_so_in_the_operators_language(services: AppServices, qtbot: Any) -> None:
    """Issue 11: no confirmation when a hold was released. Now a toast over the window says what happened."""
    from core.i18n import language

    window = QWidget()
    window.resize(1366, 728)
    qtbot.addWidget(window)
    window.show()
    finished: list[bool] = []
    dlg = opened(services, qtbot, order_id(TYPES.index("scan_mismatch") + 1), "h-scan_mismatch", window, finished)
    recount = dlg.form.widgets["recount"]
    assert isinstance(recount, QComboBox)
    recount.setFocus()
    qtbot.keyClick(recount, Qt.Key.Key_Down)  # the first real choice, as a packer picks it
    reason = dlg.form.widgets["reason"]
    assert isinstance(reason, QLineEdit)
    qtbot.keyClicks(reason, "rescanned ok")  # QTest types ASCII only (CJK aborts it)
    assert dlg.submit_button.isEnabled(), dlg.reasons()
    qtbot.keyClick(reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: finished == [True], timeout=5000)
    toasts = [t for t in window.findChildren(Toast) if t.isVisible()]
    assert len(toasts) == 1
    text = toasts[0].text()
    assert order_id(TYPES.index("scan_mismatch") + 1) in text
    if language() == "zh_CN":
        assert "已处理" in text and "扫描不符" in text and "不再" in text, text
    else:
        assert "Resolved: Scan mismatch" in text and "Nothing holds the order" in text, text
    window.grab().save(f"/tmp/toast-{language()}.png")


def test_a_gift_line_whose_name_says_so_is_not_marked_twice() -> None:
    from ui.exception_dialog import _gift_mark

    set_language("zh_CN")
    try:
        assert _gift_mark("茶叶试饮装 10g×3 (赠品)") == ""  # was "茶叶试饮装 10g×3 (赠品)  （赠品）"
        assert _gift_mark("福鼎白茶 寿眉 300g") == "  （赠品）"
    finally:
        set_language("en")
