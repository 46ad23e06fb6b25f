"""The order detail pane beside the queue: lines, recipient, holds, history, print journal.

Why the reads are split: the order, its local audit and its print journal come from the local
store on the database worker (one round trip, a few ms); the hub's audit is a network call on the
network pool and arrives later — or never, when the hub is unreachable, in which case the pane
says "offline" instead of waiting. A late answer for an order no longer shown is dropped.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from core.cutoffs import handover_late
from core.display_names import (
    audit_what,
    audit_why,
    carrier_name,
    channel_name,
    doc_type_name,
    one_language,
    refusal_text,
)
from core.errors import UserError
from core.holds import hold_label
from core.i18n import _, language
from core.phones import mask_phone
from core.split_merge import merged_with, split_link
from core.states import State
from core.store import LocalOrder
from core.timeutil import parse_iso, to_local, utcnow
from core.tracking import TROUBLE, status_words, track_lines
from ui.queue_model import display_icon, state_text
from ui.services import AppServices

log = logging.getLogger("packdesk.ui.detail")


@dataclass
class DetailData:
    """Everything the pane shows from the local store (read on the database worker)."""

    order: LocalOrder | None
    local_audit: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)


def _when(text: str | None) -> str:
    dt = parse_iso(text)
    return to_local(dt).strftime("%m-%d %H:%M") if dt is not None else ""


def _age(text: str | None) -> str:
    dt = parse_iso(text)
    if dt is None:
        return ""
    minutes = int((utcnow() - dt).total_seconds() // 60)
    if minutes < 60:
        return _("{n} min").format(n=max(minutes, 0))
    if minutes < 48 * 60:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} days").format(n=minutes // 1440)


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""))


#: States whose detail shows the tracking section even before the carrier reported anything.
TRACKED_STATES = frozenset({State.LABEL_PRINTED.value, State.SHIPPED.value, State.DELIVERED.value})

#: How each tracking status is drawn: an icon beside its words, a colour only as a third cue.
TRACKING_ICONS: dict[str, tuple[str, str]] = {
    "collected": ("◐", "#1565c0"), "in_transit": ("●", "#1565c0"), "delivering": ("●", "#1565c0"),
    "signed": ("✓", "#2e7d32"), "problem": ("▲", "#e65100"), "refused": ("✘", "#c62828"),
    "returning": ("↻", "#e65100"), "returned": ("✘", "#c62828"),
}


def _track_time(text: str | None) -> str:
    """A tracking event's time in the site's zone, with the date (parcels travel for days)."""
    dt = parse_iso(text)
    return to_local(dt).strftime("%m-%d %H:%M") if dt is not None else ""


def tracking_html(snapshot: dict[str, Any]) -> str:
    """The 物流轨迹 section: status in words and icon, then each event (time, place, text), newest first."""
    parts = [f"<h3>{_e(_('Tracking'))}</h3>"]
    lines = track_lines(snapshot)
    status = str(snapshot.get("tracking_status") or "")
    if status:
        icon, colour = TRACKING_ICONS.get(status, ("●", "#1565c0"))
        signed = ""
        if status == "signed" and snapshot.get("signed_at"):
            signed = " · " + _e(_("signed at {time}").format(time=_track_time(snapshot.get("signed_at"))))
        style = "background:#ffe0b2;padding:2px" if status in TROUBLE else ""
        parts.append(f"<p style='{style}'><b style='color:{colour}'>{_e(icon)} {_e(status_words(status))}</b>"
                     f"{signed}</p>")
    if not lines:
        if snapshot.get("state") in ("shipped", "delivered"):
            empty = _("No tracking from the carrier yet: it shows here once the carrier scans the parcel.")
        else:
            empty = _("No tracking yet: it starts once the parcel is handed to the carrier.")
        parts.append(f"<p style='color:#666'>{_e(empty)}</p>")
        return "".join(parts)
    parts.append("<table width='100%' cellspacing='0' cellpadding='2'>")
    for i, t in enumerate(lines):
        icon, colour = TRACKING_ICONS.get(t.status, ("●", "#1565c0"))
        weight = "font-weight:bold;" if i == 0 else "color:#444;"
        place = f"<br><span style='color:#555'>{_e(t.place)}</span>" if t.place else ""
        parts.append(f"<tr><td valign='top' style='white-space:nowrap;color:{colour}'>{_e(icon)}</td>"
                     f"<td valign='top' style='white-space:nowrap;{weight}'>{_e(_track_time(t.at))}</td>"
                     f"<td style='{weight}'>{_e(t.text)} <span style='color:#555'>({_e(status_words(t.status))})"
                     f"</span>{place}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def _operator(code: Any) -> str:
    """An audit line's operator: a code as recorded, the hub's own rules as "系统" / "system"."""
    return _("system") if code in (None, "", "system") else str(code)


def _moved(from_state: Any, to_state: Any) -> str:
    """A move between states as " 已支付→已分仓"; nothing for a change within one state."""
    if not to_state or from_state == to_state:
        return ""
    return f" {state_text(str(from_state)) if from_state else ''}→{state_text(str(to_state))}"


class OrderDetail(QWidget):
    """The detail pane. :meth:`show_order` loads an order; it repaints when the order changes.

    Signals:
        shown(str): the order ID now on screen (after the local read finished).
    """

    shown = Signal(str)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderDetail")
        self.services = services
        self.order_id: str | None = None
        self.data: DetailData | None = None
        self.hub_audit: list[dict[str, Any]] | None = None
        self.hub_audit_note = ""
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body = QLabel()
        self.body.setObjectName("detailBody")
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setMargin(8)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        services.orders_changed.connect(self._orders_changed)
        self.clear()

    def clear(self) -> None:
        self.order_id = None
        self.data = None
        hint = _("Select an order to see its details.")
        self.body.setText(f"<p style='color:#666'>{_e(hint)}</p>")

    # -- loading --------------------------------------------------------------------------------
    def show_order(self, order_id: str | None, *, with_hub_audit: bool = True) -> None:
        """Show an order (None clears the pane). Reads run off the GUI thread."""
        if not order_id:
            self.clear()
            return
        changed = order_id != self.order_id
        self.order_id = order_id
        if changed:
            self.hub_audit = None
            self.hub_audit_note = _("loading…")
        store, journal = self.services.store, self.services.journal

        def read() -> DetailData:
            order = store.get_order(order_id)
            if order is None:
                return DetailData(None)
            return DetailData(order, store.local_audit(order_id), journal.jobs(order_id, limit=50))

        self.services.tasks.run_db(read, lambda d: self._loaded(order_id, d))
        if changed and with_hub_audit:
            self._fetch_hub_audit(order_id)

    def _loaded(self, order_id: str, data: DetailData) -> None:
        if order_id != self.order_id:
            return  # the user moved on
        self.data = data
        self._render()
        self.shown.emit(order_id)

    def _fetch_hub_audit(self, order_id: str) -> None:
        engine = self.services.engine
        info = engine.login_info if engine is not None else None
        state = self.services.sync_state()
        if engine is None or info is None or (state is not None and state.status == "offline"):
            self.hub_audit_note = _("offline: the hub's history is shown when the hub can be reached")
            return

        def fetch() -> list[dict[str, Any]]:
            return engine.call_hub(lambda c: c.order_audit(order_id), read_timeout_s=5.0)

        def failed(exc: UserError) -> None:
            if order_id == self.order_id:
                self.hub_audit_note = _("offline: the hub's history is shown when the hub can be reached")
                log.info("hub audit for %s not available: %s", order_id, exc.message)
                self._render()

        self.services.tasks.run_net(fetch, lambda entries: self._hub_audit(order_id, entries), failed)

    def _hub_audit(self, order_id: str, entries: list[dict[str, Any]]) -> None:
        if order_id != self.order_id:
            return
        self.hub_audit = entries
        self.hub_audit_note = ""
        self._render()

    def _orders_changed(self, ids: list[str], _initiator: object = None) -> None:
        if self.order_id is not None and self.order_id in ids:
            self.show_order(self.order_id, with_hub_audit=False)

    # -- rendering ------------------------------------------------------------------------------
    def text(self) -> str:
        """The pane's plain text (tests and accessibility)."""
        doc = self.body.text()
        from PySide6.QtGui import QTextDocument

        d = QTextDocument()
        d.setHtml(doc)
        return d.toPlainText()

    def _render(self) -> None:
        data = self.data
        if data is None or data.order is None:
            missing = _("Order {order} is not on this station.").format(order=self.order_id)
            self.body.setText(f"<p>{_e(missing)}</p>")
            return
        o = data.order
        s = o.snapshot
        zh = language().startswith("zh")
        # Words first: gettext extraction does not look inside f-strings.
        t = {"bench": _("Bench"), "ship_by": _("Ship by"), "carrier": _("Carrier"),
             "cancel": _("The buyer asked to cancel after the label was printed: pull the parcel."),
             "items": _("Items"), "recipient": _("Recipient"), "holds": _("Holds"), "history": _("History"),
             "this_station": _("this station"), "journal": _("Print journal"), "nothing": _("Nothing printed yet."),
             "reprint": _("reprint"), "no_phone": _("(no phone)")}
        parts: list[str] = []
        parts.append(f"<h2 style='margin:0'>{_e(o.order_id)}</h2>")
        sync = ""
        if o.has_conflict:
            sync = " · <b style='color:#c62828'>↯ " + _e(_("Conflict")) + "</b>"
        elif o.pending:
            sync = " · ↻ " + _e(_("{n} pending").format(n=o.pending))
        parts.append(
            f"<p style='font-size:14pt'><b>{_e(state_text(o.state))}</b> · {_e(channel_name(s.get('channel')))} "
            f"{_e(s.get('channel_order_no'))} · {_e(t['bench'])} {_e(s.get('bench') or '—')}{sync}</p>")
        ship = _when(s.get("ship_by"))
        parts.append(f"<p>{_e(t['ship_by'])}: <b>{_e(ship or '—')}</b> · {_e(t['carrier'])}: "
                     f"{_e(carrier_name(s.get('carrier')) if s.get('carrier') else '—')} {_e(s.get('waybill_no') or '')}</p>")
        parts.extend(link_lines(s))
        if o.conflict:
            why = refusal_text(o.conflict.get("error"), o.conflict.get("reason"))
            parts.append(f"<p style='background:#ffcdd2;padding:4px'>↯ {_e(why)}</p>")
        if s.get("cancel_requested"):  # an intercept request (docs/desk.md): the parcel may have left already
            gone = _("The buyer cancelled after shipment: ask the carrier to intercept and return the parcel.")
            parts.append(f"<p style='background:#ffe0b2'>▲ {_e(gone if o.state == 'shipped' else t['cancel'])}</p>")
        parts.extend(_handover_lines(s))
        # lines: one block each (the pane is narrow; a five-column table wrapped names letter by letter)
        parts.append(f"<h3>{_e(t['items'])}</h3><table width='100%' cellspacing='0' cellpadding='3'>")
        for line in s.get("lines") or []:
            gift = f" <span style='background:#bbdefb'>{_e(display_icon('◈') + ' ' + _('Gift'))}</span>" \
                if line.get("is_gift") else ""
            where = " · ".join(_e(v) for v in (line.get("sku"), line.get("bin") and f"{_('Bin')} {line.get('bin')}")
                               if v)
            parts.append(f"<tr><td valign='top' style='white-space:nowrap'><b>{_e(line.get('qty'))} ×</b></td>"
                         f"<td>{_e(line.get('name'))}{gift}<br><span style='color:#555'>{where}</span></td></tr>")
        parts.append("</table>")
        rec = s.get("recipient") or {}
        parts.append(f"<h3>{_e(t['recipient'])}</h3><p>{_e(rec.get('name'))} · {_e(mask_phone(str(rec.get('phone') or '')) or t['no_phone'])}<br>"
                     f"{_e(rec.get('province'))}{_e(rec.get('city'))}{_e(rec.get('district'))}"
                     f"{_e(rec.get('address'))}</p>")
        for note, label in ((s.get("buyer_note"), _("Buyer note")), (s.get("seller_note"), _("Seller note"))):
            if note:
                parts.append(f"<p><i>{_e(label)}:</i> {_e(note)}</p>")
        # holds
        holds = s.get("holds") or []
        if holds:
            parts.append(f"<h3>▲ {_e(t['holds'])}</h3><ul>")
            for h in holds:
                parts.append(
                    f"<li style='background:#fff59d'><b>{_e(hold_label(str(h.get('type')), 'zh_CN' if zh else 'en'))}"
                    f"</b>: {_e(one_language(h.get('reason')))} <span style='color:#555'>({_e(_age(h.get('raised_at')))})"
                    "</span></li>")
            parts.append("</ul>")
        # tracking (物流轨迹): from the printed label on, and whenever the carrier reported any
        if s.get("tracking") or o.state in TRACKED_STATES:
            parts.append(tracking_html(s))
        # history
        parts.append(f"<h3>{_e(t['history'])}</h3><ul>")
        entries: list[tuple[str, str]] = []
        for a in data.local_audit:
            entries.append((str(a.get("at") or ""),
                            f"{_e(_when(a.get('at')))} · {_e(a.get('operator'))} · "
                            f"{_e(audit_what(a.get('what'), a.get('details')))} <i>({_e(t['this_station'])})</i>"))
        for h in self.hub_audit or []:
            raw = h.get("details")
            details: dict[str, Any] = raw if isinstance(raw, dict) else {}
            why = f" — {_e(audit_why(h.get('why'), details))}" if h.get("why") else ""
            at = str(details.get("done_at") or h.get("at") or "")  # when it was done, not when it synced
            late = (" <span style='color:#555'>(" + _e(_("synced by {operator} at {at}").format(
                operator=details["synced_by"], at=_when(h.get("at")))) + ")</span>") if details.get("synced_by") else ""
            entries.append((at,
                            f"{_e(_when(at))} · {_e(_operator(h.get('operator')))} · "
                            f"<b>{_e(audit_what(h.get('what')))}</b>{_e(_moved(h.get('from_state'), h.get('to_state')))}"
                            f"{why}{late}"))
        for _at, text in sorted(entries, key=lambda e: e[0]):  # stable: the hub's order within a second
            parts.append(f"<li>{text}</li>")
        parts.append("</ul>")
        if self.hub_audit_note:
            parts.append(f"<p style='color:#666'>{_e(self.hub_audit_note)}</p>")
        # print journal
        parts.append(f"<h3>{_e(t['journal'])}</h3>")
        if not data.jobs:
            parts.append(f"<p style='color:#666'>{_e(t['nothing'])}</p>")
        else:
            parts.append("<ul>")
            for j in data.jobs:
                ok = "✔" if j.get("ok") else "✘ " + one_language(j.get("error") or "")
                reason = f" — {t['reprint']}: {j.get('reprint_reason')}" if j.get("reprint_reason") else ""
                parts.append(f"<li>{_e(_when(j.get('at')))} · {_e(doc_type_name(j.get('doc_type')))} · {_e(j.get('printer'))} · "
                             f"{_e(ok)}{_e(reason)}</li>")
            parts.append("</ul>")
        self.body.setText("".join(parts))


def link_lines(s: dict[str, Any]) -> list[str]:
    """The order's split and merge connections (docs/split-merge.md): icon, words and the other IDs."""
    out = []
    split = split_link(s)
    split_word, merged_word = _("split"), _("merged")  # words first: extraction does not look inside f-strings
    if split:
        out.append(f"<p style='background:#e1f5fe;padding:4px'><b>◐ {_e(split_word)}</b>: {_e(split)}</p>")
    others = merged_with(s)
    if others:
        text = _("One parcel, one waybill with {ids}").format(ids=", ".join(others))
        out.append(f"<p style='background:#e8f5e9;padding:4px'><b>● {_e(merged_word)}</b>: {_e(text)}</p>")
    return out


def _handover_lines(s: dict[str, Any]) -> list[str]:
    """The parcel's hand-over: the batch it left in, or by when it must go (its carrier's cut-off)."""
    done = s.get("handover")
    if isinstance(done, dict) and done.get("batch_id"):
        text = _("Handed over in batch {batch} at {station} by {operator}, {at}").format(
            batch=done.get("batch_id"), station=done.get("station") or "—", operator=_operator(done.get("operator")),
            at=_when(done.get("at")) or "—")
        return [f"<p>{_e(text)}</p>"]
    due = _when(s.get("handover_due")) if s.get("state") == "label_printed" else ""
    if not due:
        return []
    if handover_late(s, utcnow()):
        text = display_icon("※") + " " + _("Missed the carrier cut-off ({due}): not handed over yet").format(due=due)
        return [f"<p style='background:#ff7043;padding:4px'><b>{_e(text)}</b></p>"]
    return [f"<p>{_e(_('Hand over to the carrier by {due}').format(due=due))}</p>"]


def format_time(dt: datetime | None) -> str:
    return to_local(dt).strftime("%H:%M") if dt is not None else "—"
