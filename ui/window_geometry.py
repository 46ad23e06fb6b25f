"""Where the main window opens: fitted to the screen it is on, remembered per station.

A fixed 1280×800 window on a 1366×768 laptop or bench PC puts the status bar — where
"Offline · N pending" shows — below the screen's edge. So the first start fits the screen's
*available* area (without the task bar): the preferred size if it fits with room for the frame,
else maximised; a bench PC (a station with a bench) always starts maximised, because the bench
screen is the packer's only window. Size, position, the tool bar and the queue page's splitter are
remembered between runs in a ``QSettings`` INI file in the user data folder, one group per station
(STYLE.md §10: QSettings for window geometry only); a remembered rectangle that no longer fits
(the PC got a smaller screen) is fitted again.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QPoint, QRect, QSettings, QSize
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QMainWindow, QSplitter

from core import paths

#: The size the window asks for on a screen with room to spare.
PREFERRED = QSize(1280, 800)
#: Room left around a window that is not maximised, for its title bar and frame.
FRAME_ROOM = QSize(16, 48)
FILE_NAME = "window.ini"


def initial_geometry(available: QRect, preferred: QSize = PREFERRED) -> QRect | None:
    """The window's first rectangle on a screen whose usable area is ``available``; None: maximise.

    The preferred size when it fits with :data:`FRAME_ROOM` to spare, centred; otherwise the
    window could not show all of itself, and maximised is the largest it can be.
    """
    if (preferred.width() + FRAME_ROOM.width() > available.width()
            or preferred.height() + FRAME_ROOM.height() > available.height()):
        return None
    rect = QRect(0, 0, preferred.width(), preferred.height())
    rect.moveCenter(available.center())
    return rect


def fits(frame: QRect, available: QRect) -> bool:
    """Whether a window's frame lies wholly in the screen's usable area."""
    return available.contains(frame)


def window_settings() -> QSettings:
    """The INI file for window geometry, in the user data folder (never a path in the repository)."""
    return QSettings(str(paths.data_dir() / FILE_NAME), QSettings.Format.IniFormat)


def _group(station: str) -> str:
    return "station_" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (station or "none"))


def _screen(window: QMainWindow) -> QScreen:
    screen = window.screen() or QGuiApplication.primaryScreen()
    assert screen is not None, "no screen"
    return screen


def show_fitted(window: QMainWindow, splitter: QSplitter, *, station: str, bench: str) -> None:
    """Restore the station's remembered window (or fit the screen), then show it.

    A bench PC shows maximised; its remembered normal size is still restored for when the packer
    un-maximises.
    """
    available = _screen(window).availableGeometry()
    store = window_settings()
    store.beginGroup(_group(station))
    geometry, state, split = store.value("geometry"), store.value("state"), store.value("splitter")
    store.endGroup()
    restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
    if isinstance(state, QByteArray):
        window.restoreState(state)
    if isinstance(split, QByteArray):
        splitter.restoreState(split)
    if restored and not window.isMaximized() and not fits(window.frameGeometry(), available):
        restored = False  # remembered on a larger screen
    rect = None if restored else initial_geometry(available)
    if not restored:
        # The normal size, also what un-maximising gives — and what shows if nothing maximises the
        # window (an X server without a window manager): it fits the screen, frame included.
        window.setGeometry(rect or within(available))
    if bench or (not restored and rect is None):
        window.showMaximized()
        return
    window.show()


def within(available: QRect) -> QRect:
    """The largest window rectangle that fits ``available`` with its frame (:data:`FRAME_ROOM`)."""
    top_left = available.topLeft() + QPoint(FRAME_ROOM.width() // 2, FRAME_ROOM.height() - FRAME_ROOM.width() // 2)
    return QRect(top_left, available.size() - FRAME_ROOM)


def remember(window: QMainWindow, splitter: QSplitter, *, station: str) -> None:
    """Keep the window's geometry, tool bar state and splitter for the station's next start."""
    store = window_settings()
    store.beginGroup(_group(station))
    store.setValue("geometry", window.saveGeometry())
    store.setValue("state", window.saveState())
    store.setValue("splitter", splitter.saveState())
    store.endGroup()
    store.sync()
