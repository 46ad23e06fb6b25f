"""Which engine tests run for which platform and database, within CI's time.

The engine (windows, cursor, back-off, inbox, write-back queue, leases) is one piece of code for
every platform, and each platform's client is tested on its own in ``test_<platform>.py`` (its error
codes, signing, paging, push checks). So the engine's end-to-end tests run:

* for every platform on SQLite, and on PostgreSQL with 抖店 (the database paths are the engine's,
  not the platform's);
* the failure/back-off matrix, the kill -9 crash test and the clock-skew test with 抖店 only
  (they exercise the engine's reaction, which no platform module changes; together they were most of
  the channel tests' time: a platform that says "retry next minute" alone costs two minutes).
"""

from __future__ import annotations

import pytest

REFERENCE = "douyin"
#: The tests that run with REFERENCE only, each with why (the skip reason other platforms show).
ENGINE_ONLY = {
    "test_platform_errors_back_off_show_in_health_and_lose_nothing":
        "back-off, health and retry are the engine's, one code for every platform, tested with {reference}; "
        "{platform}'s own error mapping is in test_{platform}.py",
    "test_killed_mid_pull_restarted_nothing_lost_or_doubled":
        "recovery from kill -9 mid-pull (the cursor committed with the orders it brought, one order per "
        "channel order no) is the engine's, one code for every platform: run once, with {reference}",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        platform = params.get("platform")
        name = getattr(item, "originalname", item.name)
        if platform is not None and platform != REFERENCE and name in ENGINE_ONLY:
            item.add_marker(pytest.mark.skip(reason=ENGINE_ONLY[name].format(reference=REFERENCE, platform=platform)))
        elif platform is not None and platform != REFERENCE and params.get("backend") == "postgres":
            item.add_marker(pytest.mark.skip(reason=f"engine on PostgreSQL tested with {REFERENCE}"))
        elif name == "test_a_shop_clock_off_loses_nothing" and params.get("backend") == "postgres":
            item.add_marker(pytest.mark.skip(reason="clock-skew windows are the engine's, tested on SQLite"))
