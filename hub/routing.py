"""Routing: which warehouse, bench, lane and carrier an order goes to, and which holds it gets.

The rules live in a TOML file that the site edits (``resources/rules/default.toml`` by default,
explained in ``docs/routing.md``), not in code: a site manager changes a VIP threshold, a gift's
stock or a carrier's blind spots without a release. :meth:`Rules.load` validates the whole file up
front and names the file and the key of any mistake, because a rules file that half-loads would
route orders wrongly in silence.

:func:`route` is pure (no database, no clock): the hub calls it at allocation and again after an
address change, and the same order with the same rules always gets the same answer: the bench
comes from a CRC-32 of (channel, channel_order_no), never from ``hash()``, which changes between
processes.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.address import needs_rural_phone_check
from core.barcodes import merge_barcodes
from core.cutoffs import parse_cutoff
from core.demo import CatalogueItem, load_catalogue
from core.errors import ValidationFailed
from core.model import IntakeOrder, Recipient
from core.weighing import weighing_rule
from hub.notify import rules as notify_rules
from hub.options import carrier_options, gift_options

__all__ = [
    "HOLD_CARRIER_AREA",
    "HOLD_GIFT_STOCK",
    "HOLD_NO_PHONE",
    "HOLD_RURAL_NO_PHONE",
    "HOLD_VIP_SIGNOFF",
    "RULES_DIR",
    "Area",
    "Carrier",
    "HoldSpec",
    "RoutingDecision",
    "Rules",
    "Warehouse",
    "route",
]

RULES_DIR = Path(__file__).resolve().parents[1] / "resources" / "rules"

# Hold types: stable strings shared by the hub, the client's dialogs, webhooks and reports.
HOLD_RURAL_NO_PHONE = "rural_no_phone"
HOLD_NO_PHONE = "no_phone"
HOLD_GIFT_STOCK = "gift_stock"
HOLD_CARRIER_AREA = "carrier_area"
HOLD_VIP_SIGNOFF = "vip_signoff"

_REASON_VIP_CUSTOM = "VIP 定制包装需主管签字确认 / VIP custom packaging needs supervisor sign-off"
_REASON_VIP = "VIP 大额订单需主管签字确认 / VIP high-value order needs supervisor sign-off"
_REASON_GIFT = (
    "赠品库存不足，请更换赠品或联系买家 / gift stock is short: pick a substitute gift or contact the buyer"
)
_REASON_AREA = "快递不覆盖该地区，待协调 / carrier does not cover the area"
_REASON_RURAL = (
    "农村地址且无有效电话，请联系买家确认地址 / rural address without a usable phone: "
    "contact the buyer to confirm the address"
)
_REASON_NO_PHONE = "收件人没有电话，请联系买家要一个号码 / no phone number: ask the buyer for one"


@dataclass(frozen=True)
class HoldSpec:
    """A hold routing wants raised: type (stable string), reason (Chinese / English), details."""

    type: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingDecision:
    """Where an order goes and what must be resolved before it ships.

    ``carrier`` is None when no carrier of the warehouse covers the area (there is then a
    ``carrier_area`` hold). ``bins`` maps SKU -> bin for the lines that came without a bin.
    ``barcodes`` maps SKU -> the line's barcodes merged with the catalogue's (SKUs with any).
    ``ship_by_hours`` counts from payment.
    """

    warehouse: str
    bench: str
    lane: str  # "vip" | "normal"
    carrier: str | None
    flags: tuple[str, ...]  # subset of ("vip", "gift"), in that order
    holds: tuple[HoldSpec, ...]
    bins: dict[str, str]
    ship_by_hours: int
    barcodes: dict[str, dict[str, int]] = field(default_factory=dict)


# --- area names ------------------------------------------------------------------------------

_PROVINCE_SUFFIX_RE = re.compile(r"(?:壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
_AREA_SUFFIX_RE = re.compile(r"(自治州|自治县|自治旗|地区|盟|州|市|区|县|旗)$")
_SUFFIX_FAMILY = {"自治州": "州", "自治县": "县", "自治旗": "旗"}


@functools.lru_cache(maxsize=4096)  # pure, on a few thousand place names: routing asks per order
def province_key(name: str) -> str:
    """A province's short name: "广西壮族自治区" and "广西" are the same province."""
    name = re.sub(r"\s+", "", name)
    return _PROVINCE_SUFFIX_RE.sub("", name) or name


@functools.lru_cache(maxsize=4096)  # pure, on a few thousand place names: routing asks per order
def _split_area(name: str) -> tuple[str, str]:
    name = re.sub(r"\s+", "", name)
    m = _AREA_SUFFIX_RE.search(name)
    if not m or m.start() < 2:  # keep two-character names whole: 和县, 沙市
        return name, ""
    return name[: m.start()], _SUFFIX_FAMILY.get(m.group(1), m.group(1))


@functools.lru_cache(maxsize=4096)  # pure, on a few thousand place names: routing asks per order
def area_name_matches(pattern: str, value: str) -> bool:
    """Whether a city or district name from the rules names the recipient's.

    Channels spell names differently: "玉树藏族自治州", "玉树州", "玉树" are one prefecture. The
    suffix may be missing on one side, but two different suffixes are two places (和田市 is not
    和田县), and a longer name may only add ethnic words (藏族, 苗族侗族).
    """
    if pattern == value:
        return True
    pc, ps = _split_area(pattern)
    vc, vs = _split_area(value)
    if (ps and vs and ps != vs) or not pc or not vc:
        return False
    if pc == vc:
        return True
    short, long_ = (pc, vc) if len(pc) < len(vc) else (vc, pc)
    return len(short) >= 2 and long_.startswith(short) and long_.endswith("族")


@dataclass(frozen=True)
class Area:
    """An area pattern: a province, optionally narrowed to a city and a district."""

    province: str
    city: str = ""
    district: str = ""

    @classmethod
    def parse(cls, text: str) -> Area:
        parts = [p.strip() for p in text.split("/")]
        if not 1 <= len(parts) <= 3 or any(not p for p in parts):
            raise ValueError(text)
        return cls(*parts)

    def covers(self, r: Recipient) -> bool:
        if province_key(self.province) != province_key(r.province):
            return False
        if self.city and not area_name_matches(self.city, r.city):
            return False
        return not (self.district and not area_name_matches(self.district, r.district))

    def __str__(self) -> str:
        return "/".join(p for p in (self.province, self.city, self.district) if p)


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    waybill_prefix: str
    not_covered: tuple[Area, ...]
    #: the daily hand-over cut-off (site-local wall clock), None when the site set none
    cutoff: time | None = None

    def covers(self, r: Recipient) -> bool:
        return not any(area.covers(r) for area in self.not_covered)


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    provinces: tuple[str, ...]
    benches: tuple[str, ...]
    vip_benches: tuple[str, ...]
    carriers: tuple[str, ...]


# --- the rules file --------------------------------------------------------------------------

#: Column widths the rules' names end up in: orders.bench / orders.warehouse, the waybill counter
#: key (``waybill:<carrier>``, 64) and orders.waybill_no (40, with a 10-digit number).
MAX_NAME_LEN = 32
MAX_CARRIER_LEN = 32
MAX_WAYBILL_PREFIX_LEN = 20

_TOP_KEYS = {"catalogue", "default_warehouse", "vip", "ship_by_hours", "gift_stock", "carriers", "warehouses",
             "weighing", "notify", "tickets"}  # [tickets] is read by hub/ticket_rules.py
_WEIGHING_KEYS = {"packaging_g", "tolerance_g", "tolerance_pct"}
_VIP_KEYS = {"threshold_yuan", "require_custom_packaging"}
_SHIP_KEYS = {"vip", "normal"}
_CARRIER_KEYS = {"name", "waybill_prefix", "not_covered", "cutoff"}
_WAREHOUSE_KEYS = {"name", "provinces", "benches", "vip_benches", "carriers"}

_TYPE_WORDS = {
    str: "text in quotes",
    int: "a whole number",
    bool: "true or false",
    list: "a list in [brackets]",
    dict: "a [section] or table",
}


class _Checker:
    """Reads values out of the parsed TOML, failing with the file and the dotted key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ValidationFailed:
        return ValidationFailed(
            f"路由规则文件有误 / Routing rules file {self.source}: '{key}' {problem}",
            details={"file": self.source, "key": key},
        )

    def fits(self, key: str, what: str, value: str, width: int) -> None:
        """A name the hub stores in a column ``width`` characters wide (``hub/db.py``)."""
        if not value.strip() or len(value) > width:
            raise self.fail(key, f"has {what} {value!r}; it must be 1 to {width} characters.")

    def known(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = (
                    f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(sorted(allowed))}."
                )
                raise self.fail(f"{where}{key}", f"is not a known key.{hint}")

    def get(self, table: Mapping[str, Any], key: str, typ: type, where: str = "", default: Any = ...) -> Any:
        dotted = f"{where}{key}"
        if key not in table:
            if default is not ...:
                return default
            raise self.fail(dotted, f"is missing; it must be {_TYPE_WORDS[typ]}.")
        value = table[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise self.fail(dotted, f"must be {_TYPE_WORDS[typ]}, not {value!r}.")
        return value

    def str_list(
        self, table: Mapping[str, Any], key: str, where: str, *, empty_ok: bool, default: Any = ...
    ) -> list[str]:
        values = self.get(table, key, list, where, default)
        if any(not isinstance(v, str) or not v.strip() for v in values):
            raise self.fail(f"{where}{key}", "must list names as text in quotes, none of them empty.")
        if not values and not empty_ok:
            raise self.fail(f"{where}{key}", "must list at least one name.")
        return [v.strip() for v in values]


class Rules:
    """Routing rules, parsed and checked. Immutable after loading; share one across threads.

    Attributes:
        carriers: carrier codes, in file order (waybill pools are kept per carrier).
        waybill_prefixes: carrier code -> e-waybill number prefix.
        cutoffs: carrier code -> daily hand-over cut-off, site-local (only carriers that have one).
        benches: every bench name the rules know (normal and VIP), site-wide unique.
        carrier_specs / warehouses: the parsed sections.
        vip_threshold_fen: VIP needs a total strictly above this.
        require_custom_packaging: VIP also needs custom packaging.
        ship_by_hours: lane -> hours after payment.
        gift_stock: gift SKU -> units on hand (unlisted gifts are in stock).
        catalogue: SKU -> catalogue item (bins are filled from it).
        default_warehouse: for provinces no warehouse lists.
        source: the file the rules came from.
    """

    def __init__(self, data: Mapping[str, Any], *, source: str, base_dir: Path | None = None) -> None:
        c = _Checker(source)
        self.source = source
        c.known(data, _TOP_KEYS, "")

        vip = c.get(data, "vip", dict)
        c.known(vip, _VIP_KEYS, "vip.")
        raw_threshold = vip.get("threshold_yuan")
        if "threshold_yuan" not in vip:
            raise c.fail("vip.threshold_yuan", "is missing; it must be an amount in yuan, e.g. 5000.")
        try:
            if isinstance(raw_threshold, bool) or not isinstance(raw_threshold, int | float | str):
                raise InvalidOperation
            threshold = Decimal(str(raw_threshold).strip())
            if not threshold.is_finite() or threshold < 0:
                raise InvalidOperation
        except InvalidOperation:
            raise c.fail(
                "vip.threshold_yuan", f"must be an amount in yuan, e.g. 5000, not {raw_threshold!r}."
            ) from None
        self.vip_threshold_fen = int((threshold * 100).to_integral_value())
        self.require_custom_packaging: bool = c.get(vip, "require_custom_packaging", bool, "vip.")

        ship = c.get(data, "ship_by_hours", dict)
        c.known(ship, _SHIP_KEYS, "ship_by_hours.")
        self.ship_by_hours: dict[str, int] = {}
        for lane in ("vip", "normal"):
            hours = c.get(ship, lane, int, "ship_by_hours.")
            if hours <= 0:
                raise c.fail(f"ship_by_hours.{lane}", f"must be more than 0 hours, not {hours}.")
            self.ship_by_hours[lane] = hours

        # The bench scale's check (core/weighing.py): absent means benches weigh without comparing.
        self.weighing: dict[str, int] | None = None
        weighing = c.get(data, "weighing", dict, default=None)
        if weighing is not None:
            c.known(weighing, _WEIGHING_KEYS, "weighing.")
            values = {}
            for key in ("packaging_g", "tolerance_g", "tolerance_pct"):
                value = c.get(weighing, key, int, "weighing.")
                if value < 0 or (key == "tolerance_pct" and value > 100):
                    raise c.fail(f"weighing.{key}", f"must be a whole number from 0{' to 100' if key == 'tolerance_pct' else ''}, "
                                 f"not {value}.")
                values[key] = value
            self.weighing = weighing_rule(**values)

        from hub.ticket_rules import TicketRules  # the [tickets] section (docs/tickets.md)

        self.tickets: TicketRules = TicketRules.parse(c, c.get(data, "tickets", dict, default={}))

        self.gift_stock: dict[str, int] = {}
        #: [gift_stock.WH] tables: counts seeded at that warehouse (docs/stock.md "Gift stock").
        self.gift_stock_by_warehouse: dict[str, dict[str, int]] = {}
        for sku, count in c.get(data, "gift_stock", dict, default={}).items():
            if isinstance(count, dict):  # [gift_stock."WH-GZ"] "GIFT-FAN-01" = 10
                self.gift_stock_by_warehouse[sku] = _gift_counts(c, count, f"gift_stock.{sku}.")
                continue
            self.gift_stock.update(_gift_counts(c, {sku: count}, "gift_stock."))

        self.carrier_specs: dict[str, Carrier] = {}
        carriers = c.get(data, "carriers", dict)
        if not carriers:
            raise c.fail("carriers", "must define at least one carrier, e.g. [carriers.SF].")
        for code, spec in carriers.items():
            where = f"carriers.{code}."
            if not isinstance(spec, dict):
                raise c.fail(f"carriers.{code}", "must be a [carriers.CODE] section.")
            c.fits(f"carriers.{code}", "the carrier code", code, MAX_CARRIER_LEN)
            c.known(spec, _CARRIER_KEYS, where)
            areas = []
            for text in c.str_list(spec, "not_covered", where, empty_ok=True, default=[]):
                try:
                    areas.append(Area.parse(text))
                except ValueError:
                    raise c.fail(
                        f"{where}not_covered",
                        f"has {text!r}; write an area as 省, 省/市 or 省/市/区县 (e.g. 新疆维吾尔自治区/阿勒泰地区).",
                    ) from None
            prefix = c.get(spec, "waybill_prefix", str, where)
            if len(prefix) > MAX_WAYBILL_PREFIX_LEN:
                raise c.fail(f"{where}waybill_prefix",
                             f"is {prefix!r}; at most {MAX_WAYBILL_PREFIX_LEN} characters (waybill numbers are 40 wide).")
            cutoff = None
            if "cutoff" in spec:
                try:
                    cutoff = parse_cutoff(spec["cutoff"])
                except ValueError:
                    raise c.fail(f"{where}cutoff", f'must be a time of day as "HH:MM" (24-hour, site time), '
                                                   f'e.g. "17:30", not {spec["cutoff"]!r}.') from None
            self.carrier_specs[code] = Carrier(
                code=code,
                name=c.get(spec, "name", str, where, default=code),
                waybill_prefix=prefix,
                not_covered=tuple(areas),
                cutoff=cutoff,
            )

        self.warehouses: dict[str, Warehouse] = {}
        self._province_to_warehouse: dict[str, str] = {}
        bench_owner: dict[str, str] = {}
        warehouses = c.get(data, "warehouses", dict)
        if not warehouses:
            raise c.fail("warehouses", "must define at least one warehouse, e.g. [warehouses.WH-SH].")
        for code, spec in warehouses.items():
            where = f"warehouses.{code}."
            if not isinstance(spec, dict):
                raise c.fail(f"warehouses.{code}", "must be a [warehouses.CODE] section.")
            c.known(spec, _WAREHOUSE_KEYS, where)
            c.fits(f"warehouses.{code}", "the warehouse code", code, MAX_NAME_LEN)
            provinces = c.str_list(spec, "provinces", where, empty_ok=True, default=[])
            benches = c.str_list(spec, "benches", where, empty_ok=False)
            vip_benches = c.str_list(spec, "vip_benches", where, empty_ok=True, default=[])
            for bench in benches + vip_benches:
                c.fits(f"{where}benches", "the bench name", bench, MAX_NAME_LEN)
            wh_carriers = c.str_list(spec, "carriers", where, empty_ok=False)
            for carrier in wh_carriers:
                if carrier not in self.carrier_specs:
                    raise c.fail(
                        f"{where}carriers",
                        f"names carrier '{carrier}', which has no [carriers.{carrier}] section.",
                    )
            for province in provinces:
                other = self._province_to_warehouse.setdefault(province_key(province), code)
                if other != code:
                    raise c.fail(
                        f"{where}provinces", f"lists {province}, already listed by warehouse {other}."
                    )
            for bench in benches + vip_benches:
                other = bench_owner.setdefault(bench, code)
                if other != code or (benches + vip_benches).count(bench) > 1:
                    raise c.fail(
                        f"{where}benches", f"lists bench {bench} twice (bench names are site-wide unique)."
                    )
            self.warehouses[code] = Warehouse(
                code=code,
                name=c.get(spec, "name", str, where, default=code),
                provinces=tuple(provinces),
                benches=tuple(benches),
                vip_benches=tuple(vip_benches),
                carriers=tuple(wh_carriers),
            )

        default = c.get(data, "default_warehouse", str)
        if default not in self.warehouses:
            raise c.fail(
                "default_warehouse", f"is '{default}', which is not one of: {', '.join(self.warehouses)}."
            )
        self.default_warehouse: str = default
        #: notifications out: which events go to which WeCom robot / SMS template (hub/notify/rules.py)
        self.notify = notify_rules.parse(data.get("notify"), c.fail, set(self.warehouses))
        for wh in self.gift_stock_by_warehouse:
            if wh not in self.warehouses:
                raise c.fail(f"gift_stock.{wh}", f"names warehouse '{wh}', which is not one of: "
                             f"{', '.join(self.warehouses)}.")
        if self.gift_stock:  # the flat form: the default warehouse's counts (its own table wins per SKU)
            self.gift_stock_by_warehouse[default] = {
                **self.gift_stock, **self.gift_stock_by_warehouse.get(default, {})}

        self.catalogue: dict[str, CatalogueItem] = {}
        catalogue_name = c.get(data, "catalogue", str, default="")
        if catalogue_name:
            path = Path(catalogue_name)
            if not path.is_absolute():
                path = (base_dir or Path.cwd()) / path
            if not path.is_file():
                raise c.fail("catalogue", f"points to {path}, which does not exist.")
            self.catalogue = {item.sku: item for item in load_catalogue(path)}

        self.carriers: list[str] = list(self.carrier_specs)
        self.waybill_prefixes: dict[str, str] = {k: v.waybill_prefix for k, v in self.carrier_specs.items()}
        #: carrier code -> its daily hand-over cut-off (carriers without one are not listed)
        self.cutoffs: dict[str, time] = {k: v.cutoff for k, v in self.carrier_specs.items() if v.cutoff is not None}
        self.benches: list[str] = list(bench_owner)

    @classmethod
    def load(cls, path: str | Path) -> Rules:
        """Read and check a rules file.

        Raises:
            ValidationFailed: unreadable file, invalid TOML, or a missing / mistyped / unknown key;
                the message names the file and the key, ``details`` has ``file`` and ``key``.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValidationFailed(
                f"路由规则文件无法读取 / Cannot read the routing rules file {path}: {e.strerror or e}.",
                details={"file": str(path), "key": None},
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValidationFailed(
                f"路由规则文件格式错误 / Routing rules file {path} is not valid TOML: {e}. "
                "Check quotes, brackets and '=' on that line.",
                details={"file": str(path), "key": None, "error": str(e)},
            ) from None
        return cls(data, source=str(path), base_dir=path.resolve().parent)

    @classmethod
    def default(cls) -> Rules:
        """The rules shipped with PackDesk (``resources/rules/default.toml``)."""
        return cls.load(RULES_DIR / "default.toml")

    def warehouse_for(self, province: str) -> Warehouse:
        return self.warehouses[
            self._province_to_warehouse.get(province_key(province), self.default_warehouse)
        ]

    def __repr__(self) -> str:
        return f"Rules({self.source!r}, warehouses={list(self.warehouses)}, carriers={self.carriers})"


# --- routing ---------------------------------------------------------------------------------


def _gift_counts(c: _Checker, table: Mapping[str, Any], where: str) -> dict[str, int]:
    """A ``[gift_stock]`` table's SKU -> units, each a whole number of units, 0 or more."""
    out: dict[str, int] = {}
    for sku, count in table.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise c.fail(f"{where}{sku}", f"must be a whole number of units (0 or more), not {count!r}.")
        out[sku] = count
    return out


def _pick(names: tuple[str, ...], order: IntakeOrder) -> str:
    key = f"{order.channel}\x1f{order.channel_order_no}".encode()
    return names[zlib.crc32(key) % len(names)]


def route(order: IntakeOrder, rules: Rules) -> RoutingDecision:
    """Apply the rules to one order. Pure and deterministic; never raises for a valid order.

    Holds come in a fixed order: vip_signoff, gift_stock, carrier_area, rural_no_phone or no_phone.
    """
    r = order.recipient
    warehouse = rules.warehouse_for(r.province)
    flags: list[str] = []
    holds: list[HoldSpec] = []

    vip = order.total_fen > rules.vip_threshold_fen and (
        order.custom_packaging or not rules.require_custom_packaging
    )
    lane = "vip" if vip else "normal"
    bench = _pick(warehouse.vip_benches if vip and warehouse.vip_benches else warehouse.benches, order)
    if vip:
        flags.append("vip")
        holds.append(
            HoldSpec(
                HOLD_VIP_SIGNOFF,
                _REASON_VIP_CUSTOM if order.custom_packaging else _REASON_VIP,
                {"total_fen": order.total_fen, "threshold_fen": rules.vip_threshold_fen,
                 "custom_packaging": order.custom_packaging},
            )
        )  # fmt: skip

    if order.has_gift:
        flags.append("gift")
        needed: dict[str, int] = {}
        names: dict[str, str] = {}
        for line in order.lines:
            if line.is_gift:
                needed[line.sku] = needed.get(line.sku, 0) + line.qty
                names.setdefault(line.sku, line.name)
        short = [
            {"sku": sku, "name": names[sku], "needed": qty, "in_stock": rules.gift_stock[sku]}
            for sku, qty in needed.items()
            if sku in rules.gift_stock and rules.gift_stock[sku] < qty
        ]
        if short:
            # The choices the desk's dialog offers (gift SKUs in stock): the desk has no rules file.
            holds.append(HoldSpec(HOLD_GIFT_STOCK, _REASON_GIFT,
                                  {"short": short, "options": gift_options(rules).to_wire()}))

    carrier = next((c for c in warehouse.carriers if rules.carrier_specs[c].covers(r)), None)
    if carrier is None:
        holds.append(
            HoldSpec(
                HOLD_CARRIER_AREA,
                _REASON_AREA,
                {"tried": list(warehouse.carriers), "warehouse": warehouse.code,
                 "province": r.province, "city": r.city, "district": r.district,
                 "options": carrier_options(rules, r).to_wire()},
            )
        )  # fmt: skip

    full_address = r.full_address
    if needs_rural_phone_check(full_address, r.phone):
        holds.append(
            HoldSpec(HOLD_RURAL_NO_PHONE, _REASON_RURAL, {"address": full_address, "phone": r.phone})
        )
    elif not any(ch.isdigit() for ch in r.phone):
        # Couriers need a number everywhere, not only in villages. A masked number (138****5678,
        # what platforms export) is left alone here: the platform's e-waybill carries its relay number.
        holds.append(HoldSpec(HOLD_NO_PHONE, _REASON_NO_PHONE, {"address": full_address}))

    bins = {
        line.sku: rules.catalogue[line.sku].bin
        for line in order.lines
        if not line.bin and line.sku in rules.catalogue and rules.catalogue[line.sku].bin
    }
    return RoutingDecision(
        warehouse=warehouse.code,
        bench=bench,
        lane=lane,
        carrier=carrier,
        flags=tuple(flags),
        holds=tuple(holds),
        bins=bins,
        ship_by_hours=rules.ship_by_hours[lane],
        barcodes=_line_barcodes(order, rules),
    )


def _line_barcodes(order: IntakeOrder, rules: Rules) -> dict[str, dict[str, int]]:
    """SKU -> the lines' own barcodes (channel, import) merged with the catalogue's for that SKU."""
    out: dict[str, dict[str, int]] = {}
    for line in order.lines:
        item = rules.catalogue.get(line.sku)
        merged = merge_barcodes({**out.get(line.sku, {}), **line.barcodes}, item.barcodes if item else {})
        if merged:
            out[line.sku] = merged
    return out
