"""What a scan on the queue page means, before any order is opened (no Qt).

On the queue page a scan either opens an order (or a pick-list batch) in pack mode, or it is
answered right there: the order belongs to another bench, there is no such order, or the code is
not an order, waybill, channel order number or pick list at all. Every scan gets an answer with a
tone (issue 11: a scanner user who hears nothing scans again and again).

A person may type into the same field (``typed``: slow keystrokes, see :mod:`ui.scan`). What they
type is looked up like a scan, with one difference: digits that are no order, waybill or channel
order number here — a buyer's phone number, or its last four or more digits as a buyer reads them
out — search the queue (:data:`Answer.SEARCH`, the queue search's phone tail rule in
:mod:`core.phones`) instead of being an unrecognised code. A scanner never types a phone number,
so a scanned unknown code stays unrecognised.

A packer's store holds only its own bench's orders, so "which bench is it on?" is the hub's to
say: :func:`ask_hub` asks ``GET /api/v1/orders/{id}``, whose refusal names the order's bench.
:func:`look_up_scan` is a pure store read (the view runs it on the database worker);
:func:`ask_hub` is a network call (the view runs it on the network pool).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.i18n import _
from core.phones import is_phone_needle, phone_digits
from core.scan_rules import ScanKind, batch_order_ids, classify, looks_like_batch_id, looks_like_order_id
from core.store import LocalOrder, LocalStore

if TYPE_CHECKING:
    from core.sync import SyncEngine


#: A mainland mobile number's length (a number this long is searched whole, not as a tail).
FULL_PHONE_DIGITS = 11
#: What a person types for a phone number: digits, maybe grouped with hyphens (138-0000-1234).
_TYPED_PHONE = re.compile(r"\d+(?:-\d+)*")


class Answer(StrEnum):
    """The kinds of answer to a queue-page scan."""

    OPEN = "open"  # an order (or batch) of this station: open it in pack mode
    ASK_HUB = "ask_hub"  # an order ID this PC does not hold: the hub knows whose it is
    OTHER_BENCH = "other_bench"  # the order belongs to another bench
    NO_ORDER = "no_order"  # an order ID (or pick list) nobody knows
    NOT_SYNCED = "not_synced"  # the hub has it for this station; this PC has not received it yet
    UNCHECKED = "unchecked"  # not on this PC and the hub cannot be asked now
    UNREADABLE = "unreadable"  # not an order, waybill, channel order number or pick list
    SEARCH = "search"  # typed by a person: a phone number or its tail, which the queue search finds


@dataclass(frozen=True)
class QueueScan:
    """One queue-page scan's answer.

    Attributes:
        answer: see :class:`Answer`.
        code: the scan as cleaned.
        order_id: the order it names or was found by ("" if none).
        bench: for :attr:`Answer.OTHER_BENCH`, the bench the order belongs to ("" if the hub did not say).
    """

    answer: Answer
    code: str
    order_id: str = ""
    bench: str = ""

    @property
    def ok(self) -> bool:
        """Whether this scan opens something (a green answer and the OK tone)."""
        return self.answer == Answer.OPEN

    @property
    def tone(self) -> str:
        return "ok" if self.ok else "error"

    @property
    def search_text(self) -> str:
        """For :attr:`Answer.SEARCH`: what the queue search is given (the phone digits typed)."""
        return phone_digits(self.code) if self.answer == Answer.SEARCH else ""

    def text(self) -> str:
        """The big line a packer reads at arm's length, in the screen's language."""
        oid = self.order_id or self.code
        if self.answer == Answer.OPEN:
            return _("Opening {order}").format(order=oid)
        if self.answer == Answer.OTHER_BENCH:
            if self.bench:
                return _("{order} belongs to bench {bench}").format(order=oid, bench=self.bench)
            return _("{order} belongs to another bench").format(order=oid)
        if self.answer == Answer.NO_ORDER:
            if looks_like_batch_id(self.code):
                return _("No such pick list: {code}").format(code=self.code)
            return _("No such order: {code}").format(code=self.code)
        if self.answer == Answer.NOT_SYNCED:
            return _("{order} is not on this PC yet").format(order=oid)
        if self.answer in (Answer.UNCHECKED, Answer.ASK_HUB):
            return _("{order} is not on this station").format(order=oid)
        if self.answer == Answer.SEARCH:
            if len(self.search_text) >= FULL_PHONE_DIGITS:
                return _("Orders with phone number {digits}").format(digits=self.search_text)
            return _("Orders whose phone number ends in {digits}").format(digits=self.search_text)
        return _("Unrecognised barcode: {code}").format(code=self.code)

    def reason(self) -> str:
        """The line under it: what to do."""
        if self.answer == Answer.OPEN:
            return ""
        if self.answer == Answer.OTHER_BENCH:
            return _("Put the parcel aside for that bench, or ask the desk to move the order here.")
        if self.answer == Answer.NO_ORDER:
            if looks_like_batch_id(self.code):
                return _("This pick list was not printed on this station.")
            return _("Neither this station nor the hub knows this order. Check the barcode.")
        if self.answer == Answer.NOT_SYNCED:
            return _("It is on its way: wait a moment and scan it again.")
        if self.answer in (Answer.UNCHECKED, Answer.ASK_HUB):
            return _("The hub cannot be reached to check whose order it is; scan it again when online.")
        if self.answer == Answer.SEARCH:
            return _("Typed, not scanned: the queue search shows them. Clear the search box to see every order.")
        return _("Not an order, waybill or pick list of this station. Scan the order's barcode on the pick list "
                 "or label.")


def look_up_scan(store: LocalStore, code: str, *, bench: str, own_bench_only: bool,
                 typed: bool = False) -> QueueScan:
    """Answer a queue-page scan from the local store (pure reads; run it on the database worker).

    Args:
        store: the local store.
        code: the scan, cleaned with :func:`core.scan_rules.normalise_code`.
        bench: this station's bench ("" on a desk PC).
        own_bench_only: a packer on a bench PC: another bench's order is not opened.
        typed: a person typed it (not a scanner): phone digits that open nothing search the queue.
    """
    if looks_like_batch_id(code):
        ids = batch_order_ids(store, code)
        return QueueScan(Answer.OPEN if ids else Answer.NO_ORDER, code)
    what = classify(code, store)
    if what.kind in (ScanKind.ORDER_ID, ScanKind.WAYBILL):
        order = store.get_order(what.value)
        if order is None:
            return QueueScan(Answer.ASK_HUB, code, what.value)
        return _by_bench(order, code, bench=bench, own_bench_only=own_bench_only)
    if typed and _TYPED_PHONE.fullmatch(code) and is_phone_needle(phone_digits(code)):
        return QueueScan(Answer.SEARCH, code)
    return QueueScan(Answer.UNREADABLE, code)


def _by_bench(order: LocalOrder, code: str, *, bench: str, own_bench_only: bool) -> QueueScan:
    if own_bench_only and order.bench != bench:
        return QueueScan(Answer.OTHER_BENCH, code, order.order_id, order.bench or "")
    return QueueScan(Answer.OPEN, code, order.order_id)


def ask_hub(engine: SyncEngine | None, scan: QueueScan, *, bench: str, own_bench_only: bool) -> QueueScan:
    """For an order ID this PC does not hold: ask the hub whose it is (network call, not on the GUI thread).

    The hub refuses a packer another bench's order and names that bench in the refusal's details;
    an unknown order is ``unknown_order``. Offline, the answer says the hub could not be asked.
    """
    from core.sync.client import HubError, HubRefused

    oid = scan.order_id
    if engine is None or not looks_like_order_id(oid):
        return QueueScan(Answer.UNCHECKED if engine is None else Answer.NO_ORDER, scan.code, oid)
    try:
        snap = engine.call_hub(lambda client: client.get_order(oid))
    except HubRefused as exc:
        if exc.code == "unknown_order":
            return QueueScan(Answer.NO_ORDER, scan.code, oid)
        if exc.code == "forbidden":
            details = exc.details if isinstance(exc.details, dict) else {}
            return QueueScan(Answer.OTHER_BENCH, scan.code, oid, str(details.get("bench") or ""))
        return QueueScan(Answer.UNCHECKED, scan.code, oid)
    except HubError:
        return QueueScan(Answer.UNCHECKED, scan.code, oid)
    their = str(snap.get("bench") or "")
    if own_bench_only and their != bench:
        return QueueScan(Answer.OTHER_BENCH, scan.code, oid, their)
    return QueueScan(Answer.NOT_SYNCED, scan.code, oid)
