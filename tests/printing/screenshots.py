"""Regenerate docs/screenshots/{label-*,picklist,slip}.png from the code (one page each; the labels
with and without routing data).

Run: ``.venv/bin/python tests/printing/screenshots.py`` (needs pdftoppm). Labels at 150 dpi,
the A4 pick list at 90 dpi, the A5 slip at 110 dpi, in grey: each file stays well under 500 KB.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from orders import ROUTING, make_batch, make_order  # noqa: E402

from printing import render_label, render_picklist, render_slip  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
NOW = datetime(2026, 2, 22, 3, 0, tzinfo=UTC)


def _png(pdf: bytes, name: str, dpi: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", str(src),
             str(OUT / name)],
            check=True,
        )
    print(OUT / f"{name}.png", (OUT / f"{name}.png").stat().st_size // 1024, "KB")


def main() -> None:
    order = make_order(
        1, n_lines=12, gift=True, vip=True, address=1, buyer_note="周末不在家，放快递柜，谢谢！"
    )
    for size in ("100x150", "100x180", "76x130"):
        _png(render_label(order, size, now=NOW), f"label-{size}", 150)
        _png(render_label({**order, "waybill_routing": ROUTING}, size, now=NOW), f"label-{size}-routing", 150)
    _png(render_picklist(make_batch(30, 5), "WV20260222-0007", now=NOW), "picklist", 90)
    _png(render_slip(order, now=NOW), "slip", 110)


if __name__ == "__main__":
    main()
