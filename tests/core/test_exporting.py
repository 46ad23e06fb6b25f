"""core.exporting: imported text written to a spreadsheet is never a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from core.exporting import neutralise_cell, neutralise_row

ATTACKS = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1",
           "  =1+1", "\u3000=1+1", "＝1+1", "＋1", "－1", "＠SUM(1)", "=cmd|' /C calc'!A0"]
PLAIN = ["张伟", "138****0000", "科技园南区8栋1203室", "a=b", "1-2", "user@example.com", "", " ", "'quoted"]


@pytest.mark.parametrize("text", ATTACKS)
def test_text_that_starts_a_formula_gets_an_apostrophe(text: str) -> None:
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise_cell(text) == text


def test_numbers_dates_and_none_stay_what_they_are() -> None:
    values = [-5, 0, 3.5, Decimal("-19.90"), date(2026, 2, 22), None, True]
    assert neutralise_row(values) == values


def test_a_workbook_written_with_neutralised_cells_holds_text_not_formulas() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(neutralise_row(ATTACKS))
    ws.append(ATTACKS)  # the control: unneutralised, openpyxl writes the "=" ones as formulas
    buf = io.BytesIO()
    wb.save(buf)
    ws2 = load_workbook(io.BytesIO(buf.getvalue())).active
    assert ws2 is not None
    safe, raw = list(ws2.iter_rows(min_row=1, max_row=2))
    assert all(c.data_type == "s" for c in safe), [(c.value, c.data_type) for c in safe]
    assert any(c.data_type == "f" for c in raw)
    assert [c.value for c in safe] == ["'" + t.replace("\r", "\n") for t in ATTACKS]  # XML keeps no lone CR


def test_a_csv_round_trip_keeps_the_text_with_its_apostrophe() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(neutralise_row(ATTACKS + PLAIN))
    back = next(csv.reader(io.StringIO(out.getvalue())))
    assert back == ["'" + t for t in ATTACKS] + PLAIN
