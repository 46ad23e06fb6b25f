"""Bench scales: the continuous-output protocols as plain parsers, and a reader thread (no Qt).

A bench scale's indicator streams its weight several times a second over RS-232 or a USB-serial
cable. Each protocol here is a small parser: :meth:`ScaleParser.feed` takes whatever bytes arrived
(half a frame, three frames, line noise) and returns the :class:`Reading` of every complete,
valid frame; anything that does not check out (bad checksum, wrong length, garbage) is skipped and
counted in :attr:`ScaleParser.rejected`, and the parser finds the next frame start by itself.

Supported (the manuals each frame format is taken from are cited in docs/scale.md):

- ``ad``: the A&D style text line ``ST,GS,+0001.234kg`` CR LF (header ``ST`` stable / ``US``
  unstable / ``OL`` overload, an optional ``GS`` / ``NT`` / ``TR`` second header, the signed
  value with its decimal point, the unit). Many Chinese indicators speak it too.
- ``toledo``: the Mettler Toledo continuous format: STX, status words A B C, six digits of
  weight, six digits of tare, CR and an optional checksum byte (the motion bit is the stable flag).
- ``yaohua``: 耀华 XK3190-A9 / A23P / A26 "continuous format 0" (tF 0): 02, sign, six digits,
  decimals, XOR checksum as two hex characters, 03. It has no stable flag: a reading counts as
  stable once the same value has come :data:`SETTLE_FRAMES` times in a row.
- ``yaohua_a12``: 耀华 XK3190-A12(E): ``WG``/``WN``, seven characters of weight, ``kg``, XOR
  checksum, CR LF (no stable flag either: settled like ``yaohua``).

:class:`ScaleReader` runs one parser over a serial port on a worker thread and reports each
reading and each change of the link (connected, no data, port error) through plain callbacks; a
pulled cable (the port fails, or nothing valid arrives for ``silence_s``) closes the port and it
keeps trying to open it again until stopped.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar, Protocol

log = logging.getLogger("packdesk.scale")

__all__ = [
    "BAUD_RATES",
    "PROTOCOLS",
    "SETTLE_FRAMES",
    "Link",
    "Reading",
    "ScaleParser",
    "ScaleReader",
    "make_parser",
]

#: Baud rates the settings offer (indicators ship at 9600; older ones at 1200–4800).
BAUD_RATES: tuple[int, ...] = (1200, 2400, 4800, 9600, 19200, 38400)
#: Identical readings in a row that count as stable for a protocol without a stable flag.
SETTLE_FRAMES = 5
#: Longest run of bytes kept while looking for a frame end; more is noise and dropped.
MAX_BUFFER = 512

_UNIT_GRAMS: dict[str, Decimal] = {"g": Decimal(1), "kg": Decimal(1000), "t": Decimal(1_000_000),
                                   "lb": Decimal("453.59237")}


@dataclass(frozen=True)
class Reading:
    """One weight from the scale.

    Attributes:
        grams: the displayed weight in whole grams (gross or net, as the indicator shows it).
        stable: the indicator says it is stable (or, for a protocol without that flag, it has not
            changed for :data:`SETTLE_FRAMES` frames).
        overload: over (or under) the scale's range: ``grams`` means nothing then (0).
        net: the indicator shows net weight (a tare is set).
    """

    grams: int
    stable: bool
    overload: bool = False
    net: bool = False


class ScaleParser:
    """Turns a byte stream into readings; one subclass per protocol.

    Attributes:
        rejected: frames (or runs of noise) skipped since the parser was made.
    """

    name = ""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.rejected = 0

    def feed(self, data: bytes) -> list[Reading]:
        """Add bytes as they arrived; return the readings of every complete valid frame in them."""
        self.buf += data
        out: list[Reading] = []
        while True:
            result = self._next()
            if result is None:
                break
            if isinstance(result, Reading):
                out.append(result)
        if len(self.buf) > MAX_BUFFER:  # no frame end in sight: noise; keep the tail only
            self.rejected += 1
            del self.buf[:-64]
        return out

    def reset(self) -> None:
        """Forget a half frame (the port was reopened)."""
        self.buf.clear()

    def _next(self) -> Reading | bool | None:
        """Take one frame (or one run of noise) off the buffer: a Reading, False (skipped), None (need more)."""
        raise NotImplementedError


def _grams(value: Decimal, unit: str) -> int:
    return int((value * _UNIT_GRAMS[unit]).to_integral_value())


class _LineParser(ScaleParser):
    """Frames that end with CR (LF optional): A&D and 耀华 A12."""

    def _next(self) -> Reading | bool | None:
        end = self.buf.find(b"\r")
        lf = self.buf.find(b"\n")
        if lf != -1 and (end == -1 or lf < end):
            end = lf
        if end == -1:
            return None
        line = bytes(self.buf[:end])
        del self.buf[:end + 1]
        if not line.strip():
            return False  # the LF after a CR, or an empty line
        try:
            reading = self.parse_line(line)
        except (ValueError, InvalidOperation, UnicodeDecodeError):
            reading = None
        if reading is None:
            self.rejected += 1
            return False
        return reading

    def parse_line(self, line: bytes) -> Reading | None:
        raise NotImplementedError


class ADParser(_LineParser):
    """``ST,GS,+0001.234kg`` (A&D data format; header2 optional, as on the EK-L/GH balances)."""

    name = "ad"
    _RE = re.compile(r"^(ST|US|OL|QT),(?:(GS|NT|TR|G |N |T ),)?([+-]?)([0-9. ]{1,10})\s*(kg|g|t|lb)\s*$")

    def parse_line(self, line: bytes) -> Reading | None:
        text = line.decode("ascii").strip("\x00\x02\x03 ")
        m = self._RE.match(text)
        if m is None:
            return None
        head, kind, sign, digits, unit = m.groups()
        if head == "QT" or kind in ("TR", "T "):
            return None  # a count or a tare line, not the weight on the platform
        net = kind in ("NT", "N ")
        if head == "OL":
            return Reading(0, False, overload=True, net=net)
        value = Decimal(digits.replace(" ", "") or "x")  # spaces only: out of range (InvalidOperation)
        if sign == "-":
            value = -value
        return Reading(_grams(value, unit), head == "ST", net=net)


class _Settled(ScaleParser):
    """For protocols without a stable flag: stable after :data:`SETTLE_FRAMES` equal readings."""

    def __init__(self) -> None:
        super().__init__()
        self._last: int | None = None
        self._same = 0

    def settle(self, grams: int, *, net: bool = False) -> Reading:
        self._same = self._same + 1 if grams == self._last else 1
        self._last = grams
        return Reading(grams, self._same >= SETTLE_FRAMES, net=net)

    def unsettle(self) -> None:
        self._last, self._same = None, 0

    def reset(self) -> None:
        super().reset()
        self.unsettle()


def _xor_hex(data: bytes) -> bytes:
    x = 0
    for b in data:
        x ^= b
    return f"{x:02X}".encode("ascii")


class YaohuaA12Parser(_Settled, _LineParser):
    """耀华 XK3190-A12(E): ``W`` ``G``/``N`` weight(7) ``kg`` XOR(2 hex) CR LF; ``OL`` / ``LO`` out of range."""

    name = "yaohua_a12"

    def parse_line(self, line: bytes) -> Reading | None:
        w = line.lstrip(b"\x00")
        if len(w) != 13 or _xor_hex(w[:11]) != w[11:13].upper():
            return None
        if w[:9].strip() == b"" and w[9:11] in (b"OL", b"LO"):
            self.unsettle()
            return Reading(0, False, overload=True)
        if w[:1] != b"W" or w[1:2] not in (b"G", b"N") or w[9:11] != b"kg":
            return None
        value = Decimal(w[2:9].decode("ascii").replace(" ", ""))
        return self.settle(_grams(value, "kg"), net=w[1:2] == b"N")


class YaohuaParser(_Settled):
    """耀华 XK3190-A9 continuous format 0: 02 sign digits(6) decimals XOR(2 hex) 03 (12 bytes)."""

    name = "yaohua"

    def _next(self) -> Reading | bool | None:
        start = self.buf.find(b"\x02")
        if start == -1:
            if self.buf:
                self.rejected += 1
                self.buf.clear()
            return None
        if start > 0:
            self.rejected += 1
            del self.buf[:start]
            return False
        if len(self.buf) < 12:
            return None
        frame = bytes(self.buf[:12])
        body = frame[1:9]
        ok = (frame[11] == 0x03 and body[:1] in (b"+", b"-") and body[1:8].isdigit()
              and _xor_hex(body) == frame[9:11].upper() and int(body[7:8]) <= 4)
        if not ok:
            self.rejected += 1
            del self.buf[:1]  # the 02 was not a frame start: look for the next one
            return False
        del self.buf[:12]
        value = Decimal(int(body[1:7])).scaleb(-int(body[7:8]))
        if body[:1] == b"-":
            value = -value
        return self.settle(_grams(value, "kg"))


class ToledoParser(ScaleParser):
    """Mettler Toledo continuous: STX SWA SWB SWC weight(6) tare(6) CR [checksum]."""

    name = "toledo"

    #: status word A bits 0-2 -> power of ten of the displayed digits (0: XXXX00 … 7: X.XXXXX)
    _EXP: ClassVar[dict[int, int]] = {0: 2, 1: 1, 2: 0, 3: -1, 4: -2, 5: -3, 6: -4, 7: -5}

    def _next(self) -> Reading | bool | None:
        start = self.buf.find(b"\x02")
        if start == -1:
            if self.buf:
                self.rejected += 1
                self.buf.clear()
            return None
        if start > 0:
            self.rejected += 1
            del self.buf[:start]
            return False
        if len(self.buf) < 17:
            return None
        frame = bytes(self.buf[:17])
        swa, swb, swc = frame[1] & 0x7F, frame[2] & 0x7F, frame[3] & 0x7F
        digits = frame[4:16]
        if frame[16] != 0x0D or not digits.isdigit():
            self.rejected += 1  # (the "always 1/0" status bits differ between makers: not checked)
            del self.buf[:1]
            return False
        if len(self.buf) < 18:
            return None  # wait for the checksum byte (or the next frame's STX)
        nxt = self.buf[17]
        if nxt != 0x02 and nxt != ((-sum(b & 0x7F for b in frame)) & 0x7F):
            self.rejected += 1
            del self.buf[:1]
            return False
        del self.buf[:17 if nxt == 0x02 else 18]  # the checksum byte, when the terminal sends one
        if swb & 0x04:
            return Reading(0, False, overload=True, net=bool(swb & 0x01))
        value = Decimal(int(digits[:6])).scaleb(self._EXP[swa & 0x07])
        if swb & 0x02:
            value = -value
        unit = "g" if swc & 0x07 == 0x01 else ("kg" if swb & 0x10 else "lb")
        return Reading(_grams(value, unit), not (swb & 0x08), net=bool(swb & 0x01))


PARSERS: dict[str, type[ScaleParser]] = {p.name: p for p in (ADParser, ToledoParser, YaohuaParser, YaohuaA12Parser)}
#: protocol setting value -> (中文, English) as the settings show it
PROTOCOLS: dict[str, tuple[str, str]] = {
    "ad": ("A&D 格式（ST,GS,+0001.234kg）", "A&D format (ST,GS,+0001.234kg)"),
    "toledo": ("托利多连续输出", "Mettler Toledo continuous"),
    "yaohua": ("耀华 XK3190-A9 连续方式 0", "Yaohua XK3190-A9 continuous format 0"),
    "yaohua_a12": ("耀华 XK3190-A12", "Yaohua XK3190-A12"),
}


def make_parser(protocol: str) -> ScaleParser:
    """A fresh parser for a protocol setting value (KeyError for an unknown one)."""
    return PARSERS[protocol]()


# --- the reader --------------------------------------------------------------------------------

class Link(StrEnum):
    """The scale's link as the reader sees it."""

    CONNECTING = "connecting"  # opening the port (first time, or again after a loss)
    CONNECTED = "connected"  # port open and valid frames arriving
    SILENT = "silent"  # port open but no valid frame for a while: cable pulled, scale off, wrong protocol
    LOST = "lost"  # the port failed or cannot be opened
    STOPPED = "stopped"


class Port(Protocol):
    """What the reader needs of a serial port (pyserial's ``Serial`` has it)."""

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...

    @property
    def in_waiting(self) -> int: ...


def open_serial(port: str, baud: int) -> Port:
    """Open a serial port with pyserial (8N1, short read timeout so the thread can be stopped)."""
    import serial  # imported here: only a station with a scale needs it

    conn: Port = serial.Serial(port, baud, timeout=0.1)
    return conn


class ScaleReader:
    """Reads one scale on its own thread; reports readings and link changes through callbacks.

    Callbacks run on the reader's thread; the UI re-emits them as signals. A callback that
    raises is logged as a bug and the reader carries on.

    Args:
        port: the serial port (``COM3``, ``/dev/ttyUSB0``).
        baud: its speed.
        protocol: a key of :data:`PROTOCOLS`.
        on_reading: called with each :class:`Reading`.
        on_link: called with (:class:`Link`, plain-words detail) when the link changes.
        silence_s: no valid frame for this long counts as a lost scale: the port is closed and
            opened again (a USB-serial cable pulled out often just goes quiet).
        retry_s: the wait before opening the port again after a loss.
        opener: opens the port (tests pass their own; default pyserial).
    """

    def __init__(self, port: str, baud: int, protocol: str, *,
                 on_reading: Callable[[Reading], None], on_link: Callable[[Link, str], None],
                 silence_s: float = 3.0, retry_s: float = 1.0,
                 opener: Callable[[str, int], Port] = open_serial) -> None:
        self.port, self.baud, self.protocol = port, baud, protocol
        self.parser = make_parser(protocol)
        self.on_reading, self.on_link = on_reading, on_link
        self.silence_s, self.retry_s = silence_s, retry_s
        self.opener = opener
        self.link = Link.STOPPED
        self.last: Reading | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start reading on a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"packdesk-scale-{self.port}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and close the port (waits up to ``timeout_s``)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _set_link(self, link: Link, detail: str = "") -> None:
        if link == self.link:
            return
        self.link = link
        log.info("scale %s: %s %s", self.port, link.value, detail)
        self._call(self.on_link, link, detail)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("scale callback failed")

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._set_link(Link.CONNECTING, self.port)
                try:
                    conn = self.opener(self.port, self.baud)
                except Exception as exc:  # pyserial raises SerialException / OSError / ValueError
                    self._set_link(Link.LOST, str(exc))
                    self._stop.wait(self.retry_s)
                    continue
                try:
                    self._read(conn)
                finally:
                    try:
                        conn.close()
                    except Exception:
                        log.debug("closing the scale port failed", exc_info=True)
                self.parser.reset()
                self._stop.wait(self.retry_s)
        finally:
            self._set_link(Link.STOPPED)

    def _read(self, conn: Port) -> None:
        """Read until stopped, the port fails, or the scale goes silent."""
        heard = time.monotonic()
        while not self._stop.is_set():
            try:
                data = conn.read(max(1, min(conn.in_waiting, 256)))
            except Exception as exc:  # SerialException / OSError: cable pulled, port gone
                self.last = None
                self._set_link(Link.LOST, str(exc) or type(exc).__name__)
                return
            readings = self.parser.feed(data) if data else []
            now = time.monotonic()
            if readings:
                heard = now
                self._set_link(Link.CONNECTED, self.port)
                for reading in readings:
                    self.last = reading
                    self._call(self.on_reading, reading)
            elif now - heard > self.silence_s:
                self.last = None
                self._set_link(Link.SILENT, f"{self.silence_s:g} s")
                return
