"""The stock sheet import, stock rows created after orders were allocated, and ``stock.changed`` on the
webhooks (docs/stock.md "Stock sheet import", "Stock rows created after orders"; docs/api.md "Webhooks").

In process: FastAPI's TestClient over a real SQLite file (no lifespan: no background threads); the
webhook events are delivered by the hub's own ``Deliverer`` over real HTTP to a local receiver that
checks the signature as documented.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from openpyxl import Workbook
from sqlalchemy import select

from core.stock_sheet import stock_row_text
from hub import auth, db, stock
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings, Webhook
from hub.orders import load_docs
from hub.webhooks import Deliverer, sign
from hub.writer import Actor, Writer
from tests.helpers.fake_http import FakeHTTPServer
from tests.helpers.waiting import wait_until
from tests.hub.test_stock import act
from tests.hub.test_stock_supply import NUTS, SH, T0, TEA, order, push, wms_body
from tests.hubproc import free_port

GZ = "WH-GZ"
HOOK_SECRET = "hook-secret-2f9c"
WMS_SECRET = "wms-secret-5a1b"
PINS = {"P001": "1111", "D001": "2222", "S001": "3333"}


class Site:
    """The hub app served by uvicorn on a thread (no lifespan), spoken to over real HTTP."""

    def __init__(self, hub: Hub, url: str, server: uvicorn.Server, thread: threading.Thread) -> None:
        self.hub, self.url, self.server, self.thread = hub, url, server, thread
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}

    def auth(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            r = self.http.post(self.url + "/api/v1/auth/login", timeout=10, json={
                "operator": who, "pin": PINS[who], "station": f"ST-{who}", "bench": "B1" if who == "P001" else None,
                "device_id": f"dev-{who}"})
            assert r.status_code == 200, r.text
            self.tokens[who] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def upload(self, filename: str, content: bytes, who: str = "D001", **params: Any) -> requests.Response:
        return self.http.post(self.url + "/api/v1/stock/import", params={"filename": filename, **params},
                              data=content, headers=self.auth(who), timeout=30)

    def post(self, path: str, body: dict[str, Any], who: str = "D001") -> requests.Response:
        return self.http.post(self.url + path, json=body, headers=self.auth(who), timeout=10)

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.hub.engine.dispose()
        self.hub.reader.dispose()


def make_site(tmp_path: Path, **settings: Any) -> Site:
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", demo=True, **settings))
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tx(auth.seed_operators)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    return Site(hub, f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = make_site(tmp_path)
    yield s
    s.close()


def csv_bytes(*rows: tuple[Any, ...]) -> bytes:
    return ("\n".join(",".join(f'"{c}"' if "," in str(c) else str(c) for c in r) for r in rows) + "\n").encode(
        "utf-8-sig")


def xlsx_bytes(*rows: tuple[Any, ...]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def levels(hub: Hub) -> dict[tuple[str, str], tuple[int, int]]:
    s = db.stock.c
    rows = hub.read(lambda c: c.execute(select(s.sku, s.warehouse, s.on_hand, s.reserved)).all())
    return {(r.sku, r.warehouse): (r.on_hand, r.reserved) for r in rows}


def stock_moves(hub: Hub) -> list[tuple[Any, ...]]:
    m = db.stock_moves.c
    rows = hub.read(lambda c: c.execute(select(m.reason, m.sku, m.warehouse, m.delta_on_hand, m.delta_reserved,
                                               m.by, m.note, m.order_id).order_by(m.id)).all())
    return [tuple(r) for r in rows]


def hold_types(hub: Hub, oid: str) -> list[str]:
    return [h["type"] for h in hub.read(lambda c: load_docs(c, [oid]))[oid]["holds"]]


# -- the import ---------------------------------------------------------------------------------------

def test_csv_with_chinese_headers_previews_then_applies_audited(site: Site) -> None:
    sheet = csv_bytes(("商品编码", "仓库", "在库数量", "备注", "货架"),
                      (TEA, SH, 12, "盘点 A-03", "A-03"),
                      (NUTS, "wh-sh", "1,200", "", "B-01"),
                      (TEA, GZ, 0, "", ""))
    r = site.upload("库存0601.csv", sheet, who="P001")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"

    r = site.upload("库存0601.csv", sheet, dry_run=1)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["applied"] is False and preview["dry_run"] is True and preview["errors"] == []
    assert preview["ignored_columns"] == ["货架"]
    assert [(c["row"], c["sku"], c["warehouse"], c["before"], c["on_hand"]) for c in preview["changes"]] == [
        (2, TEA, SH, None, 12), (3, NUTS, SH, None, 1200), (4, TEA, GZ, None, 0)]
    assert levels(site.hub) == {} and stock_moves(site.hub) == []  # the preview was rolled back

    r = site.upload("库存0601.csv", sheet)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["applied"] is True and (done["changed"], done["new_rows"]) == (3, 3)
    assert levels(site.hub) == {(TEA, SH): (12, 0), (NUTS, SH): (1200, 0), (TEA, GZ): (0, 0)}
    assert sorted(stock_moves(site.hub)) == sorted([
        ("import", TEA, SH, 12, 0, "D001", "库存0601.csv · 盘点 A-03", None),
        ("import", NUTS, SH, 1200, 0, "D001", "库存0601.csv", None)])  # a row created at 0 moves nothing

    # the same counts again change nothing; a new count is the difference
    again = site.upload("库存0602.csv", csv_bytes(("SKU", "仓库", "库存"), (TEA, SH, 12), (NUTS, SH, 1150))).json()
    assert (again["applied"], again["changed"], again["unchanged"]) == (True, 1, 1)
    assert again["changes"] == [{"row": 3, "sku": NUTS, "warehouse": SH, "before": 1200, "on_hand": 1150}]
    assert stock_moves(site.hub)[-1] == ("import", NUTS, SH, -50, 0, "D001", "库存0602.csv", None)


def test_xlsx_row_errors_are_reported_per_row_and_nothing_is_applied(site: Site) -> None:
    sheet = xlsx_bytes(("SKU", "Warehouse", "On hand", "Note"),
                       (TEA, SH, 5, None),
                       (NUTS, "WH-XX", 3, None),
                       ("SKU-A", SH, "十二", None),
                       ("SKU-B", SH, -3, None),
                       ("SKU-C", SH, 1.5, None),
                       (TEA, SH, 6, None),
                       (None, SH, 1, None),
                       ("SKU-D", SH, 2, "x" * 101))
    r = site.upload("stock.xlsx", sheet)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applied"] is False and body["changes"] == []
    assert [(e["row"], e["code"], e["details"]["column"]) for e in body["errors"]] == [
        (3, "unknown_warehouse", "warehouse"), (4, "bad_count", "on_hand"), (5, "negative", "on_hand"),
        (6, "bad_count", "on_hand"), (7, "duplicate", "sku"), (8, "empty", "sku"), (9, "note_too_long", "note")]
    assert body["errors"][4]["details"]["first"] == 2
    assert levels(site.hub) == {} and stock_moves(site.hub) == []
    # the desk words each code (not the catch-all "could not be read")
    generic = stock_row_text({"code": "no-such-code"})
    assert all(stock_row_text(e) != generic for e in body["errors"])


def test_a_broken_or_too_big_file_is_refused_whole(site: Site, tmp_path: Path) -> None:
    r = site.upload("stock.xlsx", b"PK\x03\x04 not really a workbook")
    assert r.status_code == 400 and r.json()["details"]["problem"] == "unreadable"
    r = site.upload("stock.csv", csv_bytes(("商品编码", "数量"), (TEA, 3)))
    assert r.status_code == 400
    details = r.json()["details"]
    assert details["problem"] == "missing_columns" and details["missing"] == ["warehouse", "on_hand"]
    r = site.upload("stock.csv", csv_bytes(("商品编码", "仓库", "库存")))
    assert r.status_code == 400 and r.json()["details"]["problem"] == "no_rows"
    assert levels(site.hub) == {}

    small = make_site(tmp_path / "small", max_import_rows=2)
    try:
        r = small.upload("stock.csv", csv_bytes(("商品编码", "仓库", "库存"), (TEA, SH, 1), (NUTS, SH, 1),
                                                ("SKU-X", SH, 1)))
        assert r.status_code == 413 and r.json()["details"]["reason"] == "rows"
        assert levels(small.hub) == {}
    finally:
        small.close()


# -- stock rows created after orders were allocated ----------------------------------------------------

def test_a_new_row_reserves_for_open_orders_oldest_promise_first(site: Site) -> None:
    hub = site.hub
    assert site.upload("n.csv", csv_bytes(("商品编码", "仓库", "库存"), (NUTS, SH, 5))).json()["applied"]
    # TEA untracked: A, B, C allocate without it; A reserves its NUTS
    a, = push(hub, order([(TEA, 2), (NUTS, 1)], ship_by=T0 + timedelta(hours=2)))
    b, = push(hub, order([(TEA, 3)], ship_by=T0 + timedelta(hours=1)))
    c, = push(hub, order([(TEA, 1)], ship_by=T0 + timedelta(hours=3)))
    assert levels(hub)[(NUTS, SH)] == (5, 1)

    out = site.upload("t.csv", csv_bytes(("商品编码", "仓库", "库存"), (TEA, SH, 4))).json()
    # B (oldest promise) takes 3; A needs 2 of the 1 left: held, and gives its NUTS back; C fits the
    # last unit but waits behind A (a later order never takes the units an older one waits for)
    assert (out["reserved_late"], out["held_short"], out["released"]) == ([b], [a, c], [])
    assert levels(hub) == {(NUTS, SH): (5, 0), (TEA, SH): (4, 3)}
    assert hold_types(hub, a) == ["stock_short"] and hold_types(hub, c) == ["stock_short"]
    assert hold_types(hub, b) == []
    late = [m for m in stock_moves(hub) if m[0] == "reserve_late"]
    assert late == [("reserve_late", TEA, SH, 0, 3, "D001", None, b)]

    # more TEA arrives: the fair queue releases A then C, each reserving all its lines
    out = site.upload("t2.csv", csv_bytes(("商品编码", "仓库", "库存"), (TEA, SH, 10))).json()
    assert out["released"] == [a, c] and out["reserved_late"] == []
    assert levels(hub) == {(NUTS, SH): (5, 1), (TEA, SH): (10, 6)}
    assert hold_types(hub, a) == [] and hold_types(hub, c) == []


def test_an_adjustment_or_wms_push_creating_a_row_reserves_too_and_closed_orders_do_not_count(tmp_path: Path) -> None:
    site = make_site(tmp_path, wms_secret=WMS_SECRET)
    try:
        adjust_and_wms(site)
    finally:
        site.close()


def adjust_and_wms(site: Site) -> None:
    hub = site.hub
    d, = push(hub, order([(TEA, 2), (NUTS, 4)], ship_by=T0))
    e, = push(hub, order([(TEA, 1)], ship_by=T0))
    assert act(hub, e, "cancelled_by_buyer", {"reason": "buyer asked"})["outcome"] == "applied"
    r = site.post("/api/v1/stock/adjust", {"sku": TEA, "warehouse": SH, "reason": "receipt", "on_hand": 5})
    assert r.status_code == 200, r.text
    assert levels(hub) == {(TEA, SH): (5, 2)}  # the cancelled order takes nothing
    assert [m[7] for m in stock_moves(hub) if m[0] == "reserve_late"] == [d]
    body = wms_body([(NUTS, 4, T0)])
    r = site.http.post(site.url + "/api/v1/stock/wms", data=body, timeout=10,
                       headers={"Content-Type": "application/json", "X-PackDesk-Signature": sign(WMS_SECRET, body)})
    assert r.status_code == 200, r.text
    assert levels(hub)[(NUTS, SH)] == (4, 4)
    assert [(m[1], m[7]) for m in stock_moves(hub) if m[0] == "reserve_late"] == [(TEA, d), (NUTS, d)]


# -- stock on the webhooks -----------------------------------------------------------------------------

class Receiver(FakeHTTPServer):
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        super().__init__(self._respond)

    def _respond(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        want = "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        if h.headers["X-PackDesk-Signature"] != want:
            self.bad_signatures += 1
        event = json.loads(body)
        event["_path"] = h.path
        event["_id_header"] = h.headers["X-PackDesk-Event-Id"]
        self.events.append(event)
        h.send_response(204)
        h.end_headers()


def test_webhook_signature_known_answer() -> None:
    """RFC 4231 test case 2 (HMAC-SHA256): our ``sign`` is plain HMAC-SHA256 of the body, hex."""
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_stock_changes_go_out_signed_to_the_hooks_that_subscribe(tmp_path: Path) -> None:
    recv = Receiver()
    try:
        base = f"http://127.0.0.1:{recv.port}"
        hooks = [Webhook("wms-mirror", base + "/stock", HOOK_SECRET, ["stock.changed"]),
                 Webhook("erp", base + "/orders", HOOK_SECRET, ["*"])]
        site = make_site(tmp_path, webhooks=hooks)
        try:
            hub = site.hub
            out = site.upload("s.csv", csv_bytes(("商品编码", "仓库", "库存"), (TEA, SH, 4), (NUTS, SH, 0))).json()
            assert out["applied"]
            push(hub, order([(TEA, 3)], ship_by=T0))  # allocation reserves: one event for TEA
            site.upload("s.csv", csv_bytes(("商品编码", "仓库", "库存"), (TEA, SH, 4)), dry_run=1)  # rolled back

            def refused(c: Any) -> None:  # a change undone within its transaction sends nothing
                w = Writer(c, hub.settings, Actor.system("test"))
                mark = w.checkpoint()
                stock.adjust(w, NUTS, SH, reason="receipt", delta=5)
                w.restore(mark)
                w.flush()
            hub.tx(refused)

            deliverer = Deliverer(hub.engine, hub.settings)
            while deliverer.deliver_due():
                pass
            stock_events = [e for e in recv.events if e["_path"] == "/stock"]
            assert recv.bad_signatures == 0
            assert all(e.get("event") != "stock.changed" for e in recv.events if e["_path"] == "/orders")
            assert [e for e in recv.events if e["_path"] == "/stock" and e.get("event") != "stock.changed"] == []
            got = [(e["sku"], e["on_hand"], e["reserved"], e["available"], e["before"], e["operator"])
                   for e in stock_events]
            assert got == [
                (NUTS, 0, 0, 0, None, "D001"),  # a new row at 0 is a change: the SKU is counted from now
                (TEA, 4, 0, 4, None, "D001"),
                (TEA, 4, 3, 1, {"on_hand": 4, "reserved": 0}, "system")]
            assert all(e["warehouse"] == SH and e["_id_header"] == e["event_id"] for e in stock_events)
        finally:
            site.close()
    finally:
        recv.close()
