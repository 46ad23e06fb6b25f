"""The bench scale for the widgets: :class:`core.scale.ScaleReader` with its callbacks as Signals.

One :class:`ScaleService` per app (``AppServices.scale``). It reads the port named in the station
settings on the reader's own thread; the GUI thread only gets the Signals (queued across threads
by Qt). With no port configured it does nothing at all, and the pack flow never weighs.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from core.i18n import _
from core.scale import PROTOCOLS, Link, Reading, ScaleReader
from core.settings import Settings
from core.weighing import format_kg

log = logging.getLogger("packdesk.ui.scale")


def protocol_name(protocol: str, lang: str) -> str:
    zh, en = PROTOCOLS.get(protocol, (protocol, protocol))
    return zh if lang.startswith("zh") else en


def link_text(link: Link, port: str) -> str:
    """The scale's link in plain words, with a glyph (never colour alone)."""
    if link == Link.CONNECTED:
        return "● " + _("Scale on {port}").format(port=port)
    if link == Link.CONNECTING:
        return "◐ " + _("Connecting to the scale on {port}…").format(port=port)
    if link == Link.SILENT:
        return "▲ " + _("No data from the scale on {port}: check the cable, the power and the protocol").format(
            port=port)
    if link == Link.LOST:
        return "✖ " + _("Scale on {port} not reachable: check the cable (retrying)").format(port=port)
    return "○ " + _("No scale")


def reading_text(reading: Reading | None) -> str:
    """A reading as the bench shows it: the weight and whether it is steady."""
    if reading is None:
        return "—"
    if reading.overload:
        return "▲ " + _("Out of range")
    mark = "✓ " + _("steady") if reading.stable else "◐ " + _("moving")
    return f"{format_kg(reading.grams)}  {mark}"


class ScaleService(QObject):
    """The station's scale, read on a worker thread.

    Signals:
        reading(object): a :class:`core.scale.Reading`, or None when the scale was lost.
        link_changed(str, str): the :class:`core.scale.Link` value and the port (or the problem).
    """

    reading = Signal(object)
    link_changed = Signal(str, str)
    _reading_relay = Signal(object)
    _link_relay = Signal(str, str)

    def __init__(self, settings: Settings, parent: QObject | None = None, *, silence_s: float = 3.0,
                 retry_s: float = 1.0) -> None:
        super().__init__(parent)
        self.settings = settings
        self.silence_s, self.retry_s = silence_s, retry_s
        self.reader: ScaleReader | None = None
        self.link = Link.STOPPED
        self.last: Reading | None = None
        self.port = ""
        self._reading_relay.connect(self._on_reading)
        self._link_relay.connect(self._on_link)

    @property
    def configured(self) -> bool:
        """A port is set in the settings: the station has a scale."""
        return bool(self.settings.scale_port.strip())

    @property
    def connected(self) -> bool:
        return self.link == Link.CONNECTED

    def start(self) -> None:
        """Read the scale the settings name (nothing without a port); idempotent."""
        if self.reader is None and self.configured:
            s = self.settings
            self.use(s.scale_port.strip(), s.scale_baud, s.scale_protocol)

    def use(self, port: str, baud: int, protocol: str) -> None:
        """Read ``port`` with these parameters from now on (the settings' test button tries others)."""
        self.stop()
        self.port = port
        # callbacks run on the reader's thread: relayed as queued Signals to this object's thread
        self.reader = ScaleReader(port, baud, protocol, on_reading=self._reading_relay.emit,
                                  on_link=lambda link, detail: self._link_relay.emit(link.value, detail),
                                  silence_s=self.silence_s, retry_s=self.retry_s)
        self.reader.start()

    def stop(self) -> None:
        """Stop reading and close the port (a COM port is open to one program at a time)."""
        reader, self.reader = self.reader, None
        if reader is not None:
            # bounded: the reader reads with a 0.1 s timeout; the GUI thread never waits long here
            reader.stop(timeout_s=0.3)
        self._on_link(Link.STOPPED.value, "")

    def restart(self) -> None:
        """After the settings changed: read what they now say (or stop when the port was cleared)."""
        self.stop()
        self.start()

    def _on_reading(self, reading: Reading) -> None:
        if self.reader is None:
            return  # a queued reading of a reader stopped meanwhile
        self.last = reading
        self.reading.emit(reading)

    def _on_link(self, link: str, detail: str) -> None:
        new = Link(link)
        if self.reader is None and new != Link.STOPPED:
            return
        if new != Link.CONNECTED and self.last is not None:
            self.last = None
            self.reading.emit(None)  # a lost scale has no weight: the flow must not use an old one
        if new != self.link:
            self.link = new
            self.link_changed.emit(new.value, detail)
