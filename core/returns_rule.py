"""The rules of a return (退货入库) that the bench and the hub share (docs/returns.md).

Which orders may take a return, how many units of each SKU may still come back, what a
``return_received`` records on the order, and the hold that puts the refund in the desk's queue.
The bench's flow (:mod:`core.returns`), its optimistic copy (:mod:`core.store.overlay`) and the hub
(:mod:`hub.returns`) all read them here, so the bench never accepts a return the hub refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.actions import RETURN_QTYS, BadPayload, check_return_lines
from core.errors import IllegalTransition
from core.i18n import _, language
from core.states import State, state_label

#: The hold a return raises: the desk decides the refund (playbook ``refund_review``).
REFUND_REVIEW = "refund_review"
REFUND_REVIEW_REASON = "退货已入库，请审核退款 / return received: decide the refund"

#: Where a return may be received: the parcel has left (a refused parcel comes back while the
#: order is still ``shipped``; a buyer's return after ``delivered``). The transition table says the same.
RETURNABLE_STATES: frozenset[State] = frozenset({State.SHIPPED, State.DELIVERED})


def sent(doc: Mapping[str, Any]) -> dict[str, int]:
    """Units per SKU the order sent (its lines, gifts included), in line order."""
    out: dict[str, int] = {}
    for line in doc.get("lines") or []:
        sku, qty = line.get("sku"), line.get("qty")
        if isinstance(sku, str) and sku and isinstance(qty, int) and qty > 0:
            out[sku] = out.get(sku, 0) + qty
    return out


def received(doc: Mapping[str, Any]) -> dict[str, int]:
    """Units per SKU already back (good + damaged) by the returns recorded on the order."""
    out: dict[str, int] = {}
    for ret in doc.get("returns") or []:
        for line in ret.get("lines") or []:
            sku = line.get("sku")
            if isinstance(sku, str):
                out[sku] = out.get(sku, 0) + int(line.get("qty_good") or 0) + int(line.get("qty_damaged") or 0)
    return out


def still_out(doc: Mapping[str, Any]) -> dict[str, int]:
    """Units per SKU that may still come back: sent minus already received (only SKUs with some left)."""
    back = received(doc)
    return {sku: n - back.get(sku, 0) for sku, n in sent(doc).items() if n - back.get(sku, 0) > 0}


def check_returnable(doc: Mapping[str, Any]) -> None:
    """Refuse a return on an order whose parcel has not left, or that is closed.

    Raises:
        IllegalTransition: with the order's state in words.
    """
    state = str(doc.get("state"))
    if state not in {s.value for s in RETURNABLE_STATES}:
        raise IllegalTransition(
            _("A return can be received for a shipped or delivered order; {order} is {state}.").format(
                order=doc.get("order_id"), state=state_label(state, language())),
            details={"state": state, "trigger": "return_received"})


def check_return(doc: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """A ``return_received`` payload against the order: every SKU is the order's, and no SKU counts
    more units (good + damaged + missing) than may still come back.

    Raises:
        BadPayload: the lines' shape, a SKU not on the order, or too many units (``details["field"]``).
        IllegalTransition: the order cannot take a return (:func:`check_returnable`).
    """
    lines = payload.get("lines")
    check_return_lines(lines)
    check_returnable(doc)
    left = still_out(doc)
    ordered = sent(doc)
    assert isinstance(lines, list)
    for i, line in enumerate(lines):
        sku = line["sku"]
        if sku not in ordered:
            raise BadPayload(_("SKU {sku} is not on order {order}.").format(sku=sku, order=doc.get("order_id")),
                             details={"field": f"lines[{i}].sku"})
        counted = sum(int(line.get(k) or 0) for k in RETURN_QTYS)
        if counted > left.get(sku, 0):
            raise BadPayload(
                _("{sku}: {n} unit(s) counted, but only {left} of it can still come back on order {order}.").format(
                    sku=sku, n=counted, left=left.get(sku, 0), order=doc.get("order_id")),
                details={"field": f"lines[{i}]"})


def return_record(payload: Mapping[str, Any], operator: str, at: str | None) -> dict[str, Any]:
    """What one return adds to the order's ``returns`` list (bench overlay and hub alike)."""
    lines = [{"sku": str(ln["sku"]), **{k: int(ln.get(k) or 0) for k in RETURN_QTYS}}
             for ln in payload.get("lines") or [] if isinstance(ln, dict)]
    return {"lines": lines, "note": str(payload.get("note") or "")[:500], "by": operator, "at": at}


def totals(lines: list[dict[str, Any]]) -> dict[str, int]:
    """Units per grade over lines (``qty_good`` …): for banners and the hold's summary."""
    return {k: sum(int(ln.get(k) or 0) for ln in lines) for k in RETURN_QTYS}


def returned_text(doc: Mapping[str, Any]) -> str:
    """What came back, for the desk deciding the refund: one line per SKU per return, then the note."""
    names = {str(ln.get("sku")): str(ln.get("name") or "") for ln in doc.get("lines") or []}
    out: list[str] = []
    for ret in doc.get("returns") or []:
        for ln in ret.get("lines") or []:
            sku = str(ln.get("sku"))
            out.append(f"✓{int(ln.get('qty_good') or 0)} ✖{int(ln.get('qty_damaged') or 0)} "
                       f"○{int(ln.get('qty_missing') or 0)}  {names.get(sku) or sku}")
        if ret.get("note"):
            out.append(_("Note: {note}").format(note=ret["note"]))
    return "\n".join(out)
