"""The split and merge rules both sides read (core/split_merge.py) and split parts' order IDs."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ValidationFailed
from core.order_ids import looks_like_order_id, parse_order_id, part_order_id, root_order_id
from core.split_merge import (
    MergeRefused,
    SplitRefused,
    buyer_key,
    link_badge,
    link_text,
    merge_ids,
    merge_problem,
    parcel_view,
    split_lines,
    whole_line_warning,
)

REC = {"name": "张三", "phone": "13800138000", "province": "上海市", "city": "上海市", "district": "浦东新区",
       "address": "世纪大道 1 号"}


def order(oid: str = "BL20261206-000001", **kw: Any) -> dict[str, Any]:
    return {"order_id": oid, "state": "allocated", "holds": [], "warehouse": "WH-SH", "recipient": dict(REC),
            "lines": [{"sku": "A", "name": "茶", "qty": 2}, {"sku": "B", "name": "坚果", "qty": 1},
                      {"sku": "A", "name": "茶", "qty": 1}], **kw}


def test_part_ids_derive_from_the_root() -> None:
    assert part_order_id("BL20260222-008632", 1) == "BL20260222-008632-1"
    assert part_order_id("BL20260222-008632-2", 3) == "BL20260222-008632-3"  # a part split again
    assert root_order_id("bl20260222-008632-12") == "BL20260222-008632"
    assert parse_order_id("BL20260222-008632-2").part == 2 and str(parse_order_id("BL20260222-008632-2")).endswith("-2")
    assert looks_like_order_id("BL20260222-008632-1") and not looks_like_order_id("BL20260222-008632-0")
    with pytest.raises(ValidationFailed):
        part_order_id("BL20260222-008632", 1000)


def test_split_lines_takes_a_sku_line_by_line() -> None:
    now, later = split_lines(order(), {"A": 2, "B": 0})
    assert [(ln["sku"], ln["qty"]) for ln in now] == [("A", 2)]
    assert [(ln["sku"], ln["qty"]) for ln in later] == [("B", 1), ("A", 1)]
    now, later = split_lines(order(), {"A": 3})
    assert [(ln["sku"], ln["qty"]) for ln in now] == [("A", 2), ("A", 1)] and [ln["sku"] for ln in later] == ["B"]


@pytest.mark.parametrize("lines", [{}, {"A": 0}, {"A": 4}, {"C": 1}, {"A": -1}, {"A": 1.5}, {"A": True},
                                   {"A": 3, "B": 1}, []])
def test_split_lines_refuses_what_is_not_a_split(lines: Any) -> None:
    with pytest.raises(SplitRefused) as err:
        split_lines(order(), lines)
    assert err.value.details["field"] == "lines" and err.value.code == "split_refused"


def test_xiaohongshu_is_warned_only_when_a_part_takes_some_units_of_a_line() -> None:
    xhs = order(channel="xiaohongshu")
    assert whole_line_warning(xhs, {"A": 3}) == "" and whole_line_warning(xhs, {"B": 1}) == ""  # whole lines
    assert "A" in whole_line_warning(xhs, {"A": 2, "B": 1})  # 2 of the 3 units of A
    assert whole_line_warning(order(channel="douyin"), {"A": 2}) == ""  # 抖店 ships units of a line


def test_buyer_key_normalises_what_people_type_differently_and_refuses_masked_buyers() -> None:
    same = {**REC, "name": " 张三", "phone": "138-0013-8000", "address": "世纪大道1号"}
    assert buyer_key(REC) == buyer_key(same) is not None
    assert buyer_key({**REC, "address": "世纪大道 2 号"}) != buyer_key(REC)
    assert buyer_key({**REC, "name": "张*"}) is None and buyer_key({**REC, "phone": "138****8000"}) is None
    assert buyer_key({**REC, "phone": ""}) is None


def test_merge_problem_in_words() -> None:
    a = order()
    assert merge_problem(a, order("BL20261206-000002")) is None
    assert "itself" in str(merge_problem(a, order()))
    assert "another recipient" in str(merge_problem(a, order("X", recipient={**REC, "city": "杭州市"})))
    assert "not allocated" in str(merge_problem(a, order("X", state="label_printed")))
    assert "exception" in str(merge_problem(a, order("X", holds=[{"type": "address"}])))
    assert "warehouse" in str(merge_problem(a, order("X", warehouse="WH-GZ")))
    assert "masked" in str(merge_problem(a, order("X", recipient={**REC, "name": "张*"})))
    assert "parcel of" in str(merge_problem(a, order("X", merge={"parcel": "Y", "orders": ["Y", "X"]})))
    assert "split" in str(merge_problem(a, order("X", split={"into": ["X-1", "X-2"]})))
    assert merge_ids("bl20261206-000002, BL20261206-000003 BL20261206-000002") == [
        "BL20261206-000002", "BL20261206-000003"]
    for bad in ("", "nope", ",".join(f"BL20261206-{i:06d}" for i in range(1, 21))):
        with pytest.raises(MergeRefused):
            merge_ids(bad)


def test_links_and_the_parcel_as_it_prints() -> None:
    a = order(merge={"parcel": "BL20261206-000001", "orders": ["BL20261206-000001", "BL20261206-000002"]})
    b = order("BL20261206-000002", lines=[{"sku": "C", "name": "杯", "qty": 1}])
    assert link_badge(a) == "● merged" and "BL20261206-000002" in link_text(a)
    kid = order("BL20261206-000001-2", split={"from": "BL20261206-000001", "part": "backorder"})
    assert link_badge(kid) == "◐ split" and link_text(kid) == "back-order part of BL20261206-000001"
    view = parcel_view(a, [b])
    assert [ln["sku"] for ln in view["lines"]] == ["A", "B", "A", "C"]
    assert view["lines"][-1]["name"] == "杯 (BL20261206-000002)" and view["merged_orders"] == [a["order_id"], b["order_id"]]
    assert parcel_view(b, []) == b


def test_the_bench_refuses_a_bad_split_or_merge_before_queueing_and_shows_the_parent_closed() -> None:
    from core.store.overlay import PendingAction, apply_local

    def act(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return apply_local(order(), PendingAction("a1", "BL20261206-000001", kind, payload, "D001", "2026-12-06T08:00:00Z"))

    with pytest.raises(SplitRefused):
        act("order_split", {"reason": "x", "lines": {"A": 3, "B": 1}})
    with pytest.raises(MergeRefused):
        act("order_merge", {"with": "not an id"})
    assert act("order_split", {"reason": "x", "lines": {"A": 1}})["state"] == "closed"  # parts come from the hub
    assert act("order_merge", {"with": "BL20261206-000002"})["state"] == "allocated"
