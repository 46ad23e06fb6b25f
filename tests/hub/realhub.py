"""A real (non-demo) hub for the security tests: own channel secret, operators made by the CLI's code.

No demo operators, no demo secrets, no station approved on first login: what a site runs.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import requests

from core.demo import generate_orders
from core.model import intake_to_json
from core.roles import Role
from hub import auth, db
from tests.helpers.hubapi import push
from tests.hubproc import HubProcess

GENERIC_SECRET = "generic-site-secret-7f3a"
#: Real PINs (not the demo defaults): code → (name, role, pin).
OPERATORS = {
    "A001": ("Admin", Role.ADMIN, "4711"),
    "S001": ("Sup", Role.SUPERVISOR, "5822"),
    "D001": ("Desk", Role.DESK, "6933"),
    "P001": ("Packer One", Role.PACKER, "1357"),
    "P002": ("Packer Two", Role.PACKER, "2468"),
}


def start_real_hub(home: Path, db_url: str, *, env: dict[str, str] | None = None, **settings: Any) -> HubProcess:
    """A non-demo hub whose only configured channel is ``generic``; ``settings`` go into its TOML,
    ``env`` into its environment (a :class:`tests.helpers.clock.HubClock`, say)."""
    home.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in settings.items()]
    lines += ["[channel_secrets]", f'generic = "{GENERIC_SECRET}"']
    (home / "hub.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return HubProcess(home, db_url=db_url, demo=False,
                      env={"PACKDESK_HUB_CONFIG": str(home / "hub.toml"), **(env or {})}).start()


def add_operators(hub: HubProcess, codes: tuple[str, ...] = tuple(OPERATORS)) -> None:
    """What ``hub set-pin`` does, without a subprocess per operator (the CLI itself is tested once)."""
    engine = db.make_engine(hub.db_url)
    try:
        with engine.begin() as conn:
            for code in codes:
                name, role, pin = OPERATORS[code]
                auth.set_operator(conn, code, name, role, pin)
    finally:
        engine.dispose()


def login(hub: HubProcess, code: str, station: str, bench: str | None = None, *, device: str | None = None,
          pin: str | None = None) -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/auth/login", timeout=20, json={
        "operator": code, "pin": pin if pin is not None else OPERATORS[code][2], "station": station,
        "bench": bench, "device_id": device or f"dev-{station}"})


def token(hub: HubProcess, code: str, station: str, bench: str | None = None, *, device: str | None = None) -> str:
    r = login(hub, code, station, bench, device=device)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def call(hub: HubProcess, tok: str, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
    return requests.request(method, hub.url + path, json=body, params=params or None, timeout=40,
                            headers={"Authorization": f"Bearer {tok}"})


def seed_orders(hub: HubProcess, n: int = 120) -> list[dict[str, Any]]:
    orders = generate_orders(n, seed=7)
    r = push(hub.url, "generic", {"orders": [intake_to_json(o) for o in orders]}, secret=GENERIC_SECRET)
    assert r.status_code == 200, r.text
    return list(r.json()["orders"])


def new_device() -> str:
    return uuid.uuid4().hex
