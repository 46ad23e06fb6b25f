"""Login: operator code + PIN, checked by the hub — or, offline, against this station's memory.

Why offline login: a bench must keep packing when the network drops at 9 am. An operator who has
logged in successfully on *this* station before may log in while the hub is unreachable; the station
keeps a salted PBKDF2 hash of the PIN with the operator's name and role (in the local store's meta
table, never the PIN itself). The sync engine still gets the credentials (in memory) and logs in
for real when the hub comes back; the hub then checks the PIN again. An operator the station has
never seen is refused while offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.errors import UserError
from core.i18n import _
from core.store import LocalStore
from core.sync import HubError, HubUnauthorized, LoginInfo, WrongStation
from core.timeutil import iso, utcnow
from ui.services import AppServices, Operator

log = logging.getLogger("packdesk.ui.login")

ITERATIONS = 120_000
#: Login refusals that mean "wait for a supervisor", not "you typed something wrong".
WAITING_CODES = frozenset({"station_pending", "station_device_mismatch"})
META_PREFIX = "known_operator:"


def _hash(pin: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)


def remember_operator(store: LocalStore, info: LoginInfo, pin: str) -> None:
    """After a successful hub login: keep a salted hash of the PIN with name and role (not the PIN)."""
    salt = os.urandom(16)
    record = {"code": info.operator, "name": info.operator_name, "role": info.role, "salt": salt.hex(),
              "iterations": ITERATIONS, "hash": _hash(pin, salt, ITERATIONS).hex(), "last_login": iso(utcnow())}
    with store.write() as conn:
        store.set_meta(conn, META_PREFIX + info.operator, json.dumps(record))


def check_offline(store: LocalStore, code: str, pin: str) -> Operator | None:
    """The operator if ``code`` logged in here before with this PIN; None otherwise."""
    raw = store.meta(META_PREFIX + code)
    if raw is None:
        return None
    try:
        rec = json.loads(raw)
        expected = bytes.fromhex(rec["hash"])
        got = _hash(pin, bytes.fromhex(rec["salt"]), int(rec["iterations"]))
    except (ValueError, KeyError, TypeError):
        log.warning("offline login record for %s is unreadable; ignoring it", code)
        return None
    if not hmac.compare_digest(expected, got):
        return None
    return Operator(code, str(rec.get("name") or code), str(rec.get("role") or "packer"))


class OfflineRefused(UserError):
    code = "offline_login_refused"


class WrongPin(UserError):
    code = "wrong_pin"


@dataclass(frozen=True)
class LoginResult:
    operator: Operator
    offline: bool


def login(services: AppServices, code: str, pin: str) -> LoginResult:
    """Log in on the hub, or offline for a known operator. Blocking: runs on the network pool."""
    engine = services.engine
    store = services.store
    if engine is None:
        op = check_offline(store, code, pin)
        if op is None:
            raise OfflineRefused(_("There is no hub to check the PIN, and operator {code} has not logged in on "
                                   "this station before.").format(code=code))
        return LoginResult(op, True)
    try:
        info = engine.login(code, pin)
    except (HubUnauthorized, WrongStation) as exc:
        if isinstance(exc, WrongStation):
            raise
        if exc.code not in ("unauthorized", "bad_credentials"):
            raise  # refused for another reason (e.g. a packer on a desk station): the hub's own words
        raise WrongPin(_("Wrong operator code or PIN. Check them and try again.")) from exc
    except HubError as exc:
        # The hub cannot be reached (or is failing): offline login for an operator known here.
        op = check_offline(store, code, pin)
        if op is None:
            raise OfflineRefused(_("The hub cannot be reached ({why}) and operator {code} has not logged in on "
                                   "this station before (or the PIN is wrong). Offline login is only for "
                                   "operators who logged in here before.").format(why=exc.message, code=code)) from exc
        engine.set_credentials(code, pin)  # the engine logs in for real when the hub is back
        log.info("offline login for %s (%s)", code, op.role)
        return LoginResult(op, True)
    remember_operator(store, info, pin)
    return LoginResult(Operator(info.operator, info.operator_name or info.operator, info.role), False)


class LoginDialog(QDialog):
    """Operator code + PIN. On accept, :attr:`result_value` holds who logged in and whether offline."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(_("Log in"))
        self.services = services
        self.result_value: LoginResult | None = None
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
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.code.returnPressed.connect(self.pin.setFocus)
        self.resize(420, 220)

    def submit(self) -> None:
        code = self.code.text().strip().upper()
        pin = self.pin.text()
        if not code or not pin:
            self.message.setText(_("Enter your operator code and PIN."))
            return
        self.message.setStyleSheet("color: #1565c0; font-size: 13pt;")
        self.message.setText(_("Logging in…"))
        self.buttons.setEnabled(False)
        self.services.tasks.run_net(lambda: login(self.services, code, pin), self._done, self._failed)

    def _done(self, result: LoginResult) -> None:
        self.result_value = result
        self.services.set_operator(result.operator)
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
