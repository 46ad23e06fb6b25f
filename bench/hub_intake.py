"""Hub intake throughput: demo orders through POST /api/v1/intake/generic, SQLite and PostgreSQL.

Beside it, in the same run, a raw SQLAlchemy Core insert of the same order rows into the same
database kind: the floor the hub's own work (validation, routing, IDs, stock, audit, change feed)
sits on. The last line is the worse backend's intake rate as a share of its own raw insert rate
(issue 18: target >= 20 %); the machine is shared, so compare figures of one run, not across runs.

An informational line per backend adds a second floor: the rows intake really wrote (the order row,
its audit lines, its change-feed row) read back and inserted raw with Core into a fresh database with
the hub's own schema and indexes. The issue's baseline is one row per order into a table with no
index; this one says how far intake is from writing its own rows at the database's pace.

    python bench/hub_intake.py [--orders 20000] [--batch 100] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table

from core.demo import generate_orders
from core.model import intake_to_json
from hub import db
from hub.intake import SIGNATURE_HEADER, sign
from tests.hubproc import HubProcess, fresh_pg_database, postgres_available


def raw_insert_rate(url: str, docs: list[dict]) -> float:
    engine = db.make_engine(url)
    md = MetaData()
    t = Table("raw_orders", md, Column("id", Integer, primary_key=True), Column("channel_order_no", String(64)),
              Column("doc", JSON))
    md.create_all(engine)
    t0 = time.perf_counter()
    for i in range(0, len(docs), 100):
        with engine.begin() as conn:
            conn.execute(t.insert(), [{"channel_order_no": d["channel_order_no"], "doc": d} for d in docs[i : i + 100]])
    rate = len(docs) / (time.perf_counter() - t0)
    engine.dispose()
    return rate


#: The tables intake writes per order (one order row, its audit lines, its change-feed row).
HUB_ROW_TABLES = ("orders", "audit", "changes")


def hub_rows_rate(src_url: str, dst_url: str, batch: int) -> tuple[float, float]:
    """An informational floor beside the issue's baseline: the rows intake actually wrote (orders,
    audit lines, change-feed rows, read back from the intake run's database) inserted raw with
    SQLAlchemy Core, ``batch`` orders' rows per transaction, into a fresh database with the hub's own
    schema and indexes. Returns (orders/s, rows per order)."""
    src = db.make_engine(src_url)
    tables = [db.metadata.tables[name] for name in HUB_ROW_TABLES]
    try:
        with src.connect() as c:
            rows = {t.name: [dict(r._mapping) for r in c.execute(t.select())] for t in tables}
    finally:
        src.dispose()
    by_order: dict[str, dict[str, list[dict]]] = {}
    for t in tables:
        for r in rows[t.name]:
            by_order.setdefault(str(r.get("order_id")), {}).setdefault(t.name, []).append(r)
    ids = sorted(i for i in by_order if any(o for o in by_order[i].get("orders", [])))
    dst = db.make_engine(dst_url)
    db.migrate(dst)
    try:
        t0 = time.perf_counter()
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            with dst.begin() as c:
                for t in tables:
                    batch_rows = [r for oid in chunk for r in by_order[oid].get(t.name, [])]
                    if batch_rows:
                        c.execute(t.insert(), batch_rows)
        rate = len(ids) / (time.perf_counter() - t0)
    finally:
        dst.dispose()
    return rate, sum(len(v) for v in rows.values()) / max(len(ids), 1)


def intake_rate(hub_url: str, bodies: list[bytes], threads: int) -> float:
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    http.mount("http://", adapter)

    def post(body: bytes) -> int:
        r = http.post(f"{hub_url}/api/v1/intake/generic", data=body, timeout=120,
                      headers={SIGNATURE_HEADER: sign(b"demo-secret-generic", body)})
        r.raise_for_status()
        return int(r.json()["accepted"])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        n = sum(pool.map(post, bodies))
    return n / (time.perf_counter() - t0)


def run_backend(name: str, url: str, home: Path, docs: list[dict], batch: int, threads: int) -> tuple[float, float]:
    bodies = [json.dumps({"orders": docs[i : i + batch]}, ensure_ascii=False).encode() for i in range(0, len(docs), batch)]
    hub = HubProcess(home / name, db_url=url).start()
    try:
        rate = intake_rate(hub.url, bodies, threads)
    finally:
        hub.stop()
    return rate, raw_insert_rate(url, docs)


def print_hub_rows(name: str, intake: float, raw: float, src_url: str, dst_url: str, batch: int) -> None:
    """The second floor, and what a hub that did nothing but write its own rows would score on the
    issue's ratio: the ceiling of that ratio for any intake that writes these rows (docs/intake.md)."""
    rate, per_order = hub_rows_rate(src_url, dst_url, batch)
    print(f"{name:<11} (informational) raw Core insert of the hub's own rows ({'/'.join(HUB_ROW_TABLES)}, "
          f"{per_order:.1f} rows per order, the hub's schema and indexes): {rate:8.0f} orders/s; "
          f"intake is {100 * intake / rate:5.1f} % of it; writing only these rows would be "
          f"{100 * rate / raw:5.1f} % of the one-row raw insert")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    docs = [intake_to_json(o) for o in generate_orders(args.orders, seed=2026)]
    results: dict[str, float] = {}
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        rate, raw = run_backend("sqlite", f"sqlite:///{home / 'hub.db'}", home, docs, args.batch, args.threads)
        print(f"sqlite:     intake {rate:8.0f} orders/s   raw Core insert {raw:8.0f} rows/s   ({args.orders} orders, "
              f"batches of {args.batch}, {args.threads} pushers)")
        results["sqlite"] = rate
        ratios["sqlite"] = rate / raw
        print_hub_rows("sqlite:", rate, raw, f"sqlite:///{home / 'hub.db'}", f"sqlite:///{home / 'rows.db'}", args.batch)
        reason = postgres_available()
        if reason:
            print(f"postgresql: skipped ({reason})")
        else:
            with fresh_pg_database() as url, fresh_pg_database() as raw_url, fresh_pg_database() as rows_url:
                hub_home = home / "pg"
                hub_home.mkdir()
                bodies_rate, _ = run_backend("postgres", url, hub_home, docs, args.batch, args.threads)
                raw = raw_insert_rate(raw_url, docs)
                print(f"postgresql: intake {bodies_rate:8.0f} orders/s   raw Core insert {raw:8.0f} rows/s")
                print_hub_rows("postgresql:", bodies_rate, raw, url, rows_url, args.batch)
            results["postgresql"] = bodies_rate
            ratios["postgresql"] = bodies_rate / raw
    for name, ratio in ratios.items():
        print(f"{name + ':':11} intake is {100 * ratio:5.1f} % of the raw insert rate")
    worst = min(results.values())
    day = 86_000 / worst
    print(f"86,000-order day at the slower backend: {day:.0f} s")
    print(f"hub_intake: {worst:.0f} orders/s (target ≥ 500 orders/s, i.e. 86,000 in < 180 s)")
    worse = min(ratios, key=lambda k: ratios[k])
    print(f"the worse ratio: {worse}")
    print(f"hub_intake_ratio: {100 * ratios[worse]:.1f} % of raw (target ≥ 20 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
