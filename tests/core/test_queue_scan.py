"""What a queue-page scan means (core/queue_scan.py), on a real store: a phone number a person
typed searches the queue; the same digits from a scanner, or typed digits that are no phone, are
not a code of ours; typed codes that name an order still open it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.phones import phone_digits
from core.queue_scan import Answer, look_up_scan
from core.store import LocalStore, open_store
from tests.helpers.snapshots import snapshot

CHANNEL_NO = "4913131313131313131"  # 抖店 order numbers are all digits, like a phone number


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path / "s.sqlite3")
    with s.write() as conn:
        s.apply_snapshots(conn, [snapshot("BL20261125-000001", channel_order_no=CHANNEL_NO, waybill_no="75300000001"),
                                 snapshot("BL20261125-000002")])  # both: recipient phone 13800138000
    return s


@pytest.mark.parametrize("typed", ["13800138000", "8000", "138-0013-8000", "0138000"])
def test_a_phone_number_a_person_typed_searches_the_queue(store: LocalStore, typed: str) -> None:
    scan = look_up_scan(store, typed, bench="B1", own_bench_only=True, typed=True)
    assert scan.answer == Answer.SEARCH and scan.search_text == phone_digits(typed)
    assert not scan.ok and scan.order_id == ""
    if len(scan.search_text) == 11:
        assert scan.text() == "Orders with phone number 13800138000"
    else:
        assert scan.text() == f"Orders whose phone number ends in {phone_digits(typed)}"
    assert "search box" in scan.reason()
    # the same keys from a scanner: not a code of ours
    scanned = look_up_scan(store, typed, bench="B1", own_bench_only=True)
    assert scanned.answer == Answer.UNREADABLE and scanned.search_text == ""
    assert scanned.text() == f"Unrecognised barcode: {typed}"


@pytest.mark.parametrize("typed", ["800", "13800138000x", "-8000", "8000-", "张三", "%%8000"])
def test_typed_text_that_is_no_phone_number_is_unrecognised(store: LocalStore, typed: str) -> None:
    scan = look_up_scan(store, typed, bench="B1", own_bench_only=True, typed=True)
    assert scan.answer == Answer.UNREADABLE and scan.search_text == ""


@pytest.mark.parametrize("typed", [CHANNEL_NO, "75300000001", "BL20261125-000002"])
def test_typed_digits_that_name_an_order_open_it_not_search(store: LocalStore, typed: str) -> None:
    scan = look_up_scan(store, typed, bench="B1", own_bench_only=True, typed=True)
    assert scan.answer == Answer.OPEN and scan.order_id.startswith("BL20261125-")
