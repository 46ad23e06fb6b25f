"""The handover at the bench (交接 / 扫描出库) as a plain object: a scan goes in, an outcome comes out.

The courier stands at the bench with his bag; the packer opens a batch for that carrier and scans
every parcel as it goes in. Each scan is answered at once: added (with the count), already in this
batch (counted once), or refused — loudly, with the reason — when the parcel must not leave: held,
cancelled or cancel requested, closed, not yet printed, already shipped, another carrier's, or a
code this station does not know. That refusal is the 拦截 moment. The batch shows what is still
missing: the carrier's printed parcels on this station not yet scanned.

Closing the batch records ``shipped_by_station`` (payload ``batch_id``, ``carrier``) for every
parcel in **one** local transaction (all or nothing) and then the view prints the manifest (交接单).
A batch and each accepted scan are stored (``core/store/handover.py``) the moment they happen, so
an open batch survives a restart; lookups read the local store only (works offline).

:class:`HandoverFlow` decides and holds what is shown; it never touches the store or the screen.
Its answers are :class:`Outcome` objects whose ``work`` the view runs on the database worker with
the functions of this module (:func:`scan_parcel`, :func:`read_missing`, :func:`close_batch`,
:func:`cancel_batch`, :func:`load_open`, :func:`carrier_counts`) and hands back to the flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.display_names import carrier_name
from core.errors import UserError
from core.holds import hold_label
from core.i18n import _, language
from core.order_ids import looks_like_order_id
from core.outbox import OrdersChanged, Outbox
from core.roles import Role
from core.scan_rules import normalise_code
from core.states import State, state_label
from core.store import LocalOrder, LocalStore
from core.store import audit as audit_rows
from core.store import handover as rows
from core.store import orders as order_rows
from core.timeutil import DEFAULT_TZ, iso, parse_iso, to_local, utcnow

#: What a handover batch ID looks like: ``HO-<station>-<site-local yyyymmddHHMMSS>`` (readable on paper).
BATCH_ID_RE = re.compile(r"^HO-[A-Z0-9]+-\d{14}(-\d+)?$")


class Verdict(StrEnum):
    """What a scan at the handover means."""

    OK = "ok"  # added to the batch
    DUPLICATE = "duplicate"  # already in this batch: counted once
    UNKNOWN = "unknown"  # no order of this station has that code
    MANIFEST = "manifest"  # a handover batch's own barcode (a manifest), not a parcel
    OTHER_BATCH = "other_batch"  # in another open batch of this station
    CLOSED = "closed"  # cancelled / refunded / finished
    SHIPPED = "shipped"  # already handed over (or further)
    CANCEL_REQUESTED = "cancel_requested"  # the buyer asked to cancel after the label was printed
    HELD = "held"  # an open hold
    CONFLICT = "conflict"  # an offline action the hub refused, not yet resolved
    NOT_PRINTED = "not_printed"  # no label printed (pending payment, paid, allocated)
    NO_CARRIER = "no_carrier"  # printed, but no carrier / waybill on it
    OTHER_CARRIER = "other_carrier"  # another carrier's parcel

    @property
    def refused(self) -> bool:
        return self not in (Verdict.OK, Verdict.DUPLICATE)


@dataclass(frozen=True)
class Judgement:
    """A scan judged: the verdict and the words for the banner (in the screen's language)."""

    verdict: Verdict
    text: str
    reason: str = ""
    order_id: str = ""
    waybill_no: str = ""


@dataclass(frozen=True)
class Parcel:
    """A parcel in a batch."""

    order_id: str
    waybill_no: str
    scanned_at: str
    operator: str = ""


@dataclass
class HandoverBatch:
    """A handover batch as the bench knows it (the store's copy is the truth)."""

    batch_id: str
    carrier: str
    station: str
    bench: str
    operator: str
    opened_at: str
    parcels: list[Parcel] = field(default_factory=list)
    status: str = rows.OPEN
    closed_at: str | None = None
    closed_by: str | None = None

    @property
    def count(self) -> int:
        return len(self.parcels)

    def has(self, order_id: str) -> bool:
        return any(p.order_id == order_id for p in self.parcels)


@dataclass(frozen=True)
class MissingParcel:
    """A printed parcel of the batch's carrier on this station, not yet scanned into the batch.

    Attributes:
        printed_day: the site-local day its label was last changed (printed), ``YYYY-MM-DD`` ("" unknown).
        earlier: printed before today (a parcel left over from an earlier day).
    """

    order_id: str
    waybill_no: str
    printed_day: str = ""
    earlier: bool = False


# -- work the view runs on the database worker ---------------------------------------------------


@dataclass(frozen=True)
class LoadOpen:
    """Read the batch left open on this station (:func:`load_open`) and the carriers with parcels."""


@dataclass(frozen=True)
class ReadCarriers:
    """Count the printed parcels per carrier again (:func:`carrier_counts`) for the picker."""


@dataclass(frozen=True)
class Check:
    """Judge a scan and, when accepted, store it (:func:`scan_parcel`). No batch: the scan opens one."""

    code: str
    batch_id: str | None
    carrier: str | None


@dataclass(frozen=True)
class OpenBatch:
    """Open a batch for ``carrier`` (:func:`open_batch`)."""

    carrier: str


@dataclass(frozen=True)
class ReadMissing:
    """Read what is still missing from ``batch_id`` (:func:`read_missing`)."""

    batch_id: str
    carrier: str


@dataclass(frozen=True)
class CloseBatch:
    """Ship every parcel of the batch in one transaction (:func:`close_batch`), leaving out ``drop``."""

    batch_id: str
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class CancelBatch:
    """Cancel the batch: nothing is shipped (:func:`cancel_batch`)."""

    batch_id: str


@dataclass(frozen=True)
class PrintManifest:
    """Print the closed batch's manifest (交接单)."""

    batch: HandoverBatch


Work = LoadOpen | ReadCarriers | Check | OpenBatch | ReadMissing | CloseBatch | CancelBatch | PrintManifest


@dataclass(frozen=True)
class Outcome:
    """One answer of the flow, for the view to draw and carry out.

    Attributes:
        banner: ``idle``, ``ready``, ``ok``, ``repeat``, ``error``, ``confirm``, ``working``, ``done``,
            or None to leave the banner as it is.
        text: the banner's big line.
        reason: the line under it (why, and what to do).
        tone: ``ok``, ``error``, ``done``, or None.
        work: what to run, in order.
        refusal: the verdict of a refused scan (None otherwise), for tests and the scan list.
    """

    banner: str | None = None
    text: str = ""
    reason: str = ""
    tone: str | None = None
    work: tuple[Work, ...] = ()
    refusal: Verdict | None = None


@dataclass(frozen=True)
class Checked:
    """What :func:`scan_parcel` did: the judgement, the parcel added, and the batch when the scan opened it."""

    code: str
    judgement: Judgement
    parcel: Parcel | None = None  # the parcel added (None: refused or a duplicate)
    opened: HandoverBatch | None = None  # the batch this scan opened (with the parcel in it), if it did


@dataclass(frozen=True)
class MissingRead:
    """What :func:`read_missing` found."""

    batch_id: str
    missing: list[MissingParcel]
    held_back: list[str]  # printed parcels of the carrier that must not go (held, cancel requested)


@dataclass(frozen=True)
class Opened:
    """What :func:`load_open` found: the open batch (or None) and the carriers with printed parcels."""

    batch: HandoverBatch | None
    carriers: list[tuple[str, int]]


class HandoverError(UserError):
    """A handover step that cannot be done (batch not open, nothing scanned): the message says why."""

    code = "handover_error"


class HandoverBlocked(UserError):
    """Closing refused: some parcels in the batch must not ship now. ``details["blocked"]``: {order: why}."""

    code = "handover_blocked"


# -- the rule ------------------------------------------------------------------------------------


def looks_like_handover_batch(code: str) -> bool:
    return bool(BATCH_ID_RE.match(code.strip().upper()))


def make_batch_id(station: str, now: datetime | None = None, tz: str = DEFAULT_TZ) -> str:
    """``HO-<station>-<yyyymmddHHMMSS>`` in the site's time: readable, and sortable on paper."""
    name = re.sub(r"[^A-Z0-9]", "", station.upper()) or "PC"
    return f"HO-{name}-{to_local(now or utcnow(), tz):%Y%m%d%H%M%S}"


def _state(state: str) -> str:
    return state_label(state, language())


def judge(order: LocalOrder | None, code: str, carrier: str | None, *, in_this_batch: bool = False,
          other_batch: str | None = None) -> Judgement:
    """Whether the parcel ``order`` (found by ``code``) may go into a batch of ``carrier``, and why not.

    Args:
        order: the order the code names on this station (None: unknown here).
        code: the scan, for the words.
        carrier: the batch's carrier (None: no batch yet; the parcel's own carrier is taken).
        in_this_batch: it is already in this batch.
        other_batch: the other open batch of this station that holds it, if any.
    """
    if order is None:
        if looks_like_handover_batch(code):
            return Judgement(Verdict.MANIFEST, _("That is a handover batch barcode: {code}").format(code=code),
                             _("Scan the waybill on each parcel, not the manifest."))
        return Judgement(Verdict.UNKNOWN, _("Unknown code: {code}").format(code=code),
                         _("No parcel of this station has this waybill or order number. Keep it out of the bag "
                           "and give it to the desk."))
    snap = order.snapshot
    oid = order.order_id
    waybill = str(snap.get("waybill_no") or "")
    shown = waybill or oid

    def refuse(verdict: Verdict, text: str, reason: str) -> Judgement:
        return Judgement(verdict, text, reason, oid, waybill)

    if in_this_batch:
        return Judgement(Verdict.DUPLICATE, _("Already in this batch: {waybill}").format(waybill=shown),
                         _("Counted once; nothing changed."), oid, waybill)
    if other_batch:
        return refuse(Verdict.OTHER_BATCH, _("Already in batch {batch}").format(batch=other_batch),
                      _("{waybill} is in another open handover batch of this station.").format(waybill=shown))
    state = order.state
    if state == State.CLOSED:
        return refuse(Verdict.CLOSED, _("STOP — order closed: {order}").format(order=oid),
                      _("The order is closed (cancelled or refunded): do not hand it over. Take the parcel out "
                        "and bring it to the desk."))
    if state in (State.SHIPPED, State.DELIVERED):
        done = snap.get("handover") or {}
        if done.get("batch_id"):
            why = _("Handed over in batch {batch}; it does not go in this batch.").format(batch=done["batch_id"])
        else:
            why = _("It is already {state}; it does not go in this batch.").format(state=_state(state))
        return refuse(Verdict.SHIPPED, _("Already shipped: {waybill}").format(waybill=shown), why)
    if snap.get("cancel_requested"):
        return refuse(Verdict.CANCEL_REQUESTED, _("STOP — cancellation requested: {order}").format(order=oid),
                      _("The buyer asked to cancel: do not hand it over. Take the parcel out and void the waybill."))
    holds = snap.get("holds") or []
    if holds:
        hold = holds[0]
        what = hold_label(str(hold.get("type")), language())
        return refuse(Verdict.HELD, _("STOP — on hold: {hold}").format(hold=what),
                      _("{order} is held ({reason}). Do not hand it over: take it out of the bag and bring it to "
                        "the desk.").format(order=oid, reason=str(hold.get("reason") or what)))
    if order.has_conflict:
        return refuse(Verdict.CONFLICT, _("STOP — offline conflict: {order}").format(order=oid),
                      _("The hub refused an action done here offline. Resolve it before the parcel leaves."))
    if state != State.LABEL_PRINTED:
        return refuse(Verdict.NOT_PRINTED, _("Label not printed: {order}").format(order=oid),
                      _("The order is {state}: no label was printed for it here. Print its label first.").format(
                          state=_state(state)))
    own = str(snap.get("carrier") or "")
    if not own or not waybill:
        return refuse(Verdict.NO_CARRIER, _("No carrier or waybill: {order}").format(order=oid),
                      _("The order has no carrier or waybill number; the desk must sort it out."))
    if carrier is not None and own != carrier:
        return refuse(Verdict.OTHER_CARRIER, _("Wrong carrier: this is a {other} parcel").format(
            other=carrier_name(own)), _("{waybill} goes with {other}; this batch is for {carrier}.").format(
            waybill=waybill, other=carrier_name(own), carrier=carrier_name(carrier)))
    return Judgement(Verdict.OK, _("OK {waybill}").format(waybill=waybill), "", oid, waybill)


# -- store work (the database worker runs these) -------------------------------------------------


def _batch(conn: Any, row: rows.BatchRow) -> HandoverBatch:
    return HandoverBatch(row.batch_id, row.carrier, row.station, row.bench, row.operator, row.opened_at,
                         [Parcel(p.order_id, p.waybill_no, p.scanned_at, p.operator)
                          for p in rows.parcels(conn, row.batch_id)],
                         row.status, row.closed_at, row.closed_by)


def _stopped(order: LocalOrder) -> bool:
    """A printed parcel that must stay at the bench: held, cancel requested, or in conflict."""
    snap = order.snapshot
    return bool(snap.get("holds") or snap.get("cancel_requested") or order.has_conflict)


def carrier_counts(store: LocalStore) -> list[tuple[str, int]]:
    """(carrier, printed parcels not held) on this station, most parcels first."""
    with store.read() as conn:
        counts = order_rows.printed_by_carrier(conn)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def load_open(store: LocalStore) -> Opened:
    """The batch left open on this station (with its parcels) and the carriers with printed parcels."""
    with store.read() as conn:
        row = rows.open_batch(conn)
        batch = _batch(conn, row) if row is not None else None
    return Opened(batch, carrier_counts(store))


def _new_batch(conn: Any, carrier: str, station: str, bench: str, operator: str, now: datetime) -> rows.BatchRow:
    base = make_batch_id(station or bench, now)
    batch_id, n = base, 1
    while rows.batch_exists(conn, batch_id):
        n += 1
        batch_id = f"{base}-{n}"
    row = rows.BatchRow(batch_id, carrier, station, bench, operator, iso(now) or "")
    rows.insert_batch(conn, row)
    _audit(conn, operator, "handover_opened", None, {"batch_id": batch_id, "carrier": carrier}, row.opened_at)
    return row


def _audit(conn: Any, operator: str, what: str, order_id: str | None, details: dict[str, Any], at: str) -> None:
    audit_rows.add(conn, operator, what, order_id=order_id, details=details, at=at)


def open_batch(store: LocalStore, carrier: str, *, station: str, bench: str, operator: str,
               now: datetime | None = None) -> HandoverBatch:
    """Open a batch for ``carrier``; the batch already open on this station is returned instead, if any."""
    if not carrier:
        raise HandoverError(_("Choose a carrier first."))
    with store.write() as conn:
        row = rows.open_batch(conn)
        if row is None:
            row = _new_batch(conn, carrier, station, bench, operator, now or utcnow())
        return _batch(conn, row)


def scan_parcel(store: LocalStore, check: Check, *, station: str, bench: str, operator: str,
                now: datetime | None = None) -> Checked:
    """Judge one scan against the local store and, when accepted, store it in the batch — one transaction.

    With no batch open (``check.batch_id`` None) an accepted parcel opens a batch for its own carrier.
    A refusal is written to the local audit (who scanned what, and why it was stopped).
    """
    code = normalise_code(check.code)
    at = iso(now or utcnow()) or ""
    with store.write() as conn:
        row = rows.get_batch(conn, check.batch_id) if check.batch_id else rows.open_batch(conn)
        if row is not None and row.status != rows.OPEN:
            raise HandoverError(_("Batch {batch} is no longer open.").format(batch=row.batch_id))
        oid = code.upper() if looks_like_order_id(code) else order_rows.find_by_code(conn, code)
        order = order_rows.get(conn, oid) if oid else None
        in_this = other = None
        if order is not None:
            holder = rows.open_batch_of(conn, order.order_id)
            in_this = row is not None and holder == row.batch_id
            other = holder if holder and not in_this else None
        judgement = judge(order, code, row.carrier if row is not None else None, in_this_batch=bool(in_this),
                          other_batch=other)
        if judgement.verdict.refused:
            _audit(conn, operator, "handover_refused", judgement.order_id or None,
                             {"code": code, "verdict": judgement.verdict.value,
                              "batch_id": row.batch_id if row else None}, at)
            return Checked(code, judgement)
        if judgement.verdict == Verdict.DUPLICATE:
            return Checked(code, judgement)
        assert order is not None
        opened = check.batch_id is None  # the flow had no batch: it gets the whole batch back
        if row is None:
            row = _new_batch(conn, str(order.snapshot.get("carrier")), station, bench, operator, now or utcnow())
        rows.add_parcel(conn, rows.ParcelRow(row.batch_id, order.order_id, judgement.waybill_no, operator, at))
        parcel = Parcel(order.order_id, judgement.waybill_no, at, operator)
        return Checked(code, judgement, parcel, _batch(conn, row) if opened else None)


def read_missing(store: LocalStore, batch_id: str, carrier: str, *, now: datetime | None = None,
                 tz: str = DEFAULT_TZ) -> MissingRead:
    """The carrier's printed parcels on this station not yet in the batch (oldest print first).

    "Printed" is the order's local view in ``label_printed``; its print day is the site-local day of
    its ``label_printed_at`` (set by the hub and the bench's own copy when the label prints; an order
    printed before that field existed falls back to the hub's last change, ``updated_at``). Parcels printed
    on an earlier day and still not handed over are listed too, marked ``earlier``: they are the
    ones most likely forgotten. Held and cancel-requested parcels are not missing — they must stay:
    they are counted in ``held_back``.
    """
    today = to_local(now or utcnow(), tz).date()
    with store.read() as conn:
        inside = {p.order_id for p in rows.parcels(conn, batch_id)}
        printed = order_rows.printed_parcels(conn, carrier)
    missing: list[MissingParcel] = []
    held: list[str] = []
    for order_id, waybill, updated_at, stopped in printed:
        if order_id in inside:
            continue
        if stopped:
            held.append(order_id)
            continue
        try:
            changed = parse_iso(updated_at)
        except ValueError:
            changed = None
        day = to_local(changed, tz).date() if changed is not None else None
        missing.append(MissingParcel(order_id, waybill, day.isoformat() if day else "",
                                     day is not None and day < today))
    missing.sort(key=lambda m: (m.printed_day or "9999", m.order_id))
    return MissingRead(batch_id, missing, sorted(held))


@dataclass(frozen=True)
class Closed:
    """A batch closed: its final shape and the orders shipped."""

    batch: HandoverBatch
    shipped: list[str]


def close_batch(store: LocalStore, outbox: Outbox, batch_id: str, operator: str, *,
                role: Role | str | None = None, drop: tuple[str, ...] = (), initiator: object | None = None,
                now: datetime | None = None) -> Closed:
    """Ship every parcel of the batch: ``shipped_by_station`` {batch_id, carrier} each, one transaction.

    ``drop`` names parcels to take out of the batch first (the packer pulled them from the bag after
    a refusal). Every parcel is judged again first: one that must not ship now (held, cancelled since
    it was scanned) refuses the whole close with :class:`HandoverBlocked` naming them — nothing is
    written. Any action refused by the state machine rolls everything back too.

    Raises:
        HandoverError: the batch is not open, or holds no parcel.
        HandoverBlocked: some parcels must not ship (``details["blocked"]``: order → why).
    """
    at = iso(now or utcnow()) or ""
    seqs: list[int] = []
    with store.write() as conn:
        row = rows.get_batch(conn, batch_id)
        if row is None or row.status != rows.OPEN:
            raise HandoverError(_("Batch {batch} is no longer open.").format(batch=batch_id))
        if drop:
            rows.remove_parcels(conn, batch_id, drop)
        parcels = rows.parcels(conn, batch_id)
        if not parcels:
            raise HandoverError(_("Batch {batch} has no parcels: scan parcels first, or cancel the batch.").format(
                batch=batch_id))
        blocked: dict[str, str] = {}
        for p in parcels:
            j = judge(order_rows.get(conn, p.order_id), p.waybill_no or p.order_id, row.carrier)
            if j.verdict.refused:
                blocked[p.order_id] = f"{p.waybill_no}: {j.text}"
        if blocked:
            raise HandoverBlocked(
                _("{n} parcel(s) in the batch must not ship now:\n{list}").format(
                    n=len(blocked), list="\n".join(blocked.values())),
                details={"blocked": blocked})
        for p in parcels:
            _order, seq, _aid = outbox.perform_in(conn, p.order_id, "shipped_by_station",
                                                  {"batch_id": batch_id, "carrier": row.carrier}, operator,
                                                  role=role, done_at=at)
            seqs.append(seq)
        rows.set_status(conn, batch_id, rows.CLOSED, at, operator)
        _audit(conn, operator, "handover_closed", None,
                         {"batch_id": batch_id, "carrier": row.carrier, "count": len(parcels),
                          "dropped": list(drop)}, at)
        batch = _batch(conn, replace(row, status=rows.CLOSED, closed_at=at, closed_by=operator))
    shipped = [p.order_id for p in parcels]
    outbox.orders_changed.emit(OrdersChanged(shipped, initiator))
    for seq in seqs:
        outbox.enqueued.emit(seq)
    return Closed(batch, shipped)


def cancel_batch(store: LocalStore, batch_id: str, operator: str, *, now: datetime | None = None) -> None:
    """Cancel an open batch: nothing ships; its rows stay as a record."""
    at = iso(now or utcnow()) or ""
    with store.write() as conn:
        row = rows.get_batch(conn, batch_id)
        if row is None or row.status != rows.OPEN:
            raise HandoverError(_("Batch {batch} is no longer open.").format(batch=batch_id))
        rows.set_status(conn, batch_id, rows.CANCELLED, at, operator)
        _audit(conn, operator, "handover_cancelled", None, {"batch_id": batch_id}, at)


# -- the flow ------------------------------------------------------------------------------------


class HandoverFlow:
    """The handover of one bench: the open batch, what is missing, and the pending confirmation.

    Attributes:
        batch: the open batch (None: none yet; the first accepted scan or a chosen carrier opens one).
        missing: still missing, by order ID (see :class:`MissingParcel`).
        held_back: printed parcels of the carrier that must stay (held, cancel requested).
        carriers: (carrier, printed parcels) for the picker.
        confirm: ``close`` / ``cancel`` when the next press of that key confirms it ("" none).
        drop: parcels to leave out when the close is confirmed after a block.
        last_closed: the batch closed last (its manifest can be printed again).
        closing: a close is being recorded (scans are refused until it is answered).
    """

    def __init__(self) -> None:
        self.batch: HandoverBatch | None = None
        self.missing: dict[str, MissingParcel] = {}
        self.held_back: list[str] = []
        self.carriers: list[tuple[str, int]] = []
        self.confirm = ""
        self.drop: tuple[str, ...] = ()
        self.last_closed: HandoverBatch | None = None
        self.closing = False

    # -- what the view shows -------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self.batch.count if self.batch is not None else 0

    def missing_list(self) -> list[MissingParcel]:
        return sorted(self.missing.values(), key=lambda m: (m.printed_day or "9999", m.order_id))

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> Outcome:
        """Entering handover mode: read the batch left open and the carriers."""
        return Outcome(work=(LoadOpen(),))

    def loaded(self, opened: Opened) -> Outcome:
        self.carriers = opened.carriers
        if opened.batch is None:
            self.batch = None
            self.missing = {}
            return self._idle()
        self.batch = opened.batch
        return Outcome("ready", _("Batch {batch} is open for {carrier}: {n} parcel(s) scanned").format(
            batch=self.batch.batch_id, carrier=carrier_name(self.batch.carrier), n=self.batch.count),
            _("Scan the next parcel; F8 closes the batch and prints the manifest."),
            work=(ReadMissing(self.batch.batch_id, self.batch.carrier),))

    def _idle(self) -> Outcome:
        return Outcome("idle", _("Handover: choose the carrier (↑ ↓, Enter) or scan the first parcel"),
                       _("The first parcel scanned opens a batch for its carrier."))

    def choose(self, carrier: str) -> Outcome:
        """Enter on the carrier picker: open a batch for it (when none is open)."""
        if self.batch is not None:
            return Outcome("error", _("Batch {batch} is still open").format(batch=self.batch.batch_id),
                           _("Close it (F8) or cancel it (F12) before starting another."), tone="error")
        if not carrier:
            return Outcome("error", _("Choose a carrier first."), tone="error")
        return Outcome("working", _("Opening a batch for {carrier}…").format(carrier=carrier_name(carrier)),
                       work=(OpenBatch(carrier),))

    def opened(self, batch: HandoverBatch) -> Outcome:
        self.batch = batch
        self.confirm = ""
        return Outcome("ready", _("Batch {batch} open for {carrier}: scan the parcels").format(
            batch=batch.batch_id, carrier=carrier_name(batch.carrier)), tone="ok",
            work=(ReadMissing(batch.batch_id, batch.carrier),))

    # -- scans ---------------------------------------------------------------------------------
    def scan(self, code: str) -> Outcome:
        """Ask for a scan to be judged and stored (``Outcome.work`` a :class:`Check`)."""
        code = normalise_code(code)
        if not code:
            return Outcome()
        if self.closing:
            return Outcome("error", _("Closing the batch — wait"), _("This scan was not counted; scan it again "
                                                                    "in the next batch."), tone="error")
        self.confirm = ""
        batch = self.batch
        return Outcome(work=(Check(code, batch.batch_id if batch else None, batch.carrier if batch else None),))

    def checked(self, result: Checked) -> Outcome:
        """The answer to a scan once it was judged (and stored)."""
        j = result.judgement
        if j.verdict.refused:
            return Outcome("error", j.text, j.reason, tone="error", refusal=j.verdict)
        if j.verdict == Verdict.DUPLICATE:
            return Outcome("repeat", j.text, _("Still {n} parcel(s) in the batch.").format(n=self.count), tone="ok")
        assert result.parcel is not None
        work: tuple[Work, ...] = ()
        if result.opened is not None:
            self.batch = result.opened
            work = (ReadMissing(result.opened.batch_id, result.opened.carrier),)
        elif self.batch is not None:
            self.batch.parcels.append(result.parcel)
        self.missing.pop(j.order_id, None)
        return Outcome("ok", _("OK {waybill} — {n} in the bag").format(waybill=j.waybill_no, n=self.count),
                       j.order_id, tone="ok", work=work)

    def missing_read(self, read: MissingRead) -> Outcome:
        if self.batch is None or read.batch_id != self.batch.batch_id:
            return Outcome()
        inside = {p.order_id for p in self.batch.parcels}
        self.missing = {m.order_id: m for m in read.missing if m.order_id not in inside}
        self.held_back = read.held_back
        return Outcome()

    def order_changed(self, order: LocalOrder) -> Outcome:
        """An order changed elsewhere (the hub, the desk): keep "missing" current, and shout if a
        parcel already in the bag is now stopped (held, cancelled)."""
        batch = self.batch
        if batch is None:
            return Outcome()
        oid = order.order_id
        if batch.has(oid):
            j = judge(order, oid, batch.carrier)
            if j.verdict.refused:
                return Outcome("error", _("Take it out: {waybill}").format(waybill=j.waybill_no or oid),
                               j.text + "\n" + j.reason, tone="error", refusal=j.verdict)
            return Outcome()
        snap = order.snapshot
        printed = (order.state == State.LABEL_PRINTED and snap.get("carrier") == batch.carrier)
        stopped = _stopped(order)
        if printed and not stopped:
            old = self.missing.get(oid)
            self.missing[oid] = MissingParcel(oid, str(snap.get("waybill_no") or ""),
                                              old.printed_day if old else "", old.earlier if old else False)
        else:
            self.missing.pop(oid, None)
        if printed and stopped and oid not in self.held_back:
            self.held_back = sorted([*self.held_back, oid])
        elif not (printed and stopped) and oid in self.held_back:
            self.held_back = [h for h in self.held_back if h != oid]
        return Outcome()

    # -- close and cancel ----------------------------------------------------------------------
    def close(self) -> Outcome:
        """F8: close the batch. Missing parcels (or a block) ask for a second press to confirm."""
        batch = self.batch
        if batch is None:
            return Outcome("error", _("No batch open"), _("Scan the first parcel to open one."), tone="error")
        if self.closing:
            return Outcome()
        if batch.count == 0:
            return Outcome("error", _("The batch is empty"), _("Scan parcels first, or cancel the batch (F12)."),
                           tone="error")
        if self.confirm != "close" and self.missing:
            self.confirm = "close"
            return Outcome("confirm", _("{n} printed parcel(s) are still missing").format(n=len(self.missing)),
                           _("Press F8 again to close with {count} parcel(s) and leave the missing ones for the "
                             "next batch; or scan them now.").format(count=batch.count), tone="error")
        self.confirm = ""
        self.closing = True
        return Outcome("working", _("Closing batch {batch}: shipping {n} parcel(s)…").format(
            batch=batch.batch_id, n=batch.count), work=(CloseBatch(batch.batch_id, self.drop),))

    def closed(self, closed: Closed) -> Outcome:
        self.closing = False
        self.batch = None
        self.missing = {}
        self.held_back = []
        self.drop = ()
        self.last_closed = closed.batch
        return Outcome("done", _("Batch {batch} closed: {n} parcel(s) shipped").format(
            batch=closed.batch.batch_id, n=len(closed.shipped)), _("Printing the manifest (交接单)…"), tone="done",
            work=(PrintManifest(closed.batch), ReadCarriers()))

    def close_failed(self, exc: UserError) -> Outcome:
        """Closing was refused: nothing shipped. Blocked parcels are named; the next F8 leaves them out."""
        self.closing = False
        blocked = exc.details.get("blocked") if isinstance(exc, HandoverBlocked) else None
        if isinstance(blocked, dict) and blocked:
            self.drop = tuple(sorted(set(self.drop) | set(blocked)))  # those pulled before stay out too
            self.confirm = "close"
            self.missing = {k: v for k, v in self.missing.items() if k not in blocked}
            return Outcome("error", _("STOP — {n} parcel(s) in the bag must not ship").format(n=len(blocked)),
                           "\n".join(blocked.values()) + "\n" +
                           _("Take them out of the bag, then press F8 again to close without them."),
                           tone="error", refusal=Verdict.HELD)
        return Outcome("error", _("The batch was not closed"), exc.message, tone="error")

    def printed(self, ok: bool, message: str = "") -> Outcome:
        if ok:
            return Outcome("done", _("Manifest printed — hand it to the courier to sign"), message, tone="done")
        return Outcome("error", _("Manifest did not print (the parcels are shipped)"),
                       message + "\n" + _("Fix the printer, then press F7 to print it again."), tone="error")

    def reprint(self) -> Outcome:
        """F7: print the last closed batch's manifest again."""
        if self.last_closed is None:
            return Outcome("error", _("No closed batch to print"), tone="error")
        return Outcome("working", _("Printing the manifest of {batch}…").format(batch=self.last_closed.batch_id),
                       work=(PrintManifest(self.last_closed),))

    def cancel(self) -> Outcome:
        """F12: cancel the open batch (a second press confirms); nothing ships."""
        batch = self.batch
        if batch is None:
            return Outcome("error", _("No batch open"), tone="error")
        if self.confirm != "cancel":
            self.confirm = "cancel"
            return Outcome("confirm", _("Cancel batch {batch}?").format(batch=batch.batch_id),
                           _("Press F12 again to cancel it: its {n} parcel(s) are not shipped and stay printed.")
                           .format(n=batch.count), tone="error")
        self.confirm = ""
        return Outcome("working", _("Cancelling batch {batch}…").format(batch=batch.batch_id),
                       work=(CancelBatch(batch.batch_id),))

    def cancelled(self) -> Outcome:
        self.batch = None
        self.missing = {}
        self.held_back = []
        self.drop = ()
        out = self._idle()
        return Outcome("idle", _("Batch cancelled: nothing was shipped"), out.text, work=(ReadCarriers(),))

    def carriers_read(self, carriers: list[tuple[str, int]]) -> Outcome:
        self.carriers = carriers
        return Outcome()

    def failed(self, message: str) -> Outcome:
        """A store step failed (disk, lock): say so; nothing was counted."""
        self.closing = False
        return Outcome("error", _("Not recorded"), message, tone="error")
