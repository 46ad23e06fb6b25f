"""Every exception playbook end to end: a real hub, real stations (store + sync engine), the real dialog.

For each playbook: the rule raises the hold at the hub (or the bench raises it), the station cannot
pack or print the order (refused locally with OrderHeld, and by the hub), the dialog keeps Submit
locked with the reasons shown until the required fields are filled, submitting queues
``hold_released``, a sync releases the hold at the hub and the order moves on. Also: role refusal
(dialog and hub), resolution with the hub stopped then synced once, and the hub refusing a release
with missing fields (``bad_payload`` naming the field).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from core.errors import IllegalTransition, OrderHeld
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.settings import load_settings
from core.store import open_store
from core.sync.engine import SyncConfig, SyncEngine
from tests.helpers.hubapi import Session, push_orders
from tests.hubproc import HubProcess
from ui.exception_dialog import ExceptionDialog, open_exception_dialog
from ui.services import AppServices, Operator

ROLES = {"P001": ("1111", "packer", "B1"), "D001": ("2222", "desk", None), "S001": ("3333", "supervisor", None)}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One SQLite hub for the module (each test pushes its own orders): keeps the run short."""
    proc = HubProcess(tmp_path_factory.mktemp("hub")).start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-4000:]


@dataclass
class Station:
    services: AppServices
    engine: SyncEngine
    code: str
    dialogs: list[ExceptionDialog] = field(default_factory=list)

    def sync(self) -> None:
        self.engine.sync_once()

    def order(self, oid: str) -> Any:
        order = self.services.store.get_order(oid)
        assert order is not None, oid
        return order


@pytest.fixture
def station(tmp_path: Path, hub: HubProcess, qapp: Any,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Station]]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path / "home"))
    made: list[Station] = []

    def make(code: str) -> Station:
        pin, role, bench = ROLES[code]
        name = f"{code}-{uuid.uuid4().hex[:6]}"
        store = open_store(tmp_path / f"{name}.sqlite3")
        engine = SyncEngine(store, SyncConfig(hub_url=hub.url, station=name, bench=bench, device_id=f"dev-{name}",
                                              long_poll_s=0.5, backoff_base_s=0.05, backoff_cap_s=0.2,
                                              connect_timeout_s=1.0, read_timeout_s=10.0))
        engine.set_credentials(code, pin)
        settings = load_settings(tmp_path / f"{name}-settings.json")
        settings.printers = {"label": f"pdf:{tmp_path / 'prints'}"}
        services = AppServices(settings, store, engine)
        services.set_operator(Operator(code, code, role))
        st = Station(services, engine, code)
        made.append(st)
        return st

    yield make
    for st in made:
        for dlg in st.dialogs:
            if dlg.resolved is None:
                dlg.reject()
        st.services.shutdown()


def session(hub: HubProcess, code: str) -> Session:
    pin, _role, bench = ROLES[code]
    return Session(hub.url, operator=code, pin=pin, station=f"API-{code}", bench=bench).login()


LINE = OrderLine("SKU-TEA-002", "安溪铁观音 清香型 500g", 1, 16800)


def intake(*, province: str = "浙江省", city: str = "杭州市", district: str = "西湖区",
           address: str = "文三路 90 号东部软件园 3 号楼", phone: str = "13800138000",
           lines: list[OrderLine] | None = None, total_fen: int = 16800, custom: bool = False,
           bench_b1: bool = False) -> IntakeOrder:
    """A paid generic order; ``bench_b1``: pick a channel order number that routes to bench B1."""
    import zlib

    now = datetime.now(UTC)
    while True:
        no = "E2E-" + uuid.uuid4().hex[:10]
        if not bench_b1 or zlib.crc32(("generic\x1f" + no).encode()) % 3 == 0:
            break
    return IntakeOrder(channel="generic", channel_order_no=no, status=ChannelStatus.PAID,
                       recipient=Recipient("李桂兰", phone, province, city, district, address),
                       lines=lines or [LINE], total_fen=total_fen, created_at=now, channel_updated_at=now,
                       paid_at=now, custom_packaging=custom)


def push_one(hub: HubProcess, order: IntakeOrder) -> str:
    return str(push_orders(hub.url, [order])[0]["order_id"])


def hold_of(st: Station, oid: str, htype: str) -> dict[str, Any]:
    holds = [h for h in st.order(oid).snapshot["holds"] if h["type"] == htype]
    assert holds, st.order(oid).snapshot["holds"]
    return dict(holds[0])


def assert_blocked(st: Station, hub: HubProcess, oid: str) -> None:
    """The bench can neither pack nor print: refused locally, and by the hub too."""
    with pytest.raises(OrderHeld):
        st.services.outbox.perform(oid, "label_printed", {"printer": "pdf", "job_id": "j1"}, st.code)
    with pytest.raises(OrderHeld):
        st.services.outbox.perform(oid, "step", {"step": "packed"}, st.code)
    desk = session(hub, "D001")
    r = desk.do(oid, "label_printed", {"printer": "pdf", "job_id": "j1"})
    assert r["outcome"] == "rejected" and r["error"] == "order_held", r


def dialog(st: Station, qtbot: Any, oid: str, hold_id: str | None) -> ExceptionDialog:
    """The dialog as the app opens it, once the hub's current choices are in (when it can be reached)."""
    opened: list[ExceptionDialog] = []
    open_exception_dialog(st.services, oid, hold_id, None, on_opened=opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=10000)
    dlg = opened[0]
    st.dialogs.append(dlg)  # closed at teardown if a test leaves it open (it deletes itself when closed)
    qtbot.waitUntil(lambda: not dlg.fetching_options, timeout=10000)
    return dlg


def set_field(dlg: ExceptionDialog, name: str, value: Any) -> None:
    w = dlg.form.widgets[name]
    if isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QComboBox):
        i = w.findData(value)
        assert i >= 0, (name, value, [w.itemData(k) for k in range(w.count())])
        w.setCurrentIndex(i)
    else:
        assert isinstance(w, QLineEdit)
        w.setText(str(value))


def locked(dlg: ExceptionDialog) -> str:
    """What the dialog says beside its locked Submit: the role line (if the role locks it) and the fields."""
    assert not dlg.submit_button.isEnabled()
    role = "" if dlg.role_label.isHidden() else dlg.role_label.text()
    text = "\n".join(t for t in (role, dlg.reasons_label.text()) if t.strip())
    assert text.strip(), "a locked Submit must say why"
    return text


def fill_and_submit(dlg: ExceptionDialog, qtbot: Any, values: dict[str, Any]) -> None:
    """Fill all but the last field: still locked; fill the last: Submit unlocks; click it."""
    items = list(values.items())
    for name, value in items[:-1]:
        set_field(dlg, name, value)
    locked(dlg)
    set_field(dlg, *items[-1])
    assert dlg.submit_button.isEnabled(), dlg.reasons_label.text()
    assert dlg.reasons_label.text() == ""
    dlg.submit_button.click()
    qtbot.waitUntil(lambda: dlg.resolved is True, timeout=10000)


def released_then_printed(st: Station, hub: HubProcess, oid: str, hold_id: str) -> dict[str, Any]:
    """After the release syncs: the hold is gone at the hub and a label can be printed (applied)."""
    assert st.services.store.pending_count() >= 1
    st.sync()
    hub_order = session(hub, "D001").order(oid)
    assert all(h["hold_id"] != hold_id for h in hub_order["holds"]), hub_order["holds"]
    assert not hub_order["holds"]
    st.services.outbox.perform(oid, "label_printed", {"printer": "pdf", "job_id": uuid.uuid4().hex}, st.code)
    st.sync()
    assert st.services.store.conflicts(oid) == []
    after = session(hub, "D001").order(oid)
    assert after["state"] == "label_printed", after
    return after


# -- 1. rural address without a usable phone ------------------------------------------------------

def test_rural_no_phone(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    oid = push_one(hub, intake(address="汲冢镇丁楼村3组", phone=""))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "rural_no_phone")
    assert_blocked(desk, hub, oid)
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    assert "choose: How the buyer confirmed" in locked(dlg)  # in the operator's language (English here)
    set_field(dlg, "phone", "138****0000")
    assert "courier can call" in locked(dlg)  # a masked number is not a usable phone
    set_field(dlg, "phone", "13912345678")
    fill_and_submit(dlg, qtbot, {"confirmed_via": "phone_call", "confirmed_address": "汲冢镇丁楼村3组12号"})
    after = released_then_printed(desk, hub, oid, hold["hold_id"])
    assert after["recipient"]["address"] == "汲冢镇丁楼村3组12号"
    assert after["recipient"]["phone"] == "13912345678"


def test_a_city_order_with_no_phone_is_held_and_the_number_the_desk_types_is_kept(
        hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    """A city address with no phone used to go to the bench and print a label without a number."""
    oid = push_one(hub, intake(phone=""))  # 浙江省杭州市西湖区文三路…: no village
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "no_phone")
    assert_blocked(desk, hub, oid)
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    assert dlg.windowTitle() and "村" not in dlg.windowTitle()  # city wording, not the village playbook
    set_field(dlg, "confirmed_via", "chat")
    assert locked(dlg)  # the phone is required: no release without a number
    set_field(dlg, "phone", "138****0000")
    assert locked(dlg)  # a masked number cannot be called
    fill_and_submit(dlg, qtbot, {"phone": "0571-88886666"})
    after = released_then_printed(desk, hub, oid, hold["hold_id"])
    assert after["recipient"]["phone"] == "0571-88886666"
    assert after["recipient"]["address"] == "文三路 90 号东部软件园 3 号楼"


# -- 2. gift stock short ------------------------------------------------------------------------

def test_gift_stock_substitute(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    gift = OrderLine("GIFT-TEA-01", "茶叶试饮装 10g×3 (赠品)", 1, 0, is_gift=True)
    oid = push_one(hub, intake(lines=[LINE, gift]))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "gift_stock")
    assert_blocked(desk, hub, oid)
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    combo = dlg.form.widgets["substitute_sku"]
    assert isinstance(combo, QComboBox)
    offered = {combo.itemData(i) for i in range(combo.count())}
    assert "GIFT-BAG-01" in offered and "GIFT-TEA-01" not in offered  # only gifts in stock
    set_field(dlg, "decision", "substitute")
    assert "Substitute gift" in locked(dlg)
    fill_and_submit(dlg, qtbot, {"substitute_sku": "GIFT-BAG-01", "consent_by": "买家 lgl_88（旺旺）"})
    after = released_then_printed(desk, hub, oid, hold["hold_id"])
    gifts = [ln for ln in after["lines"] if ln["is_gift"]]
    assert [(g["sku"], g["name"]) for g in gifts] == [("GIFT-BAG-01", "品牌帆布袋 (赠品)")]


# -- 3. carrier does not cover the area (and role refusal on escalation) ----------------------------

def test_carrier_area_escalated_by_supervisor(hub: HubProcess, station: Callable[[str], Station],
                                              qtbot: Any) -> None:
    oid = push_one(hub, intake(province="西藏自治区", city="阿里地区", district="改则县", address="改则镇 幸福路 8 号"))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "carrier_area")
    assert_blocked(desk, hub, oid)
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    set_field(dlg, "decision", "other_carrier")
    set_field(dlg, "carrier", "SF")
    set_field(dlg, "reason", "买家同意改发顺丰")
    assert "not available: SF" in locked(dlg)  # SF does not deliver to 阿里地区 either
    set_field(dlg, "decision", "escalate")
    assert "needs supervisor" in locked(dlg)
    dlg.reject()
    # The hub agrees: the same releases are refused there.
    api = session(hub, "D001")
    r = api.do(oid, "hold_released", {"hold_id": hold["hold_id"], "reason": "x", "resolution": {
        "decision": "other_carrier", "carrier": "SF", "reason": "买家同意改发顺丰"}})
    assert r["outcome"] == "rejected" and r["error"] == "bad_payload" and "'carrier'" in r["reason"], r
    r = api.do(oid, "hold_released", {"hold_id": hold["hold_id"], "reason": "x", "resolution": {
        "decision": "escalate", "carrier": "SF", "reason": "区域经理安排"}})
    assert r["outcome"] == "rejected" and r["error"] == "forbidden", r

    sup = station("S001")
    sup.sync()
    dlg = dialog(sup, qtbot, oid, hold["hold_id"])
    fill_and_submit(dlg, qtbot, {"decision": "escalate", "carrier": "SF", "reason": "区域经理安排顺丰特快专送"})
    after = released_then_printed(sup, hub, oid, hold["hold_id"])
    assert after["carrier"] == "SF" and str(after["waybill_no"]).startswith("SF")


# -- 4. VIP custom packaging: supervisor sign-off (role refusal) --------------------------------------

def test_vip_signoff_needs_supervisor(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    oid = push_one(hub, intake(lines=[OrderLine("SKU-TEA-004", "武夷山大红袍 礼盒 200g", 20, 45800)],
                               total_fen=916000, custom=True))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "vip_signoff")
    assert_blocked(desk, hub, oid)
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    set_field(dlg, "packaging_checked", True)
    assert "needs supervisor" in locked(dlg)
    assert dlg.role_label.isVisible() and dlg.role_label.text() == "needs supervisor"
    dlg.reject()
    r = session(hub, "D001").do(oid, "hold_released", {"hold_id": hold["hold_id"], "reason": "ok",
                                                      "resolution": {"packaging_checked": True}})
    assert r["outcome"] == "rejected" and r["error"] == "forbidden", r

    sup = station("S001")
    sup.sync()
    dlg = dialog(sup, qtbot, oid, hold["hold_id"])
    assert not dlg.role_label.isVisible()
    fill_and_submit(dlg, qtbot, {"note": "金色礼盒，丝带已备", "packaging_checked": True})
    released_then_printed(sup, hub, oid, hold["hold_id"])


# -- 5 / 6. raised at the bench by the packer --------------------------------------------------------

@pytest.mark.parametrize(("htype", "values"), [
    ("scan_mismatch", {"recount": "corrected", "reason": "拿错了颜色，已换"}),
    ("item_missing", {"decision": "partial_ship", "note": "缺 1 件，补发"}),
])
def test_bench_raised_holds(hub: HubProcess, station: Callable[[str], Station], qtbot: Any, htype: str,
                            values: dict[str, Any]) -> None:
    oid = push_one(hub, intake(bench_b1=True))
    packer = station("P001")
    packer.sync()
    packer.services.outbox.perform(oid, "hold_raised", {"type": htype, "reason": "三次扫描不符 / test"}, "P001",
                                   role="packer")
    packer.sync()
    hold = hold_of(packer, oid, htype)
    assert not hold["hold_id"].startswith("local-")
    assert_blocked(packer, hub, oid)
    dlg = dialog(packer, qtbot, oid, hold["hold_id"])
    assert dlg.role_label.isHidden()  # a packer may resolve these
    fill_and_submit(dlg, qtbot, values)
    released_then_printed(packer, hub, oid, hold["hold_id"])


# -- 7. address change after the label was printed ------------------------------------------------------

def test_address_change_after_label_reprints(hub: HubProcess, station: Callable[[str], Station],
                                             qtbot: Any) -> None:
    oid = push_one(hub, intake(bench_b1=True))
    packer = station("P001")
    packer.sync()
    packer.services.outbox.perform(oid, "label_printed", {"printer": "pdf", "job_id": "first"}, "P001")
    packer.sync()
    old_waybill = packer.order(oid).snapshot["waybill_no"]
    desk = session(hub, "D001")
    recipient = {**desk.order(oid)["recipient"], "address": "文一西路 969 号 5 号楼"}
    r = desk.do(oid, "address_changed", {"recipient": recipient, "reason": "买家改地址"})
    assert r["outcome"] == "applied", r
    packer.sync()
    hold = hold_of(packer, oid, "address_change")
    assert packer.order(oid).snapshot["waybill_no"] != old_waybill
    assert_blocked(packer, hub, oid)
    dlg = dialog(packer, qtbot, oid, hold["hold_id"])
    assert dlg.reprint_box is not None and dlg.reprint_box.isChecked()
    assert "The old label was removed and destroyed" in locked(dlg)
    fill_and_submit(dlg, qtbot, {"note": "旧面单已碎", "old_label_destroyed": True})
    # The reprint goes through the print service: journal + label_printed queued after the release.
    qtbot.waitUntil(lambda: any(a.type == "label_printed" for a in packer.services.store.pending_actions()),
                    timeout=20000)
    packer.sync()
    after = desk.order(oid)
    assert after["holds"] == [] and after["state"] == "label_printed" and after["label_count"] == 2


# -- 8. offline conflict ---------------------------------------------------------------------------------

def test_offline_conflict(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    oid = push_one(hub, intake(bench_b1=True))
    packer = station("P001")
    packer.sync()
    packer.services.outbox.perform(oid, "label_printed", {"printer": "pdf", "job_id": "offline"}, "P001")
    r = session(hub, "D001").do(oid, "cancelled_by_buyer", {"reason": "买家取消"})
    assert r["outcome"] == "applied"
    packer.sync()
    order = packer.order(oid)
    assert order.has_conflict and order.state == "closed"
    with pytest.raises(IllegalTransition):
        packer.services.outbox.perform(oid, "step", {"step": "packed"}, "P001")
    dlg = dialog(packer, qtbot, oid, "")
    line = dlg.findChild(type(dlg.reasons_label), "conflictLine")
    assert line is not None and "Label printed" in line.text()  # the action in words, not its code
    fill_and_submit(dlg, qtbot, {"handled": "both", "understood": True})
    assert not packer.order(oid).has_conflict
    assert packer.services.store.conflicts(oid) == []
    resolved = packer.services.store.conflicts(oid, unresolved_only=False)
    assert resolved and resolved[0]["resolved_by"] == "P001"


# -- 9. delivery failed ------------------------------------------------------------------------------------

def test_delivery_failed(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    oid = push_one(hub, intake())
    api = session(hub, "D001")
    for kind, payload in (("label_printed", {"printer": "pdf", "job_id": "j"}), ("shipped_by_station", {}),
                          ("delivery_failed", {"reason": "派送失败：电话无人接听"})):
        assert api.do(oid, kind, payload)["outcome"] == "applied", kind
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "delivery_failed")
    r = api.do(oid, "picked_up_by_carrier", {})
    assert r["outcome"] == "rejected"
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    fill_and_submit(dlg, qtbot, {"contacted": "reached", "outcome": "reship", "note": "买家明天在家"})
    desk.sync()
    after = api.order(oid)
    assert after["holds"] == []
    audit = api.get(f"/api/v1/orders/{oid}/audit").json()["entries"]
    release = [e for e in audit if e["what"] == "hold_released"][-1]
    assert release["details"]["effect"] == {"delivery": "reship"} and release["operator"] == "D001"
    assert api.do(oid, "delivered", {})["outcome"] == "applied"


# -- cancel requested after the label ----------------------------------------------------------------------

def test_cancel_request(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    order = intake(bench_b1=True)
    oid = push_one(hub, order)
    api = session(hub, "D001")
    assert api.do(oid, "label_printed", {"printer": "pdf", "job_id": "j"})["outcome"] == "applied"
    order.status = ChannelStatus.CANCELLED
    order.channel_updated_at = datetime.now(UTC)
    push_orders(hub.url, [order])
    packer = station("P001")
    packer.sync()
    hold = hold_of(packer, oid, "cancel_request")
    with pytest.raises(OrderHeld):
        packer.services.outbox.perform(oid, "shipped_by_station", {}, "P001")
    dlg = dialog(packer, qtbot, oid, hold["hold_id"])
    fill_and_submit(dlg, qtbot, {"decision": "pulled", "note": "包裹已拦截，面单作废"})
    packer.sync()
    after = api.order(oid)
    assert after["holds"] == [] and after["cancel_requested"] is False
    assert api.do(oid, "refund_approved", {"reason": "买家取消"})["outcome"] == "applied"


# -- the hub's lock, and offline resolution ------------------------------------------------------------------

def test_hub_refuses_release_with_missing_fields(hub: HubProcess) -> None:
    oid = push_one(hub, intake(address="汲冢镇丁楼村3组", phone=""))
    api = session(hub, "D001")
    hold = api.order(oid)["holds"][0]
    r = api.do(oid, "hold_released", {"hold_id": hold["hold_id"], "reason": "ok"})
    assert r["outcome"] == "rejected" and r["error"] == "bad_payload"
    assert "'confirmed_via'" in r["reason"] and "'confirmed_address'" in r["reason"]
    assert api.order(oid)["holds"] == [hold]


def test_resolved_offline_then_synced_once(hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:
    gift = OrderLine("GIFT-TEA-01", "茶叶试饮装 10g×3 (赠品)", 1, 0, is_gift=True)
    oid = push_one(hub, intake(lines=[LINE, gift]))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "gift_stock")
    hub.stop()
    try:
        dlg = dialog(desk, qtbot, oid, hold["hold_id"])
        fill_and_submit(dlg, qtbot, {"decision": "without_gift", "consent_by": "买家电话同意"})
        assert desk.order(oid).snapshot["holds"] == [] and desk.order(oid).is_pending  # shown at once
        with pytest.raises(Exception):  # noqa: B017 - any HubError: the hub is down
            desk.sync()
        assert desk.services.store.pending_count() == 1
    finally:
        hub.start()
    desk.sync()
    desk.sync()  # a second sync sends nothing again
    api = session(hub, "D001")
    after = api.order(oid)
    assert after["holds"] == [] and not any(ln["is_gift"] for ln in after["lines"])
    releases = [e for e in api.get(f"/api/v1/orders/{oid}/audit").json()["entries"] if e["what"] == "hold_released"]
    assert len(releases) == 1 and releases[0]["details"]["effect"]["gift_left_out"][0]["sku"] == "GIFT-TEA-01"
