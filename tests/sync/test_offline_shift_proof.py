"""A shift change while offline, with the real client: the work is credited to who did it, with their role.

Issue 9 item 4 made the hub refuse to take an action's ``operator`` on trust; the client now signs
each action, when it is written, with the action key the operator's own online login gave this PC
(core/action_sig.py), so the next shift's login can push it and the hub still knows who did it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.queues import load_rows
from tests.helpers import hubapi
from tests.hubproc import HubProcess
from tests.sync.conftest import Station, allocated

MakeStation = Callable[..., Station]


def audit_entry(url: str, order_id: str, action_id: str) -> dict[str, Any]:
    admin = hubapi.Session(url, operator="A001", pin="0000", station="AUDIT-PC", bench=None).login()
    entries = admin.get(f"/api/v1/orders/{order_id}/audit").json()["entries"]
    entry: dict[str, Any] = next(e for e in entries if e["action_id"] == action_id)
    return entry


def test_a_supervisors_offline_sign_off_pushed_by_the_next_packer_counts_as_the_supervisors(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url, operator="S001", pin="3333")
    st.engine.login("S001", "3333")  # the supervisor's online login leaves an action key on this PC
    st.engine.sync_once()
    oid, other = [r.order_id for r in load_rows(st.store)  # a supervisor sees every bench
                  if r.state == "allocated" and r.bench == "B1" and not r.held][:2]
    desk = hubapi.Session(seeded_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    order = desk.order(oid)
    raised = desk.do(oid, "hold_raised", {"type": "vip_signoff", "reason": "needs sign-off"},
                     base_version=order["version"])
    assert raised["outcome"] == "applied"
    st.engine.sync_once()
    hold_id = raised["order"]["holds"][0]["hold_id"]

    seeded_hub.stop()  # the network drops; the supervisor signs off at the bench, offline
    st.outbox.perform(oid, "hold_released", {"hold_id": hold_id, "reason": "signed",
                                             "resolution": {"packaging_checked": True}}, "S001", role="supervisor")
    sign_off = st.store.pending_actions()[0]
    assert sign_off.key_id and sign_off.sig and sign_off.operator == "S001"
    seeded_hub.start()

    st.engine.login("P001", "1111")  # the next shift logs in; its login pushes the queue
    st.outbox.perform(other, "step", {"step": "picked"}, "P001", role="packer")
    report = st.engine.sync_once()
    assert report.outcomes == {"applied": 2}, (report, st.store.conflicts())
    entry = audit_entry(seeded_hub.url, oid, sign_off.action_id)
    assert (entry["operator"], entry["what"]) == ("S001", "hold_released")
    assert entry["details"]["synced_by"] == "P001" and entry["details"]["action_key"] == sign_off.key_id
    assert desk.order(oid)["holds"] == []
    own = st.store.local_audit(other)[-1]
    entry = audit_entry(seeded_hub.url, other, own["action_id"])
    assert entry["operator"] == "P001" and "synced_by" not in entry["details"]


def test_work_of_an_operator_who_never_logged_in_online_here_is_credited_to_the_login_that_pushes_it(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    """P002 was only ever known offline on this PC: no key, no proof — the pusher answers for it."""
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    oid = allocated(st.store, 1)[0]
    st.outbox.perform(oid, "step", {"step": "picked"}, "P002", role="packer")
    action = st.store.pending_actions()[0]
    assert action.key_id is None and action.sig is None
    assert st.engine.sync_once().outcomes == {"applied": 1}
    entry = audit_entry(seeded_hub.url, oid, action.action_id)
    assert entry["operator"] == "P001"
    assert entry["details"]["claimed_operator"] == "P002" and entry["details"]["operator_verified"] is False
