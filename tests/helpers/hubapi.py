"""A small test client for the hub's HTTP API (tests speak the contract of docs/api.md directly)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from core.demo import generate_orders
from core.model import IntakeOrder, intake_to_json
from hub.intake import SIGNATURE_HEADER, sign


def push(url: str, channel: str, payload: Any, *, secret: str | None = None) -> requests.Response:
    import json

    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    secret_b = (secret or f"demo-secret-{channel}").encode()
    return requests.post(f"{url}/api/v1/intake/{channel}", data=body, timeout=30,
                         headers={SIGNATURE_HEADER: sign(secret_b, body), "Content-Type": "application/json"})


def push_orders(url: str, orders: list[IntakeOrder]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(0, len(orders), 200):
        r = push(url, "generic", {"orders": [intake_to_json(o) for o in orders[i : i + 200]]})
        assert r.status_code == 200, r.text
        out.extend(r.json()["orders"])
    return out


def demo(url: str, n: int, seed: int = 1) -> list[dict[str, Any]]:
    return push_orders(url, generate_orders(n, seed=seed))


@dataclass
class Session:
    """One logged-in station: token, device id and its own outbox seq."""

    url: str
    operator: str = "P001"
    pin: str = "1111"
    station: str = "B1-PC"
    bench: str | None = "B1"
    device_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    token: str = ""
    seq: int = 0
    http: requests.Session = field(default_factory=requests.Session)
    #: the action key of the last login (``{"key_id", "key", "expires_at"}``, docs/api.md)
    action_key: dict[str, str] | None = None

    def login(self) -> Session:
        r = self.http.post(f"{self.url}/api/v1/auth/login", json={
            "operator": self.operator, "pin": self.pin, "station": self.station, "bench": self.bench,
            "device_id": self.device_id}, timeout=10)
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        self.action_key = r.json().get("action_key")
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(self.url + path, params=params, headers=self.headers, timeout=40)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.http.post(self.url + path, json=body, headers=self.headers, timeout=40)

    def action(self, order_id: str, type_: str, payload: dict[str, Any] | None = None, *,
               base_version: int | None = None, action_id: str | None = None) -> dict[str, Any]:
        self.seq += 1
        return {"action_id": action_id or uuid.uuid4().hex, "seq": self.seq, "order_id": order_id, "type": type_,
                "payload": payload or {}, "base_version": base_version, "operator": self.operator,
                "done_at": "2026-11-25T08:00:00Z"}

    def send(self, *actions: dict[str, Any]) -> list[dict[str, Any]]:
        r = self.post("/api/v1/actions", {"actions": list(actions)})
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        return results

    def do(self, order_id: str, type_: str, payload: dict[str, Any] | None = None,
           base_version: int | None = None) -> dict[str, Any]:
        return self.send(self.action(order_id, type_, payload, base_version=base_version))[0]

    def order(self, order_id: str) -> dict[str, Any]:
        r = self.get(f"/api/v1/orders/{order_id}")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result


def bearer(url: str, operator: str, pin: str, bench: str | None = None) -> dict[str, str]:
    """The Authorization header of a fresh login as ``operator`` on its own station ``ST-<operator>``."""
    return Session(url, operator, pin, f"ST-{operator}", bench, device_id=f"dev-{operator}").login().headers
