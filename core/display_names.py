"""How codes read on a screen and on paper: channels, carriers, document types, audit lines.

Why one table: the hub stores codes (``generic``, ``ZTO``, ``print_ok``) and writes some audit
reasons in English; the detail pane, the queue and the printed label each used to show them
raw or keep their own list, so a Chinese screen said "generic" and "ZTO". Every place that
shows one of these codes to a person asks this module, in the operator's language (a label, a
Chinese carrier document, asks for Chinese).

The hub's fixed audit reasons (``why``) have stable codes (:data:`WHY_TEMPLATES`): the hub writes
the English text for API readers plus ``details.why_code`` / ``details.why_args``, and the bench
translates the code. An audit row written before the codes existed is recognised by its English
text (the same templates), so old history reads in the operator's language too. A reason a
person typed is shown as typed; a ``中文 / English`` pair shows the operator's half.

No Qt here (``core/``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from core.i18n import N_, _, language

__all__ = [
    "AUDIT_WORDS",
    "CARRIER_NAMES",
    "CHANNEL_NAMES",
    "WHY_TEMPLATES",
    "audit_what",
    "audit_why",
    "carrier_name",
    "channel_name",
    "doc_type_name",
    "one_language",
    "refusal_text",
    "why_details",
    "why_text",
]

#: Channel code (as the hub stores ``channel``) -> (中文, English).
CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    "douyin": ("抖店", "Douyin Shop"),
    "pinduoduo": ("拼多多", "Pinduoduo"),
    "wechat": ("微信小店", "WeChat Shop"),
    "xiaohongshu": ("小红书", "Xiaohongshu"),
    "taobao": ("淘宝", "Taobao"),
    "generic": ("通用接口", "Generic API"),
    "import": ("表格导入", "Sheet import"),
}

#: Carrier code (as the hub stores ``carrier``) -> (中文, English): the names couriers and buyers know.
CARRIER_NAMES: dict[str, tuple[str, str]] = {
    "SF": ("顺丰速运", "SF Express"),
    "ZTO": ("中通快递", "ZTO Express"),
    "YTO": ("圆通速递", "YTO Express"),
    "STO": ("申通快递", "STO Express"),
    "YD": ("韵达快递", "Yunda Express"),
    "YUNDA": ("韵达快递", "Yunda Express"),
    "JD": ("京东快递", "JD Logistics"),
    "EMS": ("中国邮政 EMS", "China Post EMS"),
    "YZPY": ("邮政快递包裹", "China Post Parcel"),
    "JT": ("极兔速递", "J&T Express"),
    "JTSD": ("极兔速递", "J&T Express"),
    "DBL": ("德邦快递", "Deppon Express"),
    "DEPPON": ("德邦快递", "Deppon Express"),
}

#: Print journal document types -> (中文, English).
DOC_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "label": ("面单", "label"),
    "pick_list": ("拣货单", "pick list"),
    "packing_slip": ("装箱单", "packing slip"),
    "handover_manifest": ("交接单", "handover manifest"),
}


def _lang(lang: str | None) -> bool:
    """Whether to show Chinese (``lang`` None: the operator's language)."""
    return (lang or language()).startswith("zh")


def _pick(table: Mapping[str, tuple[str, str]], code: str, lang: str | None) -> str | None:
    names = table.get(code) or table.get(code.strip().lower()) or table.get(code.strip().upper())
    if names is None:
        return None
    return names[0] if _lang(lang) else names[1]


def channel_name(code: Any, lang: str | None = None) -> str:
    """A channel code as people read it (``generic`` → 通用接口); an unknown code as recorded."""
    text = str(code or "")
    return _pick(CHANNEL_NAMES, text, lang) or text


def carrier_name(code: Any, lang: str | None = None) -> str:
    """A carrier code as people read it (``ZTO`` → 中通快递); none: "no carrier"; unknown: as recorded."""
    text = str(code or "").strip()
    if not text:
        return "未指定快递" if _lang(lang) else "no carrier"
    return _pick(CARRIER_NAMES, text, lang) or text


def doc_type_name(code: Any, lang: str | None = None) -> str:
    """A print journal document type (``label`` → 面单); unknown: as recorded."""
    text = str(code or "")
    return _pick(DOC_TYPE_NAMES, text, lang) or text


_CJK = re.compile(r"[\u3400-\u9fff]")


def says_gift(name: str) -> bool:
    """Whether a gift line's product name says it is one already (catalogue names often end in
    "(赠品)"): the screens then add no second mark."""
    return "赠品" in name or "gift" in name.lower()


def one_language(text: Any, lang: str | None = None) -> str:
    """One half of a ``中文 / English`` pair, the operator's; any other text as it is.

    The hub's hold reasons and the playbooks' summaries are written as pairs so that they never
    depend on the language a client ran in; a screen shows one language (the operator's).
    """
    s = str(text or "")
    zh, sep, en = s.partition(" / ")
    if not sep or not _CJK.search(zh) or _CJK.search(en) or not en.strip():
        return s
    return zh.strip() if _lang(lang) else en.strip()


#: Why the hub refused an action done here (its error code) -> what the operator reads. The hub's
#: own message (English, with versions and codes) stays in the conflict record and the log.
REFUSALS: dict[str, str] = {
    "illegal_transition": N_("The order changed at the hub meanwhile (for example it was cancelled): "
                             "what was done here no longer applies."),
    "order_held": N_("The order is held at the hub: resolve its exception first."),
    "forbidden": N_("The hub refused it: this operator's role may not do it."),
    "bad_payload": N_("The hub refused what was sent: a required field was missing or wrong."),
    "unknown_order": N_("The hub does not know this order."),
}


def refusal_text(error: Any, reason: Any) -> str:
    """Why the hub refused an action, in the operator's language.

    A known error code reads as a plain sentence on a Chinese screen; otherwise (or in English, where
    the hub's own words are the operator's) the hub's reason, one language of a pair.
    """
    code = str(error or "")
    if code in REFUSALS and _lang(None):
        return _(REFUSALS[code])
    return one_language(reason) or (_(REFUSALS[code]) if code in REFUSALS else code)


# -- audit lines -----------------------------------------------------------------------------------

#: What an audit line records, in words (hub triggers, bench steps, this station's own lines).
AUDIT_WORDS: dict[str, str] = {
    "created": N_("Order created"), "payment_confirmed": N_("Payment confirmed"),
    "payment_timeout": N_("Payment timed out"), "cancelled_by_buyer": N_("Cancelled by the buyer"),
    "allocated": N_("Allocated to a warehouse and bench"), "reallocated": N_("Moved to another bench"),
    "label_printed": N_("Label printed"), "label_voided": N_("Label voided"),
    "picked_up_by_carrier": N_("Picked up by the carrier"), "shipped_by_station": N_("Shipped from the bench"),
    "delivered": N_("Delivered"), "delivery_failed": N_("Delivery failed"),
    "returned_to_sender": N_("Returned to sender"), "refund_approved": N_("Refund approved"),
    "return_received": N_("Return received"), "completed": N_("Completed"),
    "address_changed": N_("Address changed"), "hold_raised": N_("Exception raised"),
    "hold_released": N_("Exception resolved"), "cancel_after_shipment": N_("Buyer cancelled after shipment"),
    "step:picked": N_("Picked"), "step:verified": N_("Items verified"), "step:packed": N_("Packed"),
    "step:weighed": N_("Weighed"), "sync_conflict": N_("Refused by the hub (conflict)"),
    "sync_rejected": N_("Refused by the hub"), "conflict_resolved": N_("Conflict handled"),
    "print_ok": N_("Printed"), "print_failed": N_("Printing failed"),
    "hold_escalated": N_("Escalated to a supervisor"),
    "tracking_updated": N_("Carrier tracking updated"),
    "split": N_("Split into a ship-now and a back-order part"), "split_created": N_("Created by a split"),
    "merged": N_("Merged into one parcel"), "unmerged": N_("Taken out of the merged parcel"),
    "parcel_changed": N_("An order of the merged parcel closed and left it"),
    "rerouted": N_("Routed again for the new address"), "delivered_by_hand": N_("Marked delivered by hand"),
    "cancel_request_repeated": N_("Cancel asked again (intercept already requested)"),
    # the desk's ticket actions (issue 15, core/ticket_desk.py), in this PC's own audit
    "ticket_opened": N_("Ticket opened (customer contact)"), "ticket_contact": N_("Customer contact on the ticket"),
    "ticket_replied": N_("Reply to the customer"), "ticket_closed": N_("Ticket closed"),
    "ticket_reopened": N_("Ticket reopened"), "ticket_assigned": N_("Ticket assigned"),
}


def audit_what(what: Any, details: Any = None) -> str:
    """An audit line's ``what`` as people read it; an unknown word is shown as recorded.

    A print line names the document (``print_ok`` of a label → "已打印 面单").
    """
    key = str(what or "")
    info = details if isinstance(details, dict) else {}
    if key == "step":  # this station's own step: the step is in the payload
        payload = info.get("payload")
        if isinstance(payload, dict) and payload.get("step"):
            key = f"step:{payload['step']}"
    word = AUDIT_WORDS.get(key)
    if word is None:
        return key
    text = _(word)
    if key in ("print_ok", "print_failed") and info.get("doc_type"):
        text = f"{text} {doc_type_name(info['doc_type'])}"
    return text


#: The hub's own audit reasons: code -> English template (the msgid the bench translates).
WHY_TEMPLATES: dict[str, str] = {
    "routing": N_("routing rules"),
    "channel_push": N_("{channel} push"),
    "channel_paid": N_("{channel}: paid"),
    "channel_cancelled": N_("{channel}: cancelled by buyer"),
    "channel_cancel_after_shipment": N_("{channel}: buyer cancelled after shipment; handle as a return"),
    "channel_address": N_("{channel}: address changed by buyer"),
    "order_closed": N_("order closed ({trigger})"),
    "address_changed": N_("address changed"),
    "desk_payment": N_("payment confirmed by desk"),
    "reroute": N_("routing rules, again for the new address"),
    "reroute_released": N_("the new address no longer needs this hold"),
}


def why_text(code: str, **args: str) -> str:
    """The English ``why`` the hub stores for one of its own reasons (API readers see this)."""
    return WHY_TEMPLATES[code].format(**args)


def why_details(code: str, **args: str) -> dict[str, Any]:
    """The ``details`` keys that let a bench translate the reason: ``why_code`` and ``why_args``."""
    return {"why_code": code, "why_args": dict(args)}


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each template as a regular expression, to read rows written before ``why_code`` existed."""
    out = []
    for code, template in WHY_TEMPLATES.items():
        parts = re.split(r"\{(\w+)\}", template)
        # a code, never free words: "please push" is a person's reason, not a channel's push
        rx = "".join(f"(?P<{p}>[\\w.-]+)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
        out.append((code, re.compile(f"^{rx}$")))
    return out


def _shown_arg(name: str, value: Any) -> str:
    if name == "channel":
        return channel_name(value)
    if name == "trigger":
        return audit_what(value)
    return str(value)


def audit_why(why: Any, details: Any = None) -> str:
    """An audit line's ``why`` in the operator's language (see the module docstring)."""
    text = str(why or "")
    info = details if isinstance(details, dict) else {}
    code, args = info.get("why_code"), info.get("why_args")
    if not (isinstance(code, str) and code in WHY_TEMPLATES and isinstance(args, dict)):
        code, args = None, None
        for name, rx in _patterns():
            m = rx.match(text)
            if m:
                code, args = name, m.groupdict()
                break
    if code is None or args is None:
        return one_language(text)
    try:
        return _(WHY_TEMPLATES[code]).format(**{k: _shown_arg(k, v) for k, v in args.items()})
    except (KeyError, IndexError, ValueError):  # a translation or an old row that does not fit
        return one_language(text)
