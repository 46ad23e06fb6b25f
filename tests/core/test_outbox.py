"""The action API: one transaction for the local update and the queued action; hub rules refused locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import IllegalTransition, OrderHeld, ValidationFailed
from core.outbox import Forbidden, OrdersChanged, Outbox, UnknownOrder
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

OID = "BL20261125-000001"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "bench.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(OID, version=4)])
    yield s
    s.close()


def test_perform_returns_updated_pending_order_and_queues_action(store: LocalStore) -> None:
    outbox = Outbox(store)
    seen: list[OrdersChanged] = []
    outbox.orders_changed.connect(seen.append)
    order = outbox.perform(OID, "label_printed", {"printer": "ZD420", "job_id": "j1"}, "P001")
    assert order.state == "label_printed" and order.snapshot["label_count"] == 1
    assert order.pending == 1 and order.is_pending and order.hub_version == 4
    [action] = store.pending_actions()
    assert (action.seq, action.type, action.base_version, action.operator) == (1, "label_printed", 4, "P001")
    assert action.to_wire()["payload"] == {"printer": "ZD420", "job_id": "j1"}
    assert seen == [OrdersChanged([OID], None)]
    assert store.local_audit(OID)[0]["action_id"] == action.action_id


def test_seqs_increase_and_action_ids_are_unique(store: LocalStore) -> None:
    outbox = Outbox(store)
    for step in ("picked", "verified", "packed"):
        outbox.perform(OID, "step", {"step": step}, "P001")
    actions = store.pending_actions()
    assert [a.seq for a in actions] == [1, 2, 3]
    assert len({a.action_id for a in actions}) == 3
    assert set(store.get_order(OID).snapshot["steps"]) == {"picked", "verified", "packed"}  # type: ignore[union-attr]


def test_illegal_move_is_refused_and_nothing_is_written(store: LocalStore) -> None:
    with pytest.raises(IllegalTransition, match="not allowed"):
        Outbox(store).perform(OID, "shipped_by_station", {}, "P001")
    assert store.pending_count() == 0 and store.local_audit() == []
    assert store.meta("next_seq") is None


def test_held_order_refuses_forward_moves_but_takes_release(store: LocalStore) -> None:
    with store.write() as conn:
        store.apply_snapshots(
            conn,
            [
                snapshot(
                    OID,
                    version=5,
                    holds=[
                        {
                            "hold_id": "h1",
                            "type": "scan_mismatch",
                            "reason": "wrong item",
                            "raised_at": "",
                            "raised_by": "P001",
                            "details": {},
                        }
                    ],
                )
            ],
        )
    outbox = Outbox(store)
    with pytest.raises(OrderHeld):
        outbox.perform(OID, "label_printed", {"printer": "p", "job_id": "j"}, "P001")
    with pytest.raises(OrderHeld):
        outbox.perform(OID, "step", {"step": "packed"}, "P001")
    order = outbox.perform(
        OID,
        "hold_released",
        {"hold_id": "h1", "reason": "rescanned", "resolution": {}},
        "P001",
        role="packer",
    )
    assert order.snapshot["holds"] == [] and "exception" not in order.flags
    order = outbox.perform(OID, "label_printed", {"printer": "p", "job_id": "j"}, "P001")
    assert order.state == "label_printed"


def test_raised_hold_shows_at_once_and_cannot_be_released_before_sync(store: LocalStore) -> None:
    outbox = Outbox(store)
    order = outbox.perform(
        OID, "hold_raised", {"type": "item_missing", "reason": "broken cup"}, "P001", role="packer"
    )
    [hold] = order.snapshot["holds"]
    assert hold["type"] == "item_missing" and "exception" in order.flags
    with pytest.raises(ValidationFailed, match="wait for sync"):
        outbox.perform(OID, "hold_released", {"hold_id": hold["hold_id"], "reason": "x"}, "P001")


def test_role_limits_match_the_hub(store: LocalStore) -> None:
    outbox = Outbox(store)
    with pytest.raises(Forbidden, match="desk"):
        outbox.perform(OID, "cancelled_by_buyer", {"reason": "buyer asked"}, "P001", role="packer")
    with pytest.raises(Forbidden):
        outbox.perform(OID, "hold_raised", {"type": "vip_signoff", "reason": "x"}, "P001", role="packer")
    with pytest.raises(Forbidden):
        outbox.perform(OID, "reallocated", {"bench": "B2"}, "P001", role="packer")
    order = outbox.perform(OID, "cancelled_by_buyer", {"reason": "buyer asked"}, "D001", role="desk")
    assert order.state == "closed" and "done" in order.flags


@pytest.mark.parametrize(
    ("type_", "payload", "code", "field"),
    [
        ("step", {"step": "dance"}, "bad_payload", "step"),
        ("label_printed", {"printer": "p"}, "bad_payload", "job_id"),
        ("teleport", {}, "unknown_action", "type"),
        ("address_changed", {"recipient": {"name": "x"}, "reason": "r"}, "bad_payload", "recipient.phone"),
        ("hold_raised", {"type": "nope", "reason": "r"}, "bad_payload", "type"),
        ("reallocated", {"bench": 3}, "bad_payload", "bench"),
        ("delivered", {}, "not_a_bench_action", "type"),  # a carrier fact: the hub's, never a bench's
        ("completed", {"reason": "x"}, "not_a_bench_action", "type"),
    ],
)
def test_bad_payload_is_refused(store: LocalStore, type_: str, payload: dict[str, object], code: str,
                                field: str) -> None:
    """The table's refusal (core/actions.py), with the code the hub gives for the same payload."""
    with pytest.raises(ValidationFailed) as info:
        Outbox(store).perform(OID, type_, payload, "P001", role="admin")
    assert (info.value.code, info.value.details["field"]) == (code, field)
    assert store.pending_count() == 0


def test_unknown_order_is_refused(store: LocalStore) -> None:
    with pytest.raises(UnknownOrder):
        Outbox(store).perform("BL20261125-999999", "step", {"step": "picked"}, "P001")


def test_address_change_after_label_voids_it_locally(store: LocalStore) -> None:
    outbox = Outbox(store)
    outbox.perform(OID, "label_printed", {"printer": "p", "job_id": "j"}, "P001")
    rec = {
        "name": "王五",
        "phone": "13700000000",
        "province": "江苏省",
        "city": "南京市",
        "district": "玄武区",
        "address": "中山路 2 号",
    }
    order = outbox.perform(
        OID, "address_changed", {"recipient": rec, "reason": "buyer called"}, "D001", role="desk"
    )
    assert order.state == "allocated" and order.snapshot["recipient"]["name"] == "王五"


def test_committed_action_survives_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    s = open_store(path)
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(OID)])
    Outbox(s).perform(OID, "step", {"step": "picked"}, "P001")
    s.close()
    s2 = open_store(path)
    try:
        assert [a.type for a in s2.pending_actions()] == ["step"]
        assert s2.get_order(OID).pending == 1  # type: ignore[union-attr]
    finally:
        s2.close()


def test_perform_many_is_one_transaction_one_event_and_carries_the_initiator(store: LocalStore) -> None:
    outbox = Outbox(store)
    seen: list[OrdersChanged] = []
    queued: list[int] = []
    outbox.orders_changed.connect(seen.append)
    outbox.enqueued.connect(queued.append)
    me = object()
    order = outbox.perform_many(OID, [("step", {"step": "verified", "detail": {"TEA-250": 1}}),
                                      ("step", {"step": "packed", "detail": {}})], "P001", role="packer",
                                initiator=me)
    assert {"verified", "packed"} <= set(order.snapshot["steps"]) and order.pending == 2
    assert [(a.seq, a.payload["step"]) for a in store.pending_actions()] == [(1, "verified"), (2, "packed")]
    assert seen == [OrdersChanged([OID], me)] and seen[0].initiator is me
    assert queued == [1, 2]


def test_perform_many_is_all_or_nothing(store: LocalStore) -> None:
    """The second action is refused: the first, already applied inside the transaction, is not kept."""
    outbox = Outbox(store)
    seen: list[OrdersChanged] = []
    outbox.orders_changed.connect(seen.append)
    with pytest.raises(ValidationFailed):
        outbox.perform_many(OID, [("step", {"step": "verified", "detail": {}}), ("step", {"step": "dance"})],
                            "P001")
    with pytest.raises(IllegalTransition):
        outbox.perform_many(OID, [("step", {"step": "packed"}), ("shipped_by_station", {})], "P001")
    assert store.pending_count() == 0 and store.local_audit() == [] and seen == []
    order = store.get_order(OID)
    assert order is not None and order.pending == 0 and not order.snapshot.get("steps")
    assert store.meta("next_seq") is None  # no seq was used up either
    with pytest.raises(ValidationFailed):
        outbox.perform_many(OID, [], "P001")
