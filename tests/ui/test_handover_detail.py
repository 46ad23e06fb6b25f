"""The detail pane's hand-over line: due by the carrier's cut-off, missed (※ 未交接 colour + glyph + words),
or the handover batch that shipped it — in the operator's language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.i18n import set_language
from core.timeutil import iso, utcnow
from ui.order_detail import _handover_lines


@pytest.fixture
def chinese(home: Path) -> Iterator[None]:
    # ``home``: this checkout's catalogues compiled into a temp folder, not a cache another checkout shares
    set_language("zh_CN")
    yield
    set_language("en")


def test_due_missed_and_handed_over(chinese: None) -> None:
    due = utcnow() + timedelta(hours=1)
    coming = _handover_lines({"state": "label_printed", "handover_due": iso(due)})
    assert len(coming) == 1 and "交接" in coming[0] and "#ff7043" not in coming[0]
    missed = _handover_lines({"state": "label_printed", "handover_due": iso(utcnow() - timedelta(minutes=1))})
    assert len(missed) == 1 and "#ff7043" in missed[0] and "※" in missed[0] and "未交接" in missed[0]
    assert _handover_lines({"state": "allocated", "handover_due": iso(due)}) == []  # voided: nothing due
    assert _handover_lines({"state": "label_printed"}) == []  # a carrier without a cut-off
    shipped = _handover_lines({"state": "shipped", "handover_due": iso(due), "handover": {
        "batch_id": "HO-20261207-0001", "station": "B1-PC", "operator": "P001", "at": iso(utcnow())}})
    assert len(shipped) == 1 and "HO-20261207-0001" in shipped[0] and "B1-PC" in shipped[0] and "P001" in shipped[0]
    assert not any(word in shipped[0] for word in ("Handed", "batch"))  # Chinese on a Chinese screen


def test_english_words(home: Path) -> None:
    line = _handover_lines({"state": "label_printed", "handover_due": iso(utcnow() - timedelta(minutes=1))})
    assert "Missed the carrier cut-off" in line[0]
