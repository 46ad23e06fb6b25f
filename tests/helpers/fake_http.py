"""A throwaway HTTP server on 127.0.0.1 whose answers a test writes — one copy for the fake hubs
of the sync tests (a hub that misbehaves, a proxy in front of a real hub, a look-alike that answers
long-polls at once), the CLI's "not a hub" check and the webhook receiver.

A test gives a ``respond(handler, body)`` function: it sees the request (``handler.command``,
``handler.path``, ``handler.headers``, the body already read) and answers through
:func:`send_json` or the handler itself. The server runs on its own daemon thread; close it with
:meth:`FakeHTTPServer.close` or use it as a context manager.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Respond = Callable[[BaseHTTPRequestHandler, bytes], None]


def send_json(h: BaseHTTPRequestHandler, status: int, body: object | bytes, *, length: int | None = None,
              headers: dict[str, str] | None = None) -> None:
    """Answer with ``body`` (JSON-encoded unless bytes); ``length`` claims another Content-Length
    (a truncated answer) and closes the connection after it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(length if length is not None else len(raw)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if length is not None:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    h.wfile.write(raw)
    h.wfile.flush()


class FakeHTTPServer:
    """Serves every GET and POST with ``respond``.

    Args:
        respond: writes the answer.
        port: 0 for any free port.
        http11: keep connections alive (HTTP/1.1), as the real hub does.
    """

    def __init__(self, respond: Respond, *, port: int = 0, http11: bool = False) -> None:
        self.respond = respond
        #: "METHOD /path?query" of every request, in order.
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if http11 else "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                server.seen.append(f"{self.command} {self.path}")
                with contextlib.suppress(OSError):  # the client may have given up (a timeout test)
                    server.respond(self, body)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"fake-http-{self.port}", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeHTTPServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
