"""The carrier-area escalation end to end (issue 11: "升级区域经理" ended in a disabled Submit, with
nothing recorded and nobody told; China Post, which the steps name, was not offered).

A real hub with the default rules, real stations and the real dialog: a desk clerk escalates with
their reason (typed, Escalate pressed), is told what happens next, the escalation syncs and is
audited at the hub with who and why, the hold stays open and reads "escalated" for the supervisor,
who sees who escalated and why and sends it with China Post, which covers 阿里地区.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from core.queues import load_rows
from tests.e2e.test_playbooks_hub import (  # noqa: F401 - the fixtures of the playbook tests
    Station,
    dialog,
    fill_and_submit,
    hold_of,
    hub,
    intake,
    push_one,
    released_then_printed,
    session,
    set_field,
    station,
)
from tests.hubproc import HubProcess
from ui.toast import Toast

ALI = {"province": "西藏自治区", "city": "阿里地区", "district": "改则县", "address": "改则镇 幸福路 8 号"}


def test_a_desk_escalation_is_recorded_told_and_taken_by_a_supervisor_with_china_post(
        hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:  # noqa: F811
    oid = push_one(hub, intake(**ALI))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "carrier_area")
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(1366, 728)
    window.show()
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    dlg.setParent(window, dlg.windowFlags())
    carriers = dlg.form.widgets["carrier"]
    offered = {carriers.itemData(i) for i in range(carriers.count())}  # type: ignore[attr-defined]
    assert "EMS" in offered  # China Post is among the carriers offered, and it covers 阿里地区
    set_field(dlg, "decision", "escalate")
    assert not dlg.submit_button.isEnabled()  # a desk may not take the manager's decision itself …
    assert dlg.escalate_why is not None and dlg.escalate_button is not None  # … but may hand it on
    assert not dlg.escalate_button.isEnabled()
    qtbot.keyClicks(dlg.escalate_why, "JD SF ZTO do not deliver; buyer wants it by Friday")
    assert dlg.escalate_button.isEnabled()
    qtbot.mouseClick(dlg.escalate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.resolved is False and dlg.escalated, timeout=10_000)
    assert oid in dlg.confirmation and "supervisor" in dlg.confirmation.lower()
    assert any(t.isVisible() and t.text() == dlg.confirmation for t in window.findChildren(Toast))
    # recorded here at once (the hold stays open, marked), then synced and audited at the hub
    [action] = [a for a in desk.services.store.pending_actions() if a.type == "hold_escalated"]
    assert action.payload == {"hold_id": hold["hold_id"], "reason": "JD SF ZTO do not deliver; buyer wants it by Friday",
                              "to": "supervisor"}
    assert hold_of(desk, oid, "carrier_area")["escalated"]["by"] == "D001"
    desk.sync()
    assert desk.services.store.pending_count() == 0 and not desk.services.store.conflicts(oid)
    api = session(hub, "S001")
    at_hub = hold_of_doc(api.order(oid), hold["hold_id"])
    assert at_hub["escalated"]["by"] == "D001" and "Friday" in at_hub["escalated"]["why"]
    audit = api.get(f"/api/v1/orders/{oid}/audit").json()["entries"]
    [line] = [e for e in audit if e["what"] == "hold_escalated"]
    assert line["operator"] == "D001" and "Friday" in line["why"]

    sup = station("S001")
    sup.sync()
    [row] = [r for r in load_rows(sup.services.store) if r.order_id == oid]
    assert "escalated" in row.hold  # the Exceptions queue says so
    dlg = dialog(sup, qtbot, oid, hold["hold_id"])
    line_label = dlg.findChild(type(dlg.reasons_label), "escalatedLine")
    assert line_label is not None and "D001" in line_label.text() and "Friday" in line_label.text()
    fill_and_submit(dlg, qtbot, {"decision": "escalate", "carrier": "EMS", "reason": "区域经理安排中国邮政"})
    after = released_then_printed(sup, hub, oid, hold["hold_id"])
    assert after["carrier"] == "EMS" and str(after["waybill_no"]).startswith("11")


def test_a_desk_may_send_with_china_post_itself_where_it_covers(
        hub: HubProcess, station: Callable[[str], Station], qtbot: Any) -> None:  # noqa: F811
    oid = push_one(hub, intake(province="新疆维吾尔自治区", city="阿勒泰地区", district="青河县", address="青河镇 团结路 3 号"))
    desk = station("D001")
    desk.sync()
    hold = hold_of(desk, oid, "carrier_area")
    dlg = dialog(desk, qtbot, oid, hold["hold_id"])
    fill_and_submit(dlg, qtbot, {"decision": "other_carrier", "carrier": "EMS", "reason": "只有邮政能送到"})
    after = released_then_printed(desk, hub, oid, hold["hold_id"])
    assert after["carrier"] == "EMS"


def hold_of_doc(doc: dict[str, Any], hold_id: str) -> dict[str, Any]:
    return next(h for h in doc["holds"] if h["hold_id"] == hold_id)
