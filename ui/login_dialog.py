"""The login dialog: operator code + PIN, checked by the hub or, offline, by this station's memory.

The rules (who may log in offline, the PIN hash kept in the store) are in :mod:`core.offline_login`;
this dialog runs its two steps on the task runner — the hub on the network pool, the store on the
database worker (the store's single writer) — and shows the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.errors import UserError
from core.i18n import _
from core.offline_login import HubAnswer, LoginResult, finish_login, hub_login
from core.sync import SyncState
from ui.services import AppServices, Operator

log = logging.getLogger("packdesk.ui.login")

#: Login refusals that mean "wait for a supervisor", not "you typed something wrong".
WAITING_CODES = frozenset({"station_pending", "station_device_mismatch"})


@dataclass(frozen=True)
class LoggedIn:
    """Who logged in (as the services know operators) and whether it was offline."""

    operator: Operator
    offline: bool


class LoginDialog(QDialog):
    """Operator code + PIN. On accept, :attr:`result_value` holds who logged in and whether offline.

    Args:
        services: the app's services (the login sets their operator).
        switching: a shift change in a running app (Ctrl+Shift+Q): the title says so, and Cancel
            is "Quit PackDesk" — nobody is logged in any more, so there is nothing to go back to.
    """

    def __init__(self, services: AppServices, parent: QWidget | None = None, *, switching: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(_("Change operator: log in") if switching else _("Log in"))
        self.services = services
        self.result_value: LoggedIn | None = None
        self._pending_line = switching
        layout = QVBoxLayout(self)
        station = services.settings.station or "—"
        bench = services.settings.bench or _("desk")
        head = QLabel(_("Station {station} · bench {bench}").format(station=station, bench=bench), self)
        head.setStyleSheet("font-size: 14pt;")
        layout.addWidget(head)
        form = QFormLayout()
        self.code = QLineEdit(self)
        self.code.setObjectName("operatorCode")
        self.code.setPlaceholderText("P001")
        self.pin = QLineEdit(self)
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("Operator code"), self.code)
        form.addRow(_("PIN"), self.pin)
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828; font-size: 13pt;")
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("Log in"))
        if switching:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Quit PackDesk"))
            self._show_pending(services.sync_state())
            # The count can change while the dialog is open (an action done just before the switch
            # is still being counted on the database worker): keep the line current.
            services.sync_state_changed.connect(self._show_pending)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.code.returnPressed.connect(self.pin.setFocus)
        self.resize(420, 220)

    def _show_pending(self, state: SyncState | None) -> None:
        if not self._pending_line:  # a login attempt's words are on the line now
            return
        pending = state.pending if state is not None else 0
        if pending:
            self.message.setStyleSheet("color: #1565c0; font-size: 13pt;")
            self.message.setText(_("{n} actions wait to sync; they stay queued under the operator who did them.")
                                 .format(n=pending))
        else:
            self.message.clear()

    def submit(self) -> None:
        code = self.code.text().strip().upper()
        pin = self.pin.text()
        if not code or not pin:
            self._pending_line = False
            self.message.setText(_("Enter your operator code and PIN."))
            return
        self.message.setStyleSheet("color: #1565c0; font-size: 13pt;")
        self._pending_line = False
        self.message.setText(_("Logging in…"))
        self.buttons.setEnabled(False)
        engine = self.services.engine
        self.services.tasks.run_net(lambda: hub_login(engine, code, pin), lambda answer: self._hub_answered(
            code, pin, answer), self._failed)

    def _hub_answered(self, code: str, pin: str, answer: HubAnswer) -> None:
        store, engine = self.services.store, self.services.engine
        self.services.tasks.run_db(lambda: finish_login(store, engine, code, pin, answer), self._done, self._failed)

    def _done(self, result: LoginResult) -> None:
        op = result.operator
        self.result_value = LoggedIn(Operator(op.code, op.name, op.role), result.offline)
        self.services.set_operator(self.result_value.operator)
        self.buttons.setEnabled(True)
        super().accept()

    def _failed(self, exc: UserError) -> None:
        self.buttons.setEnabled(True)
        # A station waiting for approval is not the operator's mistake: said calmly, in blue, with
        # what to do (core.sync.client words it in the operator's language).
        waiting = exc.code in WAITING_CODES
        self.message.setStyleSheet(f"color: {'#1565c0' if waiting else '#c62828'}; font-size: 13pt;")
        self.message.setProperty("waiting", waiting)
        self.message.setText(exc.message)
        self.pin.clear()
        self.pin.setFocus()
