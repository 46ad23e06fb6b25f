"""Load demo orders into a hub database through the same intake path channels use."""

from __future__ import annotations

from core.demo import generate_orders
from hub import auth, db
from hub.config import HubSettings
from hub.orders import intake
from hub.routing import Rules
from hub.writer import Actor, Writer


def load_demo(settings: HubSettings, n: int, *, seed: int = 1, batch: int = 500) -> str:
    """Push ``n`` demo orders (in batches, as a channel would) and say what was loaded."""
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    rules = Rules.load(settings.rules_path) if settings.rules_path else Rules.default()
    orders = generate_orders(n, seed=seed)
    created = 0
    if settings.demo:  # demo operators only on a demo hub (--demo)
        with engine.begin() as conn:
            auth.seed_operators(conn)
    for i in range(0, len(orders), batch):
        with engine.begin() as conn:
            w = Writer(conn, settings, Actor.system("demo"))
            created += sum(r["created"] for r in intake(w, rules, orders[i : i + batch]))
            w.flush()
    engine.dispose()
    return f"demo: {created} new orders ({n - created} already there)"
