"""The print journal: every print job, its printer and result, and any reprint with its reason.

An order moves to ``label_printed`` only after its label really printed: :meth:`PrintJournal.record_print`
writes the journal row and, for a successful label job, queues the ``label_printed`` action for
each order — in one local transaction. A failed job is journaled with its error and changes no
order, so it can be retried; nothing is marked printed by hope. A label for an order that already
had one (``label_count`` > 0) is a reprint and needs a reason.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.errors import IllegalTransition, OrderHeld, ValidationFailed
from core.i18n import _
from core.outbox import OrdersChanged, Outbox, UnknownOrder
from core.roles import Role
from core.store import LocalOrder, LocalStore, journal
from core.timeutil import iso, utcnow

log = logging.getLogger("packdesk.printing")

DOC_TYPES = ("label", "pick_list", "packing_slip", "handover_manifest")


class ReprintReasonRequired(ValidationFailed):
    """A label is printed again for an order that already had one, without a reason."""

    code = "reprint_reason_required"


@dataclass(frozen=True)
class PrintJobResult:
    """What the printer back-end reported for one job.

    Attributes:
        doc_type: ``label``, ``pick_list`` or ``packing_slip``.
        order_ids: the orders on the document(s).
        printer: the printer (or file) it went to.
        ok: whether the back-end reported success.
        error: the back-end's error text when it failed.
        job_id: this job's ID (made here unless the back-end has one).
    """

    doc_type: str
    order_ids: list[str]
    printer: str
    ok: bool
    error: str | None = None
    job_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class PrintRecord:
    """A journaled job and the orders it changed (labels only)."""

    job_id: str
    ok: bool
    orders: list[LocalOrder]
    action_ids: list[str]
    #: order ID -> why ``label_printed`` could not be queued although the label did print (the
    #: order changed meanwhile, e.g. a hold arrived from the hub while the printer was busy)
    not_marked: dict[str, str] = field(default_factory=dict)


def _not_marked_text(not_marked: dict[str, str]) -> str | None:
    if not not_marked:
        return None
    return _("printed, not marked printed: {orders}").format(
        orders="; ".join(f"{oid}: {why}" for oid, why in not_marked.items()))


class PrintJournal:
    """Records print jobs in the local store.

    Args:
        store: the local store.
        outbox: queues ``label_printed`` after a successful label job.
    """

    def __init__(self, store: LocalStore, outbox: Outbox) -> None:
        self.store = store
        self.outbox = outbox

    def reprints(self, order_ids: list[str]) -> list[str]:
        """Which of these orders already had a label (ask for a reprint reason *before* printing)."""
        with self.store.read() as conn:
            return [oid for oid in order_ids if self._had_label(conn, oid)]

    def _had_label(self, conn: Any, order_id: str) -> bool:
        """A label was printed before: the hub counted one, or this station's journal holds one."""
        order = self.store.get_order(order_id, conn)
        if order is not None and int(order.snapshot.get("label_count") or 0) > 0:
            return True
        return journal.label_printed_here(conn, order_id)

    def record_print(
        self,
        job: PrintJobResult,
        operator: str,
        *,
        reprint_reason: str | None = None,
        role: Role | str | None = None,
    ) -> PrintRecord:
        """Journal a print job; for a successful label job, queue ``label_printed`` for its orders.

        The journal row and the actions are one transaction: either both are stored or neither.
        An order already in ``label_printed`` (same label printed again) gets no action: the
        journal row records the reprint.

        A label that printed for an order that can no longer take ``label_printed`` (held, changed
        or even gone from this station meanwhile, e.g. moved to another bench by a sync while the
        printer was busy) is still journaled: it is listed in :attr:`PrintRecord.not_marked`.

        Raises:
            ValidationFailed: unknown document type, no orders, or no operator.
            ReprintReasonRequired: a label reprint without a reason (nothing is written).
            UnknownOrder: a failed label job for an order this station does not have.
        """
        if job.doc_type not in DOC_TYPES:
            raise ValidationFailed(f"Unknown document type {job.doc_type!r}.", details={"field": "doc_type"})
        if not job.order_ids:
            raise ValidationFailed("A print job needs at least one order.", details={"field": "order_ids"})
        if not operator:
            raise ValidationFailed("A print job needs the operator.", details={"field": "operator"})
        reason = (reprint_reason or "").strip() or None
        now = iso(utcnow()) or ""
        changed: list[str] = []
        not_marked: dict[str, str] = {}
        action_ids: list[str] = []
        seqs: list[int] = []
        with self.store.write() as conn:
            is_reprint = False
            if job.doc_type == "label":
                for oid in job.order_ids:
                    if self.store.get_order(oid, conn) is None and not job.ok:
                        raise UnknownOrder(f"Order {oid} is not on this station.", details={"order_id": oid})
                    if self._had_label(conn, oid):
                        is_reprint = True
                if is_reprint and reason is None:
                    raise ReprintReasonRequired(
                        "This label was printed before. Say why it is printed again (e.g. label damaged).",
                        details={"order_ids": job.order_ids},
                    )
                if job.ok:
                    for oid in job.order_ids:
                        order = self.store.get_order(oid, conn)
                        if order is None:
                            # The label exists on paper; the order left this station meanwhile.
                            not_marked[oid] = _(
                                "Order {order} is no longer on this station (moved or closed at the hub "
                                "while the label printed); tell the desk a label exists for it."
                            ).format(order=oid)
                            continue
                        if order.state in ("label_printed", "shipped"):
                            # the same label again (a shipped one: reprinted until handover,
                            # core/packing.py reprint_until_handover): the journal row is the record
                            continue
                        try:
                            _updated, seq, action_id = self.outbox.perform_in(
                                conn,
                                oid,
                                "label_printed",
                                {"printer": job.printer, "job_id": job.job_id},
                                operator,
                                role=role,
                                done_at=now,
                            )
                        except (IllegalTransition, OrderHeld) as exc:
                            # The label exists on paper: journal it whatever happened to the order,
                            # so a reprint is recognised as one and nobody is told it did not print.
                            not_marked[oid] = exc.message
                            continue
                        changed.append(oid)
                        seqs.append(seq)
                        action_ids.append(action_id)
            journal.insert(conn, journal.JobRow(
                job_id=job.job_id,
                doc_type=job.doc_type,
                order_ids=list(job.order_ids),
                printer=job.printer,
                ok=job.ok,
                error=job.error or _not_marked_text(not_marked),
                operator=operator,
                at=now,
                reprint_reason=reason,
                action_ids=action_ids,
            ))
            self.store.audit(
                conn,
                operator,
                "print_ok" if job.ok else "print_failed",
                order_id=job.order_ids[0],
                details={
                    "job_id": job.job_id,
                    "doc_type": job.doc_type,
                    "order_ids": job.order_ids,
                    "printer": job.printer,
                    "error": job.error,
                    "reprint_reason": reason,
                },
                at=now,
            )
            orders = [o for o in (self.store.get_order(oid, conn) for oid in changed) if o is not None]
        if not job.ok:
            log.warning(
                "Print job %s (%s on %s) failed: %s", job.job_id, job.doc_type, job.printer, job.error
            )
        if changed:
            self.outbox.orders_changed.emit(OrdersChanged(changed, None))
            for seq in seqs:
                self.outbox.enqueued.emit(seq)
        return PrintRecord(job.job_id, job.ok, orders, action_ids, not_marked)

    def jobs(self, order_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Journal entries, newest first (optionally those that include ``order_id``)."""
        with self.store.read() as conn:
            return journal.jobs(conn, order_id, limit)
