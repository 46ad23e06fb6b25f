"""Client sync: the hub HTTP client (:mod:`core.sync.client`) and the engine (:mod:`core.sync.engine`)."""

from __future__ import annotations

from core.sync.client import (
    ClientTooOld,
    CursorExpired,
    HubAuthExpired,
    HubClient,
    HubError,
    HubMalformed,
    HubRefused,
    HubServerError,
    HubUnauthorized,
    HubUnreachable,
    LoginInfo,
    WrongStation,
)
from core.sync.engine import Backoff, SyncConfig, SyncEngine, SyncReport, SyncState

__all__ = [
    "Backoff",
    "ClientTooOld",
    "CursorExpired",
    "HubAuthExpired",
    "HubClient",
    "HubError",
    "HubMalformed",
    "HubRefused",
    "HubServerError",
    "HubUnauthorized",
    "HubUnreachable",
    "LoginInfo",
    "SyncConfig",
    "SyncEngine",
    "SyncReport",
    "SyncState",
    "WrongStation",
]
