"""The pack flow at the bench as a plain object: a scan goes in, an outcome comes out (no Qt).

A packer scans an order (or a waybill, a channel order number, a pick-list batch), then each
item; a complete order is recorded as ``step verified`` + ``step packed`` in one transaction,
its label is printed if it is not yet, and it is handed over (``shipped_by_station``). Three
wrong scans raise a ``scan_mismatch`` hold; a reported problem raises ``item_missing``. With a
scale at the bench, a packed parcel is weighed before its label and hand-over: the first settled
weight is recorded as ``step weighed`` and, when it is off the expected weight
(:mod:`core.weighing`), a ``weight_mismatch`` hold is raised with it in the same transaction.

:class:`PackFlow` decides all of that and holds the phase; it never touches the store, the
printer or the screen. Each call returns an :class:`Outcome`: what the banner says (kind, text,
reason), which tone to play, which signals the view should emit, and the work to queue
(:class:`Lookup` a store read, :class:`Record` outbox actions, :class:`PrintLabel`). The view
runs that work off the GUI thread and hands the result back (:meth:`PackFlow.found`,
:meth:`PackFlow.recorded`, :meth:`PackFlow.record_failed`, :meth:`PackFlow.printed`), which
gives the next outcome. :func:`look_up` is the one store read the flow asks for; it is pure, so
the view runs it on the database worker. Which code is what and whether an item belongs in the
box is :mod:`core.scan_rules`; this module only sequences it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.holds import hold_label
from core.i18n import _, language
from core.scale import Reading
from core.scan_rules import (
    WRONG_SCAN_LIMIT,
    PackSession,
    ScanKind,
    Verdict,
    batch_order_ids,
    classify,
    find_order_by_code,
    normalise_code,
)
from core.states import BENCH_STATES, DONE_STATES, PRINTABLE_STATES, State, state_label
from core.store import LocalOrder, LocalStore, scan_progress
from core.timeutil import iso, utcnow
from core.weighing import Weigher, expected_weight, format_kg


class Phase(StrEnum):
    """Where the open order is in the flow (a StrEnum: compares equal to its value)."""

    IDLE = "idle"  # no order open
    SCANNING = "scanning"  # items are being verified
    BLOCKED = "blocked"  # held, conflicted, not yet workable, or a step could not be recorded
    FINISHING = "finishing"  # verified + packed / print / hand-over under way
    WEIGHING = "weighing"  # packed; waiting for the scale's settled weight (a bench with a scale)
    PRINT_FAILED = "print_failed"  # packed, label not printed (or hand-over refused): F5 retries
    DONE = "done"  # shipped (or already done when opened)


class Purpose(StrEnum):
    """What a :class:`Record` is for, so its result is routed to the right next step."""

    FINISH = "finish"  # step verified + step packed
    SHIP = "ship"  # shipped_by_station
    HOLD = "hold"  # hold_raised (a weight_mismatch hold comes after its step weighed)
    WEIGH = "weigh"  # step weighed, the weight within tolerance


@dataclass(frozen=True)
class Lookup:
    """A store read the flow needs before it can answer a scan (run :func:`look_up` on the DB worker).

    Attributes:
        kind: ``ORDER_ID`` (that order), ``BATCH`` (the batch's orders) or ``UNKNOWN`` (a waybill or
            channel order number; if none, the code is a wrong item or not found).
        code: the normalised code (order ID, batch ID, or the scan as typed).
        after: for the next order of a batch: the order just handed over ("" otherwise).
    """

    kind: ScanKind
    code: str
    after: str = ""


@dataclass(frozen=True)
class Found:
    """What :func:`look_up` read.

    Attributes:
        lookup: the request.
        order: the order found (for a batch: its first unfinished order), or None.
        batch: a batch's order IDs in slot order (None: never printed here, or not a batch lookup).
        finished: which of the batch's orders are finished (packed or past the bench).
        progress: the scan count saved for ``order`` before (units per SKU; empty when none).
    """

    lookup: Lookup
    order: LocalOrder | None = None
    batch: list[str] | None = None
    finished: frozenset[str] = frozenset()
    progress: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """Outbox actions to record on one order, all in one transaction (``Outbox.perform_many``).

    Attributes:
        order_id: the order.
        actions: (type, payload) pairs in order.
        purpose: what the result goes on to (see :class:`Purpose`).
        reason: a hold's reason (shown on the banner once the hold is raised).
    """

    order_id: str
    actions: tuple[tuple[str, dict[str, Any]], ...]
    purpose: Purpose
    reason: str = ""

    @property
    def hold_type(self) -> str:
        if self.purpose != Purpose.HOLD:
            return ""
        return next((str(p.get("type", "")) for t, p in self.actions if t == "hold_raised"), "")


@dataclass(frozen=True)
class PrintLabel:
    """Print the order's shipping label; report back with :meth:`PackFlow.printed`."""

    order_id: str


@dataclass(frozen=True)
class SaveProgress:
    """Store the open order's scan count (units per SKU) so it survives a restart; empty: forget it.

    Run :func:`save_progress` on the database worker.
    """

    order_id: str
    counted: dict[str, int]


Work = Lookup | Record | PrintLabel | SaveProgress


@dataclass(frozen=True)
class Outcome:
    """One answer of the flow, for the view to draw and carry out.

    Attributes:
        banner: the banner's kind (``idle``, ``ready``, ``ok``, ``done``, ``error``, ``held``,
            ``working``), or None to leave the banner as it is.
        text: the banner's big line.
        reason: the line under it (why, and what to do).
        tone: ``ok``, ``error``, ``done``, or None for no sound.
        work: what to queue, in order.
        phase: the flow's phase after this answer.
        highlight: the SKU whose line to highlight (the item just counted).
        activated: an order (or batch) was opened: show the pack page.
        exception: (order_id, hold_id) to open the guided exception dialog for ("" = the conflict).
        finished: the order just handed over ("" if none).
    """

    banner: str | None = None
    text: str = ""
    reason: str = ""
    tone: str | None = None
    work: tuple[Work, ...] = ()
    phase: Phase = Phase.IDLE
    highlight: str | None = None
    activated: bool = False
    exception: tuple[str, str] | None = None
    finished: str = ""


@dataclass
class Batch:
    """A pick-list batch being packed: its ID, orders in slot order, and which are finished."""

    batch_id: str
    order_ids: list[str]
    finished: set[str] = field(default_factory=set)

    def next_open(self) -> str | None:
        return next((oid for oid in self.order_ids if oid not in self.finished), None)


def is_finished(order: LocalOrder) -> bool:
    """Nothing left to pack: past the bench, or packed already (a batch skips it)."""
    return order.state not in BENCH_STATES or "packed" in (order.snapshot.get("steps") or {})


def look_up(store: LocalStore, lookup: Lookup) -> Found:
    """Read what ``lookup`` asks for, with the order's saved scan count (pure reads: the database worker)."""
    if lookup.kind == ScanKind.BATCH:
        ids = batch_order_ids(store, lookup.code)
        if not ids:
            return Found(lookup)
        finished: set[str] = set()
        first: LocalOrder | None = None
        with store.read() as conn:
            for oid in ids:
                order = store.get_order(oid, conn)
                if order is None or is_finished(order):
                    finished.add(oid)
                elif first is None:
                    first = order
            progress = scan_progress.load(conn, first.order_id) if first is not None else {}
        return Found(lookup, first, ids, frozenset(finished), progress)
    wanted = (lookup.code.strip().upper() if lookup.kind == ScanKind.ORDER_ID
              else find_order_by_code(store, lookup.code))
    if wanted is None:
        return Found(lookup)
    with store.read() as conn:
        found = store.get_order(wanted, conn)
        return Found(lookup, found, progress=scan_progress.load(conn, wanted) if found is not None else {})


def save_progress(store: LocalStore, work: SaveProgress, operator: str) -> None:
    """Write (or clear) an order's scan count in the local store (the database worker runs this)."""
    with store.write() as conn:
        scan_progress.save(conn, work.order_id, work.counted, operator, iso(utcnow()) or "")


def state_text(state: str) -> str:
    """An order state in the screen's language."""
    return state_label(state, language())


def reprint_until_handover(order: LocalOrder, bench: str) -> bool:
    """Whether a damaged label of an order already handed over by its bench may still be printed again.

    The pack flow records ``shipped_by_station`` the moment a box is packed and labelled, but the
    box sits on the bench until the carrier collects it; a torn label must be replaceable until
    then. The rule: the order is ``shipped`` (not delivered or closed: the carrier has reported
    nothing yet), it was packed at a bench (``packed`` step), it belongs to *this* bench, it has a
    waybill and no open hold (a failed delivery raises one). A reprint always needs a reason.
    """
    snap = order.snapshot
    return (order.state == State.SHIPPED and "packed" in (snap.get("steps") or {}) and bool(bench)
            and snap.get("bench") == bench and bool(snap.get("waybill_no")) and not snap.get("holds"))


def label_refusal(order: LocalOrder, bench: str) -> str | None:
    """Why no shipping label can be printed for ``order`` at ``bench`` now, in plain words (None: it can)."""
    oid = order.order_id
    if order.snapshot.get("holds"):
        return _("Order {order} is held: resolve its exception before printing the label.").format(order=oid)
    if order.state not in PRINTABLE_STATES and not reprint_until_handover(order, bench):
        if order.state == State.SHIPPED:
            return _("Order {order} is {state} and was not packed at this bench: its label can be printed "
                     "again only at the bench that packed it, before the carrier collects it.").format(
                order=oid, state=state_text(order.state))
        return _("Order {order} is {state}: no shipping label can be printed for it.").format(
            order=oid, state=state_text(order.state))
    if not order.snapshot.get("waybill_no"):
        # A carrier with a real e-waybill provider: the hub asks it after allocation (hub/carriers/),
        # and the number reaches the bench with the next sync. Never print a label without it.
        return _("Order {order}: waybill number not yet received from the carrier. "
                 "Print it once the number has arrived with the next sync.").format(order=oid)
    return None


class PackFlow:
    """The pack flow of one bench: the open order, its verify count, the batch, the phase.

    Args:
        bench_flow: returns the station's ``bench_flow`` setting (``print-first`` / ``pack-first``),
            read when a label is due, so a changed setting applies to the next order.
        has_scale: whether the station has a scale configured (read when a parcel is packed);
            without one the flow never weighs.
        ships_at_pack: the station's ``handover`` setting is ``at_pack`` (read when a parcel is
            done): the flow records ``shipped_by_station`` itself. ``batch``: a packed, labelled
            parcel is done at the bench and waits for the handover scan (core/handover.py), which
            ships it when its batch closes — so the courier's bag, not the pack table, is the proof.

    Attributes:
        order: the open order as last seen (None: nothing open).
        session: the open order's verify count (:class:`core.scan_rules.PackSession`).
        sessions: every count started on this bench, by order ID (a partial count survives a switch).
        batch: the pick-list batch being packed, if any.
        phase: see :class:`Phase`.
        raising: a hold is being recorded (no second one until it is answered).
        last_scan: (SKU, units) of the last item scan that counted — what a typed quantity applies to.
        weigher: picks the parcel's weight out of the scale's readings (:class:`core.weighing.Weigher`).
    """

    def __init__(self, bench_flow: Callable[[], str] = lambda: "print-first",
                 has_scale: Callable[[], bool] = lambda: False,
                 ships_at_pack: Callable[[], bool] = lambda: True) -> None:
        self.bench_flow = bench_flow
        self.has_scale = has_scale
        self.ships_at_pack = ships_at_pack
        self.weigher = Weigher()
        self.order: LocalOrder | None = None
        self.session: PackSession | None = None
        self.sessions: dict[str, PackSession] = {}
        self.batch: Batch | None = None
        self.phase = Phase.IDLE
        self.raising = False
        self.last_scan: tuple[str, int] | None = None

    # -- what the view asks -----------------------------------------------------------------------
    @property
    def order_id(self) -> str | None:
        return self.order.order_id if self.order is not None else None

    def batch_progress(self) -> tuple[str, int, int, int] | None:
        """(batch ID, slot of the open order, finished, total) when the open order is in the batch."""
        batch, oid = self.batch, self.order_id
        if batch is None or oid is None or oid not in batch.order_ids:
            return None
        done = sum(1 for o in batch.order_ids if o in batch.finished)
        return batch.batch_id, batch.order_ids.index(oid) + 1, done, len(batch.order_ids)

    def watched(self) -> set[str]:
        """The orders whose changes (from elsewhere) the flow wants to see: the open one and the batch's."""
        ids = set(self.batch.order_ids) if self.batch is not None else set()
        if self.order is not None:
            ids.add(self.order.order_id)
        return ids

    def need_order(self) -> Outcome | None:
        """The answer to F7/F9 with no order open (None when one is open)."""
        if self.order is not None:
            return None
        return self._error(_("No order open"), _("Scan an order first."))

    # -- scans ------------------------------------------------------------------------------------
    def scan(self, code: str) -> Outcome:
        """Answer one scan, or ask for the store read that answers it (``Outcome.work`` a :class:`Lookup`).

        An item of the open order is answered at once (the count is in memory); an order ID, a batch
        ID, and any other code (a waybill or channel number, else a wrong item) need a read first.
        """
        code = normalise_code(code)
        if not code:
            return self._same()
        lines = self.order.snapshot.get("lines") if self.order is not None else None
        what = classify(code, None, lines)
        if what.kind == ScanKind.BATCH:
            return self._ask(Lookup(ScanKind.BATCH, what.value))
        if what.kind == ScanKind.ORDER_ID:
            if what.value == self.order_id:
                return self._same_order()
            return self._ask(Lookup(ScanKind.ORDER_ID, what.value))
        if what.kind == ScanKind.ITEM and self.session is not None and what.value in self.session.expected:
            return self._verify(code)
        return self._ask(Lookup(ScanKind.UNKNOWN, code))

    def found(self, found: Found) -> Outcome:
        """The answer to a scan once its :class:`Lookup` has been read."""
        lookup = found.lookup
        if lookup.kind == ScanKind.BATCH:
            return self._open_batch(found)
        order = found.order
        if lookup.kind == ScanKind.ORDER_ID:
            if lookup.after:
                return self._next_in_batch(lookup, order)
            self._leave_batch_unless(lookup.code)
            if order is None:
                return self._error(_("Not found: {code}").format(code=lookup.code),
                                   _("This order is not on this station (another bench, or not synced yet)."))
            return self.open(order, found.progress)
        if order is not None:  # a waybill or channel order number
            if order.order_id == self.order_id:
                return self._same_order()
            self._leave_batch_unless(order.order_id)
            return self.open(order, found.progress)
        if self.session is not None:  # with an order open, any other code is an item (a wrong one)
            return self._verify(lookup.code)
        return self._error(_("Not found: {code}").format(code=lookup.code),
                           _("No order, waybill, pick list or item on this station has this code. "
                             "Check the barcode, or sync and scan again."))

    def lookup_failed(self, lookup: Lookup, message: str) -> Outcome:
        """The store could not be read for a scan: say so; nothing changed."""
        return self._error(_("Not found: {code}").format(code=lookup.code), message)

    def open(self, order: LocalOrder, progress: dict[str, int] | None = None) -> Outcome:
        """Open an order for packing (held, conflicted, done and not-yet-workable orders are shown but blocked).

        Args:
            order: the order as read from the store.
            progress: its scan count saved before (a restart): restored unless this bench still
                has the count in memory.
        """
        self.order = order
        self.last_scan = None
        if order.order_id not in self.sessions:
            self.sessions[order.order_id] = PackSession.from_snapshot(order.snapshot, progress)
        self.session = self.sessions[order.order_id]
        self._note(order)
        oid = order.order_id
        if order.snapshot.get("holds") or order.has_conflict:
            return self._blocked_by_hold(order, activated=True)
        if order.state in DONE_STATES:
            self.phase = Phase.DONE
            self.sessions.pop(oid, None)
            return self._error(_("Order {order} is already {state}").format(order=oid, state=state_text(order.state)),
                               _("Nothing to pack. Scan the next order."), activated=True,
                               work=self._forget(oid, progress))
        if order.state not in BENCH_STATES:
            self.phase = Phase.BLOCKED
            return self._error(_("Order {order} cannot be packed yet").format(order=oid),
                               _("It is {state}; only allocated orders are packed.").format(
                                   state=state_text(order.state)), activated=True)
        if "packed" in (order.snapshot.get("steps") or {}):
            self.session.counted = dict(self.session.expected)
            if self._needs_weight(order):
                return self._weigh_prompt(order, activated=True, work=self._forget(oid, progress))
            self.phase = Phase.PRINT_FAILED
            return Outcome("ready", _("{order} is already packed").format(order=oid),
                           _("Press F5 to print the label (if needed) and ship it."), phase=self.phase,
                           activated=True, work=self._forget(oid, progress))
        self.phase = Phase.SCANNING
        if self.session.is_complete:  # every unit counted earlier, then switched away
            return self._finish(activated=True)
        return Outcome("ready", _("Scan the items of {order}").format(order=oid), tone="ok", phase=self.phase,
                       activated=True)

    def close(self) -> None:
        """Esc: nothing open any more (the partial count stays in :attr:`sessions` and in the store)."""
        self.order = None
        self.session = None
        self.batch = None
        self.phase = Phase.IDLE
        self.last_scan = None

    # -- quantity entry ---------------------------------------------------------------------------
    def can_enter_quantity(self) -> bool:
        """Whether a typed quantity would apply now: an order being scanned and an item just counted."""
        return self.phase == Phase.SCANNING and self.session is not None and self.last_scan is not None

    def quantity(self, typed: str, limit: int) -> Outcome:
        """The packer typed a number after scanning an item: that scan counts that many units in all.

        Args:
            typed: what was typed: how many identical units the last scan stands for (its own
                unit(s) included).
            limit: the site's most units one typed quantity may count (``max_qty_entry``); more
                is refused, never counted: the packer scans them (or a case barcode), or types
                several smaller quantities.
        """
        if not self.can_enter_quantity():
            return self._error(_("Scan an item first"),
                               _("Then press * and type how many of it are going in the box."))
        assert self.session is not None and self.last_scan is not None and self.order is not None
        sku, units = self.last_scan
        typed = typed.strip()
        n = int(typed) if typed.isdigit() and typed.isascii() else 0
        if n < 1:
            return self._error(_("Not a quantity: {n}").format(n=typed), _("Type how many, 1 or more."))
        if n > limit:
            return self._error(_("{n} is more than {limit} at once: nothing counted").format(n=n, limit=limit),
                               _("Scan the items (or their case barcode), or type at most {limit} at a time.")
                               .format(limit=limit))
        if n <= units:
            return self._error(_("{sku} is already counted ×{units} by that scan").format(sku=sku, units=units),
                               _("Type the whole quantity for that scan, more than {units}.").format(units=units))
        left = self.session.left(sku) + units  # the scan's own units are part of the number typed
        if n > left:
            return self._error(_("Too many: {sku}").format(sku=sku),
                               _("The order needs {left} more {sku} with that scan, not {n}: nothing counted.")
                               .format(left=left, sku=sku, n=n))
        result = self.session.count(sku, n - units)
        if not result.counted:  # cannot happen after the checks above; never show a refusal as OK
            return self._error(_("Too many: {sku}").format(sku=sku), result.reason)
        self.last_scan = None  # one quantity per scan: typing it twice must not count it twice
        if result.verdict == Verdict.COMPLETE:
            return self._finish(highlight=sku)
        name = self.session.names.get(sku, "")
        return Outcome("ok", _("OK {sku} {name} ×{n} ({done}/{need})").format(
            sku=sku, name=name, n=n, done=result.done, need=result.need), tone="ok", phase=self.phase,
            highlight=sku, work=(self._progress_work(),))

    # -- holds ------------------------------------------------------------------------------------
    def report_problem(self, sku: str, problem: str, reason: str) -> Outcome:
        """F9 answered: raise ``item_missing`` for ``sku`` (``problem``: missing / damaged)."""
        if self.order is None:
            return self._same()
        details = {"sku": sku, "problem": problem, "verified": self.session.detail() if self.session else {}}
        return self._raise_hold("item_missing", reason, details)

    def _raise_mismatch(self) -> tuple[Work, ...]:
        session = self.session
        if session is None or self.raising:
            return ()
        scans = list(session.wrong_scans)
        session.wrong_scans.clear()
        reason = _("{n} wrong scans at the bench: {codes}").format(
            n=len(scans), codes=", ".join(s["code"] for s in scans))
        return self._raise_hold("scan_mismatch", reason, {"scans": scans, "verified": session.detail()}).work

    def _raise_hold(self, hold_type: str, reason: str, details: dict[str, Any]) -> Outcome:
        assert self.order is not None
        self.raising = True
        payload = {"type": hold_type, "reason": reason, "details": details}
        return self._same(work=(Record(self.order.order_id, (("hold_raised", payload),), Purpose.HOLD, reason),))

    def _blocked_by_hold(self, order: LocalOrder, *, activated: bool = False) -> Outcome:
        self.phase = Phase.BLOCKED
        holds = order.snapshot.get("holds") or []
        hold_id = "" if order.has_conflict else str(holds[0].get("hold_id") or "")
        return Outcome("held", _("On hold: {order} cannot be packed").format(order=order.order_id),
                       _("Resolve the exception first; scanning items is blocked."), tone="error",
                       phase=self.phase, activated=activated, exception=(order.order_id, hold_id))

    # -- results of queued work -------------------------------------------------------------------
    def recorded(self, record: Record, order: LocalOrder) -> Outcome:
        """A :class:`Record` was written; ``order`` is the order as it now is."""
        self._note(order)
        if record.purpose == Purpose.HOLD:
            return self._held(record, order)
        if record.purpose == Purpose.SHIP:
            return self._shipped(order)
        if record.purpose == Purpose.WEIGH:
            return self._after_packed(order) if order.order_id == self.order_id else self._same()
        if self._needs_weight(order) and order.order_id == self.order_id:
            outcome = self._weigh_prompt(order)
        else:
            outcome = self._after_packed(order)  # packed: the verified step holds the count now
        return Outcome(**{**outcome.__dict__, "work": (SaveProgress(order.order_id, {}), *outcome.work)})

    def record_failed(self, record: Record, message: str) -> Outcome:
        """A :class:`Record` was refused (nothing written): say why; the order waits for the packer."""
        if record.purpose == Purpose.HOLD:
            self.raising = False
            if record.order_id == self.order_id and record.actions[0][0] == "step":
                self.phase = Phase.WEIGHING  # the weight and its hold were refused together: weigh again
            return self._error(_("Could not raise the hold"), message)
        if record.purpose == Purpose.WEIGH and record.order_id == self.order_id:
            self.phase = Phase.WEIGHING  # weigh again (the platform must be emptied first)
            return self._error(_("Could not record the weight"), message)
        if record.order_id == self.order_id:
            self.phase = Phase.PRINT_FAILED if record.purpose == Purpose.SHIP else Phase.BLOCKED
        return self._error(_("Could not record this step"), message)

    def printed(self, order_id: str, ok: bool, message: str = "") -> Outcome:
        """The label job of ``order_id`` ended: hand it over if it printed, else wait for F5."""
        if order_id != self.order_id:
            if ok and self.ships_at_pack():  # switched away meanwhile: still hand it over
                return self._same(work=(self._ship_record(order_id),))
            return self._same()
        if ok:
            return self._ship(order_id)
        self.phase = Phase.PRINT_FAILED
        return self._error(_("Label did not print — not shipped"),
                           message + "\n" + _("Fix the printer, then press F5 to retry."))

    def retry(self) -> Outcome | None:
        """F5: after a failed print (or for an order packed earlier), print if needed and ship."""
        if self.order is None or self.phase != Phase.PRINT_FAILED:
            return None
        self.phase = Phase.FINISHING
        return self._after_packed(self.order)

    def order_changed(self, order: LocalOrder) -> Outcome | None:
        """An order changed elsewhere (the hub, a dialog, the printer): keep what is shown current.

        Returns None when the open order is not the one changed; a newly held open order being
        scanned is blocked and the exception dialog asked for.
        """
        self._note(order)
        if order.order_id != self.order_id:
            return None
        newly_held = bool(order.snapshot.get("holds")) or order.has_conflict
        if self.phase in (Phase.SCANNING, Phase.WEIGHING) and newly_held and not self.raising:
            return self._blocked_by_hold(order)
        if (self.phase == Phase.BLOCKED and not newly_held and not self.raising and order.state in BENCH_STATES
                and "packed" in (order.snapshot.get("steps") or {})):
            # a packed parcel's hold (a weight off, say) was released: F5 prints and hands it over
            self.phase = Phase.PRINT_FAILED
            return Outcome("ready", _("{order} is already packed").format(order=order.order_id),
                           _("Press F5 to print the label (if needed) and ship it."), phase=self.phase)
        return self._same()

    # -- weighing ---------------------------------------------------------------------------------
    def _needs_weight(self, order: LocalOrder) -> bool:
        """A scale is configured and this packed order has no weight recorded yet."""
        return self.has_scale() and "weighed" not in (order.snapshot.get("steps") or {})

    def expected(self) -> str:
        """The open order's expected weight as the bench shows it (``""``: not known)."""
        exp = expected_weight(self.order.snapshot) if self.order is not None else None
        if exp is None:
            return ""
        return _("expected {kg} ± {tol}").format(kg=format_kg(exp.grams), tol=format_kg(exp.tolerance_g))

    def _weigh_prompt(self, order: LocalOrder, *, activated: bool = False, work: tuple[Work, ...] = ()) -> Outcome:
        self.phase = Phase.WEIGHING  # (the view shows the live and the expected weight beside it)
        reason = _("Weighed automatically when the reading settles.")
        if self.weigher.last is not None and not self.weigher.armed:
            reason = _("Lift the previous parcel off the scale first, then put this one on.")
        return Outcome("working", _("Packed — put the parcel on the scale"), reason,
                       phase=self.phase, activated=activated, work=work)

    def reading(self, reading: Reading | None) -> Outcome | None:
        """A scale reading (None: the scale was lost): when the flow waits for a weight, this may be it.

        Returns None when nothing is to be shown or done; else the outcome of weighing the parcel:
        ``step weighed`` alone (within tolerance, or nothing to compare with) or with a
        ``weight_mismatch`` hold.
        """
        grams = self.weigher.feed(reading)
        if grams is None or self.phase != Phase.WEIGHING or self.order is None:
            return None
        self.weigher.taken()
        order = self.order
        self.phase = Phase.FINISHING
        exp = expected_weight(order.snapshot)
        detail: dict[str, Any] = {"grams": grams, **(exp.to_detail() if exp is not None else {})}
        step = ("step", {"step": "weighed", "detail": detail})
        if exp is None or exp.accepts(grams):
            text = _("Weighed {kg}").format(kg=format_kg(grams))
            return Outcome("ok", text, self.expected(), tone="ok", phase=self.phase,
                           work=(Record(order.order_id, (step,), Purpose.WEIGH),))
        reason = _("Weighed {kg}, expected {exp} ± {tol}: re-check the items").format(
            kg=format_kg(grams), exp=format_kg(exp.grams), tol=format_kg(exp.tolerance_g))
        self.raising = True
        hold = ("hold_raised", {"type": "weight_mismatch", "reason": reason,
                                "details": {**detail, "diff_g": grams - exp.grams}})
        return Outcome("error", _("Weight does not match"), reason, tone="error", phase=self.phase,
                       work=(Record(order.order_id, (step, hold), Purpose.HOLD, reason),))

    def skip_weighing(self, scale_ok: bool) -> Outcome | None:
        """F5 while waiting for a weight: go on without one, but only when the scale is not working."""
        if self.order is None or self.phase != Phase.WEIGHING:
            return None
        if scale_ok:
            return self._error(_("The scale is working: put the parcel on it"),
                               _("It is weighed automatically when the reading settles."))
        self.phase = Phase.FINISHING
        return self._after_packed(self.order)

    # -- steps ------------------------------------------------------------------------------------
    def _verify(self, code: str) -> Outcome:
        order, session = self.order, self.session
        assert order is not None and session is not None
        if self.phase == Phase.BLOCKED:
            return self._error(_("Order is on hold: item not counted"),
                               _("Resolve the exception first; scanning items is blocked."))
        if self.phase in (Phase.FINISHING, Phase.WEIGHING, Phase.PRINT_FAILED, Phase.DONE):
            return self._error(_("Order {order} is already complete").format(order=order.order_id),
                               _("Item not counted. Scan the next order."))
        result = session.scan(code)
        if result.counted:
            self.last_scan = (result.sku, result.units)
            if result.verdict == Verdict.COMPLETE:
                return self._finish(highlight=result.sku)
            name = session.names.get(result.sku, "")
            if result.units > 1:
                text = _("OK {sku} {name} ×{n} ({done}/{need})").format(
                    sku=result.sku, name=name, n=result.units, done=result.done, need=result.need)
            else:
                text = _("OK {sku} {name} ({done}/{need})").format(
                    sku=result.sku, name=name, done=result.done, need=result.need)
            return Outcome("ok", text, tone="ok", phase=self.phase, highlight=result.sku,
                           work=(self._progress_work(),))
        self.last_scan = None
        # whole sentences, so each language puts its own colon ("商品不对：…")
        title = (_("Wrong item: {code}") if result.verdict == Verdict.WRONG_ITEM
                 else _("Too many: {code}")).format(code=result.sku)
        work = self._raise_mismatch() if len(session.wrong_scans) >= WRONG_SCAN_LIMIT else ()
        return self._error(title, result.reason, work=work)

    def _finish(self, *, highlight: str | None = None, activated: bool = False) -> Outcome:
        order, session = self.order, self.session
        assert order is not None and session is not None
        self.phase = Phase.FINISHING
        self.last_scan = None
        actions = (("step", {"step": "verified", "detail": session.detail()}),
                   ("step", {"step": "packed", "detail": {}}))
        # the full count is saved first: should recording fail, a restart still finds every unit counted
        return Outcome("working", _("All {n} units verified — recording…").format(n=session.total_units),
                       tone="done", work=(self._progress_work(), Record(order.order_id, actions, Purpose.FINISH)),
                       phase=self.phase, highlight=highlight, activated=activated)

    def _progress_work(self) -> SaveProgress:
        assert self.session is not None
        return SaveProgress(self.session.order_id, self.session.progress())

    @staticmethod
    def _forget(order_id: str, progress: dict[str, int] | None) -> tuple[Work, ...]:
        """Clear a saved count that no longer means anything (the order is packed or past the bench)."""
        return (SaveProgress(order_id, {}),) if progress else ()

    def _after_packed(self, order: LocalOrder) -> Outcome:
        if order.state == "label_printed":
            return self._ship(order.order_id)
        if self.bench_flow() == "print-first":
            text = _("Label was not printed yet — printing it now")
        else:
            text = _("Packed — printing the label")
        return Outcome("working", text, work=(PrintLabel(order.order_id),), phase=self.phase)

    def _ship_record(self, order_id: str) -> Record:
        return Record(order_id, (("shipped_by_station", {}),), Purpose.SHIP)

    def _ship(self, order_id: str) -> Outcome:
        if not self.ships_at_pack():
            return self._finished(order_id, _("Done: {order} packed and labelled — put it with its courier's "
                                              "parcels for the handover scan").format(order=order_id))
        return Outcome("working", _("Handing over {order}…").format(order=order_id),
                       work=(self._ship_record(order_id),), phase=self.phase)

    def _shipped(self, order: LocalOrder) -> Outcome:
        oid = order.order_id
        return self._finished(oid, _("Done: {order} packed and shipped").format(order=oid))

    def _finished(self, oid: str, done_text: str) -> Outcome:
        """The open order (or one finished after the packer switched away) needs nothing more here."""
        self.sessions.pop(oid, None)
        if oid != self.order_id:  # handed over after the packer switched to another order
            return self._same(finished=oid)
        self.phase = Phase.DONE
        batch = self.batch
        if batch is not None and oid in batch.order_ids:
            nxt = batch.next_open()
            if nxt is not None:
                return Outcome("done", done_text, tone="done", phase=self.phase, finished=oid,
                               work=(Lookup(ScanKind.ORDER_ID, nxt, after=oid),))
            return Outcome("done", _("Batch {batch} is complete").format(batch=batch.batch_id), tone="done",
                           phase=self.phase, finished=oid)
        return Outcome("done", done_text, tone="done", phase=self.phase, finished=oid)

    def _held(self, record: Record, order: LocalOrder) -> Outcome:
        self.raising = False
        if order.order_id != self.order_id:
            return self._same()
        hold_type = record.hold_type
        hold = next((h for h in reversed(order.snapshot.get("holds") or []) if h.get("type") == hold_type), None)
        self.phase = Phase.BLOCKED
        return Outcome("held", _("On hold: {what}").format(what=hold_label(hold_type, language())), record.reason,
                       phase=self.phase, exception=(order.order_id, str(hold.get("hold_id")) if hold else ""))

    # -- batches ----------------------------------------------------------------------------------
    def _open_batch(self, found: Found) -> Outcome:
        code = found.lookup.code
        if not found.batch:
            return self._error(_("Not found: {code}").format(code=code),
                               _("This pick list was not printed on this station."))
        self.batch = Batch(code, list(found.batch), set(found.finished))
        if found.order is None:
            return Outcome("done", _("Batch {batch} is complete").format(batch=code), tone="done", phase=self.phase,
                           activated=True)
        return self.open(found.order)

    def _next_in_batch(self, lookup: Lookup, order: LocalOrder | None) -> Outcome:
        batch = self.batch
        if batch is None:  # the packer left the batch meanwhile
            return self._same()
        if order is None or is_finished(order):  # finished elsewhere since we last saw it
            batch.finished.add(lookup.code)
            nxt = batch.next_open()
            if nxt is None:
                return Outcome("done", _("Batch {batch} is complete").format(batch=batch.batch_id),
                               phase=self.phase)
            return self._same(work=(Lookup(ScanKind.ORDER_ID, nxt, after=lookup.after),))
        outcome = self.open(order)
        if self.phase != Phase.SCANNING or outcome.work:
            return outcome
        return Outcome("ready", _("{done} done ✔ — next: {order}. Scan its items").format(
            done=lookup.after, order=order.order_id), tone=outcome.tone, phase=self.phase, activated=True)

    def _leave_batch_unless(self, order_id: str) -> None:
        if self.batch is not None and order_id not in self.batch.order_ids:
            self.batch = None

    # -- helpers ----------------------------------------------------------------------------------
    def _note(self, order: LocalOrder) -> None:
        """Remember the latest look of an order we show (the open one, a batch's)."""
        if order.order_id == self.order_id:
            self.order = order
        batch = self.batch
        if batch is not None and order.order_id in batch.order_ids:
            if is_finished(order):
                batch.finished.add(order.order_id)
            else:
                batch.finished.discard(order.order_id)

    def _ask(self, lookup: Lookup) -> Outcome:
        return self._same(work=(lookup,))

    def _same_order(self) -> Outcome:
        if self.phase == Phase.SCANNING:  # e.g. the box's own label scanned: not an error
            return Outcome("ready", _("Order {order} is already open: scan its items").format(order=self.order_id),
                           phase=self.phase)
        return self._same()

    def _same(self, *, work: tuple[Work, ...] = (), finished: str = "") -> Outcome:
        """No new banner: only the work (if any) and the phase."""
        return Outcome(work=work, phase=self.phase, finished=finished)

    def _error(self, text: str, reason: str = "", *, work: tuple[Work, ...] = (), activated: bool = False
               ) -> Outcome:
        return Outcome("error", text, reason, tone="error", work=work, phase=self.phase, activated=activated)
