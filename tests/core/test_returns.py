"""The returns flow without Qt, against a real local store and outbox: wrong scans, over-scans,
grading, missing units, and the one return_received action it queues (works offline: no hub here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import returns as rt
from core.actions import BadPayload
from core.errors import UserError
from core.i18n import language, set_language
from core.outbox import Outbox
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

OID = "BL20261125-000001"
LINES = [
    {"sku": "SKU-TEA", "name": "龙井茶", "qty": 2, "unit_price_fen": 5000, "is_gift": False, "bin": "A-01",
     "barcodes": {"6901234567892": 1}},
    {"sku": "SKU-CUP", "name": "茶杯", "qty": 1, "unit_price_fen": 1000, "is_gift": False, "bin": "A-02"},
]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    before = language()
    set_language("en")
    yield
    set_language(before)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "bench.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot(OID, state="delivered", lines=LINES, waybill_no="SF1234567890"),
                                 snapshot("BL20261125-000002", state="allocated", lines=LINES)])
    yield s
    s.close()


class Clerk:
    """Carries out a flow's work as ui/returns_view.py does, synchronously."""

    def __init__(self, store: LocalStore, role: str = "desk") -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.flow = rt.ReturnFlow()
        self.role = role

    def run(self, out: rt.Outcome) -> rt.Outcome:
        for work in out.work:
            if isinstance(work, rt.FindOrder):
                out = self.run(self.flow.found(rt.find_order(self.store, work.code), work.code))
            elif isinstance(work, rt.SaveDraft):
                rt.save_draft(self.store, work, "D001")
            elif isinstance(work, rt.LoadDraft):
                out = self.run(self.flow.restored(rt.load_draft(self.store)))
            else:
                try:
                    done = rt.record(self.outbox, work.order_id, work.payload, "D001", role=self.role)
                except UserError as exc:
                    out = self.flow.record_failed(exc)
                else:
                    out = self.flow.recorded(done)
        return out

    def scan(self, code: str) -> rt.Outcome:
        return self.run(self.flow.scan(code))

    def key(self, step: Any, *args: Any) -> rt.Outcome:
        return self.run(step(*args))


def test_a_return_graded_unit_by_unit_queues_one_action_with_the_missing_ones(store: LocalStore) -> None:
    c = Clerk(store)
    assert c.scan("SF1234567890").banner == "ready" and c.flow.order_id == OID  # the parcel's waybill
    assert c.scan("6901234567892").banner == "grade"  # a product barcode names the SKU
    assert c.scan("SKU-TEA").refused  # the last one is not graded yet: refused, nothing counted
    assert c.key(c.flow.grade, rt.GOOD).banner == "ok"
    assert c.scan("sku-tea").banner == "grade"
    c.key(c.flow.grade, rt.DAMAGED)
    over = c.scan("SKU-TEA")  # a third tea: the order sent two
    assert over.refused and "Only 2" in over.reason
    wrong = c.scan("SKU-NOT-OURS")
    assert wrong.refused and "not on this order" in wrong.text
    assert c.flow.totals() == {"good": 1, "damaged": 1, "missing": 1}
    c.flow.set_note("盒子压坏")
    confirm = c.key(c.flow.finish)  # the cup is missing: asked once more
    assert confirm.banner == "confirm" and "茶杯 × 1" in confirm.reason and store.pending_count() == 0
    done = c.key(c.flow.finish)
    assert done.banner == "done" and c.flow.order_id == ""
    (action,) = store.pending_actions()
    assert action.type == "return_received" and action.payload == {"lines": [
        {"sku": "SKU-TEA", "qty_good": 1, "qty_damaged": 1, "qty_missing": 0},
        {"sku": "SKU-CUP", "qty_good": 0, "qty_damaged": 0, "qty_missing": 1}], "note": "盒子压坏"}
    local = store.get_order(OID)
    assert local is not None and local.state == "delivered" and local.pending == 1
    assert [h["type"] for h in local.snapshot["holds"]] == ["refund_review"]  # the desk sees it at once
    # the missing cup may still come in a later parcel; both teas are back
    assert c.scan(OID).banner == "ready" and {s: ln.expected for s, ln in c.flow.lines.items()} == {"SKU-CUP": 1}


def test_undo_cancel_and_refusals_count_nothing(store: LocalStore) -> None:
    c = Clerk(store)
    assert c.key(c.flow.grade, rt.GOOD).refused and c.key(c.flow.finish).refused  # nothing open
    unknown = c.scan("NO-SUCH-PARCEL")
    assert unknown.refused and c.flow.order_id == ""
    not_out = c.scan("BL20261125-000002")  # still allocated: nothing left the warehouse
    assert not_out.refused and "allocated" in not_out.reason
    c.scan(OID)
    c.scan("SKU-CUP")
    assert c.key(c.flow.finish).refused  # grade first
    c.key(c.flow.grade, rt.GOOD)
    assert c.key(c.flow.undo).banner == "ready" and c.flow.totals()["good"] == 0
    assert c.scan("BL20261125-000002").refused  # another order's code while one is open
    assert c.key(c.flow.cancel).banner == "confirm"
    assert c.key(c.flow.cancel).banner == "idle" and c.flow.order_id == "" and store.pending_count() == 0


def test_a_packer_is_refused_in_words_and_keeps_the_counts(store: LocalStore) -> None:
    c = Clerk(store, role="packer")
    c.scan(OID)
    for sku in ("SKU-TEA", "SKU-TEA", "SKU-CUP"):
        c.scan(sku)
        c.key(c.flow.grade, rt.GOOD)
    out = c.key(c.flow.finish)
    assert out.refused and "desk role" in out.reason and store.pending_count() == 0
    assert c.flow.order_id == OID and c.flow.totals()["good"] == 3  # nothing lost: a desk can finish it


def test_the_shared_rule_refuses_what_the_hub_refuses(store: LocalStore) -> None:
    outbox = Outbox(store)
    for payload, field in (({"lines": []}, "lines"), ({"lines": [{"sku": "SKU-TEA", "qty_good": -1}]},
                                                       "lines[0].qty_good"),
                           ({"lines": [{"sku": "SKU-OTHER", "qty_good": 1}]}, "lines[0].sku"),
                           ({"lines": [{"sku": "SKU-TEA", "qty_good": 3}]}, "lines[0]"),
                           ({"lines": [{"sku": "SKU-TEA", "qty_good": 1}, {"sku": "SKU-TEA", "qty_good": 1}]},
                            "lines[1].sku")):
        with pytest.raises(BadPayload) as info:
            outbox.perform(OID, "return_received", payload, "D001", role="desk")
        assert info.value.details["field"] == field
    assert store.pending_count() == 0


def test_a_return_in_progress_survives_a_restart(tmp_path: Path, store: LocalStore) -> None:
    c = Clerk(store)
    c.scan(OID)
    c.scan("SKU-TEA")
    c.key(c.flow.grade, rt.DAMAGED)
    c.scan("SKU-CUP")  # scanned, not graded yet, when the PC goes down
    c.flow.set_note("外箱压坏")
    c.key(c.flow.note_done)
    store.close()
    again = open_store(tmp_path / "bench.sqlite3")
    try:
        c2 = Clerk(again)
        out = c2.key(c2.flow.start)
        assert out.banner == "ready" and c2.flow.order_id == OID and c2.flow.note == "外箱压坏"
        assert c2.flow.pending == rt.Unit("SKU-CUP", 1) and c2.flow.totals()["damaged"] == 1
        c2.key(c2.flow.grade, rt.GOOD)
        c2.scan("SKU-TEA")
        c2.key(c2.flow.grade, rt.GOOD)
        assert c2.key(c2.flow.finish).banner == "done"
        (action,) = again.pending_actions()
        assert action.payload["lines"] == [{"sku": "SKU-TEA", "qty_good": 1, "qty_damaged": 1, "qty_missing": 0},
                                           {"sku": "SKU-CUP", "qty_good": 1, "qty_damaged": 0, "qty_missing": 0}]
        c3 = Clerk(again)
        assert c3.key(c3.flow.start).banner is None  # recorded: the draft went with it
        # a draft whose order was fully returned meanwhile (elsewhere) is dropped, with the reason
        rt.save_draft(again, rt.SaveDraft(OID, (("SKU-TEA", 1, "good"),)), "D001")
        out = c3.key(c3.flow.start)
        assert out.refused and "already back" in out.reason and rt.load_draft(again).draft is None
    finally:
        again.close()
