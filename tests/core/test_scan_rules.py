"""Scan classification and the verify count (pure; the store only for lookups)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.order_ids import looks_like_order_id
from core.outbox import Outbox
from core.print_journal import PrintJobResult, PrintJournal
from core.scan_rules import (
    PackSession,
    ScanKind,
    Verdict,
    batch_order_ids,
    classify,
    looks_like_batch_id,
    make_batch_id,
    normalise_code,
)
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

LINES = [
    {"sku": "TEA-250", "name": "龙井", "qty": 2, "unit_price_fen": 1, "is_gift": False, "bin": "A-1"},
    {"sku": "CUP-01", "name": "杯", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "A-2",
     "barcode": "6901234567892"},
]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "s.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot("BL20261125-000001", lines=LINES, waybill_no="SF1234567890",
                                          channel_order_no="DY-998877"),
                                 snapshot("BL20261125-000002")])
    return s


def test_normalise_strips_scanner_noise_and_upper_cases_ids() -> None:
    assert normalise_code(" bl20261125-000001\r\n") == "BL20261125-000001"
    assert normalise_code("pb-20261125-3fa9c1\n") == "PB-20261125-3FA9C1"
    assert normalise_code("tea-250\r") == "tea-250"  # item codes keep their case; matching ignores it
    assert normalise_code(" \r\n\u3000") == ""


def test_batch_ids_never_look_like_order_ids() -> None:
    for _ in range(200):
        b = make_batch_id()
        assert looks_like_batch_id(b) and not looks_like_order_id(b)


def test_classify_every_kind(store: LocalStore) -> None:
    assert classify("BL20261125-000002", store).kind == ScanKind.ORDER_ID
    assert classify("BL20261125-999999", store).kind == ScanKind.ORDER_ID  # shape; "not found" comes later
    w = classify("SF1234567890", store)
    assert (w.kind, w.value) == (ScanKind.WAYBILL, "BL20261125-000001")
    assert classify("DY-998877", store).value == "BL20261125-000001"
    assert classify("PB-20261125-ABCDEF", store).kind == ScanKind.BATCH
    assert classify("TEA-250", store).kind == ScanKind.UNKNOWN  # no order open: an item means nothing
    item = classify("tea-250", store, LINES)
    assert (item.kind, item.value) == (ScanKind.ITEM, "TEA-250")
    assert classify("6901234567892", store, LINES).value == "CUP-01"  # a line's barcode
    assert classify("SOCK-9", store, LINES).kind == ScanKind.ITEM  # a wrong item, still an item
    assert classify("SF1234567890", store, LINES).kind == ScanKind.WAYBILL  # another order's waybill


def test_phone_tail_or_name_never_open_an_order(store: LocalStore) -> None:
    assert classify("8000", store).kind == ScanKind.UNKNOWN  # phone tail of every snapshot
    assert classify("张三", store).kind == ScanKind.UNKNOWN


def test_session_counts_right_items_and_refuses_wrong_ones() -> None:
    s = PackSession.from_snapshot({"order_id": "BL20261125-000001", "lines": LINES})
    assert s.total_units == 3 and s.verified_units == 0
    r = s.scan("TEA-250")
    assert (r.verdict, r.done, r.need, r.reason) == (Verdict.OK, 1, 2, "")
    wrong = s.scan("SOCK-9")
    assert wrong.verdict == Verdict.WRONG_ITEM and "SOCK-9" in wrong.reason and not wrong.counted
    assert s.scan("tea-250").verdict == Verdict.OK
    too_many = s.scan("TEA-250")
    assert too_many.verdict == Verdict.TOO_MANY and "2" in too_many.reason
    assert s.verified_units == 2 and not s.is_complete
    done = s.scan("6901234567892")
    assert done.verdict == Verdict.COMPLETE and s.is_complete
    assert s.detail() == {"TEA-250": 2, "CUP-01": 1}
    assert [w["verdict"] for w in s.wrong_scans] == ["wrong_item", "too_many"]
    assert s.scan("CUP-01").verdict == Verdict.TOO_MANY  # complete: nothing more goes in


def test_duplicate_sku_lines_add_up() -> None:
    lines = [dict(LINES[0], qty=1), dict(LINES[0], qty=2)]
    s = PackSession.from_snapshot({"order_id": "X", "lines": lines})
    assert s.expected == {"TEA-250": 3}


def test_batch_found_through_the_print_journal(store: LocalStore) -> None:
    journal = PrintJournal(store, Outbox(store))
    journal.record_print(PrintJobResult("pick_list", ["BL20261125-000002", "BL20261125-000001"], "pdf", False,
                                        "jam", job_id="PB-20261125-AAAAAA"), "P001")
    journal.record_print(PrintJobResult("pick_list", ["BL20261125-000002", "BL20261125-000001"], "pdf", True,
                                        job_id="PB-20261125-AAAAAA.2"), "P001")
    assert batch_order_ids(store, "PB-20261125-AAAAAA") == ["BL20261125-000002", "BL20261125-000001"]
    assert batch_order_ids(store, "PB-20261125-BBBBBB") is None
