"""Bench scale protocols and the reader thread, against a fake scale on a pseudo-terminal."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.scale import SETTLE_FRAMES, Link, Reading, ScaleReader, make_parser
from core.weighing import Weigher
from tests.helpers.fake_scale import (
    ENCODERS,
    FakeScale,
    ad_frame,
    toledo_frame,
    yaohua_a12_frame,
)
from tests.helpers.waiting import wait_until

WEIGHTS = [0, 5, 1234, 1234, 1250, 999_999, -40]


def grams_of(readings: list[Reading]) -> list[int]:
    return [r.grams for r in readings]


# --- known answers from the manuals -----------------------------------------------------------

def test_manual_examples_parse_to_their_weights() -> None:
    # 耀华 XK3190-A12(E) manual: "W G 0 0 4 . 1 3 9 k g 3 D" CR LF is 4.139 kg; its OL frame ends "23"
    a12 = make_parser("yaohua_a12")
    assert grams_of(a12.feed(b"WG004.139kg3D\r\n")) == [4139]
    [over] = a12.feed(b"         OL23\r\n")
    assert over.overload and a12.rejected == 0
    assert yaohua_a12_frame(4139) == b"WG004.139kg3D\r\n"  # the fake writes what the manual shows
    # A&D AD-4404 data format: "ST,NT,+0012.34kg" is a stable net 12.34 kg
    ad = make_parser("ad")
    [r] = ad.feed(b"ST,NT,+0012.34kg\r\n")
    assert r == Reading(12340, True, net=True)
    # A&D EK-L balances: no second header, unit in grams after a space
    assert ad.feed(b"ST,+001234.0  g\r\n") == [Reading(1234, True)]
    assert ad.feed(b"US,-0000.050kg\r\n") == [Reading(-50, False)]
    assert ad.feed(b"OL,+9999999  g\r\n")[0].overload


def test_toledo_status_words_decimal_sign_motion_units_and_checksum() -> None:
    p = make_parser("toledo")
    # SWA 0x2D: decimal code 5 (XXX.XXX); SWB 0x30: kg, gross, positive, stable; SWC 0x20
    frame = b"\x02\x2d\x30\x20001234000000\r"
    cks = (-sum(frame)) & 0x7F
    assert p.feed(frame + bytes([cks])) == [Reading(1234, True)]
    assert p.feed(frame + bytes([cks ^ 1]) + frame) == []  # bad checksum: refused
    assert p.rejected >= 1
    q = make_parser("toledo")  # a terminal set to send no checksum: CR, then the next STX
    assert q.feed(frame + frame + frame[:1]) == [Reading(1234, True), Reading(1234, True)]
    motion_neg_net = b"\x02\x2c\x3b\x20000500000100\r"  # XXXX.XX, net, negative, motion
    assert q.feed(motion_neg_net + b"\x02") == [Reading(-5000, False, net=True)]
    grams = b"\x02\x22\x20\x21000750000000\r"  # XXXXXX, SWC bit 0: grams
    assert make_parser("toledo").feed(grams + b"\x02") == [Reading(750, True)]
    lb = b"\x02\x23\x20\x20000100000000\r"  # XXXXX.X lb (SWB bit 4 clear): 10.0 lb
    assert make_parser("toledo").feed(lb + b"\x02") == [Reading(4536, True)]


@pytest.mark.parametrize("protocol", sorted(ENCODERS))
def test_byte_by_byte_and_all_at_once_give_the_same_readings(protocol: str) -> None:
    stream = b"".join(ENCODERS[protocol](g) for g in WEIGHTS) + ENCODERS[protocol](0)[:1]
    whole = make_parser(protocol).feed(stream)
    p = make_parser(protocol)
    drip = [r for i in range(len(stream)) for r in p.feed(stream[i:i + 1])]
    assert grams_of(whole) == grams_of(drip) == WEIGHTS
    assert p.rejected == 0


@pytest.mark.parametrize("protocol", sorted(ENCODERS))
def test_garbage_and_cut_frames_are_skipped_and_never_read_as_a_weight(protocol: str) -> None:
    rng = random.Random(17)
    encode = ENCODERS[protocol]
    sent: list[int] = []
    stream = bytearray(b"\xff\x00garbage\x02\x03\r\n")
    for i in range(300):
        grams = rng.randrange(0, 60_000)
        frame = encode(grams)
        kind = i % 5
        if kind == 0:  # noise between frames
            stream += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
        if kind == 1:  # a frame cut short (the line glitched), then a good one
            stream += frame[: rng.randrange(1, len(frame) - 3)]  # (whole but its end would be a frame)
            stream += b"\r\n" if protocol in ("ad", "yaohua_a12") else b""
        if kind == 2:  # one byte of the frame flipped
            bad = bytearray(frame)
            at = rng.randrange(len(bad) - 2)
            bad[at] ^= 0x41
            stream += bad + (b"\r\n" if protocol in ("ad", "yaohua_a12") else b"")
        stream += frame
        sent.append(grams)
    p = make_parser(protocol)
    got = grams_of([r for i in range(0, len(stream), 7) for r in p.feed(bytes(stream[i:i + 7]))])
    # every reading is one that was sent, in order (a damaged frame is lost, never misread)
    it = iter(sent)
    assert all(any(g == s for s in it) for g in got), "a reading that was never sent"
    assert len(got) >= len(sent) * 0.75 and p.rejected > 0
    assert len(p.buf) < 600


@pytest.mark.parametrize("protocol", ["yaohua", "yaohua_a12"])
def test_protocols_without_a_stable_flag_settle_on_repeated_equal_readings(protocol: str) -> None:
    p = make_parser(protocol)
    moving = p.feed(b"".join(ENCODERS[protocol](g) for g in (100, 800, 1500, 1490)))
    assert [r.stable for r in moving] == [False] * 4
    steady = p.feed(ENCODERS[protocol](1490) * SETTLE_FRAMES)
    assert [r.stable for r in steady] == [False] * (SETTLE_FRAMES - 2) + [True, True]
    assert not p.feed(ENCODERS[protocol](1500))[0].stable  # it moved again


def test_unstable_flags_are_kept() -> None:
    assert [r.stable for r in make_parser("ad").feed(ad_frame(10, stable=False) + ad_frame(10))] == [False, True]
    toledo = make_parser("toledo").feed(toledo_frame(10, stable=False) + toledo_frame(10) + b"\x02")
    assert [r.stable for r in toledo] == [False, True]
    assert make_parser("toledo").feed(toledo_frame(10, overload=True) + b"\x02")[0].overload


def test_weigher_takes_a_settled_parcel_once_and_needs_the_platform_emptied() -> None:
    w = Weigher()
    feed = [Reading(0, True), Reading(900, False), Reading(1510, True), Reading(1510, True)]
    assert [w.feed(r) for r in feed] == [None, None, None, 1510]  # two equal stable frames
    w.taken()
    assert w.feed(Reading(1510, True)) is None  # still the same parcel
    assert w.feed(Reading(2000, True)) is None and w.feed(Reading(2000, True)) is None  # not emptied
    assert w.feed(Reading(3, True)) is None and w.armed
    assert w.feed(Reading(800, True)) is None and w.feed(Reading(800, True)) == 800
    assert w.feed(None) is None and w.last is None  # the scale was lost
    assert w.feed(Reading(0, False, overload=True)) is None


# --- the reader on a pty ----------------------------------------------------------------------

class Seen:
    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.links: list[tuple[Link, str]] = []
        self.lock = threading.Lock()

    def reading(self, r: Reading) -> None:
        with self.lock:
            self.readings.append(r)

    def link(self, link: Link, detail: str) -> None:
        with self.lock:
            self.links.append((link, detail))

    def kinds(self) -> list[Link]:
        with self.lock:
            return [k for k, _ in self.links]


@pytest.fixture
def scale(tmp_path: Path) -> Iterator[FakeScale]:
    fake = FakeScale(tmp_path)
    yield fake
    fake.close()


def start(port: str, protocol: str, seen: Seen, **kw: float) -> ScaleReader:
    reader = ScaleReader(port, 9600, protocol, on_reading=seen.reading, on_link=seen.link,
                         silence_s=kw.get("silence_s", 5.0), retry_s=kw.get("retry_s", 0.05))
    reader.start()
    return reader


@pytest.mark.parametrize("protocol", sorted(ENCODERS))
def test_reader_streams_each_protocol_and_survives_a_pulled_cable(scale: FakeScale, protocol: str) -> None:
    seen = Seen()
    encode = ENCODERS[protocol]
    scale.stream(b"\x00\xfe noise " + b"".join(encode(g) for g in (100, 1000, 1234)))
    reader = start(scale.port, protocol, seen)
    try:
        wait_until(lambda: 1234 in grams_of(seen.readings), 5, "the readings")
        assert set(grams_of(seen.readings)) <= {100, 1000, 1234} and reader.link == Link.CONNECTED
        scale.stream(b"")
        scale.send(encode(2222)[:5])  # the cable is pulled mid-frame
        scale.unplug()
        wait_until(lambda: Link.LOST in seen.kinds(), 5, "the loss to be seen")
        assert reader.last is None and reader.running
        scale.plug()  # plugged back in: the same port name, a new device
        scale.stream(encode(3333))
        wait_until(lambda: 3333 in grams_of(seen.readings), 5, "readings after reconnecting")
        assert 2222 not in grams_of(seen.readings)  # the half frame was dropped, not glued to the next
        kinds = seen.kinds()
        assert kinds[kinds.index(Link.LOST):][-1] == Link.CONNECTED
    finally:
        reader.stop()
    assert not reader.running and seen.kinds()[-1] == Link.STOPPED


def test_a_silent_scale_is_reported_and_the_port_reopened(scale: FakeScale) -> None:
    seen = Seen()
    scale.stream(ad_frame(500))
    reader = start(scale.port, "ad", seen, silence_s=0.3)
    try:
        wait_until(lambda: seen.readings, 5, "a reading")
        scale.stream(b"")  # switched off, or a USB adapter that goes quiet when its cable is pulled
        wait_until(lambda: Link.SILENT in seen.kinds(), 5, "silence to be reported")
        assert reader.last is None
        scale.stream(ad_frame(700))
        wait_until(lambda: 700 in grams_of(seen.readings), 5, "the reading after silence")
        assert seen.kinds()[-1] == Link.CONNECTED
    finally:
        reader.stop()


def test_a_port_that_is_missing_at_start_is_retried(tmp_path: Path) -> None:
    seen = Seen()
    port = str(tmp_path / "ttyFAKE0")
    reader = start(port, "toledo", seen)
    fake: FakeScale | None = None
    try:
        wait_until(lambda: Link.LOST in seen.kinds(), 5, "the missing port")
        fake = FakeScale(tmp_path)
        fake.stream(toledo_frame(4321))
        wait_until(lambda: 4321 in grams_of(seen.readings), 5, "the reading once plugged in")
    finally:
        reader.stop()
        if fake is not None:
            fake.close()


@pytest.mark.allow_error_log(match="scale callback failed")
def test_a_failing_callback_is_logged_and_reading_goes_on(scale: FakeScale) -> None:
    got: list[int] = []

    def bad(r: Reading) -> None:
        got.append(r.grams)
        if len(got) == 1:
            raise RuntimeError("boom")

    scale.stream(ad_frame(1))
    reader = ScaleReader(scale.port, 9600, "ad", on_reading=bad, on_link=lambda *_: None, retry_s=0.05)
    reader.start()
    try:
        wait_until(lambda: len(got) >= 3, 5, "readings after the failing one")
    finally:
        reader.stop()
