"""Notifications out (docs/notifications.md) in one in-process hub: the order changes that call for a
message queue it in their own transaction, and the worker sends it to a fake WeCom robot or a fake
阿里云 SMS endpoint on 127.0.0.1 that check the documented request; each first fails (HTTP 5xx, an
errcode, a rate limit, an unreadable answer), then succeeds. The worker's rounds are run by the test
with its own clock (no thread, no sleep): back-off is passed by moving the clock."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.states import Trigger
from core.timeutil import as_utc, parse_iso, utcnow
from hub import db
from hub.api.admin import health_detail as health
from hub.api.deps import Hub
from hub.config import HubSettings, load_settings
from hub.notify import dispatch, queue
from hub.notify.sms import mask_phone, rpc_signature, sms_phone
from hub.notify.worker import BAD_CREDENTIALS_RETRY_S, NotifyWorker
from hub.orders import intake
from hub.routing import Rules
from hub.writer import Actor, Writer
from tests.carriers import kit
from tests.hub.fake_notify import FakeAliyunSms, FakeWeCom

EAST_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
WEST_KEY = "11111111-2222-4333-8444-555555555555"
SMS_ID, SMS_SECRET = "LTAI-test-id", "sms-secret-0c1d"
BUYER = "13912345678"
SHANGHAI = ("上海市", "上海市", "浦东新区", "世纪大道 1 号")  # warehouse WH-SH: robot "east"
ALI = ("西藏自治区", "阿里地区", "噶尔县", "狮泉河镇 1 号")  # WH-CD, and no carrier of it covers 阿里地区


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    f = FakeWeCom(WEST_KEY)
    yield f
    assert not f.problems, f.problems
    f.close()


@pytest.fixture
def sms() -> Iterator[FakeAliyunSms]:
    f = FakeAliyunSms(SMS_ID, SMS_SECRET)
    yield f
    assert not f.problems, f.problems
    f.close()


def _hub(where: Path | str, wecom: FakeWeCom, sms: FakeAliyunSms | None = None, **over: Any) -> Hub:
    """A hub on SQLite in the folder ``where``, or on the database URL ``where``."""
    url = where if isinstance(where, str) else f"sqlite:///{where / 'hub.db'}"
    settings = HubSettings(database_url=url,
                           wecom_robot_keys={"east": WEST_KEY, "west": WEST_KEY}, wecom_base_url=wecom.url, **over)
    if sms is not None:
        settings.aliyun_sms_access_key_id, settings.aliyun_sms_access_key_secret = SMS_ID, SMS_SECRET
        settings.aliyun_sms_base_url = sms.url
    hub = Hub(settings)
    db.migrate(hub.engine)
    return hub


@pytest.fixture
def clock() -> Clock:
    return Clock()


def worker(hub: Hub, clock: Clock) -> NotifyWorker:
    """A worker on the test's clock, which starts just after the rows queued so far."""
    clock.now = max(clock.now, utcnow()) + timedelta(milliseconds=1)
    return NotifyWorker(hub.tx, hub.settings, read=hub.read, clock=clock, timeout_s=2.0)


def push(hub: Hub, no: str, where: tuple[str, str, str, str], *, phone: str = BUYER, total_fen: int = 11800,
         custom: bool = False) -> str:
    now = utcnow()
    sku = next(iter(hub.rules.catalogue))
    o = IntakeOrder(channel="generic", channel_order_no=no, status=ChannelStatus.PAID,
                    recipient=Recipient("李四", phone, *where), lines=[OrderLine(sku, "保温杯", 1, total_fen)],
                    total_fen=total_fen, created_at=now, channel_updated_at=now, paid_at=now, custom_packaging=custom)

    def run(c: Any) -> str:
        w = Writer(c, hub.settings, Actor.system("test"))
        oid = str(intake(w, hub.rules, [o])[0]["order_id"])
        w.flush()
        return oid
    oid: str = hub.tx(run)
    return oid


def rows(hub: Hub, order_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = hub.read(lambda c: queue.rows_of(c, order_id))
    return out


def next_at(hub: Hub, row_id: int) -> datetime:
    return as_utc(hub.read(lambda c: c.execute(select(queue.Q.next_attempt_at).where(queue.Q.id == row_id)).scalar_one()))


def ship(hub: Hub, order_id: str) -> None:
    def fn(w: Writer, doc: dict[str, Any]) -> None:
        doc["waybill_no"] = "YT7788990011"
        w.transition(doc, Trigger.LABEL_PRINTED)
        w.transition(doc, Trigger.SHIPPED_BY_STATION)
    kit.in_tx(hub, order_id, fn)


# --- the signature, against 阿里云's own worked examples ------------------------------------------

def test_aliyun_rpc_signature_matches_the_documented_examples() -> None:
    # help.aliyun.com/document_detail/101343.htm (短信服务 签名示例): GET, secret testSecret
    doc = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
           "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
           "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0",
           "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
           "Version": "2017-05-25"}
    assert rpc_signature("GET", doc, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert rpc_signature("GET", {**doc, "Signature": "ignored"}, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    # the RPC signature page's DescribeRegions example, secret testsecret
    rpc = {"Format": "XML", "AccessKeyId": "testid", "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
           "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0", "Version": "2014-05-26",
           "Timestamp": "2016-02-23T12:46:24Z"}
    assert rpc_signature("GET", rpc, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_sms_phone_takes_plaintext_mobiles_only() -> None:
    assert sms_phone("+86 139-1234-5678") == ("13912345678", "")
    assert sms_phone("139****5678")[0] is None and "加密" in sms_phone("139****5678")[1]
    assert sms_phone("#e4Qz9k$ciphertext")[0] is None  # 抖店 ciphertext
    assert sms_phone("021-66668888")[0] is None  # a landline takes no SMS
    assert mask_phone("13912345678") == "139****5678"


# --- WeCom ------------------------------------------------------------------------------------------

def test_a_carrier_area_hold_goes_to_its_regions_robot_first_failing_then_sent(db_url: str, wecom: FakeWeCom,
                                                                              clock: Clock) -> None:
    """On SQLite and PostgreSQL: the queue's insert-or-ignore, claim (SKIP LOCKED) and health queries."""
    hub = _hub(db_url, wecom)
    oid = push(hub, "N-ALI", ALI)
    assert kit.order(hub, oid)["warehouse"] == "WH-CD"
    [row] = rows(hub, oid)  # west only: east covers WH-SH
    assert (row["channel"], row["target"], row["event"]) == ("wecom", "west", "order.carrier_area")
    w = worker(hub, clock)
    wecom.answers = [(502, b"<html>bad gateway</html>"), (200, {"errcode": -1, "errmsg": "system busy"}),
                     (200, b"not json")]
    for expected in ("HTTP 502", "(-1)", "无法识别"):
        assert w.run_once()
        [row] = rows(hub, oid)
        assert row["outcome"] is None and expected in row["last_error"]
        assert not w.run_once()  # backing off: nothing due yet
        clock.advance(601)
    assert w.run_once()
    [row] = rows(hub, oid)
    assert row["outcome"] == "sent" and row["attempts"] == 4
    [msg] = wecom.received
    assert msg["msgtype"] == "markdown" and oid in msg["markdown"]["content"] and "待协调" in msg["markdown"]["content"]
    h = health(hub)["notify"]
    assert h["robots"]["west"]["key_set"] and h["queue"]["wecom:west"]["sent"] == 1
    assert WEST_KEY not in json.dumps(h)


def test_a_refused_key_waits_for_the_admin_and_a_refused_message_is_not_retried(tmp_path: Path, wecom: FakeWeCom,
                                                                               clock: Clock,
                                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hub = _hub(tmp_path, wecom)
    hub.settings.wecom_robot_keys["west"] = "wrong-key-0000"
    oid = push(hub, "N-KEY", ALI)
    w = worker(hub, clock)
    assert w.run_once()
    [row] = rows(hub, oid)
    assert row["outcome"] is None and "93000" in row["last_error"]
    assert (next_at(hub, row["id"]) - clock.now).total_seconds() == pytest.approx(BAD_CREDENTIALS_RETRY_S)
    assert "wrong-key-0000" not in caplog.text + json.dumps(rows(hub, oid)) + json.dumps(health(hub))
    hub.settings.wecom_robot_keys["west"] = WEST_KEY  # the admin fixes the setting: it goes on the next try
    clock.advance(BAD_CREDENTIALS_RETRY_S)
    assert w.run_once() and rows(hub, oid)[0]["outcome"] == "sent"

    oid2 = push(hub, "N-REFUSE", ALI)
    wecom.answers = [(200, {"errcode": 40008, "errmsg": "invalid message type"})]
    assert w.run_once()
    [row] = rows(hub, oid2)
    assert row["outcome"] == "refused" and "40008" in row["last_error"]
    clock.advance(3600)
    assert not w.run_once()


def test_ticket_overdue_is_emitted_with_a_mention_and_a_robot_keeps_to_20_a_minute(tmp_path: Path, wecom: FakeWeCom,
                                                                                  clock: Clock) -> None:
    hub = _hub(tmp_path, wecom)
    n = hub.tx(lambda c: sum(dispatch.emit(c, hub.settings, "ticket.overdue", key=f"TK-{i}", warehouse="WH-SH",
                                           lines=[f"工单 TK-{i} 已超过 SLA"], now=clock.now) for i in range(22)))
    assert n == 22  # east only (west covers WH-CD)
    assert hub.tx(lambda c: dispatch.emit(c, hub.settings, "ticket.overdue", key="TK-0", warehouse="WH-SH",
                                          lines=["again"], now=clock.now)) == 0  # once per ticket
    w = worker(hub, clock)
    wecom.answers = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    assert w.run_once()  # the first is refused for the rate: the robot gets nothing else this minute
    assert wecom.received == []
    clock.advance(30)
    w.run_once()
    assert wecom.received == []  # still within the minute: the rest wait, none is sent
    clock.advance(31)
    assert w.run_once()
    assert len(wecom.received) == 20  # its own limit: 20 a minute
    body = wecom.received[0]
    assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == ["13800001111"]
    assert "工单超过处理时限" in body["text"]["content"]
    clock.advance(61)
    while w.run_once():
        pass
    assert len(wecom.received) == 22


def test_a_vip_order_is_reported_when_its_ship_by_passes_unshipped(tmp_path: Path, wecom: FakeWeCom,
                                                                   clock: Clock) -> None:
    hub = _hub(tmp_path, wecom)
    late = push(hub, "N-VIP", SHANGHAI, total_fen=900000, custom=True)
    on_time = push(hub, "N-VIP2", SHANGHAI, total_fen=900000, custom=True)
    doc = kit.order(hub, late)
    assert "vip" in doc["flags"]
    w = worker(hub, clock)
    assert not w.run_once()  # due at its ship-by, not before
    ship_by = parse_iso(doc["ship_by"])
    assert ship_by is not None and next_at(hub, rows(hub, late)[0]["id"]) == ship_by
    hub.tx(lambda c: c.execute(db.orders.update().where(db.orders.c.order_id == on_time)
                               .values(state="shipped", doc={**kit.order(hub, on_time), "state": "shipped"})))
    clock.now = ship_by + timedelta(seconds=1)
    while w.run_once():
        pass
    assert rows(hub, late)[0]["outcome"] == "sent" and rows(hub, on_time)[0]["outcome"] == "not_needed"
    [msg] = wecom.received
    assert late in msg["text"]["content"] and "VIP" in msg["text"]["content"]


# --- SMS -------------------------------------------------------------------------------------------

def test_the_shipped_sms_is_signed_as_documented_and_retried_until_sent(tmp_path: Path, wecom: FakeWeCom,
                                                                        sms: FakeAliyunSms, clock: Clock,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hub = _hub(tmp_path, wecom, sms)
    oid = push(hub, "N-SHIP", SHANGHAI)
    assert rows(hub, oid) == []
    ship(hub, oid)
    [row] = rows(hub, oid)
    assert (row["target"], row["event"], row["body"]["phone"]) == ("shipped", "order.shipped", "139****5678")
    w = worker(hub, clock)
    sms.answers = [(500, b"upstream error"), (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}),
                   (200, {"Message": "no code"})]
    assert w.run_once() and "HTTP 500" in rows(hub, oid)[0]["last_error"]
    clock.advance(601)
    assert w.run_once() and "BUSINESS_LIMIT_CONTROL" in rows(hub, oid)[0]["last_error"]
    assert (next_at(hub, row["id"]) - clock.now).total_seconds() >= 300  # the provider's flow control is honoured
    clock.advance(299)
    assert not w.run_once()
    clock.advance(301)
    assert w.run_once() and "无法识别" in rows(hub, oid)[0]["last_error"]  # a malformed answer: retried
    clock.advance(601)
    assert w.run_once() and rows(hub, oid)[0]["outcome"] == "sent"
    [form] = sms.received
    assert (form["PhoneNumbers"], form["SignName"], form["TemplateCode"]) == (BUYER, "包立得", "SMS_000000001")
    order = kit.order(hub, oid)
    assert json.loads(form["TemplateParam"]) == {"order": order["channel_order_no"], "carrier": "中通快递",
                                                 "waybill": "YT7788990011"}
    assert BUYER not in caplog.text and SMS_SECRET not in caplog.text
    assert SMS_SECRET not in json.dumps(health(hub)) and BUYER not in json.dumps(health(hub))


def test_a_refused_signature_is_kept_and_an_encrypted_phone_is_skipped_with_its_reason(
        tmp_path: Path, wecom: FakeWeCom, sms: FakeAliyunSms, clock: Clock) -> None:
    hub = _hub(tmp_path, wecom, sms)
    hub.settings.aliyun_sms_access_key_secret = "not-the-secret"
    oid = push(hub, "N-SIG", SHANGHAI)
    ship(hub, oid)
    w = worker(hub, clock)
    assert w.run_once()
    [row] = rows(hub, oid)
    assert row["outcome"] is None and "SignatureDoesNotMatch" in row["last_error"]
    assert (next_at(hub, row["id"]) - clock.now).total_seconds() == pytest.approx(BAD_CREDENTIALS_RETRY_S)

    # a 抖店 order: the phone is the platform's masked form (the real one is ciphertext)
    doc = {**kit.order(hub, oid), "order_id": "BL-ENC-1", "recipient": {**kit.order(hub, oid)["recipient"],
                                                                       "phone": "139****5678"}}
    audit = [{"order_id": "BL-ENC-1", "what": "shipped_by_station", "details": {}}]
    hub.tx(lambda c: dispatch.on_flush(c, hub.settings, audit, {"BL-ENC-1": doc}, clock.now))
    [row] = rows(hub, "BL-ENC-1")
    assert row["outcome"] == "skipped" and "加密" in row["last_error"] and row["body"] == {"template_code": "SMS_000000001"}
    assert not sms.received


# --- rules and settings ------------------------------------------------------------------------------

def _rules_with(tmp_path: Path, notify: str) -> Rules:
    base = (Path(__file__).resolve().parents[2] / "resources/rules/default.toml").read_text(encoding="utf-8")
    base = base[: base.index("[notify.wecom.east]")]
    (tmp_path / "catalogue.csv").write_text(
        (Path(__file__).resolve().parents[2] / "resources/rules/catalogue.csv").read_text(encoding="utf-8"),
        encoding="utf-8")
    p = tmp_path / "rules.toml"
    p.write_text(base + notify, encoding="utf-8")
    return Rules.load(p)


@pytest.mark.parametrize(("section", "key"), [
    ('[notify.wecom.a]\nevents = ["order.shipped"]\n', "notify.wecom.a.events"),
    ('[notify.wecom.a]\nevents = ["ticket.overdue"]\nwarehouses = ["WH-XX"]\n', "notify.wecom.a.warehouses"),
    ('[notify.wecom.a]\nevents = ["ticket.overdue"]\nmsgtype = "markdown"\nmention_mobiles = ["13800001111"]\n',
     "notify.wecom.a.mention_mobiles"),
    ('[notify.sms]\nsign_name = "x"\n[notify.sms.templates.t]\nevent = "order.shipped"\ntemplate_code = "SMS_1"\n'
     'params = { p = "recipient.phone" }\n', "notify.sms.templates.t.params.p"),
])
def test_a_wrong_notify_section_names_its_key(tmp_path: Path, section: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _rules_with(tmp_path, section)
    assert err.value.details["key"] == key


def test_robot_keys_come_from_settings_or_env_and_are_never_shown() -> None:
    s = load_settings(env={"PACKDESK_HUB_DB": "sqlite://", "PACKDESK_HUB_WECOM_ROBOT_KEYS": json.dumps({"east": EAST_KEY}),
                           "PACKDESK_HUB_ALIYUN_SMS_KEY_ID": SMS_ID, "PACKDESK_HUB_ALIYUN_SMS_KEY_SECRET": SMS_SECRET})
    assert s.wecom_robot_keys == {"east": EAST_KEY}
    assert EAST_KEY not in repr(s) and SMS_SECRET not in repr(s)
    with pytest.raises(ValidationFailed, match="go together"):
        load_settings(env={"PACKDESK_HUB_DB": "sqlite://", "PACKDESK_HUB_ALIYUN_SMS_KEY_ID": SMS_ID})
    with pytest.raises(ValidationFailed, match="wecom_robot_keys"):
        load_settings(env={"PACKDESK_HUB_DB": "sqlite://", "PACKDESK_HUB_WECOM_ROBOT_KEYS": '{"east": ""}'})


def test_address_confirmed_goes_by_sms_only_when_the_desk_resolved_it(tmp_path: Path, wecom: FakeWeCom,
                                                                      sms: FakeAliyunSms, clock: Clock) -> None:
    hub = _hub(tmp_path, wecom, sms)
    oid = push(hub, "N-ADDR", SHANGHAI)
    doc = kit.order(hub, oid)
    hold = {"hold_id": "h1", "type": "rural_no_phone", "reason": "x"}
    by_desk = [{"order_id": oid, "what": "hold_released", "details": {"hold": hold, "resolution": {"phone": BUYER}}}]
    by_close = [{"order_id": oid, "what": "hold_released",
                 "details": {"hold": {**hold, "hold_id": "h2"}, "resolution": {"auto": "order closed"}}}]
    hub.tx(lambda c: dispatch.on_flush(c, hub.settings, by_close, {oid: doc}, clock.now))
    assert rows(hub, oid) == []  # an order closing releases its holds: nothing was confirmed
    hub.tx(lambda c: dispatch.on_flush(c, hub.settings, by_desk * 2, {oid: doc}, clock.now))
    [row] = rows(hub, oid)  # once, however often the change is replayed
    assert (row["target"], row["event"]) == ("address_ok", "order.address_confirmed")
    assert worker(hub, clock).run_once() and rows(hub, oid)[0]["outcome"] == "sent"
    assert json.loads(sms.received[0]["TemplateParam"]) == {"name": "李四", "order": "N-ADDR"}


def test_a_long_message_is_clipped_to_the_documented_bytes_and_a_row_gives_up_in_the_end(
        tmp_path: Path, wecom: FakeWeCom, clock: Clock) -> None:
    hub = _hub(tmp_path, wecom)
    hub.tx(lambda c: dispatch.emit(c, hub.settings, "ticket.overdue", key="TK-LONG", lines=["很长的说明" * 500],
                                   now=clock.now))
    w = worker(hub, clock)
    assert w.run_once()
    assert len(wecom.received) == 2  # no warehouse known: every robot subscribed to tickets hears it
    content = next(m["text"]["content"] for m in wecom.received if m["msgtype"] == "text")  # the fake refuses > 2048 bytes
    assert content.endswith("…") and 2040 <= len(content.encode()) <= 2048

    hub.tx(lambda c: dispatch.emit(c, hub.settings, "ticket.overdue", key="TK-DOWN", lines=["x"], warehouse="WH-SH",
                                   now=clock.now))
    hub.tx(lambda c: c.execute(db.notify_queue.update().where(db.notify_queue.c.dedupe_key.like("%TK-DOWN"))
                               .values(attempts=11)))  # eleven failures already
    wecom.answers = [(503, b"down")]
    clock.advance(1)
    assert w.run_once()
    row = hub.read(lambda c: c.execute(select(db.notify_queue).where(db.notify_queue.c.dedupe_key.like("%TK-DOWN")))
                   .one())
    assert row.outcome == "gave_up" and "gave up after 12 attempts" in row.last_error
