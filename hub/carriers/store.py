"""E-waybill accounts: the one door to ``carrier_accounts``.

What an admin enters (:func:`add`, from ``python main.py hub carriers add``), what the queue's
worker needs to call a provider (:func:`account`), which provider numbers a carrier's orders at
allocation (:func:`account_for`), and what people see (:func:`public_row`) — never a setting's
value: an account's settings hold its keys and passwords.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from core.errors import UserError, ValidationFailed
from core.timeutil import as_utc, iso, utcnow
from hub import db
from hub.carriers.base import Address, CarrierAccount, CarrierError
from hub.carriers.registry import PROVIDER_MODULES

A = db.carrier_accounts.c

SENDER_FIELDS = ("name", "phone", "province", "city", "district", "address", "postcode")


class CarrierAccountNotFound(UserError):
    code = "carrier_account_not_found"


def add(conn: Connection, *, carrier: str, provider: str, base_url: str, sender: Mapping[str, str],
        settings: Mapping[str, str], enabled: bool = True, now: datetime | None = None) -> int:
    """Add the e-waybill account of a carrier; returns its id.

    Raises:
        ValidationFailed: an unknown provider, a carrier that has an account already, a base URL
            that is not http(s), a sender without name, phone, province, city or address.
    """
    now = now or utcnow()
    carrier = (carrier or "").strip().upper()
    if not re.match(r"^[A-Z0-9_]{1,16}$", carrier):
        raise ValidationFailed("'carrier' must be the carrier's code of the rules file (e.g. ZTO).",
                               details={"field": "carrier"})
    if provider not in PROVIDER_MODULES:
        raise ValidationFailed(f"Unknown e-waybill provider {provider!r}; known: {', '.join(PROVIDER_MODULES)}.",
                               details={"field": "provider"})
    if provider != "demo" and not re.match(r"^https?://[^\s/]+", base_url or ""):
        raise ValidationFailed("'base_url' must be the provider's endpoint, starting with https:// (or http:// for "
                               "a local test server).", details={"field": "base_url"})
    snd = {k: str(sender.get(k) or "").strip() for k in SENDER_FIELDS}
    for k in ("name", "phone", "province", "city", "address"):
        if provider != "demo" and not snd[k]:
            raise ValidationFailed(f"The sender's {k} must not be empty: every waybill carries it.",
                                   details={"field": f"sender.{k}"})
    if conn.execute(select(A.id).where(A.carrier == carrier)).first():
        raise ValidationFailed(f"Carrier {carrier} has an e-waybill account already.", details={"field": "carrier"})
    res = conn.execute(insert(db.carrier_accounts).values(
        carrier=carrier, provider=provider, base_url=(base_url or "").rstrip("/"), sender=snd,
        settings={str(k): str(v) for k, v in settings.items()}, enabled=enabled, created_at=now))
    assert res.inserted_primary_key is not None
    return int(res.inserted_primary_key[0])


def _row(conn: Connection, account_id: int) -> Row[Any]:
    row = conn.execute(select(db.carrier_accounts).where(A.id == account_id)).first()
    if row is None:
        raise CarrierAccountNotFound(f"No carrier account {account_id}.", details={"account_id": account_id})
    return row


def account_of(m: Mapping[str, Any]) -> CarrierAccount:
    snd = dict(m["sender"] or {})
    return CarrierAccount(account_id=int(m["id"]), carrier=m["carrier"], provider=m["provider"], base_url=m["base_url"],
                          sender=Address(**{k: str(snd.get(k) or "") for k in SENDER_FIELDS}),
                          settings=dict(m["settings"] or {}))


def account(conn: Connection, account_id: int) -> tuple[CarrierAccount, bool]:
    """The account (with its secrets, for the worker only) and whether it is enabled."""
    row = _row(conn, account_id)
    return account_of(dict(row._mapping)), bool(row.enabled)


def account_for(conn: Connection, carrier: str) -> tuple[int, str] | None:
    """(account id, provider) of the carrier's account; None: the carrier has none (demo numbers)."""
    row = conn.execute(select(A.id, A.provider).where(A.carrier == carrier)).first()
    return None if row is None else (int(row.id), str(row.provider))


def set_enabled(conn: Connection, account_id: int, enabled: bool) -> None:
    _row(conn, account_id)
    conn.execute(update(db.carrier_accounts).where(A.id == account_id).values(enabled=enabled))


def record_success(conn: Connection, account_id: int, now: datetime) -> None:
    conn.execute(update(db.carrier_accounts).where(A.id == account_id).values(
        last_ok_at=now, last_error=None, last_error_kind=None, failing_since=None))


def record_failure(conn: Connection, account_id: int, err: CarrierError, now: datetime) -> None:
    """The provider's problem in plain words (``err.message`` never holds a secret)."""
    row = conn.execute(select(A.failing_since).where(A.id == account_id)).first()
    if row is None:
        return
    words = err.message + (f" (provider code {err.code})" if err.code else "")
    conn.execute(update(db.carrier_accounts).where(A.id == account_id).values(
        last_error=words[:1000], last_error_kind=err.kind.value, failing_since=row.failing_since or now))


def public_row(m: Mapping[str, Any]) -> dict[str, Any]:
    """An account as an admin sees it: which settings are set (their names), never their values."""
    return {
        "id": m["id"], "carrier": m["carrier"], "provider": m["provider"], "base_url": m["base_url"],
        "enabled": bool(m["enabled"]), "sender": dict(m["sender"] or {}),
        "setting_keys": sorted((m["settings"] or {}).keys()),
        "last_ok_at": iso(as_utc(m["last_ok_at"])) if m["last_ok_at"] else None,
        "last_error": m["last_error"], "last_error_kind": m["last_error_kind"],
        "failing_since": iso(as_utc(m["failing_since"])) if m["failing_since"] else None,
        "created_at": iso(as_utc(m["created_at"])),
    }


def list_accounts(conn: Connection) -> list[dict[str, Any]]:
    return [public_row(dict(r._mapping)) for r in conn.execute(select(db.carrier_accounts).order_by(A.id))]
