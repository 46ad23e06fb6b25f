"""A fake networked label printer (raw TCP, the "port 9100" kind) on 127.0.0.1 — one copy for the
printing back-end tests and the print-service UI tests.

A real printer reads the whole job, then the sender closes; a Zebra answers ``~HS`` (host status)
with three status strings. :class:`FakePrinter` does both, or, with ``read=False``, accepts the
connection and never reads (hung, or buffering while out of labels) until the test closes it.
"""

from __future__ import annotations

import socket
import threading

from tests.hubproc import free_port


def closed_port() -> int:
    """A port nothing listens on (connecting is refused at once): a printer that is switched off."""
    return free_port()


class FakePrinter:
    """Keeps every job it receives.

    Args:
        port: 0 for any free port; a fixed one to "switch on" a printer a test saw refused.
        status: answer a job starting with ``~HS`` with these bytes (once per connection);
            None: stay silent, as a printer without status support.
        read: False for a printer that accepts and never reads, until :meth:`close`.

    Attributes:
        jobs: each connection's bytes, without the ``~HS`` status query in front.
        raw: every byte read, status queries included.
        done: set each time a connection has been read to its end.
    """

    def __init__(self, port: int = 0, *, status: bytes | None = None, read: bool = True) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(5)
        self.port: int = self.sock.getsockname()[1]
        self.status = status
        self.read = read
        self.jobs: list[bytes] = []
        self.raw = b""
        self.connections = 0
        self.done = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"fake-printer-{self.port}", daemon=True)
        self._thread.start()

    @property
    def received(self) -> bytes:
        """All jobs' bytes in the order they came."""
        return b"".join(self.jobs)

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:  # closed by the test
                return
            self.connections += 1
            with conn:
                if not self.read:
                    self.release.wait()
                    continue
                self._read_job(conn)

    def _read_job(self, conn: socket.socket) -> None:
        data = b""
        answered = False
        try:
            while chunk := conn.recv(65536):
                data += chunk
                self.raw += chunk
                if self.status is not None and not answered and data.startswith(b"~HS"):
                    conn.sendall(self.status)
                    answered = True
        except OSError:  # the sender gave up mid-job (its timeout): keep what came
            pass
        self.jobs.append(data.removeprefix(b"~HS"))
        self.done.set()

    def close(self) -> None:
        self.release.set()
        self.sock.close()

    def __enter__(self) -> FakePrinter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
