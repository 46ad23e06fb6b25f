"""The shared connector engine: pull by update time, apply pushes, write shipments back.

Two background threads per hub process (started and stopped with the app, like the webhook
:class:`hub.webhooks.Deliverer`):

* ``channels-pull`` pulls each due, enabled connector: it takes the connector's lease (one
  atomic UPDATE, so several hub processes over one PostgreSQL never pull the same shop at once),
  makes sure of a token (refreshed :data:`~hub.channels.base.REFRESH_MARGIN_S` before it expires;
  a ``TOKEN_EXPIRED`` answer refreshes once and retries), then lists windows of orders by update
  time from the connector's cursor up to now − :data:`SETTLE_S`, each at most the platform's
  ``MAX_WINDOW_S``, the first starting :data:`OVERLAP_S` of real time back so a late commit or a
  shop clock running slow loses nothing. Each page goes through :func:`hub.orders.intake` (the
  push path; dedupe on channel + order number) and the window's last page moves the cursor in
  the same transaction: a hub killed mid-pull re-reads at most one window, and intake finds
  those orders unchanged.
* ``channels-push`` applies stored pushes (``channel_inbox``) and sends queued shipments
  (``ship_queue``). It is woken by the push endpoint, so a pushed order reaches the change feed
  in well under a second.

Errors follow :class:`~hub.channels.base.ErrorKind`: rate limits, busy platforms and unreadable
answers back off with jitter (:func:`hub.webhooks.backoff_s`); bad credentials mark the
connector failing with the platform's words and retry slowly; every failure is recorded in the
connector's health. No secret or token is ever logged.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Row

from core.errors import UserError
from core.model import ChannelStatus, IntakeOrder, intake_from_json
from core.timeutil import as_utc, parse_iso, utcnow
from hub import db
from hub.channels import platform_class, queues, store
from hub.channels.base import (
    REFRESH_MARGIN_S,
    ConnectorConfig,
    ErrorKind,
    Platform,
    PlatformError,
    Shipment,
    Token,
)
from hub.config import HubSettings
from hub.orders import doc_to_intake, intake, load_docs
from hub.routing import Rules
from hub.split_merge import parcel_of
from hub.webhooks import backoff_s
from hub.writer import Actor, Writer

log = logging.getLogger("packdesk.hub.channels")

T = TypeVar("T")
Tx = Callable[..., Any]

#: A window ends this long before now: the platform's own index may trail its clock a little.
SETTLE_S = 1.0
#: Every pull re-reads at least this much real time back (late commits, a shop clock running slow).
OVERLAP_S = 300.0
#: Orders of one window written per transaction (several pages).
WRITE_BATCH = 500
#: A claimed inbox or ship row is taken again after this if its process died.
ROW_LEASE_S = 60.0
#: Bad credentials are retried this slowly (an admin has to act; the platform must not be hammered).
BAD_CREDENTIALS_RETRY_S = 300.0
#: A pushed order the platform's detail call does not know yet is asked for again this many times.
MAX_FETCH_ATTEMPTS = 12
#: Hold raised when a platform refuses a shipment (core/holds.py).
SHIP_HOLD = "ship_writeback_failed"


def retry_delay(err: PlatformError, attempts: int) -> float:
    """How long to wait after ``err``: the platform's own Retry-After when it gives one."""
    if err.kind is ErrorKind.BAD_CREDENTIALS:
        return BAD_CREDENTIALS_RETRY_S
    delay = backoff_s(attempts)
    if err.retry_after_s is not None:
        delay = max(delay, err.retry_after_s)
    return float(min(delay, 600.0))


class Clients:
    """One thread's platform clients, one per connector, rebuilt when the connector's settings change."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self._by_id: dict[int, tuple[ConnectorConfig, Platform]] = {}

    def get(self, cfg: ConnectorConfig) -> Platform:
        have = self._by_id.get(cfg.id)
        if have is not None and have[0] == cfg:
            return have[1]
        plat = platform_class(cfg.platform)(cfg, self.session, timeout_s=self.timeout_s)
        self._by_id[cfg.id] = (cfg, plat)
        return plat


class Tokens:
    """Tokens for every thread of the process: stored in the connector row, refreshed under a
    per-connector lock so two threads never refresh one shop's token at once."""

    def __init__(self, tx: Tx, read: Tx | None = None) -> None:
        self.tx = tx
        self.read = read or tx
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, cid: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(cid, threading.Lock())

    def get(self, cfg: ConnectorConfig, plat: Platform, *, failed: Token | None = None) -> Token:
        """A usable token: the stored one, or a fresh one when it is missing, about to expire, or
        is the one (``failed``) the platform just called expired."""
        with self._lock(cfg.id):
            _, token, _ = self.read(lambda c: store.load(c, cfg.id))
            now = utcnow()
            usable = (token is not None and (token.expires_at - now).total_seconds() > REFRESH_MARGIN_S
                      and (failed is None or token.access_token != failed.access_token))
            if usable:
                assert token is not None
                return token
            new = acquire(plat, token)
            self.tx(lambda c: store.save_token(c, cfg.id, new))
            return new

    def call(self, cfg: ConnectorConfig, plat: Platform, fn: Callable[[Token], T]) -> T:
        """``fn(token)``; a ``TOKEN_EXPIRED`` answer refreshes the token once and calls again."""
        token = self.get(cfg, plat)
        try:
            return fn(token)
        except PlatformError as exc:
            if exc.kind is not ErrorKind.TOKEN_EXPIRED:
                raise
        return fn(self.get(cfg, plat, failed=token))


def acquire(plat: Platform, current: Token | None) -> Token:
    """Refresh ``current``; when the refresh itself is refused (refresh token expired or revoked),
    acquire a new token from scratch once."""
    if current is None:
        return plat.fetch_token(None)
    try:
        return plat.fetch_token(current)
    except PlatformError as exc:
        if exc.kind not in (ErrorKind.TOKEN_EXPIRED, ErrorKind.BAD_CREDENTIALS):
            raise
    return plat.fetch_token(None)


def _newest(orders: list[IntakeOrder]) -> datetime | None:
    return max((o.channel_updated_at for o in orders), default=None)


class ConnectorEngine:
    """The pull thread and the push/ship thread of one hub process; see the module docstring.

    Args:
        tx: runs a function in one write transaction (``Hub.tx``), retrying lost races.
        notify: wakes the change feed's long-polls after orders changed.
    """

    def __init__(self, tx: Tx, settings: HubSettings, rules: Rules, *, notify: Callable[[], None] = lambda: None,
                 read: Tx | None = None, poll_s: float = 1.0, timeout_s: float = 10.0) -> None:
        self.tx = tx
        #: Read-only transactions (no write lock): the idle checks of both threads run here, so an
        #: idle engine never takes SQLite's write lock.
        self.read = read or tx
        self.settings = settings
        self.rules = rules
        self.notify = notify
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.owner = uuid.uuid4().hex[:16]
        self.tokens = Tokens(tx, self.read)
        self._stop = threading.Event()
        self._wake_pull = threading.Event()
        self._wake_push = threading.Event()
        self._threads = [threading.Thread(target=self._pull_loop, name="channels-pull", daemon=True),
                         threading.Thread(target=self._push_loop, name="channels-push", daemon=True)]

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake_pull.set()
        self._wake_push.set()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=15)

    def wake_push(self) -> None:
        """A push was stored, or an order shipped: apply / send now."""
        self._wake_push.set()

    def wake_pull(self) -> None:
        """A connector was added or resumed: pull now."""
        self._wake_pull.set()

    def _pull_loop(self) -> None:
        clients = Clients(self.timeout_s)
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                for cid in self.read(lambda c: store.due(c, utcnow())):
                    if self._stop.is_set():
                        break
                    self.pull_connector(cid, clients)
                nxt = self.read(lambda c: store.next_due_in(c, utcnow()))
                if nxt is not None:
                    wait = min(wait, max(0.05, nxt))
            except Exception:
                log.exception("connector pull round failed")
            self._wake_pull.wait(wait)
            self._wake_pull.clear()

    def _push_loop(self) -> None:
        clients = Clients(self.timeout_s)
        while not self._stop.is_set():
            busy = False
            try:
                inbox, ships = self.read(lambda c: queues.anything_due(c, utcnow()))
                if inbox:
                    busy = self.apply_inbox(clients)
                if ships:
                    busy = self.send_ships(clients) or busy
            except Exception:
                log.exception("connector push/ship round failed")
            if not busy:
                self._wake_push.wait(self.poll_s)
                self._wake_push.clear()

    # -- pull -----------------------------------------------------------------------------------
    def pull_connector(self, cid: int, clients: Clients) -> None:
        """Pull one connector from its cursor to now (if its lease can be had)."""
        started = utcnow()
        if not self.tx(lambda c: store.claim(c, cid, self.owner, started, self.settings.channel_lease_s)):
            return
        next_at = started + timedelta(seconds=15)
        try:
            cfg, _, cursor = self.read(lambda c: store.load(c, cid))
            next_at = started + timedelta(seconds=cfg.interval_s)
            plat = clients.get(cfg)
            self._pull_windows(cfg, plat, cursor)
            self.tx(lambda c: store.record_success(c, cid, utcnow()))
        except PlatformError as exc:
            now, failure = utcnow(), exc
            attempts = self.tx(lambda c: store.record_failure(c, cid, failure, now))
            next_at = now + timedelta(seconds=retry_delay(exc, attempts))
            log.info("connector %d pull failed (%s, %s): %s; retry in %.0f s", cid, exc.kind.value, exc.code,
                     exc.message, (next_at - now).total_seconds())
        except store.LeaseLost:
            log.info("connector %d: another hub process took over its pull", cid)
            return
        except UserError as exc:  # orders the platform sent that intake refuses: shown, retried slowly
            now = utcnow()
            err = PlatformError(ErrorKind.BAD_RESPONSE, f"An order from the platform was refused: {exc.message}",
                                code="refused_by_intake")
            attempts = self.tx(lambda c: store.record_failure(c, cid, err, now))
            next_at = now + timedelta(seconds=max(60.0, retry_delay(err, attempts)))
            log.warning("connector %d: %s", cid, err.message)
        finally:
            self.tx(lambda c: store.release(c, cid, self.owner, next_at, started))

    def _pull_windows(self, cfg: ConnectorConfig, plat: Platform, cursor: datetime) -> None:
        """Pull from the cursor to now. The platform is read on a helper thread while this one
        writes (catching up, the HTTP and the database work overlap); pages are written in batches
        of :data:`WRITE_BATCH` orders, a window's last page with the cursor moved to its end."""
        pages: queue.Queue[tuple[list[IntakeOrder], datetime | None] | BaseException | None] = queue.Queue(2)
        stop = threading.Event()

        def put(item: tuple[list[IntakeOrder], datetime | None] | BaseException | None) -> None:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue

        def read() -> None:
            try:
                for start, end in self._windows(plat, cursor):
                    page: str | None = None
                    while not stop.is_set():
                        got = self.tokens.call(cfg, plat, lambda tok, p=page, s=start, e=end:  # type: ignore[misc]
                                               plat.list_updated(tok, s, e, p))
                        put((got.orders, end if got.next_page is None else None))
                        if got.next_page is None:
                            break
                        page = got.next_page
                put(None)
            except BaseException as exc:  # handed to the writing thread, which raises it
                put(exc)

        reader = threading.Thread(target=read, name="channels-pull-read", daemon=True)
        reader.start()
        batch: list[IntakeOrder] = []
        try:
            while True:
                item = pages.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                orders, window_end = item
                batch += orders
                if window_end is not None or len(batch) >= WRITE_BATCH:
                    self._write(cfg, batch, cursor=window_end)
                    batch = []
        finally:
            stop.set()
            reader.join(timeout=30)

    def _windows(self, plat: Platform, cursor: datetime) -> Iterator[tuple[datetime, datetime]]:
        """[start, end) windows from the cursor to now − SETTLE_S, each at most the platform's
        MAX_WINDOW_S. The first re-reads OVERLAP_S of real time (late commits, a slow shop clock)
        but not more: a cursor far behind (catching up) needs no overlap between its windows."""
        now = utcnow()
        target = now - timedelta(seconds=SETTLE_S)
        max_window = timedelta(seconds=float(type(plat).MAX_WINDOW_S))
        overlap = min(timedelta(seconds=OVERLAP_S), max_window / 2)
        start = min(cursor, now - overlap)
        while start < target and not self._stop.is_set():
            end = min(target, start + max_window)
            yield start, end
            start = end

    def _write(self, cfg: ConnectorConfig, orders: list[IntakeOrder], *, cursor: datetime | None) -> None:
        """One page in one transaction: the orders, which shop they came from, the cursor (on a
        window's last page), health figures, and the lease renewed (or the page rolled back)."""
        for o in orders:
            o.extra.setdefault("shop_id", cfg.shop_id)

        def run(c: Connection) -> int:
            now = utcnow()
            store.renew(c, cfg.id, self.owner, now, self.settings.channel_lease_s)
            created = 0
            if orders:
                w = Writer(c, self.settings, Actor.system(f"connector:{cfg.platform}"))
                results = intake(w, self.rules, orders, source=cfg.platform)
                w.flush()
                store.remember_orders(c, cfg.id, [r["order_id"] for r in results])
                created = sum(1 for r in results if r["created"])
            store.advance(c, cfg.id, cursor=cursor, brought=created, newest=_newest(orders), now=now,
                          tz=self.settings.timezone)
            return created
        self.tx(run)
        if orders:
            self.notify()

    # -- push inbox -----------------------------------------------------------------------------
    def apply_inbox(self, clients: Clients) -> bool:
        """Apply stored push messages; returns whether there were any."""
        rows: list[Row[Any]] = self.tx(lambda c: queues.claim_inbox(c, utcnow(), ROW_LEASE_S))
        by_connector: dict[int, list[Row[Any]]] = {}
        for r in rows:
            by_connector.setdefault(int(r.connector_id), []).append(r)
        for cid, group in by_connector.items():
            if self._stop.is_set():
                break
            self._apply_group(cid, group, clients)
        return bool(rows)

    def _apply_group(self, cid: int, rows: list[Row[Any]], clients: Clients) -> None:
        cfg = self.read(lambda c: store.config(c, cid))
        full = [r for r in rows if r.order_json is not None]
        thin = [r for r in rows if r.order_json is None]
        if full:
            self._apply_full(cfg, full)
        if not thin:
            return
        known = self.read(lambda c: self._known(c, cfg.platform, [r.channel_order_no for r in thin]))
        by_status: list[tuple[Row[Any], IntakeOrder]] = []
        already: list[int] = []
        fetch: list[Row[Any]] = []
        for r in thin:
            doc = known.get(r.channel_order_no)
            status = ChannelStatus(r.status) if r.status else None
            at = as_utc(r.channel_updated_at) if r.channel_updated_at else None
            if doc is None or status is None or at is None:
                fetch.append(r)
                continue
            have_status = ChannelStatus(doc["_channel_status"])
            have_at = parse_iso(doc["_channel_updated_at"])
            if (status.rank < have_status.rank or status is have_status is ChannelStatus.CANCELLED
                    or (status is have_status and have_at is not None and at <= have_at)):
                already.append(r.id)  # we hold this or newer: nothing to do, nothing to fetch
            elif status is ChannelStatus.CANCELLED:
                o = doc_to_intake(doc)
                o.status, o.channel_updated_at, o.message_id = status, at, r.msg_key
                by_status.append((r, o))
            else:
                fetch.append(r)  # paid (or anything else): the detail may have changed with it
        if already:
            self.tx(lambda c: queues.inbox_done(c, already, "already_known", utcnow()))
        if by_status:
            self._intake_and_mark(cfg, [o for _, o in by_status], [r.id for r, _ in by_status], "applied_status")
        if fetch:
            self._fetch_and_apply(cfg, fetch, clients)

    def _apply_full(self, cfg: ConnectorConfig, rows: list[Row[Any]]) -> None:
        """Messages that carried the whole order: intake them together; if intake refuses the batch
        (an order it cannot store), one by one, and a refused one is closed with intake's words
        (the platform's message was read and kept; retrying would refuse it again)."""
        def order_of(r: Row[Any]) -> IntakeOrder:
            o = intake_from_json(r.order_json)
            o.message_id = o.message_id or r.msg_key
            return o
        try:
            self._intake_and_mark(cfg, [order_of(r) for r in rows], [r.id for r in rows], "applied")
        except UserError as exc:
            if len(rows) > 1:
                for r in rows:
                    self._apply_full(cfg, [r])
                return
            r, words = rows[0], f"intake refused the pushed order: {exc.message}"
            self.tx(lambda c: queues.inbox_done(c, [r.id], "refused", utcnow(), words))
            log.warning("connector %d: pushed %s order %s refused: %s", cfg.id, cfg.platform, r.channel_order_no,
                        exc.message)

    @staticmethod
    def _known(c: Connection, platform: str, nos: list[str]) -> dict[str, dict[str, Any]]:
        o = db.orders.c
        ids = [r[0] for r in c.execute(select(o.order_id).where(and_(o.channel == platform,
                                                                      o.channel_order_no.in_(sorted(set(nos))))))]
        return {d["channel_order_no"]: d for d in load_docs(c, ids).values()}

    def _fetch_and_apply(self, cfg: ConnectorConfig, rows: list[Row[Any]], clients: Clients) -> None:
        ids = [r.id for r in rows]
        if not cfg.enabled:  # paused: keep the messages, ask the platform once the shop is resumed
            self.tx(lambda c: queues.inbox_retry(c, ids, "connector paused", utcnow() + timedelta(seconds=60)))
            return
        plat = clients.get(cfg)
        nos = sorted({r.channel_order_no for r in rows})
        try:
            got: list[IntakeOrder] = []
            for i in range(0, len(nos), 50):
                chunk = nos[i:i + 50]
                got += self.tokens.call(cfg, plat, lambda tok, ch=chunk: plat.fetch_orders(tok, ch))  # type: ignore[misc]
        except PlatformError as exc:
            attempts = max(int(r.attempts) for r in rows) + 1
            words = exc.message + (f" (platform code {exc.code})" if exc.code else "")
            retry_at = utcnow() + timedelta(seconds=retry_delay(exc, attempts))
            self.tx(lambda c: queues.inbox_retry(c, ids, words, retry_at))
            log.info("connector %d: detail fetch for %d pushed orders failed (%s); kept for retry", cfg.id,
                     len(nos), exc.kind.value)
            return
        found = {o.channel_order_no for o in got}
        done = [r.id for r in rows if r.channel_order_no in found]
        missing = [r for r in rows if r.channel_order_no not in found]
        self._intake_and_mark(cfg, got, done, "fetched")
        now = utcnow()
        gone = [r.id for r in missing if r.attempts + 1 >= MAX_FETCH_ATTEMPTS]
        later = [r for r in missing if r.attempts + 1 < MAX_FETCH_ATTEMPTS]

        def mark(c: Connection) -> None:
            queues.inbox_done(c, gone, "not_found", now, "the platform's order detail call does not know this order")
            for r in later:
                queues.inbox_retry(c, [r.id], "the platform does not know this order yet",
                                   now + timedelta(seconds=backoff_s(int(r.attempts) + 1)))
        self.tx(mark)

    def _intake_and_mark(self, cfg: ConnectorConfig, orders: list[IntakeOrder], row_ids: list[int],
                         outcome: str) -> None:
        for o in orders:
            o.extra.setdefault("shop_id", cfg.shop_id)

        def run(c: Connection) -> None:
            now = utcnow()
            if orders:
                w = Writer(c, self.settings, Actor.system(f"connector:{cfg.platform}"))
                results = intake(w, self.rules, orders, source=cfg.platform)
                w.flush()
                store.remember_orders(c, cfg.id, [r["order_id"] for r in results])
                store.advance(c, cfg.id, cursor=None, brought=sum(1 for r in results if r["created"]),
                              newest=_newest(orders), now=now, tz=self.settings.timezone)
            queues.inbox_done(c, row_ids, outcome, now)
        self.tx(run)
        if orders:
            self.notify()

    # -- ship write-back --------------------------------------------------------------------------
    def send_ships(self, clients: Clients) -> bool:
        """Send due shipments; returns whether there were any."""
        rows: list[Row[Any]] = self.tx(lambda c: queues.claim_ships(c, utcnow(), ROW_LEASE_S))
        for r in rows:
            if self._stop.is_set():
                # Hand the rest back at once, so a restarted hub sends them without waiting out the lease.
                rest = [x.id for x in rows if x.id >= r.id]
                self.tx(lambda c, ids=rest: [queues.ship_retry(c, i, "hub stopped before sending", utcnow())
                                             for i in ids])
                break
            self._send_one(r, clients)
        return bool(rows)

    def _send_one(self, r: Row[Any], clients: Clients) -> None:
        cfg = self.read(lambda c: store.config(c, int(r.connector_id)))
        if not cfg.enabled:
            self.tx(lambda c: queues.ship_retry(c, r.id, "connector paused", utcnow() + timedelta(seconds=60)))
            return
        plat = clients.get(cfg)
        shipment = Shipment(channel_order_no=r.channel_order_no, carrier=r.carrier, waybill=r.waybill,
                            shipped_at=as_utc(r.shipped_at),  # a split part ships part of its shop's order
                            parcel=self.read(lambda c: parcel_of(c, r.order_id)),
                            request_id=f"{r.order_id}:{r.waybill}")
        try:
            self.tokens.call(cfg, plat, lambda tok: plat.ship(tok, shipment))
        except PlatformError as exc:
            words = exc.message + (f" (platform code {exc.code})" if exc.code else "")
            if exc.kind is ErrorKind.REFUSED:
                self.tx(lambda c: self._refused(c, r, cfg, words))
                self.notify()
                log.info("connector %d: %s refused the shipment of %s: %s", cfg.id, cfg.platform, r.order_id, words)
                return
            retry_at = utcnow() + timedelta(seconds=retry_delay(exc, int(r.attempts) + 1))
            self.tx(lambda c: queues.ship_retry(c, r.id, words, retry_at))
            log.info("connector %d: shipment of %s not sent (%s); retry", cfg.id, r.order_id, exc.kind.value)
            return
        self.tx(lambda c: queues.ship_sent(c, r.id, utcnow()))

    def _refused(self, c: Connection, r: Row[Any], cfg: ConnectorConfig, words: str) -> None:
        """The platform said no: a visible hold on the order with its words (a note if it is closed)."""
        now = utcnow()
        queues.ship_refused(c, r.id, now, words)
        docs = load_docs(c, [r.order_id], for_update=True)
        doc = docs.get(r.order_id)
        if doc is None:
            return
        w = Writer(c, self.settings, Actor.system(f"connector:{cfg.platform}"))
        w.track(docs)
        reason = (f"平台拒绝发货回传 / The shop platform ({cfg.platform}) refused the shipment "
                  f"({r.carrier} {r.waybill}): {words}")
        details = {"platform": cfg.platform, "shop_id": cfg.shop_id, "carrier": r.carrier, "waybill": r.waybill,
                   "platform_says": words}
        if doc["state"] == "closed":
            w.note(doc, "ship_writeback_refused", why=reason, details=details)
        else:
            w.raise_hold(doc, SHIP_HOLD, reason, details)
        w.flush()


def check_connector(cfg: ConnectorConfig, *, timeout_s: float = 10.0, window_s: float = 300.0) -> dict[str, Any]:
    """Check a connector by hand: acquire a token and list a short window.

    Returns ``{"ok": True, "orders_in_window": n, "token": Token}``; raises :class:`PlatformError`
    with the platform's problem in plain words (a wrong AppSecret: ``BAD_CREDENTIALS``)."""
    plat = platform_class(cfg.platform)(cfg, requests.Session(), timeout_s=timeout_s)
    token = plat.fetch_token(None)
    end = utcnow()
    start = end - timedelta(seconds=min(window_s, float(type(plat).MAX_WINDOW_S)))
    page = plat.list_updated(token, start, end, None)
    return {"ok": True, "orders_in_window": len(page.orders), "more_pages": page.next_page is not None,
            "token": token}


def explain(exc: PlatformError) -> str:
    """The platform's words plus what an admin does about that kind of failure."""
    todo = {
        "bad_credentials": "Check the AppKey and AppSecret (copy them again from the platform's developer console) "
                           "and that the shop has authorised the app; then test again.",
        "rate_limited": "The platform is limiting calls; test again in a minute.",
        "busy": "The platform (or the network to it) is not answering; check base_url and the network, then "
                "test again.",
        "bad_response": "The answer was not the platform's API: check base_url.",
        "token_expired": "The shop's authorisation has expired: authorise the app again in the platform's console.",
        "refused": "The platform refused the call.",
    }[exc.kind.value]
    code = f" (platform code {exc.code})" if exc.code else ""
    return f"{exc.message}{code} {todo}"
