"""A wave's pick list by carrier: slots grouped by carrier (earliest cut-off first) then walking order,
each slot naming its carrier. (Its barcodes are decoded in tests/ui/test_waves.py, printed from the window.)"""

from __future__ import annotations

import re
from pathlib import Path

from printing import render_picklist
from tests.helpers.snapshots import snapshot
from tests.printing.conftest import pdf_text


def test_slots_are_grouped_by_carrier_and_name_it(tmp_path: Path) -> None:
    snaps = []
    for i, (carrier, cutoff, bin_) in enumerate([("ZTO", "17:30", "A-10-1"), ("YTO", "17:00", "B-1-1"),
                                                 ("ZTO", "17:30", "A-2-1"), ("SF", "", "A-1-1"),
                                                 ("YTO", "17:00", "A-3-1")], 1):
        s = snapshot(f"BL20261207-{i:06d}", carrier=carrier,
                     **({"handover_cutoff": {"carrier": carrier, "time": cutoff, "tz": "Asia/Shanghai"}} if cutoff else {}))
        s["lines"][0]["bin"] = bin_
        snaps.append(s)
    pdf = render_picklist(snaps, "W20261207-0001")
    text = pdf_text(pdf, tmp_path)
    # slots in reading order (left to right, row by row, as numbered #1..#5): YTO (17:00) in walking
    # order, then ZTO (17:30), then SF (no cut-off known)
    assert re.findall(r"BL20261207-\d{6}", text) == ["BL20261207-000005", "BL20261207-000002", "BL20261207-000003", "BL20261207-000001",
                     "BL20261207-000004"]
    assert text.count("圆通速递") == 2 and text.count("中通快递") == 2 and text.count("顺丰速运") == 1
