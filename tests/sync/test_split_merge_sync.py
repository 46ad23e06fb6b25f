"""Split and merge round trip through the change feed to a bench (docs/split-merge.md): a desk PC
queues ``order_split`` and ``order_merge`` in its outbox, its engine pushes them to a real hub over
HTTP, and a bench's engine pulls the parts and the merged parcel from the change feed."""

from __future__ import annotations

from collections.abc import Callable

from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.split_merge import link_text, merged_with
from core.timeutil import utcnow
from tests.helpers import hubapi
from tests.hubproc import HubProcess
from tests.sync.conftest import Station

MakeStation = Callable[..., Station]


def buyer_orders(n: int) -> list[IntakeOrder]:
    now = utcnow()
    return [IntakeOrder(channel="generic", channel_order_no=f"SMSYNC-{i}", status=ChannelStatus.PAID,
                        recipient=Recipient("李四", "13900139000", "上海市", "上海市", "徐汇区", "漕溪北路 8 号"),
                        lines=[OrderLine("SKU-TEA-001", "茶", 2, 1000), OrderLine("SKU-SNK-001", "坚果", 1, 500)],
                        total_fen=2500, created_at=now, channel_updated_at=now, paid_at=now) for i in range(n)]


def test_split_and_merge_round_trip_through_the_change_feed_to_a_bench(
        sqlite_hub: HubProcess, make_station: MakeStation) -> None:
    url = sqlite_hub.url
    ids = [o["order_id"] for o in hubapi.push_orders(url, buyer_orders(3))]
    desk = make_station(url, name="DESK-PC", bench=None, operator="D001", pin="2222")
    desk.engine.sync_once()
    parent = desk.store.get_order(ids[0])
    assert parent is not None and parent.state == "allocated"

    # split at the desk: queued in the outbox (the parent shows closed at once), then pushed
    after = desk.outbox.perform(ids[0], "order_split", {"reason": "茶先发 / tea first", "lines": {"SKU-TEA-001": 2}},
                                "D001", role="desk")
    assert after.pending == 1 and after.state == "closed"
    desk.engine.sync_once()
    kids = [f"{ids[0]}-1", f"{ids[0]}-2"]
    now, later = (desk.store.get_order(k) for k in kids)
    assert now is not None and later is not None and desk.store.pending_actions() == []
    assert [(ln["sku"], ln["qty"]) for ln in now.snapshot["lines"]] == [("SKU-TEA-001", 2)]
    assert [(ln["sku"], ln["qty"]) for ln in later.snapshot["lines"]] == [("SKU-SNK-001", 1)]
    parent_now = desk.store.get_order(ids[0])
    assert parent_now is not None and parent_now.snapshot["split"]["into"] == kids

    # merge the other two: one parcel, one waybill, one bench
    desk.outbox.perform(ids[1], "order_merge", {"with": ids[2], "reason": "同一买家同一地址"}, "D001", role="desk")
    desk.engine.sync_once()
    master, joined = desk.store.get_order(ids[1]), desk.store.get_order(ids[2])
    assert master is not None and joined is not None
    assert merged_with(master.snapshot) == [ids[2]] and merged_with(joined.snapshot) == [ids[1]]
    assert joined.snapshot["waybill_no"] == master.snapshot["waybill_no"]

    # the bench of the parcel and of the ship-now part pulls them from the feed with their links
    bench = master.snapshot["bench"]
    pc = make_station(url, name="BENCH-PC", bench=bench)
    pc.engine.sync_once()
    on_bench = pc.store.order_ids()
    assert {ids[1], ids[2]} <= on_bench
    for oid in (ids[1], ids[2]):
        got = pc.store.get_order(oid)
        assert got is not None and got.snapshot["merge"] == {"parcel": ids[1], "orders": [ids[1], ids[2]]}
        assert link_text(got.snapshot)  # the queue and the detail have words for it
    # the bench prints the parcel once: one label, the lines of both orders (ui/print_service.py read_orders)
    from printing.label import render_labels
    from ui.print_service import read_orders

    parcel = read_orders(pc.store, None, [ids[1], ids[2]]).found  # type: ignore[arg-type]  # no reprint check
    assert [o.order_id for o in parcel] == [ids[1]] and len(parcel[0].snapshot["lines"]) == 4
    assert parcel[0].snapshot["merged_orders"] == [ids[1], ids[2]]
    assert render_labels([parcel[0].snapshot]).startswith(b"%PDF")
    if now.snapshot["bench"] == bench:
        part = pc.store.get_order(kids[0])
        assert part is not None and part.snapshot["split"]["from"] == ids[0]

    # unmerge at the desk reaches the bench through the feed too
    desk.outbox.perform(ids[2], "order_unmerge", {"reason": "买家要分开寄"}, "D001", role="desk")
    desk.engine.sync_once()
    pc.engine.sync_once()
    for oid in (ids[1], ids[2]):
        got = pc.store.get_order(oid)
        assert got is None or "merge" not in got.snapshot
