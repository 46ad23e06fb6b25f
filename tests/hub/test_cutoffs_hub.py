"""Carrier cut-offs at the hub: the rules file's ``cutoff``, ``handover_due`` on print / void / reprint,
and the handover record of ``shipped_by_station`` — through :func:`hub.actions.process_batch` (what
``POST /api/v1/actions`` runs) on a real SQLite file, in-process (no hub process: CI time)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.cutoffs import CUTOFF_KEY
from core.demo import generate_orders
from hub import cutoffs, db
from hub.actions import process_batch
from hub.config import HubSettings
from hub.orders import intake, load_docs
from hub.routing import Rules
from hub.writer import Actor, Writer
from tests.hub.test_routing import BASE, bad, write_rules


class Bench:
    """One bench's device pushing actions to an in-process hub (a real SQLite file)."""

    def __init__(self, engine: Engine, settings: HubSettings, rules: Rules, bench: str) -> None:
        self.engine, self.settings, self.rules = engine, settings, rules
        self.actor = Actor(operator="P001", station=f"{bench}-PC", role="packer", bench=bench,
                           device_id=uuid.uuid4().hex)
        self.seq = 0

    def do(self, order_id: str, kind: str, payload: dict[str, Any] | None = None, *,
           done_at: str | None = None) -> dict[str, Any]:
        self.seq += 1
        action = {"action_id": uuid.uuid4().hex, "seq": self.seq, "order_id": order_id, "type": kind,
                  "payload": payload or {}, "base_version": None, "done_at": done_at, "operator": "P001"}
        with self.engine.begin() as c:
            res = process_batch(c, self.settings, self.rules, self.actor, [action])["results"][0]
        assert res["outcome"] == "applied", res
        return res["order"]  # type: ignore[no-any-return]

    def audit(self, order_id: str) -> list[dict[str, Any]]:
        a = db.audit.c
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(select(a.what, a.details, a.operator, a.station)
                                                        .where(a.order_id == order_id).order_by(a.id))]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Engine, HubSettings, Rules, list[dict[str, Any]]]]:
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}")
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    rules = Rules.default()
    with engine.begin() as c:
        w = Writer(c, settings, Actor.system("test"))
        intake(w, rules, generate_orders(40, seed=5))
        w.flush()
        docs = load_docs(c, [r[0] for r in c.execute(select(db.orders.c.order_id))])
    yield engine, settings, rules, list(docs.values())
    engine.dispose()


def _free(docs: list[dict[str, Any]], carrier: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["state"] == "allocated" and not d["holds"] and d["carrier"] == carrier]


def test_the_default_rules_carry_a_cut_off_per_carrier_and_allocation_stamps_it(site: Any) -> None:
    _engine, _settings, rules, docs = site
    assert {k: v.strftime("%H:%M") for k, v in rules.cutoffs.items()} == {
        "ZTO": "17:30", "YTO": "17:00", "JD": "18:00", "SF": "18:30", "EMS": "16:00"}
    allocated = [d for d in docs if d["state"] == "allocated" and d["carrier"]]
    assert allocated
    for d in allocated:
        assert d[CUTOFF_KEY] == {"carrier": d["carrier"], "time": rules.cutoffs[d["carrier"]].strftime("%H:%M"),
                                 "tz": "Asia/Shanghai"}
        assert "handover_due" not in d
    # no carrier (an area none covers): nothing to stamp
    assert all(CUTOFF_KEY not in d for d in docs if d["state"] == "allocated" and not d["carrier"])


def test_print_void_reprint_and_the_handover_record(site: Any) -> None:
    engine, settings, rules, docs = site
    zto = _free(docs, "ZTO")
    assert len(zto) >= 2
    a, b = zto[:2]
    bench_a = Bench(engine, settings, rules, a["bench"])
    # 17:29 Shanghai (09:29 UTC): today's 17:30; 17:31: tomorrow's
    printed = bench_a.do(a["order_id"], "label_printed", {"printer": "pdf", "job_id": "j1"},
                         done_at="2026-12-07T09:29:00Z")
    assert printed["handover_due"] == "2026-12-07T09:30:00Z"
    assert printed["label_printed_at"] == "2026-12-07T09:29:00Z"  # the handover's print day
    bench_b = Bench(engine, settings, rules, b["bench"])
    late = bench_b.do(b["order_id"], "label_printed", {"printer": "pdf", "job_id": "j2"}, done_at="2026-12-07T09:31:00Z")
    assert late["handover_due"] == "2026-12-08T09:30:00Z"

    voided = bench_a.do(a["order_id"], "label_voided", {"reason": "torn"}, done_at="2026-12-07T09:40:00Z")
    assert voided["state"] == "allocated" and "handover_due" not in voided and "label_printed_at" not in voided
    assert voided[CUTOFF_KEY]["carrier"] == "ZTO"
    reprinted = bench_a.do(a["order_id"], "label_printed", {"printer": "pdf", "job_id": "j3"},
                           done_at="2026-12-07T09:41:00Z")
    assert reprinted["handover_due"] == "2026-12-08T09:30:00Z"

    shipped = bench_a.do(a["order_id"], "shipped_by_station", {"batch_id": "HO-20261207-0001", "carrier": "ZTO"},
                         done_at="2026-12-08T08:15:00Z")
    record = {"batch_id": "HO-20261207-0001", "station": bench_a.actor.station, "operator": "P001",
              "at": "2026-12-08T08:15:00Z"}
    assert shipped["state"] == "shipped" and shipped["handover"] == record
    line = [e for e in bench_a.audit(a["order_id"]) if e["what"] == "shipped_by_station"]
    assert len(line) == 1 and line[0]["details"]["handover"] == record
    assert line[0]["details"]["batch_id"] == "HO-20261207-0001" and line[0]["station"] == bench_a.actor.station
    with engine.connect() as c:  # stored, not only answered
        assert load_docs(c, [a["order_id"]])[a["order_id"]]["handover"] == record

    # shipped without a batch (the old one-parcel scan-out): no handover record
    plain = bench_b.do(b["order_id"], "shipped_by_station", {})
    assert plain["state"] == "shipped" and "handover" not in plain


def test_an_address_change_after_printing_clears_the_due_time(site: Any) -> None:
    engine, settings, rules, docs = site
    o = _free(docs, "ZTO")[0]
    bench = Bench(engine, settings, rules, o["bench"])
    assert bench.do(o["order_id"], "label_printed", {"printer": "pdf", "job_id": "j"},
                    done_at="2026-12-07T01:00:00Z")["handover_due"] == "2026-12-07T09:30:00Z"
    desk = Bench(engine, settings, rules, o["bench"])
    desk.actor = Actor(operator="D001", station="DESK-1", role="desk", device_id=uuid.uuid4().hex)
    desk.seq = 0
    changed = desk.do(o["order_id"], "address_changed",
                      {"recipient": {**{k: o["recipient"][k] for k in ("name", "phone", "province", "city", "district")},
                                     "address": o["recipient"]["address"] + "（新）"}, "reason": "buyer asked"})
    assert changed["state"] == "allocated" and "handover_due" not in changed


def test_a_carrier_without_a_cut_off_gets_no_due_time(tmp_path: Path) -> None:
    rules = Rules.load(write_rules(tmp_path, BASE.replace('[carriers.ZTO]\n', '[carriers.ZTO]\ncutoff = "17:30"\n')))
    assert set(rules.cutoffs) == {"ZTO"}
    doc: dict[str, Any] = {"carrier": "SF"}
    cutoffs.label_printed(doc, rules, "Asia/Shanghai", datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    assert "handover_due" not in doc and CUTOFF_KEY not in doc


@pytest.mark.parametrize("value", ['"5:30pm"', '"24:00"', "1730", '"17:30:00"', '""', "17:30:15"])
def test_a_bad_cut_off_is_refused_with_file_and_key(tmp_path: Path, value: str) -> None:
    err = bad(tmp_path, BASE.replace('[carriers.SF]\n', f'[carriers.SF]\ncutoff = {value}\n'))
    assert err.details["key"] == "carriers.SF.cutoff"
    assert "carriers.SF.cutoff" in err.message and "HH:MM" in err.message


def test_a_toml_local_time_is_a_cut_off_too(tmp_path: Path) -> None:
    rules = Rules.load(write_rules(tmp_path, BASE.replace('[carriers.SF]\n', '[carriers.SF]\ncutoff = 18:30:00\n')))
    assert rules.cutoffs["SF"].strftime("%H:%M") == "18:30"


def test_a_misspelt_cut_off_key_is_named(tmp_path: Path) -> None:
    err = bad(tmp_path, BASE.replace('[carriers.SF]\n', '[carriers.SF]\ncut_off = "18:30"\n'))
    assert err.details["key"] == "carriers.SF.cut_off" and "cutoff" in err.message
