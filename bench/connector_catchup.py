"""Shop connector figures: catch-up from zero, and the lag from a shop's update to the hub's change
feed, by pull at the default interval and by push.

A fake shop (tests/channels/fake_<platform>.py, real HTTP on 127.0.0.1, signatures checked as the
platform documents them) holds ``--orders`` orders updated over one day. A real hub process (SQLite,
or PostgreSQL with ``--postgres``) gets a connector for it:

1. catch-up: seconds until every order is in the hub (connector health ``orders_today``);
2. pull lag: ``--lag-orders`` orders are updated on the shop over a few pull rounds at ``--interval``
   seconds; each one's lag is the time from its update on the shop to its snapshot in the hub's
   change feed, read by a long-poll (as the benches read it);
3. push lag: ``--push-orders`` new orders, each followed at once by the platform's (thin) push;
   the lag is from the push to the change feed (the hub fetches the detail through the connector).

    python bench/connector_catchup.py [--orders 86000] [--lag-orders 1000] [--push-orders 1000]
                                      [--interval 15] [--platform douyin] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from core.timeutil import utcnow
from tests.channels.engine_kit import FAKES, PLATFORMS, add_connector, admin, connector
from tests.helpers.fake_shop import FakeShop, split_push_query
from tests.helpers.hubapi import Session
from tests.hubproc import HubProcess, fresh_pg_database


class FeedWatch:
    """Long-polls the change feed and notes when each (channel, order no) first shows ``want``."""

    def __init__(self, s: Session, channel: str) -> None:
        self.s = s
        self.channel = channel
        self.cursor = 0
        self.seen: dict[str, float] = {}
        self.want: dict[str, str] = {}  # order no -> channel status it must show ("" = any)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, cursor: int) -> FeedWatch:
        self.cursor = cursor
        self._thread.start()
        return self

    def expect(self, no: str, state_in: str) -> None:
        with self._lock:
            self.want[no] = state_in
            self.seen.pop(no, None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                r = self.s.get("/api/v1/changes", cursor=self.cursor, limit=1000, wait=5)
            except requests.RequestException:
                continue
            if r.status_code != 200:
                continue
            page = r.json()
            now = time.monotonic()
            with self._lock:
                for ch in page["changes"]:
                    o = ch["order"]
                    no = o["channel_order_no"]
                    want = self.want.get(no)
                    if (o["channel"] == self.channel and want is not None and no not in self.seen
                            and (not want or o["state"] in want.split(","))):
                        self.seen[no] = now
            self.cursor = page["next_cursor"]

    def stop(self) -> None:
        self._stop.set()


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def wait_for(pred: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def database(postgres: bool, home: Path) -> Iterator[str]:
    if postgres:
        with fresh_pg_database() as url:
            yield url
    else:
        yield f"sqlite:///{home / 'hub.db'}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=86_000)
    ap.add_argument("--lag-orders", type=int, default=1000)
    ap.add_argument("--push-orders", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=15.0, help="the connector's pull interval (default 15 s)")
    ap.add_argument("--rate", type=float, default=20.0, help="shop updates per second in the lag phases")
    ap.add_argument("--platform", default="douyin" if "douyin" in PLATFORMS else (PLATFORMS or ["douyin"])[0],
                    choices=sorted(FAKES))
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    if args.platform not in PLATFORMS:
        raise SystemExit(f"platform {args.platform} is not in this tree; have: {', '.join(PLATFORMS) or 'none'}")
    mod, cls = FAKES[args.platform]
    shop: FakeShop = getattr(importlib.import_module(mod), cls)()
    if hasattr(shop, "push_path"):
        shop.push_path = f"/api/v1/channels/{args.platform}/push"  # type: ignore[attr-defined]
    platform = args.platform
    home = Path(tempfile.mkdtemp(prefix="connector-bench-"))
    with database(args.postgres, home) as url:
        hub = HubProcess(home, db_url=url).start()
        try:
            now = utcnow()
            n = args.orders
            for i in range(n):
                shop.add_order(f"8{i:014d}", status="paid", updated_at=now - timedelta(seconds=86_000 * (n - i) / n))
            s = admin(hub.url)
            t0 = time.monotonic()
            cid = add_connector(s, shop, interval_s=args.interval, lookback_s=25 * 3600)["id"]
            wait_for(lambda: connector(s, cid)["health"]["orders_today"] >= n, 1800, "the catch-up")
            catchup = time.monotonic() - t0
            print(f"catch-up: {n} orders from zero in {catchup:.1f} s ({n / catchup:.0f} orders/s) "
                  f"[{platform}, {'PostgreSQL' if args.postgres else 'SQLite'}]", flush=True)

            head = s.get("/api/v1/health").json()["head"]
            watch = FeedWatch(admin(hub.url), platform).start(head)

            # Pull lag: new paid orders on the shop, at --rate per second over several pull rounds.
            updated: dict[str, float] = {}
            for i in range(args.lag_orders):
                no = f"7{i:014d}"
                watch.expect(no, "")
                updated[no] = time.monotonic()
                shop.add_order(no, status="paid")
                time.sleep(1 / args.rate)
            wait_for(lambda: all(no in watch.seen for no in updated), 120 + 3 * args.interval, "the pulled updates")
            pull = [(watch.seen[no] - t) * 1000 for no, t in updated.items()]
            print(f"connector_lag_pull: p50 {statistics.median(pull):.0f} ms, p99 {percentile(pull, 99):.0f} ms "
                  f"over {len(pull)} orders at a {args.interval:g} s interval", flush=True)

            # Push lag: a new order and at once the platform's thin push about it.
            http = requests.Session()
            pushed: dict[str, float] = {}
            for i in range(args.push_orders):
                no = f"6{i:014d}"
                shop.add_order(no, status="paid")
                watch.expect(no, "")
                headers, body = shop.push_request([no], thin=True)
                query, real = split_push_query(headers)
                pushed[no] = time.monotonic()
                r = http.post(f"{hub.url}/api/v1/channels/{platform}/push", params=query, data=body, headers=real,
                              timeout=30)
                if r.status_code != 200:
                    raise SystemExit(f"push refused: {r.status_code} {r.text[:300]}")
                time.sleep(1 / args.rate)
            wait_for(lambda: all(no in watch.seen for no in pushed), 120, "the pushed orders")
            push = [(watch.seen[no] - t) * 1000 for no, t in pushed.items()]
            watch.stop()
            print(f"connector_lag_push_p50: {statistics.median(push):.0f} ms over {len(push)} orders", flush=True)
            print(f"connector_catchup: {catchup:.1f} s for {n} orders (target < 180 s)")
            print(f"connector_lag_pull: {percentile(pull, 99):.0f} ms p99 (target < 20000 ms)")
            print(f"connector_lag_push: {percentile(push, 99):.0f} ms p99 (target < 1000 ms)")
        finally:
            hub.stop()
            shop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
