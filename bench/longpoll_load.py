"""Writes beside many long-polling clients: does a hub full of idle waiters still take actions fast?

    python bench/longpoll_load.py [--db sqlite|postgres] [--clients 200] [--desks 10] [--rate 20]
                                  [--duration 60] [--baseline 20] [--idle 10] [--orders 2000]

One hub process. ``--clients`` long-poll clients (``wait=25``, as the sync engine does): one packer
on each of ``clients - desks`` benches (the routing rules are generated with that many benches)
and ``--desks`` desk PCs that see every bench. Desk writers (not long-polling) send ``step``
actions aimed at ``--rate`` per second in total. Three phases in the same run:

1. baseline — the same writes with no long-poll client (what the writes cost alone);
2. idle — the clients waiting, no writes (what waiting costs: hub CPU);
3. load — the writes beside the waiting clients.

Figures: actions achieved per second, write latency (request sent → answer), propagation
(answer received → the change seen by the long-polling packer of the order's bench), hub CPU (the
hub process's user+system time from /proc over the phase, in % of one core).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.routing import RULES_DIR
from tests.helpers.hubapi import Session, demo
from tests.hubproc import HubProcess, fresh_pg_database

WAREHOUSE_CODES = ("SH", "GZ", "BJ", "CD")


def rules_with_benches(path: Path, n: int) -> list[str]:
    """The shipped rules with ``n`` normal benches spread over the warehouses (no VIP benches)."""
    text = (RULES_DIR / "default.toml").read_text(encoding="utf-8")
    names: list[str] = []
    k = 0

    def benches(_m: re.Match[str]) -> str:
        nonlocal k
        mine = [f"{WAREHOUSE_CODES[k]}-{i:03d}" for i in range(k, n, len(WAREHOUSE_CODES))]
        k += 1
        names.extend(mine)
        return "benches = [" + ", ".join(f'"{b}"' for b in mine) + "]"

    text = re.sub(r"^benches = \[.*\]$", benches, text, flags=re.MULTILINE)
    text = re.sub(r"^vip_benches = \[.*\]$", "vip_benches = []", text, flags=re.MULTILINE)
    catalogue = (RULES_DIR / "catalogue.csv").as_posix()
    text = re.sub(r'^catalogue = ".*"$', f'catalogue = "{catalogue}"', text, flags=re.MULTILINE)
    assert k == len(WAREHOUSE_CODES), "the shipped rules changed: update WAREHOUSE_CODES"
    path.write_text(text, encoding="utf-8")
    return names


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(len(values) * q) - 1))] * 1000


class Client(threading.Thread):
    """One long-polling bench or desk PC; records when it first saw each (order, version)."""

    def __init__(self, session: Session, cursor: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.cursor = cursor
        self.stop_ = stop
        self.seen: dict[tuple[str, int], float] = {}
        self.errors = 0
        self.last_error = ""
        self.polls = 0

    def run(self) -> None:
        while not self.stop_.is_set():
            try:
                r = self.session.http.get(self.session.url + "/api/v1/changes", headers=self.session.headers,
                                          params={"cursor": self.cursor, "wait": 25}, timeout=60)
                r.raise_for_status()
                page = r.json()
            except (requests.RequestException, ValueError) as exc:
                if self.stop_.is_set():
                    return
                self.errors += 1
                self.last_error = repr(exc)[:300]
                time.sleep(0.5)
                continue
            now = time.perf_counter()
            self.polls += 1
            for ch in page["changes"]:
                self.seen.setdefault((ch["order_id"], ch["order"]["version"]), now)
            self.cursor = page["next_cursor"]


def write_phase(writers: list[Session], orders: list[dict[str, Any]], rate: float,
                duration: float) -> tuple[int, list[float], dict[tuple[str, int], tuple[float, str]], float]:
    """Send steps aimed at ``rate``/s for ``duration`` s; (done, latencies, (order, version) -> (accepted, bench))."""
    accepted: dict[tuple[str, int], tuple[float, str]] = {}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    interval = len(writers) / rate
    t0 = time.perf_counter() + 0.05

    def run(w: int, session: Session) -> None:
        mine = orders[w :: len(writers)]
        k = 0
        while True:
            due = t0 + w * interval / len(writers) + k * interval
            if due >= t0 + duration:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            o = mine[k % len(mine)]
            k += 1
            sent = time.perf_counter()
            try:
                r = session.do(o["order_id"], "step", {"step": "picked", "detail": {"n": k}},
                               base_version=o["version"])
            except (requests.RequestException, AssertionError) as exc:
                with lock:
                    failures.append(repr(exc)[:200])
                continue
            done = time.perf_counter()
            if r["outcome"] != "applied":
                with lock:
                    failures.append(str(r)[:200])
                continue
            o["version"] = r["order"]["version"]
            with lock:
                latencies.append(done - sent)
                accepted[(o["order_id"], o["version"])] = (done, o["bench"])

    threads = [threading.Thread(target=run, args=(w, s)) for w, s in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max(duration, time.perf_counter() - t0)
    if failures:
        print(f"  {len(failures)} actions failed, e.g. {failures[0]}")
    return len(latencies), latencies, accepted, elapsed


def run(url: str, pid: int, args: argparse.Namespace, benches: list[str]) -> dict[str, Any]:
    demo(url, args.orders, seed=7)
    writers = [Session(url, operator="D001", pin="2222", station=f"WRITER-{i}", bench=None).login()
               for i in range(args.writers)]
    n_packers = args.clients - args.desks
    orders = [o for o in writers[0].get("/api/v1/orders", limit=1000).json()["orders"]
              if o["state"] == "allocated" and not o["holds"] and o["bench"] in benches[:n_packers]]
    assert orders, "no workable orders on the packers' benches"
    out: dict[str, Any] = {}

    # 1. baseline: the writes alone.
    if args.baseline > 0:
        c0, t0 = cpu_s(pid), time.perf_counter()
        n, lat, _, elapsed = write_phase(writers, orders, args.rate, args.baseline)
        out["baseline"] = {"achieved": n / elapsed, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
                           "cpu": 100 * (cpu_s(pid) - c0) / (time.perf_counter() - t0)}

    # 2. idle: the clients waiting.
    cursor = int(writers[0].get("/api/v1/health").json()["head"])
    stop = threading.Event()
    sessions = [Session(url, operator="P001", pin="1111", station=f"LP-{b}", bench=b) for b in benches[:n_packers]]
    sessions += [Session(url, operator="D001", pin="2222", station=f"LP-DESK-{i}", bench=None) for i in range(args.desks)]
    clients = [Client(s.login(), cursor, stop) for s in sessions]
    for c in clients:
        c.start()
    time.sleep(2.0)  # let every client's first long-poll arrive before measuring what waiting costs
    c0, t0 = cpu_s(pid), time.perf_counter()
    time.sleep(args.idle)
    out["idle_cpu"] = 100 * (cpu_s(pid) - c0) / (time.perf_counter() - t0)

    # 3. load: the writes beside them.
    c0, t0 = cpu_s(pid), time.perf_counter()
    n, lat, accepted, elapsed = write_phase(writers, orders, args.rate, args.duration)
    cpu = 100 * (cpu_s(pid) - c0) / (time.perf_counter() - t0)
    by_bench = {c.session.bench: c for c in clients if c.session.bench}
    desks = [c for c in clients if not c.session.bench]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(k not in by_bench[b].seen for k, (_, b) in accepted.items()):
        time.sleep(0.05)
    stop.set()
    prop = [by_bench[b].seen[k] - at for k, (at, b) in accepted.items() if k in by_bench[b].seen]
    desk_prop = [d.seen[k] - at for d in desks for k, (at, _) in accepted.items() if k in d.seen]
    out["load"] = {"achieved": n / elapsed, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "cpu": cpu,
                   "prop_p50": pct([max(0.0, p) for p in prop], 0.5), "prop_p99": pct([max(0.0, p) for p in prop], 0.99),
                   "desk_prop_p99": pct([max(0.0, p) for p in desk_prop], 0.99),
                   "missing": len(accepted) - len(prop), "client_errors": sum(c.errors for c in clients),
                   "polls": sum(c.polls for c in clients)}
    errors = [c.last_error for c in clients if c.last_error]
    if errors:
        print(f"  client errors, e.g. {errors[0]}")
    return out


def show_errors(hub: HubProcess) -> None:
    """A 5xx is a bug: show what the hub logged about it."""
    if hub.errors_logged():
        print(f"  the hub logged errors:\n{hub.log_path.read_text(errors='replace')[-4000:]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--clients", type=int, default=200, help="long-poll clients in all (packers + desks)")
    ap.add_argument("--desks", type=int, default=10, help="of the clients, desk PCs (they see every bench)")
    ap.add_argument("--rate", type=float, default=20.0, help="actions per second aimed at")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of writes beside the clients")
    ap.add_argument("--baseline", type=float, default=20.0, help="seconds of writes with no client first (0: skip)")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of clients waiting with no writes")
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--writers", type=int, default=4, help="writer sessions sharing the rate")
    args = ap.parse_args()
    if not 0 <= args.desks < args.clients:
        ap.error("--desks must be less than --clients")
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        rules = Path(tmp) / "rules.toml"
        benches = rules_with_benches(rules, args.clients - args.desks)
        env = {"PACKDESK_HUB_RULES": str(rules)}
        if args.db == "postgres":
            with fresh_pg_database() as url:
                hub = HubProcess(Path(tmp) / "hub", db_url=url, env=env).start()
                try:
                    assert hub.proc is not None
                    out = run(hub.url, hub.proc.pid, args, benches)
                finally:
                    hub.stop()
                    show_errors(hub)
        else:
            hub = HubProcess(Path(tmp) / "hub", env=env).start()
            try:
                assert hub.proc is not None
                out = run(hub.url, hub.proc.pid, args, benches)
            finally:
                hub.stop()
                show_errors(hub)
    load1, load5, _ = os.getloadavg()
    print(f"longpoll_load {args.db}: {args.clients} long-poll clients ({args.clients - args.desks} packers on as many "
          f"benches, {args.desks} desks), actions aimed at {args.rate:g}/s, {os.cpu_count()} CPUs, "
          f"load average {load1:.2f} / {load5:.2f} (1 / 5 min) at the end")
    if "baseline" in out:
        b = out["baseline"]
        print(f"baseline, 0 clients, {args.baseline:g} s: actions {b['achieved']:.1f}/s, write p50 {b['p50']:.1f} ms, "
              f"p99 {b['p99']:.1f} ms, hub CPU {b['cpu']:.0f} % of a core")
    print(f"idle, {args.clients} clients waiting, {args.idle:g} s: hub CPU {out['idle_cpu']:.1f} % of a core")
    ld = out["load"]
    print(f"load, {args.clients} clients, {args.duration:g} s: actions {ld['achieved']:.1f}/s, write p50 {ld['p50']:.1f} ms, "
          f"p99 {ld['p99']:.1f} ms, propagation to the bench's packer p50 {ld['prop_p50']:.1f} ms, "
          f"p99 {ld['prop_p99']:.1f} ms (to the desks p99 {ld['desk_prop_p99']:.1f} ms), hub CPU {ld['cpu']:.0f} % of a core, "
          f"{ld['polls']} long-poll answers, {ld['missing']} changes never seen, {ld['client_errors']} client errors")
    print(f"longpoll_load_write_p99: {ld['p99']:.1f} ms (target < 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
