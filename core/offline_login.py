"""Login: operator code + PIN, checked by the hub — or, offline, against this station's memory.

Why offline login: a bench must keep packing when the network drops at 9 am. An operator who has
logged in successfully on *this* station before may log in while the hub is unreachable; the station
keeps a salted PBKDF2 hash of the PIN with the operator's name and role (in the local store's meta
table, never the PIN itself). The sync engine still gets the credentials (in memory) and logs in
for real when the hub comes back; the hub then checks the PIN again. An operator the station has
never seen is refused while offline.

Qt-free, in two steps for the two workers of ``ui/tasks.py``: :func:`hub_login` talks to the hub
(network pool: it may wait for seconds) and hashes a new PIN record; :func:`finish_login` writes or
reads the store (database worker: the store has one writer). The login dialog only chains them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass

from core.errors import UserError
from core.i18n import _
from core.store import LocalStore
from core.sync import HubError, HubUnauthorized, LoginInfo, SyncEngine, WrongStation
from core.timeutil import iso, utcnow

log = logging.getLogger("packdesk.core.offline_login")

ITERATIONS = 120_000
META_PREFIX = "known_operator:"


@dataclass(frozen=True)
class KnownOperator:
    """Who logged in: operator code, name and role (``packer`` | ``desk`` | ``supervisor`` | ``admin``)."""

    code: str
    name: str
    role: str


@dataclass(frozen=True)
class LoginResult:
    """A successful login; ``offline``: checked against this station's memory, not by the hub."""

    operator: KnownOperator
    offline: bool


@dataclass(frozen=True)
class HubAnswer:
    """What :func:`hub_login` learnt: the hub's login (with the record to remember), or why it could not ask.

    Attributes:
        info: the hub's login; None when there is no hub or it cannot be reached.
        record: the salted PIN hash to keep for offline logins (JSON), with ``info``.
        unreachable: the error that says the hub cannot be reached (None without a hub at all).
    """

    info: LoginInfo | None = None
    record: str | None = None
    unreachable: HubError | None = None


class OfflineRefused(UserError):
    code = "offline_login_refused"


class WrongPin(UserError):
    code = "wrong_pin"


def _hash(pin: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)


def make_record(info: LoginInfo, pin: str) -> str:
    """The record kept after a hub login: name, role and a salted hash of the PIN (never the PIN). CPU only."""
    salt = os.urandom(16)
    return json.dumps({"code": info.operator, "name": info.operator_name, "role": info.role, "salt": salt.hex(),
                       "iterations": ITERATIONS, "hash": _hash(pin, salt, ITERATIONS).hex(),
                       "last_login": iso(utcnow())})


def store_record(store: LocalStore, code: str, record: str) -> None:
    """Keep a :func:`make_record` record (a store write: the database worker)."""
    with store.write() as conn:
        store.set_meta(conn, META_PREFIX + code, record)


def remember_operator(store: LocalStore, info: LoginInfo, pin: str) -> None:
    """After a successful hub login: keep a salted hash of the PIN with name and role (database worker)."""
    store_record(store, info.operator, make_record(info, pin))


def check_offline(store: LocalStore, code: str, pin: str) -> KnownOperator | None:
    """The operator if ``code`` logged in here before with this PIN; None otherwise (a store read)."""
    raw = store.meta(META_PREFIX + code)
    if raw is None:
        return None
    try:
        rec = json.loads(raw)
        expected = bytes.fromhex(rec["hash"])
        got = _hash(pin, bytes.fromhex(rec["salt"]), int(rec["iterations"]))
    except (ValueError, KeyError, TypeError):
        log.warning("offline login record for %s is unreadable; ignoring it", code)
        return None
    if not hmac.compare_digest(expected, got):
        return None
    return KnownOperator(code, str(rec.get("name") or code), str(rec.get("role") or "packer"))


def hub_login(engine: SyncEngine | None, code: str, pin: str) -> HubAnswer:
    """Step 1, network pool: log in on the hub. Raises :class:`WrongPin` or the hub's own refusal.

    A hub that cannot be reached is not an error here: the answer says so and :func:`finish_login`
    tries this station's memory.
    """
    if engine is None:
        return HubAnswer()
    try:
        info = engine.login(code, pin)
    except WrongStation:
        raise
    except HubUnauthorized as exc:
        if exc.code not in ("unauthorized", "bad_credentials"):
            raise  # refused for another reason (e.g. a packer on a desk station): the hub's own words
        raise WrongPin(_("Wrong operator code or PIN. Check them and try again.")) from exc
    except HubError as exc:
        return HubAnswer(unreachable=exc)  # the hub cannot be reached (or is failing)
    return HubAnswer(info, make_record(info, pin))


def finish_login(store: LocalStore, engine: SyncEngine | None, code: str, pin: str,
                 answer: HubAnswer) -> LoginResult:
    """Step 2, database worker: remember a hub login, or check an offline one. Raises :class:`OfflineRefused`."""
    if answer.info is not None:
        info = answer.info
        if answer.record is not None:
            store_record(store, info.operator, answer.record)
        return LoginResult(KnownOperator(info.operator, info.operator_name or info.operator, info.role), False)
    op = check_offline(store, code, pin)
    if op is None:
        if answer.unreachable is None:
            raise OfflineRefused(_("There is no hub to check the PIN, and operator {code} has not logged in on "
                                   "this station before.").format(code=code))
        raise OfflineRefused(_("The hub cannot be reached ({why}) and operator {code} has not logged in on "
                               "this station before (or the PIN is wrong). Offline login is only for "
                               "operators who logged in here before.").format(why=answer.unreachable.message,
                                                                              code=code)) from answer.unreachable
    if engine is not None:
        engine.set_credentials(code, pin)  # the engine logs in for real when the hub is back
    log.info("offline login for %s (%s)", code, op.role)
    return LoginResult(op, True)
