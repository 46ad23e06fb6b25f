"""Run a real hub as a subprocess on 127.0.0.1 for tests and benchmarks.

Tests cross real HTTP (STYLE.md §6): the hub is the same code a site runs, started with a temp
database. ``kill()`` is SIGKILL, for crash tests; ``start()`` again reuses the port and database.
Hubs start as demo hubs (``--demo``: demo operators and secrets, stations approved on first login)
unless ``demo=False``; security tests start real hubs and make operators with :meth:`HubProcess.cli`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("PACKDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    def __init__(self, home: Path, *, port: int | None = None, db_url: str | None = None,
                 env: dict[str, str] | None = None, demo: bool = True) -> None:
        self.home = Path(home)
        self.demo = demo
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.db_url = db_url or f"sqlite:///{self.home / 'hub.db'}"
        self.env = env or {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.home / "hub-stderr.log"

    def start(self, timeout: float = 30.0) -> HubProcess:
        env = {**os.environ, "PACKDESK_HOME": str(self.home), "PYTHONPATH": str(ROOT), **self.env}
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "--port", str(self.port), "--db", self.db_url,
             *(["--demo"] if self.demo else [])],
            cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"hub did not come up in {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``python -m hub <args> --db <this hub's db>`` (set-pin, station approve, unlock, …)."""
        env = {**os.environ, "PACKDESK_HOME": str(self.home), "PYTHONPATH": str(ROOT), **self.env}
        r = subprocess.run([sys.executable, "-m", "hub", *args, "--db", self.db_url], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"hub {' '.join(args)} exited with {r.returncode}: {r.stderr[-2000:]}")
        return r

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> HubProcess:
        self.stop()
        return self.start()

    def errors_logged(self) -> str:
        """Tracebacks in the hub's log (a 5xx is a bug: tests assert this is empty)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(line for line in text.splitlines() if "Traceback" in line or "ERROR" in line)


def start_hub(tmp_path: Path, *, port: int | None = None, db_url: str | None = None,
              env: dict[str, str] | None = None, demo: bool = True) -> HubProcess:
    return HubProcess(tmp_path, port=port, db_url=db_url, env=env, demo=demo).start()


def postgres_available() -> str | None:
    """None if PostgreSQL answers at PACKDESK_TEST_PG, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure means: not usable here
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}".strip()


@contextlib.contextmanager
def fresh_pg_database() -> Any:
    """A new empty PostgreSQL database for one hub, dropped afterwards; yields its URL."""
    import psycopg

    name = f"packdesk_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()
