"""Label and pick-list throughput: 500 labels to PDF and to ZPL, a 1,000-line batch pick list.

Prints one ``name: value unit (target …)`` line per figure; the last line is the headline
(labels/s to PDF, target ≥ 100).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "printing")]

from orders import make_batch, make_order  # noqa: E402

from printing import label_zpl, render_labels, render_picklist  # noqa: E402
from printing.fonts import active_font_name  # noqa: E402


def main() -> None:
    orders = [make_order(i, n_lines=1 + i % 6, gift=i % 3 == 0, vip=i % 7 == 0) for i in range(1, 501)]
    render_labels(orders[:5])  # warm-up: font registration, caches
    t0 = time.perf_counter()
    pdf = render_labels(orders, "100x150")
    pdf_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    zpl = [label_zpl(o, "100x150") for o in orders]
    zpl_s = time.perf_counter() - t0
    batch = make_batch(200, 5)  # 1,000 order lines
    t0 = time.perf_counter()
    pick = render_picklist(batch, "WV-BENCH")
    pick_s = time.perf_counter() - t0
    print(f"font: {active_font_name()}")
    print(f"label_pdf_size: {len(pdf) / 1024 / 500:.1f} KB/label (target small, vector)")
    print(f"zpl_size: {sum(map(len, zpl)) / 1024 / 500:.1f} KB/label (target small)")
    print(f"picklist_1000_lines: {pick_s * 1000:.0f} ms ({len(pick) // 1024} KB) (target < 2000 ms)")
    print(f"labels_to_zpl: {500 / zpl_s:.0f} labels/s (target ≥ 100)")
    print(f"labels_to_pdf: {500 / pdf_s:.0f} labels/s (target ≥ 100)")


if __name__ == "__main__":
    main()
