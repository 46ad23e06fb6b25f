"""The hub's HTTP API (docs/api.md), one router per concern.

- :mod:`hub.api.sync`: the changes feed and its long-poll, the snapshot, action batches.
- :mod:`hub.api.orders`: order reads, audit, hold options, search, figures.
- :mod:`hub.api.intake`: channel pushes and the file import.
- :mod:`hub.api.admin`: health, login/logout, stations, operators, admin tools.

What they share lives in :mod:`hub.api.deps` (the :class:`~hub.api.deps.Hub` and who is asking)
and :mod:`hub.api.http` (error answers, body and URL guards, :class:`~hub.api.http.BoundedRoute`).
"""
