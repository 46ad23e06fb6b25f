"""The connectors table and its health: the one door to ``connectors`` and ``connector_orders``.

What an admin enters (:func:`add`), what the engine needs to run a connector (:func:`config_of`,
tokens, the pull cursor, the lease) and what people see (:func:`health_of`) — never the secret or
the tokens: :func:`public_row` is the only shape an API or the CLI prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from core.errors import UserError, ValidationFailed
from core.timeutil import as_utc, iso, local_day, utcnow
from hub import db
from hub.channels import PLATFORM_MODULES
from hub.channels.base import ConnectorConfig, PlatformError, Token

C = db.connectors.c

#: A new connector pulls orders updated this long before it was added (a day: the last peak day).
DEFAULT_LOOKBACK_S = 24 * 3600.0
#: A connector that has failed this long shows as a warning on the desks' status.
FAILING_WARN_S = 180.0


class ConnectorNotFound(UserError):
    code = "connector_not_found"


def add(conn: Connection, *, platform: str, shop_id: str, app_key: str, app_secret: str, base_url: str,
        interval_s: float = 15.0, extra: Mapping[str, str] | None = None, enabled: bool = True,
        lookback_s: float = DEFAULT_LOOKBACK_S, now: datetime | None = None) -> int:
    """Add a connector; returns its id.

    Raises:
        ValidationFailed: an unknown platform, an empty key or secret, a base URL that is not
            http(s), an interval outside 1 s – 1 h, or a shop this platform already has.
    """
    now = now or utcnow()
    if platform not in PLATFORM_MODULES:
        raise ValidationFailed(f"Unknown platform {platform!r}; known: {', '.join(PLATFORM_MODULES)}.",
                               details={"field": "platform"})
    for name, value, limit in (("shop_id", shop_id, 64), ("app_key", app_key, 128), ("app_secret", app_secret, 512)):
        if not value or not value.strip():
            raise ValidationFailed(f"'{name}' must not be empty.", details={"field": name})
        if len(value) > limit:
            raise ValidationFailed(f"'{name}' is longer than {limit} characters.", details={"field": name})
    if not re.match(r"^https?://[^\s/]+", base_url or ""):
        raise ValidationFailed("'base_url' must be the platform's API root, starting with https:// (or http:// "
                               "for a local test server).", details={"field": "base_url"})
    if not 1.0 <= float(interval_s) <= 3600.0:
        raise ValidationFailed("'interval_s' must be between 1 and 3600 seconds.", details={"field": "interval_s"})
    if not 0 <= float(lookback_s) <= 90 * 86400:
        raise ValidationFailed("'lookback_s' must be between 0 and 90 days.", details={"field": "lookback_s"})
    extra_d = {str(k): str(v) for k, v in (extra or {}).items()}
    if conn.execute(select(C.id).where(C.platform == platform, C.shop_id == shop_id)).first():
        raise ValidationFailed(f"A {platform} connector for shop {shop_id} exists already.",
                               details={"field": "shop_id"})
    res = conn.execute(insert(db.connectors).values(
        platform=platform, shop_id=shop_id, app_key=app_key, app_secret=app_secret, base_url=base_url.rstrip("/"),
        interval_s=float(interval_s), enabled=enabled, extra=extra_d, pull_cursor=now - timedelta(seconds=lookback_s),
        next_pull_at=now, attempts=0, orders_today=0, created_at=now))
    assert res.inserted_primary_key is not None
    return int(res.inserted_primary_key[0])


def _row(conn: Connection, connector_id: int) -> Row[Any]:
    row = conn.execute(select(db.connectors).where(C.id == connector_id)).first()
    if row is None:
        raise ConnectorNotFound(f"No connector {connector_id}.", details={"connector_id": connector_id})
    return row


def config_of(row: Row[Any] | Mapping[str, Any]) -> ConnectorConfig:
    m = row._mapping if isinstance(row, Row) else row
    return ConnectorConfig(id=m["id"], platform=m["platform"], shop_id=m["shop_id"], app_key=m["app_key"],
                           app_secret=m["app_secret"], base_url=m["base_url"], interval_s=m["interval_s"],
                           enabled=m["enabled"], extra=dict(m["extra"] or {}))


def config(conn: Connection, connector_id: int) -> ConnectorConfig:
    return config_of(_row(conn, connector_id))


def token_of(row: Row[Any]) -> Token | None:
    m = row._mapping
    if not m["access_token"] or m["token_expires_at"] is None:
        return None
    return Token(access_token=m["access_token"], expires_at=as_utc(m["token_expires_at"]),
                 refresh_token=m["refresh_token"] or "",
                 refresh_expires_at=as_utc(m["refresh_expires_at"]) if m["refresh_expires_at"] else None)


def load(conn: Connection, connector_id: int) -> tuple[ConnectorConfig, Token | None, datetime]:
    """The connector's config, stored token and pull cursor."""
    row = _row(conn, connector_id)
    return config_of(row), token_of(row), as_utc(row.pull_cursor)


def save_token(conn: Connection, connector_id: int, token: Token) -> None:
    conn.execute(update(db.connectors).where(C.id == connector_id).values(
        access_token=token.access_token, token_expires_at=token.expires_at, refresh_token=token.refresh_token or None,
        refresh_expires_at=token.refresh_expires_at))


def find(conn: Connection, platform: str, shop_id: str | None = None) -> list[ConnectorConfig]:
    """The connectors of ``platform`` (of one shop, if given), paused ones included: a push for a
    paused shop is still stored, and applied when it is resumed."""
    stmt = select(db.connectors).where(C.platform == platform)
    if shop_id is not None:
        stmt = stmt.where(C.shop_id == shop_id)
    return [config_of(r) for r in conn.execute(stmt.order_by(C.id))]


def set_enabled(conn: Connection, connector_id: int, enabled: bool) -> None:
    _row(conn, connector_id)
    values: dict[str, Any] = {"enabled": enabled}
    if enabled:  # resumed: pull at once, and forget the back-off of before the pause
        values.update(next_pull_at=utcnow(), attempts=0)
    conn.execute(update(db.connectors).where(C.id == connector_id).values(**values))


# -- scheduling and the lease ---------------------------------------------------------------------

def due(conn: Connection, now: datetime) -> list[int]:
    """Enabled connectors whose next pull is due and whose lease (if any) has run out."""
    stmt = (select(C.id).where(C.enabled.is_(True), C.next_pull_at <= now)
            .where((C.lease_until.is_(None)) | (C.lease_until < now)).order_by(C.next_pull_at))
    return [int(r[0]) for r in conn.execute(stmt)]


def next_due_in(conn: Connection, now: datetime) -> float | None:
    """Seconds until the next enabled connector is due (None without any)."""
    row = conn.execute(select(C.next_pull_at).where(C.enabled.is_(True)).order_by(C.next_pull_at).limit(1)).first()
    if row is None:
        return None
    return max(0.0, (as_utc(row[0]) - now).total_seconds())


def claim(conn: Connection, connector_id: int, owner: str, now: datetime, lease_s: float) -> bool:
    """Take the connector's lease (one atomic UPDATE: two processes cannot both win it)."""
    res = conn.execute(update(db.connectors).where(
        C.id == connector_id, C.enabled.is_(True),
        (C.lease_until.is_(None)) | (C.lease_until < now) | (C.lease_owner == owner),
    ).values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s)))
    return res.rowcount == 1


class LeaseLost(Exception):
    """Another process took the connector over (this one was too slow): its work is rolled back."""


def renew(conn: Connection, connector_id: int, owner: str, now: datetime, lease_s: float) -> None:
    """Extend the lease inside a page's transaction; :class:`LeaseLost` rolls the page back."""
    res = conn.execute(update(db.connectors).where(C.id == connector_id, C.lease_owner == owner)
                       .values(lease_until=now + timedelta(seconds=lease_s)))
    if res.rowcount != 1:
        raise LeaseLost(f"connector {connector_id}: lease lost")


def release(conn: Connection, connector_id: int, owner: str, next_pull_at: datetime, started: datetime) -> None:
    """Give the lease back and schedule the next pull — sooner if someone asked for one (resume)
    while this pull ran."""
    row = conn.execute(select(C.next_pull_at).where(C.id == connector_id, C.lease_owner == owner)).first()
    if row is None:
        return
    asked = as_utc(row.next_pull_at)
    when = min(asked, next_pull_at) if asked > started else next_pull_at
    conn.execute(update(db.connectors).where(C.id == connector_id, C.lease_owner == owner)
                 .values(lease_owner=None, lease_until=None, next_pull_at=when))


def advance(conn: Connection, connector_id: int, *, cursor: datetime | None, brought: int,
            newest: datetime | None, now: datetime, tz: str) -> None:
    """After a page: the cursor (only forward), orders today and the newest update seen."""
    row = conn.execute(select(C.pull_cursor, C.newest_update_at, C.orders_day, C.orders_today)
                       .where(C.id == connector_id)).one()
    day = local_day(now, tz).isoformat()
    values: dict[str, Any] = {"orders_day": day,
                              "orders_today": (row.orders_today if row.orders_day == day else 0) + brought}
    if cursor is not None and cursor > as_utc(row.pull_cursor):
        values["pull_cursor"] = cursor
    if newest is not None and (row.newest_update_at is None or newest > as_utc(row.newest_update_at)):
        values["newest_update_at"] = newest
    conn.execute(update(db.connectors).where(C.id == connector_id).values(**values))


def record_success(conn: Connection, connector_id: int, now: datetime) -> None:
    conn.execute(update(db.connectors).where(C.id == connector_id).values(
        last_pull_at=now, attempts=0, last_error=None, last_error_kind=None, failing_since=None))


def record_failure(conn: Connection, connector_id: int, err: PlatformError, now: datetime) -> int:
    """Note the failure in plain words (``err.message`` never holds a secret); returns the attempt count."""
    row = conn.execute(select(C.attempts, C.failing_since).where(C.id == connector_id)).one()
    attempts = int(row.attempts) + 1
    words = err.message + (f" (platform code {err.code})" if err.code else "")
    conn.execute(update(db.connectors).where(C.id == connector_id).values(
        attempts=attempts, last_error=words[:1000], last_error_kind=err.kind.value,
        failing_since=row.failing_since or now))
    return attempts


# -- which connector brought an order ---------------------------------------------------------------

def remember_orders(conn: Connection, connector_id: int, order_ids: Iterable[str]) -> None:
    """Record the connector of these orders (new ones only: an order keeps the shop it came from)."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    known = {r[0] for r in conn.execute(select(db.connector_orders.c.order_id)
                                        .where(db.connector_orders.c.order_id.in_(ids)))}
    rows = [{"order_id": oid, "connector_id": connector_id} for oid in ids if oid not in known]
    if rows:
        conn.execute(insert(db.connector_orders), rows)


def connectors_of_orders(conn: Connection, order_ids: list[str]) -> dict[str, int]:
    if not order_ids:
        return {}
    co = db.connector_orders.c
    return {r.order_id: int(r.connector_id)
            for r in conn.execute(select(co.order_id, co.connector_id).where(co.order_id.in_(order_ids)))}


# -- what people see ------------------------------------------------------------------------------

def health_of(m: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Plain-words health of one connector row: state, last pull, lag, orders today, last error."""
    failing_since = as_utc(m["failing_since"]) if m["failing_since"] else None
    newest = as_utc(m["newest_update_at"]) if m["newest_update_at"] else None
    today = local_day(now).isoformat()
    if not m["enabled"]:
        state = "paused"
    elif failing_since is not None:
        state = "failing"
    elif m["last_pull_at"] is None:
        state = "starting"
    else:
        state = "ok"
    return {
        "state": state,
        "last_pull_at": iso(as_utc(m["last_pull_at"])) if m["last_pull_at"] else None,
        "pulled_through": iso(as_utc(m["pull_cursor"])),
        "newest_update_at": iso(newest),
        "lag_s": round((now - newest).total_seconds(), 1) if newest else None,
        "orders_today": int(m["orders_today"]) if m["orders_day"] == today else 0,
        "last_error": m["last_error"],
        "last_error_kind": m["last_error_kind"],
        "failing_since": iso(failing_since),
        "failing_for_s": round((now - failing_since).total_seconds(), 1) if failing_since else None,
        "warn": bool(failing_since and (now - failing_since).total_seconds() >= FAILING_WARN_S and m["enabled"]),
    }


def public_row(m: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A connector as an admin sees it: settings (the app key's last 4 characters only), no secret, no token."""
    key = str(m["app_key"])
    return {
        "id": m["id"], "platform": m["platform"], "shop_id": m["shop_id"],
        "app_key": ("…" + key[-4:]) if len(key) > 4 else "…",
        "base_url": m["base_url"], "interval_s": m["interval_s"], "enabled": m["enabled"],
        "extra_keys": sorted((m["extra"] or {}).keys()),
        "has_token": bool(m["access_token"]),
        "created_at": iso(as_utc(m["created_at"])),
        "health": health_of(m, now),
    }


def list_connectors(conn: Connection, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    return [public_row(dict(r._mapping), now) for r in conn.execute(select(db.connectors).order_by(C.id))]


def get_public(conn: Connection, connector_id: int) -> dict[str, Any]:
    return public_row(dict(_row(conn, connector_id)._mapping), utcnow())


def health_summary(conn: Connection, now: datetime | None = None) -> dict[str, Any]:
    """What a desk may read: each shop's state, lag and last error — no keys, no URLs, no secrets."""
    now = now or utcnow()
    out = []
    for r in conn.execute(select(db.connectors).order_by(C.id)):
        h = health_of(dict(r._mapping), now)
        out.append({"id": r.id, "platform": r.platform, "shop_id": r.shop_id, **h})
    return {"connectors": out, "warn": any(c["warn"] for c in out)}
