"""The pack flow without Qt: every phase and outcome, against a real local store and outbox.

:class:`Bench` does what the pack view does with an outcome's work — a store read through
``look_up``, outbox actions through ``Outbox.perform_many``, a label through the print journal —
and feeds the result back to the flow, so a test follows one scan through to its last answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import UserError
from core.i18n import set_language
from core.outbox import Outbox
from core.packing import (
    Lookup,
    Outcome,
    PackFlow,
    Phase,
    PrintLabel,
    Purpose,
    Record,
    SaveProgress,
    look_up,
    save_progress,
)
from core.print_journal import PrintJobResult, PrintJournal
from core.scan_rules import WRONG_SCAN_LIMIT, ScanKind
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

OID = "BL20261125-000001"
OID2 = "BL20261125-000002"
LINES = [
    {"sku": "TEA-250", "name": "西湖龙井 250g", "qty": 2, "unit_price_fen": 9900, "is_gift": False, "bin": "A-02"},
    {"sku": "CUP-01", "name": "玻璃茶杯", "qty": 1, "unit_price_fen": 2900, "is_gift": False, "bin": "A-10",
     "barcode": "6901234567892"},
]
UNITS = ["TEA-250", "TEA-250", "CUP-01"]
HOLD = {"hold_id": "h-77", "type": "carrier_area", "reason": "顺丰不覆盖该地区", "raised_at": "2026-11-25T01:00:00Z",
        "raised_by": "hub", "details": {}}


def order(oid: str = OID, *, state: str = "label_printed", **extra: Any) -> dict[str, Any]:
    extra.setdefault("lines", LINES)
    return snapshot(oid, state=state, label_count=1 if state == "label_printed" else 0, **extra)


class Bench:
    """Carries out a flow's work the way ``ui.pack_view.PackView`` does, synchronously.

    Args:
        store: the local store.
        printer_ok: whether the next label jobs print (popped one per job; True when empty).
    """

    def __init__(self, store: LocalStore, bench_flow: str = "print-first", *, ships_at_pack: bool = True) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.journal = PrintJournal(store, self.outbox)
        self.flow = PackFlow(lambda: bench_flow, ships_at_pack=lambda: ships_at_pack)
        self.printer: list[tuple[bool, str]] = []
        self.labels: list[str] = []

    def scan(self, code: str) -> list[Outcome]:
        """Every outcome of one scan, the immediate one first."""
        return self.run(self.flow.scan(code))

    def run(self, outcome: Outcome) -> list[Outcome]:
        out = [outcome]
        for work in outcome.work:
            if isinstance(work, Lookup):
                out += self.run(self.flow.found(look_up(self.store, work)))
            elif isinstance(work, Record):
                try:
                    changed = self.outbox.perform_many(work.order_id, work.actions, "P001", role="packer")
                except UserError as exc:
                    out += self.run(self.flow.record_failed(work, exc.message))
                else:
                    out += self.run(self.flow.recorded(work, changed))
            elif isinstance(work, SaveProgress):
                save_progress(self.store, work, "P001")
            else:
                ok, message = self.printer.pop(0) if self.printer else (True, "")
                self.labels.append(work.order_id)
                self.journal.record_print(PrintJobResult("label", [work.order_id], "pdf", ok, message), "P001")
                out += self.run(self.flow.printed(work.order_id, ok, message))
        return out

    def steps(self, order_id: str = OID) -> list[str]:
        return [a.payload["step"] if a.type == "step" else a.type
                for a in self.store.pending_actions() if a.order_id == order_id]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    set_language("en")
    yield


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "bench.sqlite3")
    yield s
    s.close()


def seed(store: LocalStore, *snaps: dict[str, Any]) -> None:
    with store.write() as conn:
        store.apply_snapshots(conn, list(snaps))


def test_opening_an_order_needs_a_read_and_then_asks_for_its_items(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    asked, opened = bench.scan(OID.lower() + "\r\n")
    assert asked.banner is None and asked.work == (Lookup(ScanKind.ORDER_ID, OID),)  # nothing shown yet
    assert (opened.banner, opened.tone, opened.activated, opened.phase) == ("ready", "ok", True, Phase.SCANNING)
    assert opened.text == f"Scan the items of {OID}" and bench.flow.order_id == OID


def test_right_item_is_counted_at_once(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    [ok] = bench.scan("TEA-250")  # an item of the open order: no read, answered at once
    assert (ok.banner, ok.tone, ok.highlight) == ("ok", "ok", "TEA-250")
    assert ok.work == (SaveProgress(OID, {"TEA-250": 1}),)  # the count survives a restart
    assert ok.text == "OK TEA-250 西湖龙井 250g (1/2)" and ok.phase == Phase.SCANNING
    [by_barcode] = bench.scan("6901234567892")
    assert by_barcode.highlight == "CUP-01" and bench.flow.session is not None
    assert bench.flow.session.verified_units == 2 and bench.steps() == []


def test_wrong_item_and_one_too_many_are_refused_with_the_reason(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    asked, wrong = bench.scan("SOCK-9")  # could be a waybill: looked up first
    assert asked.work == (Lookup(ScanKind.UNKNOWN, "SOCK-9"),) and asked.banner is None
    assert (wrong.banner, wrong.tone, wrong.text) == ("error", "error", "Wrong item: SOCK-9")
    assert "SOCK-9 is not on this order" in wrong.reason and wrong.work == ()
    bench.scan("CUP-01")
    [too_many] = bench.scan("CUP-01")
    assert too_many.banner == "error" and too_many.text == "Too many: CUP-01" and "Take this one out" in too_many.reason
    assert bench.flow.session is not None and bench.flow.session.verified_units == 1


def test_the_refusal_title_is_one_sentence_in_chinese(store: LocalStore) -> None:
    seed(store, order())
    set_language("zh_CN")
    bench = Bench(store)
    bench.scan(OID)
    _asked, wrong = bench.scan("SOCK-9")
    assert wrong.text == "商品不对：SOCK-9"  # the Chinese colon, not "商品不对: SOCK-9"


def test_wrong_scan_limit_raises_one_scan_mismatch_hold(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    flow = bench.flow
    bench.scan(OID)
    bench.scan("TEA-250")
    for code in ("X-1", "X-2"):
        assert bench.scan(code)[-1].work == ()  # below the limit: refused, no hold

    def answer(code: str) -> Outcome:  # scan and read, but leave the work to the test
        [lookup] = flow.scan(code).work
        assert isinstance(lookup, Lookup)
        return flow.found(look_up(store, lookup))

    third = answer("X-3")
    assert WRONG_SCAN_LIMIT == 3 and third.banner == "error" and third.text == "Wrong item: X-3"
    [record] = third.work
    assert isinstance(record, Record) and record.purpose == Purpose.HOLD
    [(type_, payload)] = record.actions
    assert type_ == "hold_raised" and payload["type"] == "scan_mismatch"
    assert [s["code"] for s in payload["details"]["scans"]] == ["X-1", "X-2", "X-3"]
    assert payload["details"]["verified"] == {"TEA-250": 1, "CUP-01": 0}
    assert record.reason == "3 wrong scans at the bench: X-1, X-2, X-3"
    assert flow.session is not None and flow.session.wrong_scans == [] and flow.raising
    for code in ("Y-1", "Y-2", "Y-3"):  # more wrong scans while the hold is being recorded: no second hold
        assert answer(code).work == ()
    held = flow.recorded(record, bench.outbox.perform_many(OID, record.actions, "P001", role="packer"))
    hold = store.get_order(OID).snapshot["holds"][0]  # type: ignore[union-attr]
    assert (held.banner, held.phase, held.exception) == ("held", Phase.BLOCKED, (OID, hold["hold_id"]))
    assert held.text == "On hold: Scan mismatch" and held.reason == record.reason
    assert not flow.raising
    [refused] = bench.scan("TEA-250")
    assert refused.text == "Order is on hold: item not counted" and flow.session.verified_units == 1


def test_three_wrong_scans_through_the_bench(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    answers = [bench.scan(code)[-1] for code in ("X-1", "X-2", "X-3")]
    assert [a.banner for a in answers] == ["error", "error", "held"]
    assert bench.steps() == ["hold_raised"]
    assert answers[-1].exception is not None and answers[-1].exception[0] == OID


def test_held_order_is_shown_blocked_and_asks_for_the_exception(store: LocalStore) -> None:
    seed(store, order(state="allocated", holds=[HOLD]))
    bench = Bench(store)
    opened = bench.scan(OID)[-1]
    assert (opened.banner, opened.tone, opened.phase) == ("held", "error", Phase.BLOCKED)
    assert opened.exception == (OID, "h-77") and opened.activated
    assert opened.reason == "Resolve the exception first; scanning items is blocked."
    [refused] = bench.scan("TEA-250")
    assert refused.banner == "error" and bench.flow.session is not None and bench.flow.session.verified_units == 0
    assert bench.steps() == []


def test_offline_conflict_blocks_with_an_empty_hold_id(store: LocalStore) -> None:
    seed(store, order())
    with store.write() as conn:
        conn.exec_driver_sql("UPDATE orders SET conflict_json = ? WHERE order_id = ?",
                             ('{"outcome": "conflict", "reason": "cancelled at the hub"}', OID))
    assert Bench(store).scan(OID)[-1].exception == (OID, "")


def test_done_order_has_nothing_to_pack(store: LocalStore) -> None:
    seed(store, order(state="shipped"))
    bench = Bench(store)
    opened = bench.scan(OID)[-1]
    assert (opened.banner, opened.phase) == ("error", Phase.DONE)
    assert opened.text == f"Order {OID} is already shipped" and "Scan the next order" in opened.reason
    [refused] = bench.scan("TEA-250")
    assert refused.text == f"Order {OID} is already complete"


def test_order_not_on_this_bench_or_not_yet_workable(store: LocalStore) -> None:
    seed(store, order(OID2, state="paid"))
    bench = Bench(store)
    missing = bench.scan(OID)[-1]  # another bench's order is not in this station's store
    assert missing.banner == "error" and missing.text == f"Not found: {OID}" and not missing.activated
    assert "another bench" in missing.reason and bench.flow.order is None
    early = bench.scan(OID2)[-1]
    assert (early.banner, early.phase) == ("error", Phase.BLOCKED) and "cannot be packed yet" in early.text
    unknown = Bench(store).scan("NOPE-123")[-1]
    assert unknown.text == "Not found: NOPE-123" and "No order, waybill" in unknown.reason


def test_waybill_and_channel_no_switch_orders_and_keep_counts(store: LocalStore) -> None:
    seed(store, order(), order(OID2))
    bench = Bench(store)
    assert bench.scan("SF000001")[-1].activated and bench.flow.order_id == OID
    bench.scan("TEA-250")
    assert bench.scan("C000002")[-1].activated and bench.flow.order_id == OID2
    assert bench.flow.session is not None and bench.flow.session.verified_units == 0
    bench.scan(OID)
    assert bench.flow.session is not None and bench.flow.session.verified_units == 1
    [same] = bench.scan(OID)  # the open order's own label: no read, not an error
    assert same.banner == "ready" and same.text == f"Order {OID} is already open: scan its items"
    assert bench.scan("SF000001")[-1].text == same.text


def test_finish_is_one_record_then_ship(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    bench.scan("TEA-250")
    bench.scan("TEA-250")
    finishing, shipping, done = bench.scan("CUP-01")
    assert (finishing.banner, finishing.tone, finishing.phase) == ("working", "done", Phase.FINISHING)
    assert finishing.text == "All 3 units verified — recording…" and finishing.highlight == "CUP-01"
    progress, record = finishing.work
    assert progress == SaveProgress(OID, {"TEA-250": 2, "CUP-01": 1})
    assert isinstance(record, Record) and record.purpose == Purpose.FINISH
    assert record.actions == (("step", {"step": "verified", "detail": {"TEA-250": 2, "CUP-01": 1}}),
                              ("step", {"step": "packed", "detail": {}}))
    assert shipping.text == f"Handing over {OID}…"  # label printed before: no print
    assert (done.banner, done.tone, done.finished, done.phase) == ("done", "done", OID, Phase.DONE)
    assert done.text == f"Done: {OID} packed and shipped"
    assert bench.steps() == ["verified", "packed", "shipped_by_station"] and bench.labels == []
    assert OID not in bench.flow.sessions


@pytest.mark.parametrize(("flow", "text"), [("print-first", "Label was not printed yet — printing it now"),
                                            ("pack-first", "Packed — printing the label")])
def test_unprinted_label_is_printed_before_the_hand_over(store: LocalStore, flow: str, text: str) -> None:
    seed(store, order(state="allocated"))
    bench = Bench(store, flow)
    bench.scan(OID)
    out = [o for code in UNITS for o in bench.scan(code)]
    printing = next(o for o in out if any(isinstance(w, PrintLabel) for w in o.work))
    assert printing.text == text and printing.banner == "working"
    assert bench.steps() == ["verified", "packed", "label_printed", "shipped_by_station"]
    assert out[-1].finished == OID and bench.labels == [OID]


@pytest.mark.parametrize("state", ["allocated", "label_printed"])
def test_a_batch_handover_station_leaves_the_packed_parcel_for_the_handover_scan(store: LocalStore, state: str) -> None:
    seed(store, order(state=state), order(OID2, state="allocated"))
    bench = Bench(store, ships_at_pack=False)
    bench.scan(OID)
    out = [o for code in UNITS for o in bench.scan(code)]
    assert out[-1].finished == OID and out[-1].banner == "done" and bench.flow.phase == Phase.DONE
    assert out[-1].text == (f"Done: {OID} packed and labelled — put it with its courier's parcels for the "
                            "handover scan")
    printed = ["label_printed"] if state == "allocated" else []
    assert bench.steps() == ["verified", "packed", *printed]  # no shipped_by_station: the batch close ships it
    assert store.get_order(OID).state == "label_printed"  # type: ignore[union-attr]
    # a label that prints after the packer moved on is not handed over either
    bench.scan(OID2)
    assert bench.flow.printed(OID, True).work == ()


def test_failed_print_is_not_shipped_and_f5_retries(store: LocalStore) -> None:
    seed(store, order(state="allocated"))
    bench = Bench(store, "pack-first")
    bench.printer = [(False, "Printer ZD420 refused the connection")]
    bench.scan(OID)
    failed = [o for code in UNITS for o in bench.scan(code)][-1]
    assert (failed.banner, failed.tone, failed.phase) == ("error", "error", Phase.PRINT_FAILED)
    assert failed.text == "Label did not print — not shipped"
    assert failed.reason == "Printer ZD420 refused the connection\nFix the printer, then press F5 to retry."
    assert bench.steps() == ["verified", "packed"]
    [refused] = bench.scan("TEA-250")
    assert refused.text == f"Order {OID} is already complete"
    retry = bench.flow.retry()
    assert retry is not None and retry.work == (PrintLabel(OID),) and bench.flow.phase == Phase.FINISHING
    assert bench.run(retry)[-1].finished == OID
    assert bench.steps() == ["verified", "packed", "label_printed", "shipped_by_station"]
    assert bench.flow.retry() is None  # only after a failure


def test_packed_order_opens_ready_for_f5(store: LocalStore) -> None:
    seed(store, order(state="allocated", steps={"verified": {}, "packed": {}}))
    bench = Bench(store)
    opened = bench.scan(OID)[-1]
    assert (opened.banner, opened.phase, opened.tone) == ("ready", Phase.PRINT_FAILED, None)
    assert opened.text == f"{OID} is already packed" and "F5" in opened.reason
    retry = bench.flow.retry()
    assert retry is not None and bench.run(retry)[-1].finished == OID
    assert bench.steps() == ["label_printed", "shipped_by_station"]


def test_refused_step_blocks_and_refused_hand_over_allows_f5(store: LocalStore) -> None:
    seed(store, order())
    flow = Bench(store).flow
    flow.open(store.get_order(OID))  # type: ignore[arg-type]
    out = flow.record_failed(Record(OID, (("step", {"step": "packed"}),), Purpose.FINISH), "order held at the hub")
    assert (out.banner, out.text, out.reason, flow.phase) == (
        "error", "Could not record this step", "order held at the hub", Phase.BLOCKED)
    out = flow.record_failed(Record(OID, (("shipped_by_station", {}),), Purpose.SHIP), "no")
    assert flow.phase == Phase.PRINT_FAILED
    flow.raising = True
    out = flow.record_failed(Record(OID, (("hold_raised", {"type": "item_missing"}),), Purpose.HOLD), "full")
    assert out.text == "Could not raise the hold" and not flow.raising


def test_switched_away_order_is_still_handed_over_after_printing(store: LocalStore) -> None:
    seed(store, order(state="allocated"), order(OID2))
    bench = Bench(store)
    bench.scan(OID)
    finishing = [bench.flow.scan(code) for code in UNITS][-1]
    _progress, record = finishing.work
    assert isinstance(record, Record)
    after_packed = bench.flow.recorded(record, bench.outbox.perform_many(OID, record.actions, "P001"))
    assert after_packed.work == (SaveProgress(OID, {}), PrintLabel(OID))  # packed: the saved count goes
    bench.scan(OID2)  # the packer moves on while the label prints
    bench.journal.record_print(PrintJobResult("label", [OID], "pdf", True), "P001")
    handed = bench.run(bench.flow.printed(OID, True))
    assert handed[-1].finished == OID and handed[-1].banner is None and bench.flow.order_id == OID2
    assert bench.steps() == ["verified", "packed", "label_printed", "shipped_by_station"]
    assert bench.flow.printed(OID, False, "x").banner is None  # a failure of a job not open: nothing shown


def test_report_problem_raises_item_missing(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    assert bench.flow.need_order() is not None
    bench.scan(OID)
    bench.scan("TEA-250")
    assert bench.flow.need_order() is None
    out = bench.run(bench.flow.report_problem("CUP-01", "damaged", "Item CUP-01 is damaged."))
    [record] = out[0].work
    assert isinstance(record, Record)
    [(_t, payload)] = record.actions
    assert payload == {"type": "item_missing", "reason": "Item CUP-01 is damaged.",
                       "details": {"sku": "CUP-01", "problem": "damaged", "verified": {"TEA-250": 1, "CUP-01": 0}}}
    hold = store.get_order(OID).snapshot["holds"][0]  # type: ignore[union-attr]
    assert out[-1].exception == (OID, hold["hold_id"]) and out[-1].text == "On hold: Item missing or damaged"


def test_a_hold_from_elsewhere_blocks_the_order_being_scanned(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    assert bench.flow.order_changed(store.get_order(OID)).banner is None  # type: ignore[arg-type,union-attr]
    seed(store, order(version=2, holds=[HOLD]))
    fresh = store.get_order(OID)
    assert fresh is not None
    bench.flow.raising = True  # our own hold on its way: its answer will block (and ask) once
    assert bench.flow.order_changed(fresh).exception is None  # type: ignore[union-attr]
    bench.flow.raising = False
    blocked = bench.flow.order_changed(fresh)
    assert blocked is not None and blocked.exception == (OID, "h-77") and bench.flow.phase == Phase.BLOCKED
    assert bench.flow.order is fresh
    seed(store, order(OID2))
    other = store.get_order(OID2)
    assert other is not None and bench.flow.order_changed(other) is None  # not the open order: nothing to show


def test_close_keeps_the_partial_count(store: LocalStore) -> None:
    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    bench.scan("TEA-250")
    bench.flow.close()
    assert bench.flow.order is None and bench.flow.phase == Phase.IDLE
    bench.scan(OID)
    assert bench.flow.session is not None and bench.flow.session.verified_units == 1


def test_an_order_counted_earlier_finishes_when_reopened(store: LocalStore) -> None:
    seed(store, order(), order(OID2))
    bench = Bench(store)
    bench.scan(OID)
    for code in UNITS[:-1]:
        bench.scan(code)
    assert bench.flow.session is not None
    bench.flow.session.counted["CUP-01"] = 1  # counted, then switched away before the answer
    bench.scan(OID2)
    back = bench.scan(OID)
    assert back[1].activated and back[1].banner == "working" and back[-1].finished == OID


def batch(store: LocalStore, *ids: str, batch_id: str = "PB-20261125-AAAAAA") -> str:
    PrintJournal(store, Outbox(store)).record_print(
        PrintJobResult("pick_list", list(ids), "pdf", True, job_id=batch_id), "P001")
    return batch_id


def test_batch_opens_its_orders_in_turn(store: LocalStore) -> None:
    one = [{"sku": "CUP-01", "name": "杯", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "B-1"}]
    seed(store, order(lines=one), order(OID2, lines=one), order("BL20261125-000003", lines=one, state="shipped"))
    bid = batch(store, "BL20261125-000003", OID2, OID)
    bench = Bench(store)
    asked, opened = bench.scan(bid.lower())
    assert asked.work == (Lookup(ScanKind.BATCH, bid),)
    assert opened.activated and bench.flow.order_id == OID2  # the shipped one is skipped
    assert bench.flow.batch_progress() == (bid, 2, 1, 3)
    out = bench.scan("CUP-01")
    done = next(o for o in out if o.finished == OID2)
    assert done.work == (Lookup(ScanKind.ORDER_ID, OID, after=OID2),)
    assert out[-1].banner == "ready" and out[-1].text == f"{OID2} done ✔ — next: {OID}. Scan its items"
    assert bench.flow.order_id == OID and bench.flow.batch_progress() == (bid, 3, 2, 3)
    out = bench.scan("CUP-01")
    assert out[-1].text == f"Batch {bid} is complete" and out[-1].finished == OID
    again = bench.scan(bid)[-1]
    assert again.banner == "done" and again.text == f"Batch {bid} is complete" and again.activated


def test_batch_skips_an_order_finished_elsewhere_and_an_unknown_batch_is_not_found(store: LocalStore) -> None:
    one = [{"sku": "CUP-01", "name": "杯", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "B-1"}]
    seed(store, order(lines=one), order(OID2, lines=one), order("BL20261125-000009"))
    bid = batch(store, OID, OID2)
    bench = Bench(store)
    bench.scan(bid)
    seed(store, order(OID2, lines=one, state="shipped", version=2))  # the hub: packed at another bench
    out = bench.scan("CUP-01")
    assert out[-1].text == f"Batch {bid} is complete"
    missing = bench.scan("PB-20261125-BBBBBB")[-1]
    assert missing.text == "Not found: PB-20261125-BBBBBB" and "pick list was not printed" in missing.reason
    bench.scan(bid)
    assert bench.flow.batch is not None
    bench.scan("BL20261125-000009")  # an order outside the batch leaves it
    assert bench.flow.batch is None and bench.flow.order_id == "BL20261125-000009"


def test_a_new_flow_finds_the_saved_count_and_packing_clears_it(store: LocalStore) -> None:
    from core.store import scan_progress

    seed(store, order())
    bench = Bench(store)
    bench.scan(OID)
    bench.scan("TEA-250")
    again = Bench(store)  # the app restarted
    again.scan(OID)
    assert again.flow.session is not None and again.flow.session.done("TEA-250") == 1
    again.scan("TEA-250")
    again.scan("CUP-01")
    assert again.steps() == ["verified", "packed", "shipped_by_station"]
    with store.read() as conn:
        assert scan_progress.load(conn, OID) == {}


def test_a_saved_count_of_an_order_past_the_bench_is_forgotten(store: LocalStore) -> None:
    from core.store import scan_progress

    seed(store, order(state="shipped"))
    with store.write() as conn:
        scan_progress.save(conn, OID, {"TEA-250": 1}, "P001", "2026-11-25T02:00:00Z")
    opened = Bench(store).scan(OID)[-1]
    assert opened.phase == Phase.DONE and opened.text == f"Order {OID} is already shipped"
    with store.read() as conn:
        assert scan_progress.load(conn, OID) == {}


def test_typed_quantities(store: LocalStore) -> None:
    seed(store, order(lines=[{**LINES[0], "qty": 10}, LINES[1]]))
    bench = Bench(store)
    bench.scan(OID)
    assert bench.flow.quantity("5", 50).text == "Scan an item first"
    bench.scan("TEA-250")
    assert bench.flow.quantity("x5", 50).text == "Not a quantity: x5"
    assert bench.flow.quantity("60", 50).text == "60 is more than 50 at once: nothing counted"
    assert bench.flow.quantity("1", 50).text == "TEA-250 is already counted ×1 by that scan"
    assert bench.flow.quantity("11", 50).reason == ("The order needs 10 more TEA-250 with that scan, not 11: "
                                                    "nothing counted.")
    ok = bench.flow.quantity("7", 50)
    assert ok.text == "OK TEA-250 西湖龙井 250g ×7 (7/10)" and bench.flow.session is not None
    assert bench.flow.quantity("7", 50).text == "Scan an item first"  # once per scan
    assert bench.flow.session.done("TEA-250") == 7
