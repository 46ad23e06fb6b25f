"""A clock a test moves forward in a hub subprocess, so expiry is tested without sleeping.

The hub reads the time through ``core.timeutil.utcnow`` (token expiry, login back-off, lockouts).
``HubClock.env()`` puts ``tests/helpers/clock_site`` on the hub's PYTHONPATH; its
``sitecustomize`` makes that function run ahead by what :meth:`HubClock.advance` wrote. The hub's
``time.monotonic`` (long-poll deadlines, token re-check epochs) is not shifted.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.hubproc import ROOT

SITE = Path(__file__).resolve().parent / "clock_site"


class HubClock:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "clock-offset-s"
        self.offset_s = 0.0
        self.path.write_text("0", encoding="utf-8")

    def env(self) -> dict[str, str]:
        """Environment for :class:`tests.hubproc.HubProcess` (``env=``) that gives the hub this clock."""
        return {"PYTHONPATH": f"{SITE}{os.pathsep}{ROOT}", "PACKDESK_TEST_CLOCK": str(self.path)}

    def advance(self, seconds: float) -> None:
        """Move the hub's clock ``seconds`` ahead (at once, for every request from now on)."""
        self.offset_s += seconds
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(self.offset_s), encoding="utf-8")
        tmp.replace(self.path)
