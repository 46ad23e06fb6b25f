"""Order IDs and money: the shapes every label, audit line and webhook carries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from core.money import fen_to_yuan_text, yuan_to_fen
from core.order_ids import format_order_id, looks_like_order_id, parse_order_id


def test_order_id_has_the_design_shape() -> None:
    assert format_order_id("BL", date(2026, 2, 22), 8632) == "BL20260222-008632"


def test_order_id_round_trips_and_tolerates_scanner_noise() -> None:
    oid = parse_order_id("  bl20260222-008632\n")
    assert (oid.prefix, oid.day, oid.seq) == ("BL", date(2026, 2, 22), 8632)
    assert str(oid) == "BL20260222-008632"


@pytest.mark.parametrize("bad", ["", "BL2026022-008632", "BL20260230-000001", "20260222-000001", "BL20260222-0001"])
def test_malformed_order_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_order_id(bad)
    assert not looks_like_order_id(bad) or bad == "BL20260230-000001"


@pytest.mark.parametrize("prefix,seq", [("bl", 1), ("TOOLONGX", 1), ("BL", 0), ("BL", 1_000_000)])
def test_order_id_parts_out_of_range_are_refused(prefix: str, seq: int) -> None:
    with pytest.raises(ValidationFailed):
        format_order_id(prefix, date(2026, 1, 1), seq)


@pytest.mark.parametrize("text,fen", [("19.90", 1990), ("0.1", 10), ("5000", 500000), ("¥1,234.56", 123456),
                                      (Decimal("0.30"), 30), (7, 700)])
def test_money_is_parsed_exactly_into_fen(text: str | Decimal | int, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("bad", [0.1, "abc", "-1", "1.234", "NaN", True])
def test_floats_and_nonsense_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        yuan_to_fen(bad)  # type: ignore[arg-type]


def test_fen_format_for_people() -> None:
    assert fen_to_yuan_text(123456) == "¥1,234.56"
    assert fen_to_yuan_text(5) == "¥0.05"
