"""The bench's tones: OK, error, done — so a packer hears the answer without looking.

The tones are made with the stdlib ``wave`` module into the user cache folder at first use (no
binary files in git) and played without blocking by the first player this PC has: the stdlib
``winsound`` on Windows bench PCs, or ``paplay``/``aplay``/``afplay`` on Linux and macOS (not
QtMultimedia: see :func:`_sound_effect_class`); with none of them, ``QApplication.beep()``. The :attr:`Sounds.requested` signal
always fires, and the pack view answers it with a visual flash, so a PC with no speaker still
answers visibly. No audio device never crashes anything.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import struct
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger("packdesk.ui.sounds")

RATE = 22050
#: name -> list of (frequency Hz, duration ms); 0 Hz is a pause.
TONES: dict[str, list[tuple[float, int]]] = {
    "ok": [(1320.0, 90)],
    "error": [(220.0, 180), (0.0, 60), (220.0, 260)],
    "done": [(880.0, 90), (1175.0, 90), (1760.0, 160)],
}


def cache_dir() -> Path:
    home = os.environ.get("PACKDESK_HOME")
    if home:
        return Path(home) / "cache" / "sounds"
    import platformdirs

    return Path(platformdirs.user_cache_dir("PackDesk", appauthor=False)) / "sounds"


def write_tone(path: Path, notes: list[tuple[float, int]], volume: float = 0.6) -> Path:
    """Write a mono 16-bit WAV of ``notes`` (sine, with 5 ms fades so it does not click)."""
    frames = bytearray()
    fade = int(RATE * 0.005)
    for freq, ms in notes:
        n = int(RATE * ms / 1000)
        for i in range(n):
            env = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
            value = volume * env * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(value * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    tmp.replace(path)
    return path


def tone_files(folder: Path | None = None) -> dict[str, Path]:
    """The tone WAV files, made now if missing."""
    root = folder or cache_dir()
    out = {}
    for name, notes in TONES.items():
        path = root / f"{name}.wav"
        if not path.exists():
            write_tone(path, notes)
        out[name] = path
    return out


def _file_player() -> Callable[[Path], None] | None:
    """A non-blocking WAV player from the OS, or None."""
    if sys.platform == "win32":
        import winsound

        def play_win(path: Path) -> None:
            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT)

        return play_win
    for tool in ("paplay", "aplay", "afplay"):
        exe = shutil.which(tool)
        if exe:
            args = [exe, "-q"] if tool == "aplay" else [exe]

            def play_cmd(path: Path, args: list[str] = args) -> None:
                subprocess.Popen([*args, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, close_fds=True)

            return play_cmd
    return None


def _sound_effect_class() -> Any:
    """None: the tones go to the OS player, as in the bundle (which leaves QtMultimedia out).

    PySide6-Addons is a dependency now (QtCharts, for the dashboard), so QtMultimedia is installed on
    every development and CI machine; using it there made the app sound unlike the bundle, and on a
    PC without PipeWire or VA-API it printed warnings ("playback of this format is not supported")
    instead of a tone. Kept as a hook: a site that wants QtMultimedia back returns its QSoundEffect here.
    """
    return None


class Sounds(QObject):
    """Plays the bench's three tones.

    Signals:
        requested(str): a tone was asked for ("ok", "error", "done") — the pack view flashes its
            banner, so a deaf PC (no QtMultimedia, no speaker) still answers visibly.

    Attributes:
        last_requested: the last tone asked for (tests check that a sound was requested, not heard).
        audible: whether tones are played as WAVs through QtMultimedia (else a system beep).
    """

    requested = Signal(str)

    def __init__(self, parent: QObject | None = None, *, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.last_requested: str | None = None
        self.count = 0
        self._folder = folder
        self._effects: dict[str, Any] | None = None
        self._effect_cls = _sound_effect_class()
        self._player = None if self._effect_cls is not None else _file_player()
        self._files: dict[str, Path] | None = None
        self.audible = self._effect_cls is not None or self._player is not None

    def _load(self) -> dict[str, Any]:
        if self._effects is None:
            self._effects = {}
            if self._effect_cls is not None:
                try:
                    for name, path in tone_files(self._folder).items():
                        effect = self._effect_cls(self)
                        effect.setSource(QUrl.fromLocalFile(str(path)))
                        self._effects[name] = effect
                except OSError:
                    log.warning("Cannot write the tone files; using the system beep", exc_info=True)
                    self.audible = False
        return self._effects

    def _play(self, name: str) -> None:
        self.last_requested = name
        self.count += 1
        effect = self._load().get(name)
        if effect is not None:
            effect.play()
        elif self._player is not None:
            try:
                if self._files is None:
                    self._files = tone_files(self._folder)
                self._player(self._files[name])
            except OSError:
                log.warning("cannot play the %s tone; using the system beep", name, exc_info=True)
                self._player = None
                QApplication.beep()
        else:
            QApplication.beep()
        self.requested.emit(name)

    def ok(self) -> None:
        """A right item: one short high tone."""
        self._play("ok")

    def error(self) -> None:
        """A wrong item / not found: two low tones."""
        self._play("error")

    def done(self) -> None:
        """The order is complete: a rising three-note tone."""
        self._play("done")
