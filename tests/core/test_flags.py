"""Flags and queue order: severity, then ship-by, then order time; every flag has icon and text."""

from __future__ import annotations

from datetime import UTC, datetime

from core.flags import STYLES, Flag, flag_text, order_flags, sort_key

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def order(**kw: object) -> dict:
    base = {"order_id": "BL20261125-000001", "state": "allocated", "flags": [], "lane": "normal", "holds": [],
            "lines": [{"is_gift": False}], "ship_by": "2026-11-26T06:00:00Z", "created_at": "2026-11-25T01:00:00Z",
            "updated_at": "2026-11-25T01:00:00Z"}
    base.update(kw)
    return base


def test_each_flag_has_a_colour_an_icon_and_words_in_both_languages() -> None:
    for flag, style in STYLES.items():
        assert style.colour.startswith("#") and style.icon and style.zh and style.en
        assert style.icon in flag_text(flag) and style.zh in flag_text(flag)
        assert style.en in flag_text(flag, "en")


def test_flags_are_derived_from_the_order() -> None:
    assert order_flags(order(), now=NOW) == []
    assert order_flags(order(flags=["vip", "gift"]), now=NOW) == [Flag.VIP, Flag.GIFT]
    assert order_flags(order(ship_by="2026-11-25T05:00:00Z"), now=NOW) == [Flag.OVERDUE]
    assert order_flags(order(ship_by="2026-11-25T07:00:00Z"), now=NOW) == [Flag.AT_RISK]
    assert order_flags(order(holds=[{"type": "gift_stock"}]), now=NOW) == [Flag.EXCEPTION]
    assert order_flags(order(), now=NOW, conflict=True) == [Flag.CONFLICT]
    assert order_flags(order(state="shipped", updated_at="2026-11-25T05:00:00Z"), now=NOW) == [Flag.DONE]
    assert order_flags(order(state="shipped", updated_at="2026-11-23T05:00:00Z"), now=NOW) == []


def test_queue_order_is_severity_then_ship_by_then_order_time() -> None:
    rows = [
        order(order_id="plain-late", ship_by="2026-11-27T00:00:00Z"),
        order(order_id="plain-early", ship_by="2026-11-26T00:00:00Z"),
        order(order_id="vip", flags=["vip"]),
        order(order_id="conflict"),
        order(order_id="held", holds=[{"type": "x"}]),
        order(order_id="plain-early-older", ship_by="2026-11-26T00:00:00Z", created_at="2026-11-24T00:00:00Z"),
    ]
    keyed = sorted(rows, key=lambda o: sort_key(order_flags(o, now=NOW, conflict=o["order_id"] == "conflict"), o))
    assert [o["order_id"] for o in keyed] == ["conflict", "vip", "held", "plain-early-older", "plain-early",
                                              "plain-late"]
