"""What a queue row is built from, read off an order's local view once, when the view is written.

Why (issue 18): a desk PC's load of 100,000 orders parsed 100,000 JSON views (~1 KB each) and
walked them in Python: ~2 s on the database worker, holding the GIL the GUI thread needs. The
store now keeps these *facts* of each view in a compact table (``queue_rows``, core/store/orders.py)
written in the same transaction as the view, so a load reads plain columns and computes only what
depends on the clock (overdue, at risk, missed cut-off, done today: :func:`core.flags.flags_at`) and
on the UI language (hold and split/merge words: from :data:`extra`, kept only for the few orders
that have holds or a split or merge).

:func:`facts_of` is the one rule; :func:`core.queues.row_from_snapshot` builds a row through it
too, so a row read from the cache and a row built from the view are the same (a property test
checks it). Change what it gives → bump :data:`FACTS_RULE`: a store opened by that version sees
the old number in its meta table and rebuilds the cache from the views. No Qt, no store here.
"""

from __future__ import annotations

import json
from typing import Any

from core.flags import NO_SHIP_BY, has_gift, is_done, is_vip, sort_key
from core.phones import phone_digits
from core.states import State
from core.waves import cutoff_of

__all__ = ["FACTS_RULE", "FACT_COLUMNS", "SEP", "facts_of", "search_text", "ship_by_of"]

#: The version of :func:`facts_of`'s rule the cache was built with (meta ``queue_rows_rule``).
FACTS_RULE = 1

SEP = "\x1f"  # between search fields, so a search never matches across two fields

#: The facts, in this order (the ``queue_rows`` table's columns, less ``pending`` and ``conflict``,
#: which the store keeps from its own columns). ``ship_key``, ``created_key``, ``order_id``: the
#: queue sort key's fields after the severity (:func:`core.flags.sort_key`), the table's primary
#: key, so a load reads the rows in queue order within each severity (the ship-by time is the
#: ship key, unless that is the "none" key); ``updated_at`` only for a done order and
#: ``handover_due`` only for a printed one (nothing else reads them: fewer values to read back);
#: ``extra``: JSON of the holds / split / merge, or None when the order has none.
FACT_COLUMNS: tuple[str, ...] = (
    "ship_key", "created_key", "order_id", "state", "bench", "recipient", "phone", "items",
    "updated_at", "handover_due", "carrier", "cutoff", "search", "vip", "gift", "held", "extra",
)

#: The parts of a view only a few orders have, kept whole in ``extra`` (the row's words for them
#: depend on the UI language, so they are made at load, not stored).
_EXTRA_KEYS = ("holds", "split", "merge")


def search_text(snap: dict[str, Any]) -> str:
    """What a search looks in (any part): order ID, channel order no, recipient name, waybill, and
    each line's SKU.

    Lower-cased and joined with :data:`SEP`. The phone is not in it: a phone is found by its
    tail only (:attr:`core.queues.QueueRow.phone`, :func:`core.phones.tail_matches`), as the hub's
    search does — "4321" finds "139-0000-4321", "1422" does not find 18592142232.
    """
    rec = snap.get("recipient") or {}
    return SEP.join((
        str(snap.get("order_id") or ""), str(snap.get("channel_order_no") or ""),
        str(rec.get("name") or ""), str(snap.get("waybill_no") or ""),
        *(str(line.get("sku") or "") for line in snap.get("lines") or ()),
    )).lower()


def _text(value: Any) -> str | None:
    """A time field as the rows parse it later (kept as given: a bad one fails the load as before)."""
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _items(view: dict[str, Any]) -> int:
    """How many units the order's lines hold; a quantity that is not a number counts 0.

    Tolerant because this runs when the view is written (a sync page, an action): a bad value
    must not make the store refuse the write — before the cache it only failed the queue load."""
    total = 0
    for line in view.get("lines") or []:
        try:
            total += int(line.get("qty") or 0)
        except (TypeError, ValueError):
            continue
    return total


def ship_by_of(ship_key: str) -> str | None:
    """The ship-by time back from the ship key (:func:`core.flags.sort_key`: "9999" is "none")."""
    return None if ship_key == NO_SHIP_BY else ship_key


def facts_of(view: dict[str, Any]) -> tuple[Any, ...]:
    """The facts of one local view, in :data:`FACT_COLUMNS` order (what ``queue_rows`` stores)."""
    rec = view.get("recipient") or {}
    holds = view.get("holds") or []
    extra = {k: view[k] for k in _EXTRA_KEYS if view.get(k)}
    _sev, ship_key, created_key, order_id = sort_key([], view)
    state = str(view.get("state") or "")
    return (
        ship_key, created_key, order_id,
        state, str(view.get("bench") or ""), str(rec.get("name") or ""),
        phone_digits(str(rec.get("phone") or "")),
        _items(view),
        _text(view.get("updated_at")) if is_done(state) else None,
        _text(view.get("handover_due")) if state == State.LABEL_PRINTED else None,
        str(view.get("carrier") or ""), cutoff_of(view), search_text(view),
        is_vip(view), has_gift(view), bool(holds),
        json.dumps(extra, ensure_ascii=False) if extra else None,
    )
