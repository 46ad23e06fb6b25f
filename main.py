"""PackDesk: start the desktop app, or a headless command.

    python main.py                 the bench/desk app (starts an embedded hub if none is configured)
    python main.py --demo          the same, with demo orders loaded
    python main.py --hub URL       use a site hub for this run (the settings dialog saves it)
    python main.py hub …           serve the order hub for a multi-bench site (see hub/__main__.py)
    python main.py sync …          headless sync for operations and tests (see core/sync/cli.py)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hub"]:
        from hub.__main__ import main as hub_main

        return hub_main(argv[1:])
    if argv[:1] == ["sync"]:
        from core.sync.cli import main as sync_main

        return sync_main(argv[1:])
    from ui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
