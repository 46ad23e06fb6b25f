"""The touchpoint metric (hub/metrics_touchpoint.py) over 1,000,000 contacts / 300,000 tickets on PostgreSQL.

Bulk-loads a fresh database (at PACKDESK_TEST_PG; ``--sqlite`` for a SQLite file instead) with Core
inserts: the tickets, one ``contact`` event per customer contact, and the contact episodes those
contacts make under docs/tickets.md's rule (a contact while an earlier one waits for a reply joins
its episode; one after the reply starts a new episode). A year of contacts, a few per ticket,
replies and closes drawn from skewed delays, some never replied, some never closed.

Then times :func:`hub.metrics_touchpoint.touchpoint` (median of ``--runs``) over the whole year by
day and by week, and over the last 28 days by day. The last line is the whole-year figure (the slower
of by day / by week): ``touchpoint_metric_year: … ms (target < 500 ms)``.

    python bench/touchpoint.py [--contacts 1000000] [--tickets 300000] [--runs 5] [--sqlite]
                               [--database URL [--reuse]]

With ``--database`` (an empty database you made) the data stays; ``--reuse`` then times it again
without loading (to compare two versions of the code on the same rows).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from hub import db
from hub import metrics_touchpoint as mt
from tests.hubproc import fresh_pg_database, postgres_available

TARGET_MS = 500.0
TYPES = ["urge_ship", "tracking", "address_change", "return_refund", "complaint", "other"]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 20_000


def generate(contacts: int, tickets: int, seed: int = 15) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                                list[dict[str, Any]]]]:
    """Batches of (tickets, contact events, episodes); ``contacts`` spread over ``tickets``."""
    rnd = random.Random(seed)
    per = contacts / tickets
    # Tickets in the order their first contact came: the hub writes episodes as contacts arrive, so
    # the table grows in time order (a random order would make every day's rows a random heap read).
    starts = sorted(START + timedelta(seconds=rnd.uniform(0, 364 * 86400)) for _ in range(tickets))
    left = contacts
    t_rows: list[dict[str, Any]] = []
    e_rows: list[dict[str, Any]] = []
    ep_rows: list[dict[str, Any]] = []
    for i in range(tickets):
        n = left if i == tickets - 1 else max(1, min(left - (tickets - i - 1), round(rnd.expovariate(1 / per))))
        left -= n
        tid = f"T{i:09d}"
        ttype = rnd.choice(TYPES)
        at = starts[i]
        closed: datetime | None = None
        episode: dict[str, Any] | None = None
        mine: list[dict[str, Any]] = []
        for _k in range(n):
            e_rows.append({"ticket_id": tid, "kind": "contact", "at": at, "operator": "D001", "channel": "phone",
                           "text": "", "action_id": None, "details": {}})
            if episode is None or (episode["replied_at"] is not None and episode["replied_at"] <= at):
                day = at.astimezone(TZ).date()
                reply = at + timedelta(seconds=rnd.lognormvariate(7.0, 1.2)) if rnd.random() < 0.93 else None
                episode = {"ticket_id": tid, "type": ttype, "started_at": at, "day": day.isoformat(),
                           "week": (day - timedelta(days=day.weekday())).isoformat(), "replied_at": reply,
                           "first_reply_s": int((reply - at).total_seconds()) if reply else None,
                           "closed_at": None, "closed_s": None}
                ep_rows.append(episode)
                mine.append(episode)
            at += timedelta(seconds=rnd.lognormvariate(8.5, 1.0))
        if rnd.random() < 0.85:
            closed = max([at, *(ep["replied_at"] for ep in mine if ep["replied_at"])])
            for ep in mine:
                ep["closed_at"] = closed
                ep["closed_s"] = int((closed - ep["started_at"]).total_seconds())
        t_rows.append({"ticket_id": tid, "order_id": f"BL20260101-{i % 1000000:06d}", "type": ttype,
                       "status": "closed" if closed else "open", "source": "phone", "vip": False, "assignee": "D001",
                       "opened_at": START, "due_at": None, "closed_at": closed, "version": 1, "updated_at": at,
                       "doc": {"ticket_id": tid, "type": ttype}})
        if len(e_rows) >= BATCH:
            yield t_rows, e_rows, ep_rows
            t_rows, e_rows, ep_rows = [], [], []
    yield t_rows, e_rows, ep_rows


@contextmanager
def database(sqlite: bool) -> Iterator[str]:
    if sqlite:
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{Path(d) / 'touchpoint.db'}"
        return
    problem = postgres_available()
    if problem is not None:
        sys.exit(f"{problem} (use --sqlite for a SQLite run)")
    with fresh_pg_database() as url:
        yield url


def timed(engine: Any, rng: mt.Range, now: datetime, runs: int) -> tuple[float, dict[str, Any]]:
    times = []
    out: dict[str, Any] = {}
    for _ in range(runs):
        with engine.begin() as conn:
            t0 = time.perf_counter()
            out = mt.touchpoint(conn, rng, now)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--tickets", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    ap.add_argument("--database", default="", help="an empty database URL to load into and keep (default: a fresh one, dropped after)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --database: a database this script loaded before is timed as it is (no second load)")
    args = ap.parse_args()
    with (nullcontext(args.database) if args.database else database(args.sqlite)) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        t0 = time.perf_counter()
        n_t = n_e = n_ep = 0
        with engine.begin() as conn:
            loaded = args.reuse and conn.execute(text("SELECT count(*) FROM ticket_episodes")).scalar_one() > 0
        for t_rows, e_rows, ep_rows in ([] if loaded else generate(args.contacts, args.tickets)):
            with engine.begin() as conn:
                if t_rows:
                    conn.execute(db.tickets.insert(), t_rows)
                if e_rows:
                    conn.execute(db.ticket_events.insert(), e_rows)
                if ep_rows:
                    conn.execute(db.ticket_episodes.insert(), ep_rows)
            n_t, n_e, n_ep = n_t + len(t_rows), n_e + len(e_rows), n_ep + len(ep_rows)
        if engine.dialect.name == "postgresql":  # as autovacuum leaves a table that has settled: visibility map set
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        load_s = time.perf_counter() - t0
        load = os.getloadavg()[0]
        print("reused the loaded database; " if loaded else "", end="")
        print(f"loaded {n_t:,} tickets, {n_e:,} contacts, {n_ep:,} episodes into {engine.dialect.name} "
              f"in {load_s:.1f} s (load average {load:.1f} on {os.cpu_count()} CPUs: figures below are inflated by it)")
        now = datetime(2027, 1, 2, tzinfo=UTC)
        year = (date(2026, 1, 1), date(2026, 12, 31))
        worst = 0.0
        for label, rng in [("year by day", mt.Range(*year, "day")), ("year by week", mt.Range(*year, "week")),
                           ("last 28 days by day", mt.Range(date(2026, 12, 4), date(2026, 12, 31), "day"))]:
            ms, out = timed(engine, rng, now, args.runs)
            tot = out["total"]
            print(f"{label:22s} {ms:8.1f} ms  ({len(out['buckets'])} buckets; {tot['contacts']:,} episodes, "
                  f"reply median {tot['reply_median_s']} s p90 {tot['reply_p90_s']} s, "
                  f"closed within 4 h {tot['closed_within_4h_share']})")
            if label.startswith("year"):
                worst = max(worst, ms)
        engine.dispose()
    print(f"touchpoint_metric_year: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
