"""Carrier cut-offs: the due time's arithmetic (site day, not UTC day), the 未交接 flag, the bench's overlay."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.cutoffs import CUTOFF_KEY, due_from_rule, handover_late, next_cutoff, parse_cutoff
from core.flags import Flag, order_flags
from core.store.overlay import PendingAction, apply_local, replay
from core.timeutil import iso

SH = "Asia/Shanghai"
CUT = time(17, 30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("printed", "due"), [
    (utc(2026, 12, 7, 9, 29), utc(2026, 12, 7, 9, 30)),   # 17:29 Shanghai: today's 17:30
    (utc(2026, 12, 7, 9, 30), utc(2026, 12, 7, 9, 30)),   # exactly at the cut-off: due now
    (utc(2026, 12, 7, 9, 31), utc(2026, 12, 8, 9, 30)),   # 17:31 Shanghai: tomorrow's
    # 00:30 Shanghai on the 8th is 16:30 UTC on the 7th: the site's day (the 8th) counts, not UTC's
    (utc(2026, 12, 7, 16, 30), utc(2026, 12, 8, 9, 30)),
    # 23:59 Shanghai on the 7th = 15:59 UTC: after the cut-off, so the 8th
    (utc(2026, 12, 7, 15, 59), utc(2026, 12, 8, 9, 30)),
    # New Year's Eve after the cut-off: the next year's first day
    (utc(2026, 12, 31, 10, 0), utc(2027, 1, 1, 9, 30)),
])
def test_the_due_time_is_the_next_cut_off_on_the_sites_calendar(printed: datetime, due: datetime) -> None:
    assert next_cutoff(printed, CUT, SH) == due


def test_a_zone_with_daylight_saving_keeps_the_wall_clock_cut_off() -> None:
    # Berlin moves to summer time on 2026-03-29: the cut-off stays 17:30 local, i.e. 15:30 UTC, not 16:30.
    before = next_cutoff(utc(2026, 3, 28, 17, 0), CUT, "Europe/Berlin")  # 18:00 local, after the cut-off
    assert before == utc(2026, 3, 29, 15, 30)


def test_a_midnight_cut_off_counts_from_the_site_day() -> None:
    # "00:00": a label printed at 00:00:30 Shanghai is due at the next midnight
    assert next_cutoff(utc(2026, 12, 7, 16, 0, 30), time(0, 0), SH) == utc(2026, 12, 8, 16, 0)


@pytest.mark.parametrize("bad", ["5:30pm", "24:00", "17:60", "1730", "17:30:15", "", " ", 1730, 17.5, None,
                                 time(17, 30, 15), True])
def test_a_cut_off_is_hh_mm(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_cutoff(bad)


def test_cut_offs_written_as_text_or_toml_times() -> None:
    assert parse_cutoff("17:30") == parse_cutoff(" 17:30 ") == parse_cutoff(time(17, 30)) == time(17, 30)
    assert parse_cutoff("00:00") == time(0, 0) and parse_cutoff("23:59") == time(23, 59)


def _printed(due: str | None, state: str = "label_printed") -> dict:
    return {"order_id": "BL20261207-000001", "state": state, "lines": [], "holds": [], "flags": [],
            **({"handover_due": due} if due else {})}


def test_the_flag_appears_when_the_cut_off_passes_and_goes_when_the_parcel_ships() -> None:
    due = utc(2026, 12, 7, 9, 30)
    order = _printed(iso(due))
    assert Flag.HANDOVER_LATE not in order_flags(order, now=due - timedelta(seconds=1))
    assert Flag.HANDOVER_LATE in order_flags(order, now=due)
    assert Flag.HANDOVER_LATE in order_flags(order, now=due + timedelta(hours=3))
    assert not handover_late(_printed(iso(due), "shipped"), due + timedelta(hours=3))
    assert Flag.HANDOVER_LATE not in order_flags(_printed(iso(due), "shipped"), now=due + timedelta(hours=3))
    # not printed yet, or no cut-off for its carrier: no flag
    assert Flag.HANDOVER_LATE not in order_flags(_printed(iso(due), "allocated"), now=due + timedelta(hours=3))
    assert Flag.HANDOVER_LATE not in order_flags(_printed(None), now=due + timedelta(days=3))
    # a garbled due time from an old or broken snapshot is no flag, and no crash
    assert Flag.HANDOVER_LATE not in order_flags(_printed("yesterday"), now=due)


def test_the_flag_sorts_with_overdue_ahead_of_exceptions() -> None:
    due = utc(2026, 12, 7, 9, 30)
    order = {**_printed(iso(due)), "holds": [{"hold_id": "h", "type": "cancel_request"}]}
    assert order_flags(order, now=due + timedelta(minutes=1)) == [Flag.HANDOVER_LATE, Flag.EXCEPTION]


def _allocated(rule: dict | None) -> dict:
    snap = {"order_id": "BL20261207-000002", "state": "allocated", "version": 3, "holds": [], "flags": [],
            "lines": [], "label_count": 0, "carrier": "ZTO"}
    if rule is not None:
        snap[CUTOFF_KEY] = rule
    return snap


def _act(kind: str, done_at: str, payload: dict | None = None) -> PendingAction:
    base = {"label_printed": {"printer": "pdf", "job_id": "j"}, "label_voided": {"reason": "torn"}}
    return PendingAction(f"a-{kind}-{done_at}", "BL20261207-000002", kind, payload or base[kind], "P001", done_at)


def test_an_offline_print_gets_the_due_time_the_hub_will_set() -> None:
    rule = {"carrier": "ZTO", "time": "17:30", "tz": SH}
    early = apply_local(_allocated(rule), _act("label_printed", "2026-12-07T09:29:00Z"))
    assert early["handover_due"] == "2026-12-07T09:30:00Z"
    late = apply_local(_allocated(rule), _act("label_printed", "2026-12-07T09:31:00Z"))
    assert late["handover_due"] == "2026-12-08T09:30:00Z"
    # void and reprint after the cut-off: the void clears it, the reprint's time sets it again
    view = replay(_allocated(rule), [_act("label_printed", "2026-12-07T09:00:00Z"),
                                     _act("label_voided", "2026-12-07T09:40:00Z")])
    assert view["state"] == "allocated" and "handover_due" not in view
    view = apply_local(view, _act("label_printed", "2026-12-07T09:45:00Z"))
    assert view["handover_due"] == "2026-12-08T09:30:00Z" and view["label_count"] == 2


@pytest.mark.parametrize("rule", [None, "17:30", {"time": "half past five", "tz": SH}, {"time": "17:30", "tz": "Mars/Base"},
                                  {"time": "17:30"}])
def test_no_usable_rule_means_no_due_time_on_the_bench(rule: object) -> None:
    snap = _allocated(None)
    if rule is not None:
        snap[CUTOFF_KEY] = rule
    view = apply_local(snap, _act("label_printed", "2026-12-07T09:29:00Z"))
    assert view["state"] == "label_printed" and "handover_due" not in view
    assert due_from_rule(rule, "2026-12-07T09:29:00Z") is None


def test_waves_by_carrier_choices_counts_and_order() -> None:
    from core.waves import WaveRow, wave_choices, wave_ids

    rows = [WaveRow("o1", "ZTO", "17:30"), WaveRow("o2", "SF", "18:30"), WaveRow("o3", "ZTO", "17:30"),
            WaveRow("o4", "YTO", "17:00"), WaveRow("o5", "EMS", ""), WaveRow("o6", "ZTO", "17:30")]
    choices = wave_choices(rows, 2)
    # all carriers first, then by cut-off (earliest courier first), a carrier without one last
    assert [(c.carrier, c.order_ids, c.waiting, c.cutoff) for c in choices] == [
        (None, ("o1", "o2"), 6, ""), ("YTO", ("o4",), 1, "17:00"), ("ZTO", ("o1", "o3"), 3, "17:30"),
        ("SF", ("o2",), 1, "18:30"), ("EMS", ("o5",), 1, "")]
    assert wave_ids(rows, "ZTO", 10) == ["o1", "o3", "o6"] and wave_ids(rows, "JD", 10) == []
    assert wave_ids(rows, None, 0) == ["o1"]  # a wave is at least one order
    assert wave_choices([], 20) == []


def test_a_wave_prints_grouped_by_carrier_then_in_walking_order() -> None:
    from printing.common import wave_order

    def snap(oid: str, carrier: str, cutoff: str, bin_: str) -> dict:
        return {"order_id": oid, "carrier": carrier, "lines": [{"bin": bin_}],
                **({CUTOFF_KEY: {"carrier": carrier, "time": cutoff, "tz": SH}} if cutoff else {})}

    orders = [snap("a", "ZTO", "17:30", "A-10"), snap("b", "YTO", "17:00", "B-1"), snap("c", "ZTO", "17:30", "A-2"),
              snap("d", "EMS", "", "A-1"), snap("e", "YTO", "17:00", "A-3")]
    assert [o["order_id"] for o in wave_order(orders)] == ["e", "b", "c", "a", "d"]  # type: ignore[arg-type, index]


def test_a_queue_row_carries_the_carrier_and_the_missed_cut_off_flag() -> None:
    from core.queues import row_from_snapshot
    from tests.helpers.snapshots import snapshot

    snap = snapshot("BL20261207-000009", state="label_printed", carrier="ZTO", handover_due="2026-12-07T09:30:00Z",
                    ship_by="2026-12-09T00:00:00Z",
                    **{CUTOFF_KEY: {"carrier": "ZTO", "time": "17:30", "tz": SH}})
    before = row_from_snapshot(snap, pending=0, conflict=False, now=utc(2026, 12, 7, 9, 29))
    after = row_from_snapshot(snap, pending=0, conflict=False, now=utc(2026, 12, 7, 9, 30))
    assert (before.carrier, before.cutoff) == ("ZTO", "17:30")
    assert Flag.HANDOVER_LATE not in before.flags and Flag.HANDOVER_LATE in after.flags
    assert after.key < before.key  # a missed cut-off sorts up the queue
