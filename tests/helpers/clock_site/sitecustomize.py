"""Loaded by a hub subprocess started with :func:`tests.helpers.clock.HubClock.env` (this folder on
its PYTHONPATH): the hub's ``core.timeutil.utcnow`` runs ahead by the seconds the test wrote to
``PACKDESK_TEST_CLOCK``. Without that variable it does nothing."""

import os

_path = os.environ.get("PACKDESK_TEST_CLOCK")
if _path:
    from datetime import datetime, timedelta

    import core.timeutil as _timeutil

    _real = _timeutil.utcnow

    def _shifted_utcnow() -> datetime:
        try:
            with open(_path, encoding="utf-8") as f:
                offset = float(f.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return _real() + timedelta(seconds=offset)

    _timeutil.utcnow = _shifted_utcnow
