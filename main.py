"""PackDesk: start the desktop app, or a headless command.

    python main.py                 the bench/desk app (starts an embedded hub if none is configured)
    python main.py --demo          the same, with demo orders loaded
    python main.py --hub URL       use a site hub for this run (the settings dialog saves it)
    python main.py hub …           serve the order hub for a multi-bench site (see hub/__main__.py)
    python main.py sync …          headless sync for operations and tests (see core/sync/cli.py)
    python main.py --self-test     check this installation end to end, headless (docs/build.md)
    python main.py --measure-startup   print the time to the login window, then exit (docs/build.md)
"""

from __future__ import annotations

import sys
import time

STARTED = time.perf_counter()  # before the heavy imports: --measure-startup counts from here


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hub"]:
        from hub.__main__ import main as hub_main

        return hub_main(argv[1:])
    if argv[:1] == ["sync"]:
        from core.sync.cli import main as sync_main

        return sync_main(argv[1:])
    if argv[:1] == ["--self-test"]:
        from ui.self_test import main as self_test_main

        return self_test_main()
    # This PC's own hub starts now, beside the GUI's imports, not after them (docs/build.md).
    from ui.embedded_hub import launch_early

    hub = launch_early(argv)
    from ui.app import run

    return run(argv, STARTED, hub)


if __name__ == "__main__":
    sys.exit(main())
