"""The rules file's ``[notify]`` section: which events go to which WeCom robot, which SMS template
goes with which buyer event (docs/notifications.md, example in resources/rules/default.toml).

Parsed by :class:`hub.routing.Rules` with the rest of the file, so a mistake stops the hub with the
file and key named. Secrets are not here: a robot's webhook key and the SMS AccessKey are hub
settings (hub/config.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationFailed

#: Events a robot may subscribe to, with the words its message starts with.
ROBOT_EVENTS: dict[str, str] = {
    "order.carrier_area": "快递不覆盖，待协调",
    "order.vip_overdue": "VIP 订单已超时未发货",
    "ticket.overdue": "工单超过处理时限",
}
#: Buyer events an SMS template may go with.
SMS_EVENTS = frozenset({"order.shipped", "order.address_confirmed"})
#: What an SMS template's params may be filled from (the order's fields; ``carrier_name`` from the rules).
SMS_FIELDS = frozenset({"order_id", "channel_order_no", "recipient_name", "carrier", "carrier_name", "waybill_no",
                        "province", "city", "district", "address"})
MSGTYPES = ("text", "markdown")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

Fail = Callable[[str, str], ValidationFailed]


@dataclass(frozen=True)
class Robot:
    """A WeCom group robot: its name (the key is the setting ``wecom_robot_keys.<name>``), the events
    it gets, the warehouses (regions) whose orders it hears about (empty: all) and whom it @-mentions."""

    name: str
    events: tuple[str, ...]
    warehouses: tuple[str, ...] = ()
    mention_mobiles: tuple[str, ...] = ()
    msgtype: str = "text"

    def wants(self, event: str, warehouse: str | None) -> bool:
        """Whether this robot hears ``event`` about ``warehouse`` (None: a region unknown, e.g. a ticket
        without an order: every robot subscribed to the event hears it)."""
        return event in self.events and (not self.warehouses or warehouse is None or warehouse in self.warehouses)


@dataclass(frozen=True)
class SmsTemplate:
    """One buyer SMS: the event it goes with, the provider's approved template code, and which order
    field fills each template variable."""

    name: str
    event: str
    template_code: str
    params: Mapping[str, str]


@dataclass(frozen=True)
class NotifyRules:
    robots: tuple[Robot, ...] = ()
    sms_sign_name: str = ""
    sms_templates: tuple[SmsTemplate, ...] = ()

    def robots_for(self, event: str, warehouse: str | None) -> list[Robot]:
        return [r for r in self.robots if r.wants(event, warehouse)]

    def templates_for(self, event: str) -> list[SmsTemplate]:
        return [t for t in self.sms_templates if t.event == event]


def _strs(fail: Fail, where: str, value: Any, *, allowed: frozenset[str] | set[str] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(where, "must be a list of names as text in quotes, none of them empty.")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise fail(where, f"has {v!r}, which is not one of: {', '.join(sorted(allowed))}.")
    return tuple(v.strip() for v in value)


def _known(fail: Fail, table: Mapping[str, Any], keys: set[str], where: str) -> None:
    for key in table:
        if key not in keys:
            raise fail(f"{where}{key}", f"is not a known key. Known keys: {', '.join(sorted(keys))}.")


def parse(raw: Any, fail: Fail, warehouses: set[str]) -> NotifyRules:
    """Read ``[notify]`` (``raw`` is its table, or None when the file has none: nothing is sent).

    Raises:
        ValidationFailed: through ``fail``, naming the dotted key.
    """
    if raw is None:
        return NotifyRules()
    if not isinstance(raw, dict):
        raise fail("notify", "must be a [notify] section.")
    _known(fail, raw, {"wecom", "sms"}, "notify.")
    robots = []
    wecom = raw.get("wecom", {})
    if not isinstance(wecom, dict):
        raise fail("notify.wecom", "must hold [notify.wecom.<robot name>] sections.")
    for name, spec in wecom.items():
        where = f"notify.wecom.{name}."
        if not _NAME_RE.match(name):
            raise fail(f"notify.wecom.{name}", "robot names are 1 to 64 letters, digits, - or _.")
        if not isinstance(spec, dict):
            raise fail(f"notify.wecom.{name}", "must be a [notify.wecom.<robot name>] section.")
        _known(fail, spec, {"events", "warehouses", "mention_mobiles", "msgtype"}, where)
        events = _strs(fail, f"{where}events", spec.get("events", []), allowed=set(ROBOT_EVENTS))
        if not events:
            raise fail(f"{where}events", "must list at least one event.")
        whs = _strs(fail, f"{where}warehouses", spec.get("warehouses", []), allowed=warehouses)
        mobiles = _strs(fail, f"{where}mention_mobiles", spec.get("mention_mobiles", []))
        for m in mobiles:
            if m != "@all" and not _MOBILE_RE.match(m):
                raise fail(f"{where}mention_mobiles", f"has {m!r}; write an 11-digit mobile such as 13800001111, or \"@all\".")
        msgtype = spec.get("msgtype", "text")
        if msgtype not in MSGTYPES:
            raise fail(f"{where}msgtype", f'must be "text" or "markdown", not {msgtype!r}.')
        if mobiles and msgtype != "text":
            raise fail(f"{where}mention_mobiles", 'works only with msgtype = "text": WeCom\'s markdown messages '
                                                  "cannot @-mention by mobile number.")
        robots.append(Robot(name, events, whs, mobiles, msgtype))

    sign_name, templates = "", []
    sms = raw.get("sms")
    if sms is not None:
        if not isinstance(sms, dict):
            raise fail("notify.sms", "must be a [notify.sms] section.")
        _known(fail, sms, {"sign_name", "templates"}, "notify.sms.")
        sign_name = sms.get("sign_name", "")
        if not isinstance(sign_name, str) or not sign_name.strip():
            raise fail("notify.sms.sign_name", "must be the approved SMS signature (签名) as text, e.g. \"包立得\".")
        tmpl = sms.get("templates", {})
        if not isinstance(tmpl, dict):
            raise fail("notify.sms.templates", "must hold [notify.sms.templates.<name>] sections.")
        for name, spec in tmpl.items():
            where = f"notify.sms.templates.{name}."
            if not _NAME_RE.match(name) or not isinstance(spec, dict):
                raise fail(f"notify.sms.templates.{name}", "must be a [notify.sms.templates.<name>] section "
                                                             "(name: letters, digits, - or _).")
            _known(fail, spec, {"event", "template_code", "params"}, where)
            event = spec.get("event")
            if event not in SMS_EVENTS:
                raise fail(f"{where}event", f"must be one of: {', '.join(sorted(SMS_EVENTS))}, not {event!r}.")
            code = spec.get("template_code")
            if not isinstance(code, str) or not code.strip():
                raise fail(f"{where}template_code", 'must be the approved template code as text, e.g. "SMS_153055065".')
            params = spec.get("params", {})
            if not isinstance(params, dict):
                raise fail(f"{where}params", "must map each template variable to an order field, "
                                             'e.g. { waybill = "waybill_no" }.')
            for var, src in params.items():
                if src not in SMS_FIELDS:
                    raise fail(f"{where}params.{var}", f"must be one of: {', '.join(sorted(SMS_FIELDS))}, not {src!r}.")
            templates.append(SmsTemplate(name, event, code.strip(), dict(params)))
    return NotifyRules(tuple(robots), sign_name.strip(), tuple(templates))
