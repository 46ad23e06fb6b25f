"""Headless sync for operations and tests: ``python main.py sync --once`` / ``--status``.

``--once`` logs in, pushes the outbox, pulls until up to date and prints what it did;
``--status`` prints the local picture (orders, pending actions, conflicts, cursor, last sync)
without touching the network unless ``--hub`` is given (then it also says whether the hub
answers). Hub, station and bench default to the settings file; ``--pin`` may come from
``PACKDESK_PIN`` so it is not left in shell history. Exit codes: 0 done, 1 hub problem,
2 local problem (settings, store, usage).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TextIO

from core.errors import UserError
from core.settings import load_settings
from core.store import LocalStore, open_store
from core.sync.client import HubClient, HubError
from core.sync.engine import SyncConfig, SyncEngine

log = logging.getLogger("packdesk.sync")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="main.py sync", description="Sync this station's local store with the hub."
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="push the outbox and pull changes once, then exit")
    mode.add_argument("--status", action="store_true", help="print the local sync status")
    p.add_argument("--hub", help="hub URL (default: settings hub_url)")
    p.add_argument("--station", help="station name (default: settings station)")
    p.add_argument("--bench", help="bench (default: settings bench)")
    p.add_argument("--operator", help="operator code to log in with")
    p.add_argument("--pin", help="PIN (or set PACKDESK_PIN)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each hub answer")
    return p


def main(argv: list[str], out: TextIO | None = None) -> int:
    """Run the sync command; returns the process exit code."""
    out = out or sys.stdout
    if argv and argv[0] == "sync":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    try:
        settings = load_settings()
        store = open_store()
    except UserError as exc:
        print(f"error: {exc.message}", file=out)
        return 2
    hub_url = args.hub or settings.hub_url
    station = args.station or settings.station
    bench = args.bench if args.bench is not None else settings.bench
    try:
        if args.status:
            return _status(store, hub_url if args.hub else None, out)
        if not hub_url or not station:
            print(
                "error: no hub URL or station name (give --hub and --station, or set them in the settings)",
                file=out,
            )
            return 2
        operator = args.operator
        pin = args.pin or os.environ.get("PACKDESK_PIN", "")
        if not operator or not pin:
            print("error: give --operator and --pin (or PACKDESK_PIN) to log in to the hub", file=out)
            return 2
        engine = SyncEngine(
            store,
            SyncConfig(
                hub_url=hub_url,
                station=station,
                bench=bench or None,
                device_id=settings.device_id,
                read_timeout_s=args.timeout,
            ),
        )
        before = store.pending_count()
        try:
            info = engine.login(operator, pin)
            print(
                f"logged in: {info.operator} ({info.role}) on {info.station} bench {info.bench or '-'} at {hub_url}",
                file=out,
            )
            report = engine.sync_once()
        except HubError as exc:
            # "offline" is for trouble that passes (network, hub down or failing); a refused login
            # or a hub that answers for another station needs someone to act.
            print(f"{'offline' if exc.retryable else 'refused'}: {exc.message}", file=out)
            print(f"pending: {store.pending_count()} (kept, will be sent later)", file=out)
            return 1
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "none"
        print(f"pushed: {report.pushed} of {before} pending ({outcomes})", file=out)
        print(
            f"pulled: {report.pulled} order updates{' (full re-sync)' if report.full_resync else ''}"
            f"{f', {report.dropped} dropped' if report.dropped else ''}",
            file=out,
        )
        print(f"cursor: {report.cursor}", file=out)
        print(
            f"pending: {store.pending_count()}  conflicts: {store.conflict_count()}  "
            f"orders: {store.count_orders()}",
            file=out,
        )
        return 0
    except UserError as exc:
        print(f"error: {exc.message}", file=out)
        return 2
    finally:
        store.close()


def _status(store: LocalStore, hub_url: str | None, out: TextIO) -> int:
    print(f"store: {store.path}", file=out)
    print(f"orders: {store.count_orders()}", file=out)
    print(f"pending: {store.pending_count()}", file=out)
    print(f"conflicts: {store.conflict_count()}", file=out)
    cursor = store.cursor()
    print(f"cursor: {cursor if cursor is not None else 'none (full sync needed)'}", file=out)
    print(f"last success: {store.meta('last_success') or 'never'}", file=out)
    if hub_url:
        client = HubClient(hub_url, read_timeout_s=5.0)
        try:
            health = client.health()
            print(f"hub: online ({hub_url}, head {health.get('head')})", file=out)
        except HubError as exc:
            print(f"hub: offline ({exc.message})", file=out)
            return 1
        finally:
            client.close()
    return 0
