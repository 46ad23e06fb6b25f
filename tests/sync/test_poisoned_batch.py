"""A poisoned action in a bench's outbox: the good ones around it arrive, it is shown as rejected, nothing is stuck.

Issue 9 item 2: one action whose ``done_at`` has no UTC instant (a bench clock at year 1, or
9999 with a zone) made the hub answer the whole batch 500, and a client resends on 5xx, so the
bench's outbox never drained. Here the real sync engine pushes a real outbox to a real hub
(SQLite and PostgreSQL) holding good actions around poisoned ones: one the hub rejects per
action (its time), and one it refuses whole-batch with a 422 (its payload is over the size
limit), which the engine must narrow down to that one action by halving.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers import hubapi
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess
from tests.sync.conftest import Station, allocated, hub_action_counts

MakeStation = Callable[..., Station]

POISON_TIMES = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")


def test_good_actions_around_poisoned_ones_are_applied_and_the_outbox_drains(
    hub: HubProcess, make_station: MakeStation
) -> None:
    hubapi.demo(hub.url, 200, seed=7)
    st = make_station(hub.url)
    st.engine.sync_once()
    good_ids = allocated(st.store, 6)
    bad_time_ids, too_big_id, good_ids = good_ids[:2], good_ids[2], good_ids[3:]
    versions = {oid: st.store.get_order(oid).hub_version for oid in (*bad_time_ids, too_big_id)}  # type: ignore[union-attr]
    with st.store.write() as conn:
        queued = []
        for i, oid in enumerate(good_ids):
            queued.append(st.outbox.perform_in(conn, oid, "step", {"step": "picked"}, "P001")[2])
            if i < len(bad_time_ids):
                st.outbox.perform_in(conn, bad_time_ids[i], "step", {"step": "picked"}, "P001",
                                     done_at=POISON_TIMES[i])
        st.outbox.perform_in(conn, too_big_id, "step",
                             {"step": "picked", "detail": {f"note{i}": "长" * 1500 for i in range(5)}}, "P001")
        queued.append(st.outbox.perform_in(conn, good_ids[0], "step", {"step": "verified"}, "P001")[2])
    assert st.store.pending_count() == 7

    st.engine.start()
    wait_until(lambda: st.store.pending_count() == 0, timeout=30, what="the outbox to drain")

    # The good actions are applied at the hub, each exactly once.
    counts = hub_action_counts(hub.url, good_ids)
    assert {aid: counts.get(aid, 0) for aid in queued} == dict.fromkeys(queued, 1)
    desk = hubapi.Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    assert set(desk.order(good_ids[0])["steps"]) >= {"picked", "verified"}
    # The poisoned ones changed nothing at the hub, and the bench shows them as refused.
    for oid in (*bad_time_ids, too_big_id):
        assert desk.order(oid)["version"] == versions[oid]
    refused = {c["order_id"]: c for c in st.store.conflicts()}
    assert set(refused) == {*bad_time_ids, too_big_id}
    for oid in bad_time_ids:
        assert (refused[oid]["outcome"], refused[oid]["error"]) == ("rejected", "bad_payload")
        assert "ISO 8601" in refused[oid]["reason"]
    assert (refused[too_big_id]["outcome"], refused[too_big_id]["error"]) == ("rejected", "validation_failed")
    assert "16384" in refused[too_big_id]["reason"]
    assert all(st.store.get_order(oid).has_conflict for oid in refused)  # type: ignore[union-attr]

    # Nothing is left to resend: another round pushes nothing.
    st.engine.stop()
    report = st.engine.sync_once()
    assert report.pushed == 0 and st.store.pending_count() == 0
