"""Stock per SKU per warehouse (hub/stock.py, docs/stock.md): reservation at allocation, short-stock
holds, release on cancel/refund/reallocation, consumption on ship, untracked SKUs unchanged, the
PostgreSQL race (exactly one of two concurrent allocations gets the last units), and a hypothesis
state machine over reserve/release/consume/restock/adjust keeping ``reserved = Σ open allocated lines``.

In process: the hub's own Hub object (real SQLite file; a fresh PostgreSQL database for the race),
the real intake, allocation, writer and action paths; no HTTP server.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select, text

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.states import State, Trigger
from core.timeutil import utcnow
from hub import db, stock
from hub.actions import process_batch
from hub.api.deps import Hub
from hub.config import HubSettings
from hub.orders import confirm_payment, intake, load_docs
from hub.writer import Actor, Writer
from tests.conftest import require_postgres
from tests.hubproc import fresh_pg_database

SH = "WH-SH"  # 上海 goes to WH-SH under the default rules
TEA, NUTS = "SKU-TEA-001", "SKU-SNK-001"
DESK = Actor(operator="D001", station="DESK-1", role="desk", device_id="dev-desk-1")
_nos = itertools.count(1)
_aids = itertools.count(1)


def make_hub(url: str) -> Hub:
    hub = Hub(HubSettings(database_url=url))
    db.migrate(hub.engine)
    return hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = make_hub(f"sqlite:///{tmp_path / 'hub.db'}")
    yield h
    h.engine.dispose()
    h.reader.dispose()


def order(lines: list[tuple[str, int]], *, province: str = "上海市", gift: str | None = None,
          status: ChannelStatus = ChannelStatus.PAID) -> IntakeOrder:
    now = utcnow()
    ls = [OrderLine(sku, "商品", qty, 1000) for sku, qty in lines]
    if gift:
        ls.append(OrderLine(gift, "赠品", 1, 0, is_gift=True))
    return IntakeOrder(channel="generic", channel_order_no=f"S{next(_nos)}", status=status,
                       recipient=Recipient("张三", "13800138000", province, "上海市", "浦东新区", "世纪大道 1 号"),
                       lines=ls, total_fen=1000, created_at=now, channel_updated_at=now, paid_at=now)


def push(hub: Hub, *orders: IntakeOrder) -> list[str]:
    def run(c: Any) -> list[str]:
        w = Writer(c, hub.settings, Actor.system("test"))
        ids = [r["order_id"] for r in intake(w, hub.rules, list(orders))]
        w.flush()
        return ids
    out: list[str] = hub.tx(run)
    return out


def set_stock(hub: Hub, sku: str, on_hand: int, warehouse: str = SH) -> None:
    def run(c: Any) -> None:
        stock.set_on_hand(Writer(c, hub.settings, Actor.system("test")), sku, warehouse, on_hand, "test")
    hub.tx(run)


def level(hub: Hub, sku: str, warehouse: str = SH) -> tuple[int, int]:
    got: dict[str, tuple[int, int]] = hub.tx(lambda c: stock.tracked(c, warehouse, [sku]))
    return got[sku]


def doc(hub: Hub, oid: str) -> dict[str, Any]:
    out: dict[str, Any] = hub.tx(lambda c: load_docs(c, [oid])[oid])
    return out


def trigger(hub: Hub, oid: str, *triggers: Trigger) -> None:
    def run(c: Any) -> None:
        w = Writer(c, hub.settings, Actor.system("test"))
        d = load_docs(c, [oid], for_update=True)[oid]
        for t in triggers:
            w.transition(d, t, why="test")
        w.flush()
    hub.tx(run)


def act(hub: Hub, oid: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    a = {"action_id": f"a{next(_aids)}", "seq": next(_aids), "order_id": oid, "type": kind, "payload": payload}
    res: dict[str, Any] = hub.tx(lambda c: process_batch(c, hub.settings, hub.rules, DESK, [a]))
    return res["results"][0]


def holds_of(d: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [h for h in d["holds"] if h["type"] == kind]


def moves(hub: Hub, oid: str) -> int:
    n: int = hub.tx(lambda c: c.execute(select(func.count()).select_from(db.stock_moves)
                                        .where(db.stock_moves.c.order_id == oid)).scalar_one())
    return n


# -- untracked SKUs ------------------------------------------------------------------------------

def test_untracked_skus_allocate_as_before_and_touch_no_stock(hub: Hub) -> None:
    set_stock(hub, NUTS, 1)  # another SKU is counted: this order's is not
    oid, = push(hub, order([(TEA, 5)]))
    d = doc(hub, oid)
    assert d["state"] == "allocated" and d["holds"] == []
    trigger(hub, oid, Trigger.LABEL_PRINTED, Trigger.SHIPPED_BY_STATION)
    assert moves(hub, oid) == 0 and level(hub, NUTS) == (1, 0)


# -- reserve, short, release, consume -----------------------------------------------------------

def test_allocation_reserves_and_shipping_consumes(hub: Hub) -> None:
    set_stock(hub, TEA, 5)
    oid, = push(hub, order([(TEA, 2), (NUTS, 9)]))  # NUTS untracked: not counted
    assert doc(hub, oid)["holds"] == [] and level(hub, TEA) == (5, 2)
    trigger(hub, oid, Trigger.LABEL_PRINTED)
    assert level(hub, TEA) == (5, 2)
    trigger(hub, oid, Trigger.SHIPPED_BY_STATION)
    assert level(hub, TEA) == (3, 0)
    trigger(hub, oid, Trigger.DELIVERED, Trigger.COMPLETED)  # closing after shipping gives nothing back
    assert level(hub, TEA) == (3, 0)


def test_short_raises_stock_short_and_reserves_nothing_for_the_order(hub: Hub) -> None:
    set_stock(hub, TEA, 5)
    set_stock(hub, NUTS, 1)
    first, = push(hub, order([(TEA, 4)]))
    oid, = push(hub, order([(TEA, 1), (NUTS, 3)]))  # TEA would fit (1 left); NUTS is short
    d = doc(hub, oid)
    held = holds_of(d, "stock_short")
    assert d["state"] == "allocated" and len(held) == 1
    assert held[0]["details"]["short"] == [{"sku": NUTS, "name": "商品", "needed": 3, "available": 1,
                                            "is_gift": False}]
    assert level(hub, TEA) == (5, 4) and level(hub, NUTS) == (1, 0)  # all or nothing
    assert doc(hub, first)["holds"] == []


def test_release_while_still_short_is_refused_and_leaves_stock_alone(hub: Hub) -> None:
    set_stock(hub, TEA, 1)
    oid, = push(hub, order([(TEA, 2)]))
    h = holds_of(doc(hub, oid), "stock_short")[0]
    res = act(hub, oid, "hold_released", {"hold_id": h["hold_id"], "resolution": {"decision": "stock_arrived"}})
    assert res["outcome"] == "rejected" and res["error"] == "stock_short", res
    assert level(hub, TEA) == (1, 0) and moves(hub, oid) == 0
    assert holds_of(doc(hub, oid), "stock_short")
    set_stock(hub, TEA, 3)  # stock arrives
    res = act(hub, oid, "hold_released", {"hold_id": h["hold_id"], "resolution": {"decision": "stock_arrived"}})
    assert res["outcome"] == "applied", res
    assert level(hub, TEA) == (3, 2) and doc(hub, oid)["holds"] == []


def test_substitute_replaces_the_short_line_and_reserves_the_substitute(hub: Hub) -> None:
    set_stock(hub, TEA, 0)
    set_stock(hub, "SKU-TEA-002", 4)
    oid, = push(hub, order([(TEA, 2)]))
    h = holds_of(doc(hub, oid), "stock_short")[0]
    res = act(hub, oid, "hold_released", {"hold_id": h["hold_id"], "resolution": {
        "decision": "substitute", "substitute_sku": "SKU-TEA-002"}})
    assert res["outcome"] == "applied", res
    assert [ln["sku"] for ln in doc(hub, oid)["lines"]] == ["SKU-TEA-002"]
    assert level(hub, "SKU-TEA-002") == (4, 2) and level(hub, TEA) == (0, 0)


@pytest.mark.parametrize("kind", ["cancelled_by_buyer", "refund_approved"])
def test_cancel_and_refund_release(hub: Hub, kind: str) -> None:
    set_stock(hub, TEA, 3)
    oid, = push(hub, order([(TEA, 3)]))
    assert level(hub, TEA) == (3, 3)
    assert act(hub, oid, kind, {"reason": "buyer asked"})["outcome"] == "applied"
    assert doc(hub, oid)["state"] == "closed" and level(hub, TEA) == (3, 0)
    other, = push(hub, order([(TEA, 3)]))  # the units are promisable again
    assert doc(hub, other)["holds"] == [] and level(hub, TEA) == (3, 3)


def test_reallocation_to_another_warehouse_moves_the_reservation(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    set_stock(hub, TEA, 1, "WH-GZ")
    oid, = push(hub, order([(TEA, 1)]))
    assert act(hub, oid, "reallocated", {"bench": "GZ-B1"})["outcome"] == "applied"
    assert level(hub, TEA) == (2, 0) and level(hub, TEA, "WH-GZ") == (1, 1)
    assert act(hub, oid, "reallocated", {"bench": "B2"})["outcome"] == "applied"  # and back
    assert level(hub, TEA) == (2, 1) and level(hub, TEA, "WH-GZ") == (1, 0)


def test_reallocation_to_a_short_warehouse_holds_and_reserves_nothing(hub: Hub) -> None:
    set_stock(hub, TEA, 2)
    set_stock(hub, TEA, 0, "WH-GZ")
    oid, = push(hub, order([(TEA, 1)]))
    assert act(hub, oid, "reallocated", {"bench": "GZ-B1"})["outcome"] == "applied"
    assert holds_of(doc(hub, oid), "stock_short") and level(hub, TEA, "WH-GZ") == (0, 0)
    assert level(hub, TEA) == (2, 0)


# -- gifts ----------------------------------------------------------------------------------------

def test_gift_stock_is_seeded_once_and_counted(hub: Hub) -> None:
    rules = hub.rules
    assert rules.gift_stock["GIFT-FAN-01"] == 30 and rules.default_warehouse == SH
    assert hub.tx(lambda c: stock.seed_gift_stock(c, rules, utcnow())) == len(rules.gift_stock)
    set_stock(hub, "GIFT-FAN-01", 1)  # a count since the seed: a restart must not overwrite it
    assert hub.tx(lambda c: stock.seed_gift_stock(c, rules, utcnow())) == 0
    assert level(hub, "GIFT-FAN-01") == (1, 0)
    a, = push(hub, order([(TEA, 1)], gift="GIFT-FAN-01"))
    assert doc(hub, a)["holds"] == [] and level(hub, "GIFT-FAN-01") == (1, 1)
    b, = push(hub, order([(TEA, 1)], gift="GIFT-FAN-01"))  # the static table said 30: stock says 0 left
    held = holds_of(doc(hub, b), "gift_stock")
    assert [s["sku"] for s in held[0]["details"]["short"]] == ["GIFT-FAN-01"]
    options = held[0]["details"]["options"]["gift_skus"]
    assert "GIFT-FAN-01" not in options and "GIFT-TEA-01" not in options and "GIFT-CUP-01" in options
    assert not holds_of(doc(hub, b), "stock_short")


def test_static_gift_check_stays_where_the_gift_is_not_counted(hub: Hub) -> None:
    a, = push(hub, order([(TEA, 1)], gift="GIFT-TEA-01"))  # nothing seeded: the rules' 0 holds it
    assert [s["sku"] for s in holds_of(doc(hub, a), "gift_stock")[0]["details"]["short"]] == ["GIFT-TEA-01"]


# -- the race on PostgreSQL -------------------------------------------------------------------------

@pytest.mark.postgres
def test_two_hubs_allocating_the_last_units_at_once_give_exactly_one_success() -> None:
    """Both allocations read 3 available (their statement's own read: it fits) and then queue at the
    stock row's lock, held here by a third transaction; when it lets go, only the conditional
    UPDATE's re-check stands between them and 4 reserved of 3 on hand."""
    require_postgres()
    with fresh_pg_database() as url:
        hubs = [make_hub(url), Hub(HubSettings(database_url=url))]  # two engines: two hub processes' pools
        try:
            set_stock(hubs[0], TEA, 3)
            oids = [push(hubs[0], order([(TEA, 2)], status=ChannelStatus.UNPAID))[0] for _ in hubs]
            results: dict[int, Any] = {}

            def pay(i: int) -> None:
                def run(c: Any) -> None:
                    w = Writer(c, hubs[i].settings, Actor.system(f"hub{i}"))
                    d = load_docs(c, [oids[i]], for_update=True)[oids[i]]
                    confirm_payment(w, hubs[i].rules, d, "paid")
                    w.flush()
                try:
                    results[i] = hubs[i].tx(run)
                except Exception as exc:
                    results[i] = exc

            def reserving_at_the_lock() -> int:
                """Allocations waiting on a lock inside the reservation statement (they have read)."""
                with hubs[0].engine.connect() as c:
                    return int(c.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query LIKE 'WITH cur AS (SELECT sku, on_hand%'")).scalar_one())

            threads = [threading.Thread(target=pay, args=(i,)) for i in range(2)]
            with hubs[0].engine.connect() as locker:
                held = locker.begin()
                locker.execute(text("SELECT 1 FROM stock WHERE sku = :sku FOR UPDATE"), {"sku": TEA})
                for t in threads:
                    t.start()
                deadline = time.monotonic() + 30
                while reserving_at_the_lock() < 2:  # a condition polled, not a sleep standing in for it
                    assert time.monotonic() < deadline and all(t.is_alive() for t in threads), results
                    time.sleep(0.02)
                held.rollback()
            for t in threads:
                t.join(timeout=30)
            assert results == {0: None, 1: None}, results
            docs = [doc(hubs[0], oid) for oid in oids]
            assert [d["state"] for d in docs] == ["allocated", "allocated"]
            short = [d for d in docs if holds_of(d, "stock_short")]
            assert len(short) == 1, [d["holds"] for d in docs]
            assert level(hubs[0], TEA) == (3, 2)
            assert moves(hubs[0], short[0]["order_id"]) == 0
        finally:
            for h in hubs:
                h.engine.dispose()
                h.reader.dispose()


# -- invariants: a hypothesis state machine -------------------------------------------------------

SKUS = (TEA, NUTS)


class StockMachine(RuleBasedStateMachine):
    """Random orders, cancels, ships, restocks and adjustments up and down (counts below reserved);
    after each step the stock rows equal what the open allocated orders' lines say (held orders hold
    nothing, every other open order holds exactly its lines) and never go negative."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.dir = tempfile.TemporaryDirectory()
        self.hub = make_hub(f"sqlite:///{Path(self.dir.name) / 'hub.db'}")
        self.oids: list[str] = []
        self.shipped: dict[str, int] = dict.fromkeys(SKUS, 0)
        self.restocked: dict[str, int] = dict.fromkeys(SKUS, 4)
        self.counted_away: dict[str, int] = dict.fromkeys(SKUS, 0)
        for sku in SKUS:
            set_stock(self.hub, sku, 4)

    def teardown(self) -> None:
        self.hub.engine.dispose()
        self.hub.reader.dispose()
        self.dir.cleanup()

    @rule(lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3))
    def new_order(self, lines: list[tuple[str, int]]) -> None:
        self.oids += push(self.hub, order(lines))

    @rule(sku=st.sampled_from(SKUS), n=st.integers(1, 4))
    def restock(self, sku: str, n: int) -> None:
        on_hand, _ = level(self.hub, sku)
        set_stock(self.hub, sku, on_hand + n)
        self.restocked[sku] += n

    @rule(sku=st.sampled_from(SKUS), n=st.integers(-3, 4), below_reserved=st.booleans())
    def adjust(self, sku: str, n: int, below_reserved: bool) -> None:
        """A desk adjustment: up runs the fair queue, down below reserved takes units back (newest first)."""
        on_hand, reserved = level(self.hub, sku)
        new = max(0, reserved - 1 if below_reserved and reserved else on_hand + n)

        def run(c: Any) -> None:
            w = Writer(c, self.hub.settings, DESK)
            stock.adjust(w, sku, SH, reason="cycle_count", on_hand=new)
            w.flush()
        self.hub.tx(run)
        if new > on_hand:
            self.restocked[sku] += new - on_hand
        else:
            self.counted_away[sku] += on_hand - new

    @rule(i=st.integers(0, 50), kind=st.sampled_from(["cancelled_by_buyer", "refund_approved"]))
    def close(self, i: int, kind: str) -> None:
        if self.oids:
            act(self.hub, self.oids[i % len(self.oids)], kind, {"reason": "test"})

    @rule(i=st.integers(0, 50))
    def release_short(self, i: int) -> None:
        if self.oids:
            oid = self.oids[i % len(self.oids)]
            for h in holds_of(doc(self.hub, oid), "stock_short"):
                act(self.hub, oid, "hold_released", {"hold_id": h["hold_id"],
                                                     "resolution": {"decision": "stock_arrived"}})

    @rule(i=st.integers(0, 50))
    def ship(self, i: int) -> None:
        if not self.oids:
            return
        oid = self.oids[i % len(self.oids)]
        d = doc(self.hub, oid)
        if d["state"] != "allocated" or d["holds"]:
            return
        trigger(self.hub, oid, Trigger.LABEL_PRINTED, Trigger.SHIPPED_BY_STATION)
        for ln in d["lines"]:
            self.shipped[ln["sku"]] += ln["qty"]

    @invariant()
    def reserved_is_the_open_allocated_lines(self) -> None:
        docs = self.hub.tx(lambda c: load_docs(c, self.oids)) if self.oids else {}
        for sku in SKUS:
            on_hand, reserved = level(self.hub, sku)
            promised = sum(ln["qty"] for d in docs.values() if d["state"] in (State.ALLOCATED, State.LABEL_PRINTED)
                           and not any(h["type"] == "stock_short" for h in d["holds"])
                           for ln in d["lines"] if ln["sku"] == sku)
            assert reserved == promised, (sku, reserved, promised)
            assert on_hand == self.restocked[sku] - self.shipped[sku] - self.counted_away[sku]
            assert 0 <= reserved <= on_hand
        held = self.hub.tx(lambda c: {oid: stock.held(c, oid) for oid in self.oids})
        for oid, d in docs.items():  # each order holds exactly its lines, or nothing while short
            open_ = d["state"] in (State.ALLOCATED, State.LABEL_PRINTED) and not holds_of(d, "stock_short")
            lines = {(sku, SH): q for sku, q in stock.needed(d).items()}
            assert held[oid] == (lines if open_ else {}), (oid, d["state"], d["holds"], held[oid])


TestStockMachine = StockMachine.TestCase
TestStockMachine.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
