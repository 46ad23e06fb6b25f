"""Operators, stations and bearer tokens.

An operator logs in with code + PIN on a named station; the token carries the role and the
station's bench, so every request knows what its caller may see and do. Only a hash of each token
and PIN is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from core.errors import UserError
from core.roles import Role
from core.timeutil import as_utc, iso, utcnow
from hub import action_keys, db
from hub.writer import Actor

log = logging.getLogger("packdesk.hub.auth")

PIN_ITERATIONS = 20_000

#: Seeded into an empty hub so a new site can log in at once; a real site changes the PINs
#: (``python main.py hub set-pin CODE``). The hub logs a warning while any of them is unchanged.
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
    """Create the demo operators in an empty hub; returns whether it did."""
    if conn.execute(select(db.operators.c.code).limit(1)).first() is not None:
        return False
    conn.execute(db.operators.insert(), [
        {"code": c, "name": n, "role": r.value, "pin_hash": hash_pin(p), "active": True} for c, n, r, p in DEMO_OPERATORS
    ])
    log.warning("Seeded demo operators with default PINs; change them before real use.")
    return True


def set_operator(conn: Connection, code: str, name: str, role: Role, pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise UserError("A PIN is 4 to 8 digits.", code="validation_failed")
    row = {"name": name, "role": role.value, "pin_hash": hash_pin(pin), "active": True}
    if conn.execute(select(db.operators.c.code).where(db.operators.c.code == code)).first():
        conn.execute(db.operators.update().where(db.operators.c.code == code).values(**row))
    else:
        conn.execute(db.operators.insert().values(code=code, **row))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(conn: Connection, *, operator: str, pin: str, station: str, bench: str | None, device_id: str,
          ttl_s: int, benches: Collection[str] | None = None,
          key_ttl_s: int = action_keys.DEFAULT_TTL_S) -> dict[str, object]:
    """Check code + PIN and hand out a token for ``station``.

    An unknown station is registered with ``bench`` (``""`` means none: a desk PC). When ``benches``
    is given (the routing rules' benches), a new station must name one of them: a bench no order can
    ever be routed to would leave its packer with an empty queue and no hint why.
    """
    bench = bench or None
    row = conn.execute(select(db.operators).where(db.operators.c.code == operator)).first()
    if row is None or not row.active or not check_pin(pin, row.pin_hash):
        raise AuthError("Operator code or PIN is wrong.", code="bad_credentials")
    st = conn.execute(select(db.stations).where(db.stations.c.name == station)).first()
    now = utcnow()
    if st is None:
        if bench is not None and benches is not None and bench not in benches:
            raise UserError(f"Bench {bench} is not in the routing rules; known benches: {', '.join(benches)}.",
                            code="unknown_bench", details={"bench": bench, "known": list(benches)})
        conn.execute(db.stations.insert().values(name=station, bench=bench, created_at=now))
        st_bench = bench
    else:
        st_bench = st.bench
        if bench is not None and bench != st_bench:
            raise Conflict(f"Station {station} is registered for bench {st_bench}, not {bench}. "
                           "Ask an admin to move it, or choose the right station name.",
                           code="station_bench_mismatch", details={"station": station, "bench": st_bench})
    role = Role(row.role)
    if role is Role.PACKER and not st_bench:
        raise Forbidden(f"Station {station} has no bench; a packer must log in on a bench station.")
    seen = update(db.station_logins).where(db.station_logins.c.station == station,
                                           db.station_logins.c.operator == operator).values(last_login_at=now)
    if conn.execute(seen).rowcount == 0:
        conn.execute(db.station_logins.insert().values(station=station, operator=operator, last_login_at=now))
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=ttl_s)
    conn.execute(delete(db.tokens).where(db.tokens.c.expires_at < now))
    conn.execute(db.tokens.insert().values(token_hash=_token_hash(token), operator=operator, role=role.value,
                                           station=station, bench=st_bench, device_id=device_id, expires_at=expires))
    return {"token": token, "expires_at": iso(expires), "operator": {"code": operator, "name": row.name, "role": role.value},
            "station": {"name": station, "bench": st_bench}, "device_id": device_id,
            "action_key": action_keys.issue(conn, operator=operator, device_id=device_id, station=station, now=now,
                                            ttl_s=key_ttl_s)}


def authenticate(conn: Connection, authorization: str | None) -> Actor:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("Log in first: this needs a bearer token.")
    token = authorization[7:].strip()
    row = conn.execute(select(db.tokens).where(db.tokens.c.token_hash == _token_hash(token))).first()
    if row is None:
        raise AuthError("This token is not valid; log in again.")
    if as_utc(row.expires_at) <= utcnow():
        raise AuthError("Your login has expired; log in again.", code="token_expired")
    return Actor(operator=row.operator, station=row.station, role=row.role, bench=row.bench, device_id=row.device_id)


def require(actor: Actor, role: Role) -> None:
    if not Role(actor.role).at_least(role):
        raise Forbidden(f"This needs the {role.value} role or above; you are {actor.role}.")
