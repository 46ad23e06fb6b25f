"""The phone dashboard in a real headless browser (Debian's chromium + chromedriver, selenium), at
390×844, against a real hub process on 127.0.0.1 (docs/dashboard-web.md).

One browser session walks the page as a supervisor's phone would: the login form; a packer refused;
the supervisor in; every chart drawn (canvas painted, the ECharts instance holding the API's series);
the numbers equal the API's; nothing wider than the screen; the token nowhere the page's scripts can
reach and the cookie HttpOnly + SameSite=Strict; no Content-Security-Policy violation; a failed refresh
keeps the figures and says so; an ended session goes back to the login form. The screenshot is
written to docs/screenshots/dashboard-phone.png with PACKDESK_SCREENSHOTS=1 (else a temp folder).

The hub's database is seeded before it starts with a day of figures (shipped on time and late,
last week's, people's hold reasons, short stock, customer contacts) beside orders pushed through
its intake, so every chart has something to draw.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from hub import db
from hub.api import dashboard
from tests.helpers import hubapi
from tests.hubproc import HubProcess

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WIDTH, HEIGHT = 390, 844


def _need_browser() -> None:
    missing = [what for what, ok in (("chromium", CHROMIUM), ("chromedriver (chromium-driver)", CHROMEDRIVER),
                                     ("web/node_modules echarts (npm ci in web/)",
                                      (dashboard.DEFAULT_ASSETS_DIR / dashboard.CHARTS_FILE).is_file()))
               if not ok]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (the test extra)")
    if not missing:
        return
    reason = f"the dashboard's browser test needs {', '.join(missing)}: run scripts/bootstrap.sh --test"
    if os.environ.get("PACKDESK_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (PACKDESK_REQUIRE_BROWSER=1: required here)")
    pytest.skip(reason)


# -- a day of figures ------------------------------------------------------------------------------

def _order(oid: str, came: datetime, **kw: Any) -> dict[str, Any]:
    row = {"order_id": oid, "channel": "douyin", "channel_order_no": oid, "channel_status": "paid",
           "channel_updated_at": came, "state": "paid", "version": 1, "bench": None, "warehouse": "WH-SH",
           "waybill_no": None, "phone_tail": "0000", "recipient_name": "x", "held": False, "stock_wait": False, "created_at": came,
           "updated_at": came, "doc": {"order_id": oid}, "paid_at": came, "ship_by": None, "shipped_at": None,
           "packed_by": None, "packed_at": None}
    row.update(kw)
    return row


def seed(db_url: str, now: datetime) -> None:
    """Shipped orders due in the hours already over (today and a week ago), holds people wrote,
    orders waiting for short stock, and customer contacts with their replies."""
    engine = db.make_engine(db_url)
    db.migrate(engine)
    local = now.astimezone(TZ)
    today = local.date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=TZ).astimezone(UTC)
    span = now - midnight

    def at(day: date, hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)

    orders: list[dict[str, Any]] = []
    hours = list(range(max(0, local.hour - 6), local.hour))  # the hours already over today
    for day, tag, on_time_of_3 in ((today, "T", (True, True, False)), (today - timedelta(days=7), "W", (True, True, True))):
        for h in hours:
            for i, ok in enumerate(on_time_of_3):
                if tag == "T" and h % 2 and i == 1:
                    ok = False  # some hours worse than others
                ship_by = at(day, h, 30)
                orders.append(_order(
                    f"DASH{tag}{h:02d}{i}", at(day, h, 0), state="shipped", bench=("B1", "B2")[i % 2],
                    ship_by=ship_by, shipped_at=ship_by - timedelta(minutes=15) if ok else ship_by + timedelta(minutes=12),
                    packed_by=("P001", "P002")[i % 2], packed_at=ship_by - timedelta(minutes=25)))
    skus = [("SKU-TEA-01", "龙井茶 250g", 6), ("SKU-CUP-02", "玻璃茶杯", 4), ("SKU-BOX-03", "礼盒（大）", 5),
            ("SKU-PAD-04", "杯垫", 2), ("SKU-SPN-05", "茶匙", 3), ("SKU-BAG-06", "手提袋", 1)]
    for n, (sku, name, qty) in enumerate(skus):
        orders.append(_order(f"DASHS{n}", midnight + span * 0.2, state="allocated", bench="B3", held=True,
                             stock_wait=True, doc={"order_id": f"DASHS{n}",
                                                   "lines": [{"sku": sku, "name": name, "qty": qty}]}))
    reasons = [("item_missing", "赠品缺货，客户要求补发赠品"), ("address_change", "客户来电修改收货地址"),
               ("item_missing", "顾客说少发了一件赠品"), ("scan_mismatch", "扫描的商品和订单不符，赠品放错")]
    audit = [{"order_id": f"DASHS{n}", "at": midnight + span * (0.3 + n / 10), "operator": "P001", "station": "B1-PC",
              "what": "hold_raised", "from_state": "allocated", "to_state": "allocated", "why": why, "action_id": None,
              "details": {"hold": {"type": kind, "reason": why}}} for n, (kind, why) in enumerate(reasons)]
    monday = today - timedelta(days=today.weekday())
    episodes = [{"ticket_id": f"TDASH{n}", "type": "urge_ship", "started_at": midnight + span * (n / 8), "day": today.isoformat(),
                 "week": monday.isoformat(), "replied_at": None if reply is None else midnight + span * (n / 8),
                 "first_reply_s": reply, "closed_at": None, "closed_s": None}
                for n, reply in enumerate((600, 1500, 300, None))]
    with engine.begin() as c:
        c.execute(insert(db.orders), orders)
        c.execute(insert(db.audit), audit)
        c.execute(insert(db.stock), [{"sku": sku, "warehouse": "WH-SH", "on_hand": 1, "reserved": 0, "updated_at": now}
                                     for sku, _n, _q in skus])
        c.execute(insert(db.ticket_episodes), episodes)
    engine.dispose()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    _need_browser()
    home = tmp_path_factory.mktemp("dash-browser")
    proc = HubProcess(home)
    seed(proc.db_url, datetime.now(UTC))
    proc.start()
    hubapi.demo(proc.url, 60)
    yield proc
    proc.stop()
    assert not proc.errors_logged(), proc.errors_logged()


@pytest.fixture(scope="module")
def browser(hub: HubProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                f"--window-size={WIDTH},{HEIGHT}", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(str(CHROMEDRIVER)))
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
        driver.execute_cdp_cmd("Network.enable", {})
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, what: str, fn: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: fn(d), message=f"waiting for {what}")


def _visible(driver: Any, element_id: str) -> bool:
    return bool(driver.execute_script(f"var e = document.getElementById('{element_id}'); return e && !e.hidden;"))


def _log_in(driver: Any, operator: str, pin: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "operator")
    box.clear()
    box.send_keys(operator)
    driver.find_element(By.ID, "pin").send_keys(pin)
    driver.find_element(By.ID, "login-submit").click()


PAINTED = """
var c = document.querySelector('#' + arguments[0] + ' canvas');
if (!c || !c.width || !c.height) return 0;
var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;
for (var i = 3; i < d.length; i += 16) if (d[i]) n++;
return n;
"""
SERIES = """
var inst = echarts.getInstanceByDom(document.getElementById(arguments[0]));
return inst ? inst.getOption().series.map(function (s) { return {type: s.type, data: s.data}; }) : null;
"""


def test_a_supervisors_phone_sees_the_apis_figures(hub: HubProcess, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.get(hub.url + "/dashboard")
    _wait(d, "the login form", lambda d: _visible(d, "login"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"

    # a packer's right PIN: a plain refusal, still the form
    _log_in(d, "P001", "1111")
    _wait(d, "the refusal", lambda d: "仅限主管" in d.find_element(By.ID, "login-error").text)
    assert not _visible(d, "board") and d.get_cookie("pd_session") is None

    _log_in(d, "S001", "3333")
    _wait(d, "the figures", lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "ok")
    assert d.find_element(By.ID, "status").text.startswith("更新于 ")
    assert not _visible(d, "login")

    # the same figures from the API, as the app reads them (a bearer token of its own)
    api = hubapi.Session(hub.url, operator="S001", pin="3333", station="S-PC", bench=None).login()
    fig = api.get("/api/v1/metrics/dashboard").json()
    day = fig["slice"]["to"]
    touch = api.get("/api/v1/metrics/touchpoint", by="day", **{"from": day, "to": day}).json()["total"]
    by = fig["states"]["by_state"]

    def value(el: str) -> str:
        return str(d.find_element(By.ID, el).get_attribute("data-value"))

    assert value("n-total") == str(fig["states"]["total"]) and fig["states"]["total"] > 6
    assert value("n-shipped") == str(by["shipped"] + by["delivered"])
    assert value("n-held") == str(fig["states"]["held"])
    assert value("n-backlog") == str(sum(b["backlog"] for b in fig["benches"]["benches"]))
    assert value("n-failing") == str(fig["connectors"]["failing"])
    rate = fig["delay"]["rate"]
    assert (value("n-delay") == "" if rate is None else float(value("n-delay")) == pytest.approx(rate))
    assert value("t-contacts") == str(touch["contacts"]) == "4" and value("t-waiting") == str(touch["waiting_reply"])
    benches = [(tr.get_attribute("data-bench"), tr.find_elements(By.TAG_NAME, "td")[1].text)
               for tr in d.find_elements(By.CSS_SELECTOR, "#bench-table tbody tr")]
    assert benches == [(b["bench"], str(b["backlog"])) for b in fig["benches"]["benches"]]
    short = sorted((k for w in fig["short_stock"]["warehouses"] for k in w["skus"]),
                   key=lambda k: (-k["short"], -k["orders"], k["sku"]))[:5]
    rows = [(tr.get_attribute("data-sku"), tr.find_elements(By.TAG_NAME, "td")[3].text)
            for tr in d.find_elements(By.CSS_SELECTOR, "#short-table tbody tr")]
    assert rows == [(k["sku"], str(k["short"])) for k in short] and len(rows) == 5

    # every chart drawn, holding the API's series
    for chart in ("chart-states", "chart-fulfilment", "chart-exceptions"):
        _wait(d, f"{chart} painted", lambda d, c=chart: d.execute_script(PAINTED, c) > 50)
    ring = d.execute_script(SERIES, "chart-states")
    assert ring[0]["type"] == "pie"
    assert sorted(p["value"] for p in ring[0]["data"]) == sorted(n for n in by.values() if n > 0)
    line = d.execute_script(SERIES, "chart-fulfilment")
    pct = lambda r: None if r is None else round(r * 1000) / 10  # noqa: E731
    assert [s["type"] for s in line] == ["line", "line"]
    assert line[0]["data"] == [pct(h["rate"]) for h in fig["fulfilment"]["hours"]]
    assert line[1]["data"] == [pct(h["rate"]) for h in fig["fulfilment"]["last_week"]["hours"]]
    bars = d.execute_script(SERIES, "chart-exceptions")
    assert sorted(bars[0]["data"]) == sorted(t["count"] for t in fig["exceptions"]["types"])
    assert "赠品" in d.find_element(By.ID, "reason-words").text

    # a phone's width: nothing scrolls sideways
    assert d.execute_script("return document.documentElement.scrollWidth") <= WIDTH

    # the token: in an HttpOnly, SameSite=Strict cookie, nowhere a script or the page source shows it
    cookie = d.get_cookie("pd_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    token = cookie["value"]
    seen = d.execute_script("return [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage),"
                            " document.documentElement.outerHTML].join('\\n');")
    assert token not in seen and token not in d.page_source
    problems = [e["message"] for e in d.get_log("browser")
                if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not problems, problems

    # the picture for docs/ (the whole page, at the phone's width)
    target = ROOT / "docs" / "screenshots" if os.environ.get("PACKDESK_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    full = d.execute_script("return document.documentElement.scrollHeight")
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": WIDTH, "height": full, "deviceScaleFactor": 1, "mobile": True})
    png = d.get_screenshot_as_png()
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    (target / "dashboard-phone.png").write_bytes(png)

    # a refresh that fails keeps the figures and says so
    total = value("n-total")
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/v1/metrics/*"]})
    Select(d.find_element(By.ID, "warehouse")).select_by_value("WH-SH")  # a change refreshes at once
    _wait(d, "the failed refresh", lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "failed")
    assert "刷新失败" in d.find_element(By.ID, "status").text and value("n-total") == total
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})

    # the session ended at the hub (logout elsewhere, PIN changed, …): back to the login form
    hubapi.Session(hub.url, token=token).post("/api/v1/auth/logout", {})
    Select(d.find_element(By.ID, "warehouse")).select_by_value("")
    _wait(d, "the login form again", lambda d: _visible(d, "login"))
    assert "重新登录" in d.find_element(By.ID, "login-error").text
