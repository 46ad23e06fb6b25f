"""Test-only: make a hub's SQLite database really full, on demand, from outside the hub process.

A hub started with this directory first on ``PYTHONPATH`` and ``PACKDESK_TEST_MAX_PAGES_FILE``
set runs ``PRAGMA max_page_count = <the file's number>`` on every connection it takes from its
pool while that file exists. SQLite clamps the limit to the database's current size, so writing
"1" freezes the file where it is: the next write that needs a page fails with SQLite's own
``database or disk is full`` (SQLITE_FULL), exactly as on a full disk, while reads keep working.
Deleting the file lifts the limit (the next checkout sets it back to the maximum).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_LIMIT_FILE = os.environ.get("PACKDESK_TEST_MAX_PAGES_FILE")

if _LIMIT_FILE:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    @event.listens_for(Pool, "checkout")
    def _limit_pages(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if type(dbapi_conn).__module__.split(".")[0] != "sqlite3":
            return
        path = Path(_LIMIT_FILE)  # type: ignore[arg-type]
        pages = int(path.read_text()) if path.exists() else 4294967294
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA max_page_count = {pages}")
        cur.close()
