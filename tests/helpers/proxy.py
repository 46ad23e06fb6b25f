"""A small TCP proxy for sync tests: forwards to the hub, and can lose the hub's answers.

``cut_actions = n`` makes the next ``n`` answers to ``POST /api/v1/actions`` vanish: the request
reaches the hub (which applies the batch), but as soon as its answer starts coming back the proxy
resets the client's connection. That is the "lost acknowledgement" the outbox must survive.
``down = True`` refuses new connections (like a cable pulled between bench and hub).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class CuttingProxy:
    """Listen on 127.0.0.1:<port>, forward to ``target``; see the module docstring for the knobs."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.cut_actions = 0
        self.cut_done = 0
        self.down = False
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._socks: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        for s in list(self._socks):
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            self._socks += [client, upstream]
            state = {"actions": False}
            threading.Thread(target=self._pipe_up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._pipe_down, args=(upstream, client, state), daemon=True).start()

    def _pipe_up(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := client.recv(65536):
                if data[:8] in (b"POST /ap", b"GET /api", b"PUT /api") or data.split(b" ", 1)[0] in (
                    b"POST",
                    b"GET",
                ):
                    state["actions"] = data.startswith(b"POST /api/v1/actions")
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    def _pipe_down(self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := upstream.recv(65536):
                if state["actions"]:
                    with self._lock:
                        cut = self.cut_actions > 0
                        if cut:
                            self.cut_actions -= 1
                            self.cut_done += 1
                    if cut:
                        _reset(client)
                        upstream.close()
                        return
                client.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped connection looks to the client."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
