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

from core.barcodes import clean_barcodes, scan_forms
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


def line_units(line: Mapping[str, Any]) -> dict[str, int]:
    """Every code that identifies an order line's item, upper-cased, with the units one scan counts.

    The SKU counts 1; each product barcode (``"barcodes"``: {code: units}) counts its units, in both
    forms a scanner may report it (UPC-A with or without the leading 0). A line from before barcodes
    may carry a single ``"barcode"`` (1 unit).
    """
    units: dict[str, int] = {}
    sku = str(line.get("sku") or "").upper()
    if sku:
        units[sku] = 1
    codes = clean_barcodes(line.get("barcodes"))
    if line.get("barcode"):
        codes.setdefault(str(line["barcode"]), 1)
    for code, n in codes.items():
        for form in scan_forms(code.upper()):
            units.setdefault(form, n)
    return units


def item_codes(line: Mapping[str, Any]) -> set[str]:
    """The codes that identify an order line's item: its SKU and its product barcodes."""
    return set(line_units(line))


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
    TOO_MANY = "too_many"  # on the order, but more units than are still to scan: nothing counted


@dataclass(frozen=True)
class ScanResult:
    """The answer to one item scan.

    Attributes:
        verdict: ok / complete / wrong_item / too_many.
        sku: the line's SKU (or the code as scanned when it is on no line).
        reason: plain words for the screen ("" when ok).
        done: units of this SKU verified now; need: units the order has of it.
        units: units this scan counted (or would have: a case of 6 refused says 6).
    """

    verdict: Verdict
    sku: str
    reason: str
    done: int
    need: int
    units: int = 1

    @property
    def counted(self) -> bool:
        return self.verdict in (Verdict.OK, Verdict.COMPLETE)


@dataclass
class PackSession:
    """The scan-verify count of one order at the bench (kept in the local store until the order is packed).

    Attributes:
        order_id: the order.
        expected: units per SKU (lines with the same SKU added up).
        names: each SKU's item name, for the reasons.
        codes: every code that identifies an item (SKU, product barcodes) -> its SKU.
        units: every code -> the units one scan of it counts (a case barcode of 6: 6).
        counted: units verified so far per SKU.
        wrong_scans: every refused scan (code, verdict) — the details of a ``scan_mismatch`` hold.
    """

    order_id: str
    expected: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    wrong_scans: list[dict[str, str]] = field(default_factory=list)
    units: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any], progress: Mapping[str, int] | None = None) -> PackSession:
        """A count for the order's lines; ``progress`` (units per SKU saved earlier) is restored, capped."""
        expected: dict[str, int] = {}
        names: dict[str, str] = {}
        codes: dict[str, str] = {}
        units: dict[str, int] = {}
        for line in snapshot.get("lines") or []:
            sku = str(line["sku"])
            expected[sku] = expected.get(sku, 0) + int(line["qty"])
            names.setdefault(sku, str(line.get("name") or ""))
            for c, n in line_units(line).items():
                codes.setdefault(c, sku)
                units.setdefault(c, n)
        session = cls(str(snapshot["order_id"]), expected, names, codes, units=units)
        for sku, n in (progress or {}).items():
            if sku in expected and isinstance(n, int) and n > 0:
                session.counted[sku] = min(n, expected[sku])
        return session

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

    def left(self, sku: str) -> int:
        """Units of ``sku`` still to scan."""
        return max(0, self.expected.get(sku, 0) - self.counted.get(sku, 0))

    def sku_for(self, code: str) -> str | None:
        """The SKU a scanned code names on this order (None: not on it)."""
        return self.codes.get(normalise_code(code).upper())

    def scan(self, code: str) -> ScanResult:
        """Count one scanned item (a case barcode: its units) if it fits in the box; otherwise say why not.

        Nothing wrong is ever counted: a code on no line, one more unit than the order has, or a
        case with more units than are still to scan is refused with a reason, and remembered as a
        wrong scan.
        """
        key = normalise_code(code).upper()
        sku = self.codes.get(key)
        if sku is None:
            self.wrong_scans.append({"code": code, "verdict": Verdict.WRONG_ITEM.value})
            return ScanResult(
                Verdict.WRONG_ITEM, code, _("{code} is not on this order. Put it back; do not pack it.").format(
                    code=code), 0, 0)
        n = self.units.get(key, 1)
        result = self._add(sku, n)
        if not result.counted:
            self.wrong_scans.append({"code": code, "verdict": result.verdict.value})
        return result

    def count(self, sku: str, n: int) -> ScanResult:
        """Count ``n`` units of ``sku`` at once (the quantity a packer typed after one scan), or refuse all of them."""
        if sku not in self.expected or n < 1:
            return ScanResult(Verdict.WRONG_ITEM, sku, _("{code} is not on this order. Put it back; do not pack it.")
                              .format(code=sku), 0, 0, n)
        return self._add(sku, n)

    def _add(self, sku: str, n: int) -> ScanResult:
        need = self.expected[sku]
        have = self.counted.get(sku, 0)
        if have >= need:
            return ScanResult(
                Verdict.TOO_MANY, sku,
                _("Too many {sku}: the order has {need}, all already scanned. Take this one out.").format(
                    sku=sku, need=need), have, need, n)
        if have + n > need:
            return ScanResult(
                Verdict.TOO_MANY, sku,
                _("{n} units of {sku} is more than the {left} still to scan: nothing counted. "
                  "Open the case and scan single units.").format(n=n, sku=sku, left=need - have),
                have, need, n)
        self.counted[sku] = have + n
        verdict = Verdict.COMPLETE if self.is_complete else Verdict.OK
        return ScanResult(verdict, sku, "", have + n, need, n)

    def detail(self) -> dict[str, int]:
        """The ``verified`` step's detail: units verified per SKU."""
        return {sku: self.counted.get(sku, 0) for sku in self.expected}

    def progress(self) -> dict[str, int]:
        """What survives a restart: units counted per SKU (only SKUs with any)."""
        return {sku: n for sku, n in self.counted.items() if n > 0}
