"""The queue's Flags column shows two chips side by side (issue 11: a second chip collapsed to "+1").

Painted for real: the main window's table, its column width and its delegate, grabbed to an image;
each chip's colour must be on it, and the delegate says what text it drew.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from core.flags import STYLES, Flag
from core.i18n import set_language
from core.settings import load_settings
from core.store import open_store
from tests.helpers.queue_rows import GIFT_LINE, HOLD, TODAY, row
from ui.flag_delegate import FlagDelegate
from ui.main_window import MainWindow
from ui.queue_model import Column
from ui.services import AppServices, Operator

AT_RISK = "2026-11-25T07:00:00Z"  # within the warning window at tests.helpers.queue_rows.NOW


@pytest.fixture(params=["zh_CN", "en"])
def window(request: Any, qtbot: Any, home: Path) -> Iterator[MainWindow]:
    set_language(request.param)
    store = open_store(home / "bench.sqlite3")
    services = AppServices(load_settings(home / "settings.json"), store, None)
    services.set_operator(Operator("D001", "客服", "desk"))
    w = MainWindow(services)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        pass
    try:
        yield w
    finally:
        w.close()
        services.shutdown()
        set_language("en")


def colour_pixels(image: QImage, colour: str) -> int:
    want = QColor(colour).rgb()
    return sum(1 for y in range(image.height()) for x in range(image.width()) if image.pixel(x, y) == want)


@pytest.mark.parametrize("pair", [(Flag.AT_RISK, Flag.EXCEPTION), (Flag.VIP, Flag.EXCEPTION),
                                  (Flag.EXCEPTION, Flag.GIFT), (Flag.CONFLICT, Flag.OVERDUE), (Flag.VIP, Flag.DONE),
                                  (Flag.CONFLICT, Flag.AT_RISK)])
def test_two_flags_show_two_chips_with_their_words(window: MainWindow, qtbot: Any, pair: tuple[Flag, Flag]) -> None:
    extra: dict[str, Any] = {}
    if Flag.AT_RISK in pair:
        extra["ship_by"] = AT_RISK
    if Flag.OVERDUE in pair:
        extra["ship_by"] = "2026-11-25T05:00:00Z"
    if Flag.EXCEPTION in pair:
        extra["holds"] = [HOLD]
    if Flag.GIFT in pair:
        extra["lines"] = [GIFT_LINE]
    if Flag.VIP in pair:
        extra.update(lane="vip", flags=["vip"])
    if Flag.DONE in pair:
        extra.update(state="shipped", updated_at=TODAY)
    r = row(1, conflict=Flag.CONFLICT in pair, **extra)
    assert set(r.flags) == set(pair), r.flags
    window.select_queue("all")
    window.models["all"].set_rows([r])
    table = window.table
    delegate = table.itemDelegateForColumn(Column.FLAGS)
    assert isinstance(delegate, FlagDelegate)
    rect = table.visualRect(window.models["all"].index(0, Column.FLAGS))
    image = table.viewport().grab(rect).toImage()
    words = [window.models["all"].flag_text((f,)) for f in r.flags]
    assert delegate.last_drawn == words, (delegate.last_drawn, table.columnWidth(Column.FLAGS))
    for f in pair:
        assert colour_pixels(image, STYLES[f].colour) > 50, f  # the chip is there, filled


def test_a_third_chip_keeps_its_colour_and_glyph(window: MainWindow) -> None:
    r = row(2, holds=[HOLD], lines=[GIFT_LINE], lane="vip", flags=["vip"], ship_by=AT_RISK)
    assert len(r.flags) == 4
    window.select_queue("all")
    window.models["all"].set_rows([r])
    table = window.table
    delegate = table.itemDelegateForColumn(Column.FLAGS)
    assert isinstance(delegate, FlagDelegate)
    table.viewport().grab(table.visualRect(window.models["all"].index(0, Column.FLAGS)))
    drawn = delegate.last_drawn
    assert drawn[0] == window.models["all"].flag_text(r.flags[:1])  # the most severe keeps its word
    assert len(drawn) >= 3  # the rest glyph-only (colour + glyph), or counted as "+N": never hidden
    shown = sum(1 for t in drawn if not t.startswith("+"))
    assert shown == len(r.flags) or drawn[-1] == f"+{len(r.flags) - shown}"
