"""HubClient against a throwaway HTTP server that misbehaves on purpose: every fault is a typed error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from core.sync.client import (
    CursorExpired,
    HubAuthExpired,
    HubClient,
    HubMalformed,
    HubRefused,
    HubServerError,
    HubUnauthorized,
    HubUnreachable,
    WrongStation,
)
from tests.helpers.fake_http import FakeHTTPServer, send_json
from tests.helpers.snapshots import snapshot
from tests.hubproc import free_port

Reply = Callable[[BaseHTTPRequestHandler], None]


def send(status: int, body: object | bytes, *, length: int | None = None) -> Reply:
    def reply(h: BaseHTTPRequestHandler) -> None:
        send_json(h, status, body, length=length)

    return reply


class FakeHub(FakeHTTPServer):
    """Answers every request with ``reply`` (set by each test)."""

    def __init__(self) -> None:
        self.reply: Reply = send(200, {})
        super().__init__(lambda h, _body: self.reply(h))


@pytest.fixture
def fake() -> Iterator[FakeHub]:
    f = FakeHub()
    yield f
    f.close()


def client(url: str) -> HubClient:
    c = HubClient(url, connect_timeout_s=1.0, read_timeout_s=2.0)
    c.token = "t"
    return c


def test_nothing_listening_is_unreachable_in_plain_words() -> None:
    port = free_port()
    with pytest.raises(HubUnreachable, match="Cannot reach the hub"):
        client(f"http://127.0.0.1:{port}").changes(0)


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (send(500, b"Internal Server Error"), HubServerError, "internal error"),
        (send(503, {"error": "x"}), HubServerError, "HTTP 503"),
        (send(200, b"<html>proxy login</html>"), HubMalformed, "not JSON"),
        (send(200, b'{"changes": [{"seq": 1, "order_id"'), HubMalformed, "not JSON"),
        (send(200, b'{"changes": []}', length=500), HubMalformed, "cut off"),
        (send(200, {"changes": "nope", "next_cursor": 3}), HubMalformed, "incomplete"),
        (
            send(200, {"changes": [{"seq": 1, "order": {"order_id": "X"}}], "next_cursor": 3}),
            HubMalformed,
            "cannot read",
        ),
        (send(200, {"changes": [], "next_cursor": 1}), HubMalformed, "backwards"),
        (send(401, {"error": "token_expired", "message": "expired"}), HubAuthExpired, "expired"),
        (send(401, {"error": "unauthorized", "message": "bad token"}), HubUnauthorized, "bad token"),
        (
            send(410, {"error": "cursor_expired", "message": "too old"}),
            CursorExpired,
            "downloading all orders",
        ),
        (send(403, {"error": "forbidden", "message": "not your bench"}), HubRefused, "not your bench"),
    ],
)
def test_faulty_change_feed_answers_are_typed(
    fake: FakeHub, reply: Reply, error: type[Exception], words: str
) -> None:
    fake.reply = reply
    with pytest.raises(error, match=words):
        client(fake.url).changes(5)


def test_slow_hub_is_a_timeout_not_a_hang(fake: FakeHub) -> None:
    import threading

    answer = threading.Event()  # the hub answers only once the client has given up

    def slow(h: BaseHTTPRequestHandler) -> None:
        answer.wait(30)
        send(200, {"changes": [], "next_cursor": 5})(h)

    fake.reply = slow
    c = HubClient(fake.url, connect_timeout_s=1.0, read_timeout_s=0.3)
    c.token = "t"
    try:
        with pytest.raises(HubUnreachable, match="did not answer in time"):
            c.changes(5)
    finally:
        answer.set()


def test_good_change_page_is_parsed(fake: FakeHub) -> None:
    fake.reply = send(
        200,
        {
            "changes": [{"seq": 7, "order_id": "BL20261125-000001", "order": snapshot()}],
            "next_cursor": 9,
            "more": True,
        },
    )
    page = client(fake.url).changes(5, wait_s=2)
    assert page.next_cursor == 9 and page.more and page.changes[0]["order"]["version"] == 1
    assert fake.seen[-1].startswith("GET /api/v1/changes?cursor=5") and "wait=2" in fake.seen[-1]


def login_answer(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "token": "tok",
        "expires_at": "2026-11-25T12:00:00Z",
        "operator": {"code": "P001", "name": "Packer", "role": "packer"},
        "station": {"name": "B1-PC", "bench": "B1"},
        "device_id": "dev-1",
    }
    base.update(over)
    return base


def test_login_checks_hub_answered_for_this_station(fake: FakeHub) -> None:
    fake.reply = send(200, login_answer())
    info = client(fake.url).login("P001", "1111", station="B1-PC", bench="B1", device_id="dev-1")
    assert info.role == "packer" and info.token == "tok"
    fake.reply = send(200, login_answer(station={"name": "B2-PC", "bench": "B2"}))
    with pytest.raises(WrongStation, match="B2-PC"):
        client(fake.url).login("P001", "1111", station="B1-PC", bench="B1", device_id="dev-1")
    fake.reply = send(200, login_answer(device_id="someone-else"))
    with pytest.raises(WrongStation):
        client(fake.url).login("P001", "1111", station="B1-PC", bench="B1", device_id="dev-1")
    fake.reply = send(409, {"error": "station_bench_mismatch", "message": "B1-PC is on bench B3"})
    with pytest.raises(WrongStation, match="bench B3"):
        client(fake.url).login("P001", "1111", station="B1-PC", bench="B1", device_id="dev-1")
    fake.reply = send(200, {"token": "x"})
    with pytest.raises(HubMalformed, match="incomplete"):
        client(fake.url).login("P001", "1111", station="B1-PC", bench="B1", device_id="dev-1")


def test_an_unreadable_snapshot_in_an_actions_answer_does_not_void_the_outcomes(fake: FakeHub) -> None:
    """Otherwise the batch is resent for ever (same answer each time) and blocks the whole queue."""
    fake.reply = send(
        200,
        {
            "results": [
                {"action_id": "a1", "outcome": "applied", "order": snapshot()},
                {"action_id": "a2", "outcome": "rejected", "order": {"order_id": "X", "state": "teleported"}},
            ],
            "last_applied_seq": 2,
        },
    )
    answer = client(fake.url).post_actions([])
    assert [r["outcome"] for r in answer.results] == ["applied", "rejected"]
    assert answer.results[0]["order"]["version"] == 1 and answer.results[1]["order"] is None
    fake.reply = send(200, {"results": "nope"})
    with pytest.raises(HubMalformed, match="incomplete"):
        client(fake.url).post_actions([])


def test_sync_problems_read_in_the_stations_language(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The status bar shows these words to a Chinese-first bench: they must not be English there."""
    from core import i18n
    from tests.hubproc import free_port

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    port = free_port()  # nothing listens there
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(HubUnreachable) as err:
            HubClient(f"http://127.0.0.1:{port}", connect_timeout_s=1).health()
    finally:
        i18n.set_language("en")
    assert err.value.message.startswith("连接不上订单中心") and str(port) in err.value.message
