"""Label and pick-list throughput: 500 labels to PDF and to ZPL, a 1,000-line batch pick list.

Prints one ``name: value unit (target …)`` line per figure; the last line is the headline
(labels/s to PDF, target ≥ 100).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "printing")]

from orders import make_batch, make_order  # noqa: E402

from printing import label_zpl, render_labels, render_picklist  # noqa: E402
from printing.fonts import active_font_name  # noqa: E402


def demo_batch(lines: int) -> list[dict]:
    """Demo orders (62 catalogue SKUs across the warehouse) until the batch has ``lines`` order lines."""
    from core.demo import generate_orders
    from hub.orders import new_doc

    out: list[dict] = []
    total = 0
    for i, o in enumerate(generate_orders(lines, seed=9), start=1):
        doc = {k: v for k, v in new_doc(f"BL20261125-{i:06d}", o).items() if not k.startswith("_")}
        doc.update(state="allocated", version=3, bench="B1", carrier="SF", waybill_no=f"SF{100000000 + i}")
        out.append(doc)
        total += len(doc["lines"])
        if total >= lines:
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=500)
    n = ap.parse_args().labels
    orders = [make_order(i, n_lines=1 + i % 6, gift=i % 3 == 0, vip=i % 7 == 0) for i in range(1, n + 1)]
    render_labels(orders[:5])  # warm-up: font registration, caches
    for o in orders[:5]:
        label_zpl(o, "100x150")  # warm-up: the ZPL glyph cache
    t0 = time.perf_counter()
    pdf = render_labels(orders, "100x150")
    pdf_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    zpl = [label_zpl(o, "100x150") for o in orders]
    zpl_s = time.perf_counter() - t0
    batch = make_batch(200, 5)  # 1,000 order lines over a handful of SKUs
    t0 = time.perf_counter()
    pick = render_picklist(batch, "WV-BENCH")
    pick_s = time.perf_counter() - t0
    demo = demo_batch(1000)  # 1,000 order lines over the whole demo catalogue
    t0 = time.perf_counter()
    demo_pick = render_picklist(demo, "WV-DEMO")
    demo_s = time.perf_counter() - t0
    print(f"font: {active_font_name()}")
    print(f"label_pdf_size: {len(pdf) / 1024 / n:.1f} KB/label (target small, vector)")
    print(f"zpl_size: {sum(map(len, zpl)) / 1024 / n:.1f} KB/label (target small)")
    print(f"picklist_1000_lines: {pick_s * 1000:.0f} ms ({len(pick) // 1024} KB) (target < 2000 ms)")
    print(f"picklist_1000_lines_demo_catalogue: {demo_s * 1000:.0f} ms, {len(demo)} orders "
          f"({len(demo_pick) // 1024} KB) (target < 2000 ms)")
    print(f"labels_to_zpl: {n / zpl_s:.0f} labels/s (target ≥ 100)")
    print(f"labels_to_pdf: {n / pdf_s:.0f} labels/s (target ≥ 100)")


if __name__ == "__main__":
    main()
