"""The supervisor's phone dashboard served by the hub (issue 16, docs/dashboard-web.md).

``GET /dashboard`` is one plain HTML page (``resources/dashboard/``: a template, a script, a style
sheet; no build step) in Chinese, or in English when the browser's ``Accept-Language`` puts English
first. Its script logs in through ``POST /dashboard/login`` — the hub's own login
(:func:`hub.auth.attempt_login`: PIN check, back-off and lockout, audit), supervisor and above only —
which sets the session token as an HttpOnly, SameSite=Strict cookie (:mod:`hub.api.session_cookie`);
the page never sees the token. It then reads ``GET /api/v1/metrics/dashboard`` and
``/api/v1/metrics/touchpoint`` with that cookie every 30 s and draws them with Apache ECharts, which
the hub serves from the npm install in ``web/`` (setting ``dashboard_assets_dir``), never a CDN.

Each browser gets a device id (cookie ``pd_device``) and logs in on its own station ``WEB-<id>``: a
supervisor's login approves it like any station (docs/security.md), and revoking it ends that
phone's session.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import secrets
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from core.errors import UserError
from core.roles import Role
from hub import auth, dashboard_words
from hub.api.deps import HubDep
from hub.api.http import BoundedRoute, Text, error_response
from hub.api.session_cookie import (
    DEVICE_COOKIE,
    DEVICE_ID,
    SESSION_COOKIE,
    clear_session,
    set_device,
    set_session,
)

log = logging.getLogger("packdesk.hub.dashboard")
router = APIRouter(route_class=BoundedRoute)

ROOT = Path(__file__).resolve().parents[2]
#: The page's own files (bundled with resources/, packaging/bundle_files.py).
PAGE_DIR = ROOT / "resources" / "dashboard"
#: Where ``npm ci`` in web/ puts the charts library (the default of ``dashboard_assets_dir``).
DEFAULT_ASSETS_DIR = ROOT / "web" / "node_modules" / "echarts" / "dist"
CHARTS_FILE = "echarts.min.js"
#: A header a cross-site form or image cannot send (and a cross-site script may not without CORS):
#: the login and logout posts must carry it.
CSRF_HEADER = "x-packdesk-dashboard"
#: The page runs only its own files: no inline script, no other origin, no framing.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Vary": "Accept-Language"}
#: The files are named by their content's hash in the page (``?v=``), so a browser may keep them.
ASSET_CACHE = "public, max-age=31536000, immutable"
_missing_logged: set[str] = set()


class DashboardLoginIn(BaseModel):
    operator: Text = Field(min_length=1, max_length=32)
    pin: Text = Field(min_length=1, max_length=16)


def charts_path(assets_dir: str) -> Path:
    """The charts library the page loads: ``<dashboard_assets_dir>/echarts.min.js``."""
    return (Path(assets_dir) if assets_dir else DEFAULT_ASSETS_DIR) / CHARTS_FILE


def _charts_present(path: Path) -> bool:
    if path.is_file():
        return True
    if str(path) not in _missing_logged:  # once per process and path: the page is reloaded every visit
        _missing_logged.add(str(path))
        log.warning("Dashboard: the charts library %s is missing; the page shows figures without charts. "
                    "Run scripts/bootstrap.sh on this machine (it needs npm) or set dashboard_assets_dir.", path)
    return False


@lru_cache(maxsize=16)
def _hash(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _version(path: Path) -> str:
    st = path.stat()
    return _hash(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=1)
def _template() -> string.Template:
    return string.Template((PAGE_DIR / "index.html").read_text(encoding="utf-8"))


def render_page(lang: str, warehouses: list[tuple[str, str]], charts: Path | None) -> str:
    """The page in ``lang``; ``charts`` is the library's path, None when it is not installed."""
    w = dashboard_words.words(lang)
    e = html.escape
    options = "".join(f'<option value="{e(code)}">{e(name)}</option>' for code, name in warehouses)
    charts_tag = (f'<script src="/dashboard/{CHARTS_FILE}?v={_version(charts)}"></script>' if charts
                  else f'<p class="notice" id="charts-missing" role="alert">! {e(w["charts_missing"])}</p>')
    return _template().substitute(
        lang="zh-CN" if lang == dashboard_words.ZH else "en", page_lang=lang,
        words=e(json.dumps(w, ensure_ascii=False), quote=True),
        **{f"w_{k}": e(v) for k, v in w.items() if "." not in k},
        warehouse_options=options, charts_script=charts_tag,
        app_js=f"/dashboard/app.js?v={_version(PAGE_DIR / 'app.js')}",
        app_css=f"/dashboard/app.css?v={_version(PAGE_DIR / 'app.css')}")


@router.get("/dashboard", response_class=HTMLResponse)
@router.get("/dashboard/", response_class=HTMLResponse, include_in_schema=False)
def page(hub: HubDep, request: Request) -> HTMLResponse:
    """The page itself: no figures and nothing secret in it (the script fetches them after login)."""
    lang = dashboard_words.language(request.headers.get("accept-language"))
    warehouses = [(code, dashboard_words.warehouse_name(wh.name or code, lang))
                  for code, wh in sorted(hub.rules.warehouses.items())]
    charts = charts_path(hub.settings.dashboard_assets_dir)
    body = render_page(lang, warehouses, charts if _charts_present(charts) else None)
    return HTMLResponse(body, headers=PAGE_HEADERS)


@router.get(f"/dashboard/{CHARTS_FILE}", response_model=None)
def charts_library(hub: HubDep) -> Response:
    path = charts_path(hub.settings.dashboard_assets_dir)
    if not _charts_present(path):
        return error_response(404, "not_found", "The dashboard's charts library is not installed on this hub "
                              "(run scripts/bootstrap.sh with npm).")
    return FileResponse(path, media_type="text/javascript",
                        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"})


@router.get("/dashboard/app.js", response_model=None)
def app_js() -> Response:
    return FileResponse(PAGE_DIR / "app.js", media_type="text/javascript",
                        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"})


@router.get("/dashboard/app.css", response_model=None)
def app_css() -> Response:
    return FileResponse(PAGE_DIR / "app.css", media_type="text/css",
                        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"})


def _check_origin(request: Request) -> None:
    """Refuse a post another site's page made the browser send (it cannot add our header)."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise UserError("This endpoint is for the dashboard page only.", code="forbidden")


@router.post("/dashboard/login", response_model=None)
def login(hub: HubDep, request: Request, body: DashboardLoginIn) -> Response:
    """Check the PIN as the hub's login does; for supervisor and above set the session cookie.

    The answer's body carries who logged in and until when, never the token.
    """
    _check_origin(request)
    device = request.cookies.get(DEVICE_COOKIE) or ""
    if not DEVICE_ID.match(device):
        device = secrets.token_urlsafe(18)
    station = f"WEB-{device[:12]}"
    answer: dict[str, Any] | UserError = hub.tx(lambda c: auth.attempt_login(
        c, hub.settings, operator=body.operator, pin=body.pin, station=station, bench=None, device_id=device,
        benches=hub.rules.benches, min_role=Role.SUPERVISOR))
    if isinstance(answer, UserError):
        raise answer
    response = JSONResponse({"operator": answer["operator"], "expires_at": answer["expires_at"]},
                            headers={"Cache-Control": "no-store"})
    set_session(response, request, answer["token"], hub.settings.token_ttl_s)
    set_device(response, request, device)
    return response


@router.post("/dashboard/logout", response_model=None)
def logout(hub: HubDep, request: Request) -> Response:
    """End this browser's session at the hub and clear its cookie."""
    _check_origin(request)
    token = request.cookies.get(SESSION_COOKIE)
    ended = bool(token) and hub.tx(lambda c: auth.logout(c, f"Bearer {token}"))
    response = JSONResponse({"logged_out": ended}, headers={"Cache-Control": "no-store"})
    clear_session(response, request)
    return response
