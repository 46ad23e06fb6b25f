"""The action API: what a user does on the bench, applied locally and queued for the hub.

:meth:`Outbox.perform` checks the action against the state machine (the same rules and the same
``UserError`` classes the hub uses), updates the local order and appends the action to the outbox
with the device's next ``seq`` and a new ``action_id`` — all in one local transaction, so nothing
the user did is ever only in memory. The caller gets the updated order at once, marked pending;
the sync engine sends it later.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from core.action_sig import sign
from core.actions import Forbidden as Forbidden  # re-exported: the bench's refusal is the table's
from core.actions import check_bench_action, check_role
from core.errors import UserError, ValidationFailed
from core.events import Event
from core.roles import Role
from core.store import LocalOrder, LocalStore, OutboxAction
from core.store.outbox import stored_payload
from core.store.overlay import LOCAL_HOLD_PREFIX, PendingAction, apply_local
from core.timeutil import iso, parse_iso, utcnow

log = logging.getLogger("packdesk.outbox")


@dataclass(frozen=True)
class OrdersChanged:
    """What an ``orders_changed`` event says: which orders changed, and who started the change.

    A view that did an action passes itself as ``initiator`` and skips the echo that names it: it
    already has the updated order from the action's result, so re-reading would be a wasted round
    trip (STYLE.md §20). Changes from the hub (sync engine) and the print journal have no initiator.

    Attributes:
        ids: the order IDs whose local view changed.
        initiator: whoever asked for the change (any object; None when nobody on this screen did).
    """

    ids: list[str]
    initiator: object | None = None


class UnknownOrder(UserError):
    """The order is not in this station's store."""

    code = "unknown_order"


class Outbox:
    """Performs user actions against the local store.

    Args:
        store: the local store.

    Events:
        enqueued(int): an action was queued (its seq); the sync engine listens to push promptly.
        orders_changed(OrdersChanged): orders whose local view changed, and the initiator.
    """

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.enqueued: Event[int] = Event("outbox.enqueued")
        self.orders_changed: Event[OrdersChanged] = Event("outbox.orders_changed")

    def perform(
        self,
        order_id: str,
        type: str,
        payload: dict[str, Any] | None,
        operator: str,
        *,
        role: Role | str | None = None,
        initiator: object | None = None,
    ) -> LocalOrder:
        """Do an action now: local order updated and action queued, in one transaction.

        Args:
            order_id: the order.
            type: the action type (``step``, ``label_printed``, ``hold_raised``, … see docs/api.md).
            payload: the action's payload.
            operator: the logged-in operator's code.
            role: the operator's role; when given, actions above it are refused here
                (:func:`core.actions.check_role`, the hub's own rule).
            initiator: who asked (passed on in the ``orders_changed`` event, see :class:`OrdersChanged`).

        Returns:
            the order as it now looks on this station (``pending`` > 0).

        Raises:
            UnknownOrder, Forbidden, IllegalTransition, OrderHeld, ValidationFailed (a bad payload is
            ``core.actions.BadPayload``, the hub's ``bad_payload``): nothing was written.
        """
        return self.perform_many(order_id, [(type, payload)], operator, role=role, initiator=initiator)

    def perform_many(
        self,
        order_id: str,
        actions: Sequence[tuple[str, dict[str, Any] | None]],
        operator: str,
        *,
        role: Role | str | None = None,
        initiator: object | None = None,
    ) -> LocalOrder:
        """Do several actions on one order, all or nothing, in one write transaction.

        Finishing an order at the bench is ``step verified`` then ``step packed``: one transaction
        means one worker round trip, one ``orders_changed`` event, and never a "verified but not
        packed" order if the second is refused. Each action is checked against the order as the
        ones before it left it.

        Args:
            order_id: the order.
            actions: (type, payload) pairs, in the order they happen.
            operator, role, initiator: as for :meth:`perform`.

        Returns:
            the order after the last action.

        Raises:
            UnknownOrder, Forbidden, IllegalTransition, OrderHeld, ValidationFailed: nothing was written.
        """
        if not actions:
            raise ValidationFailed("No action to record.", details={"field": "actions"})
        seqs: list[int] = []
        with self.store.write() as conn:
            for type_, payload in actions:
                order, seq, _action_id = self.perform_in(conn, order_id, type_, payload, operator, role=role)
                seqs.append(seq)
        self.orders_changed.emit(OrdersChanged([order_id], initiator))
        for seq in seqs:
            self.enqueued.emit(seq)
        return order

    def perform_in(
        self,
        conn: Connection,
        order_id: str,
        type: str,
        payload: dict[str, Any] | None,
        operator: str,
        *,
        role: Role | str | None = None,
        done_at: str | None = None,
    ) -> tuple[LocalOrder, int, str]:
        """:meth:`perform` inside the caller's write transaction (no events); returns (order, seq, action_id)."""
        payload = dict(payload or {})
        if not operator:
            raise ValidationFailed("An action needs the operator who did it.", details={"field": "operator"})
        check_bench_action(type, payload)
        order = self.store.get_order(order_id, conn)
        if order is None:
            raise UnknownOrder(
                f"Order {order_id} is not on this station. Check the ID, or sync and try again.",
                details={"order_id": order_id},
            )
        if type == "hold_released" and str(payload.get("hold_id", "")).startswith(LOCAL_HOLD_PREFIX):
            raise ValidationFailed(
                "This hold was raised here and has not reached the hub yet; wait for sync, then release it.",
                details={"hold_id": payload.get("hold_id")},
            )
        if role is not None:
            check_role(role, type, payload, order.snapshot.get("holds", []))
        action_id = str(uuid.uuid4())
        done_at = done_at or iso(utcnow()) or ""
        # Refuses illegal and held moves with the hub's own error classes; raises before any write.
        apply_local(order.snapshot, PendingAction(action_id, order_id, type, payload, operator, done_at))
        seq = self.store.next_seq(conn)
        # Signed as the outbox will read it back (core.store.outbox.stored_payload), so the
        # bytes the hub checks are the bytes signed.
        key_id, sig = self._signature(conn, operator, {
            "action_id": action_id, "seq": seq, "order_id": order_id, "type": type,
            "payload": json.loads(stored_payload(payload)), "base_version": order.hub_version, "operator": operator,
            "done_at": done_at})
        self.store.queue_action(conn, OutboxAction(
            seq, action_id, order_id, type, payload, order.hub_version, operator, done_at, key_id=key_id, sig=sig))
        self.store.audit(
            conn,
            operator,
            type,
            order_id=order_id,
            action_id=action_id,
            details={"seq": seq, "payload": payload, "base_version": order.hub_version},
            at=done_at,
        )
        self.store.refresh_views(conn, [order_id])
        updated = self.store.get_order(order_id, conn)
        assert updated is not None
        log.debug("Queued %s on %s as seq %d (%s)", type, order_id, seq, action_id)
        return updated, seq, action_id

    def _signature(self, conn: Connection, operator: str, wire: dict[str, Any]) -> tuple[str | None, str | None]:
        """(key_id, sig) by the operator's action key, or (None, None) without a usable key.

        Signed now, while the operator who did it is the one logged in: the outbox may be pushed
        later under someone else's login (a shift change while offline), and the hub credits the
        action to this operator only with this proof (docs/security.md). The payload is signed as
        it will be read back from the outbox, so the bytes the hub checks are the bytes signed. No
        key (never logged in online on this PC) or an expired one: the action goes unsigned and
        the hub credits it to whoever pushes it.
        """
        key = self.store.action_key(conn, operator)
        if key is None:
            return None, None
        try:
            expires, done = parse_iso(key["expires_at"]), parse_iso(wire["done_at"])
        except (ValueError, OverflowError):
            expires = done = None
        if expires is None or done is None or done >= expires:
            log.info("The action key of %s has expired; %s on %s goes unsigned", operator, wire["type"],
                     wire["order_id"])
            return None, None
        return key["key_id"], sign(key["key"], wire)
