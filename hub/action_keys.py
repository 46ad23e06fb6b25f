"""Action keys: what lets a bench's queued work be credited to an operator who is no longer logged in.

Every successful login gives the device a fresh key for (operator, device): a random secret,
returned once in the login answer and kept here, never logged nor served again. The client signs
each outbox action with the key of the operator logged in when the action was written
(:mod:`core.action_sig`). When a batch arrives under someone else's token (a shift change while
offline), the signature is the proof that the named operator did the work on this device within
the key's window; without it the hub does not take the ``operator`` field on trust
(:mod:`hub.actions`, docs/security.md "Offline work in another operator's name").

The secret is stored as is, not hashed: the hub must compute the HMAC to check it. It is as
sensitive as the channel secrets in the hub's settings and lives in the same database as the
orders it protects.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from core.action_sig import verify
from core.timeutil import as_utc, iso, parse_iso
from hub import db

#: Default key lifetime: a bench may stay offline for days and its queued work must still count.
DEFAULT_TTL_S = 7 * 24 * 3600

#: How far a signed ``done_at`` may fall outside the key's window: bench clocks drift a little
#: from the hub's, and an action written the second after login must not be refused for it.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Key:
    key_id: str
    operator: str
    device_id: str
    station: str
    secret: str
    issued_at: datetime
    expires_at: datetime


def issue(conn: Connection, *, operator: str, device_id: str, station: str, now: datetime,
          ttl_s: int = DEFAULT_TTL_S) -> dict[str, str]:
    """A new key for ``operator`` on ``device_id``, stored; returns ``{"key_id", "key", "expires_at"}``.

    Keys expired for longer than a whole lifetime are deleted here: an action signed just before
    its key expired may wait in an offline outbox, but not for ever.
    """
    conn.execute(delete(db.action_keys).where(db.action_keys.c.expires_at < now - timedelta(seconds=ttl_s)))
    key_id = "ak_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=ttl_s)
    conn.execute(db.action_keys.insert().values(key_id=key_id, operator=operator, device_id=device_id,
                                                station=station, secret=secret, issued_at=now, expires_at=expires))
    return {"key_id": key_id, "key": secret, "expires_at": iso(expires) or ""}


def load(conn: Connection, key_ids: Iterable[str]) -> dict[str, Key]:
    """The stored keys among ``key_ids`` (unknown ones are simply absent)."""
    ids = sorted({k for k in key_ids if k})
    if not ids:
        return {}
    k = db.action_keys.c
    rows = conn.execute(select(k.key_id, k.operator, k.device_id, k.station, k.secret, k.issued_at, k.expires_at)
                        .where(k.key_id.in_(ids))).all()
    return {r.key_id: Key(r.key_id, r.operator, r.device_id, r.station, r.secret, as_utc(r.issued_at),
                          as_utc(r.expires_at)) for r in rows}


def problem(key: Key | None, action: Mapping[str, Any], *, operator: str, device_id: str,
            check_window: bool) -> str | None:
    """Why ``action``'s signature is no proof that ``operator`` wrote it on ``device_id``; None if it is.

    ``check_window``: whether ``done_at`` must lie in the key's window. It must when the signature
    is the only proof of who did it; for the token's own operator the token already proves that,
    and a drifting bench clock must not cost them their work.
    """
    key_id, sig = action.get("key_id"), action.get("sig")
    if not key_id or not sig:
        return "A signed action needs both key_id and sig."
    if key is None:
        return f"Action key {str(key_id)[:40]} is not known at the hub (never issued, or expired long ago)."
    if key.operator != operator:
        return f"Action key {key.key_id} was issued to another operator, not to {operator[:32]}."
    if key.device_id != device_id:
        return f"Action key {key.key_id} was issued to another device, not to this one."
    if not verify(key.secret, action, str(sig)):
        return "The signature does not match the action (changed after it was signed, or signed with another key)."
    if check_window:
        try:
            done = parse_iso(action.get("done_at"))
        except (ValueError, OverflowError):
            done = None
        if done is None:
            return "An action done in another operator's name needs its done_at time."
        if not key.issued_at - CLOCK_SLACK <= done <= key.expires_at + CLOCK_SLACK:
            return (f"done_at {action.get('done_at')} is outside the window of action key {key.key_id} "
                    f"({iso(key.issued_at)} to {iso(key.expires_at)}).")
    return None
