"""The desk's split and merge dialogs (拆单 / 合单), docs/split-merge.md.

- :class:`SplitDialog` (Ctrl+Shift+X): one row per line with a "ship now" number (Tab moves
  between them), a reason (required), Enter splits. The choice is checked with
  :func:`core.split_merge.split_lines`, the hub's own rule, before it is queued.
- :class:`MergeDialog` (Ctrl+Shift+M): the orders the hub lists as candidates (same buyer, same
  address, allocated and not printed, same warehouse), each a check box (Space ticks it); Enter
  merges the ticked ones into this order's parcel. "Unmerge" takes the order out of its parcel.

Both queue an action in the outbox (``order_split``, ``order_merge``, ``order_unmerge``); the
parts and the parcel are made by the hub, so the dialog says the result shows once the hub has
answered (offline: it waits in the outbox). The candidates come from the hub on the network pool;
the GUI thread never waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.i18n import _
from core.split_merge import merged_with, split_lines, whole_line_warning
from core.store import LocalOrder
from ui.services import AppServices

__all__ = ["MergeDialog", "SplitDialog"]

def _hub_note() -> str:
    return _("The hub makes the change: the result shows here once it has answered (offline, the action "
             "waits in the outbox and is sent when the hub can be reached).")


def _footer(dialog: QDialog, layout: QVBoxLayout, name: str, ok_text: str, submit: Callable[[], None],
            extra: QPushButton | None = None) -> tuple[QLabel, QPushButton]:
    """What both dialogs end with: the note that the hub decides, the problem line (red, ✘) and the
    buttons (Enter acts, Esc cancels, ``extra`` between them). Returns the problem line and the OK button."""
    note = QLabel(_hub_note())
    note.setWordWrap(True)
    note.setStyleSheet("color:#555")
    layout.addWidget(note)
    problem = QLabel("")
    problem.setObjectName(f"{name}Problem")
    problem.setWordWrap(True)
    problem.setStyleSheet("color:#c62828")
    layout.addWidget(problem)
    buttons = QDialogButtonBox(dialog)
    ok = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setDefault(True)
    if extra is not None:
        buttons.addButton(extra, QDialogButtonBox.ButtonRole.ActionRole)
    buttons.addButton(_("Cancel (Esc)"), QDialogButtonBox.ButtonRole.RejectRole)
    buttons.accepted.connect(submit)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return problem, ok


class SplitDialog(QDialog):
    """Choose what ships now; the rest becomes the back-order part. :attr:`sent` after Enter."""

    def __init__(self, services: AppServices, order: LocalOrder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("splitDialog")
        self.setWindowTitle(_("Split order {order}").format(order=order.order_id))
        self.setModal(True)
        self.services = services
        self.order = order
        self.sent = False
        self.lines: list[dict[str, Any]] = list(order.snapshot.get("lines") or [])
        layout = QVBoxLayout(self)
        intro = QLabel(_("Choose how many of each item ship now; the rest becomes a back-order part that waits "
                         "for stock. The order gets two parts, {a} and {b}.").format(
            a=f"{order.order_id}-1", b=f"{order.order_id}-2"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(self.lines), 4, self)
        self.table.setObjectName("splitLines")
        self.table.setHorizontalHeaderLabels([_("Item name"), _("SKU"), _("Ordered"), _("Ship now")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):  # the SKU and the count whole (a SKU was cut to 'SKU-…')
            self.table.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.spins: list[QSpinBox] = []
        for row, ln in enumerate(self.lines):
            for col, value in enumerate((ln.get("name"), ln.get("sku"), ln.get("qty"))):
                self.table.setItem(row, col, QTableWidgetItem(str(value if value is not None else "")))
            spin = QSpinBox()
            spin.setRange(0, int(ln.get("qty") or 0))
            spin.setAccessibleName(_("Ship now: {name}").format(name=ln.get("name")))
            self.table.setCellWidget(row, 3, spin)
            self.spins.append(spin)
        layout.addWidget(self.table)
        # 小红书 takes a part's shipment by whole lines only: say so while the units are chosen.
        self.warning = QLabel("")
        self.warning.setObjectName("splitWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color:#e65100; font-weight: bold;")
        self.warning.hide()
        layout.addWidget(self.warning)
        for spin in self.spins:
            spin.valueChanged.connect(lambda _v: self._warn())
        layout.addWidget(QLabel(_("Reason (required)")))
        self.reason = QLineEdit()
        self.reason.setObjectName("splitReason")
        self.reason.setPlaceholderText(_("e.g. nuts out of stock: tea ships now"))
        layout.addWidget(self.reason)
        self.problem, self.ok = _footer(self, layout, "split", _("Split (Enter)"), self.submit)
        self.resize(640, 420)
        if self.spins:
            self.spins[0].setFocus()

    def _warn(self) -> None:
        text = whole_line_warning(self.order.snapshot, self.ship_now())
        self.warning.setText("▲ " + text if text else "")
        self.warning.setVisible(bool(text))

    def ship_now(self) -> dict[str, int]:
        """The choice as the action's ``lines``: {sku: units to ship now}."""
        out: dict[str, int] = {}
        for ln, spin in zip(self.lines, self.spins, strict=True):
            if spin.value():
                out[str(ln["sku"])] = out.get(str(ln["sku"]), 0) + spin.value()
        return out

    def submit(self) -> None:
        """Check with the hub's own rule, then queue ``order_split``; a problem is shown in words."""
        reason = self.reason.text().strip()
        try:
            split_lines(self.order.snapshot, self.ship_now())
        except UserError as exc:
            self.problem.setText("✘ " + exc.message)
            return
        if not reason:
            self.problem.setText("✘ " + _("Give a reason: it goes into the history of all three orders."))
            self.reason.setFocus()
            return
        self.ok.setEnabled(False)
        self.services.perform(self.order.order_id, "order_split", {"reason": reason, "lines": self.ship_now()},
                              on_done=lambda _o: self._done(), on_error=self._failed)

    def _done(self) -> None:
        self.sent = True
        self.accept()

    def _failed(self, exc: UserError) -> None:
        self.ok.setEnabled(True)
        self.problem.setText("✘ " + exc.message)


class MergeDialog(QDialog):
    """Tick the orders that go into this order's parcel (合单); or take the order out of its parcel."""

    def __init__(self, services: AppServices, order: LocalOrder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mergeDialog")
        self.setWindowTitle(_("Merge into one parcel: {order}").format(order=order.order_id))
        self.setModal(True)
        self.services = services
        self.order = order
        self.sent = False
        self.candidates: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        members = merged_with(order.snapshot)
        now = (_("In one parcel with: {ids}").format(ids=", ".join(members)) if members
               else _("Not merged with another order."))
        self.current = QLabel(("● " if members else "○ ") + now)
        self.current.setObjectName("mergeCurrent")
        layout.addWidget(self.current)
        intro = QLabel(_("Orders of the same buyer to the same address, allocated and not printed, from the same "
                         "warehouse. Tick those that go into this parcel (Space), then Enter: one label, one "
                         "waybill for all."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.status = QLabel(_("Asking the hub for orders of this buyer…"))
        self.status.setObjectName("mergeStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.list = QListWidget(self)
        self.list.setObjectName("mergeCandidates")
        layout.addWidget(self.list)
        layout.addWidget(QLabel(_("Reason (optional)")))
        self.reason = QLineEdit()
        self.reason.setObjectName("mergeReason")
        layout.addWidget(self.reason)
        self.unmerge_button = QPushButton(_("Unmerge (Alt+U)"))
        self.unmerge_button.setObjectName("unmergeButton")
        self.unmerge_button.setShortcut("Alt+U")
        self.unmerge_button.setEnabled(bool(members))
        self.unmerge_button.clicked.connect(self.unmerge)
        self.problem, self.ok = _footer(self, layout, "merge", _("Merge (Enter)"), self.submit, self.unmerge_button)
        self.ok.setEnabled(False)
        self.resize(640, 460)

    def refresh(self) -> None:
        """Ask the hub for the candidates (network pool); the list fills when it answers."""
        engine = self.services.engine
        if engine is None:
            self.status.setText("✘ " + _("This station has no hub: merging needs the hub's list of orders."))
            return
        oid = self.order.order_id
        self.services.tasks.run_net(lambda: engine.call_hub(lambda c: c.merge_candidates(oid), read_timeout_s=5.0),
                                    self.show_candidates, self._unreachable)

    def _unreachable(self, exc: UserError) -> None:
        self.status.setText("✘ " + _("The hub cannot be reached, so the orders of this buyer cannot be listed: "
                                     "{why}").format(why=exc.message))

    def show_candidates(self, rows: list[dict[str, Any]]) -> None:
        members = set(merged_with(self.order.snapshot))
        self.candidates = [r for r in rows if r["order_id"] not in members]
        self.list.clear()
        for r in self.candidates:
            items = ", ".join(f"{ln.get('name')} ×{ln.get('qty')}" for ln in r.get("lines") or [])
            item = QListWidgetItem(f"{r['order_id']} · {r.get('bench') or '—'} · {items}")
            item.setData(Qt.ItemDataRole.UserRole, r["order_id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        if self.candidates:
            self.status.setText("✓ " + _("{n} order(s) of this buyer can join the parcel.").format(n=len(self.candidates)))
            self.list.setCurrentRow(0)
            self.list.setFocus()
            self.ok.setEnabled(True)
        else:
            self.status.setText("○ " + _("No other order of this buyer to this address can join the parcel now."))

    def ticked(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def submit(self) -> None:
        ids = self.ticked()
        if not ids:
            self.problem.setText("✘ " + _("Tick at least one order (Space) to merge with."))
            return
        payload = {"with": ",".join(ids)}
        if self.reason.text().strip():
            payload["reason"] = self.reason.text().strip()
        self._send("order_merge", payload)

    def unmerge(self) -> None:
        payload = {"reason": self.reason.text().strip()} if self.reason.text().strip() else {}
        self._send("order_unmerge", payload)

    def _send(self, kind: str, payload: dict[str, Any]) -> None:
        self.ok.setEnabled(False)
        self.unmerge_button.setEnabled(False)
        self.services.perform(self.order.order_id, kind, payload, on_done=lambda _o: self._done(),
                              on_error=self._failed)

    def _done(self) -> None:
        self.sent = True
        self.accept()

    def _failed(self, exc: UserError) -> None:
        self.ok.setEnabled(bool(self.candidates))
        self.unmerge_button.setEnabled(bool(merged_with(self.order.snapshot)))
        self.problem.setText("✘ " + exc.message)
