"""Pack mode with a bench scale on a pseudo-terminal: live weight, weighed step, weight_mismatch hold,
the settings' scale section and its test button; screenshots of both (zh_CN)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.i18n import set_language
from core.weighing import weighing_rule
from tests.helpers.fake_scale import FakeScale, ad_frame, toledo_frame
from tests.ui.conftest_pack import LINES, PackEnv, order_snap, pack_env
from ui.pack_view import PackView
from ui.print_service import PrintService
from ui.settings_dialog import SettingsDialog

__all__ = ["pack_env"]

OID = "BL20261125-000001"
WEIGHED_LINES = [{**ln, "weight_g": w} for ln, w in zip(LINES, (300, 250, 80), strict=True)]
EXPECTED = 2 * 300 + 250 + 80 + 120  # 1050 g ± 53 g (5 %)
SHOTS = Path(os.environ.get("PACKDESK_SHOTS", "/tmp"))


@pytest.fixture
def scale(tmp_path: Path) -> Iterator[FakeScale]:
    fake = FakeScale(tmp_path)
    yield fake
    fake.close()


def make_view(qtbot: Any, env: PackEnv) -> PackView:
    env.services.scale.silence_s, env.services.scale.retry_s = 2.0, 0.05
    view = PackView(env.services, PrintService(env.services))
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    return view


def pack(qtbot: Any, view: PackView) -> None:
    with qtbot.waitSignal(view.activated):
        view.handle_scan(OID)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    for code in ("TEA-250", "TEA-250", "CUP-01", "GIFT-BAG"):
        view.handle_scan(code)


def steps(env: PackEnv) -> list[str]:
    return [p["step"] if t == "step" else t for t, p in env.outbox(OID)]


def test_without_a_scale_nothing_shows_and_packing_is_as_before(qtbot: Any, pack_env: PackEnv) -> None:
    pack_env.seed(order_snap(1, lines=WEIGHED_LINES, weighing=weighing_rule(120, 50, 5)))
    view = make_view(qtbot, pack_env)
    assert not view.weight_label.isVisible() and pack_env.services.scale.reader is None
    with qtbot.waitSignal(view.order_finished, timeout=10000):
        pack(qtbot, view)
    assert steps(pack_env) == ["verified", "packed", "shipped_by_station"]


def test_live_weight_then_weighed_and_shipped(qtbot: Any, pack_env: PackEnv, scale: FakeScale) -> None:
    set_language("zh_CN")
    try:
        pack_env.settings.scale_port, pack_env.settings.scale_protocol = scale.port, "toledo"
        pack_env.seed(order_snap(1, lines=WEIGHED_LINES, weighing=weighing_rule(120, 50, 5)))
        scale.stream(toledo_frame(0))
        view = make_view(qtbot, pack_env)
        qtbot.waitUntil(lambda: "0.000 kg" in view.weight_label.text(), timeout=5000)
        assert view.weight_label.isVisible() and "✓ 稳定" in view.weight_label.text()
        pack(qtbot, view)
        qtbot.waitUntil(lambda: view.phase == "weighing", timeout=10000)
        assert "放到秤上" in view.banner_text.text() and "预计 1.050 kg ± 0.053 kg" in view.weight_label.text()
        scale.stream(toledo_frame(1032, stable=False))  # being put down
        qtbot.waitUntil(lambda: "1.032 kg" in view.weight_label.text(), timeout=5000)
        assert view.phase == "weighing" and "weighed" not in steps(pack_env)
        view.grab().save(str(SHOTS / "pack-scale-zh.png"))
        with qtbot.waitSignal(view.order_finished, timeout=10000):
            scale.stream(toledo_frame(1041))  # settled
        assert steps(pack_env) == ["verified", "packed", "weighed", "shipped_by_station"]
        [detail] = [p["detail"] for t, p in pack_env.outbox(OID) if p.get("step") == "weighed"]
        assert detail == {"grams": 1041, "expected_g": EXPECTED, "tolerance_g": 53}
    finally:
        set_language("en")


def test_weight_off_raises_the_hold_and_a_pulled_cable_never_weighs(
        qtbot: Any, pack_env: PackEnv, scale: FakeScale) -> None:
    pack_env.settings.scale_port, pack_env.settings.scale_protocol = scale.port, "ad"
    pack_env.seed(order_snap(1, lines=WEIGHED_LINES, weighing=weighing_rule(120, 50, 5)))
    scale.stream(ad_frame(0))
    view = make_view(qtbot, pack_env)
    qtbot.waitUntil(lambda: pack_env.services.scale.connected, timeout=5000)
    pack(qtbot, view)
    qtbot.waitUntil(lambda: view.phase == "weighing", timeout=10000)
    scale.unplug()  # the cable comes out while the parcel waits
    qtbot.waitUntil(lambda: not pack_env.services.scale.connected, timeout=5000)
    assert "✖" in view.weight_label.text() or "▲" in view.weight_label.text()
    assert view.phase == "weighing"  # nothing weighed from a lost scale
    scale.plug()
    requested: list[tuple[str, str]] = []
    view.exception_requested.connect(lambda oid, hid: requested.append((oid, hid)))
    scale.stream(ad_frame(750))  # 300 g light: a tea tin is missing
    qtbot.waitUntil(lambda: view.phase == "blocked", timeout=10000)
    assert steps(pack_env) == ["verified", "packed", "weighed", "hold_raised"]
    assert view.status_kind == "held" and requested and requested[0][0] == OID
    hold = pack_env.store.get_order(OID).snapshot["holds"][0]  # type: ignore[union-attr]
    assert hold["type"] == "weight_mismatch" and hold["details"]["grams"] == 750


def test_f5_ships_without_weight_only_while_the_scale_is_down(qtbot: Any, pack_env: PackEnv, tmp_path: Path) -> None:
    pack_env.settings.scale_port = str(tmp_path / "no-such-port")
    pack_env.seed(order_snap(1, lines=WEIGHED_LINES, weighing=weighing_rule(120, 50, 5)))
    view = make_view(qtbot, pack_env)
    qtbot.waitUntil(lambda: "✖" in view.weight_label.text(), timeout=5000)
    pack(qtbot, view)
    qtbot.waitUntil(lambda: view.phase == "weighing", timeout=10000)
    with qtbot.waitSignal(view.order_finished, timeout=10000):
        view.retry_finish()
    assert steps(pack_env) == ["verified", "packed", "shipped_by_station"]


def test_settings_scale_section_tests_the_port_live(qtbot: Any, pack_env: PackEnv, scale: FakeScale) -> None:
    set_language("zh_CN")
    try:
        dialog = SettingsDialog(pack_env.settings, scale=pack_env.services.scale)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.start_scale_test()
        assert "端口" in dialog.scale_live.text()  # no port typed yet
        dialog.scale_port.setText(scale.port)
        dialog.scale_protocol.setCurrentIndex(dialog.scale_protocol.findData("yaohua"))
        from tests.helpers.fake_scale import yaohua_frame

        scale.stream(yaohua_frame(2345))
        dialog.start_scale_test()
        qtbot.waitUntil(lambda: "2.345 kg" in dialog.scale_live.text() and "✓ 稳定" in dialog.scale_live.text(),
                        timeout=5000)
        assert dialog.width() <= 1366 and dialog.height() <= 728
        dialog.grab().save(str(SHOTS / "settings-scale-zh.png"))
        dialog.accept()
        assert pack_env.settings.scale_port == scale.port and pack_env.settings.scale_protocol == "yaohua"
        qtbot.waitUntil(lambda: pack_env.services.scale.connected, timeout=5000)  # the app reads it now
    finally:
        set_language("en")
