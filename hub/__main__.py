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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packdesk hub", description="PackDesk order hub")
    p.add_argument("--config", help="hub settings TOML (also $PACKDESK_HUB_CONFIG)")
    p.add_argument("--db", help="database URL, e.g. sqlite:///hub.db or postgresql://user@host/db")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("serve", help="serve the HTTP API (default)")
    sp = sub.add_parser("set-pin", help="create or update an operator")
    sp.add_argument("code")
    sp.add_argument("--name", required=True)
    sp.add_argument("--role", required=True, choices=["packer", "desk", "supervisor", "admin"])
    sp.add_argument("--pin", required=True)
    dp = sub.add_parser("demo", help="load N demo orders (through the intake path)")
    dp.add_argument("n", type=int)
    dp.add_argument("--seed", type=int, default=1)
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
