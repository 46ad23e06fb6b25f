"""The sync engine: pushes the outbox, pulls the change feed, keeps the bench working offline.

Two worker threads, each with its own HTTP session: the *pusher* sends the outbox in seq order in
batches as soon as something is queued; the *puller* long-polls the change feed from the stored
cursor. Both write through the local store's transactions, and a hub snapshot only replaces an
older one, so their order does not matter. While the hub is unreachable each thread backs off
(exponential, capped, with jitter); an expired login is renewed with the operator's credentials,
which are kept in memory only; a 410 starts a full re-sync that keeps the outbox. Nothing the hub
has not answered finally is ever removed from the outbox.

The UI observes :attr:`SyncEngine.orders_changed` and :attr:`SyncEngine.sync_state_changed` (plain
callbacks, called on the worker threads).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from core.errors import UserError
from core.events import Event
from core.i18n import _
from core.outbox import OrdersChanged, Outbox
from core.store import LocalStore, OutboxAction, StoreError
from core.sync.client import (
    ClientTooOld,
    CursorExpired,
    HubAuthExpired,
    HubClient,
    HubError,
    HubMalformed,
    HubRefused,
    HubUnauthorized,
    LoginInfo,
)
from core.timeutil import iso, parse_iso, utcnow

log = logging.getLogger("packdesk.sync")

T = TypeVar("T")

ONLINE = "online"
OFFLINE = "offline"
SYNCING = "syncing"


@dataclass(frozen=True)
class SyncState:
    """What the status bar shows.

    Attributes:
        status: ``online``, ``offline`` or ``syncing``.
        pending: actions not yet answered by the hub.
        conflicts: unresolved conflicts and rejections.
        last_success: when the hub last answered.
        last_error: the last problem, in plain words (None once the hub answers again).
        operator: who is logged in (None before login).
        outdated: the hub needs a newer client (``last_error`` says so): nothing is sent until this
            PC is updated; the outbox is kept.
    """

    status: str = OFFLINE
    pending: int = 0
    conflicts: int = 0
    last_success: datetime | None = None
    last_error: str | None = None
    operator: str | None = None
    outdated: bool = False

    @property
    def text(self) -> str:
        word = {ONLINE: "Online", OFFLINE: "Offline", SYNCING: "Syncing"}[self.status]
        return f"{word} · {self.pending} pending" if self.pending else word


@dataclass
class SyncReport:
    """What one :meth:`SyncEngine.sync_once` did (printed by ``main.py sync --once``)."""

    pushed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    full_resync: bool = False
    dropped: int = 0
    cursor: int | None = None

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True)
class Credentials:
    """The logged-in operator's code and PIN, in memory only (never written anywhere)."""

    operator: str
    pin: str = field(repr=False)


class Backoff:
    """Exponential back-off, capped, with jitter (so many benches do not retry in step).

    Args:
        base_s: the first delay.
        cap_s: the longest delay.
        rng: random source (tests pass a seeded one).
    """

    def __init__(self, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures, 30)))
        self.failures += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


@dataclass(frozen=True)
class SyncConfig:
    """Where and as whom this station syncs (from :class:`core.settings.Settings`)."""

    hub_url: str
    station: str
    bench: str | None
    device_id: str
    batch_size: int = 500
    page_size: int = 1000
    long_poll_s: float = 25.0
    #: at least this long between two pulls that brought nothing (a hub or proxy that answers a
    #: long-poll at once must not turn the pull thread into a busy loop)
    min_poll_interval_s: float = 1.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 30.0


#: Whole-batch answers that are about what the actions contain (too big, fails validation): the
#: batch is halved until the one action they are about is found, and that one is rejected. Any
#: other 4xx for a whole batch (404 from a proxy, 403, 405, ...) says nothing about the actions:
#: they all stay queued.
SPLIT_STATUSES = frozenset({413, 422})


class SyncEngine:
    """Keeps the local store and the hub in step.

    Args:
        store: the local store.
        config: hub address, station, bench, device and timing.

    Events:
        orders_changed(OrdersChanged): order IDs whose local view changed (or that were dropped);
            the initiator is always None (the hub's changes: no view on this station started them).
        sync_state_changed(SyncState): online/offline/syncing, pending count, last success/error.
    """

    def __init__(self, store: LocalStore, config: SyncConfig) -> None:
        self.store = store
        self.config = config
        self.orders_changed: Event[OrdersChanged] = Event("orders_changed")
        #: ticket IDs whose local view changed (a desk PC's queue re-reads them; docs/tickets.md)
        self.tickets_changed: Event[list[str]] = Event("tickets_changed")
        self.sync_state_changed: Event[SyncState] = Event("sync_state_changed")
        self._credentials: Credentials | None = None
        self._login: LoginInfo | None = None
        self._auth_lock = threading.Lock()
        self._state_lock = threading.Lock()
        # Held from reading the counts to publishing them: two threads reading the store at
        # different moments must not publish out of order (a count read before an action's commit
        # overwriting one read after it — the login dialog once said nothing was waiting).
        self._counts_lock = threading.RLock()
        self._state = SyncState(
            pending=store.pending_count(),
            conflicts=store.conflict_count(),
            last_success=parse_iso(store.meta("last_success")),
        )
        self._stop = threading.Event()
        self._push_wake = threading.Event()
        self._pull_wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._push_failing = False
        self._pull_failing = False

    # -- login -----------------------------------------------------------------------------------

    def _client(self) -> HubClient:
        return HubClient(
            self.config.hub_url,
            connect_timeout_s=self.config.connect_timeout_s,
            read_timeout_s=self.config.read_timeout_s,
        )

    def set_credentials(self, operator: str, pin: str) -> None:
        """Remember who is logged in (memory only); the engine logs in when it next talks to the hub."""
        with self._auth_lock:
            self._credentials = Credentials(operator, pin)
            self._login = None
        self._update_state(operator=operator)
        self._pull_wake.set()  # a thread waiting out "nobody logged in" starts now
        self.wake()

    def login(self, operator: str, pin: str) -> LoginInfo:
        """Log in now (network call; not on the GUI thread). Raises HubError on failure.

        The previous operator's credentials stay until the new login succeeds: a refused attempt
        must not leave the engine pushing the queue as nobody (or as someone refused).
        """
        with self._auth_lock:
            previous_credentials, previous_login = self._credentials, self._login
            self._credentials = Credentials(operator, pin)
            self._login = None
        try:
            info = self._ensure_login(None)
        except HubError:
            with self._auth_lock:
                self._credentials, self._login = previous_credentials, previous_login
            raise
        self._update_state(operator=operator)
        self._pull_wake.set()
        self.wake()
        return info

    def logout(self) -> None:
        with self._auth_lock:
            self._credentials = None
            self._login = None
        self._update_state(operator=None)

    @property
    def login_info(self) -> LoginInfo | None:
        return self._login

    def _ensure_login(self, stale_token: str | None) -> LoginInfo:
        """The current login; logs in again if there is none or ``stale_token`` is the current one."""
        with self._auth_lock:
            if self._login is not None and self._login.token != stale_token:
                return self._login
            if self._credentials is None:
                raise HubUnauthorized(
                    _("Nobody is logged in on this station; log in to sync."), code="not_logged_in"
                )
            client = self._client()
            try:
                info = client.login(
                    self._credentials.operator,
                    self._credentials.pin,
                    station=self.config.station,
                    bench=self.config.bench,
                    device_id=self.config.device_id,
                )
            except HubRefused as exc:
                # A refused *login* (e.g. a packer on a desk station) says nothing about the queued
                # actions: it must never reach the batch-splitting that finalises them as rejected.
                raise HubUnauthorized(exc.message, code=exc.code) from exc
            finally:
                client.close()
            log.info(
                "Logged in to %s as %s (%s) on %s",
                self.config.hub_url,
                info.operator,
                info.role,
                info.station,
            )
            if info.action_key is not None:
                # Kept in the store (not only here): the operator's offline work, and work left in
                # the outbox for the next shift's login to push, is signed with it.
                with self.store.write() as conn:
                    self.store.set_action_key(conn, info.operator, info.action_key)
            self._login = info
            return info

    def _authed(self, client: HubClient, call: Callable[[], T]) -> T:
        """Run ``call`` with a valid token; an expiry mid-way logs in again and repeats the call once."""
        info = self._ensure_login(None)
        client.token = info.token
        try:
            return call()
        except (HubAuthExpired, HubUnauthorized):
            # Expired, or no longer known (e.g. the hub's tokens were reset): log in once more.
            log.info("Token refused; logging in again")
            info = self._ensure_login(info.token)
            client.token = info.token
            return call()

    def call_hub(self, call: Callable[[HubClient], T], *, read_timeout_s: float | None = None) -> T:
        """One request outside the sync loop (an import, a lookup) under this station's login.

        Network call: never on the GUI thread. Logs in again once if the token has expired.
        """
        client = HubClient(self.config.hub_url, connect_timeout_s=self.config.connect_timeout_s,
                           read_timeout_s=read_timeout_s or self.config.read_timeout_s)
        try:
            return self._authed(client, lambda: call(client))
        finally:
            client.close()

    def _scope(self, info: LoginInfo) -> str:
        """Which orders the hub shows this login: one bench's (a packer) or every bench's.

        The cursor belongs to that view: a desk login after a packer's on the same PC would
        otherwise continue the packer's bench-only feed and never see the other benches' orders.
        """
        if info.role == "packer" and self.config.bench:
            return f"bench:{self.config.bench}"
        # Desk and above keep customer tickets too: a copy built without them is re-synced once.
        return "all" if info.role == "packer" else "all+tickets"

    def _wants_tickets(self) -> bool:
        """Tickets are for the desk and above; a packer never gets one (docs/sync.md "Entity kinds")."""
        info = self._login
        return info is not None and info.role != "packer"

    def _keep(self, snap: dict[str, Any]) -> bool:
        """Whether an order belongs on this station: a packer sees only its own bench's orders."""
        info = self._login
        if info is None or info.role != "packer" or not self.config.bench:
            return True
        return snap.get("bench") == self.config.bench

    # -- state -----------------------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        with self._state_lock:
            return self._state

    def _update_state(self, **changes: Any) -> None:
        with self._state_lock:
            new = replace(self._state, **changes)
            if new == self._state:
                return
            self._state = new
        self.sync_state_changed.emit(new)

    def _counts(self) -> dict[str, int]:
        """The pending and conflict counts, or nothing if the store cannot be read right now.

        Called from the threads' error handling: a store problem there must not kill the thread.
        """
        try:
            return {"pending": self.store.pending_count(), "conflicts": self.store.conflict_count()}
        except StoreError as exc:
            log.warning("Cannot read the sync counts: %s", exc.message)
            return {}

    def refresh_counts(self) -> None:
        """Re-read the pending and conflict counts (after a local action)."""
        with self._counts_lock:
            self._update_state(**self._counts())

    def _success(self) -> None:
        now = utcnow().replace(microsecond=0)
        with self._counts_lock:
            self._update_state(status=ONLINE, last_error=None, last_success=now, outdated=False, **self._counts())

    def _failure(self, exc: Exception) -> None:
        if isinstance(exc, HubError):
            message = exc.message
        elif isinstance(exc, UserError):
            message = _("Sync stopped by a local problem: {problem}").format(problem=exc.message)
        else:
            message = _("Sync problem: {problem}").format(problem=exc)
        with self._counts_lock:
            self._update_state(status=OFFLINE, last_error=message, outdated=isinstance(exc, ClientTooOld),
                               **self._counts())

    def _changed(self, ids: list[str]) -> None:
        if ids:
            self.orders_changed.emit(OrdersChanged(list(ids), None))

    def _tickets_changed(self, ids: list[str]) -> None:
        if ids:
            self.tickets_changed.emit(list(dict.fromkeys(ids)))

    # -- push ------------------------------------------------------------------------------------

    def push_pending(self, client: HubClient, report: SyncReport | None = None) -> int:
        """Send the whole outbox, batch by batch in seq order; returns how many got a final answer."""
        total = 0
        while not self._stop.is_set():
            batch = self.store.pending_actions(self.config.batch_size)
            if not batch:
                break
            with self._counts_lock:
                self._update_state(status=SYNCING, pending=self.store.pending_count())
            done = self._push_batch(client, batch, report)
            total += done
            if done == 0:
                raise HubMalformed(_("The hub's answer did not match the actions sent; will try again."))
        return total

    def _push_batch(self, client: HubClient, batch: list[OutboxAction], report: SyncReport | None) -> int:
        try:
            answer = self._authed(client, lambda: client.post_actions([a.to_wire() for a in batch]))
        except HubRefused as exc:
            if exc.status not in SPLIT_STATUSES:
                # About the request, not its actions (wrong URL behind a proxy, a filter, ...):
                # finalising the actions as rejected would drop the whole queue. Keep them.
                self.store.mark_attempt([a.seq for a in batch], exc.message)
                raise
            # The hub refused the batch for what it contains: find the action it is about by
            # halving, so one bad action never blocks the ones behind it; a single action refused
            # outright is a rejection (kept as a conflict record with the hub's words).
            if len(batch) > 1:
                half = len(batch) // 2
                return self._push_batch(client, batch[:half], report) + self._push_batch(
                    client, batch[half:], report
                )
            results = [
                {
                    "action_id": batch[0].action_id,
                    "outcome": "rejected",
                    "order": None,
                    "error": exc.code,
                    "reason": exc.message,
                }
            ]
            ticket_ids: list[str] = []
            changed, done = self.store.apply_results(batch, results, keep=self._keep, tickets_out=ticket_ids)
            self._changed(changed)
            self._tickets_changed(ticket_ids)
            if report is not None:
                report.count("rejected")
            return done
        except HubError as exc:
            self.store.mark_attempt([a.seq for a in batch], exc.message)
            raise
        ticket_ids = []
        changed, done = self.store.apply_results(batch, answer.results, keep=self._keep, tickets_out=ticket_ids)
        self._tickets_changed(ticket_ids)
        if report is not None:
            report.pushed += len(batch)
            for r in answer.results:
                report.count(str(r.get("outcome")))
        self._changed(changed)
        log.debug("Pushed %d actions, %d answered finally", len(batch), done)
        return done

    # -- pull ------------------------------------------------------------------------------------

    def full_resync(self, client: HubClient, report: SyncReport | None = None) -> None:
        """Download the whole working set, then continue from the first page's cursor."""
        log.info("Full re-sync from %s", self.config.hub_url)
        self._update_state(status=SYNCING)
        scope = self._scope(self._ensure_login(None))
        gen = self.store.begin_full_resync()
        after: str | None = None
        first_cursor: int | None = None
        while not self._stop.is_set():
            page = self._authed(client, lambda a=after: client.snapshot(a, limit=self.config.page_size))  # type: ignore[misc]
            if first_cursor is None:
                first_cursor = page.cursor
            with self.store.write() as conn:
                changed = self.store.apply_snapshots(conn, page.orders, keep=self._keep, seen_gen=gen)
            self._changed(changed)
            if report is not None:
                report.pulled += len(page.orders)
            if page.next_after is None or not page.orders:
                break
            if after is not None and page.next_after <= after:
                raise HubMalformed(
                    _("The hub's order list went backwards ({old} → {new}); will try again.").format(
                        old=after, new=page.next_after)
                )
            after = page.next_after
        if self._stop.is_set() or first_cursor is None:
            return
        if not self._resync_tickets(client, gen, report):
            return
        gone = self.store.finish_full_resync(gen, first_cursor, scope=scope)
        self._changed(gone)
        if report is not None:
            report.full_resync = True
            report.dropped += len(gone)

    def _resync_tickets(self, client: HubClient, gen: int, report: SyncReport | None) -> bool:
        """The open tickets in keyset pages (desk and above), after the orders; returns False if stopped.

        The feed is followed from the orders' first cursor, read before any ticket page: a ticket
        that changed while the pages came down is in the feed after it (taken again by version).
        A packer's pass keeps no tickets (only those with work still queued).
        """
        if self._wants_tickets():
            after = ""
            while not self._stop.is_set():
                page = self._authed(client, lambda a=after: client.tickets_page(a, limit=self.config.page_size))  # type: ignore[misc]
                with self.store.write() as conn:
                    got = self.store.apply_ticket_docs(conn, page.tickets, seen_gen=gen)
                self._tickets_changed(got)
                if report is not None:
                    report.pulled += len(page.tickets)
                if page.next_after is None or not page.tickets:
                    break
                if page.next_after <= after:
                    raise HubMalformed(
                        _("The hub's ticket list went backwards ({old} → {new}); will try again.").format(
                            old=after, new=page.next_after))
                after = page.next_after
            if self._stop.is_set():
                return False
        self._tickets_changed(self.store.finish_ticket_resync(gen))
        return True

    def pull_once(self, client: HubClient, *, wait_s: float = 0.0, report: SyncReport | None = None) -> bool:
        """Pull one page of changes (a full re-sync first if needed); returns whether more are waiting."""
        return self._pull(client, wait_s, report)[0]

    def _pull(self, client: HubClient, wait_s: float, report: SyncReport | None) -> tuple[bool, bool]:
        """:meth:`pull_once`; returns (more waiting, whether anything came)."""
        cursor = self.store.cursor()
        if cursor is None:
            self.full_resync(client, report)
            return not self._stop.is_set(), True
        scope, built_for = self._scope(self._ensure_login(None)), self.store.meta("cursor_scope")
        if built_for != scope:
            log.info("The login sees %s, the local copy was built for %s; full re-sync (outbox kept)",
                     scope, built_for or "an older client")
            self.full_resync(client, report)
            return not self._stop.is_set(), True
        tickets = self._wants_tickets()
        try:
            page = self._authed(
                client, lambda: client.changes(cursor, limit=self.config.page_size, wait_s=wait_s, tickets=tickets)
            )
        except CursorExpired:
            log.warning("Change feed cursor %d expired at the hub; full re-sync (outbox kept)", cursor)
            self.full_resync(client, report)
            return not self._stop.is_set(), True
        except HubRefused as exc:
            if exc.code != "bad_cursor":
                raise
            # Our cursor is ahead of the hub's feed: the hub's database was replaced or restored.
            log.warning(
                "Hub says cursor %d is ahead of its feed (%s); full re-sync (outbox kept)",
                cursor,
                exc.message,
            )
            self.full_resync(client, report)
            return not self._stop.is_set(), True
        if self._stop.is_set():
            return False, False
        now = iso(utcnow())
        with self.store.write() as conn:
            if self.store.get_meta(conn, "cursor") != str(cursor):
                return True, True  # someone re-synced meanwhile; read again from the new cursor
            changed = self.store.apply_snapshots(conn, [c["order"] for c in page.changes if "order" in c],
                                                 keep=self._keep)
            got = self.store.apply_ticket_docs(conn, [c["ticket"] for c in page.changes if c.get("kind") == "ticket"])
            self.store.set_meta(conn, "cursor", str(page.next_cursor))
            self.store.set_meta(conn, "last_success", now)
        self._changed(changed)
        self._tickets_changed(got)
        if report is not None:
            report.pulled += len(page.changes)
            report.cursor = page.next_cursor
        progressed = bool(page.changes) or page.next_cursor != cursor
        # "more" without a single change or a cursor move would only ask for the same page again.
        return page.more and progressed, progressed

    # -- one-shot --------------------------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """Push everything, pull until up to date, push again; in the caller's thread.

        Raises:
            HubError: the hub could not be used (the state says why; nothing is lost).
        """
        report = SyncReport()
        client = self._client()
        try:
            self._update_state(status=SYNCING)
            self.push_pending(client, report)
            while self.pull_once(client, report=report):
                pass
            self.push_pending(client, report)
            report.cursor = self.store.cursor()
            with self.store.write() as conn:
                self.store.set_meta(conn, "last_success", iso(utcnow()))
            self._success()
        except HubError as exc:
            self._failure(exc)
            raise
        finally:
            client.close()
        return report

    # -- worker threads --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the push and pull threads (idempotent)."""
        if self._threads:
            return
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._run, args=("push",), name="packdesk-sync-push", daemon=True),
            threading.Thread(target=self._run, args=("pull",), name="packdesk-sync-pull", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the threads. A long-poll in flight is abandoned (its answer is not applied)."""
        self._stop.set()
        self._push_wake.set()
        self._pull_wake.set()
        for t in self._threads:
            t.join(timeout_s)
        self._threads = []

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def watch_outbox(self, outbox: Outbox) -> None:
        """Push as soon as ``outbox`` queues an action (and keep the pending count current)."""
        outbox.enqueued.connect(lambda _seq: self.wake())

    def wake(self) -> None:
        """Push now (call after queuing an action); also retries at once if the hub was down."""
        self.refresh_counts()
        self._push_wake.set()

    def _run(self, role: str) -> None:
        client = self._client()
        backoff = Backoff(self.config.backoff_base_s, self.config.backoff_cap_s)
        wake = self._push_wake if role == "push" else self._pull_wake
        try:
            while not self._stop.is_set():
                try:
                    self._step(role, client, wake, backoff)
                except Exception as exc:
                    if self._stop.is_set() and isinstance(exc, HubError):
                        # Stopping cuts a long-poll in flight (the embedded hub stops with the app):
                        # expected, not a sync problem to report.
                        log.debug("Sync %s ended while stopping: %s", role, exc.message)
                        break
                    # Whatever goes wrong (the hub, the store, a bug), the thread reports it, waits
                    # and tries again: it never dies and never spins.
                    delay = backoff.next_delay()
                    if isinstance(exc, HubError):
                        log.warning("Sync %s failed: %s (%s)", role, exc.message, exc.details)
                        if not exc.retryable:
                            delay = max(delay, self.config.backoff_cap_s)
                    elif isinstance(exc, UserError):
                        log.warning("Sync %s stopped by a local problem: %s", role, exc.message)
                    else:
                        log.exception("Unexpected error in sync %s thread", role)
                    try:
                        self._set_failing(role, True, exc)
                    except Exception:
                        log.exception("Could not report a sync %s failure", role)
                    if isinstance(exc, HubError):
                        # Set since this round began: a new action (push) or a new login retries
                        # at once; stop() sets both.
                        wake.wait(delay)
                    else:
                        self._stop.wait(delay)
        finally:
            client.close()

    def _step(self, role: str, client: HubClient, wake: threading.Event, backoff: Backoff) -> None:
        """One round of a worker thread: push the outbox then sleep, or one (long-)poll of the feed."""
        if role == "push":
            wake.clear()
            self.push_pending(client)
            self._set_failing(role, False)
            backoff.reset()
            wake.wait(5.0)
            return
        wake.clear()
        started = time.monotonic()
        more, progressed = self._pull(
            client, 0 if self._pull_failing else self.config.long_poll_s, None
        )
        self._set_failing(role, False)
        backoff.reset()
        if more or progressed:
            return  # straight back to the feed: a change just came, more may be close behind
        rest = self.config.min_poll_interval_s - (time.monotonic() - started)
        if rest > 0:
            self._stop.wait(rest)

    def _set_failing(self, role: str, failing: bool, exc: Exception | None = None) -> None:
        if role == "push":
            self._push_failing = failing
        else:
            self._pull_failing = failing
        if failing and exc is not None:
            self._failure(exc)
        elif not self._push_failing and not self._pull_failing:
            self._success()
