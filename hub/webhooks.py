"""Outbound webhooks: every state change to each subscriber, at least once.

Events are rows in ``webhook_queue`` written in the same transaction as the change, so a hub that
restarts loses none. A delivery thread posts due rows, signed with the subscriber's secret
(``X-PackDesk-Signature: sha256=<hmac>``) and carrying ``X-PackDesk-Event-Id`` so receivers can
drop repeats; failures are retried with capped exponential back-off and jitter.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from core.timeutil import utcnow
from hub import db
from hub.background import BackgroundWorker
from hub.config import HubSettings, Webhook

log = logging.getLogger("packdesk.hub.webhooks")

MAX_BACKOFF_S = 600.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_s(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at 10 minutes, with ±20 % jitter so retries do not bunch up."""
    base = min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1))
    return float(base * random.uniform(0.8, 1.2))


class Deliverer(BackgroundWorker):
    """Posts due webhook events on a background thread until :meth:`stop` (only when the hub has
    subscribers: without any, :meth:`start` starts nothing)."""

    def __init__(self, engine: Engine, settings: HubSettings, *, poll_s: float = 0.5, timeout_s: float = 5.0) -> None:
        super().__init__("webhooks", poll_s=poll_s, log=log, what="webhook delivery")
        self.engine = engine
        self.settings = settings
        self.timeout_s = timeout_s
        self._session = requests.Session()

    def start(self) -> None:
        if self.settings.webhooks:
            super().start()

    def round(self) -> bool:
        return self.deliver_due()

    def deliver_due(self, limit: int = 50) -> bool:
        """Deliver up to ``limit`` due events; returns whether there were any.

        Rows are claimed with a lease (``next_attempt_at`` pushed out) in a short transaction and
        posted outside it: a slow receiver must never hold the database's write lock.
        """
        hooks = {h.name: h for h in self.settings.webhooks}
        q = db.webhook_queue.c
        # A claimed row is retried after the lease even if this process dies mid-round; a slow
        # round may overlap a retry: at-least-once delivery, and receivers dedupe by event ID.
        lease = timedelta(seconds=self.settings.webhook_lease_s)
        with self.engine.begin() as conn:
            stmt = (select(q.id, q.event_id, q.subscriber, q.body, q.attempts)
                    .where(q.delivered_at.is_(None), q.next_attempt_at <= utcnow())
                    .order_by(q.id).limit(limit))
            if db.is_postgres(conn):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = conn.execute(stmt).all()
            if rows:
                conn.execute(update(db.webhook_queue).where(q.id.in_([r.id for r in rows]))
                             .values(next_attempt_at=utcnow() + lease))
        for i, row in enumerate(rows):
            if self._stop.is_set():
                # Shutting down: hand the rows not tried back at once, so a restarted hub (or
                # another process) sends them without waiting out the lease.
                self._release([r.id for r in rows[i:]])
                break
            self._deliver_one(hooks.get(row.subscriber), row)
        return bool(rows)

    def _release(self, ids: list[int]) -> None:
        q = db.webhook_queue.c
        try:
            with self.engine.begin() as conn:
                conn.execute(update(db.webhook_queue).where(q.id.in_(ids), q.delivered_at.is_(None))
                             .values(next_attempt_at=utcnow()))
        except Exception:  # the lease still expires: at worst they wait webhook_lease_s
            log.exception("could not release %d claimed webhook events", len(ids))

    def _deliver_one(self, hook: Webhook | None, row: Any) -> None:
        q = db.webhook_queue.c
        error = None
        if hook is None:
            error = "subscriber no longer configured"
        else:
            body = row.body.encode()
            try:
                resp = self._session.post(hook.url, data=body, timeout=self.timeout_s, headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-PackDesk-Event-Id": row.event_id,
                    "X-PackDesk-Signature": sign(hook.secret, body),
                })
                if not 200 <= resp.status_code < 300:
                    error = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
        now = utcnow()
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts}
        if error is None:
            values.update(delivered_at=now, last_error=None)
        else:
            values.update(last_error=error[:500], next_attempt_at=now + timedelta(seconds=backoff_s(attempts)))
            log.info("webhook %s to %s failed (%s); attempt %d", row.event_id, row.subscriber, error, attempts)
        with self.engine.begin() as conn:
            conn.execute(update(db.webhook_queue).where(q.id == row.id).values(**values))
