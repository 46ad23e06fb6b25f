"""Where the client keeps its files: one user data folder and one log folder.

platformdirs picks the right place per OS (``%LOCALAPPDATA%\\PackDesk`` on a Windows bench PC,
``~/.local/share/packdesk`` on Linux). Tests and operations set ``PACKDESK_HOME`` to put everything
under one folder instead, so a test never touches the real user's data.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "PackDesk"
HOME_ENV = "PACKDESK_HOME"


def _home_override() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value) if value else None


def data_dir() -> Path:
    """The user data folder (store, settings), created if missing."""
    home = _home_override()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """The log folder, created if missing."""
    home = _home_override()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_path() -> Path:
    """The local store's SQLite file."""
    return data_dir() / "bench.sqlite3"


def settings_path() -> Path:
    """The client settings file (JSON)."""
    return data_dir() / "settings.json"
