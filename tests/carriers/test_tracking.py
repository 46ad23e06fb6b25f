"""Tracking back to "delivered" (issue 13 part C): 快递100 subscription at ship, signed pushes merged in
any order, carrier facts moving the order.

In-process: the hub app over a real SQLite file, spoken to over FastAPI's TestClient, and a fake
快递100 on real HTTP. The ``tracking`` thread is not started: each test applies stored pushes and
sends subscriptions by calling the engine's own steps, so what is asserted never races it.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from sqlalchemy import select, update

from core.demo import generate_orders
from core.display_names import one_language
from core.states import Trigger
from core.timeutil import iso, utcnow
from hub import auth, db
from hub.api.deps import Hub
from hub.app import create_app
from hub.carriers import kuaidi100, tracking
from hub.carriers import tracking_store as store
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.writer import Actor, Writer
from tests.carriers.fake_kuaidi100 import FakeKuaidi100, Step, push_param, signed_form
from tests.helpers.waiting import wait_until
from tests.hubproc import free_port

KEY = "fake-enterprise-key-0001"
SALT = "our-site-salt-5f1c9a"
CALLBACK = "https://hub.example.com/api/v1/carriers/kuaidi100/push"
PUSH = "/api/v1/carriers/kuaidi100/push"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Client:
    """Real HTTP to the in-process hub."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def post(self, path: str, *, content: bytes | None = None, headers: dict[str, str] | None = None,
             json: Any = None) -> requests.Response:
        return self.session.post(self.url + path, data=content, headers=headers, json=json, timeout=10)

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.get(self.url + path, headers=headers, timeout=10)


@dataclass
class Site:
    hub: Hub
    client: Client
    fake: FakeKuaidi100

    def push(self, param: str, **kw: Any) -> Any:
        return self.client.post(PUSH, content=signed_form(param, SALT, **kw), headers=FORM)

    def apply_all(self) -> None:
        while self.hub.tracking.apply_inbox():
            pass

    def doc(self, oid: str) -> dict[str, Any]:
        return self.hub.read(lambda c: load_docs(c, [oid]))[oid]

    def audit(self, oid: str) -> list[str]:
        a = db.audit.c
        return [r[0] for r in self.hub.read(lambda c: c.execute(select(a.what).where(a.order_id == oid)
                                                                 .order_by(a.id)).all())]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    fake = FakeKuaidi100(KEY)
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", demo=True, kuaidi100_key=KEY,
                           kuaidi100_salt=SALT, kuaidi100_callback_url=CALLBACK, kuaidi100_base_url=fake.url)
    app = create_app(settings)
    hub: Hub = app.state.hub
    db.migrate(hub.engine)
    hub.tracking.timeout_s = 1.0
    fake.slow_s = 2.0
    # served on a thread without the app's lifespan: no background threads, the test drives each step
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the in-process hub to listen")
    try:
        yield Site(hub, Client(f"http://127.0.0.1:{port}"), fake)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.tracking.inbox.stop()
        fake.close()
        hub.engine.dispose()
        hub.reader.dispose()


def make_orders(site: Site | Hub, n: int, *, ship: int) -> list[str]:
    """``n`` printed orders (the first ``ship`` of them shipped from the bench), each with a waybill."""
    hub = site.hub if isinstance(site, Site) else site

    def run(c: Any) -> list[str]:
        w = Writer(c, hub.settings, Actor.system("test"))
        intake(w, hub.rules, generate_orders(n * 3 + 10, seed=3), source="generic")
        w.flush()
        o = db.orders.c
        ids = [r[0] for r in c.execute(select(o.order_id).where(o.state == "allocated", o.held.is_(False),
                                                                   o.waybill_no.is_not(None))
                                       .order_by(o.order_id).limit(n))]
        docs = load_docs(c, ids)
        w = Writer(c, hub.settings, Actor.system("test"))
        w.track(docs)
        for i, oid in enumerate(ids):
            w.transition(docs[oid], Trigger.LABEL_PRINTED)
            if i < ship:
                w.transition(docs[oid], Trigger.SHIPPED_BY_STATION)
        w.flush()
        return ids
    ids: list[str] = hub.tx(run)
    assert len(ids) == n
    return ids


def history(signed: bool = True) -> list[Step]:
    steps = [Step(T0, "【杭州萧山】已揽收", "浙江,杭州市", "揽收", "1"),
             Step(T0 + timedelta(hours=3), "到达【杭州转运中心】", "浙江,杭州市", "在途", "0"),
             Step(T0 + timedelta(hours=9), "离开【杭州转运中心】发往【上海转运中心】", "浙江,杭州市", "在途", "1002"),
             Step(T0 + timedelta(hours=20), "到达【上海浦东】", "上海,上海市,浦东新区", "在途", "0"),
             Step(T0 + timedelta(hours=26), "【上海浦东】派件员正在派件", "上海,上海市,浦东新区", "派件", "5")]
    if signed:
        steps.append(Step(T0 + timedelta(hours=29), "已签收，签收人：本人", "上海,上海市,浦东新区", "签收", "301"))
    return steps


def pushes_of(company: str, number: str, steps: list[Step]) -> list[str]:
    """What 快递100 sends over a parcel's life: after each new step, the whole history so far."""
    return [push_param(company, number, steps[:k], state=top_state(steps[k - 1].code)) for k in range(1, len(steps) + 1)]


def top_state(code: str) -> str:
    """A resultv2 sub-state's family as the push's ``state``: 301 → 3, 1002 (干线) → 0."""
    if len(code) <= 2:
        return code
    return "0" if code[:-2] == "10" else code[:-2]


def test_sign_known_answer_and_state_codes() -> None:
    # RFC 1321 A.5 test suite: MD5("") and MD5("abc"); 快递100 signs MD5(param + salt), upper-case.
    assert kuaidi100.sign("", "") == "D41D8CD98F00B204E9800998ECF8427E"
    assert kuaidi100.sign("a", "bc") == "900150983CD24FB0D6963F7D28E17F72"
    assert kuaidi100.verify("a", "900150983cd24fb0d6963f7d28e17f72", "bc")
    assert not kuaidi100.verify("a", "900150983CD24FB0D6963F7D28E17F72", "")  # no salt: nothing verifies
    expected = {"0": "in_transit", "1": "collected", "2": "problem", "3": "signed", "4": "returned",
                "5": "delivering", "6": "returning", "7": "in_transit", "14": "refused", "301": "signed",
                "203": "refused", "201": "problem", "1002": "in_transit", "101": "collected", "x": None}
    assert {k: kuaidi100.status_of_code(k) for k in expected} == expected


def test_subscription_queued_at_ship_sent_in_documented_shape_and_retried(site: Site) -> None:
    ids = make_orders(site, 4, ship=3)  # the fourth is printed, not shipped: nothing to track yet
    subs = {oid: site.hub.read(lambda c, o=oid: store.subscriptions_of(c, o)) for oid in ids}
    assert [len(subs[o]) for o in ids] == [1, 1, 1, 0]
    site.fake.fail_next("http_500")
    site.fake.fail_next("garbage")
    assert site.hub.tracking.send_subscriptions() == 3
    rows = [site.hub.read(lambda c, o=oid: store.subscriptions_of(c, o))[0] for oid in ids[:3]]
    assert [r["subscribed_at"] is None for r in rows] == [True, True, False]
    assert "HTTP 500" in rows[0]["last_error"] and "not its subscription JSON" in rows[1]["last_error"]
    assert site.hub.tracking.send_subscriptions() == 0  # backed off: not due yet
    # the back-off passes
    site.hub.tx(lambda c: c.execute(update(db.tracking_subscriptions).values(next_attempt_at=utcnow())))
    site.fake.fail_next("slow")  # longer than the client's timeout: retried again, nothing lost
    site.hub.tracking.send_subscriptions()
    site.hub.tx(lambda c: c.execute(update(db.tracking_subscriptions).values(next_attempt_at=utcnow())))
    site.hub.tracking.send_subscriptions()
    rows = [site.hub.read(lambda c, o=oid: store.subscriptions_of(c, o))[0] for oid in ids[:3]]
    assert all(r["subscribed_at"] for r in rows), rows
    assert site.fake.problems == []
    docs = {oid: site.doc(oid) for oid in ids[:3]}
    got = {s.number: s for s in site.fake.subscribed}
    assert set(got) == {docs[o]["waybill_no"] for o in ids[:3]}
    for oid in ids[:3]:
        d = docs[oid]
        s = got[d["waybill_no"]]
        assert s.company == kuaidi100.COMPANY_CODES[d["carrier"]] and s.salt == SALT and s.callbackurl == CALLBACK
        digits = "".join(ch for ch in d["recipient"]["phone"] if ch.isdigit())
        assert s.phone == digits[-4:] and s.to.startswith(d["recipient"]["province"])
    # a refusal (company not served) is final, not retried
    [more] = make_orders(site, 1, ship=1)
    site.fake.fail_next("refuse")
    site.hub.tracking.send_subscriptions()
    [row] = site.hub.read(lambda c: store.subscriptions_of(c, more))
    assert row["refused_at"] and "拒绝订阅" in row["last_error"]
    site.hub.tx(lambda c: c.execute(update(db.tracking_subscriptions).values(next_attempt_at=utcnow())))
    assert site.hub.tracking.send_subscriptions() == 0


def test_pushes_shuffled_and_twice_give_one_history_and_delivered(site: Site) -> None:
    ids = make_orders(site, 4, ship=3)  # the fourth only printed: its first carrier scan ships it
    docs = {oid: site.doc(oid) for oid in ids}
    steps = history()
    pushes: list[str] = []
    for oid in ids:
        d = docs[oid]
        pushes += pushes_of(kuaidi100.COMPANY_CODES[d["carrier"]], d["waybill_no"], steps)
    replay = pushes * 2
    random.Random(13).shuffle(replay)
    # the worst case first: the whole history with 签收 arrives before any earlier push
    replay.insert(0, pushes[len(steps) - 1])
    for i, param in enumerate(replay):
        r = site.push(param)
        assert r.status_code == 200 and r.json() == kuaidi100.ACK, r.text
        if i % 7 == 0:
            site.apply_all()  # apply in between, so later pushes land on orders already moved
    site.apply_all()
    assert site.hub.read(store.inbox_counts) == {"waiting": 0, "applied": len(pushes)}  # replays stored once
    signed_at = iso(steps[-1].at)
    expected = [{"at": iso(s.at), "place": s.area, "text": s.context,
                 "status": kuaidi100.status_of_code(s.code)} for s in reversed(steps)]
    for oid in ids:
        d = site.doc(oid)
        assert d["state"] == "delivered" and d["tracking_status"] == "signed" and d["signed_at"] == signed_at
        assert d["tracking"] == expected
        events = site.hub.read(lambda c, o=oid: store.events_of(c, [o]))[oid]
        assert len(events) == len(steps)
    assert "picked_up_by_carrier" in site.audit(ids[3]) and "shipped_by_station" not in site.audit(ids[3])
    # an old 在途 push, newly worded by 快递100 (a re-push), never undoes 签收
    d = site.doc(ids[0])
    version = d["version"]
    stale = push_param(kuaidi100.COMPANY_CODES[d["carrier"]], d["waybill_no"], steps[:3], state="0",
                       monitor="updateall")
    assert site.push(stale).status_code == 200
    for param in pushes[:len(steps)]:  # and the first order's own pushes again: nothing new
        assert site.push(param).status_code == 200
    site.apply_all()
    after = site.doc(ids[0])
    assert after["tracking_status"] == "signed" and after["state"] == "delivered" and after["tracking"] == expected
    assert after["version"] == version  # nothing changed, nothing written


def test_bad_signature_and_garbage_are_refused_and_store_nothing(site: Site) -> None:
    [oid] = make_orders(site, 1, ship=1)
    d = site.doc(oid)
    param = pushes_of(kuaidi100.COMPANY_CODES[d["carrier"]], d["waybill_no"], history())[1]
    r = site.push(param, bad_sign=True)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    from urllib.parse import urlencode
    bad: list[tuple[bytes, int, str]] = [
        (urlencode({"param": param}).encode(), 401, "bad_signature"),  # no sign
        (urlencode({"sign": kuaidi100.sign("", SALT)}).encode(), 400, "bad_push"),  # no param
        (b"\xff\xfe\x00garbage", 400, "bad_push"),  # not UTF-8
        (b"<xml>not a form</xml>", 400, "bad_push"),
        (signed_form("not json", SALT), 400, "bad_push"),  # signed, but not 快递100's shape
        (signed_form('{"status":"polling","lastResult":{"nu":"","data":[]}}', SALT), 400, "bad_push"),
        (signed_form('{"lastResult":{"nu":"1","data":[{"ftime":"yesterday","context":"x"}]}}', SALT), 400,
         "bad_push"),
    ]
    for body, status, code in bad:
        r = site.client.post(PUSH, content=body, headers=FORM)
        assert (r.status_code, r.json()["error"]) == (status, code), (body, r.text)
        assert r.json()["message"]
    assert site.hub.read(store.inbox_counts) == {"waiting": 0}
    # a good push after all that is taken whole; one for a waybill no order carries is acknowledged
    assert site.push(param).json() == kuaidi100.ACK
    assert site.push(push_param("zhongtong", "NO-SUCH-WAYBILL", history()[:2], state="0")).json() == kuaidi100.ACK
    site.apply_all()
    assert site.hub.read(store.inbox_counts) == {"waiting": 0, "applied": 1, "unknown_waybill": 1}
    assert len(site.doc(oid)["tracking"]) == 2
    # a hub with no salt takes no pushes at all
    site.hub.settings.kuaidi100_salt = ""
    r = site.push(param)
    assert r.status_code == 403 and r.json()["error"] == "channel_not_configured"


def test_refused_holds_returned_closes_signed_settles(site: Site) -> None:
    refused, returned, settled = make_orders(site, 3, ship=3)
    base = history(signed=False)[:3]
    later = T0 + timedelta(hours=30)

    def send(oid: str, steps: list[Step], state: str) -> None:
        d = site.doc(oid)
        assert site.push(push_param(kuaidi100.COMPANY_CODES[d["carrier"]], d["waybill_no"], steps,
                                    state=state)).status_code == 200
    send(refused, [*base, Step(later, "收件人拒收，原因：不想要了", "上海,上海市", "拒签", "14")], "14")
    send(returned, [*base, Step(later, "包裹退回中", "上海,上海市", "退回", "6")], "6")
    send(settled, [*base, Step(later, "地址不详，联系不上收件人", "上海,上海市", "疑难", "206")], "2")
    site.apply_all()
    for oid, status in ((refused, "refused"), (returned, "returning"), (settled, "problem")):
        d = site.doc(oid)
        assert d["state"] == "shipped" and d["tracking_status"] == status
        [hold] = d["holds"]
        assert hold["type"] == "delivery_failed" and hold["details"]["tracking_status"] == status
        # one 中文 / English pair: a Chinese screen shows no English, an English one no Chinese
        zh, en = one_language(hold["reason"], "zh_CN"), one_language(hold["reason"], "en")
        assert zh.startswith("快递回报派送失败") and not re.search("[A-Za-z]", zh), zh
        assert en.startswith("The carrier reports") and not re.search("[\u4e00-\u9fff]", en), en
        assert site.audit(oid)[-2:] == ["delivery_failed", "hold_raised"]
    # more bad news while the hold is open: recorded, no second hold
    send(refused, [*base, Step(later, "收件人拒收，原因：不想要了", "上海,上海市", "拒签", "14"),
                   Step(later + timedelta(hours=2), "再次派送，收件人仍拒收", "上海,上海市", "拒签", "14")], "14")
    # 退签: back at the sender: the order closes (its hold released with it)
    send(returned, [*base, Step(later, "包裹退回中", "上海,上海市", "退回", "6"),
                    Step(later + timedelta(days=2), "退回件已由寄件人签收", "浙江,杭州市", "退签", "4")], "4")
    # signed after all: delivered, the hold released by the carrier's later fact
    send(settled, [*base, Step(later, "地址不详，联系不上收件人", "上海,上海市", "疑难", "206"),
                   Step(later + timedelta(hours=5), "已签收，签收人：门卫", "上海,上海市", "签收", "303")], "3")
    site.apply_all()
    d = site.doc(refused)
    assert len(d["holds"]) == 1 and len(d["tracking"]) == 5 and d["state"] == "shipped"
    d = site.doc(returned)
    assert d["state"] == "closed" and d["holds"] == [] and "returned_to_sender" in site.audit(returned)
    d = site.doc(settled)
    assert d["state"] == "delivered" and d["holds"] == [] and d["signed_at"] == iso(later + timedelta(hours=5))


def test_order_tracking_endpoint_for_the_desk(site: Site) -> None:
    [oid] = make_orders(site, 1, ship=1)
    d = site.doc(oid)
    site.push(pushes_of(kuaidi100.COMPANY_CODES[d["carrier"]], d["waybill_no"], history())[2])
    site.apply_all()
    assert site.client.get(f"/api/v1/orders/{oid}/tracking").status_code == 401
    site.hub.tx(auth.seed_operators)

    def token(code: str, pin: str, bench: str | None) -> str:
        r = site.client.post("/api/v1/auth/login", json={"operator": code, "pin": pin, "station": f"ST-{code}",
                                                           "bench": bench, "device_id": f"dev-{code}"})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])
    packer = token("P001", "1111", d.get("bench") or "B1")
    assert site.client.get(f"/api/v1/orders/{oid}/tracking",
                           headers={"Authorization": f"Bearer {packer}"}).status_code == 403
    r = site.client.get(f"/api/v1/orders/{oid}/tracking",
                        headers={"Authorization": f"Bearer {token('D001', '2222', None)}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tracking_status"] == "in_transit" and [e["raw_code"] for e in body["events"]] == ["1002", "0", "1"]
    assert body["subscriptions"][0]["waybill"] == d["waybill_no"]
    assert KEY not in r.text and SALT not in r.text


@pytest.mark.postgres
def test_two_hub_processes_apply_one_inbox_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several hub processes over one PostgreSQL: each applier claims its own rows (SKIP LOCKED) and
    the pushes of one order may be applied by both at once; every event is stored once and every
    order ends delivered with the same history as one applier would give."""
    from tests.conftest import require_postgres
    from tests.hubproc import fresh_pg_database

    require_postgres()
    monkeypatch.setattr(tracking, "APPLY_BATCH", 7)  # many small batches: the two interleave
    with fresh_pg_database() as url:
        hubs = [create_app(HubSettings(database_url=url, kuaidi100_salt=SALT)).state.hub for _ in range(2)]
        try:
            db.migrate(hubs[0].engine)
            ids = make_orders(hubs[0], 6, ship=6)
            docs = hubs[0].read(lambda c: load_docs(c, ids))
            steps = history()
            pushes = [p for oid in ids for p in pushes_of(kuaidi100.COMPANY_CODES[docs[oid]["carrier"]],
                                                          docs[oid]["waybill_no"], steps)]
            random.Random(5).shuffle(pushes)
            hubs[0].tx(lambda c: store.store_pushes(c, [{"provider": "kuaidi100", "waybill": "-", "body": p}
                                                        for p in pushes], utcnow()))
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def drain(hub: Hub) -> None:
                barrier.wait()
                try:
                    while hub.tracking.apply_inbox():
                        pass
                except BaseException as exc:  # handed to the test thread
                    errors.append(exc)
            threads = [threading.Thread(target=drain, args=(h,)) for h in hubs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors
            assert hubs[0].read(store.inbox_counts) == {"waiting": 0, "applied": len(pushes)}
            expected = [{"at": iso(s.at), "place": s.area, "text": s.context,
                         "status": kuaidi100.status_of_code(s.code)} for s in reversed(steps)]
            after = hubs[1].read(lambda c: load_docs(c, ids))
            for oid in ids:
                assert after[oid]["state"] == "delivered" and after[oid]["tracking"] == expected
                assert after[oid]["signed_at"] == iso(steps[-1].at)
            events = hubs[0].read(lambda c: store.events_of(c, ids))
            assert all(len(events[oid]) == len(steps) for oid in ids)
        finally:
            for h in hubs:
                h.engine.dispose()
                h.reader.dispose()


def test_tracking_settings_from_the_environment_stay_secret() -> None:
    from core.errors import ValidationFailed
    from hub.config import load_settings

    env = {"PACKDESK_HUB_DB": "sqlite:///unused.db", "PACKDESK_HUB_KUAIDI100_KEY": KEY,
           "PACKDESK_HUB_KUAIDI100_SALT": SALT, "PACKDESK_HUB_KUAIDI100_CUSTOMER": "CUST-42",
           "PACKDESK_HUB_KUAIDI100_CALLBACK_URL": CALLBACK}
    s = load_settings(env=env)
    assert (s.kuaidi100_key, s.kuaidi100_salt, s.kuaidi100_customer) == (KEY, SALT, "CUST-42")
    assert s.tracking_enabled and s.kuaidi100_base_url == "https://poll.kuaidi100.com"
    assert KEY not in repr(s) and SALT not in repr(s) and "CUST-42" not in repr(s)
    assert not load_settings(env={**env, "PACKDESK_HUB_KUAIDI100_SALT": ""}).tracking_enabled
    with pytest.raises(ValidationFailed, match="kuaidi100_callback_url"):
        load_settings(env={**env, "PACKDESK_HUB_KUAIDI100_CALLBACK_URL": "hub.example.com/push"})
