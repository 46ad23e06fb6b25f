"""What a scanned code is, and whether a scanned item belongs in the box (Qt-free).

The bench has one scan field for everything: an order ID, a waybill number, the channel's own
order number, a pick-list batch barcode, or an item code. :func:`classify` tells them apart so the
pack view never asks "what did you scan?". :class:`PackSession` is the verify count for one open
order: a right item counts up, a wrong item or one too many is refused with a reason a packer can
read, and nothing wrong is ever counted. Both are pure (the store is only read through the small
lookups here), so they are unit-tested without a screen.

Batch IDs are made here (:func:`make_batch_id`) because the bench must recognise what it printed:
``PB-<YYYYMMDD>-<6 hex>``, e.g. ``PB-20261125-3FA9C1``. The hyphen after ``PB`` means a batch ID can
never be read as an order ID (``<PREFIX><YYYYMMDD>-<6 digits>``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.i18n import _
from core.order_ids import looks_like_order_id
from core.store import LocalStore, journal
from core.timeutil import to_local, utcnow

BATCH_ID_RE = re.compile(r"^PB-\d{8}-[0-9A-F]{6}$")
#: After this many wrong scans on one open order the bench raises a ``scan_mismatch`` hold.
WRONG_SCAN_LIMIT = 3
#: The print-journal document type whose job carries a batch's order IDs.
PICK_LIST_DOC = "pick_list"

_SPACE_RE = re.compile(r"\s+")


class ScanKind(StrEnum):
    ORDER_ID = "order_id"
    WAYBILL = "waybill"  # waybill number or channel order number: both open their order
    BATCH = "batch"
    ITEM = "item"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Classified:
    """A classified scan: ``value`` is the order ID (order/waybill), batch ID, or item code."""

    kind: ScanKind
    value: str
    code: str


def make_batch_id(now: datetime | None = None) -> str:
    """A new pick-list batch ID (site-local day + 24 random bits, unique enough for one site)."""
    day = to_local(now or utcnow())
    return f"PB-{day:%Y%m%d}-{secrets.token_hex(3).upper()}"


def looks_like_batch_id(code: str) -> bool:
    return bool(BATCH_ID_RE.match(code.strip().upper()))


def normalise_code(text: str) -> str:
    """What a scanner typed, cleaned: no whitespace/CR/LF anywhere; order and batch IDs upper-cased.

    Scanners differ (CR, LF, CRLF suffix; caps-lock on the PC lower-cases letters), and a Chinese
    IME would have added full-width spaces; none of that is part of a code.
    """
    code = _SPACE_RE.sub("", text.replace("\u3000", " "))
    if looks_like_order_id(code) or looks_like_batch_id(code):
        return code.upper()
    return code


def item_codes(line: Mapping[str, Any]) -> set[str]:
    """The codes that identify an order line's item: its SKU, and its barcode if the line has one."""
    codes = {str(line.get("sku") or "").upper()}
    if line.get("barcode"):
        codes.add(str(line["barcode"]).upper())
    codes.discard("")
    return codes


def find_order_by_code(store: LocalStore, code: str) -> str | None:
    """The order whose waybill number or channel order number is ``code`` (indexed lookups)."""
    return store.find_by_code(code)


def batch_order_ids(store: LocalStore, batch_id: str) -> list[str] | None:
    """The orders of a printed pick-list batch (slot order), or None if this station never printed it.

    The print journal keeps every pick-list job with the batch ID as its ``job_id`` (a retry after a
    failed print is ``<batch>.<n>``, since job IDs are unique).
    """
    with store.read() as conn:
        return journal.batch_order_ids(conn, PICK_LIST_DOC, batch_id)


def classify(code: str, store: LocalStore | None = None, open_lines: Iterable[Mapping[str, Any]] | None = None
             ) -> Classified:
    """Say what ``code`` is.

    Args:
        code: the scan (normalised with :func:`normalise_code`).
        store: the local store, to look up waybill / channel order numbers (None: no lookup).
        open_lines: the lines of the order open at the bench, if any. With an order open, a code
            that is none of the order/batch kinds is an item (a wrong one if not on these lines).

    Order IDs and batch IDs are recognised by their shape (no lookup: "not found" is the pack
    view's answer). An item of the open order wins over a waybill lookup, so an SKU that happens
    to equal some waybill number still counts as the item.
    """
    code = normalise_code(code)
    if looks_like_batch_id(code):
        return Classified(ScanKind.BATCH, code, code)
    if looks_like_order_id(code):
        return Classified(ScanKind.ORDER_ID, code, code)
    if open_lines is not None:
        up = code.upper()
        for line in open_lines:
            if up in item_codes(line):
                return Classified(ScanKind.ITEM, str(line["sku"]), code)
    if store is not None:
        found = find_order_by_code(store, code)
        if found is not None:
            return Classified(ScanKind.WAYBILL, found, code)
    if open_lines is not None:
        return Classified(ScanKind.ITEM, code, code)
    return Classified(ScanKind.UNKNOWN, code, code)


class Verdict(StrEnum):
    OK = "ok"  # counted
    COMPLETE = "complete"  # counted, and now every unit of the order is verified
    WRONG_ITEM = "wrong_item"  # not on this order: nothing counted
    TOO_MANY = "too_many"  # on the order, but all its units are already verified: nothing counted


@dataclass(frozen=True)
class ScanResult:
    """The answer to one item scan.

    Attributes:
        verdict: ok / complete / wrong_item / too_many.
        sku: the line's SKU (or the code as scanned when it is on no line).
        reason: plain words for the screen ("" when ok).
        done: units of this SKU verified now; need: units the order has of it.
    """

    verdict: Verdict
    sku: str
    reason: str
    done: int
    need: int

    @property
    def counted(self) -> bool:
        return self.verdict in (Verdict.OK, Verdict.COMPLETE)


@dataclass
class PackSession:
    """The scan-verify count of one order at the bench (in memory until the order completes).

    Attributes:
        order_id: the order.
        expected: units per SKU (lines with the same SKU added up).
        names: each SKU's item name, for the reasons.
        counted: units verified so far per SKU.
        wrong_scans: every refused scan (code, verdict) — the details of a ``scan_mismatch`` hold.
    """

    order_id: str
    expected: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    wrong_scans: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> PackSession:
        expected: dict[str, int] = {}
        names: dict[str, str] = {}
        codes: dict[str, str] = {}
        for line in snapshot.get("lines") or []:
            sku = str(line["sku"])
            expected[sku] = expected.get(sku, 0) + int(line["qty"])
            names.setdefault(sku, str(line.get("name") or ""))
            for c in item_codes(line):
                codes[c] = sku
        return cls(str(snapshot["order_id"]), expected, names, codes)

    @property
    def total_units(self) -> int:
        return sum(self.expected.values())

    @property
    def verified_units(self) -> int:
        return sum(self.counted.values())

    @property
    def is_complete(self) -> bool:
        return all(self.counted.get(sku, 0) >= qty for sku, qty in self.expected.items())

    def done(self, sku: str) -> int:
        return self.counted.get(sku, 0)

    def scan(self, code: str) -> ScanResult:
        """Count one scanned item if it belongs in the box; otherwise say why not (nothing counted)."""
        sku = self.codes.get(normalise_code(code).upper())
        if sku is None:
            self.wrong_scans.append({"code": code, "verdict": Verdict.WRONG_ITEM.value})
            return ScanResult(
                Verdict.WRONG_ITEM, code, _("{code} is not on this order. Put it back; do not pack it.").format(
                    code=code), 0, 0)
        need = self.expected[sku]
        have = self.counted.get(sku, 0)
        if have >= need:
            self.wrong_scans.append({"code": code, "verdict": Verdict.TOO_MANY.value})
            return ScanResult(
                Verdict.TOO_MANY, sku,
                _("Too many {sku}: the order has {need}, all already scanned. Take this one out.").format(
                    sku=sku, need=need), have, need)
        self.counted[sku] = have + 1
        verdict = Verdict.COMPLETE if self.is_complete else Verdict.OK
        return ScanResult(verdict, sku, "", have + 1, need)

    def detail(self) -> dict[str, int]:
        """The ``verified`` step's detail: units verified per SKU."""
        return {sku: self.counted.get(sku, 0) for sku in self.expected}
