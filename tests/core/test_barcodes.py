"""Product barcodes: validation, the catalogue column, case quantities in the verify count."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.barcodes import BarcodeError, check_barcode, format_barcodes, gs1_check_digit, parse_barcodes
from core.demo import load_catalogue
from core.errors import ValidationFailed
from core.i18n import set_language
from core.scan_rules import PackSession, ScanKind, Verdict, classify
from tests.helpers.snapshots import snapshot

TEA = {"sku": "TEA-250", "name": "龙井", "qty": 4, "unit_price_fen": 1, "is_gift": False, "bin": "A-1",
       "barcodes": {"6901234567892": 1, "16901234567899": 6}}
NUTS = {"sku": "NUT-750", "name": "坚果", "qty": 12, "unit_price_fen": 1, "is_gift": False, "bin": "A-2",
        "barcodes": {"6931234001072": 1, "16931234001079": 6}}
UPC = {"sku": "USB-C", "name": "线", "qty": 1, "unit_price_fen": 1, "is_gift": False, "bin": "A-3",
       "barcodes": {"036000291452": 1}}


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")


@pytest.mark.parametrize("code", ["6901234567892", "036000291452", "96385074", "16901234567899"])
def test_valid_gs1_codes(code: str) -> None:
    assert check_barcode(code) == code


@pytest.mark.parametrize(("code", "why"), [("6901234567893", "check digit"), ("69012345", "check digit"),
                                           ("690123456789", "check digit"), ("12345", "digits"),
                                           ("69O1234567892", "digits only"), ("６９０１２３４５６７８９２", "digits only")])
def test_bad_codes_say_why(code: str, why: str) -> None:
    with pytest.raises(BarcodeError, match=why):
        check_barcode(code)


def test_catalogue_cell_round_trip() -> None:
    cell = "6901234567892; 16901234567899*6"
    parsed = parse_barcodes(cell)
    assert parsed == {"6901234567892": 1, "16901234567899": 6}
    assert parse_barcodes(format_barcodes(parsed)) == parsed and parse_barcodes("") == {}
    for bad in ("6901234567892*0", "6901234567892*x", "6901234567892;6901234567892"):
        with pytest.raises(BarcodeError):
            parse_barcodes(bad)


def test_demo_catalogue_has_valid_69_barcodes_and_case_codes() -> None:
    items = load_catalogue()
    codes = [(c, n) for i in items for c, n in i.barcodes.items()]
    assert len(codes) >= len(items)  # every SKU but the hand-written card has one, some several
    assert all(gs1_check_digit(c[:-1]) == int(c[-1]) for c, _n in codes)
    assert sum(1 for c, _n in codes if c.startswith("69") and len(c) == 13) >= 50
    cases = {c: n for c, n in codes if n > 1}
    assert len(cases) >= 5 and all(len(c) == 14 for c in cases)
    assert len({c for c, _n in codes}) == len(codes)  # one barcode names one item


def test_catalogue_barcode_errors_name_the_row(tmp_path: Path) -> None:
    head = "sku,name,bin,weight_g,is_gift,barcodes\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(head + "S1,茶,A,1,0,6901234567892\nS2,杯,B,1,0,6901234567893\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"row 3 \(S2\).*check digit"):
        load_catalogue(bad)
    twice = tmp_path / "twice.csv"
    twice.write_text(head + "S1,茶,A,1,0,6901234567892\nS2,杯,B,1,0,16901234567899*6;6901234567892\n",
                     encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"row 3 \(S2\): barcode 6901234567892 is already the barcode of S1"):
        load_catalogue(twice)
    old = tmp_path / "old.csv"  # a catalogue without the column still loads
    old.write_text("sku,name,bin,weight_g,is_gift\nS1,茶,A,1,0\n", encoding="utf-8")
    assert load_catalogue(old)[0].barcodes == {}


def test_a_scan_matches_by_sku_or_any_barcode_and_a_case_counts_its_units() -> None:
    snap = snapshot("BL20261125-000001", lines=[TEA, NUTS, UPC])
    assert classify("6901234567892", None, snap["lines"]).value == "TEA-250"
    assert classify("16931234001079", None, snap["lines"]).kind == ScanKind.ITEM
    session = PackSession.from_snapshot(snap)
    assert session.scan("16931234001079").units == 6 and session.done("NUT-750") == 6  # a case of 6
    assert session.scan("6931234001072").done == 7
    assert session.scan("nut-750").done == 8  # the SKU itself still counts one
    # a UPC-A code as a scanner set to EAN-13 reports it (leading 0) matches too
    assert session.scan("0036000291452").sku == "USB-C"


def test_a_case_bigger_than_what_is_left_is_refused_with_the_reason() -> None:
    session = PackSession.from_snapshot(snapshot("BL20261125-000001", lines=[TEA]))
    result = session.scan("16901234567899")  # a case of 6 on a line needing 4
    assert result.verdict == Verdict.TOO_MANY and not result.counted and result.units == 6
    assert result.reason == ("6 units of TEA-250 is more than the 4 still to scan: nothing counted. "
                             "Open the case and scan single units.")
    assert session.verified_units == 0 and session.wrong_scans == [{"code": "16901234567899", "verdict": "too_many"}]
    for _ in range(4):
        assert session.scan("6901234567892").counted
    assert session.is_complete


def test_old_snapshots_without_barcodes_and_odd_values_still_work() -> None:
    line = {k: v for k, v in TEA.items() if k != "barcodes"}
    session = PackSession.from_snapshot(snapshot("BL20261125-000001", lines=[line]))
    assert session.codes == {"TEA-250": "TEA-250"}
    odd = {**TEA, "barcodes": {"6901234567892": 0, "16901234567899": "6"}}
    assert PackSession.from_snapshot(snapshot("BL20261125-000001", lines=[odd])).codes == {"TEA-250": "TEA-250"}
