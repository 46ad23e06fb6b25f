"""Returns at the bench (退货入库) as a plain object: a scan or a key goes in, an outcome comes out.

The returns clerk scans the return parcel's waybill (or the order ID, or the shop's order number):
the order's lines come up with how many units of each may come back. Each item taken out of the
parcel is scanned (its SKU or product barcode) and graded: **F2** good (back to stock), **F3**
damaged (quarantine, not available). A wrong item, one unit too many, or a scan before the last
unit was graded is refused with a clear reason and counts nothing. **F8** finishes: what was not
scanned is *missing* (a second F8 confirms when something is), and ONE ``return_received`` action
``{lines: [{sku, qty_good, qty_damaged, qty_missing}], note}`` goes through the outbox like every
action — the local view shows it at once, the hub gets it when it can (works offline).

:class:`ReturnFlow` decides and holds what is shown; it never touches the store or the screen.
Its answers are :class:`Outcome` objects whose ``work`` the view runs on the database worker with
:func:`find_order`, :func:`save_draft`, :func:`load_draft` and :func:`record` and hands back
(:meth:`ReturnFlow.found`, :meth:`ReturnFlow.restored`, :meth:`ReturnFlow.recorded`,
:meth:`ReturnFlow.record_failed`). Every scan and grade is saved as the station's one return in
progress (``core/store/returns.py``, store v7): a restart finds the return as it was. The rules the
hub checks again (which orders, how many units) are :mod:`core.returns_rule`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.actions import RETURN_QTYS
from core.errors import UserError
from core.i18n import _, language
from core.order_ids import looks_like_order_id
from core.outbox import OrdersChanged, Outbox
from core.returns_rule import RETURNABLE_STATES, still_out
from core.roles import Role
from core.scan_rules import line_units, normalise_code
from core.states import state_label
from core.store import LocalOrder, LocalStore
from core.store import returns as drafts
from core.timeutil import iso, utcnow

GOOD = "good"
DAMAGED = "damaged"

#: The keys of the returns screen, named once (the view binds them, the banners name them).
KEY_GOOD, KEY_DAMAGED, KEY_UNDO, KEY_NOTE, KEY_FINISH, KEY_CANCEL = "F2", "F3", "F4", "F6", "F8", "F12"


@dataclass
class ReturnLine:
    """One SKU of the order being returned: how many may come back and how many were graded."""

    sku: str
    name: str
    expected: int
    good: int = 0
    damaged: int = 0

    @property
    def counted(self) -> int:
        return self.good + self.damaged

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.counted)


@dataclass(frozen=True)
class Unit:
    """What one scan took out of the parcel: ``n`` units of ``sku`` (a case barcode counts several)."""

    sku: str
    n: int
    grade: str = ""  # "" until graded


@dataclass(frozen=True)
class FindOrder:
    """Look the scanned code up in the local store (:func:`find_order`)."""

    code: str


@dataclass(frozen=True)
class Record:
    """Queue the ``return_received`` action (:func:`record`)."""

    order_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SaveDraft:
    """Save the return in progress (:func:`save_draft`); an empty ``order_id`` clears it."""

    order_id: str
    units: tuple[tuple[str, int, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class LoadDraft:
    """Read the return left in progress on this station (:func:`load_draft`)."""


@dataclass(frozen=True)
class Restored:
    """What :func:`load_draft` found: the draft (None: none) and its order as it is now."""

    draft: drafts.DraftRow | None
    order: LocalOrder | None


Work = FindOrder | Record | SaveDraft | LoadDraft


@dataclass(frozen=True)
class Outcome:
    """One answer of the flow, for the view to draw and carry out.

    Attributes:
        banner: ``idle``, ``ready``, ``ok``, ``grade``, ``error``, ``confirm``, ``working``, ``done``, or
            None to leave the banner as it is.
        text: the banner's big line; reason: the line under it.
        tone: ``ok``, ``error``, ``done`` or None.
        work: what to run.
        refused: a scan or key that changed nothing (for tests and the tone).
    """

    banner: str | None = None
    text: str = ""
    reason: str = ""
    tone: str | None = None
    work: tuple[Work, ...] = ()
    refused: bool = False


class ReturnError(UserError):
    """A returns step that cannot be done: the message says why."""

    code = "return_error"


# -- store work (the database worker runs these) -------------------------------------------------


def find_order(store: LocalStore, code: str) -> LocalOrder | None:
    """The order a scanned code names on this station: its ID, its waybill or the shop's order number."""
    code = normalise_code(code)
    oid = code.upper() if looks_like_order_id(code) else store.find_by_code(code)
    return store.get_order(oid) if oid else None


def record(outbox: Outbox, order_id: str, payload: dict[str, Any], operator: str, *,
           role: Role | str | None = None, initiator: object | None = None) -> LocalOrder:
    """The one ``return_received`` action: local view, outbox and the draft's removal in one transaction.

    Raises:
        UserError (Forbidden, BadPayload, IllegalTransition, …): nothing was written; the draft stays.
    """
    with outbox.store.write() as conn:
        order, seq, _aid = outbox.perform_in(conn, order_id, "return_received", payload, operator, role=role)
        drafts.clear(conn)
    outbox.orders_changed.emit(OrdersChanged([order_id], initiator))
    outbox.enqueued.emit(seq)
    return order


def save_draft(store: LocalStore, work: SaveDraft, operator: str) -> None:
    """Write (or, with no order, clear) the return in progress."""
    now = iso(utcnow()) or ""
    with store.write() as conn:
        if work.order_id:
            drafts.save(conn, drafts.DraftRow(work.order_id, operator, work.units, work.note, now, now))
        else:
            drafts.clear(conn)


def load_draft(store: LocalStore) -> Restored:
    """The return left in progress on this station, and its order as the local store has it now."""
    with store.read() as conn:
        row = drafts.load(conn)
    return Restored(row, store.get_order(row.order_id) if row is not None else None)


# -- the flow ------------------------------------------------------------------------------------


@dataclass
class ReturnFlow:
    """The return being received at this bench (one parcel at a time).

    Attributes:
        order_id: the order the parcel belongs to ("" none yet: the next scan looks one up).
        lines: the order's returnable lines, by SKU, in order.
        units: what was taken out of the parcel, in scan order (the last may still wait for its grade).
        note: the clerk's note (what the parcel looked like, what the buyer wrote).
        confirm: ``finish`` / ``cancel`` when the next press of that key confirms it ("" none).
        recording: the action is being queued (scans wait for the answer).
    """

    order_id: str = ""
    lines: dict[str, ReturnLine] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)
    note: str = ""
    confirm: str = ""
    recording: bool = False
    last_done: str = ""
    _codes: dict[str, tuple[str, int]] = field(default_factory=dict)

    # -- what the view shows ---------------------------------------------------------------------
    @property
    def pending(self) -> Unit | None:
        """The last unit scanned, still waiting for F2 / F3."""
        return self.units[-1] if self.units and not self.units[-1].grade else None

    def totals(self) -> dict[str, int]:
        return {"good": sum(ln.good for ln in self.lines.values()),
                "damaged": sum(ln.damaged for ln in self.lines.values()),
                "missing": sum(ln.missing for ln in self.lines.values())}

    def payload(self) -> dict[str, Any]:
        """The ``return_received`` payload: every line of the order, graded and missing counts."""
        lines = [{"sku": ln.sku, "qty_good": ln.good, "qty_damaged": ln.damaged, "qty_missing": ln.missing}
                 for ln in self.lines.values()]
        return {"lines": [ln for ln in lines if any(ln[k] for k in RETURN_QTYS)], "note": self.note.strip()}

    def idle(self) -> Outcome:
        return Outcome("idle", _("Returns: scan the return parcel's waybill or the order ID"),
                       _("Then scan each item out of the parcel and grade it: {good} good, {damaged} damaged.").format(
                           good=KEY_GOOD, damaged=KEY_DAMAGED))

    # -- scans -----------------------------------------------------------------------------------
    def scan(self, code: str) -> Outcome:
        """A scan: the parcel (no order yet) or an item out of it."""
        code = normalise_code(code)
        if not code:
            return Outcome()
        if self.recording:
            return self._refuse(_("Recording the return — wait"), _("This scan was not counted; scan it again."))
        self.confirm = ""
        if not self.order_id:
            return Outcome("working", _("Looking up {code}…").format(code=code), work=(FindOrder(code),))
        hit = self._codes.get(code.upper())
        if hit is None:
            if looks_like_order_id(code):
                return self._refuse(_("Another order's code: {code}").format(code=code),
                                    _("Finish this return first ({finish}) or cancel it ({cancel} twice).").format(
                                        finish=KEY_FINISH, cancel=KEY_CANCEL))
            return self._refuse(_("Wrong item: {code} is not on this order").format(code=code),
                                _("Put it aside for the desk; nothing was counted."))
        sku, n = hit
        pending = self.pending
        if pending is not None:
            return self._refuse(_("Grade the last item first"),
                                _("{sku}: press {good} good or {damaged} damaged, then scan {code} again.").format(
                                    sku=pending.sku, good=KEY_GOOD, damaged=KEY_DAMAGED, code=code))
        line = self.lines[sku]
        if line.counted + n > line.expected:
            return self._refuse(_("Too many: {sku}").format(sku=sku),
                                _("Only {n} unit(s) of {name} can come back on this order; {done} already counted. "
                                  "Put the extra one aside for the desk.").format(
                                    n=line.expected, name=line.name or sku, done=line.counted))
        self.units.append(Unit(sku, n))
        return Outcome("grade", _("{name} × {n}: good or damaged?").format(name=line.name or sku, n=n),
                       _("{good} good — back to stock · {damaged} damaged — quarantine").format(
                           good=KEY_GOOD, damaged=KEY_DAMAGED), work=(self.draft(),))

    def found(self, order: LocalOrder | None, code: str) -> Outcome:
        """The parcel's order was looked up."""
        if order is None:
            return self._refuse(_("Unknown code: {code}").format(code=code),
                                _("No order on this station has this waybill, order ID or shop order number. Sync, "
                                  "or give the parcel to the desk."))
        snap = order.snapshot
        if order.state not in RETURNABLE_STATES:
            return self._refuse(_("Cannot receive a return for {order}").format(order=order.order_id),
                                _("The order is {state}: a return is received only for a shipped or delivered "
                                  "order.").format(state=state_label(order.state, language())))
        left = still_out(snap)
        if not left:
            return self._refuse(_("Everything of {order} is already back").format(order=order.order_id),
                                _("Every unit of this order was received in an earlier return."))
        names = {str(ln.get("sku")): str(ln.get("name") or "") for ln in snap.get("lines") or []}
        self.order_id = order.order_id
        self.lines = {sku: ReturnLine(sku, names.get(sku, ""), n) for sku, n in left.items()}
        self.units = []
        self._codes = {}
        for ln in snap.get("lines") or []:
            sku = str(ln.get("sku") or "")
            if sku in self.lines:
                for c, n in line_units(ln).items():
                    self._codes.setdefault(c, (sku, n))
        return Outcome("ready", _("Return of {order}: {n} unit(s) may come back").format(
            order=order.order_id, n=sum(left.values())),
            _("Scan each item out of the parcel; {finish} finishes (what is not scanned counts as missing).").format(
                finish=KEY_FINISH), tone="ok", work=(self.draft(),))

    def start(self) -> Outcome:
        """Entering returns mode: a return left in progress (a restart) comes back."""
        return Outcome() if self.order_id or self.recording else Outcome(work=(LoadDraft(),))

    def restored(self, found: Restored) -> Outcome:
        """The return left in progress was read: count its units again against the order as it is now."""
        draft = found.draft
        if draft is None or self.order_id:
            return Outcome()
        out = self.found(found.order, draft.order_id)
        if out.refused:  # closed or fully returned since: the draft cannot be finished
            return Outcome("error", _("The return of {order} left open cannot go on").format(order=draft.order_id),
                           out.text + "\n" + out.reason, tone="error", refused=True, work=(SaveDraft(""),))
        dropped = 0
        for sku, n, grade in draft.units:
            line = self.lines.get(sku)
            if line is None or n <= 0 or line.counted + n > line.expected or grade not in ("", GOOD, DAMAGED):
                dropped += n
                continue
            if self.pending is not None:  # only the last unit may wait for its grade
                dropped += self.units.pop().n
            self.units.append(Unit(sku, n, grade))
            if grade == GOOD:
                line.good += n
            elif grade == DAMAGED:
                line.damaged += n
        self.note = draft.note
        reason = _("Left open earlier on this station; scan on, or {finish} to finish.").format(finish=KEY_FINISH)
        if dropped:
            reason = _("{n} unit(s) no longer fit the order and were dropped: count them again.").format(n=dropped)
        return Outcome("ready", _("Return of {order} resumed: {n} unit(s) counted").format(
            order=self.order_id, n=sum(u.n for u in self.units)), reason, tone="ok", work=(self.draft(),))

    def draft(self) -> SaveDraft:
        """The work that saves the return as it is now."""
        return SaveDraft(self.order_id, tuple((u.sku, u.n, u.grade) for u in self.units), self.note)

    # -- keys ------------------------------------------------------------------------------------
    def grade(self, grade: str) -> Outcome:
        """F2 / F3: grade the unit just scanned."""
        pending = self.pending
        if pending is None:
            return self._refuse(_("Nothing to grade"), _("Scan an item out of the parcel first."))
        self.confirm = ""
        self.units[-1] = Unit(pending.sku, pending.n, grade)
        line = self.lines[pending.sku]
        if grade == GOOD:
            line.good += pending.n
            text = _("✓ Good: {name} × {n} — back to stock").format(name=line.name or line.sku, n=pending.n)
        else:
            line.damaged += pending.n
            text = _("✖ Damaged: {name} × {n} — quarantine").format(name=line.name or line.sku, n=pending.n)
        t = self.totals()
        return Outcome("ok", text, _("Good {good} · damaged {damaged} · still missing {missing}").format(**t),
                       tone="ok", work=(self.draft(),))

    def undo(self) -> Outcome:
        """F4: take back the last unit (graded or not)."""
        if not self.units:
            return self._refuse(_("Nothing to take back"))
        self.confirm = ""
        unit = self.units.pop()
        line = self.lines[unit.sku]
        if unit.grade == GOOD:
            line.good -= unit.n
        elif unit.grade == DAMAGED:
            line.damaged -= unit.n
        return Outcome("ready", _("Taken back: {name} × {n}").format(name=line.name or unit.sku, n=unit.n),
                       _("Scan it again to count it."), work=(self.draft(),))

    def set_note(self, text: str) -> None:
        self.note = text[:500]

    def note_done(self) -> Outcome:
        """Enter in the note field: the note is saved with the return in progress."""
        return Outcome(work=(self.draft(),)) if self.order_id and not self.recording else Outcome()

    def finish(self) -> Outcome:
        """F8: record the return; a second F8 confirms when units are missing."""
        if not self.order_id:
            return self._refuse(_("No return open"), _("Scan the return parcel's waybill or the order ID first."))
        if self.recording:
            return Outcome()
        if self.pending is not None:
            return self._refuse(_("Grade the last item first"), _("Press {good} good or {damaged} damaged.").format(
                good=KEY_GOOD, damaged=KEY_DAMAGED))
        missing = [ln for ln in self.lines.values() if ln.missing]
        if missing and self.confirm != "finish":
            self.confirm = "finish"
            listed = "、".join(f"{ln.name or ln.sku} × {ln.missing}" for ln in missing[:6])
            return Outcome("confirm", _("{n} unit(s) missing from the parcel").format(n=sum(ln.missing for ln in missing)),
                           _("{list}. Press {finish} again to record them as missing, or scan them now.").format(
                               list=listed, finish=KEY_FINISH), tone="error")
        self.confirm = ""
        self.recording = True
        return Outcome("working", _("Recording the return of {order}…").format(order=self.order_id),
                       work=(Record(self.order_id, self.payload()),))

    def recorded(self, order: LocalOrder) -> Outcome:
        t = self.totals()
        self._reset()
        self.last_done = order.order_id
        return Outcome("done", _("Return of {order} recorded — refund goes to the desk").format(order=order.order_id),
                       _("Good {good} back to stock · damaged {damaged} quarantined · missing {missing}. "
                         "Scan the next parcel.").format(**t), tone="done")

    def record_failed(self, exc: UserError) -> Outcome:
        """Queuing was refused (role, state, a rule): nothing was written; the counts stay for a retry."""
        self.recording = False
        return Outcome("error", _("The return was not recorded"), exc.message, tone="error", refused=True)

    def cancel(self) -> Outcome:
        """F12 twice: drop the return being counted (nothing is recorded)."""
        if not self.order_id:
            return self._refuse(_("No return open"))
        if self.confirm != "cancel":
            self.confirm = "cancel"
            return Outcome("confirm", _("Cancel the return of {order}?").format(order=self.order_id),
                           _("Press {cancel} again: the counts are dropped and nothing is recorded.").format(
                               cancel=KEY_CANCEL), tone="error")
        self._reset()
        out = self.idle()
        return Outcome("idle", _("Return cancelled: nothing was recorded"), out.text, work=(SaveDraft(""),))

    def failed(self, message: str) -> Outcome:
        """A store step failed (disk, lock): say so; nothing was counted."""
        self.recording = False
        return Outcome("error", _("Not recorded"), message, tone="error", refused=True)

    def _refuse(self, text: str, reason: str = "") -> Outcome:
        return Outcome("error", text, reason, tone="error", refused=True)

    def _reset(self) -> None:
        self.order_id = ""
        self.lines = {}
        self.units = []
        self._codes = {}
        self.note = ""
        self.confirm = ""
        self.recording = False
