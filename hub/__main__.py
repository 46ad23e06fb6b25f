"""``python -m hub`` / ``python main.py hub``: serve the hub, or manage operators.

Usage:
    python main.py hub [serve] [--host H] [--port P] [--db URL] [--config FILE]
    python main.py hub set-pin CODE --name NAME --role packer|desk|supervisor|admin --pin PIN
    python main.py hub demo N        # push N demo orders through intake
"""

from __future__ import annotations

import argparse
import logging
import sys

from core.errors import UserError


def _add_common(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", metavar="FILE", default=default,
                   help="hub settings TOML (also $PACKDESK_HUB_CONFIG; keys: see README.md)")
    p.add_argument("--db", metavar="URL", default=default,
                   help="database URL, e.g. sqlite:///hub.db or postgresql://user@host/db "
                        "(default: hub.db in the user data folder; also $PACKDESK_HUB_DB)")
    p.add_argument("--host", default=default, help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    p.add_argument("--port", type=int, default=default, help="TCP port (default 8765)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py hub",
        description="PackDesk order hub: the central order API that benches and desk PCs sync with.",
        epilog="With no command the hub serves its HTTP API. Options may also follow the command "
               "(python main.py hub serve --port 9000).")
    _add_common(p, None)
    # Sub-commands take the same options; SUPPRESS keeps one given before the command.
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="cmd", metavar="{serve,set-pin,demo}")
    sub.add_parser("serve", parents=[common], help="serve the HTTP API (default)")
    sp = sub.add_parser("set-pin", parents=[common], help="create or update an operator")
    sp.add_argument("code", help="operator code, e.g. P003")
    sp.add_argument("--name", required=True, help="the operator's name as shown on screen")
    sp.add_argument("--role", required=True, choices=["packer", "desk", "supervisor", "admin"])
    sp.add_argument("--pin", required=True, help="4 to 8 digits")
    dp = sub.add_parser("demo", parents=[common], help="load N demo orders (through the intake path)")
    dp.add_argument("n", type=int, help="how many orders")
    dp.add_argument("--seed", type=int, default=1, help="random seed (same seed, same orders)")
    return p


def main(argv: list[str] | None = None) -> int:
    from core.logsetup import setup_logging
    from hub.config import load_settings

    args = build_parser().parse_args(argv)
    setup_logging("hub")
    try:
        settings = load_settings(args.config)
        if args.db:
            settings.database_url = args.db
        if args.host:
            settings.host = args.host
        if args.port:
            settings.port = args.port
        if args.cmd == "set-pin":
            return _set_pin(settings, args)
        if args.cmd == "demo":
            from hub.demo import load_demo

            print(load_demo(settings, args.n, seed=args.seed))
            return 0
        return serve(settings)
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


def serve(settings: object) -> int:
    import uvicorn

    from hub.app import create_app
    from hub.config import HubSettings

    assert isinstance(settings, HubSettings)
    app = create_app(settings)
    logging.getLogger("packdesk.hub").info("hub on http://%s:%d (%s)", settings.host, settings.port,
                                           settings.database_url.split("@")[-1])
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


def _set_pin(settings: object, args: argparse.Namespace) -> int:
    from core.roles import Role
    from hub import auth, db
    from hub.config import HubSettings

    assert isinstance(settings, HubSettings)
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    with engine.begin() as conn:
        auth.set_operator(conn, args.code, args.name, Role(args.role), args.pin)
    print(f"operator {args.code} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
