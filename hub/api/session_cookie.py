"""The phone dashboard's session cookie (docs/dashboard-web.md): who may send it, and for what.

The page at ``/dashboard`` logs in through :mod:`hub.api.dashboard`, which puts the hub's ordinary
session token in an HttpOnly, SameSite=Strict cookie instead of handing it to JavaScript. The cookie
stands for a bearer token only on **GET** requests under ``/api/v1/metrics/`` (the figures the page
reads); every other endpoint, and every request that changes state, reads the ``Authorization``
header alone. A browser sends cookies with requests another site makes it send (CSRF); reads of
figures a cross-site page cannot see are harmless, a cookie-authenticated write would not be.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

#: The session token (the same token ``POST /api/v1/auth/login`` returns to the app).
SESSION_COOKIE = "pd_session"
#: The browser's device id: the dashboard's station is named after it (``WEB-…``). Not a secret.
DEVICE_COOKIE = "pd_device"
#: The only paths the session cookie opens, and only for GET.
COOKIE_PATH_PREFIX = "/api/v1/metrics/"
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: How long a browser keeps its device id (a year; the station it names lasts as long).
DEVICE_MAX_AGE_S = 366 * 24 * 3600


def authorization(request: Request) -> str | None:
    """The ``Authorization`` value this request authenticates with.

    The header when present; else, for a GET of a metrics figure only, the session cookie as a
    bearer token; else None (the caller's 401).
    """
    header = request.headers.get("authorization")
    if header:
        return header
    if request.method == "GET" and request.url.path.startswith(COOKIE_PATH_PREFIX):
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            return f"Bearer {token}"
    return None


def over_https(request: Request) -> bool:
    """Whether the browser reached us over https (uvicorn's ``--proxy-headers`` sets the scheme)."""
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str, max_age_s: int) -> None:
    """The token as a cookie JavaScript cannot read, sent back only to this site, for its lifetime."""
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_s, path="/", httponly=True, samesite="strict",
                        secure=over_https(request))


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=over_https(request))


def set_device(response: Response, request: Request, device_id: str) -> None:
    response.set_cookie(DEVICE_COOKIE, device_id, max_age=DEVICE_MAX_AGE_S, path="/dashboard", httponly=True,
                        samesite="strict", secure=over_https(request))
