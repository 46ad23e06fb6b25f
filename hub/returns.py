"""The hub's side of a return graded at the bench (退货入库, docs/returns.md).

``return_received`` with its lines, in the action's transaction: the lines are checked against the
order (:func:`core.returns_rule.check_return`, the bench's own rule), the trigger is recorded (the
order stays shipped / delivered), the return is added to the order's ``returns``, good units go
back on hand and damaged ones into quarantine (:func:`hub.stock.receive_return`), and a
``refund_review`` hold puts the refund in the desk's queue — one hold per order: a second parcel
of the same return adds itself to the open hold's details. The desk's decision (the hold's
playbook) refunds (the order closes, ``refund_approved``) or refuses (the hold goes; the order
completes as usual): :func:`refund_decided`.

Done twice? The action_id dedupe answers a retried batch without applying it again, and a second
return of the same units is refused: no SKU may count more units than are still out.
"""

from __future__ import annotations

from typing import Any

from core.money import yuan_to_fen
from core.returns_rule import REFUND_REVIEW, REFUND_REVIEW_REASON, check_return, return_record, totals
from core.states import Trigger
from core.timeutil import iso
from hub import stock
from hub.writer import Writer


def receive(w: Writer, doc: dict[str, Any], payload: dict[str, Any], *, done_at: str | None,
            action_id: str) -> None:
    """Apply one ``return_received`` to ``doc`` (see the module docstring).

    Raises:
        BadPayload, IllegalTransition: nothing applied (the caller restores the writer).
    """
    check_return(doc, payload)
    record = return_record(payload, w.actor.operator, done_at or iso(w.now))
    record["station"] = w.actor.station
    why = str(payload.get("reason") or payload.get("note") or "")
    w.transition(doc, Trigger.RETURN_RECEIVED, why=why, details={"lines": record["lines"], "note": record["note"]},
                 action_id=action_id)
    record["stock"] = stock.receive_return(w, doc, record["lines"])
    doc.setdefault("returns", []).append(record)
    details = {"returns": doc["returns"], "totals": totals([ln for r in doc["returns"] for ln in r["lines"]])}
    hold = next((h for h in doc.get("holds", []) if h.get("type") == REFUND_REVIEW), None)
    if hold is None:
        hold = w.raise_hold(doc, REFUND_REVIEW, REFUND_REVIEW_REASON, details, action_id=action_id)
        hold["action_id"] = action_id  # the bench shows it as local-<action_id> until this snapshot arrives
    else:  # a second parcel of the same return: the open hold shows both (the transition above is audited)
        hold["details"] = details


def refund_decided(w: Writer, doc: dict[str, Any], resolution: dict[str, Any], why: str, action_id: str) -> None:
    """After a ``refund_review`` hold is released: a refund (full or partial) closes the order as
    refunded; a refusal leaves it as it is (it completes after the return window)."""
    decision = resolution.get("decision")
    if decision not in ("refund_full", "refund_partial"):
        return
    refund: dict[str, Any] = {"decision": decision}
    if decision == "refund_partial":
        refund["amount_fen"] = yuan_to_fen(str(resolution.get("amount")))  # checked by the playbook already
    doc["refund"] = refund
    w.transition(doc, Trigger.REFUND_APPROVED, why=why, details={"refund": refund}, action_id=action_id)
