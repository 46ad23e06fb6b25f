"""One PackDesk per PC user: a second launch brings the first window to the front and exits.

The first instance holds a :class:`QLockFile` in its data folder (the lock names the process, so
a crashed instance's lock is taken over at once) and listens on a :class:`QLocalServer` named
after that folder. A second launch cannot take the lock; it connects to the server, sends
``raise`` and exits 0 — before it opens the local store, so the packer never sees "file in use".
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("packdesk.ui.single")

RAISE = b"raise\n"


def server_name(folder: Path) -> str:
    """The local server's name: one per data folder (so per user, and per ``PACKDESK_HOME`` in tests)."""
    digest = hashlib.sha1(str(folder.resolve()).encode("utf-8")).hexdigest()[:16]
    return f"packdesk-{digest}"


class SingleInstance(QObject):
    """The guard of one data folder.

    Signals:
        raise_requested(): another launch asked this instance to show its window.
    """

    raise_requested = Signal()

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.name = server_name(folder)
        self.lock = QLockFile(str(folder / "packdesk.lock"))
        self.lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
        self.server: QLocalServer | None = None

    def acquire(self, *, wait_ms: int = 3000) -> bool:
        """True: this is the first instance (it now listens). False: another runs and was asked to come forward."""
        if self.lock.tryLock(100):
            self._listen()
            return True
        self.tell_first(wait_ms)
        return False

    def _listen(self) -> None:
        QLocalServer.removeServer(self.name)  # a crashed instance's socket file (Unix)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("single instance: cannot listen on %s: %s", self.name, server.errorString())
            return
        server.newConnection.connect(self._connection)
        self.server = server
        log.info("single instance: listening on %s", self.name)

    def _connection(self) -> None:
        assert self.server is not None
        while (sock := self.server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        data = bytes(sock.readAll().data())
        if data.startswith(RAISE.strip()):
            log.info("single instance: a second launch asked for the window")
            self.raise_requested.emit()
        sock.disconnectFromServer()

    def tell_first(self, wait_ms: int) -> bool:
        """Ask the running instance to come to the front; False if it did not answer in ``wait_ms``."""
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        ok = sock.waitForConnected(wait_ms)
        if ok:
            sock.write(RAISE)
            ok = sock.waitForBytesWritten(wait_ms)
            sock.disconnectFromServer()
        log.info("single instance: another PackDesk runs here; asked it to come forward (%s)",
                 "done" if ok else "no answer")
        return ok

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()
