"""The order as every part sees it.

Two shapes:

* :class:`IntakeOrder` — what a channel adapter (Douyin, Pinduoduo, WeChat, Xiaohongshu, generic
  JSON, CSV/XLSX import) produces from the channel's own payload: normalised, validated, in fen and
  UTC. The hub turns it into an order.
* the **snapshot** — a plain JSON dict the hub serves (change feed, lookups) and the client stores
  and prints from. Its keys are listed in :class:`Snapshot` and described in ``docs/api.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from core.barcodes import MAX_UNITS_PER_SCAN, BarcodeError, check_barcode
from core.errors import ValidationFailed
from core.timeutil import iso, to_utc


class ChannelStatus(StrEnum):
    """A channel's order status, reduced to what the hub acts on.

    Ranked: a push never moves an order back to a lower rank (out-of-order pushes are ignored).
    """

    UNPAID = "unpaid"
    PAID = "paid"
    CANCELLED = "cancelled"

    @property
    def rank(self) -> int:
        return {"unpaid": 0, "paid": 1, "cancelled": 2}[self.value]


@dataclass
class Recipient:
    name: str
    phone: str  # as given; may be empty, a mobile, a landline, or masked by the channel
    province: str
    city: str
    district: str
    address: str  # street, building, village… (the part below district)
    postcode: str = ""

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address}"


@dataclass
class OrderLine:
    sku: str
    name: str
    qty: int
    unit_price_fen: int
    is_gift: bool = False
    bin: str = ""  # bin location; filled from the SKU catalogue at routing when empty
    #: product barcode -> units one scan counts (unit code 1, a case code e.g. 6); merged with the
    #: catalogue's at routing (see core/barcodes.py). Old snapshots and hub rows have none.
    barcodes: dict[str, int] = field(default_factory=dict)


@dataclass
class IntakeOrder:
    """A normalised order from any channel.

    ``message_id`` is the channel's push/message ID when it has one (logged, used for tracing);
    ``channel_updated_at`` orders pushes for the same order: an older one never overrides a newer.
    """

    channel: str
    channel_order_no: str
    status: ChannelStatus
    recipient: Recipient
    lines: list[OrderLine]
    total_fen: int
    created_at: datetime
    channel_updated_at: datetime
    paid_at: datetime | None = None
    ship_by: datetime | None = None
    custom_packaging: bool = False
    buyer_note: str = ""
    seller_note: str = ""
    message_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_gift(self) -> bool:
        return any(line.is_gift for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SnapshotLine(TypedDict):
    sku: str
    name: str
    qty: int
    unit_price_fen: int
    is_gift: bool
    bin: str
    barcodes: NotRequired[dict[str, int]]  # barcode -> units per scan; absent in old snapshots
    weight_g: NotRequired[int]  # the catalogue's unit weight, put on at routing (core/weighing.py)


class SnapshotRecipient(TypedDict):
    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str
    postcode: str


class SnapshotHold(TypedDict):
    hold_id: str
    type: str  # rural_no_phone, gift_stock, carrier_area, vip_signoff, scan_mismatch, ...
    reason: str
    raised_at: str
    raised_by: str
    details: dict[str, Any]
    action_id: NotRequired[str]  # the bench action that raised it (its local ID was "local-<action_id>")


class Snapshot(TypedDict):
    """One order as the hub serves it. Times are ISO 8601 UTC strings; money is fen."""

    order_id: str
    channel: str
    channel_order_no: str
    state: str
    version: int
    created_at: str
    updated_at: str
    paid_at: str | None
    ship_by: str | None
    recipient: SnapshotRecipient
    lines: list[SnapshotLine]
    total_fen: int
    custom_packaging: bool
    buyer_note: str
    seller_note: str
    warehouse: str | None
    bench: str | None
    lane: str  # "vip" or "normal"
    carrier: str | None
    waybill_no: str | None
    holds: list[SnapshotHold]
    flags: list[str]  # hub-side flags: "vip", "gift"
    steps: dict[str, dict[str, Any]]  # bench work: picked / verified / packed / weighed
    label_count: int  # how many times a label was printed (reprints included)
    cancel_requested: NotRequired[bool]
    #: the site's weighing rule for the bench scale (core/weighing.py ``weighing_rule``); absent: no check
    weighing: NotRequired[dict[str, int]]
    #: the supervisor's packing instructions for the bench (the vip_signoff note), shown in pack mode
    packing_note: NotRequired[str]
    #: the e-waybill provider's routing data printed large on the label (docs/carriers.md):
    #: ``provider``, ``sort_code`` (大头笔), ``route_code`` (三段码), ``package_centre`` (集包地 name),
    #: ``package_code`` (集包编码), ``routing_barcode`` (a carrier routing barcode, may be "");
    #: every value a string, "" when the provider gave none. Absent on demo waybills and old snapshots.
    waybill_routing: NotRequired[dict[str, str]]
    #: the carrier's tracking history (物流轨迹), newest first, at most 50 entries, each
    #: ``{"at": ISO UTC, "place": str, "text": str, "status": TRACKING_STATUSES member}``
    tracking: NotRequired[list[dict[str, str]]]
    #: the latest tracking status (a TRACKING_STATUSES member) and, once signed, the signing time
    tracking_status: NotRequired[str]
    signed_at: NotRequired[str]
    #: when a printed parcel must be handed to its carrier (the carrier's cut-off, ISO UTC): a
    #: label_printed order past it is flagged at risk
    handover_due: NotRequired[str]
    #: the handover batch that shipped it: ``{"batch_id", "station", "operator", "at"}``
    handover: NotRequired[dict[str, str]]
    #: its carrier's daily cut-off as the hub's rules say, ``{"carrier", "time": "HH:MM", "tz"}``
    #: (core/cutoffs.py): a bench printing offline computes ``handover_due`` from it
    handover_cutoff: NotRequired[dict[str, str]]


#: A tracking status as the hub stores it, whatever provider reported it (docs/carriers.md maps each
#: provider's codes onto these): collected (揽收), in_transit (在途), delivering (派件), signed (签收),
#: problem (疑难), refused (拒签), returning (退回中), returned (退签 / 已退回).
TRACKING_STATUSES: tuple[str, ...] = ("collected", "in_transit", "delivering", "signed", "problem", "refused",
                                      "returning", "returned")


#: hold types whose resolution may carry a ``note`` meant for the bench (给工作台的包装说明)
PACKING_NOTE_HOLDS = frozenset({"vip_signoff"})


def packing_note_from(hold_type: str, resolution: Any) -> str:
    """The packing note a hold's resolution leaves for the bench ("" when none).

    The hub (on release) and the bench's overlay (offline, before the hub answers) both call this,
    so the note the packer reads is the one the supervisor typed, wherever it was applied first.
    """
    if hold_type not in PACKING_NOTE_HOLDS or not isinstance(resolution, dict):
        return ""
    note = resolution.get("note")
    return note.strip() if isinstance(note, str) else ""


def _dt(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"'{name}' must be an ISO 8601 time.", details={"field": name})
    try:
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise ValidationFailed(f"'{name}' is not an ISO 8601 time: {value!r}.", details={"field": name}) from None


def _line_barcodes(value: Any, where: str) -> dict[str, int]:
    """A generic-JSON line's optional ``barcodes`` object ({code: units per scan}), every code checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"Field '{where}barcodes' must be an object of barcode: units.",
                               details={"field": where + "barcodes"})
    out: dict[str, int] = {}
    for code, qty in value.items():
        if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_UNITS_PER_SCAN:
            raise ValidationFailed(f"Field '{where}barcodes': units for {code} must be 1-{MAX_UNITS_PER_SCAN}.",
                                   details={"field": where + "barcodes"})
        try:
            out[check_barcode(str(code))] = qty
        except BarcodeError as e:
            raise ValidationFailed(f"Field '{where}barcodes': {e}.", details={"field": where + "barcodes"}) from None
    return out


def intake_to_json(order: IntakeOrder) -> dict[str, Any]:
    """The generic JSON shape of an order (channel ``generic``): IntakeOrder's fields, times as ISO."""
    d = asdict(order)
    for key in ("created_at", "channel_updated_at", "paid_at", "ship_by"):
        d[key] = iso(d[key])
    d["status"] = order.status.value
    return d


def intake_from_json(d: Any) -> IntakeOrder:
    """Parse the generic JSON shape back; every wrong field is a ValidationFailed naming it."""
    if not isinstance(d, dict):
        raise ValidationFailed("An order must be a JSON object.")

    def flag(obj: dict[str, Any], key: str, where: str = "") -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            raise ValidationFailed(f"Field '{where}{key}' must be true or false.", details={"field": where + key})
        return value

    def need(obj: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str = "") -> Any:
        if key not in obj:
            raise ValidationFailed(f"Missing field '{where}{key}'.", details={"field": where + key})
        value = obj[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise ValidationFailed(f"Field '{where}{key}' has the wrong type.", details={"field": where + key})
        return value

    try:
        status = ChannelStatus(need(d, "status", str))
    except ValueError:
        raise ValidationFailed(
            f"Unknown status {d.get('status')!r}; expected unpaid, paid or cancelled.", details={"field": "status"}
        ) from None
    r = need(d, "recipient", dict)
    recipient = Recipient(
        **{k: need(r, k, str, "recipient.") for k in ("name", "phone", "province", "city", "district", "address")},
        postcode=str(r.get("postcode") or ""),
    )
    raw_lines = need(d, "lines", list)
    if not raw_lines:
        raise ValidationFailed("An order needs at least one line.", details={"field": "lines"})
    lines = []
    for i, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise ValidationFailed(f"Line {i + 1} must be an object.", details={"field": f"lines[{i}]"})
        where = f"lines[{i}]."
        qty = need(raw, "qty", int, where)
        price = need(raw, "unit_price_fen", int, where)
        if qty <= 0 or price < 0:
            raise ValidationFailed(f"Line {i + 1}: quantity must be > 0 and price >= 0.", details={"field": where})
        lines.append(OrderLine(need(raw, "sku", str, where), need(raw, "name", str, where), qty, price,
                               flag(raw, "is_gift", where), str(raw.get("bin") or ""),
                               _line_barcodes(raw.get("barcodes"), where)))
    total = need(d, "total_fen", int)
    if total < 0:
        raise ValidationFailed("total_fen must be >= 0.", details={"field": "total_fen"})
    no = need(d, "channel_order_no", str).strip()
    if not no or len(no) > 64:
        raise ValidationFailed("channel_order_no must be 1-64 characters.", details={"field": "channel_order_no"})
    created = _dt(d.get("created_at"), "created_at")
    return IntakeOrder(
        channel=str(d.get("channel") or "generic"),
        channel_order_no=no,
        status=status,
        recipient=recipient,
        lines=lines,
        total_fen=total,
        created_at=created,
        channel_updated_at=_dt(d["channel_updated_at"], "channel_updated_at") if d.get("channel_updated_at") else created,
        paid_at=_dt(d["paid_at"], "paid_at") if d.get("paid_at") else None,
        ship_by=_dt(d["ship_by"], "ship_by") if d.get("ship_by") else None,
        custom_packaging=flag(d, "custom_packaging"),
        buyer_note=str(d.get("buyer_note") or ""),
        seller_note=str(d.get("seller_note") or ""),
        message_id=str(d.get("message_id") or ""),
        extra=d["extra"] if isinstance(d.get("extra"), dict) else {},
    )
