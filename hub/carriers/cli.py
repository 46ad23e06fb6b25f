"""``python main.py hub carriers add|list|pause|resume``: e-waybill accounts from the command line,
straight on the database (a serving hub uses a new account for the next allocation).

Secret settings (``--secret AppKey`` …) are read from ``$PACKDESK_CARRIER_<NAME>`` (upper case,
e.g. ``$PACKDESK_CARRIER_APPKEY``) or a prompt that does not echo — never from the command line,
where they would land in the shell history and the process list. Nothing here prints a setting's
value: ``list`` shows which settings are set, by name.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from core.errors import UserError, ValidationFailed
from hub import db
from hub.carriers import queue, store
from hub.config import HubSettings


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    ca = sub.add_parser("carriers", parents=[common], help="e-waybill accounts: add, list, pause, resume")
    cs = ca.add_subparsers(dest="carriers_cmd", metavar="{add,list,pause,resume}", required=True)
    a = cs.add_parser("add", parents=[common], help="give a carrier its e-waybill account (docs/carriers.md)")
    a.add_argument("--carrier", required=True, help="the carrier's code in the rules file, e.g. ZTO")
    a.add_argument("--provider", required=True, help="kdniao (快递鸟) or demo")
    a.add_argument("--base-url", default="", help="the provider's endpoint, e.g. https://api.kdniao.com/api/EOrderService")
    for f in store.SENDER_FIELDS:
        a.add_argument(f"--sender-{f}", default="", help=f"the sender's {f} (printed on every waybill)")
    a.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                   help="a provider setting that is not secret (EBusinessID, ShipperCode, PayType …); repeatable")
    a.add_argument("--secret", action="append", default=[], metavar="KEY",
                   help="a secret setting (AppKey, CustomerPwd …): its value from $PACKDESK_CARRIER_<KEY> or a prompt")
    a.add_argument("--paused", action="store_true", help="add it paused")
    cs.add_parser("list", parents=[common], help="every account (setting names only) and its queue")
    for name, text in (("pause", "stop calling this account's provider"), ("resume", "call it again")):
        p = cs.add_parser(name, parents=[common], help=text)
        p.add_argument("id", type=int, help="the account's id (see: carriers list)")


def _pairs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"--setting takes KEY=VALUE, not {pair.split('=')[0]!r}…")
        out[key.strip()] = value
    return out


def _secret(key: str) -> str:
    env = os.environ.get(f"PACKDESK_CARRIER_{key.upper()}")
    if env:
        return env
    if not sys.stdin.isatty():
        raise UserError(f"No value for {key}: set $PACKDESK_CARRIER_{key.upper()} or run this in a terminal.")
    return getpass.getpass(f"{key} (not shown): ")


def run(settings: HubSettings, args: argparse.Namespace) -> int:
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    try:
        cmd = args.carriers_cmd
        if cmd == "add":
            values = _pairs(args.setting)
            for key in args.secret:
                values[key] = _secret(key)
            sender = {f: getattr(args, f"sender_{f}") for f in store.SENDER_FIELDS}
            with engine.begin() as conn:
                aid = store.add(conn, carrier=args.carrier, provider=args.provider, base_url=args.base_url,
                                sender=sender, settings=values, enabled=not args.paused)
            print(f"carrier account {aid} added: {args.carrier.upper()} through {args.provider}"
                  f"{' (paused)' if args.paused else ''}; settings: {', '.join(sorted(values)) or 'none'}")
        elif cmd == "list":
            with engine.begin() as conn:
                rows, waiting = store.list_accounts(conn), queue.waiting(conn)
            for r in rows:
                q = waiting.get(r["carrier"], {})
                err = f"  last error: {r['last_error']} (since {r['failing_since']})" if r["last_error"] else ""
                print(f"{r['id']:>3} {r['carrier']:<8} {r['provider']:<8} {'on ' if r['enabled'] else 'paused'} "
                      f"awaiting waybill {q.get('awaiting_waybill', 0)}  cancels pending {q.get('cancels_pending', 0)}  "
                      f"settings {', '.join(r['setting_keys']) or '-'}{err}")
            if not rows:
                print("no carrier accounts: every carrier gets demo numbers")
        else:
            with engine.begin() as conn:
                store.set_enabled(conn, args.id, cmd == "resume")
            print(f"carrier account {args.id} {'resumed' if cmd == 'resume' else 'paused'}")
    finally:
        engine.dispose()
    return 0
