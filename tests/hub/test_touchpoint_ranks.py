"""PostgreSQL reads the touchpoint percentiles off the indexes (hub/metrics_touchpoint.py ``_figures_pg``):
the figures must be exactly PostgreSQL's own ``percentile_cont`` and SQLite's rank reads, on random
episodes with ties, empty buckets, buckets of one and two values, and a type filter."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from hub import db
from hub import metrics_touchpoint as mt
from tests.hubproc import fresh_pg_database

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TYPES = ("urge_ship", "tracking", "complaint")


def episodes(seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    for d in range(40):
        day = date(2026, 1, 1) + timedelta(days=d)
        size = rnd.choice([0, 1, 2, 3, 5, 40, 90])  # empty, tiny and ordinary buckets
        for _ in range(size):
            start = datetime(day.year, day.month, day.day, 2, tzinfo=UTC) + timedelta(minutes=rnd.randint(0, 600))
            reply = rnd.choice([None, rnd.randint(0, 5) * 60, rnd.randint(1, 20000)])  # ties in 60 s steps
            close = rnd.choice([None, rnd.randint(60, 40000), 14400])
            out.append({"ticket_id": f"T{len(out)}", "type": rnd.choice(TYPES), "started_at": start,
                        "day": day.isoformat(), "week": (day - timedelta(days=day.weekday())).isoformat(),
                        "replied_at": start + timedelta(seconds=reply) if reply is not None else None,
                        "first_reply_s": reply,
                        "closed_at": start + timedelta(seconds=close) if close is not None else None,
                        "closed_s": close})
    return out


def own_percentiles(conn: Any, by: str, ticket_type: str | None) -> dict[str, dict[str, Any]]:
    """PostgreSQL's percentile_cont per bucket, as the metric computed it before the rank reads."""
    typed = "AND type = :t" if ticket_type else ""
    rows = conn.execute(text(
        f"SELECT {by}, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY first_reply_s), "
        f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY closed_s) FROM ticket_episodes "
        f"WHERE day BETWEEN '2026-01-01' AND '2026-02-15' {typed} GROUP BY {by}"), {"t": ticket_type}).all()
    out = {}
    for b, reply, close in rows:
        r = reply or [None, None]
        c = close or [None, None]
        out[b] = {"reply_median_s": mt._s(r[0]), "reply_p90_s": mt._s(r[1]),
                  "close_median_s": mt._s(c[0]), "close_p90_s": mt._s(c[1])}
    return out


@pytest.mark.postgres
def test_rank_reads_give_percentile_conts_figures_and_sqlites(tmp_path: Any) -> None:
    from tests.conftest import require_postgres

    require_postgres()
    rows = episodes()
    lite = db.make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with fresh_pg_database() as url:
        pg = db.make_engine(url)
        try:
            for engine in (pg, lite):
                db.migrate(engine)
                with engine.begin() as conn:
                    conn.execute(db.ticket_episodes.insert(), rows)
            keys = ("reply_median_s", "reply_p90_s", "close_median_s", "close_p90_s")
            for by in ("day", "week"):
                rng = mt.Range(date(2026, 1, 1), date(2026, 2, 15), by)  # type: ignore[arg-type]
                for ticket_type in (None, "tracking"):
                    with pg.begin() as conn:
                        got = mt.touchpoint(conn, rng, NOW, ticket_type)
                        want = own_percentiles(conn, by, ticket_type)
                    with lite.begin() as conn:
                        assert mt.touchpoint(conn, rng, NOW, ticket_type) == got
                    assert any(b["contacts"] == 1 for b in got["buckets"]) or by == "week"
                    for b in got["buckets"]:
                        assert {k: b[k] for k in keys} == want.get(b["bucket"], dict.fromkeys(keys)), b["bucket"]
        finally:
            pg.dispose()
            lite.dispose()
