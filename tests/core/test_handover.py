"""The handover flow without Qt, against a real local store and outbox.

:class:`Desk` carries out a flow's work the way ``ui.handover_view.HandoverView`` does (store work
on the same functions), synchronously, so a test follows a scan to its answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core import handover as ho
from core.errors import UserError
from core.i18n import language, set_language
from core.outbox import OrdersChanged, Outbox
from core.store import LocalStore, open_store
from core.store import handover as rows
from tests.helpers.snapshots import snapshot

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
TODAY = "2026-11-25T02:00:00Z"
YESTERDAY = "2026-11-24T02:00:00Z"


def oid(n: int) -> str:
    return f"BL20261125-{n:06d}"


def parcel(n: int, *, carrier: str = "ZTO", state: str = "label_printed", updated_at: str = TODAY,
           **extra: Any) -> dict[str, Any]:
    return snapshot(oid(n), state=state, carrier=carrier, waybill_no=f"{carrier}{n:010d}", updated_at=updated_at,
                    label_count=1, **extra)


def wb(n: int, carrier: str = "ZTO") -> str:
    return f"{carrier}{n:010d}"


HOLD = {"hold_id": "h-9", "type": "carrier_area", "reason": "中通不覆盖该地区", "raised_at": TODAY,
        "raised_by": "hub", "details": {}}


class Desk:
    """Runs a :class:`core.handover.HandoverFlow`'s work synchronously, as the view does."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.flow = ho.HandoverFlow()
        self.printed: list[ho.HandoverBatch] = []
        self.events: list[OrdersChanged] = []
        self.outbox.orders_changed.connect(self.events.append)
        self.run(self.flow.start())

    def scan(self, code: str) -> ho.Outcome:
        return self.run(self.flow.scan(code))

    def run(self, outcome: ho.Outcome) -> ho.Outcome:
        """Carry out the work; returns the last outcome that had a banner."""
        last = outcome
        for work in outcome.work:
            out: ho.Outcome
            if isinstance(work, ho.LoadOpen):
                out = self.flow.loaded(ho.load_open(self.store))
            elif isinstance(work, ho.ReadCarriers):
                out = self.flow.carriers_read(ho.carrier_counts(self.store))
            elif isinstance(work, ho.Check):
                out = self.flow.checked(ho.scan_parcel(self.store, work, station="B1-PC", bench="B1",
                                                       operator="P001", now=NOW))
            elif isinstance(work, ho.OpenBatch):
                out = self.flow.opened(ho.open_batch(self.store, work.carrier, station="B1-PC", bench="B1",
                                                     operator="P001", now=NOW))
            elif isinstance(work, ho.ReadMissing):
                out = self.flow.missing_read(ho.read_missing(self.store, work.batch_id, work.carrier, now=NOW))
            elif isinstance(work, ho.CloseBatch):
                try:
                    closed = ho.close_batch(self.store, self.outbox, work.batch_id, "P001", role="packer",
                                            drop=work.drop, now=NOW)
                except UserError as exc:
                    out = self.flow.close_failed(exc)
                else:
                    out = self.flow.closed(closed)
            elif isinstance(work, ho.CancelBatch):
                ho.cancel_batch(self.store, work.batch_id, "P001", now=NOW)
                out = self.flow.cancelled()
            else:
                self.printed.append(work.batch)
                out = self.flow.printed(True)
            result = self.run(out)
            if result.banner is not None and not isinstance(work, ho.PrintManifest):
                last = result
        return last

    def shipped_actions(self) -> list[tuple[str, dict[str, Any]]]:
        return [(a.order_id, a.payload) for a in self.store.pending_actions() if a.type == "shipped_by_station"]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    before = language()
    set_language("en")
    yield
    set_language(before)  # the next test in this process finds the language it had


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def seed(store: LocalStore, *snaps: dict[str, Any]) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, list(snaps))


def test_first_scan_opens_a_batch_for_its_carrier_and_counts(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2), parcel(3), parcel(4, carrier="SF"))
    desk = Desk(store)
    assert desk.flow.batch is None and desk.flow.carriers == [("ZTO", 3), ("SF", 1)]
    out = desk.scan(wb(1))
    assert out.banner == "ok" and out.tone == "ok" and "1 in the bag" in out.text
    batch = desk.flow.batch
    assert batch is not None and batch.carrier == "ZTO" and ho.looks_like_handover_batch(batch.batch_id)
    assert batch.batch_id == "HO-B1PC-20261125140000"  # site-local time, readable on paper
    assert sorted(desk.flow.missing) == [oid(2), oid(3)]  # SF's parcel is not ZTO's missing
    out = desk.scan(oid(2).lower())  # the order ID works too (scanners may send lower case)
    assert out.banner == "ok" and "2 in the bag" in out.text and list(desk.flow.missing) == [oid(3)]


def test_duplicate_scan_is_counted_once(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2))
    desk = Desk(store)
    desk.scan(wb(1))
    out = desk.scan(wb(1))
    assert out.banner == "repeat" and out.refusal is None and "Already in this batch" in out.text
    assert desk.flow.count == 1
    with store.read() as conn:
        assert len(rows.parcels(conn, desk.flow.batch.batch_id)) == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("snap", "code", "verdict", "words"), [
    (parcel(5, holds=[HOLD]), wb(5), ho.Verdict.HELD, "Carrier does not cover"),
    (parcel(5, cancel_requested=True), wb(5), ho.Verdict.CANCEL_REQUESTED, "cancellation requested"),
    (parcel(5, state="closed"), wb(5), ho.Verdict.CLOSED, "order closed"),
    (parcel(5, state="allocated"), wb(5), ho.Verdict.NOT_PRINTED, "Label not printed"),
    (parcel(5, state="shipped", handover={"batch_id": "HO-B2PC-20261125100000"}), wb(5), ho.Verdict.SHIPPED,
     "HO-B2PC-20261125100000"),
    (parcel(5, state="delivered"), wb(5), ho.Verdict.SHIPPED, "Already shipped"),
    (parcel(5, carrier="SF"), wb(5, "SF"), ho.Verdict.OTHER_CARRIER, "SF Express"),
    (None, "YT9999999999", ho.Verdict.UNKNOWN, "Unknown code: YT9999999999"),
    (None, "HO-B1PC-20261125130000", ho.Verdict.MANIFEST, "handover batch barcode"),
])
def test_every_refusal_names_its_reason_and_counts_nothing(
        store: LocalStore, snap: dict[str, Any] | None, code: str, verdict: ho.Verdict, words: str) -> None:
    seed(store, parcel(1), *([snap] if snap else []))
    desk = Desk(store)
    desk.scan(wb(1))
    out = desk.scan(code)
    assert out.banner == "error" and out.tone == "error" and out.refusal == verdict
    assert words.lower() in (out.text + " " + out.reason).lower(), (out.text, out.reason)
    assert desk.flow.count == 1
    with store.read() as conn:
        assert [p.order_id for p in rows.parcels(conn, desk.flow.batch.batch_id)] == [oid(1)]  # type: ignore[union-attr]
    if snap is not None:  # the stop is on record: who scanned what, and why it was refused
        audit = store.local_audit(oid(5))
        assert audit and audit[-1]["what"] == "handover_refused"


def test_conflicted_parcel_is_stopped(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(5))
    with store.write() as conn:
        from core.store import orders

        orders.set_conflict(conn, oid(5), {"outcome": "conflict", "error": "state_changed"})
    desk = Desk(store)
    desk.scan(wb(1))
    assert desk.scan(wb(5)).refusal == ho.Verdict.CONFLICT


def test_refused_first_scan_opens_no_batch(store: LocalStore) -> None:
    seed(store, parcel(5, holds=[HOLD]))
    desk = Desk(store)
    assert desk.scan(wb(5)).refusal == ho.Verdict.HELD
    assert desk.flow.batch is None
    assert ho.load_open(store).batch is None


def test_missing_lists_todays_and_earlier_printed_parcels_of_the_carrier_not_held(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2), parcel(3, updated_at=YESTERDAY), parcel(4, holds=[HOLD]),
         parcel(6, cancel_requested=True), parcel(7, carrier="SF"), parcel(8, state="allocated"),
         parcel(9, state="shipped"))
    desk = Desk(store)
    desk.scan(wb(1))
    missing = desk.flow.missing_list()
    assert [m.order_id for m in missing] == [oid(3), oid(2)]  # yesterday's leftover first
    assert missing[0].earlier and not missing[1].earlier and missing[1].printed_day == "2026-11-25"
    assert desk.flow.held_back == [oid(4), oid(6)]
    desk.scan(wb(2))
    assert [m.order_id for m in desk.flow.missing_list()] == [oid(3)]


def test_missing_print_day_is_the_printing_not_a_later_change(store: LocalStore) -> None:
    """Printed yesterday, a note or hold change today: still yesterday's forgotten parcel."""
    seed(store, parcel(1), parcel(3, updated_at=TODAY, label_printed_at=YESTERDAY))
    desk = Desk(store)
    desk.scan(wb(1))
    [m] = desk.flow.missing_list()
    assert m.order_id == oid(3) and m.earlier and m.printed_day == "2026-11-24"


def test_close_ships_every_parcel_in_one_transaction_and_prints(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2))
    desk = Desk(store)
    desk.scan(wb(1))
    desk.scan(wb(2))
    batch_id = desk.flow.batch.batch_id  # type: ignore[union-attr]
    desk.events.clear()
    out = desk.run(desk.flow.close())
    assert out.banner == "done" and "2 parcel(s) shipped" in out.text
    assert desk.shipped_actions() == [(oid(1), {"batch_id": batch_id, "carrier": "ZTO"}),
                                      (oid(2), {"batch_id": batch_id, "carrier": "ZTO"})]
    assert store.get_order(oid(1)).state == "shipped"  # type: ignore[union-attr]
    assert [e.ids for e in desk.events] == [[oid(1), oid(2)]]  # one change event for the whole batch
    assert [b.batch_id for b in desk.printed] == [batch_id] and desk.printed[0].count == 2
    assert desk.printed[0].status == "closed" and desk.printed[0].closed_at
    assert desk.flow.batch is None and ho.load_open(store).batch is None
    # a shipped parcel scanned again later is refused
    assert desk.scan(wb(1)).refusal == ho.Verdict.SHIPPED


def test_close_is_all_or_nothing_when_a_parcel_got_held_meanwhile(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2), parcel(3))
    desk = Desk(store)
    for n in (1, 2, 3):
        desk.scan(wb(n))
    seed(store, parcel(2, version=2, holds=[HOLD]))  # the hub held it after it went into the bag
    alert = desk.flow.order_changed(store.get_order(oid(2)))  # type: ignore[arg-type]
    assert alert.banner == "error" and alert.refusal == ho.Verdict.HELD and wb(2) in alert.text
    out = desk.run(desk.flow.close())
    assert out.banner == "error" and out.refusal == ho.Verdict.HELD and wb(2) in out.reason
    assert desk.shipped_actions() == []  # nothing shipped, not even the two good ones
    assert desk.flow.drop == (oid(2),)
    seed(store, parcel(3, version=2, cancel_requested=True))  # and another one is stopped meanwhile
    out = desk.run(desk.flow.close())
    assert out.banner == "error" and wb(3) in out.reason and desk.shipped_actions() == []
    assert desk.flow.drop == (oid(2), oid(3))  # the first one pulled stays out
    out = desk.run(desk.flow.close())  # F8 again: close without the pulled parcels
    assert out.banner == "done"
    assert [o for o, _p in desk.shipped_actions()] == [oid(1)]
    seed(store, parcel(3, version=3))  # released again: it goes in the next batch
    assert desk.scan(wb(3)).banner == "ok"
    assert [p.order_id for p in desk.printed[0].parcels] == [oid(1)]
    assert store.get_order(oid(2)).state == "label_printed"  # type: ignore[union-attr]


def test_close_with_missing_parcels_asks_for_a_second_press(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2))
    desk = Desk(store)
    desk.scan(wb(1))
    out = desk.run(desk.flow.close())
    assert out.banner == "confirm" and "1 printed parcel(s) are still missing" in out.text
    assert desk.shipped_actions() == []
    desk.scan(wb(2))  # a scan in between withdraws the question
    assert desk.flow.confirm == ""
    assert desk.run(desk.flow.close()).banner == "done"


def test_empty_batch_cannot_close_and_cancel_needs_two_presses(store: LocalStore) -> None:
    seed(store, parcel(1))
    desk = Desk(store)
    desk.run(desk.flow.choose("ZTO"))
    assert desk.flow.batch is not None and desk.flow.batch.carrier == "ZTO"
    assert desk.run(desk.flow.close()).text == "The batch is empty"
    desk.scan(wb(1))
    assert desk.run(desk.flow.cancel()).banner == "confirm"
    assert desk.flow.batch is not None
    out = desk.run(desk.flow.cancel())
    assert out.banner == "idle" and desk.flow.batch is None
    assert desk.shipped_actions() == [] and store.get_order(oid(1)).state == "label_printed"  # type: ignore[union-attr]
    # cancelled, not forgotten: the rows stay as a record; the parcel can go in a new batch
    assert desk.scan(wb(1)).banner == "ok"


def test_an_open_batch_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bench.sqlite3"
    store = open_store(path)
    seed(store, parcel(1), parcel(2), parcel(3))
    desk = Desk(store)
    desk.scan(wb(1))
    desk.scan(wb(2))
    batch_id = desk.flow.batch.batch_id  # type: ignore[union-attr]
    store.close()
    store = open_store(path)  # the PC restarted
    try:
        again = Desk(store)
        assert again.flow.batch is not None and again.flow.batch.batch_id == batch_id
        assert [p.order_id for p in again.flow.batch.parcels] == [oid(1), oid(2)]
        assert list(again.flow.missing) == [oid(3)]
        assert again.scan(wb(2)).banner == "repeat"
        assert again.scan(wb(3)).banner == "ok" and again.flow.count == 3
    finally:
        store.close()


def test_choose_with_a_batch_open_is_refused(store: LocalStore) -> None:
    seed(store, parcel(1))
    desk = Desk(store)
    desk.scan(wb(1))
    out = desk.flow.choose("SF")
    assert out.banner == "error" and out.work == ()


def test_missing_follows_changes_from_the_hub(store: LocalStore) -> None:
    seed(store, parcel(1), parcel(2))
    desk = Desk(store)
    desk.scan(wb(1))
    seed(store, parcel(3))  # printed on another PC of this bench meanwhile
    desk.flow.order_changed(store.get_order(oid(3)))  # type: ignore[arg-type]
    assert sorted(desk.flow.missing) == [oid(2), oid(3)]
    seed(store, parcel(2, version=2, cancel_requested=True))
    desk.flow.order_changed(store.get_order(oid(2)))  # type: ignore[arg-type]
    assert sorted(desk.flow.missing) == [oid(3)] and desk.flow.held_back == [oid(2)]
