"""A hub killed (SIGKILL) in the middle of a pull, restarted on the same database: every order of
the shop arrives, none twice (SQLite and PostgreSQL). The cursor moves in the transaction of the
window's last page, so the restarted hub re-reads at most one window and intake finds those orders
unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.timeutil import utcnow
from tests.channels.engine_kit import Feed, add_connector, admin, connector, make_shop, platforms_param
from tests.helpers.waiting import wait_until
from tests.hubproc import HubProcess

#: Orders of the shop: the pull takes about a minute for these (the engine reads them page by page and
#: fetches each detail), so a kill right after the first page lands far from the end.
N = 800
#: The killed hub's hold on the connector (channel_lease_s): short, so the restarted hub takes the
#: shop over after seconds instead of the production two minutes; still many times a page's time.
LEASE_S = 8


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "hub", db_url=db_url, env={"PACKDESK_HUB_CHANNEL_LEASE": str(LEASE_S)}).start()
    yield proc
    proc.stop()
    assert "Traceback" not in proc.errors_logged(), proc.log_path.read_text()[-4000:]


@platforms_param()
def test_killed_mid_pull_restarted_nothing_lost_or_doubled(hub: HubProcess, platform: str) -> None:
    shop = make_shop(platform)
    try:
        now = utcnow()
        nos = [f"9{i:014d}" for i in range(N)]
        for i, x in enumerate(nos):  # spread over the last 3 hours: several windows, many pages
            shop.add_order(x, status="paid", updated_at=now - timedelta(seconds=3 * 3600 * (N - i) / N))
        s = admin(hub.url)
        cid = add_connector(s, shop, lookback_s=4 * 3600)["id"]
        feed = Feed(s)
        seen = wait_until(lambda: feed.count(platform), timeout=60, what="the first page in")
        hub.kill()
        assert 0 < seen < N, seen  # killed mid-pull
        hub.start()
        s = admin(hub.url)
        feed.s = s
        wait_until(lambda: feed.count(platform) == N, timeout=180, what="every order after the restart")
        assert all(len(feed.ids[(platform, x)]) == 1 for x in nos)
        assert sorted(k[1] for k in feed.by_no if k[0] == platform) == nos
        wait_until(lambda: connector(s, cid)["health"]["orders_today"] == N, what="orders today counted once")
    finally:
        shop.close()
