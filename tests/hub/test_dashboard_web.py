"""The phone dashboard's hub side (hub/api/dashboard.py, hub/api/session_cookie.py; docs/dashboard-web.md).

In process over real HTTP (uvicorn on a thread, no lifespan, a real SQLite file): the login sets the
session as an HttpOnly, SameSite=Strict cookie and never shows the token; only supervisors get in;
the cookie opens GET /api/v1/metrics/* and nothing else; logout ends it; the hub's back-off applies;
the page's language follows Accept-Language; a missing charts library is said plainly and logged.
The page in a real browser: tests/hub/test_dashboard_browser.py.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from hub import auth, dashboard_words, db
from hub.api import dashboard
from hub.api.deps import Hub
from hub.app import create_app
from hub.config import HubSettings
from tests.helpers.waiting import wait_until
from tests.hubproc import free_port

CSRF = {"X-PackDesk-Dashboard": "1"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


class Site:
    """The hub app served by uvicorn on a thread (no lifespan: no background workers)."""

    def __init__(self, tmp: Path, **settings: Any) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.app = create_app(HubSettings(database_url=f"sqlite:///{tmp / 'hub.db'}", demo=True, **settings))
        self.hub: Hub = self.app.state.hub
        db.migrate(self.hub.engine)
        self.hub.tx(auth.seed_operators)
        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, lifespan="off",
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="test-hub", daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 10, "the in-process hub to listen")
        self.url = f"http://127.0.0.1:{port}"

    def login(self, operator: str = "S001", pin: str = "3333", **headers: str) -> requests.Response:
        s = requests.Session()
        r = s.post(self.url + "/dashboard/login", json={"operator": operator, "pin": pin},
                   headers={**CSRF, **headers}, timeout=10)
        r.session = s  # type: ignore[attr-defined]
        return r

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.hub.engine.dispose()
        self.hub.reader.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("dash"))
    yield s
    s.close()


def cookie_attrs(response: requests.Response, name: str) -> dict[str, str]:
    """The Set-Cookie attributes of ``name`` (lower-case keys; flags map to "")."""
    for header in response.raw.headers.getlist("set-cookie"):
        first, *rest = [p.strip() for p in header.split(";")]
        if first.startswith(name + "="):
            attrs = {"value": first.split("=", 1)[1]}
            for p in rest:
                k, _, v = p.partition("=")
                attrs[k.lower()] = v
            return attrs
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")


def test_a_supervisor_gets_the_token_as_an_httponly_strict_cookie_and_never_in_the_body(site: Site) -> None:
    r = site.login()
    assert r.status_code == 200, r.text
    c = cookie_attrs(r, "pd_session")
    assert {"httponly", "path", "samesite", "max-age"} <= c.keys()
    assert c["samesite"].lower() == "strict" and c["path"] == "/" and c["max-age"] == str(12 * 3600)
    assert "secure" not in c  # plain http here; over https below
    assert c["value"] not in r.text and "token" not in r.json() and "action_key" not in r.json()
    assert r.json()["operator"]["role"] == "supervisor"
    s: requests.Session = r.session  # type: ignore[attr-defined]
    figures = s.get(site.url + "/api/v1/metrics/dashboard", timeout=10)
    assert figures.status_code == 200, figures.text
    assert s.get(site.url + "/api/v1/metrics/touchpoint", timeout=10).status_code == 200
    # the phone is a station of its own (WEB-<device>), approved by the supervisor's login
    device = cookie_attrs(r, "pd_device")
    assert device["path"] == "/dashboard" and "httponly" in device
    stations = site.hub.read(lambda conn: auth.list_stations(conn))
    assert any(st["name"] == f"WEB-{device['value'][:12]}" and st["status"] == "approved" for st in stations)


def test_the_cookie_is_secure_when_the_browser_came_over_https(site: Site) -> None:
    # behind a TLS proxy on this machine: uvicorn takes X-Forwarded-Proto from 127.0.0.1
    r = site.login(**{"X-Forwarded-Proto": "https"})
    assert r.status_code == 200, r.text
    assert "secure" in cookie_attrs(r, "pd_session")


def test_the_cookie_opens_metric_reads_only(site: Site) -> None:
    r = site.login()
    token = cookie_attrs(r, "pd_session")["value"]
    jar = {"pd_session": token}
    get = lambda path: requests.get(site.url + path, cookies=jar, timeout=10)  # noqa: E731
    assert get("/api/v1/metrics/states").status_code == 200
    assert get("/api/v1/orders").status_code == 401  # not a figure
    assert get("/api/v1/stations").status_code == 401
    # state-changing endpoints never take the cookie (CSRF), metrics-looking or not
    for path, body in (("/api/v1/actions", {"device_id": "x", "actions": []}),
                       ("/api/v1/stock/adjust", {"sku": "X", "warehouse": "WH-SH", "delta": 1, "reason": "other"}),
                       ("/api/v1/metrics/dashboard", {})):
        answer = requests.post(site.url + path, json=body, cookies=jar, timeout=10)
        assert answer.status_code in (401, 405), (path, answer.status_code, answer.text)
    # the same token as a bearer header works everywhere it would (it is the hub's ordinary token)
    assert requests.get(site.url + "/api/v1/orders", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 200


def test_a_packer_or_desk_is_refused_plainly_and_leaves_no_station_request(site: Site) -> None:
    before = site.hub.read(lambda conn: auth.list_stations(conn))
    for who, pin in (("P001", "1111"), ("D001", "2222")):
        r = site.login(who, pin)
        assert r.status_code == 403 and r.json()["error"] == "role_refused", r.text
        assert "pd_session" not in r.headers.get("set-cookie", "")
    assert site.hub.read(lambda conn: auth.list_stations(conn)) == before
    attempts = site.hub.read(lambda conn: auth.login_attempts(conn, operator="P001"))
    assert attempts[0]["result"] == "role_refused"


def test_login_and_logout_need_the_page_header(site: Site) -> None:
    r = requests.post(site.url + "/dashboard/login", json={"operator": "S001", "pin": "3333"}, timeout=10)
    assert r.status_code == 403 and "pd_session" not in r.headers.get("set-cookie", "")
    ok = site.login()
    s: requests.Session = ok.session  # type: ignore[attr-defined]
    assert s.post(site.url + "/dashboard/logout", timeout=10).status_code == 403
    assert s.get(site.url + "/api/v1/metrics/states", timeout=10).status_code == 200  # still logged in


def test_logout_ends_the_token_and_clears_the_cookie(site: Site) -> None:
    r = site.login()
    token = cookie_attrs(r, "pd_session")["value"]
    s: requests.Session = r.session  # type: ignore[attr-defined]
    out = s.post(site.url + "/dashboard/logout", headers=CSRF, timeout=10)
    assert out.status_code == 200 and out.json() == {"logged_out": True}
    assert cookie_attrs(out, "pd_session")["max-age"] == "0"
    # gone at the hub, not only in this browser
    assert requests.get(site.url + "/api/v1/metrics/states", cookies={"pd_session": token},
                        timeout=10).status_code == 401


def test_wrong_pins_meet_the_hubs_back_off(site: Site) -> None:
    codes = [site.login("A001", "9999").json()["error"] for _ in range(6)]
    assert codes[:5] == ["bad_credentials"] * 5 and codes[5] == "login_throttled", codes
    r = site.login("A001", "0000")  # the right PIN waits too
    assert r.status_code == 429 and "retry_after_s" in r.json()["details"]
    site.hub.tx(lambda conn: auth.unlock(conn, operator="A001", by="test"))


def test_bad_input_is_a_clear_422_not_a_login(site: Site) -> None:
    for body in ({"operator": "", "pin": "1"}, {"operator": "S001"}, {"operator": "S" * 40, "pin": "3333"}):
        r = requests.post(site.url + "/dashboard/login", json=body, headers=CSRF, timeout=10)
        assert r.status_code == 422 and r.json()["error"] == "validation_failed", r.text


class _Text(HTMLParser):
    """The words a person sees: text outside <script>/<style>, and attribute-free."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("data-words", "lang", "data-lang"):
                self.attrs[k] = v or ""

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


#: Latin words a Chinese screen may show: codes and names people use as they are.
ALLOWED_LATIN = {"PIN", "SKU", "TOP5", "VIP"}


def latin_words(text: str) -> set[str]:
    text = re.sub(r"\{\w+\}", "", text)  # the script's placeholders ({t}, {n})
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]+", text)) - ALLOWED_LATIN


def test_the_page_is_chinese_first_and_english_when_asked_first(site: Site) -> None:
    for accept, lang in ((None, "zh-CN"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
                         ("fr-FR,en;q=0.5,zh;q=0.9", "zh-CN"), ("de,en-GB;q=0.7", "en"), ("en;q=0,zh", "zh-CN")):
        r = requests.get(site.url + "/dashboard", headers={"Accept-Language": accept} if accept else {}, timeout=10)
        assert r.status_code == 200
        p = _Text()
        p.feed(r.text)
        assert p.attrs["lang"] == lang, accept
        text = " ".join(p.parts)
        if lang == "zh-CN":
            assert "订单看板" in text and "主管登录" in text
            assert not latin_words(text), latin_words(text)
        else:
            assert "Order dashboard" in text and "订单看板" not in text
    # the script's words (and every state and hold name) too
    zh = dashboard_words.words("zh")
    leaks = {k: v for k, v in zh.items() if latin_words(v) and k != "charts_missing"}
    assert not leaks, leaks
    assert all(dashboard_words.words("en")[k] for k in zh)


def test_the_page_carries_no_secret_and_runs_only_its_own_scripts(site: Site) -> None:
    r = site.login()
    s: requests.Session = r.session  # type: ignore[attr-defined]
    page = s.get(site.url + "/dashboard", headers=ZH, timeout=10)
    token = cookie_attrs(r, "pd_session")["value"]
    assert token not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/dashboard/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son\w+=", page.text)  # no inline handlers either
    js = s.get(site.url + "/dashboard/app.js", timeout=10)
    assert js.status_code == 200 and "localStorage" not in js.text and "sessionStorage" not in js.text
    assert "max-age=31536000" in js.headers["cache-control"]


@pytest.mark.skipif(not dashboard.DEFAULT_ASSETS_DIR.joinpath(dashboard.CHARTS_FILE).is_file(),
                    reason="web/node_modules is not installed (scripts/bootstrap.sh runs npm ci in web/)")
def test_the_charts_library_comes_from_the_npm_install_with_a_long_cache(site: Site) -> None:
    page = requests.get(site.url + "/dashboard", timeout=10).text
    m = re.search(r'<script src="(/dashboard/echarts\.min\.js\?v=[0-9a-f]{16})"></script>', page)
    assert m, page
    r = requests.get(site.url + m.group(1), timeout=10)
    assert r.status_code == 200 and r.headers["cache-control"] == dashboard.ASSET_CACHE
    assert r.content == (dashboard.DEFAULT_ASSETS_DIR / dashboard.CHARTS_FILE).read_bytes()
    assert "charts-missing" not in page


def test_a_missing_charts_library_is_said_plainly_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    empty = tmp_path / "no-echarts"
    empty.mkdir()
    s = Site(tmp_path / "hub", dashboard_assets_dir=str(empty))
    try:
        with caplog.at_level(logging.WARNING, logger="packdesk.hub.dashboard"):
            page = requests.get(s.url + "/dashboard", headers=ZH, timeout=10)
            lib = requests.get(s.url + "/dashboard/echarts.min.js", timeout=10)
        assert page.status_code == 200 and 'id="charts-missing"' in page.text
        assert dashboard_words.WORDS["charts_missing"][0] in page.text
        assert "echarts.min.js" not in page.text  # no script tag that would fail
        assert lib.status_code == 404 and lib.json()["error"] == "not_found"
        assert any("charts library" in rec.getMessage() and str(empty) in rec.getMessage() for rec in caplog.records)
    finally:
        s.close()
