"""The desk's split and merge dialogs (ui/split_merge_dialog.py) over one real hub process: the keys
open them on the selected order, the split is chosen with the keyboard and refused in words when
it is not a split, the merge candidates come from the hub and are ticked with Space, both go
through the outbox to the hub, and the queue and the detail then show the connection with an
icon and words, in Chinese, within 1366×768.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core import i18n
from tests.helpers import hubapi
from tests.hubproc import HubProcess
from tests.sync.test_split_merge_sync import buyer_orders
from tests.ui.test_stock_view import services_for
from ui.queue_model import Column
from ui.services import AppServices
from ui.split_merge_dialog import MergeDialog, SplitDialog

SHIFT_CTRL = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def desk(tmp_path: Path, qapp: Any, sqlite_hub: HubProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServices]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    svc = services_for(tmp_path, sqlite_hub, "D001", "2222", "desk", "张丽")
    yield svc
    svc.shutdown()


def shot(widget: Any, name: str) -> None:
    folder = os.environ.get("PACKDESK_SCREENSHOTS")
    if folder:  # to look at it (docs/ui.md)
        assert widget.grab().save(str(Path(folder) / name))


def test_split_and_merge_from_the_keyboard_in_chinese(desk: AppServices, sqlite_hub: HubProcess, qtbot: Any) -> None:
    from ui.main_window import MainWindow

    ids = [o["order_id"] for o in hubapi.push_orders(sqlite_hub.url, buyer_orders(3))]
    assert desk.engine is not None
    desk.engine.sync_once()
    i18n.set_language("zh_CN")
    try:
        w = MainWindow(desk)
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        qtbot.waitUntil(lambda: w.select_order(ids[0]), timeout=5000)
        assert w.split_action.isEnabled() and w.merge_action.isEnabled()

        # -- split: Ctrl+Shift+X, numbers typed, Tab, a reason, Enter --------------------------------
        w.table.setFocus()
        qtbot.keyClick(w.table, Qt.Key.Key_X, SHIFT_CTRL)
        qtbot.waitUntil(lambda: isinstance(getattr(w, "split_merge_dialog", None), SplitDialog), timeout=5000)
        split: SplitDialog = w.split_merge_dialog  # type: ignore[assignment]
        qtbot.waitUntil(split.isVisible, timeout=5000)
        assert [split.table.horizontalHeaderItem(c).text() for c in range(4)] == ["商品名称", "SKU", "订购数", "现在发货"]
        assert split.ok.text() == "拆单（Enter）" and split.width() <= 1366 and split.height() <= 768
        shot(split, "split-dialog.png")
        qtbot.keyClick(split.reason, Qt.Key.Key_Return)  # nothing chosen: refused in words, nothing queued
        assert split.problem.text().startswith("✘ ") and "至少选择" in split.problem.text()
        split.spins[0].setFocus()
        split.spins[0].selectAll()
        qtbot.keyClicks(split.spins[0], "2")
        assert split.ship_now() == {"SKU-TEA-001": 2}
        split.reason.setFocus()
        split.reason.insert("坚果缺货，茶叶先发")  # as an input method commits it (QTest types ASCII only)
        qtbot.keyClick(split.reason, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: split.sent, timeout=5000)
        desk.engine.sync_once()
        kids = [f"{ids[0]}-1", f"{ids[0]}-2"]
        assert {*kids} <= desk.store.order_ids()

        # -- merge: Ctrl+Shift+M, the hub's candidates, Space ticks, Enter ---------------------------
        qtbot.waitUntil(lambda: w.select_order(ids[1]), timeout=5000)
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        w.table.setFocus()
        qtbot.keyClick(w.table, Qt.Key.Key_M, SHIFT_CTRL)
        qtbot.waitUntil(lambda: isinstance(getattr(w, "split_merge_dialog", None), MergeDialog), timeout=5000)
        merge: MergeDialog = w.split_merge_dialog  # type: ignore[assignment]
        qtbot.waitUntil(lambda: merge.list.count() > 0, timeout=10_000)
        listed = [merge.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(merge.list.count())]
        assert sorted(listed) == sorted([ids[2], *kids])  # same buyer and address: the split's parts too
        assert merge.status.text().startswith("✓ ") and "3 个订单" in merge.status.text()
        assert merge.current.text().startswith("○ ") and not merge.unmerge_button.isEnabled()
        shot(merge, "merge-dialog.png")
        merge.list.setCurrentRow(listed.index(ids[2]))
        qtbot.keyClick(merge.list, Qt.Key.Key_Space)
        assert merge.ticked() == [ids[2]]
        qtbot.keyClick(merge.list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: merge.sent, timeout=5000)
        desk.engine.sync_once()

        # -- both show the connection: the queue's mark (icon + word) and the detail's words --------
        def id_cell(oid: str) -> str:
            return str(w.model.data(w.model.index(w.model.row_of(oid), Column.ORDER_ID)))

        qtbot.waitUntil(lambda: "● 合单" in id_cell(ids[2]) and "● 合单" in id_cell(ids[1]), timeout=5000)
        qtbot.waitUntil(lambda: "◐ 拆单" in id_cell(kids[0]), timeout=5000)
        w.select_order(ids[2])
        qtbot.waitUntil(lambda: "同一包裹、同一面单" in w.detail.text() and ids[1] in w.detail.text(), timeout=5000)
        shot(w, "merged-detail.png")
        w.select_order(kids[1])
        qtbot.waitUntil(lambda: "缺货子单" in w.detail.text() and ids[0] in w.detail.text(), timeout=5000)
    finally:
        i18n.set_language("en")


def test_a_xiaohongshu_split_taking_some_units_of_a_line_is_warned_before_it_is_sent(
        tmp_path: Path, qapp: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """小红书's 拆包发货 names whole lines (docs/split-merge.md): the dialog says so while units are chosen."""
    from core.settings import load_settings
    from core.store import open_store
    from tests.helpers.snapshots import snapshot
    from ui.services import Operator

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    store = open_store(tmp_path / "desk.sqlite3")
    oid = "BL20261206-000321"
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(oid, channel="xiaohongshu", lines=[
            {"sku": "SKU-TEA-001", "name": "龙井", "qty": 2, "bin": "A-01"},
            {"sku": "SKU-SNK-001", "name": "坚果", "qty": 1, "bin": "B-02"}])])
    svc = AppServices(load_settings(tmp_path / "s.json"), store, None)
    svc.set_operator(Operator("D001", "客服", "desk"))
    try:
        order = store.get_order(oid)
        assert order is not None
        dialog = SplitDialog(svc, order)
        qtbot.addWidget(dialog)
        dialog.show()
        assert not dialog.warning.isVisible()
        dialog.spins[0].setValue(1)  # 1 of the 2 teas: cannot be said to 小红书
        assert dialog.warning.isVisible() and "SKU-TEA-001" in dialog.warning.text()
        assert dialog.warning.text().startswith("▲ ")
        dialog.spins[0].setValue(2)  # the whole tea line now, the nuts later: fine
        assert not dialog.warning.isVisible()
    finally:
        svc.shutdown()
