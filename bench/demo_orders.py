"""Demo order generation speed: the other benchmarks and the demo start build their orders with it.

Prints ``demo_orders: N orders/s (target ≥ 5000)``; best of a few runs, so a busy machine's hiccup
does not decide the figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.demo import generate_orders


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    start = datetime(2026, 11, 11, tzinfo=UTC)
    best = float("inf")
    for run in range(args.runs):
        t = time.perf_counter()
        n = len(generate_orders(args.orders, seed=2 + run, start=start))
        best = min(best, time.perf_counter() - t)
        assert n == args.orders, n
    print(f"demo_orders: {args.orders / best:.0f} orders/s (target ≥ 5000)")


if __name__ == "__main__":
    main()
