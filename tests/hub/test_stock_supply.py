"""Where stock comes from (docs/stock.md): desk adjustments with a reason (audited, packer refused),
the signed WMS push (out of order, twice, bad signature, garbage), and short holds that release by
themselves when stock arrives, oldest promise first.

In process: the hub app over a real SQLite file served by uvicorn on a thread without its lifespan
(no background threads), real HTTP from ``requests``; the fair-queue cases call hub/stock.py directly.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from sqlalchemy import func, select

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub import auth, db, stock
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.writer import Actor, Writer
from tests.helpers.waiting import wait_until
from tests.hubproc import free_port

SECRET = "wms-site-secret-7d1e"
SH = "WH-SH"  # 上海 goes to WH-SH under the default rules
TEA, NUTS = "SKU-TEA-001", "SKU-SNK-001"
T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
_nos = itertools.count(1)


@dataclass
class Site:
    hub: Hub
    url: str
    http: requests.Session

    def token(self, code: str, pin: str, bench: str | None = None) -> dict[str, str]:
        r = self.http.post(self.url + "/api/v1/auth/login", json={
            "operator": code, "pin": pin, "station": f"ST-{code}", "bench": bench, "device_id": f"dev-{code}"},
            timeout=10)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def wms(self, body: bytes, signature: str | None = None) -> requests.Response:
        sig = signature if signature is not None else sign(body)
        return self.http.post(self.url + "/api/v1/stock/wms", data=body, timeout=10,
                              headers={"Content-Type": "application/json", "X-PackDesk-Signature": sig})


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wms_body(rows: list[tuple[str, int, datetime]], message_id: str = "m1") -> bytes:
    return json.dumps({"message_id": message_id, "warehouse": SH, "rows": [
        {"sku": sku, "on_hand": n, "as_of": at.isoformat().replace("+00:00", "Z")} for sku, n, at in rows]}).encode()


def make_hub(tmp_path: Path) -> Hub:
    app = create_app(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", wms_secret=SECRET))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    return hub


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = create_app(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", demo=True, wms_secret=SECRET))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    try:
        yield Site(hub, f"http://127.0.0.1:{port}", requests.Session())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.engine.dispose()
        hub.reader.dispose()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = make_hub(tmp_path)
    yield h
    h.engine.dispose()
    h.reader.dispose()


def order(lines: list[tuple[str, int]], *, ship_by: datetime) -> IntakeOrder:
    now = T0
    return IntakeOrder(channel="generic", channel_order_no=f"SUP{next(_nos)}", status=ChannelStatus.PAID,
                       recipient=Recipient("张三", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道 1 号"),
                       lines=[OrderLine(sku, "商品", qty, 1000) for sku, qty in lines], total_fen=1000,
                       created_at=now, channel_updated_at=now, paid_at=now, ship_by=ship_by)


def push(hub: Hub, *orders: IntakeOrder) -> list[str]:
    def run(c: Any) -> list[str]:
        w = Writer(c, hub.settings, Actor.system("test"))
        ids = [r["order_id"] for r in intake(w, hub.rules, list(orders))]
        w.flush()
        return ids
    out: list[str] = hub.tx(run)
    return out


def adjust(hub: Hub, sku: str, reason: str = "receipt", **kw: Any) -> dict[str, Any]:
    def run(c: Any) -> dict[str, Any]:
        w = Writer(c, hub.settings, Actor(operator="S001", station="DESK-1", role="supervisor"))
        out = stock.adjust(w, sku, SH, reason=reason, **kw)
        w.flush()
        return out
    got: dict[str, Any] = hub.tx(run)
    return got


def level(hub: Hub, sku: str) -> tuple[int, int]:
    got: dict[str, tuple[int, int]] = hub.read(lambda c: stock.tracked(c, SH, [sku]))
    return got[sku]


def short_held(hub: Hub, oid: str) -> bool:
    d = hub.read(lambda c: load_docs(c, [oid]))[oid]
    return any(h["type"] == "stock_short" for h in d["holds"])


def moves(hub: Hub) -> list[tuple[str, str, int, str, str | None]]:
    m = db.stock_moves.c
    rows = hub.read(lambda c: c.execute(select(m.reason, m.sku, m.delta_on_hand, m.by, m.note)
                                        .where(m.order_id.is_(None)).order_by(m.id)).all())
    return [tuple(r) for r in rows]


# -- adjustments -------------------------------------------------------------------------------

def test_adjustments_are_audited_with_the_operator_and_refused_to_a_packer(site: Site) -> None:
    url = site.url + "/api/v1/stock/adjust"
    body = {"sku": TEA, "warehouse": SH, "on_hand": 12, "reason": "cycle_count", "note": "盘点 A-03"}
    assert site.http.post(url, json=body, timeout=10).status_code == 401
    packer = site.token("P001", "1111", "B1")
    r = site.http.post(url, json=body, headers=packer, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert site.http.get(site.url + "/api/v1/stock", headers=packer, timeout=10).status_code == 403
    assert moves(site.hub) == []

    desk = site.token("D001", "2222")
    r = site.http.post(url, json=body, headers=desk, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"sku": TEA, "warehouse": SH, "on_hand": 12, "reserved": 0, "available": 12, "released": [], "shed": []}
    r = site.http.post(url, json={"sku": TEA, "warehouse": SH, "delta": -2, "reason": "damage"}, headers=desk,
                       timeout=10)
    assert r.status_code == 200 and r.json()["on_hand"] == 10
    assert moves(site.hub) == [("adjust:cycle_count", TEA, 12, "D001", "盘点 A-03"),
                               ("adjust:damage", TEA, -2, "D001", None)]

    # refused whole, nothing written: unknown reason, neither/both counts, below zero
    for bad, status in (({"reason": "theft", "delta": 1}, 422), ({"reason": "other"}, 400),
                        ({"reason": "other", "delta": 1, "on_hand": 3}, 400), ({"reason": "damage", "delta": -11}, 400),
                        ({"reason": "other", "on_hand": -1}, 422)):
        r = site.http.post(url, json={"sku": TEA, "warehouse": SH, **bad}, headers=desk, timeout=10)
        assert r.status_code == status, (bad, r.text)
    assert level(site.hub, TEA) == (10, 0) and len(moves(site.hub)) == 2

    r = site.http.get(site.url + "/api/v1/stock", params={"warehouse": SH, "q": "SKU-TEA"}, headers=desk, timeout=10)
    assert r.status_code == 200
    [row] = r.json()["rows"]
    assert (row["sku"], row["on_hand"], row["reserved"], row["available"]) == (TEA, 10, 0, 10)
    r = site.http.get(site.url + "/api/v1/stock", params={"short": 1}, headers=desk, timeout=10)
    assert r.json()["rows"] == []  # 10 available, no order waiting


# -- quarantine: damaged returns scrapped or put back ------------------------------------------

def quarantine_of(hub: Hub, sku: str) -> int:
    s = db.stock.c
    return int(hub.read(lambda c: c.execute(select(s.quarantine).where(s.sku == sku, s.warehouse == SH)).scalar_one()))


def test_quarantined_units_are_scrapped_or_put_back_audited_and_a_waiting_order_goes(site: Site) -> None:
    url = site.url + "/api/v1/stock/quarantine"
    adjust(site.hub, TEA, on_hand=2)
    s = db.stock.c
    site.hub.tx(lambda c: c.execute(db.stock.update().where(s.sku == TEA, s.warehouse == SH).values(quarantine=3)))
    oid, = push(site.hub, order([(TEA, 3)], ship_by=T0 + timedelta(hours=4)))  # 2 available: short
    assert short_held(site.hub, oid)
    body = {"sku": TEA, "warehouse": SH, "outcome": "scrap", "units": 2, "note": "外箱压坏，无法复原"}
    assert site.http.post(url, json=body, timeout=10).status_code == 401
    r = site.http.post(url, json=body, headers=site.token("P001", "1111", "B1"), timeout=10)
    assert r.status_code == 403

    desk = site.token("D001", "2222")
    r = site.http.post(url, json=body, headers=desk, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"sku": TEA, "warehouse": SH, "on_hand": 2, "reserved": 0, "available": 2, "quarantine": 1,
                        "released": []}
    assert short_held(site.hub, oid)  # scrapped units are gone: nothing arrived

    # refused whole, nothing written: more than is in quarantine, unknown outcome, no units, unknown SKU
    for bad, status in (({"outcome": "restock", "units": 2}, 400), ({"outcome": "sell", "units": 1}, 422),
                        ({"outcome": "scrap", "units": 0}, 422), ({"outcome": "scrap", "units": 1, "sku": "NO-SUCH"}, 400)):
        r = site.http.post(url, json={"sku": TEA, "warehouse": SH, **bad}, headers=desk, timeout=10)
        assert r.status_code == status, (bad, r.text)
    assert quarantine_of(site.hub, TEA) == 1 and level(site.hub, TEA) == (2, 0)

    r = site.http.post(url, json={"sku": TEA, "warehouse": SH, "outcome": "restock", "units": 1, "note": "复检合格"},
                       headers=desk, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["released"] == [oid] and r.json()["quarantine"] == 0
    assert not short_held(site.hub, oid) and level(site.hub, TEA) == (3, 3)
    m = db.stock_moves.c
    rows = site.hub.read(lambda c: c.execute(select(m.reason, m.delta_on_hand, m.delta_quarantine, m.by, m.note)
                                             .where(m.reason.like("quarantine:%")).order_by(m.id)).all())
    assert [tuple(r) for r in rows] == [("quarantine:scrap", 0, -2, "D001", "外箱压坏，无法复原"),
                                        ("quarantine:restock", 1, -1, "D001", "复检合格")]


# -- the WMS push ------------------------------------------------------------------------------

def test_wms_signature_known_answer() -> None:
    """The example in docs/stock.md "WMS push": a WMS implementer checks their HMAC against it."""
    body = (b'{"message_id":"wms-20261206-0001","warehouse":"WH-SH","rows":[{"sku":"SKU-TEA-001",'
            b'"on_hand":120,"as_of":"2026-12-06T08:00:00Z"}]}')
    assert sign(body, "wms-demo-secret") == "sha256=50230903251deb2d0ae264b46a237105f07b2733ba6198bb60d20b4d2c5caabc"
    from hub.intake import verify_signature

    verify_signature(b"wms-demo-secret", body, sign(body, "wms-demo-secret"))  # the hub's own check agrees


def test_wms_out_of_order_and_twice_is_one_change_and_releases_waiting_orders(site: Site) -> None:
    newer = wms_body([(TEA, 7, T0 + timedelta(minutes=5))], "m2")
    older = wms_body([(TEA, 3, T0), (NUTS, 4, T0)], "m1")
    r = site.wms(newer)
    assert r.status_code == 200 and r.json() == {"message_id": "m2", "applied": 1, "stale": 0, "released": [], "shed": []}
    r = site.wms(older)  # arrives late: its TEA count is older than the one applied; NUTS is new
    assert r.json()["applied"] == 1 and r.json()["stale"] == 1
    assert level(site.hub, TEA) == (7, 0) and level(site.hub, NUTS) == (4, 0)
    for body in (newer, older):  # the same messages again: no change at all
        r = site.wms(body)
        assert r.status_code == 200 and r.json()["applied"] == 0
    assert moves(site.hub) == [("wms", TEA, 7, "system", "m2"), ("wms", NUTS, 4, "system", "m1")]

    oid, = push(site.hub, order([(TEA, 9)], ship_by=T0 + timedelta(hours=4)))  # 7 available: short
    assert short_held(site.hub, oid)
    head = site.hub.read(lambda c: db.read_counter(c, "changes"))
    r = site.wms(wms_body([(TEA, 9, T0 + timedelta(minutes=10))], "m3"))  # stock arrived
    assert r.json()["released"] == [oid]
    assert not short_held(site.hub, oid) and level(site.hub, TEA) == (9, 9)
    a = db.audit.c
    last = site.hub.read(lambda c: c.execute(select(a.what, a.details).where(a.order_id == oid)
                                             .order_by(a.id.desc())).first())
    assert last is not None and last[0] == "hold_released" and last[1]["resolution"] == {"auto": "stock_arrived"}
    ch = db.changes.c
    fed = site.hub.read(lambda c: c.execute(select(ch.order_id).where(ch.seq > head)).scalars().all())
    assert fed == [oid]  # on the change feed, in the WMS push's transaction


def test_wms_bad_signature_and_garbage_are_refused_and_write_nothing(site: Site) -> None:
    good = wms_body([(TEA, 5, T0)])
    assert site.wms(good, signature="").status_code == 401
    assert site.wms(good, signature=sign(good, "not-the-secret")).status_code == 401
    tampered = good.replace(b'"on_hand": 5', b'"on_hand": 500')
    assert tampered != good and site.wms(tampered, signature=sign(good)).json()["error"] == "bad_signature"
    garbage = [b"not json", b"[]", b'{"rows": []}', b'{"rows": [7]}',
               wms_body([(TEA, 5, T0)]).replace(b'Z"', b'"'),  # an as-of without its zone
               wms_body([(TEA, 5, T0)]).replace(b'"on_hand": 5', b'"on_hand": -5'),
               wms_body([(TEA, 5, T0)]).replace(b'"on_hand": 5', b'"on_hand": true'),
               wms_body([(TEA, 5, T0)]).replace(b'"on_hand": 5', b'"on_hand": 5.5'),
               wms_body([(TEA, 5, T0)]).replace(b'"2026-12-06T08:00:00Z"', b'"yesterday"'),
               json.dumps({"rows": [{"sku": TEA, "on_hand": 1, "as_of": "2026-12-06T08:00:00Z"}]}).encode(),  # no wh
               wms_body([(TEA, 5, T0), ("", 1, T0)])]  # one bad row refuses the whole message
    for body in garbage:
        r = site.wms(body)
        assert r.status_code == 400 and r.json()["error"] == "bad_payload", (body, r.text)
    n = site.hub.read(lambda c: c.execute(select(func.count()).select_from(db.stock)).scalar_one())
    assert n == 0 and moves(site.hub) == []
    site.hub.settings.wms_secret = ""  # a hub without a secret takes no pushes at all
    assert site.wms(good, signature=sign(good, "")).status_code == 403


# -- the fair queue ----------------------------------------------------------------------------

def test_stock_arriving_releases_the_oldest_promise_first_and_a_later_small_order_waits(hub: Hub) -> None:
    adjust(hub, TEA, "cycle_count", on_hand=0)
    adjust(hub, NUTS, "cycle_count", on_hand=0)
    late, = push(hub, order([(TEA, 1)], ship_by=T0 + timedelta(hours=30)))  # came in first, promised later
    early, = push(hub, order([(TEA, 2)], ship_by=T0 + timedelta(hours=6)))
    big, = push(hub, order([(TEA, 5)], ship_by=T0 + timedelta(hours=8)))
    nuts, = push(hub, order([(NUTS, 1)], ship_by=T0 + timedelta(hours=40)))
    assert all(short_held(hub, o) for o in (late, early, big, nuts))

    assert adjust(hub, TEA, delta=2)["released"] == [early]  # not `late`, which came in first
    assert level(hub, TEA) == (2, 2) and short_held(hub, late)

    # 4 more: `big` (5) is next and does not fit; `late` (1) would, but waits behind it
    assert adjust(hub, TEA, delta=4)["released"] == []
    assert short_held(hub, big) and short_held(hub, late) and level(hub, TEA) == (6, 2)
    rows = hub.read(lambda c: stock.listing(c, warehouse=SH, short=True))
    assert [(r["sku"], r["available"], r["waiting_orders"]) for r in rows] == [(NUTS, 0, 1), (TEA, 4, 2)]
    assert adjust(hub, NUTS, delta=1)["released"] == [nuts]  # another SKU is not held up by `big`
    assert adjust(hub, TEA, delta=2)["released"] == [big, late]  # 6 available: 5 + 1, in promise order
    assert level(hub, TEA) == (8, 8)

    got = adjust(hub, TEA, "damage", delta=-1)  # below reserved: the newest promise gives its unit back
    assert got["released"] == [] and got["shed"] == [late]
    assert level(hub, TEA) == (7, 7) and short_held(hub, late)
    rows = hub.read(lambda c: stock.listing(c, warehouse=SH, short=True))
    assert [(r["sku"], r["available"], r["waiting_orders"]) for r in rows] == [(NUTS, 0, 0), (TEA, 0, 1)]
