"""Sync against a real hub over real HTTP on 127.0.0.1: offline work, lost acks, conflicts, two stations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from core.queues import load_rows
from core.sync.client import HubClient, HubError, WrongStation
from core.sync.engine import OFFLINE, ONLINE, SyncState
from tests.helpers import hubapi
from tests.helpers.proxy import CuttingProxy
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess, start_hub
from tests.sync.conftest import Station, allocated, hub_action_counts

MakeStation = Callable[..., Station]


def working_set_ids(
    url: str, operator: str = "P001", pin: str = "1111", station: str = "CHECK-B1", bench: str | None = "B1"
) -> set[str]:
    s = hubapi.Session(url, operator=operator, pin=pin, station=station, bench=bench).login()
    ids: set[str] = set()
    after = None
    while True:
        page = s.get("/api/v1/sync/snapshot", limit=100, **({"after": after} if after else {})).json()
        ids |= {o["order_id"] for o in page["orders"]}
        after = page["next_after"]
        if after is None:
            return ids


def test_fresh_station_pulls_its_whole_working_set(seeded_hub: HubProcess, make_station: MakeStation) -> None:
    st = make_station(seeded_hub.url, page_size=7)
    report = st.engine.sync_once()
    assert report.full_resync
    assert st.store.order_ids() == working_set_ids(seeded_hub.url)
    assert all(r.bench == "B1" for r in load_rows(st.store))
    assert st.store.cursor() is not None and st.engine.state.status == ONLINE


def test_actions_done_with_hub_stopped_are_all_applied_once_after_it_starts(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    ids = allocated(st.store, 5)
    seeded_hub.stop()
    states: list[SyncState] = []
    st.engine.sync_state_changed.connect(states.append)
    st.engine.start()
    for oid in ids:
        for step in ("picked", "verified", "packed"):
            order = st.outbox.perform(oid, "step", {"step": step}, "P001")
            assert order.pending > 0
    action_ids = [a.action_id for a in st.store.pending_actions()]
    assert len(action_ids) == 15
    wait_until(lambda: st.engine.state.status == OFFLINE and st.engine.state.last_error, what="offline state")
    assert "Cannot reach the hub" in str(st.engine.state.last_error)
    assert st.engine.state.pending == 15 and st.store.pending_count() == 15
    seeded_hub.start()
    wait_until(lambda: st.store.pending_count() == 0, timeout=20, what="outbox drained")
    wait_until(lambda: st.engine.state.status == ONLINE and st.engine.state.pending == 0, what="online state")
    counts = hub_action_counts(seeded_hub.url, ids)
    assert {aid: counts.get(aid, 0) for aid in action_ids} == dict.fromkeys(action_ids, 1)
    assert all(
        set(st.store.get_order(oid).snapshot["steps"]) >= {"picked", "verified", "packed"} for oid in ids
    )  # type: ignore[union-attr]
    assert any(s.status == OFFLINE for s in states) and states[-1].status == ONLINE


def test_lost_acknowledgement_is_replayed_as_duplicate_with_effects_once(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    proxy = CuttingProxy("127.0.0.1", seeded_hub.port)
    try:
        st = make_station(proxy.url)
        st.engine.sync_once()
        ids = allocated(st.store, 4)
        for oid in ids:
            st.outbox.perform(
                oid, "hold_raised", {"type": "item_missing", "reason": f"lost-ack {oid}"}, "P001"
            )
        action_ids = [a.action_id for a in st.store.pending_actions()]
        proxy.cut_actions = 1
        with pytest.raises(HubError):
            st.engine.sync_once()
        assert proxy.cut_done == 1
        assert st.store.pending_count() == 4  # the hub applied them, but we never heard: kept
        report = st.engine.sync_once()
        assert report.outcomes == {"duplicate": 4}
        assert st.store.pending_count() == 0
        counts = hub_action_counts(seeded_hub.url, ids)
        assert {aid: counts.get(aid, 0) for aid in action_ids} == dict.fromkeys(action_ids, 1)
        for oid in ids:
            holds = st.store.get_order(oid).snapshot["holds"]  # type: ignore[union-attr]
            assert [h["reason"] for h in holds].count(f"lost-ack {oid}") == 1
    finally:
        proxy.close()


def test_order_cancelled_at_hub_while_packed_offline_ends_in_conflict_without_blocking_others(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    victim, other = allocated(st.store, 2)
    # Offline on the bench: pack the victim, then work on another order behind it.
    st.outbox.perform(victim, "step", {"step": "packed"}, "P001")
    st.outbox.perform(other, "step", {"step": "picked"}, "P001")
    st.outbox.perform(other, "step", {"step": "packed"}, "P001")
    # Meanwhile the desk cancels the victim at the hub.
    desk = hubapi.Session(seeded_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    assert (
        desk.do(victim, "cancelled_by_buyer", {"reason": "buyer cancelled in the app"})["outcome"]
        == "applied"
    )
    changed: list[list[str]] = []
    st.engine.orders_changed.connect(lambda change: changed.append(change.ids))
    report = st.engine.sync_once()
    assert report.outcomes == {"conflict": 1, "applied": 2}
    assert st.store.pending_count() == 0
    order = st.store.get_order(victim)
    assert order is not None and order.has_conflict and "conflict" in order.flags
    assert order.state == "closed"  # the hub's current snapshot
    assert order.conflict is not None and "closed" in order.conflict["reason"]
    [record] = st.store.conflicts(victim)
    assert (
        record["outcome"] == "conflict"
        and record["type"] == "step"
        and record["snapshot"]["state"] == "closed"
    )
    assert set(st.store.get_order(other).snapshot["steps"]) >= {"picked", "packed"}  # type: ignore[union-attr]
    assert any(victim in ids for ids in changed)
    assert st.engine.state.conflicts == 1
    resolved = st.store.resolve_conflict(victim, "P001", "parcel pulled from the line")
    assert resolved is not None and not resolved.has_conflict and st.store.conflict_count() == 0


def test_two_stations_on_one_hub_see_each_others_changes(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    bench = make_station(seeded_hub.url)
    desk = make_station(seeded_hub.url, name="DESK-1", bench=None, operator="D001", pin="2222")
    bench.engine.sync_once()
    desk.engine.sync_once()
    oid = allocated(bench.store, 1)[0]
    bench.engine.start()
    desk.engine.start()
    bench.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    wait_until(lambda: "picked" in desk.store.get_order(oid).snapshot["steps"], what="desk sees bench step")  # type: ignore[union-attr]
    desk.outbox.perform(oid, "hold_raised", {"type": "gift_stock", "reason": "gift out of stock"}, "D001")
    wait_until(
        lambda: any(h["reason"] == "gift out of stock" for h in bench.store.get_order(oid).snapshot["holds"]),  # type: ignore[union-attr]
        what="bench sees desk hold",
    )


def test_order_moved_to_another_bench_leaves_the_old_bench(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    bench = make_station(seeded_hub.url)
    desk = make_station(seeded_hub.url, name="DESK-1", bench=None, operator="D001", pin="2222")
    bench.engine.sync_once()
    desk.engine.sync_once()
    moved = allocated(bench.store, 1)[0]
    desk.outbox.perform(moved, "reallocated", {"bench": "B2", "reason": "rebalance"}, "D001")
    assert desk.engine.sync_once().outcomes == {"applied": 1}
    bench.engine.sync_once()
    assert moved not in bench.store.order_ids()


def test_expired_token_mid_replay_logs_in_again_and_loses_nothing(
    tmp_path: Path, make_station: MakeStation
) -> None:
    hub = start_hub(tmp_path / "hub-ttl", env={"PACKDESK_HUB_TOKEN_TTL": "1"})
    try:
        hubapi.demo(hub.url, 200, seed=7)
        st = make_station(hub.url, batch_size=4)
        st.engine.sync_once()
        ids = allocated(st.store, 6)
        for oid in ids:
            st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
            st.outbox.perform(oid, "step", {"step": "verified"}, "P001")
        token = st.engine.login_info.token  # type: ignore[union-attr]
        probe = HubClient(hub.url)
        probe.token = token

        def expired() -> bool:
            r = requests.get(
                f"{hub.url}/api/v1/changes",
                params={"cursor": 0, "limit": 1},
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            return r.status_code == 401 and r.json().get("error") == "token_expired"

        wait_until(expired, timeout=10, what="token expiry")
        report = st.engine.sync_once()
        assert report.outcomes.get("applied") == 12 and st.store.pending_count() == 0
        assert st.engine.login_info.token != token  # type: ignore[union-attr]
        counts = hub_action_counts(hub.url, ids)
        assert sorted(counts.values()) == [1] * 12
    finally:
        hub.stop()


def test_cursor_too_old_triggers_full_resync_that_keeps_the_outbox(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    oid, other = allocated(st.store, 2)
    st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    desk = hubapi.Session(seeded_hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()
    desk.do(other, "hold_raised", {"type": "gift_stock", "reason": "while away"})
    admin = hubapi.Session(
        seeded_hub.url, operator="A001", pin="0000", station="ADMIN-PC", bench=None
    ).login()
    r = admin.post("/api/v1/admin/prune-changes", {"older_than_s": 0})
    assert r.status_code == 200, r.text
    # Pull first (410 → full re-sync), then push: the pending step must survive the re-sync.
    client = HubClient(seeded_hub.url)
    st.engine.pull_once(client)
    assert st.store.pending_count() == 1
    assert "picked" in st.store.get_order(oid).snapshot["steps"]  # type: ignore[union-attr]
    assert any(h["reason"] == "while away" for h in st.store.get_order(other).snapshot["holds"])  # type: ignore[union-attr]
    report = st.engine.sync_once()
    assert report.outcomes == {"applied": 1} and st.store.pending_count() == 0
    assert st.store.order_ids() == working_set_ids(seeded_hub.url)


def test_desk_login_on_a_bench_pc_gets_every_bench_and_a_packer_after_it_gets_one_again(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    """The cursor belongs to what the login may see: continuing a packer's bench-only feed under a
    desk login would show the desk 'all benches' with one bench's orders in it."""
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    oid = allocated(st.store, 1)[0]
    st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    bench_only = st.store.order_ids()
    st.engine.login("D001", "2222")
    report = st.engine.sync_once()
    assert report.full_resync and report.outcomes == {"applied": 1}
    everything = working_set_ids(seeded_hub.url, operator="D001", pin="2222", station="CHECK-DESK", bench=None)
    assert st.store.order_ids() == everything and len(everything) > len(bench_only)
    assert st.engine.sync_once().full_resync is False  # once is enough
    st.engine.login("P001", "1111")
    assert st.engine.sync_once().full_resync
    assert st.store.order_ids() == bench_only


def test_after_a_shift_change_offline_work_reaches_the_hub_under_the_packer_who_did_it(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    oid = allocated(st.store, 1)[0]
    seeded_hub.stop()
    st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    done_at = st.store.pending_actions()[0].done_at
    seeded_hub.start()
    st.engine.login("P002", "1111")  # the next shift logs in; then the network is back
    assert st.engine.sync_once().outcomes == {"applied": 1}
    admin = hubapi.Session(seeded_hub.url, operator="A001", pin="0000", station="AUDIT-PC", bench=None).login()
    entry = next(e for e in admin.get(f"/api/v1/orders/{oid}/audit").json()["entries"] if e["what"] == "step:picked")
    assert entry["operator"] == "P001" and entry["details"]["synced_by"] == "P002"
    assert entry["details"]["done_at"] == done_at


def test_hub_answering_for_another_bench_is_reported_and_nothing_is_lost(
    seeded_hub: HubProcess, make_station: MakeStation
) -> None:
    st = make_station(seeded_hub.url)
    st.engine.sync_once()
    oid = allocated(st.store, 1)[0]
    st.outbox.perform(oid, "step", {"step": "picked"}, "P001")
    # Same station name set up for another bench on a second PC (or a mix-up in the settings).
    wrong = make_station(seeded_hub.url, name="B1-PC", bench="B2")
    with pytest.raises(WrongStation):
        wrong.engine.sync_once()
    assert "bench" in str(wrong.engine.state.last_error) and wrong.engine.state.status == OFFLINE
    assert st.store.pending_count() == 1
    st.engine.sync_once()
    assert st.store.pending_count() == 0


def test_engine_started_before_anyone_logs_in_syncs_as_soon_as_someone_does(
    seeded_hub: HubProcess, tmp_path: Path
) -> None:
    """Nobody logged in is a non-retryable failure (waits out the back-off cap); a login must not
    have to wait for that, neither for the push nor for the pull."""
    from core.outbox import Outbox
    from core.store import open_store
    from core.sync.engine import SyncEngine
    from tests.helpers.station import sync_config

    store = open_store(tmp_path / "late-login.sqlite3")
    engine = SyncEngine(store, sync_config(seeded_hub.url, backoff_cap_s=600.0))
    try:
        engine.start()
        wait_until(lambda: "Nobody is logged in" in str(engine.state.last_error), what="not logged in")
        engine.set_credentials("P001", "1111")
        wait_until(lambda: store.cursor() is not None and store.count_orders() > 0, what="pulled after login")
        oid = allocated(store, 1)[0]
        Outbox(store).perform(oid, "step", {"step": "picked"}, "P001")
        engine.wake()
        wait_until(lambda: store.pending_count() == 0, what="pushed")
        wait_until(lambda: engine.state.status == ONLINE, what="online")
    finally:
        engine.stop()
        store.close()
