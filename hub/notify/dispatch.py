"""Events → rows of ``notify_queue``, in the transaction of the change that caused them.

:func:`on_flush` is called by :meth:`hub.writer.Writer.flush` with the transaction's audit lines and
final order documents; it queues

* ``order.carrier_area`` (待协调: a ``carrier_area`` hold raised) → the robots of the order's
  warehouse (region) that subscribe to it, @-mentioning the region's manager;
* ``order.vip_overdue`` → for a VIP order still to ship, a row due at its ship-by time: when it
  comes due the worker checks the order is still VIP, open and late, and only then sends;
* ``order.shipped`` (shipped by a station or picked up by the carrier) and
  ``order.address_confirmed`` (a ``rural_no_phone`` / ``no_phone`` hold resolved by the desk) →
  the buyer's SMS templates for them; an order whose phone is encrypted or masked by its platform
  gets a row marked ``skipped`` with the reason, so the record says why no SMS went.

:func:`emit` is the door for events that are not order changes: the tickets module calls
``emit(conn, settings, "ticket.overdue", key=<ticket ID>, lines=[…], warehouse=…, order_id=…)`` in the
transaction where it finds a ticket past its SLA.

Nothing is queued for a robot without a key in the settings, nor SMS without an AccessKey: those
messages could never go, and a demo hub would fill its queue with them. Health says which robots
lack a key (:func:`status`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from core.states import FULFILMENT_STATES, Trigger
from core.timeutil import parse_iso, utcnow
from hub.config import HubSettings
from hub.notify import queue, wecom
from hub.notify.rules import NotifyRules, SmsTemplate
from hub.notify.sms import sms_phone

CARRIER_AREA = "order.carrier_area"
VIP_OVERDUE = "order.vip_overdue"
TICKET_OVERDUE = "ticket.overdue"
SHIPPED = "order.shipped"
ADDRESS_CONFIRMED = "order.address_confirmed"

_SHIP = frozenset({Trigger.SHIPPED_BY_STATION.value, Trigger.PICKED_UP_BY_CARRIER.value})
_ADDRESS_HOLDS = frozenset({"rural_no_phone", "no_phone"})
OPEN_STATES = frozenset(s.value for s in FULFILMENT_STATES)


#: The routing rules by their path, as the hub loaded them at start (:func:`use_rules`).
_RULES: dict[str, Any] = {}


def use_rules(settings: HubSettings, rules: Any) -> None:
    """The rules the hub loaded at start: the writer's flush uses these, never re-reads the file (an
    edit made since, good or bad, takes effect with the rest of the rules at the next start)."""
    _RULES[settings.rules_path] = rules


def rules_of(settings: HubSettings) -> Any:
    """The routing rules the hub runs with (:func:`use_rules`; loaded here only for a writer without a hub)."""
    rules = _RULES.get(settings.rules_path)
    if rules is None:
        from hub.routing import Rules

        rules = _RULES.setdefault(settings.rules_path,
                                  Rules.load(settings.rules_path) if settings.rules_path else Rules.default())
    return rules


def sms_enabled(settings: HubSettings) -> bool:
    return bool(settings.aliyun_sms_access_key_id and settings.aliyun_sms_access_key_secret)


def enabled(settings: HubSettings) -> bool:
    """Whether anything can be sent at all (the writer's flush costs nothing otherwise)."""
    return bool(settings.wecom_robot_keys) or sms_enabled(settings)


def _local(text: str | None, tz: str) -> str:
    dt = parse_iso(text)
    return dt.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M") if dt else "—"


def order_lines(doc: dict[str, Any], tz: str) -> list[str]:
    """What a manager needs to find the order: IDs, where it goes, its warehouse and bench, ship-by."""
    r = doc.get("recipient") or {}
    return [f"订单 {doc['order_id']}（{doc.get('channel')} {doc.get('channel_order_no')}）",
            f"收件地区 {r.get('province', '')}{r.get('city', '')}{r.get('district', '')}",
            f"仓库 {doc.get('warehouse') or '—'} · 工作台 {doc.get('bench') or '—'} · 应发货 {_local(doc.get('ship_by'), tz)}"]


def _robot_rows(notify: NotifyRules, settings: HubSettings, event: str, key: str, warehouse: str | None,
                lines: list[str], order_id: str | None, **extra: Any) -> list[dict[str, Any]]:
    rows = []
    for robot in notify.robots_for(event, warehouse):
        if robot.name not in settings.wecom_robot_keys:
            continue
        rows.append({"dedupe_key": f"wecom:{robot.name}:{event}:{key}"[:160], "channel": queue.WECOM,
                     "target": robot.name, "event": event, "order_id": order_id,
                     "body": wecom.message(robot, event, lines), **extra})
    return rows


def sms_params(tmpl: SmsTemplate, doc: dict[str, Any], rules: Any) -> dict[str, str]:
    r = doc.get("recipient") or {}
    carrier = doc.get("carrier") or ""
    spec = rules.carrier_specs.get(carrier)
    fields = {"order_id": doc["order_id"], "channel_order_no": doc.get("channel_order_no") or "",
              "recipient_name": r.get("name") or "", "carrier": carrier,
              "carrier_name": (spec.name.split(" / ")[0] if spec else carrier), "waybill_no": doc.get("waybill_no") or "",
              "province": r.get("province") or "", "city": r.get("city") or "", "district": r.get("district") or "",
              "address": r.get("address") or ""}
    return {var: str(fields[src]) for var, src in tmpl.params.items()}


def _sms(conn: Connection, rules: Any, event: str, doc: dict[str, Any], now: datetime) -> None:
    notify: NotifyRules = rules.notify
    for tmpl in notify.templates_for(event):
        phone, why = sms_phone((doc.get("recipient") or {}).get("phone") or "")
        row = {"dedupe_key": f"sms:{tmpl.name}:{doc['order_id']}"[:160], "channel": queue.SMS, "target": tmpl.name,
               "event": event, "order_id": doc["order_id"]}
        if phone is None:
            queue.skipped(conn, [{**row, "body": {"template_code": tmpl.template_code}}], now, why)
            continue
        queue.enqueue(conn, [{**row, "body": {"phone": phone, "sign_name": notify.sms_sign_name,
                                              "template_code": tmpl.template_code,
                                              "params": sms_params(tmpl, doc, rules)}}], now)


def on_flush(conn: Connection, settings: HubSettings, audit: list[dict[str, Any]], docs: dict[str, dict[str, Any]],
             now: datetime) -> None:
    """Queue the notifications a transaction's changes call for (see the module docstring)."""
    if not enabled(settings):
        return
    rules = rules_of(settings)
    notify: NotifyRules = rules.notify
    if not notify.robots and not notify.sms_templates:
        return
    rows: list[dict[str, Any]] = []
    sms_events: dict[tuple[str, str], dict[str, Any]] = {}
    for a in audit:
        doc = docs.get(a["order_id"])
        if doc is None:
            continue
        details = a.get("details") or {}
        raw_hold = details.get("hold")
        hold: dict[str, Any] = raw_hold if isinstance(raw_hold, dict) else {}
        if a["what"] == Trigger.HOLD_RAISED.value and hold.get("type") == "carrier_area":
            rows += _robot_rows(notify, settings, CARRIER_AREA, f"{doc['order_id']}:{hold.get('hold_id')}",
                                doc.get("warehouse"), [*order_lines(doc, settings.timezone), f"原因 {hold.get('reason')}",
                                                       "请在异常窗口选择其他快递（如 EMS）或升级处理"], doc["order_id"])
        elif a["what"] in _SHIP:
            sms_events[(SHIPPED, doc["order_id"])] = doc
        elif (a["what"] == Trigger.HOLD_RELEASED.value and hold.get("type") in _ADDRESS_HOLDS
              and not (details.get("resolution") or {}).get("auto")):
            sms_events[(ADDRESS_CONFIRMED, doc["order_id"])] = doc
    for doc in docs.values():
        ship_by = parse_iso(doc.get("ship_by"))
        if "vip" in (doc.get("flags") or []) and doc.get("state") in OPEN_STATES and ship_by is not None:
            # rendered when due (the order may have moved); queued now so the queue's clock wakes it
            rows += [{**r, "body": {"order_id": doc["order_id"]}}
                     for r in _robot_rows(notify, settings, VIP_OVERDUE, doc["order_id"], doc.get("warehouse"), [],
                                          doc["order_id"], next_attempt_at=max(ship_by, now))]
    queue.enqueue(conn, rows, now)
    if sms_enabled(settings):
        for (event, _oid), doc in sms_events.items():
            _sms(conn, rules, event, doc, now)


def emit(conn: Connection, settings: HubSettings, event: str, *, key: str, lines: list[str],
         warehouse: str | None = None, order_id: str | None = None, now: datetime | None = None) -> int:
    """Queue ``event`` for every robot that subscribes to it (and covers ``warehouse``), once per ``key``.

    For events that are not order changes, chiefly ``ticket.overdue``: call it in the transaction that
    finds the ticket past its SLA, with the ticket's ID as ``key`` and the lines a manager should read.
    Returns how many rows were queued (0: no robot wants it, or it was queued before).
    """
    notify: NotifyRules = rules_of(settings).notify
    return queue.enqueue(conn, _robot_rows(notify, settings, event, key, warehouse, lines, order_id), now or utcnow())


def status(settings: HubSettings, notify: NotifyRules) -> dict[str, Any]:
    """What health shows about the configuration: robots with and without a key, SMS on or off."""
    return {"robots": {r.name: {"events": list(r.events), "warehouses": list(r.warehouses),
                                "key_set": r.name in settings.wecom_robot_keys} for r in notify.robots},
            "sms": {"provider": "aliyun" if sms_enabled(settings) else None,
                    "templates": [t.name for t in notify.sms_templates]}}
