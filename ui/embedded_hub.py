"""The embedded hub: the same hub code as a child process on 127.0.0.1, for a one-PC shop.

Why a child process and not a thread: the hub is a uvicorn server with its own event loop and
database engine; in a separate process it cannot stall the GUI, a crash in it cannot take the app
down, and stopping it is a plain SIGTERM. Its SQLite file lives in the user data folder
(``<data dir>/hub.db``) and its log next to the app's.

Blocking calls (:meth:`EmbeddedHub.start`, :meth:`EmbeddedHub.load_demo`,
:meth:`EmbeddedHub.approve_local_station`) run on a worker thread; ``ui/app.py`` shows a progress
dialog meanwhile. Nothing here imports Qt.

Demo or real: with ``python main.py --demo`` the child is a demo hub (``--demo``: demo operators,
stations approved on first login). Otherwise it is a real hub like a site's: no demo operators
(the first admin is made with ``python main.py hub set-pin``), and this PC's own station is
approved by the hub process itself before it serves (``serve --approve-station``: one process, not
two, at each start) — the one PC of a one-PC shop is trusted by being the machine the hub's
database lives on (docs/security.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from core import paths
from core.errors import UserError
from core.i18n import _

log = logging.getLogger("packdesk.ui.embedded_hub")

ROOT = Path(__file__).resolve().parents[1]
DEMO_ORDERS = 300


def free_port() -> int:
    """A TCP port nothing listens on right now (the hub binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_command() -> list[str]:
    """How to start the hub's CLI: ``python -m hub`` from source; in the installed bundle (PyInstaller,
    ``sys.frozen``) there is no ``python -m``, so the bundle's own exe runs ``packdesk hub …``
    (main.py's dispatch)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "hub"]
    return [sys.executable, "-m", "hub"]


class EmbeddedHubError(UserError):
    code = "embedded_hub_failed"


class EmbeddedHub:
    """One hub child process.

    Args:
        data_dir: where ``hub.db`` lives (default: the user data folder).
        port: the port to serve on (default: a free one).
        home: ``PACKDESK_HOME`` for the child (default: this process's, if set).
        demo: serve a demo hub (``--demo``); :meth:`load_demo` sets it too.
    """

    def __init__(self, data_dir: Path | None = None, *, port: int | None = None, home: str | None = None,
                 demo: bool = False) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.db_url = f"sqlite:///{self.data_dir / 'hub.db'}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home if home is not None else os.environ.get(paths.HOME_ENV, "")
        self.demo = demo
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = paths.log_dir() / "embedded-hub.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        if self.home:
            env[paths.HOME_ENV] = self.home
        return env

    def _cmd(self, *extra: str) -> list[str]:
        return [*hub_command(), "--host", "127.0.0.1", "--port", str(self.port),
                "--db", self.db_url, *(["--demo"] if self.demo else []), *extra]

    def load_demo(self, n: int = DEMO_ORDERS, timeout_s: float = 300.0) -> str:
        """Load ``n`` demo orders (idempotent: the same seed makes the same channel orders).

        Demo orders come with the demo operators: from here on this is a demo hub.
        """
        self.demo = True
        r = subprocess.run(self._cmd("demo", str(n), "--seed", "1"), cwd=ROOT, env=self._env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s)
        if r.returncode != 0:
            raise EmbeddedHubError(_("Could not load the demo orders: {err}").format(
                err=(r.stderr or r.stdout).strip()[-500:]))
        log.info("embedded hub: %s", r.stdout.strip())
        return r.stdout.strip()

    def approve_local_station(self, station: str, bench: str | None, device_id: str, timeout_s: float = 120.0) -> str:
        """Approve this PC's own station on its bench, bound to this PC's device id (a real hub's
        one PC must be usable without a supervisor elsewhere). Blocks: not on the GUI thread."""
        r = subprocess.run(self._cmd("station", "approve", station, "--bench", bench or "", "--device", device_id),
                           cwd=ROOT, env=self._env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout_s)
        if r.returncode != 0:
            raise EmbeddedHubError(_("Could not register this PC's station with the built-in hub: {err}").format(
                err=(r.stderr or r.stdout).strip()[-500:]))
        log.info("embedded hub: %s", r.stdout.strip())
        return r.stdout.strip()

    def start(self, timeout_s: float = 60.0, *, approve: tuple[str, str | None, str] | None = None) -> str:
        """Start the hub and wait until /api/v1/health answers; returns its URL. Blocks: not on the GUI thread.

        Args:
            approve: ``(station, bench, device_id)``: the hub process first approves this PC's own
                station, as :meth:`approve_local_station` does, then serves — one hub process
                instead of two at every start of a real (not demo) one-PC hub.
        """
        self.launch(approve=approve)
        return self.wait_ready(timeout_s)

    def launch(self, *, approve: tuple[str, str | None, str] | None = None) -> None:
        """Start the hub process and return at once (:meth:`wait_ready` waits for it to serve)."""
        extra: list[str] = []
        if approve is not None:
            station, bench, device_id = approve
            extra = ["--approve-station", station, "--approve-bench", bench or "", "--approve-device", device_id]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            # stdin: a windowed Windows exe has no console handles to pass on (docs/build.md)
            self.proc = subprocess.Popen(self._cmd("serve", *extra), cwd=ROOT, env=self._env(),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out)

    def wait_ready(self, timeout_s: float = 60.0) -> str:
        """Wait until the launched hub answers /api/v1/health; returns its URL. Blocks: not on the GUI thread."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmbeddedHubError(_("The built-in hub stopped at start (exit code {code}); see {log}.").format(
                    code=self.proc.returncode, log=self.log_path))
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    log.info("embedded hub up at %s (pid %d)", self.url, self.proc.pid)
                    return self.url
            time.sleep(0.1)
        self.stop()
        raise EmbeddedHubError(_("The built-in hub did not start within {s} s; see {log}.").format(
            s=int(timeout_s), log=self.log_path))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the hub; safe to call twice.

        SIGTERM asks uvicorn to finish; it then waits for open connections (a long-poll holds one
        for up to 25 s), so after a short grace a SIGINT forces it out, and a kill is the last resort.
        """
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(2.0)
        except subprocess.TimeoutExpired:
            if sys.platform != "win32":
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)  # uvicorn: a second signal forces exit
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("embedded hub did not stop in %.0f s; killing it", timeout_s)
                proc.kill()
                proc.wait()
        log.info("embedded hub stopped")


def launch_early(argv: list[str]) -> EmbeddedHub | None:
    """Start this PC's real embedded hub before the app's heavy imports, so that the two start
    side by side (``main.py``; the app waits for it in :meth:`ui.app.App.start_hub`).

    Only for an ordinary start of a set-up PC: a station name, no hub address in the settings, no
    ``--hub``, no ``--demo`` (the demo orders are loaded first) and no ``--help``. Started before the
    single-instance check, so a second launch of the app stops its hub again at once (the first
    instance's hub is untouched: same database, another port). Returns None when not started.
    """
    if {"--demo", "-h", "--help"} & set(argv) or any(a == "--hub" or a.startswith("--hub=") for a in argv):
        return None
    from core.settings import load_settings

    settings = load_settings()
    if settings.hub_url or not settings.station:
        return None
    hub = EmbeddedHub(paths.data_dir())
    try:
        hub.launch(approve=(settings.station, settings.bench or None, settings.device_id))
    except OSError as exc:  # the app then starts it the ordinary way and says what is wrong
        log.warning("could not start the embedded hub early: %s", exc)
        return None
    return hub
