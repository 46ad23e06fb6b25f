"""Split and merge (合单): the rules both the hub and the desk read (docs/split-merge.md).

- **Split**: an order that is paid or allocated and not printed becomes two parts, a ship-now part
  (the lines the desk chose) and a back-order part (the rest). :func:`split_lines` turns the desk's
  choice (``{sku: qty}``) into the two parts' lines, or refuses it in words.
- **Merge**: orders of one buyer to one address, allocated and not printed, at one warehouse, go
  out as one parcel with one waybill. :func:`buyer_key` is what "one buyer to one address" means
  (recipient name, phone and address after normalisation); a masked buyer (an encrypted platform
  order: ``张*``, ``138****0000``) has no key and is refused, since we hold no platform merge key
  (docs/split-merge.md). :func:`merge_problem` says why two orders cannot share a parcel.

The hub's effects (children, stock, waybills) are in ``hub/split_merge.py``; this module decides.
No Qt, no hub.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import ValidationFailed
from core.i18n import _
from core.order_ids import looks_like_order_id
from core.states import State

__all__ = ["MAX_MERGE", "MERGE_STATES", "SPLIT_HOLDS", "SPLIT_STATES", "WHOLE_LINE_CHANNELS", "MergeRefused", "SplitRefused", "buyer_key",
           "link_badge", "link_text", "merge_ids", "merge_problem", "merged_with", "parcel_view", "split_lines", "split_link"]

#: Where an order may be split: paid (not yet routed) or allocated (routed, label not printed).
SPLIT_STATES: frozenset[State] = frozenset({State.PAID, State.ALLOCATED})
#: Where an order may join or leave a merged parcel: allocated, label not printed.
MERGE_STATES: frozenset[State] = frozenset({State.ALLOCATED})
#: Holds a split may carry through (the parts' stock is decided again); any other hold is resolved first.
SPLIT_HOLDS: frozenset[str] = frozenset({"stock_short", "gift_stock"})
#: The most orders one parcel takes.
MAX_MERGE = 20


class SplitRefused(ValidationFailed):
    """A split that cannot be done as asked (``details["field"]`` names what is wrong)."""

    code = "split_refused"


class MergeRefused(ValidationFailed):
    """A merge that cannot be done (``details["order_id"]`` names the order that does not fit)."""

    code = "merge_refused"


def units_by_sku(doc: Mapping[str, Any]) -> dict[str, int]:
    """The order's units per SKU (a SKU on several lines counted once, summed)."""
    have: dict[str, int] = {}
    for ln in doc.get("lines") or []:
        have[str(ln.get("sku"))] = have.get(str(ln.get("sku")), 0) + int(ln.get("qty") or 0)
    return have


#: Channels whose partial shipment names whole order lines, never units of a line (小红书's 拆包发货
#: ``skuIdList``; docs/split-merge.md): a part with only some units of a line cannot be written back.
WHOLE_LINE_CHANNELS = frozenset({"xiaohongshu"})


def whole_line_warning(doc: Mapping[str, Any], ship_now: Mapping[str, int]) -> str:
    """Words for the split dialog when the shop can take this split's shipments only by hand ("" if fine)."""
    if doc.get("channel") not in WHOLE_LINE_CHANNELS:
        return ""
    have = units_by_sku(doc)
    cut = sorted(sku for sku, q in ship_now.items() if 0 < q < have.get(sku, 0))
    if not cut:
        return ""
    return _("Xiaohongshu ships whole order lines only: with some units of {skus} in each part, the parts' shipments "
             "cannot be sent to the shop and wait as exceptions; record them in the Xiaohongshu back office. Ship "
             "all or none of a line now to avoid it.").format(skus=", ".join(cut))


def split_lines(doc: Mapping[str, Any], ship_now: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The order's lines cut into (ship-now lines, back-order lines).

    Args:
        doc: the order (its ``lines``).
        ship_now: ``{sku: qty}``, the units to ship now (a SKU on several lines is taken line by
            line in order).

    Raises:
        SplitRefused: not an object of whole positive numbers, a SKU not on the order, more than
            the order has, nothing to ship now, or nothing left for the back-order.
    """
    if not isinstance(ship_now, dict) or not ship_now:
        raise SplitRefused(_("Choose at least one item and quantity to ship now."), details={"field": "lines"})
    have = units_by_sku(doc)
    want: dict[str, int] = {}
    for sku, qty in ship_now.items():
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise SplitRefused(_("The quantity of {sku} must be a whole number, 0 or more.").format(sku=str(sku)[:40]),
                               details={"field": "lines", "sku": str(sku)[:40]})
        if sku not in have:
            raise SplitRefused(_("{sku} is not on order {order_id}.").format(sku=str(sku)[:40],
                                                                             order_id=doc.get("order_id")),
                               details={"field": "lines", "sku": str(sku)[:40]})
        if qty > have[sku]:
            raise SplitRefused(_("The order has {have} of {sku}; {qty} cannot ship now.").format(
                have=have[sku], sku=sku, qty=qty), details={"field": "lines", "sku": sku})
        if qty:
            want[sku] = qty
    if not want:
        raise SplitRefused(_("Choose at least one item and quantity to ship now."), details={"field": "lines"})
    if want == have:
        raise SplitRefused(_("Everything would ship now: nothing is left for a back-order, so there is nothing to "
                             "split."), details={"field": "lines"})
    now: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    left = dict(want)
    for ln in doc.get("lines") or []:
        take = min(int(ln.get("qty") or 0), left.get(str(ln.get("sku")), 0))
        if take:
            now.append({**ln, "qty": take})
            left[str(ln["sku"])] -= take
        rest = int(ln.get("qty") or 0) - take
        if rest:
            later.append({**ln, "qty": rest})
    return now, later


def _norm(text: Any) -> str:
    """Full-width to half-width, no spaces or punctuation that people type differently, lower case."""
    t = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s,，.。·・\-—_#号]+", "", t)


def buyer_key(recipient: Mapping[str, Any]) -> str | None:
    """Who and where a parcel goes, normalised; ``None`` for a masked (encrypted platform) buyer.

    Two orders may share a parcel only when their keys are equal. The key is the recipient's
    name, phone (digits only) and province/city/district/address after :func:`_norm`.
    """
    parts = [str(recipient.get(k) or "") for k in ("name", "phone", "province", "city", "district", "address")]
    if any("*" in p for p in parts[:2]) or "*" in parts[5]:
        return None
    phone = re.sub(r"\D", "", unicodedata.normalize("NFKC", parts[1]))
    if not _norm(parts[0]) or not phone or not _norm(parts[5]):
        return None
    return "|".join([_norm(parts[0]), phone, *(_norm(p) for p in parts[2:])])


def merge_ids(text: Any) -> list[str]:
    """The order IDs of a merge's ``with`` (comma- or space-separated), upper-cased, in order, once each.

    Raises:
        MergeRefused: empty, not order IDs, or more than :data:`MAX_MERGE` orders.
    """
    ids = list(dict.fromkeys(p.strip().upper() for p in re.split(r"[\s,，]+", str(text or "")) if p.strip()))
    if not ids:
        raise MergeRefused(_("Name at least one other order to merge with."), details={"field": "with"})
    bad = [i for i in ids if not looks_like_order_id(i)]
    if bad:
        raise MergeRefused(_("'{id}' is not an order ID.").format(id=bad[0][:40]), details={"field": "with"})
    if len(ids) + 1 > MAX_MERGE:
        raise MergeRefused(_("One parcel takes at most {n} orders.").format(n=MAX_MERGE), details={"field": "with"})
    return ids


def merge_problem(master: Mapping[str, Any], other: Mapping[str, Any]) -> str | None:
    """Why ``other`` cannot join ``master``'s parcel, in words; ``None`` when it can."""
    for doc in (master, other):
        oid = doc.get("order_id")
        if doc.get("state") not in {s.value for s in MERGE_STATES}:
            return _("Order {order_id} is not allocated and unprinted (a printed label must be voided first).").format(
                order_id=oid)
        if doc.get("holds"):
            return _("Order {order_id} has an open exception; resolve it first.").format(order_id=oid)
        if (doc.get("split") or {}).get("into"):
            return _("Order {order_id} was split; merge its parts instead.").format(order_id=oid)
    if other.get("order_id") == master.get("order_id"):
        return _("An order cannot be merged with itself.")
    theirs = (other.get("merge") or {}).get("parcel")
    if theirs and theirs != master.get("order_id"):
        return _("Order {order_id} is already in the parcel of {parcel}; unmerge it first.").format(
            order_id=other.get("order_id"), parcel=theirs)
    if other.get("warehouse") != master.get("warehouse"):
        return _("Order {order_id} ships from {other} and {master_id} from {mine}: one parcel leaves one "
                 "warehouse.").format(order_id=other.get("order_id"), other=other.get("warehouse"),
                                      master_id=master.get("order_id"), mine=master.get("warehouse"))
    mine_key, their_key = buyer_key(master.get("recipient") or {}), buyer_key(other.get("recipient") or {})
    if mine_key is None or their_key is None:
        return _("The buyer's name, phone or address is masked (an encrypted platform order): PackDesk holds no "
                 "platform merge key, so it cannot tell whether it is the same buyer.")
    if mine_key != their_key:
        return _("Order {order_id} goes to another recipient or address; one parcel goes to one buyer at one "
                 "address.").format(order_id=other.get("order_id"))
    return None


def merged_with(doc: Mapping[str, Any]) -> list[str]:
    """The other orders in this order's parcel ([] when not merged)."""
    merge = doc.get("merge")
    if not isinstance(merge, dict):
        return []
    return [str(o) for o in merge.get("orders") or [] if o != doc.get("order_id")]


def split_link(doc: Mapping[str, Any]) -> str:
    """The order's split connection as a short text ("" none): parent → parts, part ← parent."""
    split = doc.get("split")
    if not isinstance(split, dict):
        return ""
    if split.get("into"):
        return _("Split into {ids}").format(ids=", ".join(str(i) for i in split["into"]))
    if split.get("from"):
        part = _("ship-now part") if split.get("part") == "ship_now" else _("back-order part")
        return _("{part} of {parent}").format(part=part, parent=split["from"])
    return ""


def link_text(doc: Mapping[str, Any]) -> str:
    """Split and merge connections of an order, for the queue and the detail ("" none)."""
    out = [t for t in (split_link(doc),) if t]
    others = merged_with(doc)
    if others:
        out.append(_("Merged with {ids}").format(ids=", ".join(others)))
    return "; ".join(out)


def link_badge(doc: Mapping[str, Any]) -> str:
    """The short mark a queue row shows: "◐ 拆单" on a split order or part, "● 合单" on a merged one."""
    marks = []
    if isinstance(doc.get("split"), dict) and (doc["split"].get("into") or doc["split"].get("from")):
        marks.append("◐ " + _("split"))
    if merged_with(doc):
        marks.append("● " + _("merged"))
    return " ".join(marks)


def parcel_view(doc: Mapping[str, Any], members: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The order as its merged parcel prints (label, pick list): its own lines, then each other
    order's lines named with the order they belong to; ``merged_orders`` lists the parcel's orders."""
    others = [m for m in members if m.get("order_id") != doc.get("order_id")]
    view = dict(doc)
    if not others:
        return view
    view["lines"] = [*(doc.get("lines") or []),
                     *({**ln, "name": f"{ln.get('name')} ({m.get('order_id')})", "order_id": m.get("order_id")}
                       for m in others for ln in m.get("lines") or [])]
    view["merged_orders"] = [doc.get("order_id"), *(m.get("order_id") for m in others)]
    return view
