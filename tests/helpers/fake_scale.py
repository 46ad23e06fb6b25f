"""A fake bench scale: frames of each supported protocol, streamed on a pseudo-terminal.

The encoders write frames as the manuals cited in docs/scale.md describe them (independently of
``core/scale.py``'s parsers); :class:`FakeScale` opens a pty, points a stable path (a symlink, the
way ``/dev/ttyUSB0`` names whatever adapter is plugged in) at its slave end and writes frames to the
master end. :meth:`FakeScale.unplug` closes the master (the cable is pulled) and :meth:`FakeScale.plug`
makes a new pty behind the same path.
"""

from __future__ import annotations

import contextlib
import os
import pty
import threading
import tty
from pathlib import Path


def _xor_hex(data: bytes) -> bytes:
    x = 0
    for b in data:
        x ^= b
    return f"{x:02X}".encode()


def ad_frame(grams: int, *, stable: bool = True, net: bool = False, overload: bool = False) -> bytes:
    """A&D: ``ST,GS,+0001.234kg`` CR LF (value in kg with three decimals, 8 characters with sign)."""
    head = b"OL" if overload else (b"ST" if stable else b"US")
    kind = b"NT" if net else b"GS"
    sign = b"-" if grams < 0 else b"+"
    g = abs(grams)
    value = b"    .   " if overload else f"{g // 1000:04d}.{g % 1000:03d}".encode()
    return head + b"," + kind + b"," + sign + value + b"kg\r\n"


def toledo_frame(grams: int, *, stable: bool = True, tare_g: int = 0, checksum: bool = True,
                 overload: bool = False) -> bytes:
    """Mettler Toledo continuous: STX SWA SWB SWC weight(6) tare(6) CR [CHK]; kg with 3 decimals."""
    swa = 0x20 | 0x08 | 0x05  # bit 5 set, increment ×1 (bit 3), decimal code 5: XXX.XXX
    swb = 0x20 | 0x10  # always 1, kg
    if grams < 0:
        swb |= 0x02
    if not stable:
        swb |= 0x08
    if overload:
        swb |= 0x04
    if tare_g:
        swb |= 0x01
    swc = 0x20
    body = bytes([0x02, swa, swb, swc]) + f"{abs(grams):06d}{tare_g:06d}".encode() + b"\r"
    if checksum:
        body += bytes([(-sum(b & 0x7F for b in body)) & 0x7F])
    return body


def yaohua_frame(grams: int) -> bytes:
    """耀华 XK3190-A9 continuous format 0: 02 sign digits(6) decimals(3) XOR(hex) 03 — kg, 3 decimals."""
    body = (b"-" if grams < 0 else b"+") + f"{abs(grams):06d}".encode() + b"3"
    return b"\x02" + body + _xor_hex(body) + b"\x03"


def yaohua_a12_frame(grams: int, *, net: bool = False) -> bytes:
    """耀华 XK3190-A12: W G/N weight(7, with the point) kg XOR(hex) CR LF."""
    text = f"{grams / 1000:07.3f}".encode() if grams >= 0 else b"-" + f"{-grams / 1000:06.3f}".encode()
    body = b"W" + (b"N" if net else b"G") + text + b"kg"
    return body + _xor_hex(body) + b"\r\n"


ENCODERS = {"ad": ad_frame, "toledo": toledo_frame, "yaohua": yaohua_frame, "yaohua_a12": yaohua_a12_frame}


class FakeScale:
    """A scale on a pty behind the path :attr:`port` (a symlink under ``folder``).

    Like a real indicator it streams all the time: :meth:`stream` sets the bytes it repeats (about
    every 20 ms, the cadence of a scale's output); nothing is buffered for a port not yet open
    (pyserial flushes the input when it opens a port, as a real port has no history either).
    """

    def __init__(self, folder: Path) -> None:
        self.port = str(folder / "ttyFAKE0")
        self.master = -1
        self.slave = -1
        self._lock = threading.Lock()
        self._repeat = b""
        self._stop = threading.Event()
        self.plug()
        self._thread = threading.Thread(target=self._run, name="fake-scale", daemon=True)
        self._thread.start()

    def plug(self) -> None:
        """A (new) adapter appears behind :attr:`port`."""
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation: bytes pass as sent
        os.set_blocking(master, False)  # a full buffer (nobody reading) drops output, as a wire would
        name = os.ttyname(slave)
        tmp = self.port + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(name, tmp)
        with self._lock:
            self.master, self.slave = master, slave
        os.replace(tmp, self.port)

    def stream(self, data: bytes) -> None:
        """Repeat ``data`` from now on (``b""``: the scale goes quiet)."""
        with self._lock:
            self._repeat = data

    def send(self, data: bytes) -> None:
        """Write ``data`` once, now."""
        with self._lock:
            self._write(data)

    def _write(self, data: bytes) -> None:
        if self.master >= 0 and data:
            with contextlib.suppress(OSError):  # nobody reading (BlockingIOError): lost, as on a wire
                os.write(self.master, data)

    def _run(self) -> None:
        while not self._stop.wait(0.02):  # the indicator's output cadence, not a wait for a condition
            with self._lock:
                self._write(self._repeat)

    def unplug(self) -> None:
        """The cable is pulled: the pty closes (the reader's next read fails) and the port name goes."""
        with self._lock:
            for fd in (self.master, self.slave):
                if fd >= 0:
                    os.close(fd)
            self.master = self.slave = -1
            self._repeat = b""
        if os.path.lexists(self.port):
            os.unlink(self.port)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.unplug()
