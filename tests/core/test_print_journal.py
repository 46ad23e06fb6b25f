"""The print journal: labels mark an order printed only after a successful job; reprints need a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.outbox import Outbox, UnknownOrder
from core.print_journal import PrintJobResult, PrintJournal, ReprintReasonRequired
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

A, B = "BL20261125-000001", "BL20261125-000002"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "bench.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(A), snapshot(B)])
    yield s
    s.close()


def test_successful_label_job_queues_label_printed_in_same_transaction(store: LocalStore) -> None:
    journal = PrintJournal(store, Outbox(store))
    rec = journal.record_print(PrintJobResult("label", [A, B], "ZD420", ok=True, job_id="job-1"), "P001")
    assert [o.state for o in rec.orders] == ["label_printed", "label_printed"]
    actions = store.pending_actions()
    assert [(a.type, a.payload) for a in actions] == [
        ("label_printed", {"printer": "ZD420", "job_id": "job-1"})
    ] * 2
    assert rec.action_ids == [a.action_id for a in actions]
    [job] = journal.jobs(A)
    assert (
        job["ok"]
        and job["printer"] == "ZD420"
        and job["order_ids"] == [A, B]
        and job["reprint_reason"] is None
    )


def test_failed_job_is_journaled_and_changes_no_order(store: LocalStore) -> None:
    journal = PrintJournal(store, Outbox(store))
    rec = journal.record_print(PrintJobResult("label", [A], "ZD420", ok=False, error="paper out"), "P001")
    assert not rec.ok and rec.orders == []
    assert store.pending_count() == 0
    assert store.get_order(A).state == "allocated"  # type: ignore[union-attr]
    [job] = journal.jobs()
    assert job["ok"] is False and job["error"] == "paper out"


def test_reprint_needs_a_reason_and_writes_nothing_without_one(store: LocalStore) -> None:
    journal = PrintJournal(store, Outbox(store))
    journal.record_print(PrintJobResult("label", [A], "ZD420", ok=True), "P001")
    assert journal.reprints([A, B]) == [A]
    with pytest.raises(ReprintReasonRequired):
        journal.record_print(PrintJobResult("label", [A], "ZD420", ok=True), "P001")
    assert len(journal.jobs()) == 1
    rec = journal.record_print(
        PrintJobResult("label", [A], "ZD420", ok=True), "P001", reprint_reason="label torn"
    )
    assert rec.orders == []  # still label_printed: no second state change
    assert journal.jobs()[0]["reprint_reason"] == "label torn"
    assert store.pending_count() == 1


def test_pick_list_job_changes_no_order(store: LocalStore) -> None:
    journal = PrintJournal(store, Outbox(store))
    journal.record_print(PrintJobResult("pick_list", [A, B], "Office", ok=True), "P001")
    assert store.pending_count() == 0 and journal.jobs()[0]["doc_type"] == "pick_list"


def test_a_label_that_printed_for_an_order_held_meanwhile_is_journaled_but_not_marked(store: LocalStore) -> None:
    """The print service refuses held orders up front; a hold that arrives while the printer is busy
    must still leave the journal row (the label is on paper: a later print is a reprint)."""
    with store.write() as conn:
        store.apply_snapshots(
            conn,
            [
                snapshot(
                    A,
                    version=2,
                    holds=[
                        {
                            "hold_id": "h",
                            "type": "gift_stock",
                            "reason": "",
                            "raised_at": "",
                            "raised_by": "",
                            "details": {},
                        }
                    ],
                )
            ],
        )
    journal = PrintJournal(store, Outbox(store))
    record = journal.record_print(PrintJobResult("label", [B, A], "ZD420", ok=True), "P001")
    assert set(record.not_marked) == {A} and "hold" in record.not_marked[A]
    jobs = journal.jobs()
    assert len(jobs) == 1 and jobs[0]["ok"] and "not marked" in jobs[0]["error"]
    assert store.pending_count() == 1  # B's label_printed only
    assert store.get_order(A).state == "allocated"  # type: ignore[union-attr]
    assert journal.reprints([A]) == [A]


def test_a_label_that_printed_for_an_order_gone_from_the_station_meanwhile_is_journaled(
    store: LocalStore,
) -> None:
    """A sync may drop an order (moved to another bench) while its label prints: the journal row
    must stay, or the paper label is forgotten and a second one would not count as a reprint."""
    with store.write() as conn:
        store.apply_snapshots(conn, [snapshot(A, version=5, bench="B2")], keep=lambda s: s.get("bench") == "B1")
    assert store.get_order(A) is None
    journal = PrintJournal(store, Outbox(store))
    record = journal.record_print(PrintJobResult("label", [B, A], "ZD420", ok=True), "P001")
    assert set(record.not_marked) == {A} and "no longer on this station" in record.not_marked[A]
    [job] = journal.jobs(A)
    assert job["ok"] and "not marked" in job["error"]
    assert [a.order_id for a in store.pending_actions()] == [B]
    assert journal.reprints([A]) == [A]
    with pytest.raises(UnknownOrder):  # a failed job for an unknown order is still refused
        journal.record_print(PrintJobResult("label", ["BL20261125-999999"], "ZD420", ok=False, error="x"), "P001")
