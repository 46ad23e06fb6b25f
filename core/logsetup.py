"""Logging: named loggers under ``packdesk.*``, a rotating file in the user data folder.

One place sets it up for the app, the hub and the headless commands; tests leave it alone (pytest
captures the records itself).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from core import paths

FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

#: Libraries whose DEBUG (and urllib3's INFO "Redirecting <url>") records carry a request's whole
#: URL with its query string, where 抖店, 微信小店 and 拼多多 put ``access_token`` and the
#: secret-derived ``sign``. Pinned at WARNING so that a root logger turned to DEBUG (``level=`` below,
#: or any later ``basicConfig``) never writes those secrets; their own level wins over the root's.
SECRET_URL_LOGGERS = ("urllib3", "urllib3.connectionpool")


def log_dir() -> Path:
    """The one log folder (:func:`core.paths.log_dir`), shared with the crash log and the embedded hub."""
    return paths.log_dir()


def setup_logging(name: str, *, level: int = logging.INFO, console: bool = True) -> Path:
    """Log to ``<log dir>/<name>.log`` (5 × 2 MB, rotating) and, if asked, to stderr; returns the file."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.log"
    pin_secret_url_loggers()
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        fh.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(fh)
    if console and not any(type(h) is logging.StreamHandler for h in root.handlers):
        sh = logging.StreamHandler()
        sh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        sh.setLevel(logging.WARNING)
        root.addHandler(sh)
    return path


def pin_secret_url_loggers() -> None:
    """Set :data:`SECRET_URL_LOGGERS` to WARNING (one already set higher keeps its level)."""
    for logger_name in SECRET_URL_LOGGERS:
        logger = logging.getLogger(logger_name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
