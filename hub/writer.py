"""One transaction's worth of order changes, written in bulk.

Every change to an order — a trigger, a hold, a bench step — goes through :class:`Writer`, which
applies the transition table (``core.states``), bumps the order's version, and collects the audit
lines, change-feed rows and webhook events. :meth:`Writer.flush` writes them all just before the
caller commits, taking the change counter last so its row lock is held as briefly as possible.

Every change also checks the order's size (:data:`MAX_ORDER_BYTES`): four bench steps with
1.9 MB notes once made a 7.6 MB order that every client then downloaded with each change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Connection

from core.address import phone_tail
from core.errors import UserError
from core.states import State, Transition, Trigger, apply_trigger
from core.timeutil import iso, parse_iso, utcnow
from hub import db, stock
from hub.config import HubSettings
from hub.facts import FACT_COLUMNS, facts_of


@dataclass(frozen=True)
class Actor:
    """Who does something: an operator on a station, or the hub itself (``system``)."""

    operator: str
    station: str
    role: str
    bench: str | None = None
    device_id: str = ""

    @classmethod
    def system(cls, what: str = "hub") -> Actor:
        return cls(operator="system", station=what, role="admin")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as served: without the hub's private ``_`` keys."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


_TRIGGER_NAMES = frozenset(t.value for t in Trigger)
#: The order left the warehouse: its shop (if a connector brought it) is told, in the same transaction.
_SHIP_TRIGGERS = frozenset({Trigger.SHIPPED_BY_STATION, Trigger.PICKED_UP_BY_CARRIER})
RECIPIENT_NAME_LEN = 64  # orders.recipient_name
#: The largest order document (its JSON, UTF-8) a change may leave behind. A real order is 1-5 KB
#: (100 lines is ~30 KB); 256 KB leaves room for long histories of holds and steps while keeping
#: a change-feed page of such orders something a bench can download.
MAX_ORDER_BYTES = 256 * 1024


class OrderTooLarge(UserError):
    """A change would make the order's document larger than :data:`MAX_ORDER_BYTES`."""

    code = "order_too_large"


def doc_bytes(doc: dict[str, Any]) -> int:
    """The size of the order as served (compact JSON, UTF-8)."""
    return len(json.dumps(public(doc), ensure_ascii=False, separators=(",", ":"), default=str).encode())


#: How much an order already over the limit may still grow in one change: a state, a version,
#: a bench step's stamp. Without it an order pushed over the limit by a long new address (set
#: after its change was checked) could take no further step, not even the address fixed.
ORDER_GROWTH_SLACK = 1024


def check_size(doc: dict[str, Any], loaded_bytes: Callable[[], int] = lambda: 0) -> None:
    """Raise :class:`OrderTooLarge` when the order is over :data:`MAX_ORDER_BYTES` and has grown
    by more than :data:`ORDER_GROWTH_SLACK` since it was loaded.

    Args:
        doc: the order as it is now.
        loaded_bytes: its size when loaded (0 for a new order); asked only when ``doc`` is over
            the limit, which is rare, so the common case costs one serialisation.
    """
    size = doc_bytes(doc)
    if size > MAX_ORDER_BYTES and size > loaded_bytes() + ORDER_GROWTH_SLACK:
        raise OrderTooLarge(
            f"Order {doc.get('order_id')} ({doc.get('channel')} {doc.get('channel_order_no')}) would be "
            f"{size // 1024} KB, over the limit of {MAX_ORDER_BYTES // 1024} KB: shorten the notes or details.",
            details={"order_id": doc.get("order_id"), "bytes": size, "limit": MAX_ORDER_BYTES})


class Writer:
    """Collects one transaction's order changes; see the module docstring."""

    def __init__(self, conn: Connection, settings: HubSettings, actor: Actor) -> None:
        self.conn = conn
        self.settings = settings
        self.actor = actor
        self.now = utcnow()
        self._new: dict[str, dict[str, Any]] = {}
        self._updated: dict[str, dict[str, Any]] = {}
        self._prev_bench: dict[str, str | None] = {}
        self._audit: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        #: Orders shipped in this transaction: their shop is told (``hub.channels.queues.enqueue_ships``).
        self._shipped: list[dict[str, Any]] = []
        #: Added to every audit line while set: a client action's own time (``done_at``) and, when
        #: the operator who did it is not the one whose login pushed it, ``synced_by``.
        self.context: dict[str, Any] = {}
        #: Undo steps of the stock writes made so far (hub/stock.py writes at once, not at flush).
        self._stock_undo: list[Callable[[], None]] = []
        #: (sku, warehouse) -> (on_hand, reserved) before this transaction changed it (hub/stock.py ``touch``).
        self.stock_before: dict[tuple[str, str], tuple[int, int] | None] = {}
        #: Tickets changed in this transaction (hub/tickets.py): each becomes a ``ticket`` change row.
        self._tickets: dict[str, dict[str, Any]] = {}
        #: Orders loaded for this transaction (:meth:`track`): the stock queue works on these objects.
        self._loaded: dict[str, dict[str, Any]] = {}
        #: Allocations worked out ahead for a push's new orders (hub/orders.py ``plan_allocations``):
        #: order ID -> its plan, taken by ``allocate`` (routing, stock and waybill in one pass per push).
        self.planned: dict[str, Any] = {}
        #: New orders whose size check waits for flush (:meth:`add_new`): order ID -> its fresh doc.
        self._fresh: dict[str, Callable[[], dict[str, Any]]] = {}
        self._iso_of: Any = None
        self._iso = ""

    def now_iso(self) -> str:
        """``iso(self.now)``, made once per value of ``now`` (every change stamps it, often several times)."""
        if self._iso_of is not self.now:
            self._iso_of, self._iso = self.now, iso(self.now) or ""
        return self._iso

    # -- recording -------------------------------------------------------------------------
    def checkpoint(self) -> tuple[Any, ...]:
        """Where the writer stands now; :meth:`restore` forgets everything recorded after it."""
        return (len(self._audit), len(self._events), dict(self._updated), dict(self._prev_bench), len(self._shipped),
                len(self._stock_undo))

    def restore(self, checkpoint: tuple[Any, ...]) -> None:
        n_audit, n_events, updated, prev, n_shipped, n_stock = checkpoint
        while len(self._stock_undo) > n_stock:  # newest first
            self._stock_undo.pop()()
        del self._audit[n_audit:]
        del self._events[n_events:]
        del self._shipped[n_shipped:]
        self._updated = updated
        self._prev_bench = prev

    def on_restore(self, undo: Callable[[], None]) -> None:
        """A stock write made on this connection: ``undo`` reverses it if :meth:`restore` goes back past it."""
        self._stock_undo.append(undo)

    def ticket_changed(self, doc: dict[str, Any]) -> None:
        """A ticket's new state (hub/tickets.py wrote its row): it goes out in the change feed at flush."""
        self._tickets[doc["ticket_id"]] = doc

    def add_new(self, doc: dict[str, Any], fresh: Callable[[], dict[str, Any]] | None = None) -> None:
        """A new order, checked for size as it is now (what intake adds to it afterwards is the hub's own).

        ``fresh``: rebuilds ``doc`` as it is now (intake: ``new_doc`` of the pushed order). The check
        then waits for :meth:`flush`, which serialises the order anyway: an order only grows
        (a state, a route, a waybill; a few bytes shorter at most, :data:`ORDER_GROWTH_SLACK` covers
        them), so one well under the limit then needs no second serialisation, and one near it
        is rebuilt and checked exactly as here. The refusal is the same, a little later in the
        same transaction.
        """
        if fresh is None:
            check_size(doc)
        else:
            self._fresh[doc["order_id"]] = fresh
        self._new[doc["order_id"]] = doc
        self._prev_bench[doc["order_id"]] = None

    def touch(self, doc: dict[str, Any]) -> None:
        oid = doc["order_id"]
        if oid in self._new:
            return
        self._prev_bench.setdefault(oid, doc.get("bench"))
        self._updated[oid] = doc

    def track(self, docs: dict[str, dict[str, Any]]) -> None:
        """Remember the benches orders had when loaded: a move away must reach the old bench too."""
        for oid, doc in docs.items():
            self._prev_bench.setdefault(oid, doc.get("bench"))
            self._loaded.setdefault(oid, doc)

    def in_flight(self) -> dict[str, dict[str, Any]]:
        """The orders this transaction holds in memory (loaded, changed or new), newest object per ID:
        a later step (the stock queue) must change these, not a second copy read from the table."""
        return {**self._loaded, **self._updated, **self._new}

    def transition(
        self,
        doc: dict[str, Any],
        trigger: Trigger,
        *,
        why: str = "",
        details: dict[str, Any] | None = None,
        action_id: str | None = None,
    ) -> Transition:
        """Apply ``trigger`` to ``doc`` through the transition table (raises on an illegal move).

        An order that closes with holds still open has them released first, each audited: a
        closed order has nothing left to resolve, and must not sit in the exceptions queue.
        """
        state = State(doc["state"]) if doc.get("state") else None
        t = apply_trigger(state, trigger, held=bool(doc.get("holds")))
        if t.to_state is State.CLOSED and doc.get("holds"):
            for hold in list(doc["holds"]):
                self.transition(doc, Trigger.HOLD_RELEASED, why=f"order closed ({trigger.value})",
                                details={"hold": hold, "resolution": {"auto": "order closed"}}, action_id=action_id)
                doc["holds"].remove(hold)
        self.touch(doc)
        doc["state"] = t.to_state.value
        self._bump(doc)
        self._record(doc, trigger.value, t.from_state.value if t.from_state else None, t.to_state.value,
                     why, details or {}, action_id)
        if trigger in _SHIP_TRIGGERS:
            self._shipped.append(doc)
            doc.setdefault("shipped_at", self.now_iso())  # the dashboard's on-time figure (hub/facts.py)
        stock.on_transition(self, doc, trigger, t.to_state, t.from_state)  # release on close, consume on ship
        return t

    def note(self, doc: dict[str, Any], what: str, *, why: str = "", details: dict[str, Any] | None = None,
             action_id: str | None = None) -> None:
        """Record a change that is not a state transition (bench steps)."""
        self.touch(doc)
        self._bump(doc)
        self._record(doc, what, doc["state"], doc["state"], why, details or {}, action_id)

    def raise_hold(self, doc: dict[str, Any], hold_type: str, reason: str, details: dict[str, Any] | None = None,
                   *, action_id: str | None = None) -> dict[str, Any]:
        hold = {
            "hold_id": uuid.uuid4().hex[:12],
            "type": hold_type,
            "reason": reason,
            "raised_at": self.now_iso(),
            "raised_by": self.actor.operator,
            "details": details or {},
        }
        self.transition(doc, Trigger.HOLD_RAISED, why=reason, details={"hold": hold}, action_id=action_id)
        doc["holds"].append(hold)
        self._check_size(doc)
        return hold

    def _bump(self, doc: dict[str, Any]) -> None:
        """Every change passes here: a new version, and the size check (raises before anything is written)."""
        doc["version"] = int(doc.get("version", 0)) + 1
        doc["updated_at"] = self.now_iso()
        self._check_size(doc)

    def _check_size(self, doc: dict[str, Any]) -> None:
        oid = doc["order_id"]
        if oid not in self._new:  # a new order was checked whole in add_new
            check_size(doc, lambda: self._stored_bytes(oid))

    def _stored_bytes(self, order_id: str) -> int:
        """The order's size as stored: what this transaction loaded (nothing is written before flush)."""
        row = self.conn.execute(select(db.orders.c.doc).where(db.orders.c.order_id == order_id)).first()
        return doc_bytes(row[0]) if row is not None else 0

    def _record(self, doc: dict[str, Any], what: str, from_state: str | None, to_state: str, why: str,
                details: dict[str, Any], action_id: str | None) -> None:
        self._audit.append({
            "order_id": doc["order_id"], "at": self.now, "operator": self.actor.operator,
            "station": self.actor.station, "what": what, "from_state": from_state, "to_state": to_state,
            "why": why or "", "action_id": action_id, "details": {**details, **self.context},
        })
        if self.settings.webhooks and what in _TRIGGER_NAMES:
            self._events.append({
                "event_id": uuid.uuid4().hex, "order_id": doc["order_id"], "channel": doc.get("channel"),
                "channel_order_no": doc.get("channel_order_no"), "trigger": what, "from_state": from_state,
                "to_state": to_state, "at": self.now_iso(), "operator": self.actor.operator,
                "station": self.actor.station, "version": doc["version"],
            })

    # -- writing ----------------------------------------------------------------------------
    def flush(self) -> int:
        """Write orders, audit, changes and webhook events; returns the last change seq (0 if none)."""
        conn = self.conn
        # Each order's snapshot serialised once, for orders.doc and changes.doc alike.
        texts = {oid: self._text(d) for oid, d in (*self._new.items(), *self._updated.items())}
        if self._new:
            db.insert_many(conn, db.orders, [self._row(d, texts[oid]) for oid, d in self._new.items()])
        if self._updated:
            stmt = (
                update(db.orders)
                .where(db.orders.c.order_id == bindparam("b_order_id"))
                .values({k: bindparam(k) for k in self._row_keys() if k != "order_id"})
            )
            conn.execute(stmt, [{**self._row(d, texts[oid]), "b_order_id": oid} for oid, d in self._updated.items()])
        if self._audit:
            db.insert_many(conn, db.audit, self._audit)
            from hub.notify.dispatch import on_flush  # WeCom robots and buyer SMS (docs/notifications.md)

            on_flush(conn, self.settings, self._audit, {**self._new, **self._updated}, self.now)
        if self._events and self.settings.webhooks:
            rows = []
            for ev in self._events:
                body = json.dumps(ev, ensure_ascii=False)
                for hook in self.settings.webhooks:
                    if "*" in hook.events or ev["trigger"] in hook.events:
                        rows.append({"event_id": ev["event_id"], "subscriber": hook.name, "body": body,
                                     "attempts": 0, "next_attempt_at": self.now, "created_at": self.now})
            if rows:
                db.insert_many(conn, db.webhook_queue, rows)
        stock.enqueue_changes(self)  # stock.changed, one per changed stock row (docs/api.md "Webhooks")
        if self._shipped:
            from hub.channels.queues import enqueue_ships

            enqueue_ships(conn, [{"order_id": d["order_id"],  # a split part ships on its shop's order
                                  "channel_order_no": (d.get("split") or {}).get("channel_order_no")
                                  or d["channel_order_no"],
                                  "carrier": d.get("carrier"), "waybill": d.get("waybill_no")}
                                 for d in self._shipped], self.now)
            if self.settings.tracking_enabled:
                from hub.carriers.tracking_store import enqueue_subscriptions

                enqueue_subscriptions(conn, [{"order_id": d["order_id"], "carrier": d.get("carrier"),
                                              "waybill": d.get("waybill_no")} for d in self._shipped],
                                      self.now, "kuaidi100")
        docs = list(self._new.values()) + list(self._updated.values())
        tickets = list(self._tickets.values())
        last = 0
        if docs or tickets:
            last = db.next_counter(conn, "changes", len(docs) + len(tickets))
            first = last - len(docs) - len(tickets) + 1
            rows = [{"seq": first + i, "order_id": d["order_id"], "bench": d.get("bench"),
                     "prev_bench": self._prev_bench.get(d["order_id"]), "at": self.now, "doc": texts[d["order_id"]],
                     "kind": "order"} for i, d in enumerate(docs)]
            # A ticket has no bench: a packer's feed never carries it (hub/feed.py ``_visible``).
            rows += [{"seq": first + len(docs) + i, "order_id": t["order_id"], "bench": None, "prev_bench": None,
                      "at": self.now, "doc": t, "kind": "ticket"} for i, t in enumerate(tickets)]
            db.insert_many(conn, db.changes, rows)
            if db.is_postgres(conn):
                conn.execute(text("SELECT pg_notify('packdesk_changes', :s)"), {"s": str(last)})
        return last

    @staticmethod
    def _row_keys() -> list[str]:
        return ["order_id", "channel", "channel_order_no", "channel_status", "channel_updated_at", "state",
                "version", "bench", "warehouse", "waybill_no", "phone_tail", "recipient_name", "held",
                "stock_wait", "created_at", "updated_at", "doc", *FACT_COLUMNS]

    def _text(self, d: dict[str, Any]) -> db.JsonText:
        """The order's snapshot as stored and served (compact JSON); a new order's deferred size check."""
        text = json.dumps(public(d), ensure_ascii=False, separators=(",", ":"))
        fresh = self._fresh.pop(d["order_id"], None)
        if fresh is not None and len(text.encode()) > MAX_ORDER_BYTES - ORDER_GROWTH_SLACK:
            check_size(fresh())
        return db.JsonText(text)

    def _row(self, d: dict[str, Any], text: db.JsonText) -> dict[str, Any]:
        return {
            "order_id": d["order_id"], "channel": d["channel"], "channel_order_no": d["channel_order_no"],
            "channel_status": d.get("_channel_status", "paid"),
            "channel_updated_at": parse_iso(d.get("_channel_updated_at")) or self.now,
            "state": d["state"], "version": d["version"], "bench": d.get("bench"),
            "warehouse": d.get("warehouse"), "waybill_no": d.get("waybill_no"),
            "phone_tail": phone_tail(d["recipient"]["phone"]),
            # A search column (prefix match): the full name stays in ``doc``; a longer one must
            # not overflow VARCHAR(64) on PostgreSQL.
            "recipient_name": d["recipient"]["name"][:RECIPIENT_NAME_LEN],
            "held": bool(d.get("holds")), "created_at": parse_iso(d["created_at"]),
            "stock_wait": any(h.get("type") in stock.SHORT_HOLDS for h in d.get("holds") or []),
            "updated_at": self.now, "doc": text, **facts_of(d),
        }
