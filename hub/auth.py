"""Operators, stations and bearer tokens (docs/security.md).

An operator logs in with code + PIN on an *approved* station; every request then reads the
operator's current role and the station's current bench and status through its token, so a PIN
change, a role change, a deactivation or a revoked station takes effect on the next request.
Only a hash of each token and PIN is stored.

Logins are guarded per operator code and per station (:func:`attempt_login`): after
``login_backoff_after`` failures each next try waits (1 s doubling up to 60 s), after
``login_lockout_after`` the code or station is locked for ``login_lockout_s`` unless an admin lifts
it (:func:`unlock`). The counters live in the database, so every hub process and a restart share
them; every attempt is written to ``login_attempts`` (never the PIN).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.roles import Role
from core.timeutil import as_utc, iso, utcnow
from hub import action_keys, db
from hub.config import HubSettings
from hub.writer import Actor

log = logging.getLogger("packdesk.hub.auth")

PIN_ITERATIONS = 20_000

#: Seeded into an empty *demo* hub (``--demo``) so the demo can log in at once. A real hub never
#: seeds them, and refuses a login with one of these default PINs (``default_pin``).
DEMO_OPERATORS = [
    ("P001", "王小明", Role.PACKER, "1111"),
    ("P002", "李娜", Role.PACKER, "1111"),
    ("D001", "张丽", Role.DESK, "2222"),
    ("S001", "陈强", Role.SUPERVISOR, "3333"),
    ("A001", "管理员", Role.ADMIN, "0000"),
]


class AuthError(UserError):
    code = "unauthorized"


class Forbidden(UserError):
    code = "forbidden"


class Conflict(UserError):
    code = "conflict"


STATION_STATUSES = ("pending", "approved", "revoked")
BACKOFF_MAX_S = 60
#: Checked against for an unknown operator code, so it costs the same PBKDF2 as a known one.
_DUMMY_PIN_HASH = f"pbkdf2${PIN_ITERATIONS}${'00' * 16}${'00' * 32}"
_DEMO_PINS = {code: pin for code, _n, _r, pin in DEMO_OPERATORS}


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2${PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        _, iters, salt, digest = stored.split("$")
    except ValueError:
        return False
    got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iters))
    return hmac.compare_digest(got.hex(), digest)


def seed_operators(conn: Connection) -> bool:
    """Create the demo operators in an empty hub (a demo hub only); returns whether it did."""
    if conn.execute(select(db.operators.c.code).limit(1)).first() is not None:
        return False
    conn.execute(db.operators.insert(), [
        {"code": c, "name": n, "role": r.value, "pin_hash": hash_pin(p), "active": True} for c, n, r, p in DEMO_OPERATORS
    ])
    log.warning("Demo hub: seeded demo operators with default PINs (A001/0000 …); never use them for real work.")
    return True


def has_operators(conn: Connection) -> bool:
    return conn.execute(select(db.operators.c.code).where(db.operators.c.active.is_(True)).limit(1)).first() is not None


def record_event(conn: Connection, actor: str, what: str, subject: str, **details: Any) -> None:
    """One line in ``security_events``: who approved, revoked, moved, unlocked or changed what."""
    conn.execute(db.security_events.insert().values(at=utcnow(), actor=actor[:64], what=what, subject=subject[:64],
                                                    details=details))


def end_tokens(conn: Connection, *, operator: str | None = None, station: str | None = None) -> int:
    """Delete the tokens of an operator or a station: they stop working on the next request."""
    t = db.tokens.c
    cond = t.operator == operator if operator is not None else t.station == station
    return int(conn.execute(delete(db.tokens).where(cond)).rowcount or 0)


def set_operator(conn: Connection, code: str, name: str, role: Role, pin: str, *, by: str = "cli") -> None:
    """Create or update an operator; an update ends the operator's old tokens (new PIN, new role)."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise UserError("A PIN is 4 to 8 digits.", code="validation_failed")
    row = {"name": name, "role": role.value, "pin_hash": hash_pin(pin), "active": True}
    if conn.execute(select(db.operators.c.code).where(db.operators.c.code == code)).first():
        conn.execute(db.operators.update().where(db.operators.c.code == code).values(**row))
        ended = end_tokens(conn, operator=code)
        record_event(conn, by, "operator_updated", code, role=role.value, tokens_ended=ended)
    else:
        conn.execute(db.operators.insert().values(code=code, **row))
        record_event(conn, by, "operator_created", code, role=role.value)


def deactivate_operator(conn: Connection, code: str, *, by: str = "cli") -> None:
    """An operator who left: no login, and every token of theirs ends now."""
    done = conn.execute(update(db.operators).where(db.operators.c.code == code).values(active=False)).rowcount
    if not done:
        raise UserError(f"No operator {code}.", code="not_found")
    ended = end_tokens(conn, operator=code)
    record_event(conn, by, "operator_deactivated", code, tokens_ended=ended)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- login guard ---------------------------------------------------------------------------------

def _guard_row(conn: Connection, key: str) -> tuple[int, datetime | None]:
    """Lock the guard row of ``key`` (created at 0) until commit and read it.

    The no-op upsert takes the row lock, so two attempts on one operator code queue here: parallel
    guesses cannot all pass the check before the first failure is counted.
    """
    row = conn.execute(text(
        "INSERT INTO login_guard (key, failures) VALUES (:k, 0) "
        "ON CONFLICT (key) DO UPDATE SET failures = login_guard.failures RETURNING failures, blocked_until"),
        {"k": key}).first()
    assert row is not None
    until = row[1]
    if isinstance(until, str):  # SQLite through a text() statement: the stored ISO text
        until = datetime.fromisoformat(until)
    return int(row[0]), as_utc(until) if until is not None else None


def _count_failure(conn: Connection, key: str, failures: int, now: datetime, settings: HubSettings) -> datetime | None:
    failures += 1
    until: datetime | None = None
    if failures >= settings.login_lockout_after:
        until = now + timedelta(seconds=settings.login_lockout_s)
    elif failures >= settings.login_backoff_after:
        until = now + timedelta(seconds=min(BACKOFF_MAX_S, 2 ** (failures - settings.login_backoff_after)))
    conn.execute(update(db.login_guard).where(db.login_guard.c.key == key)
                 .values(failures=failures, blocked_until=until, last_failure_at=now))
    return until


def _clear(conn: Connection, keys: Collection[str]) -> int:
    return int(conn.execute(update(db.login_guard).where(db.login_guard.c.key.in_(list(keys)))
                            .values(failures=0, blocked_until=None)).rowcount or 0)


def unlock(conn: Connection, *, operator: str | None = None, station: str | None = None, by: str = "cli") -> int:
    """Lift the back-off and lockout of an operator code and/or a station; returns rows cleared."""
    keys = ([f"op:{operator}"] if operator else []) + ([f"st:{station}"] if station else [])
    if not keys:
        raise UserError("Name an operator or a station to unlock.", code="validation_failed")
    n = _clear(conn, keys)
    record_event(conn, by, "login_unlocked", operator or station or "", operator=operator, station=station)
    return n


def prune_login_records(conn: Connection, *, keep_attempts_s: int = 90 * 24 * 3600) -> int:
    """Forget counters with nothing to hold against anyone, and login attempts older than 90 days.

    Codes and station names in the guard table come from requests, so random ones would otherwise
    grow it for ever; a counter is kept while it has failures less than a day old or a block running.
    """
    now = utcnow()
    g = db.login_guard.c
    day_ago = now - timedelta(days=1)
    n = conn.execute(delete(db.login_guard).where(
        (g.failures == 0) | ((g.last_failure_at < day_ago) & ((g.blocked_until.is_(None)) | (g.blocked_until < now))))
    ).rowcount or 0
    n += conn.execute(delete(db.login_attempts).where(
        db.login_attempts.c.at < now - timedelta(seconds=keep_attempts_s))).rowcount or 0
    return int(n)


def _attempt(conn: Connection, now: datetime, operator: str, station: str, device_id: str, result: str) -> None:
    conn.execute(db.login_attempts.insert().values(at=now, operator=operator[:32], station=station[:64],
                                                   device_id=device_id[:64], result=result))


def login_attempts(conn: Connection, *, operator: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    a = db.login_attempts.c
    stmt = select(db.login_attempts).order_by(a.id.desc()).limit(limit)
    if operator:
        stmt = stmt.where(a.operator == operator)
    return [{"at": iso(as_utc(r.at)), "operator": r.operator, "station": r.station, "device_id": r.device_id,
             "result": r.result} for r in conn.execute(stmt)]


def security_events(conn: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    e = db.security_events.c
    return [{"at": iso(as_utc(r.at)), "actor": r.actor, "what": r.what, "subject": r.subject, "details": r.details}
            for r in conn.execute(select(db.security_events).order_by(e.id.desc()).limit(limit))]


# -- stations ------------------------------------------------------------------------------------

def station_doc(row: Any) -> dict[str, Any]:
    def t(v: datetime | None) -> str | None:
        return iso(as_utc(v)) if v is not None else None
    return {"name": row.name, "status": row.status, "bench": row.bench, "device_id": row.device_id,
            "requested_bench": row.requested_bench, "requested_device_id": row.requested_device_id,
            "requested_by": row.requested_by, "requested_at": t(row.requested_at),
            "approved_by": row.approved_by, "approved_at": t(row.approved_at), "created_at": t(row.created_at)}


def list_stations(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    s = db.stations.c
    stmt = select(db.stations).order_by(s.name)
    if status:
        stmt = stmt.where(s.status == status)
    return [station_doc(r) for r in conn.execute(stmt)]


def _station(conn: Connection, name: str) -> Any:
    row = conn.execute(select(db.stations).where(db.stations.c.name == name)).first()
    if row is None:
        raise UserError(f"No station {name}.", code="not_found", details={"station": name})
    return row


def _check_bench(bench: str | None, benches: Collection[str] | None) -> None:
    if bench is not None and benches is not None and bench not in benches:
        raise UserError(f"Bench {bench} is not in the routing rules; known benches: {', '.join(benches)}.",
                        code="unknown_bench", details={"bench": bench, "known": list(benches)})


def approve_station(conn: Connection, name: str, *, bench: str | None, by: str, device_id: str | None = None,
                    benches: Collection[str] | None = None, create: bool = False) -> dict[str, Any]:
    """Let a station act, on ``bench`` (None: the bench it asked for; ``""``: none, a desk PC).

    It is bound to ``device_id`` if given, else to the device that asked; a station approved before
    any device asked (``create``, from the CLI) is bound by its first login. Old tokens of the
    station end when its device changes.
    """
    now = utcnow()
    row = conn.execute(select(db.stations).where(db.stations.c.name == name)).first()
    if row is None and not create:
        raise UserError(f"No station {name} has asked to be approved.", code="not_found", details={"station": name})
    if bench is None and row is not None:
        bench = (row.requested_bench if row.status != "approved" else None) or row.bench
    bench = bench or None
    _check_bench(bench, benches)
    device = device_id or (row.requested_device_id if row is not None else None) or (row.device_id if row else None)
    values = {"status": "approved", "bench": bench, "device_id": device, "approved_by": by, "approved_at": now,
              "requested_bench": None, "requested_device_id": None, "requested_by": None, "requested_at": None}
    if row is None:
        conn.execute(db.stations.insert().values(name=name, created_at=now, **values))
    else:
        conn.execute(update(db.stations).where(db.stations.c.name == name).values(**values))
        if row.device_id != device or row.bench != bench:
            end_tokens(conn, station=name)
    record_event(conn, by, "station_approved", name, bench=bench, device_id=device)
    return station_doc(_station(conn, name))


def revoke_station(conn: Connection, name: str, *, by: str) -> dict[str, Any]:
    """The station can do nothing from now on: its tokens end at once."""
    _station(conn, name)
    conn.execute(update(db.stations).where(db.stations.c.name == name).values(status="revoked"))
    ended = end_tokens(conn, station=name)
    record_event(conn, by, "station_revoked", name, tokens_ended=ended)
    return station_doc(_station(conn, name))


def move_station(conn: Connection, name: str, *, bench: str | None, by: str,
                 benches: Collection[str] | None = None) -> dict[str, Any]:
    """Put the station on another bench (``None``/``""``: no bench, a desk PC); its tokens end."""
    row = _station(conn, name)
    bench = bench or None
    _check_bench(bench, benches)
    conn.execute(update(db.stations).where(db.stations.c.name == name).values(bench=bench))
    ended = end_tokens(conn, station=name)
    record_event(conn, by, "station_moved", name, bench=bench, was=row.bench, tokens_ended=ended)
    return station_doc(_station(conn, name))


def _request_station(conn: Connection, st: Any, name: str, bench: str | None, device_id: str, operator: str,
                     now: datetime) -> None:
    """Leave the request for a supervisor to see (a new station starts pending)."""
    req = {"requested_bench": bench, "requested_device_id": device_id, "requested_by": operator, "requested_at": now}
    if st is None:
        conn.execute(db.stations.insert().values(name=name, bench=None, created_at=now, status="pending", **req))
    else:
        conn.execute(update(db.stations).where(db.stations.c.name == name).values(**req))


# -- login ---------------------------------------------------------------------------------------

def attempt_login(conn: Connection, settings: HubSettings, *, operator: str, pin: str, station: str,
                  bench: str | None, device_id: str, benches: Collection[str] | None = None,
                  min_role: Role | None = None) -> dict[str, Any] | UserError:
    """Check a login and hand out a token for ``station``; a refusal is *returned*, not raised.

    Returned so the caller commits what a refusal writes (the failure count, the attempt, a
    station's request) before answering with it. A packer's or desk's login on a station that is
    not approved leaves a request and is refused (``station_pending``): a pending station can do
    nothing. A supervisor's or admin's login approves a new or pending station itself (audited).
    A demo hub approves every station on its first login. ``min_role`` (the phone dashboard's
    login: supervisor) refuses a right PIN of a lower role with ``role_refused`` before the station
    is looked at, so a packer's try leaves no station request behind.
    """
    now = utcnow()
    bench = bench or None
    keys = (f"op:{operator}", f"st:{station}")
    guards = [_guard_row(conn, k) for k in keys]
    blocked = [(until, n) for n, until in guards if until is not None and until > now]
    if blocked:
        until, failures = max(blocked)
        wait = max(1, int((until - now).total_seconds() + 0.999))
        locked = failures >= settings.login_lockout_after
        _attempt(conn, now, operator, station, device_id, "locked" if locked else "throttled")
        if locked:
            return UserError(f"Too many wrong PINs: this login is locked for {wait // 60 + 1} minutes, or until an "
                             "admin lifts it (python main.py hub unlock CODE).", code="login_locked",
                             details={"retry_after_s": wait})
        return UserError(f"Too many wrong PINs; wait {wait} s before the next try.", code="login_throttled",
                         details={"retry_after_s": wait})
    row = conn.execute(select(db.operators).where(db.operators.c.code == operator)).first()
    # The same PBKDF2 whether or not the code exists: the answer time says nothing about it.
    pin_ok = check_pin(pin, row.pin_hash if row is not None else _DUMMY_PIN_HASH)
    if row is None or not row.active or not pin_ok:
        if row is None and not has_operators(conn):
            _attempt(conn, now, operator, station, device_id, "no_operators")
            return UserError("This hub has no operators yet. On the hub's PC, create the first admin: "
                             "python main.py hub set-pin A001 --name NAME --role admin --pin PIN",
                             code="no_operators")
        for key, (failures, _until) in zip(keys, guards, strict=True):
            _count_failure(conn, key, failures, now, settings)
        _attempt(conn, now, operator, station, device_id, "bad_credentials")
        return AuthError("Operator code or PIN is wrong.", code="bad_credentials")
    if not settings.demo and _DEMO_PINS.get(operator) == pin:
        _attempt(conn, now, operator, station, device_id, "default_pin")
        return Forbidden(f"Operator {operator} still has the demo PIN. An admin must set a new one first "
                         f"(python main.py hub set-pin {operator} ...).", code="default_pin")
    _clear(conn, keys)
    role = Role(row.role)
    if min_role is not None and not role.at_least(min_role):
        _attempt(conn, now, operator, station, device_id, "role_refused")
        return Forbidden(f"This login is for the {min_role.value} role or above.", code="role_refused")
    refused = _station_check(conn, settings, role, operator, station, bench, device_id, benches, now)
    if refused is not None:
        _attempt(conn, now, operator, station, device_id, refused.code)
        return refused
    st = _station(conn, station)
    if role is Role.PACKER and not st.bench:
        _attempt(conn, now, operator, station, device_id, "forbidden")
        return Forbidden(f"Station {station} has no bench; a packer must log in on a bench station.")
    seen = update(db.station_logins).where(db.station_logins.c.station == station,
                                           db.station_logins.c.operator == operator).values(last_login_at=now)
    if conn.execute(seen).rowcount == 0:
        conn.execute(db.station_logins.insert().values(station=station, operator=operator, last_login_at=now))
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=settings.token_ttl_s)
    conn.execute(delete(db.tokens).where(db.tokens.c.expires_at < now))
    conn.execute(db.tokens.insert().values(token_hash=_token_hash(token), operator=operator, role=role.value,
                                           station=station, bench=st.bench, device_id=device_id, expires_at=expires))
    _attempt(conn, now, operator, station, device_id, "ok")
    return {"token": token, "expires_at": iso(expires), "operator": {"code": operator, "name": row.name, "role": role.value},
            "station": {"name": station, "bench": st.bench}, "device_id": device_id,
            "action_key": action_keys.issue(conn, operator=operator, device_id=device_id, station=station, now=now,
                                            ttl_s=settings.action_key_ttl_s)}


def _station_check(conn: Connection, settings: HubSettings, role: Role, operator: str, station: str,
                   bench: str | None, device_id: str, benches: Collection[str] | None,
                   now: datetime) -> UserError | None:
    """None if ``station`` may be used from ``device_id`` now (approving it if this login may)."""
    st = conn.execute(select(db.stations).where(db.stations.c.name == station)).first()
    if st is not None and st.status == "approved" and st.device_id in (None, device_id):
        if st.device_id is None and not settings.demo:  # approved ahead from the CLI: its first login binds it
            conn.execute(update(db.stations).where(db.stations.c.name == station).values(device_id=device_id))
            record_event(conn, operator, "station_bound", station, device_id=device_id)
        if bench is not None and bench != st.bench:
            return Conflict(f"Station {station} is registered for bench {st.bench}, not {bench}. "
                            "Ask a supervisor to move it, or choose the right station name.",
                            code="station_bench_mismatch", details={"station": station, "bench": st.bench})
        return None
    new_or_pending = st is None or st.status == "pending"
    if new_or_pending and (settings.demo or role.at_least(Role.SUPERVISOR)):
        wanted = bench if bench is not None or st is None else st.requested_bench
        try:
            _check_bench(wanted, benches)
        except UserError as exc:
            return exc
        if settings.demo:
            # One PC, many test sessions: a demo station is not bound to a device.
            log.warning("Demo hub: station %s approved on its first login (bench %s); a real hub waits for a "
                        "supervisor.", station, wanted)
            approve_station(conn, station, bench=wanted or "", by=f"demo:{operator}", create=True)
        else:
            approve_station(conn, station, bench=wanted or "", by=operator, device_id=device_id, create=True)
        return None
    _request_station(conn, st, station, bench, device_id, operator, now)
    if st is not None and st.status == "revoked":
        return Forbidden(f"Station {station} has been revoked; a supervisor must approve it again.",
                         code="station_revoked", details={"station": station})
    if st is not None and st.status == "approved":
        return Forbidden(f"Station {station} is bound to another PC. If this PC replaces it, a supervisor must "
                         "approve the station again.", code="station_device_mismatch", details={"station": station})
    return Forbidden(f"Station {station} waits for a supervisor's approval; until then it can do nothing.",
                     code="station_pending", details={"station": station, "bench": bench})


def logout(conn: Connection, authorization: str | None) -> bool:
    token = _bearer(authorization)
    return bool(conn.execute(delete(db.tokens).where(db.tokens.c.token_hash == _token_hash(token))).rowcount)


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("Log in first: this needs a bearer token.")
    return authorization[7:].strip()


def authenticate(conn: Connection, authorization: str | None) -> Actor:
    """Who calls, as of *now*: the operator's current role and the station's current bench.

    Read through a join on every request, so a role change, a deactivation, a revoked or re-bound
    station takes effect at once even for a token issued before it.
    """
    token = _bearer(authorization)
    t, o, s = db.tokens.c, db.operators.c, db.stations.c
    row = conn.execute(
        select(t.operator, t.station, t.device_id, t.expires_at, o.role, o.active, s.status, s.bench,
               s.device_id.label("station_device"))
        .select_from(db.tokens.join(db.operators, o.code == t.operator).outerjoin(db.stations, s.name == t.station))
        .where(t.token_hash == _token_hash(token))).first()
    if row is None:
        raise AuthError("This token is not valid; log in again.")
    if as_utc(row.expires_at) <= utcnow():
        raise AuthError("Your login has expired; log in again.", code="token_expired")
    if not row.active or row.status != "approved" or row.station_device not in (None, row.device_id):
        raise AuthError("This login was ended (operator or station changed); log in again.", code="token_revoked")
    if row.role == Role.PACKER.value and not row.bench:
        raise AuthError("This station has no bench any more; log in again.", code="token_revoked")
    return Actor(operator=row.operator, station=row.station, role=row.role, bench=row.bench, device_id=row.device_id)


def require(actor: Actor, role: Role) -> None:
    if not Role(actor.role).at_least(role):
        raise Forbidden(f"This needs the {role.value} role or above; you are {actor.role}.")
