"""``python -m hub`` / ``python main.py hub``: serve the hub, or manage operators and stations.

Usage:
    python main.py hub [serve] [--host H] [--port P] [--db URL] [--config FILE] [--demo]
                             [--approve-station NAME --approve-bench B1 --approve-device ID]
    python main.py hub set-pin CODE --name NAME --role packer|desk|supervisor|admin --pin PIN
    python main.py hub deactivate CODE
    python main.py hub unlock CODE [--station NAME]     # lift a login lockout
    python main.py hub station list [--status pending|approved|revoked]
    python main.py hub station approve NAME [--bench B1] [--device ID]
    python main.py hub station revoke NAME
    python main.py hub station move NAME --bench B2
    python main.py hub demo N [--demo]   # push N demo orders through intake (--demo: and the demo operators)
    python main.py hub connector add --platform douyin --shop-id ID --app-key KEY --base-url URL
                                     [--interval 15] [--extra key=value ...] [--lookback-hours 24]
                                     # the AppSecret from $PACKDESK_APP_SECRET or a prompt
    python main.py hub connector list | test ID | pause ID | resume ID
    python main.py hub carriers add --carrier ZTO --provider kdniao --base-url URL --sender-name … \
                                    --setting EBusinessID=ID --secret AppKey   # $PACKDESK_CARRIER_APPKEY or a prompt
    python main.py hub carriers list | pause ID | resume ID

``--demo`` makes a demo hub: demo channel secrets, demo operators, stations approved on first
login. Never for a real site (docs/security.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from types import FrameType
from typing import Any

from core.errors import UserError


def _add_common(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", metavar="FILE", default=default,
                   help="hub settings TOML (also $PACKDESK_HUB_CONFIG; keys: see README.md)")
    p.add_argument("--db", metavar="URL", default=default,
                   help="database URL, e.g. sqlite:///hub.db or postgresql://user@host/db "
                        "(default: hub.db in the user data folder; also $PACKDESK_HUB_DB)")
    p.add_argument("--host", default=default, help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    p.add_argument("--port", type=int, default=default, help="TCP port (default 8765)")
    p.add_argument("--demo", action="store_true", default=default if default is not None else False,
                   help="demo hub: demo secrets and operators, stations approved on first login (never for real)")


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
    sub = p.add_subparsers(dest="cmd", metavar="{serve,set-pin,deactivate,unlock,station,demo,connector,carriers}")
    sv = sub.add_parser("serve", parents=[common], help="serve the HTTP API (default)")
    # The embedded hub of a one-PC shop (ui/embedded_hub.py): approve this PC's station, then serve,
    # in one process — a second hub process before it would double the app's start-up time.
    sv.add_argument("--approve-station", metavar="NAME", help="first approve this station (as 'station approve')")
    sv.add_argument("--approve-bench", metavar="BENCH", default="", help="its bench ('' for a desk PC)")
    sv.add_argument("--approve-device", metavar="ID", help="bind it to this device id")
    sp = sub.add_parser("set-pin", parents=[common], help="create or update an operator")
    sp.add_argument("code", help="operator code, e.g. P003")
    sp.add_argument("--name", required=True, help="the operator's name as shown on screen")
    sp.add_argument("--role", required=True, choices=["packer", "desk", "supervisor", "admin"])
    sp.add_argument("--pin", required=True, help="4 to 8 digits")
    de = sub.add_parser("deactivate", parents=[common], help="stop an operator's logins and end their tokens")
    de.add_argument("code")
    un = sub.add_parser("unlock", parents=[common], help="lift the login back-off/lockout of an operator code")
    un.add_argument("code", nargs="?", help="operator code, e.g. P002")
    un.add_argument("--station", help="also (or only) lift a station's")
    st = sub.add_parser("station", parents=[common], help="list, approve, revoke or move stations")
    st_sub = st.add_subparsers(dest="station_cmd", metavar="{list,approve,revoke,move}", required=True)
    sl = st_sub.add_parser("list", parents=[common], help="every station with its status and request")
    sl.add_argument("--status", choices=["pending", "approved", "revoked"])
    sa = st_sub.add_parser("approve", parents=[common], help="let a station act (bound to the device that asked)")
    sa.add_argument("name")
    sa.add_argument("--bench", help="its bench (default: the one it asked for); '' for a desk PC")
    sa.add_argument("--device", help="bind to this device id (default: the device that asked)")
    sr = st_sub.add_parser("revoke", parents=[common], help="the station can do nothing; its tokens end now")
    sr.add_argument("name")
    sm = st_sub.add_parser("move", parents=[common], help="put a station on another bench")
    sm.add_argument("name")
    sm.add_argument("--bench", required=True, help="the new bench; '' for a desk PC")
    dp = sub.add_parser("demo", parents=[common], help="load N demo orders (through the intake path)")
    dp.add_argument("n", type=int, help="how many orders")
    dp.add_argument("--seed", type=int, default=1, help="random seed (same seed, same orders)")
    _add_connector_parser(sub, common)
    from hub.carriers.cli import add_parser as add_carriers_parser

    add_carriers_parser(sub, common)
    return p


def _add_connector_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    co = sub.add_parser("connector", parents=[common], help="shop connectors: add, list, test, pause, resume")
    co_sub = co.add_subparsers(dest="connector_cmd", metavar="{add,list,test,pause,resume}", required=True)
    ca = co_sub.add_parser("add", parents=[common], help="connect a shop (the AppSecret from $PACKDESK_APP_SECRET "
                                                         "or a prompt, never the command line)")
    ca.add_argument("--platform", required=True, help="douyin, pinduoduo, wechat or xiaohongshu")
    ca.add_argument("--shop-id", required=True, help="the shop's id on the platform")
    ca.add_argument("--app-key", required=True, help="the app's AppKey / client_id / appid")
    ca.add_argument("--app-secret", help="NOT recommended (it lands in the shell history): use "
                                         "$PACKDESK_APP_SECRET or the prompt")
    ca.add_argument("--base-url", required=True, help="the platform's API root (docs/channels.md)")
    ca.add_argument("--interval", type=float, default=15.0, help="seconds between pulls (default 15)")
    ca.add_argument("--lookback-hours", type=float, default=24.0, help="pull orders updated this far back (default 24)")
    ca.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                    help="a platform setting (refresh_token, push token …; docs/channels.md); repeatable")
    ca.add_argument("--paused", action="store_true", help="add it paused (test it first)")
    co_sub.add_parser("list", parents=[common], help="every connector with its health (never the secret)")
    for name, text in (("test", "acquire a token and list the last five minutes"),
                       ("pause", "stop pulling this shop"), ("resume", "pull this shop again")):
        cp = co_sub.add_parser(name, parents=[common], help=text)
        cp.add_argument("id", type=int, help="the connector's id (see: connector list)")


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
        if getattr(args, "demo", False):
            settings.demo = True
        if args.cmd in ("set-pin", "deactivate", "unlock", "station"):
            return _manage(settings, args)
        if args.cmd == "connector":
            from hub.channels.cli import run_connector_command

            return run_connector_command(settings, args)
        if args.cmd == "carriers":
            from hub.carriers.cli import run as run_carriers_command

            return run_carriers_command(settings, args)
        if args.cmd == "demo":
            from hub.demo import load_demo

            print(load_demo(settings, args.n, seed=args.seed))
            return 0
        if getattr(args, "approve_station", None):
            _manage(settings, argparse.Namespace(cmd="station", station_cmd="approve", name=args.approve_station,
                                                 bench=args.approve_bench, device=args.approve_device))
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
    hub = app.state.hub

    class Server(uvicorn.Server):
        """uvicorn's server that, asked to exit, first answers the hub's waiting long-polls.

        uvicorn waits for open requests before stopping, and each long-poll holds one for up to
        30 s: a hub with benches attached took that long to stop (``feed.ChangeTail.stop``).
        """

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            with contextlib.suppress(RuntimeError):  # no loop running yet: nothing waits
                asyncio.get_running_loop().call_soon_threadsafe(hub.tail.stop)
            super().handle_exit(sig, frame)

    # What was loaded to get here (modules, the app, the rules) lives as long as the process: out
    # of the garbage collector's sight, its full collections stop walking it over and over while
    # a busy intake makes objects by the hundred thousand (issue 18: ~4 % of intake CPU).
    gc.freeze()
    Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                          access_log=False)).run()
    return 0


def _manage(settings: object, args: argparse.Namespace) -> int:
    """Operator and station commands, straight on the database (a hub may be serving meanwhile)."""
    from core.roles import Role
    from hub import auth, db
    from hub.config import HubSettings
    from hub.routing import Rules

    assert isinstance(settings, HubSettings)
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    benches = (Rules.load(settings.rules_path) if settings.rules_path else Rules.default()).benches
    try:
        with engine.begin() as conn:
            if args.cmd == "set-pin":
                auth.set_operator(conn, args.code, args.name, Role(args.role), args.pin)
                print(f"operator {args.code} saved (any earlier login of {args.code} has ended)")
            elif args.cmd == "deactivate":
                auth.deactivate_operator(conn, args.code)
                print(f"operator {args.code} deactivated; their tokens have ended")
            elif args.cmd == "unlock":
                auth.unlock(conn, operator=args.code, station=args.station)
                print(f"unlocked {' and '.join(x for x in (args.code, args.station) if x)}")
            elif args.station_cmd == "list":
                rows = auth.list_stations(conn, args.status)
                for r in rows:
                    ask = (f"  asked by {r['requested_by']} at {r['requested_at']} for bench "
                           f"{r['requested_bench'] or '-'} from device {r['requested_device_id']}"
                           if r["requested_by"] else "")
                    print(f"{r['name']:<20} {r['status']:<9} bench {r['bench'] or '-':<6} "
                          f"device {r['device_id'] or '-'}{ask}")
                if not rows:
                    print("no stations")
            elif args.station_cmd == "approve":
                doc = auth.approve_station(conn, args.name, bench=args.bench, device_id=args.device, by="cli",
                                           benches=benches, create=True)
                print(f"station {doc['name']} approved on bench {doc['bench'] or '-'} "
                      f"(device {doc['device_id'] or 'bound at its first login'})")
            elif args.station_cmd == "revoke":
                auth.revoke_station(conn, args.name, by="cli")
                print(f"station {args.name} revoked; its tokens have ended")
            else:
                doc = auth.move_station(conn, args.name, bench=args.bench, by="cli", benches=benches)
                print(f"station {doc['name']} now on bench {doc['bench'] or '-'}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
