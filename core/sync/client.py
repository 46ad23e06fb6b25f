"""HTTP client for the hub API v1 (docs/api.md), with typed errors in plain words.

Every way the hub can fail is one :class:`HubError` subclass, so the sync engine can decide what to
do (retry with back-off, log in again, re-sync from scratch, give up on one action) and the status
bar can say it in words an operator understands. Answers are checked for shape before anything is
taken from them: a truncated or odd answer is :class:`HubMalformed`, never half-applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests

from core.errors import UserError
from core.i18n import _
from core.states import State
from core.store.tickets import check_doc as check_ticket
from core.version import CLIENT_VERSION, too_old_message
from core.version import HEADER as VERSION_HEADER

log = logging.getLogger("packdesk.sync")

API = "/api/v1"
_STATES = frozenset(s.value for s in State)


class HubError(UserError):
    """The hub could not be used for this call. ``retryable`` says whether trying later may help."""

    code = "hub_error"
    retryable = True


class HubUnreachable(HubError):
    code = "hub_unreachable"


class HubServerError(HubError):
    code = "hub_server_error"


class HubMalformed(HubError):
    code = "hub_malformed"


class HubAuthExpired(HubError):
    code = "token_expired"


class HubUnauthorized(HubError):
    """Bad token, or login refused (wrong operator code or PIN)."""

    code = "unauthorized"
    retryable = False


class CursorExpired(HubError):
    code = "cursor_expired"


class WrongStation(HubError):
    """The hub answered for another station, bench or device (wrong hub address, or a mix-up)."""

    code = "wrong_station"
    retryable = False


class ClientTooOld(HubError):
    """The hub needs a newer client: nothing is sent until this PC is updated (the outbox is kept)."""

    code = "client_too_old"
    retryable = False


class HubRefused(HubError):
    """A 4xx the engine has no special handling for; ``code`` is the hub's error code."""

    retryable = False

    def __init__(
        self, message: str, *, code: str | None = None, details: Any = None, status: int = 400
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.status = status


class LoginRefused(HubRefused):
    """The hub refused a login for a reason the operator can act on (the station waits for approval,
    too many wrong PINs, …): the message is ours, in the operator's language; ``code`` is the hub's."""


def _login_refusal(code: str | None, details: Any, status: int) -> LoginRefused | None:
    """Our own words for the hub's login refusals (docs/security.md); None for any other answer."""
    info = details if isinstance(details, dict) else {}
    station = str(info.get("station") or "")
    wait = info.get("retry_after_s")
    if code == "station_pending":
        text = _("This station ({station}) waits for a supervisor's approval. Ask a supervisor to approve it "
                 "(PackDesk: More → Stations), then log in again.").format(station=station)
    elif code == "station_device_mismatch":
        text = _("Station {station} is registered to another PC. If this PC replaces it, ask a supervisor to "
                 "approve the station again.").format(station=station)
    elif code == "station_revoked":
        text = _("Station {station} has been switched off by a supervisor; it can do nothing until it is "
                 "approved again.").format(station=station)
    elif code == "login_throttled":
        text = _("Too many wrong PINs. Wait {s} seconds and try again.").format(s=wait if wait is not None else "?")
    elif code == "login_locked":
        text = _("Too many wrong PINs: this login is locked. Ask an admin to unlock it, or try again in "
                 "{m} minutes.").format(m=(int(wait) + 59) // 60 if isinstance(wait, int) else "?")
    elif code == "no_operators":
        text = _("The hub has no operators yet. An admin creates the first one on the hub's PC: "
                 "python main.py hub set-pin A001 --name NAME --role admin --pin PIN")
    elif code == "default_pin":
        text = _("This operator still has the demo PIN. Ask an admin to set a new PIN first.")
    else:
        return None
    return LoginRefused(text, code=code, details=details, status=status)


@dataclass(frozen=True)
class LoginInfo:
    """Who is logged in, on which station (from ``POST /auth/login``)."""

    token: str
    expires_at: str
    operator: str
    operator_name: str
    role: str
    station: str
    bench: str | None
    device_id: str
    #: this login's action key ``{"key_id", "key", "expires_at"}`` (docs/api.md); None from an older hub
    action_key: dict[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ChangesPage:
    changes: list[dict[str, Any]]
    next_cursor: int
    more: bool


@dataclass(frozen=True)
class SnapshotPage:
    orders: list[dict[str, Any]]
    next_after: str | None
    cursor: int


@dataclass(frozen=True)
class TicketsPage:
    """One keyset page of ``GET /api/v1/tickets?status=open&after=`` (a desk's first sync of tickets)."""

    tickets: list[dict[str, Any]]
    next_after: str | None
    cursor: int


@dataclass(frozen=True)
class ActionsAnswer:
    results: list[dict[str, Any]]
    last_applied_seq: int | None


def _action_key(raw: Any) -> dict[str, str] | None:
    """The login answer's action key if it has the documented shape (else the actions go unsigned)."""
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k)
                                            for k in ("key_id", "key", "expires_at")):
        return None
    return {"key_id": raw["key_id"], "key": raw["key"], "expires_at": raw["expires_at"]}


def check_snapshot(snap: Any) -> dict[str, Any]:
    """The minimum a snapshot must have before the store takes it."""
    if (
        not isinstance(snap, dict)
        or not isinstance(snap.get("order_id"), str)
        or not isinstance(snap.get("version"), int)
        or snap.get("state") not in _STATES
    ):
        raise HubMalformed(_("The hub sent an order the client cannot read (missing ID, version or state)."))
    return snap


class HubClient:
    """One hub connection (a requests Session). Not shared between threads.

    Args:
        base_url: e.g. ``http://127.0.0.1:8700``.
        connect_timeout_s: how long to wait for a TCP connection.
        read_timeout_s: how long to wait for an answer (long-polls add their wait to this).
    """

    def __init__(
        self, base_url: str, *, connect_timeout_s: float = 3.0, read_timeout_s: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.token: str | None = None
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        extra_wait_s: float = 0.0,
        raw: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json", VERSION_HEADER: CLIENT_VERSION}
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.base_url + API + path
        try:
            resp = self.session.request(
                method,
                url,
                json=json_body,
                data=body,
                params=params,
                headers=headers,
                timeout=(self.connect_timeout_s, self.read_timeout_s + extra_wait_s),
            )
            body = resp.content  # read it all here: a cut connection is a network error
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise HubMalformed(
                _("The hub's answer from {hub} was cut off; will try again.").format(hub=self.base_url), details=str(exc)
            ) from exc
        except requests.Timeout as exc:
            raise HubUnreachable(
                _("The hub at {hub} did not answer in time.").format(hub=self.base_url), details=str(exc)
            ) from exc
        except requests.RequestException as exc:
            raise HubUnreachable(
                _("Cannot reach the hub at {hub} (network or hub down).").format(hub=self.base_url), details=str(exc)
            ) from exc
        status = resp.status_code
        if status >= 500:
            raise HubServerError(
                _("The hub had an internal error (HTTP {status}); will try again.").format(status=status),
                details=body[:500].decode("utf-8", "replace"),
            )
        if raw and 200 <= status < 300:
            return body  # a file (a report); the hub's refusals are JSON like every other answer
        try:
            data = resp.json()
        except ValueError as exc:
            raise HubMalformed(
                _("The hub's answer (HTTP {status}) was cut off or is not JSON; will try again.").format(status=status),
                details=body[:200].decode("utf-8", "replace"),
            ) from exc
        if 200 <= status < 300:
            return data
        code = data.get("error") if isinstance(data, dict) else None
        message = (data.get("message") if isinstance(data, dict) else None) or f"HTTP {status}"
        details = data.get("details") if isinstance(data, dict) else None
        if status == 426 or code == "client_too_old":
            minimum = details.get("min_client_version") if isinstance(details, dict) else None
            raise ClientTooOld(too_old_message(CLIENT_VERSION, str(minimum or "?")), details=details)
        refusal = _login_refusal(code, details, status) if path == "/auth/login" else None
        if refusal is not None:
            raise refusal
        if status == 401:
            if code == "token_expired":
                raise HubAuthExpired(_("The login has expired; logging in again."), details=details)
            raise HubUnauthorized(
                _("The hub refused the login: {why}").format(why=message), code=code or "unauthorized", details=details
            )
        if status == 410:
            raise CursorExpired(
                _("The hub no longer has changes this far back; downloading all orders again."), details=details
            )
        if status in (408, 429):
            raise HubServerError(_("The hub is busy (HTTP {status}); will try again.").format(status=status), details=details)
        if status == 409 and code == "station_bench_mismatch":
            raise WrongStation(
                _("The hub knows this station with another bench: {why}").format(why=message), code=code, details=details
            )
        raise HubRefused(
            _("The hub refused the request: {why}").format(why=message),
            code=code or f"http_{status}",
            details=details,
            status=status,
        )

    # -- endpoints -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        data = self._request("GET", "/health", auth=False)
        if not isinstance(data, dict) or data.get("status") != "ok" or not isinstance(data.get("head"), int):
            raise HubMalformed(
                _("The server at {hub} answers, but not like a PackDesk hub (check the hub address).").format(hub=self.base_url)
            )
        return data

    def login(self, operator: str, pin: str, *, station: str, bench: str | None, device_id: str) -> LoginInfo:
        """Log in and keep the token; checks the hub answered for this station and device."""
        data = self._request(
            "POST",
            "/auth/login",
            auth=False,
            json_body={
                "operator": operator,
                "pin": pin,
                "station": station,
                "bench": bench or None,
                "device_id": device_id,
            },
        )
        try:
            op = data["operator"]
            st = data["station"]
            info = LoginInfo(
                token=str(data["token"]),
                expires_at=str(data.get("expires_at") or ""),
                operator=str(op["code"]),
                operator_name=str(op.get("name") or ""),
                role=str(op["role"]),
                station=str(st["name"]),
                bench=st.get("bench"),
                device_id=str(data.get("device_id") or device_id),
                action_key=_action_key(data.get("action_key")),
            )
        except (KeyError, TypeError) as exc:
            raise HubMalformed(_("The hub's login answer is incomplete.")) from exc
        if info.station != station or info.device_id != device_id or info.operator != operator:
            raise WrongStation(
                _("The hub answered for station {theirs!r} (device {device}, operator {operator}), not for {ours!r}. "
                  "Check the hub address in the settings.").format(theirs=info.station, device=info.device_id,
                                                                   operator=info.operator, ours=station),
                details={"station": info.station, "device_id": info.device_id},
            )
        if (bench or None) is not None and info.bench != bench:
            raise WrongStation(
                _("The hub has station {station!r} on bench {theirs!r}, but this PC is set up for bench {ours!r}. "
                  "Ask a supervisor to fix the station or the settings.").format(station=station, theirs=info.bench,
                                                                                 ours=bench),
                details={"bench": info.bench},
            )
        self.token = info.token
        return info

    def changes(self, cursor: int, *, limit: int = 1000, wait_s: float = 0.0, tickets: bool = False) -> ChangesPage:
        """One page of the change feed; with ``tickets`` the feed's ticket changes too (desk and above).

        A ticket change is kept as ``{"seq", "kind": "ticket", "order_id", "ticket": document}``;
        an order change as before (no ``kind``).
        """
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if tickets:
            params["kinds"] = "order,ticket"
        if wait_s > 0:
            params["wait"] = int(wait_s) if float(wait_s).is_integer() else wait_s
        data = self._request("GET", "/changes", params=params, extra_wait_s=wait_s)
        try:
            raw = data["changes"]
            next_cursor = data["next_cursor"]
            if not isinstance(raw, list) or not isinstance(next_cursor, int) or isinstance(next_cursor, bool):
                raise TypeError
            changes = []
            for c in raw:
                if tickets and c.get("kind") == "ticket":
                    if not check_ticket(c["ticket"]):
                        raise TypeError
                    changes.append({"seq": c.get("seq"), "kind": "ticket", "order_id": c["ticket"]["order_id"],
                                    "ticket": c["ticket"]})
                    continue
                if c.get("kind", "order") != "order":
                    continue  # an entity kind this client does not keep (tickets: docs/sync.md "Entity kinds")
                snap = check_snapshot(c["order"])
                changes.append({"seq": c.get("seq"), "order_id": snap["order_id"], "order": snap})
        except (KeyError, TypeError) as exc:
            raise HubMalformed(_("The hub's change feed answer is incomplete.")) from exc
        if next_cursor < cursor:
            raise HubMalformed(_("The hub's change feed went backwards ({old} → {new}).").format(old=cursor, new=next_cursor))
        return ChangesPage(changes, next_cursor, bool(data.get("more", False)))

    def snapshot(self, after: str | None = None, *, limit: int = 1000) -> SnapshotPage:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        data = self._request("GET", "/sync/snapshot", params=params)
        try:
            orders = [check_snapshot(o) for o in data["orders"]]
            cursor = data["cursor"]
            next_after = data.get("next_after")
            if not isinstance(cursor, int) or (next_after is not None and not isinstance(next_after, str)):
                raise TypeError
        except (KeyError, TypeError) as exc:
            raise HubMalformed(_("The hub's snapshot answer is incomplete.")) from exc
        return SnapshotPage(orders, next_after, cursor)

    def tickets_page(self, after: str = "", *, limit: int = 1000) -> TicketsPage:
        """A keyset page of the open tickets, ordered by ticket ID (``after=""``: the first page)."""
        data = self._request("GET", "/tickets", params={"status": "open", "after": after, "limit": limit})
        try:
            found = data["tickets"]
            cursor = data["cursor"]
            next_after = data.get("next_after")
            if (not isinstance(found, list) or not all(check_ticket(t) for t in found)
                    or not isinstance(cursor, int) or (next_after is not None and not isinstance(next_after, str))):
                raise TypeError
        except (KeyError, TypeError) as exc:
            raise HubMalformed(_("The hub's ticket list is incomplete.")) from exc
        return TicketsPage(found, next_after, cursor)

    def post_actions(self, actions: list[dict[str, Any]]) -> ActionsAnswer:
        data = self._request("POST", "/actions", json_body={"actions": actions})
        try:
            results = data["results"]
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise TypeError
        except (KeyError, TypeError) as exc:
            raise HubMalformed(_("The hub's answer to the actions is incomplete.")) from exc
        for r in results:
            if r.get("order") is not None:
                try:
                    check_snapshot(r["order"])
                except HubMalformed:
                    # The outcome is what makes the answer final; the snapshot only saves a pull.
                    # Refusing the whole answer would resend the batch for ever (the hub answers
                    # the same each time) and block every action behind this one.
                    log.warning("Unreadable order snapshot in the answer for action %s; ignored", r.get("action_id"))
                    r["order"] = None
        last = data.get("last_applied_seq")
        return ActionsAnswer(results, last if isinstance(last, int) else None)

    def get_order(self, order_id: str) -> dict[str, Any]:
        return check_snapshot(self._request("GET", f"/orders/{order_id}"))

    def order_options(self, order_id: str) -> dict[str, Any]:
        """``GET /orders/{id}/options``: the choices a hold's dialog may offer, in ``Options.to_wire()`` shape.

        Asked by the exception dialog when online, so a desk offers the site's gifts in stock and
        carriers, not a copy of the rules shipped with the client. Decode with
        ``core.playbooks.Options.from_wire``.
        """
        data = self._request("GET", f"/orders/{order_id}/options")
        options = data.get("options") if isinstance(data, dict) else None
        if not isinstance(options, dict):
            raise HubMalformed(_("The hub's answer with the order's choices is incomplete."))
        return options

    def benches(self) -> dict[str, Any]:
        """``GET /benches``: the benches the hub knows (desk+), for the "move to bench" picker.

        Decode with ``core.benches.from_wire``.
        """
        data = self._request("GET", "/benches")
        if not isinstance(data, dict) or not isinstance(data.get("benches"), list):
            raise HubMalformed(_("The hub's answer with the benches is incomplete."))
        return data

    def import_orders(self, filename: str, content: bytes, columns: dict[str, str] | None = None) -> dict[str, Any]:
        """Send a CSV/XLSX file to ``/import``: ``{"imported", "orders", "errors": [{"row", "reason", "code",
        "details"}], "preset", "mapping", "ignored_columns"}``.

        ``columns`` (header -> field) is the desk's column mapping for a sheet the hub does not
        recognise; only mapped headers are sent (the rest are ignored), which keeps the URL short.
        """
        params: dict[str, Any] = {"filename": filename}
        if columns is not None:
            import json

            params["columns"] = json.dumps({h: f for h, f in columns.items() if f}, ensure_ascii=False)
        data = self._request("POST", "/import", body=content, params=params)
        if (not isinstance(data, dict) or not isinstance(data.get("imported"), int)
                or not isinstance(data.get("errors"), list)):
            raise HubMalformed(_("The hub's answer to the import is incomplete; check the orders before importing again."))
        return data

    def import_stock(self, filename: str, content: bytes, *, dry_run: bool) -> dict[str, Any]:
        """Send a stock sheet (CSV/XLSX) to ``/stock/import`` (docs/stock.md "Stock sheet import"):
        ``{"applied", "dry_run", "rows", "changed", "unchanged", "new_rows", "changes": [{"row", "sku",
        "warehouse", "before", "on_hand"}], "errors": [...], "released", "reserved_late", "held_short",
        "ignored_columns"}``. ``dry_run``: the hub runs it and rolls it back (the preview)."""
        data = self._request("POST", "/stock/import", body=content,
                             params={"filename": filename, "dry_run": 1 if dry_run else 0})
        lists = ("changes", "errors", "released", "reserved_late", "held_short")
        ints = ("rows", "changed", "unchanged", "new_rows")
        if (not isinstance(data, dict) or not isinstance(data.get("applied"), bool)
                or not all(isinstance(data.get(k), list) for k in lists)
                or not all(isinstance(data.get(k), int) for k in ints)
                or not all(isinstance(c, dict) and isinstance(c.get("sku"), str) for c in data["changes"])):
            raise HubMalformed(_("The hub's answer to the stock import is incomplete; check the stock before "
                                 "importing again."))
        return data

    def import_mappings(self) -> list[dict[str, Any]]:
        """The site's saved column mappings (``GET /import/mappings``)."""
        data = self._request("GET", "/import/mappings")
        rows = data.get("mappings") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in rows):
            raise HubMalformed(_("The hub's list of saved column mappings is incomplete."))
        return rows

    def save_import_mapping(self, name: str, headers: list[str], columns: dict[str, str]) -> dict[str, Any]:
        """Save a column mapping for every desk of the site (``PUT /import/mappings``)."""
        data = self._request("PUT", "/import/mappings", json_body={"name": name, "headers": headers,
                                                                  "columns": {h: f for h, f in columns.items() if f}})
        if not isinstance(data, dict) or data.get("name") != name.strip():
            raise HubMalformed(_("The hub's answer to saving the column mapping is incomplete."))
        return data

    def order_audit(self, order_id: str) -> list[dict[str, Any]]:
        data = self._request("GET", f"/orders/{order_id}/audit")
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise HubMalformed(_("The hub's audit answer is incomplete."))
        return entries

    # -- stations (supervisor and above; docs/security.md) ---------------------------------------

    def stations(self, status: str | None = None) -> list[dict[str, Any]]:
        data = self._request("GET", "/stations", params={"status": status} if status else None)
        rows = data.get("stations") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in rows):
            raise HubMalformed(_("The hub's list of stations is incomplete."))
        return rows

    def approve_station(self, name: str, bench: str | None) -> dict[str, Any]:
        """Let station ``name`` act on ``bench`` (None: the bench it asked for; "": a desk PC)."""
        from urllib.parse import quote

        data = self._request("POST", f"/stations/{quote(name, safe='')}/approve", json_body={"bench": bench})
        if not isinstance(data, dict) or data.get("status") != "approved":
            raise HubMalformed(_("The hub's answer to the approval is incomplete."))
        return data

    def revoke_station(self, name: str) -> dict[str, Any]:
        from urllib.parse import quote

        data = self._request("POST", f"/stations/{quote(name, safe='')}/revoke")
        if not isinstance(data, dict) or data.get("status") != "revoked":
            raise HubMalformed(_("The hub's answer to the revocation is incomplete."))
        return data

    # -- shop connectors (issue 12; docs/api.md "Connectors") ------------------------------------

    def connector_health(self) -> dict[str, Any]:
        """``GET /connectors/health``: each shop connector's state, lag and last error, and ``warn``
        (one has failed for minutes). No keys or secrets are in it; any logged-in operator may ask."""
        data = self._request("GET", "/connectors/health")
        if (not isinstance(data, dict) or not isinstance(data.get("connectors"), list)
                or not isinstance(data.get("warn"), bool)):
            raise HubMalformed(_("The hub's answer about the shop connectors is incomplete."))
        return data

    # -- split and merge (docs/split-merge.md) -----------------------------------------------------

    def merge_candidates(self, order_id: str) -> list[dict[str, Any]]:
        """``GET /orders/{id}/merge-candidates`` (desk and above): orders that may join its parcel."""
        data = self._request("GET", f"/orders/{order_id}/merge-candidates")
        rows = data.get("candidates") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("order_id"), str)
                                                 for r in rows):
            raise HubMalformed(_("The hub's list of orders to merge with is incomplete."))
        return rows

    # -- stock (issue 14; docs/stock.md "Views") --------------------------------------------------

    def stock_levels(self, warehouse: str | None = None) -> dict[str, Any]:
        """``GET /stock/levels`` (desk and above): ``rows`` of {sku, name, warehouse, on_hand, reserved,
        available, updated_at} and ``truncated``. A row the desk cannot read is a malformed answer."""
        data = self._request("GET", "/stock/levels", params={"warehouse": warehouse} if warehouse else None)
        rows = data.get("rows") if isinstance(data, dict) else None
        ints = ("on_hand", "reserved", "available")
        if not isinstance(rows, list) or not all(
                isinstance(r, dict) and isinstance(r.get("sku"), str) and isinstance(r.get("warehouse"), str)
                and all(isinstance(r.get(k), int) and not isinstance(r.get(k), bool) for k in ints)
                for r in rows):
            raise HubMalformed(_("The hub's stock answer is incomplete."))
        return {"rows": rows, "truncated": bool(data.get("truncated"))}

    def adjust_stock(self, sku: str, warehouse: str, *, reason: str, delta: int | None = None,
                     on_hand: int | None = None, note: str = "") -> dict[str, Any]:
        """``POST /stock/adjust`` (desk and above; docs/stock.md): a count (``on_hand``) or a change
        (``delta``) with a reason (cycle_count, damage, receipt, other); audited at the hub with the operator.
        Answers {sku, warehouse, on_hand, reserved, available, released, shed}."""
        body: dict[str, Any] = {"sku": sku, "warehouse": warehouse, "reason": reason, "note": note}
        body.update({"delta": delta} if on_hand is None else {"on_hand": on_hand})
        return self._stock_answer(self._request("POST", "/stock/adjust", json_body=body))

    def dispose_quarantine(self, sku: str, warehouse: str, *, outcome: str, units: int,
                           note: str = "") -> dict[str, Any]:
        """``POST /stock/quarantine`` (desk and above): quarantined units scrapped (``scrap``) or put back
        on the shelf after a re-check (``restock``). Answers the row's counts and the orders released."""
        data = self._request("POST", "/stock/quarantine", json_body={
            "sku": sku, "warehouse": warehouse, "outcome": outcome, "units": units, "note": note})
        return self._stock_answer(data)

    @staticmethod
    def _stock_answer(data: Any) -> dict[str, Any]:
        ints = ("on_hand", "reserved", "available")
        if (not isinstance(data, dict) or not all(isinstance(data.get(k), int) and not isinstance(data.get(k), bool)
                                                  for k in ints)
                or not isinstance(data.get("released", []), list)):
            raise HubMalformed(_("The hub's answer to the stock change is incomplete; refresh the stock before "
                                 "changing it again."))
        return data

    # -- reports (issue 16; docs/reports.md) -------------------------------------------------------

    def report(self, kind: str, day: str, *, warehouse: str | None = None, channel: str | None = None,
               fmt: str = "xlsx") -> bytes:
        """``GET /reports/{daily|weekly}.{xlsx|csv}`` (supervisor and above): the file's bytes.

        ``day``: the day (daily) or the week's Monday (weekly), ``YYYY-MM-DD``.
        """
        params = {"date" if kind == "daily" else "week": day}
        params.update({k: v for k, v in (("warehouse", warehouse), ("channel", channel)) if v})
        data = self._request("GET", f"/reports/{kind}.{fmt}", params=params, raw=True)
        if not isinstance(data, bytes) or not data or (fmt == "xlsx" and not data.startswith(b"PK")):
            raise HubMalformed(_("The hub's report is empty or not a workbook."))
        return data

    # -- the supervisor's dashboard (issue 16; docs/dashboard.md) ----------------------------------

    def metrics_dashboard(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /metrics/dashboard`` (supervisor and above): every figure of the slice ``params`` names.
        Checked by :func:`core.dashboard.parse_dashboard` (a malformed answer is refused there)."""
        data = self._request("GET", "/metrics/dashboard", params=params or None)
        if not isinstance(data, dict):
            raise HubMalformed(_("The hub's dashboard answer is incomplete."))
        return data

    def metrics_touchpoint(self, day: str) -> dict[str, Any]:
        """``GET /metrics/touchpoint`` for one site day (docs/tickets.md): the desk's response figures."""
        data = self._request("GET", "/metrics/touchpoint", params={"from": day, "to": day})
        if not isinstance(data, dict) or not isinstance(data.get("total"), dict):
            raise HubMalformed(_("The hub's dashboard answer is incomplete."))
        return data

    def metrics_orders(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /metrics/orders`` (supervisor and above): the order IDs behind one figure of a slice."""
        data = self._request("GET", "/metrics/orders", params=params)
        ids = data.get("order_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise HubMalformed(_("The hub's dashboard answer is incomplete."))
        return data
