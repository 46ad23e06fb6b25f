"""Carrier tracking: subscribe shipped waybills, merge pushed histories, move orders on carrier facts.

A push is stored as it came (``tracking_inbox``, :mod:`hub.carriers.tracking_store`) before the
provider gets its answer; the ``tracking`` thread applies stored pushes in batches of up to
:data:`APPLY_BATCH` in one transaction: new events go into ``tracking_events`` (keyed by time and
words, so a replay adds nothing), each touched order's ``tracking`` list is rebuilt from all its
events, newest first, and its ``tracking_status`` is the newest event's — except that a final
status (signed, returned) is never undone by an older or lesser one, whatever order pushes come in.

What a status change does to the order (through :class:`hub.writer.Writer`, the transition table
deciding what is legal):

* any carrier event while ``label_printed`` → ``picked_up_by_carrier`` (the carrier has it; a held
  order is only recorded: a hold blocks forward moves);
* signed → ``delivered`` with ``signed_at`` = the signing event's time (an open ``delivery_failed``
  hold is released first: the carrier's later fact settles it);
* refused / problem / returning → ``delivery_failed`` plus a ``delivery_failed`` hold (its
  playbook in core/playbooks.py), once while such a hold is open;
* returned (退签: back at the sender) → ``returned_to_sender`` (the order closes);
* anything else, or an order past the point the move applies to: the history is recorded only.

The same thread sends queued subscriptions (快递100 /poll) with back-off.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.engine import Connection, Row

from core.errors import UserError
from core.states import State, Trigger
from core.timeutil import utcnow
from hub import ticket_rules, tickets
from hub.background import BackgroundWorker
from hub.carriers import kuaidi100
from hub.carriers import tracking_store as store
from hub.carriers.base import CarrierError, ErrorKind
from hub.config import HubSettings
from hub.orders import load_docs
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.tracking")

Tx = Callable[..., Any]
PROVIDER = "kuaidi100"
#: Pushes applied per transaction.
APPLY_BATCH = 500
#: The order document keeps this many newest events (the table keeps them all).
DOC_EVENTS = 50
#: While pushes stream in, the next small batch waits this long: pushes a moment apart are applied
#: together (one order write for several of its pushes), not one transaction each.
APPLY_PAUSE_S = 0.2
#: A claimed row is taken again after this if its process died.
ROW_LEASE_S = 60.0
#: Hold raised when the carrier reports a failed delivery (core/holds.py, core/playbooks.py).
FAIL_HOLD = "delivery_failed"

#: How far along a status is, for events at the same instant (the later step wins the tie).
RANK: dict[str, int] = {"collected": 1, "in_transit": 2, "delivering": 3, "problem": 4, "refused": 5,
                        "returning": 5, "signed": 7, "returned": 7}
#: Statuses no later push takes back.
FINAL: frozenset[str] = frozenset({"signed", "returned"})
FAILED: frozenset[str] = frozenset({"refused", "problem", "returning"})
#: Words for the hold's reason: (中文, English); the reason is one "中文 / English" pair, as every
#: hub reason, so a screen shows the operator's half (core.display_names.one_language).
STATUS_WORDS: dict[str, tuple[str, str]] = {"refused": ("收件人拒签", "refused by the recipient"),
                                            "problem": ("疑难件", "a problem parcel"),
                                            "returning": ("退回中", "on its way back to the sender")}
#: Why the hub moved the order (audit), as a pair.
WHY_PUSH = "快递100 推送 / kuaidi100 tracking push"


def merged_status(events: list[dict[str, Any]], old: str | None) -> str | None:
    """The order's tracking status from its whole history (newest first) and what it had."""
    if not events:
        return old
    newest = events[0]["at"]
    status = str(max((e for e in events if e["at"] == newest), key=lambda e: RANK.get(e["status"], 0))["status"])
    if old in FINAL and status not in FINAL:
        return old
    return status


def _signed_at(events: list[dict[str, Any]]) -> str | None:
    signed = [e["at"] for e in events if e["status"] == "signed"]
    return min(signed) if signed else None


def apply_history(w: Writer, doc: dict[str, Any], events: list[dict[str, Any]]) -> bool:
    """Put an order's merged history on it and make the moves it calls for; False when nothing changed."""
    old = doc.get("tracking_status")
    listed = [{k: e[k] for k in ("at", "place", "text", "status")} for e in events[:DOC_EVENTS]]
    status = merged_status(events, old)
    if listed == doc.get("tracking") and status == old:
        return False
    doc["tracking"] = listed
    if status:
        doc["tracking_status"] = status
    why = WHY_PUSH
    moved = False
    state = doc["state"]
    if state == State.LABEL_PRINTED.value and events and not doc.get("holds"):
        w.transition(doc, Trigger.PICKED_UP_BY_CARRIER, why=why, details={"tracking_status": status})
        state, moved = doc["state"], True
    if status != old and state == State.SHIPPED.value:
        if status == "signed":
            doc["signed_at"] = _signed_at(events) or events[0]["at"]
            for hold in [h for h in doc.get("holds") or [] if h.get("type") == FAIL_HOLD]:
                w.transition(doc, Trigger.HOLD_RELEASED, why="快递回报已签收 / the carrier reports it signed",
                             details={"hold": hold, "resolution": {"auto": "signed"}})
                doc["holds"].remove(hold)
            w.transition(doc, Trigger.DELIVERED, why=why, details={"signed_at": doc["signed_at"]})
            moved = True
        elif status in FAILED and not any(h.get("type") == FAIL_HOLD for h in doc.get("holds") or []):
            newest = events[0]
            zh, en = STATUS_WORDS[status]
            reason = f"快递回报派送失败：{zh} / The carrier reports a failed delivery: {en}"
            details = {"tracking_status": status, "at": newest["at"], "place": newest["place"],
                       "text": newest["text"], "provider": PROVIDER}
            w.transition(doc, Trigger.DELIVERY_FAILED, why=why, details=details)
            w.raise_hold(doc, FAIL_HOLD, reason, details)
            # … and a ticket for the desk, who calls the customer (docs/tickets.md "Opened by the hub")
            tickets.auto_open(w, ticket_rules.for_rules_file(w.settings.rules_path), w.settings.timezone, doc,
                              "tracking", "tracking", reason, details)
            moved = True
        elif status == "returned":
            w.transition(doc, Trigger.RETURNED_TO_SENDER, why=why, details={"tracking_status": status})
            moved = True
    if status == "signed" and not doc.get("signed_at"):
        doc["signed_at"] = _signed_at(events) or events[0]["at"]
    if not moved:
        w.note(doc, "tracking_updated", details={"tracking_status": status, "events": len(events)})
    return True


def apply_rows(conn: Connection, settings: HubSettings, rows: list[Row[Any]]) -> int:
    """Apply stored pushes in the caller's transaction; returns how many orders changed."""
    now = utcnow()
    outcomes: dict[int, str] = {}
    pushes: list[tuple[int, kuaidi100.TrackingPush]] = []
    for r in rows:
        try:
            pushes.append((r.id, kuaidi100.parse_push(r.body)))
        except kuaidi100.BadPush as exc:  # verified at the door, so only a changed parser lands here
            outcomes[r.id] = "unreadable"
            log.warning("tracking push %d unreadable: %s", r.id, exc)
    by_waybill = store.orders_by_waybill(conn, [p.number for _, p in pushes])
    touched: set[str] = set()
    found = []
    for rid, push in pushes:
        oid = by_waybill.get(push.number)
        if oid is None:
            outcomes[rid] = "unknown_waybill"
            log.info("tracking push for waybill %s (%s): no order carries it; acknowledged and kept",
                     push.number, push.company)
            continue
        found.append((oid, push.number, PROVIDER, push.events))
        touched.add(oid)
        outcomes[rid] = "applied"
    store.add_events(conn, found, now)
    changed = 0
    if touched:
        docs = load_docs(conn, sorted(touched), for_update=True)
        history = store.events_of(conn, list(docs))
        w = Writer(conn, settings, Actor.system(f"carrier:{PROVIDER}"))
        w.track(docs)
        for oid, doc in docs.items():
            mark = w.checkpoint()
            try:
                changed += apply_history(w, doc, history[oid])
            except UserError as exc:  # the order refuses the change (too large, …): history is kept
                w.restore(mark)
                log.warning("tracking for %s not put on the order: %s", oid, exc.message)
        w.flush()
    store.inbox_done(conn, outcomes, now)
    return changed


class InboxBatcher:
    """Stores verified pushes for the push endpoint, many per transaction (group commit).

    A push is acknowledged only once its row is committed, but the requests that arrive while one
    commit runs share the next one: at a peak the database sees a few transactions a second instead
    of one per push (each a write lock and, on SQLite, a sync to disk). The thread starts with the
    first push and stops with :meth:`stop`.
    """

    #: Rows written per transaction at most.
    MAX_BATCH = 500

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._queue: queue.Queue[tuple[dict[str, Any], Future[None]] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, provider: str, waybill: str, body: str) -> Future[None]:
        """Queue one push; the future completes when it is committed (or fails with the error)."""
        fut: Future[None] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="tracking-inbox", daemon=True)
                self._thread.start()
        self._queue.put(({"provider": provider, "waybill": waybill, "body": body}, fut))
        return fut

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=15)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            rows = [r for r, _ in batch]
            try:
                self.tx(lambda c, rows=rows: store.store_pushes(c, rows, utcnow()))
            except Exception as exc:  # each waiting request answers 5xx; the provider sends it again
                log.exception("storing %d tracking pushes failed", len(batch))
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for _, fut in batch:
                fut.set_result(None)


class TrackingEngine(BackgroundWorker):
    """The ``tracking`` thread of a hub process: applies stored pushes, sends subscriptions.

    Args:
        tx: runs a function in one write transaction (``Hub.tx``).
        read: runs a function in a read-only transaction (idle checks take no write lock).
        notify: wakes long-polls and webhooks after orders changed.
    """

    def __init__(self, tx: Tx, settings: HubSettings, *, notify: Callable[[], None] = lambda: None,
                 read: Tx | None = None, poll_s: float = 1.0, timeout_s: float = 10.0) -> None:
        super().__init__("tracking", poll_s=poll_s, log=log, what="tracking")
        self.tx = tx
        self.read = read or tx
        self.settings = settings
        self.notify = notify
        self.timeout_s = timeout_s
        self.session = requests.Session()
        #: the push endpoint's door to the inbox
        self.inbox = InboxBatcher(tx)

    def stop(self) -> None:
        super().stop()
        self.inbox.stop()

    def round(self) -> bool:
        """Stored pushes applied (a push was stored, or an order shipped), then subscriptions sent."""
        busy = False
        if self.read(lambda c: store.inbox_due(c, utcnow())):
            taken = self.apply_inbox()
            busy = taken > 0
            if 0 < taken < APPLY_BATCH:
                self._stop.wait(APPLY_PAUSE_S)
        if self.settings.tracking_enabled and self.read(lambda c: store.subscriptions_due(c, utcnow())):
            busy = self.send_subscriptions() > 0 or busy
        return busy

    def apply_inbox(self) -> int:
        """Apply one batch of stored pushes; returns how many rows were taken."""
        rows: list[Row[Any]] = self.tx(lambda c: store.claim_inbox(c, utcnow(), ROW_LEASE_S, APPLY_BATCH))
        if not rows:
            return 0
        try:
            changed = self.tx(lambda c: apply_rows(c, self.settings, rows))
        except Exception as exc:
            log.exception("applying %d tracking pushes failed; they are retried", len(rows))
            words = f"{type(exc).__name__}: {exc}"[:500]
            self.tx(lambda c: store.inbox_retry(c, [r.id for r in rows], words, utcnow() + timedelta(seconds=30)))
            return len(rows)
        if changed:
            self.notify()
        return len(rows)

    def send_subscriptions(self) -> int:
        """Send due subscriptions; returns how many were taken."""
        from hub.channels.engine import retry_delay

        rows: list[Row[Any]] = self.tx(lambda c: store.claim_subscriptions(c, utcnow(), ROW_LEASE_S))
        docs = self.read(lambda c: load_docs(c, sorted({r.order_id for r in rows})))
        s = self.settings
        for r in rows:
            if self._stop.is_set():
                rest = [x.id for x in rows if x.id >= r.id]

                def hand_back(c: Connection, ids: list[int] = rest) -> None:
                    for i in ids:
                        store.subscription_retry(c, i, "hub stopped before sending", utcnow())
                self.tx(hand_back)
                break
            company = kuaidi100.COMPANY_CODES.get(r.carrier.strip().upper())
            if company is None:
                words = f"快递100 has no company code for carrier {r.carrier!r} (docs/tracking.md)"
                self.tx(lambda c, rid=r.id, w=words: store.subscription_refused(c, rid, utcnow(), w))
                log.info("tracking subscription of %s not sent: %s", r.order_id, words)
                continue
            rec = (docs.get(r.order_id) or {}).get("recipient") or {}
            digits = "".join(ch for ch in str(rec.get("phone") or "") if ch.isdigit())
            to = "".join(str(rec.get(k) or "") for k in ("province", "city", "district"))
            param = kuaidi100.subscribe_param(company=company, number=r.waybill, key=s.kuaidi100_key,
                                              callback_url=s.kuaidi100_callback_url, salt=s.kuaidi100_salt,
                                              phone=digits[-4:], to=to)
            try:
                code = kuaidi100.subscribe(self.session, s.kuaidi100_base_url, param, timeout_s=self.timeout_s)
            except CarrierError as exc:
                if exc.kind is ErrorKind.REFUSED:
                    self.tx(lambda c, rid=r.id, e=exc: store.subscription_refused(c, rid, utcnow(), e.message))
                    log.info("快递100 refused the subscription of %s (%s): %s", r.order_id, exc.code, exc.message)
                else:
                    at = utcnow() + timedelta(seconds=retry_delay(exc, int(r.attempts) + 1))
                    self.tx(lambda c, rid=r.id, e=exc, at=at: store.subscription_retry(c, rid, e.message, at))
                    log.info("tracking subscription of %s not sent (%s); retry", r.order_id, exc.kind.value)
                continue
            note = "already subscribed (501)" if code == "501" else None
            self.tx(lambda c, rid=r.id, n=note: store.subscribed(c, rid, utcnow(), n))
        return len(rows)
