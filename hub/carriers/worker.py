"""The e-waybill worker: drains the outbound queue (hub/carriers/queue.py) on one background thread.

Started and stopped with the hub app, like the webhook :class:`hub.webhooks.Deliverer` and the
connector engine. For each due row it reads what it needs in a short transaction, calls the
provider *outside* any transaction, then writes the outcome in another:

* ``fetch`` → the order gets ``waybill_no`` and ``waybill_routing`` through :class:`hub.writer.Writer`
  (a version bump: the change feed carries it to the benches; the audit says which provider gave
  it). An answer that comes back for a fetch superseded meanwhile (a void, another carrier, the
  order cancelled) is not used: its number is queued for cancelling at once.
* ``cancel`` → the number is given back (回收).

Failures follow :class:`hub.channels.base.ErrorKind` (hub/carriers/base.py): ``BUSY`` /
``BAD_RESPONSE`` / ``RATE_LIMITED`` back off with jitter and retry (a cancel gives up after
:data:`MAX_CANCEL_ATTEMPTS` and is recorded on the order); ``BAD_CREDENTIALS`` retries slowly and
shows on the account; ``REFUSED`` on a fetch raises a ``carrier_area`` hold with the provider's
words (the desk chooses a carrier, which voids and fetches again), on a cancel it is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.engine import Connection, Row

from core.model import Recipient
from core.states import FULFILMENT_STATES
from core.timeutil import utcnow
from hub import db
from hub.background import BackgroundWorker
from hub.carriers import queue, store
from hub.carriers.base import (
    Address,
    CarrierAccount,
    CarrierError,
    ErrorKind,
    Waybill,
    WaybillProvider,
    WaybillRequest,
)
from hub.carriers.registry import make_provider
from hub.channels.engine import (  # one back-off rule for every partner call
    BAD_CREDENTIALS_RETRY_S,
    retry_delay,
)
from hub.config import HubSettings
from hub.options import carrier_options
from hub.orders import load_docs
from hub.routing import HOLD_CARRIER_AREA, Rules
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.carriers")

Tx = Callable[..., Any]

#: A claimed row is taken again after this if its process died mid-call.
ROW_LEASE_S = 60.0
#: A paused account's rows are looked at again after this.
PAUSED_RETRY_S = 60.0
#: A cancel the provider cannot take (busy, garbage) is given up after this many attempts and recorded.
MAX_CANCEL_ATTEMPTS = 8
#: Rows claimed per round.
BATCH = 20
#: The order states that still want a waybill (not yet shipped, not cancelled).
WANTED = frozenset(s.value for s in FULFILMENT_STATES)
REFUSED_REASON = "快递公司拒绝此地址，无法取得电子面单 / The carrier refused this address, no e-waybill"


def _words(err: CarrierError) -> str:
    return err.message + (f" (provider code {err.code})" if err.code else "")


def request_for(doc: dict[str, Any], order_code: str, carrier: str) -> WaybillRequest:
    """What a provider needs of an order; ``order_id`` carries the queue's order code (the order ID,
    plus ``-N`` after a void), which is what the provider dedupes on."""
    lines = [ln for ln in doc.get("lines") or [] if not ln.get("is_gift")] or list(doc.get("lines") or [])
    r = doc["recipient"]
    return WaybillRequest(
        order_id=order_code, carrier=carrier,
        recipient=Address(name=r["name"], phone=r["phone"], province=r["province"], city=r["city"],
                          district=r["district"], address=r["address"], postcode=r.get("postcode") or ""),
        goods_name=str(lines[0]["name"]) if lines else "", quantity=sum(int(ln["qty"]) for ln in lines),
        channel=doc.get("channel") or "", channel_order_no=doc.get("channel_order_no") or "")


class WaybillWorker(BackgroundWorker):
    """One thread that fetches and cancels e-waybills; see the module docstring.

    Args:
        tx: runs a function in one write transaction (``Hub.tx``).
        notify: wakes the change feed's long-polls after an order got its waybill.
        read: read-only transactions (the idle check), so an idle worker takes no write lock.
    """

    def __init__(self, tx: Tx, settings: HubSettings, rules: Rules, *, notify: Callable[[], None] = lambda: None,
                 read: Tx | None = None, poll_s: float = 1.0, timeout_s: float = 10.0) -> None:
        super().__init__("waybills", poll_s=poll_s, log=log, what="e-waybill")
        self.tx = tx
        self.read = read or tx
        self.settings = settings
        self.rules = rules
        self.notify = notify
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self._providers: dict[str, WaybillProvider] = {}

    def round(self) -> bool:
        """Rows due (an allocation, a void, a retry): work one batch (the idle check takes no write lock)."""
        return bool(self.read(lambda c: queue.anything_due(c, utcnow()))) and self.run_once()

    def run_once(self) -> bool:
        """Claim and work one batch of due rows; returns whether there were any."""
        rows: list[Row[Any]] = self.tx(lambda c: queue.claim(c, utcnow(), ROW_LEASE_S, BATCH))
        for r in rows:
            if self._stop.is_set():  # hand the rest back at once: a restarted hub need not wait out the lease
                rest = [x.id for x in rows if x.id >= r.id]

                def hand_back(c: Connection, ids: list[int] = rest) -> None:
                    for i in ids:
                        queue.retry(c, i, "hub stopped before calling", utcnow())
                self.tx(hand_back)
                break
            self.work(r)
        return bool(rows)

    def _provider(self, name: str) -> WaybillProvider:
        if name not in self._providers:
            self._providers[name] = make_provider(name, self.session, timeout_s=self.timeout_s)
        return self._providers[name]

    # -- one row --------------------------------------------------------------------------------
    def work(self, r: Row[Any]) -> None:
        try:
            acct, enabled = self.read(lambda c: store.account(c, int(r.account_id)))
        except store.CarrierAccountNotFound:
            self.tx(lambda c: queue.refused(c, r.id, utcnow(), "its carrier account was removed", "no_account"))
            return
        if not enabled:
            self.tx(lambda c: queue.retry(c, r.id, "carrier account paused",
                                          utcnow() + timedelta(seconds=PAUSED_RETRY_S)))
            return
        try:
            provider = self._provider(acct.provider)
        except KeyError:  # an account of a provider this hub's version has no adapter for
            words = f"no adapter for provider {acct.provider!r} in this hub (hub/carriers/registry.py)"
            self.tx(lambda c: queue.retry(c, r.id, words, utcnow() + timedelta(seconds=BAD_CREDENTIALS_RETRY_S)))
            log.warning("carrier account %d: %s", acct.account_id, words)
            return
        if r.op == queue.FETCH:
            self._fetch(r, acct, provider)
        else:
            self._cancel(r, acct, provider)

    def _fetch(self, r: Row[Any], acct: CarrierAccount, provider: WaybillProvider) -> None:
        doc = self.read(lambda c: load_docs(c, [r.order_id]).get(r.order_id))
        if doc is None or doc["state"] not in WANTED or doc.get("carrier") != r.carrier:
            self.tx(lambda c: queue.done(c, r.id, utcnow(), "not_needed"))
            return
        try:
            wb = provider.fetch(acct, request_for(doc, r.order_code, r.carrier))
        except CarrierError as exc:
            self._failed(r, acct, exc)
            return
        self.tx(lambda c: self._write(c, r, acct, wb))
        self.notify()

    def _write(self, c: Connection, r: Row[Any], acct: CarrierAccount, wb: Waybill) -> None:
        """The provider's number onto the order — or, if the order no longer wants it, given back."""
        now = utcnow()
        store.record_success(c, acct.account_id, now)
        docs = load_docs(c, [r.order_id], for_update=True)
        doc = docs.get(r.order_id)
        pending = queue.is_pending(c, r.id)
        if not pending or doc is None or doc["state"] not in WANTED or doc.get("carrier") != r.carrier:
            if pending:
                queue.done(c, r.id, now, "not_needed", waybill=wb.waybill_no)
            else:  # superseded while the provider answered: keep the record of the number
                c.execute(db.waybill_queue.update().where(queue.Q.id == r.id).values(waybill=wb.waybill_no))
            row = queue.issued(c, r.order_id, wb.waybill_no)
            if row is not None:
                queue.enqueue_cancel(c, row, now)
            log.info("waybill %s for %s came after it was no longer wanted: queued for cancelling",
                     wb.waybill_no, r.order_id)
            return
        w = Writer(c, self.settings, Actor.system(f"waybill:{acct.provider}"))
        w.track(docs)
        doc["waybill_no"] = wb.waybill_no
        doc["waybill_routing"] = wb.routing.as_doc(acct.provider)
        w.note(doc, "waybill_assigned", why=f"电子面单号 {wb.waybill_no}（{acct.provider}）/ e-waybill {wb.waybill_no} "
                                            f"from {acct.provider}",
               details={"waybill_no": wb.waybill_no, "carrier": r.carrier, "provider": acct.provider,
                        "order_code": r.order_code, "routing": doc["waybill_routing"]})
        w.flush()
        queue.done(c, r.id, now, "ok", waybill=wb.waybill_no)

    def _cancel(self, r: Row[Any], acct: CarrierAccount, provider: WaybillProvider) -> None:
        try:
            if getattr(provider, "CANCEL_TAKES_ORDER_CODE", False):
                provider.cancel(acct, r.carrier, r.waybill, order_code=r.order_code)  # type: ignore[call-arg]
            else:
                provider.cancel(acct, r.carrier, r.waybill)
        except CarrierError as exc:
            self._failed(r, acct, exc)
            return

        def ok(c: Connection) -> None:
            queue.done(c, r.id, utcnow(), "ok")
            store.record_success(c, acct.account_id, utcnow())
        self.tx(ok)

    # -- failures -------------------------------------------------------------------------------
    def _failed(self, r: Row[Any], acct: CarrierAccount, exc: CarrierError) -> None:
        words = _words(exc)
        attempts = int(r.attempts) + 1
        if exc.kind is ErrorKind.REFUSED:
            self.tx(lambda c: self._refused(c, r, acct, words, "refused"))
            self.notify()
            log.info("%s refused the %s of %s: %s", acct.provider, r.op, r.order_id, words)
            return
        if r.op == queue.CANCEL and attempts >= MAX_CANCEL_ATTEMPTS:
            self.tx(lambda c: self._refused(c, r, acct, f"gave up after {attempts} attempts: {words}", "gave_up"))
            self.notify()
            log.warning("cancel of waybill %s (%s) given up after %d attempts: %s", r.waybill, r.order_id, attempts,
                        words)
            return
        retry_at = utcnow() + timedelta(seconds=retry_delay(exc, attempts))

        def again(c: Connection) -> None:
            queue.retry(c, r.id, words, retry_at)
            store.record_failure(c, acct.account_id, exc, utcnow())
        self.tx(again)
        log.info("%s %s of %s failed (%s); retry", acct.provider, r.op, r.order_id, exc.kind.value)

    def _refused(self, c: Connection, r: Row[Any], acct: CarrierAccount, words: str, outcome: str) -> None:
        """Record the refusal; a refused fetch raises a hold with the provider's words, a cancel that
        could not be done is noted on the order (someone may have to void it in the carrier's portal)."""
        now = utcnow()
        docs = load_docs(c, [r.order_id], for_update=True)  # the order first, then its queue row (as void does)
        if not queue.is_pending(c, r.id):
            return
        queue.refused(c, r.id, now, words, outcome)
        doc = docs.get(r.order_id)
        if doc is None:
            return
        w = Writer(c, self.settings, Actor.system(f"waybill:{acct.provider}"))
        w.track(docs)
        details = {"carrier": r.carrier, "provider": acct.provider, "provider_says": words, "order_code": r.order_code}
        if r.op == queue.FETCH:
            if doc["state"] not in WANTED or doc.get("carrier") != r.carrier:
                return
            try:
                recipient = Recipient(**doc["recipient"])
            except TypeError:
                recipient = None
            w.raise_hold(doc, HOLD_CARRIER_AREA, f"{REFUSED_REASON}: {words}",
                         {**details, "waybill_refused": True, "province": doc["recipient"].get("province"),
                          "city": doc["recipient"].get("city"), "district": doc["recipient"].get("district"),
                          "options": carrier_options(self.rules, recipient).to_wire()})
        else:
            w.note(doc, "waybill_cancel_failed",
                   why=f"面单回收失败 / the waybill {r.waybill} could not be cancelled at {acct.provider}: {words}",
                   details={**details, "waybill_no": r.waybill})
        w.flush()
