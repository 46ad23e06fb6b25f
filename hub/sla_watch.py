"""The SLA watcher: a ticket whose deadline passes is told once to the WeCom robots that want ``ticket.overdue``.

The SLA state is computed at read time (``core.tickets.sla_state``), so nothing happens by itself
when a deadline passes. This background thread sweeps for deadlines that have passed and, in the
same transaction, queues the ``ticket.overdue`` message (:func:`hub.notify.dispatch.emit`) and
disarms the ticket (docs/tickets.md "Overdue tickets → notification"):

* **Once per ticket per deadline.** A ticket carries the deadline still to be told
  (``tickets.sla_watch_at``, armed by :func:`hub.tickets._save` whenever the ticket's ``due_at``
  becomes a deadline not told before) and the last one told (``sla_notified_due``). The sweep reads
  only armed deadlines that have passed (an index range, however many tickets are overdue), so a
  ticket overdue for a week is not looked at again every round. A reply that moves the deadline to
  the closing one, a reopening or a new contact episode arm it again: a new deadline may be told.
* **Never twice.** The queue row's key is the ticket and the deadline (``<ticket_id>:<due ISO>``) and
  ``notify_queue.dedupe_key`` is unique, so a restart between the queueing and the disarming, or two
  hub processes on one PostgreSQL (which also skip each other's locked rows), queue it once.
* A deadline that passes while no robot wants the event is disarmed all the same: it is not told
  later when a robot is configured (the group hears about deadlines as they pass).

The message (Chinese, for the region's group): which ticket and order, the ticket type, which
deadline (first reply or close), how late, who has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from core.timeutil import iso, parse_iso, utcnow
from hub import db, tickets
from hub.background import BackgroundWorker
from hub.config import HubSettings
from hub.notify import dispatch
from hub.orders import load_docs

log = logging.getLogger("packdesk.hub.sla")

Tx = Callable[..., Any]
#: Tickets handled per transaction (a backlog after a hub was down is worked through in rounds).
BATCH = 200

#: The ticket types as the desk says them in Chinese (the message goes to a Chinese WeCom group,
#: whatever language the hub runs in).
TYPE_ZH: dict[str, str] = {"urge_ship": "催发货", "tracking": "查物流", "address_change": "改地址",
                           "return_refund": "退货退款", "complaint": "投诉", "other": "其他"}


def how_late(late: timedelta) -> str:
    """``late`` in Chinese words, to the minute: 12 分钟, 1 小时 5 分钟, 2 天 3 小时."""
    minutes = max(0, int(late.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {mins} 分钟" if mins else f"{hours} 小时"
    return f"{mins} 分钟" if mins else "不到 1 分钟"


def _assignee(conn: Connection, code: str | None) -> str:
    if not code:
        return "未分配（无人在班）"
    op = db.operators.c
    name = conn.execute(select(op.name).where(op.code == code)).scalar()
    return f"{name}（{code}）" if name and name != code else code


def lines(conn: Connection, doc: dict[str, Any], order: dict[str, Any] | None, due: datetime, now: datetime,
          tz: str) -> list[str]:
    """What the group reads: ticket and type, the order, which deadline and how late, who has it."""
    kind = "首次回复" if doc.get("reply_due_at") and parse_iso(doc["reply_due_at"]) == due else "关闭"
    local = due.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")
    vip = "（VIP）" if doc.get("vip") else ""
    out = [f"工单 {doc['ticket_id']}{vip}：{TYPE_ZH.get(doc.get('type') or '', doc.get('type') or '')}",
           f"订单 {doc['order_id']}" + (f"（{order.get('channel')} {order.get('channel_order_no')}）" if order else ""),
           f"{kind}时限 {local}，已超时 {how_late(now - due)}",
           f"处理人 {_assignee(conn, doc.get('assignee'))}"]
    if order:
        out.append(f"仓库 {order.get('warehouse') or '—'}")
    return out


def sweep(conn: Connection, settings: HubSettings, now: datetime, limit: int = BATCH) -> int:
    """Tell every armed deadline passed by ``now`` (up to ``limit`` tickets); returns how many were handled."""
    passed = tickets.sla_passed(conn, now, limit)
    if not passed:
        return 0
    orders = load_docs(conn, sorted({p["doc"]["order_id"] for p in passed}))
    queued = 0
    for p in passed:
        doc, due = p["doc"], p["due"]
        if doc.get("status") == "open" and parse_iso(doc.get("due_at")) == due:
            order = orders.get(doc["order_id"])
            queued += dispatch.emit(conn, settings, dispatch.TICKET_OVERDUE, key=f"{doc['ticket_id']}:{iso(due)}",
                                    lines=lines(conn, doc, order, due, now, settings.timezone),
                                    warehouse=(order or {}).get("warehouse"), order_id=doc["order_id"], now=now)
        tickets.sla_told(conn, p["ticket_id"], due)
    log.info("%d ticket deadline(s) passed, %d message(s) queued", len(passed), queued)
    return len(passed)


class SlaWatcher(BackgroundWorker):
    """The ``sla`` thread: a :func:`sweep` every ``poll_s`` (a deadline is told within that long).

    Args:
        tx: runs a function in one write transaction (``Hub.tx``).
        read: read-only transactions (the idle check; default ``tx``).
        on_queued: called after a round that queued messages (wakes the notification worker).
        clock: the time (tests move it instead of sleeping).
    """

    def __init__(self, tx: Tx, settings: HubSettings, *, read: Tx | None = None,
                 on_queued: Callable[[], None] | None = None, poll_s: float = 15.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__("sla", poll_s=poll_s, log=log, what="SLA watch")
        self.tx = tx
        self.read = read or tx
        self.settings = settings
        self.clock = clock
        self.on_queued = on_queued

    def round(self) -> bool:
        now = self.clock()
        if not self.read(lambda conn: tickets.sla_any_passed(conn, now)):
            return False  # idle: no write transaction (on SQLite that would take the write lock every round)
        handled: int = self.tx(lambda conn: sweep(conn, self.settings, now))
        if handled and self.on_queued is not None:
            self.on_queued()
        return handled >= BATCH
