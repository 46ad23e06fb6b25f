"""``python main.py hub connector add|list|test|pause|resume``: shop connectors from the command line,
straight on the database (a hub may be serving meanwhile; it picks a new connector up within a
second or so).

The AppSecret is read from ``$PACKDESK_APP_SECRET`` or a prompt that does not echo; ``--app-secret``
works but warns, because a secret on the command line lands in the shell history and the process
list. Nothing here prints a secret or a token.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from core.errors import UserError, ValidationFailed
from hub import db
from hub.channels import store
from hub.channels.base import PlatformError
from hub.config import HubSettings

SECRET_ENV = "PACKDESK_APP_SECRET"


def _secret(args: argparse.Namespace) -> str:
    if args.app_secret:
        print("warning: --app-secret puts the secret in your shell history and the process list; prefer "
              f"${SECRET_ENV} or the prompt.", file=sys.stderr)
        return str(args.app_secret)
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        raise UserError(f"No AppSecret: set ${SECRET_ENV} or run this in a terminal to be asked for it.")
    return getpass.getpass("AppSecret (not shown): ")


def _extra(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValidationFailed(f"--extra takes KEY=VALUE, not {pair.split('=')[0]!r}…")
        out[key.strip()] = value
    return out


def _line(c: dict[str, Any]) -> str:
    h = c["health"]
    lag = f"{h['lag_s']:.0f} s" if h["lag_s"] is not None else "-"
    err = f"  last error: {h['last_error']} (since {h['failing_since']})" if h["last_error"] else ""
    return (f"{c['id']:>3} {c['platform']:<12} shop {c['shop_id']:<16} {h['state']:<8} every {c['interval_s']:g} s  "
            f"last pull {h['last_pull_at'] or '-'}  lag {lag}  orders today {h['orders_today']}{err}")


def run_connector_command(settings: HubSettings, args: argparse.Namespace) -> int:
    """Run one ``connector`` sub-command; returns the exit code (1: the connector test failed)."""
    from hub.api.connectors import explain
    from hub.channels.engine import check_connector

    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    try:
        cmd = args.connector_cmd
        if cmd == "add":
            secret = _secret(args)
            with engine.begin() as conn:
                cid = store.add(conn, platform=args.platform, shop_id=args.shop_id, app_key=args.app_key,
                                app_secret=secret, base_url=args.base_url, interval_s=args.interval,
                                extra=_extra(args.extra), enabled=not args.paused,
                                lookback_s=args.lookback_hours * 3600)
            print(f"connector {cid} added: {args.platform} shop {args.shop_id}"
                  f"{' (paused)' if args.paused else ''}; check it with: connector test {cid}")
        elif cmd == "list":
            with engine.begin() as conn:
                rows = store.list_connectors(conn)
            for r in rows:
                print(_line(r))
            if not rows:
                print("no connectors")
        elif cmd == "test":
            with engine.begin() as conn:
                cfg = store.config(conn, args.id)
            try:
                result = check_connector(cfg)
            except PlatformError as exc:
                print(f"connector {args.id} test failed: {explain(exc)}", file=sys.stderr)
                return 1
            with engine.begin() as conn:
                store.save_token(conn, args.id, result["token"])
            print(f"connector {args.id} works: token acquired, {result['orders_in_window']} orders updated in the "
                  "last five minutes" + (" (more on further pages)" if result["more_pages"] else ""))
        else:
            with engine.begin() as conn:
                store.set_enabled(conn, args.id, cmd == "resume")
            print(f"connector {args.id} {'resumed' if cmd == 'resume' else 'paused'}")
    finally:
        engine.dispose()
    return 0
