"""企业微信 group robot (群机器人): the message it is sent and what its answer means.

Protocol (docs/notifications.md cites each source): ``POST <wecom_base_url>?key=<robot key>`` with
``Content-Type: application/json`` and a UTF-8 body ``{"msgtype": "text", "text": {"content": …,
"mentioned_mobile_list": [...]}}`` or ``{"msgtype": "markdown", "markdown": {"content": …}}``.
``content`` is at most 2048 bytes (text) / 4096 bytes (markdown) of UTF-8; only a text message can
@-mention by mobile. The answer is JSON ``{"errcode": 0, "errmsg": "ok"}``; a robot sends at most
20 messages a minute, beyond that the answer is ``errcode`` 45009 (接口调用超过限制).

The key is the robot's only credential: it never appears in a log line, an error or an answer
(:func:`redact`).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import requests

from hub.channels.base import ErrorKind, PlatformError
from hub.notify.rules import ROBOT_EVENTS, Robot

TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
#: A robot takes at most this many messages per :data:`RATE_WINDOW_S` (the documented limit).
RATE_LIMIT = 20
RATE_WINDOW_S = 60.0
ERR_RATE_LIMITED = 45009
ERR_BUSY = -1
ERR_BAD_KEY = 93000


_KEY_RE = re.compile(r"([?&]key=)[^&\s\"']+")


class _HideKey(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string and all: the robot key is in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_RE.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_HideKey())


class NotifyError(PlatformError):
    """A send that did not succeed; ``message`` holds plain words without the key or a phone number."""


def clip(text: str, max_bytes: int) -> str:
    """``text`` cut to ``max_bytes`` of UTF-8 on a character boundary, marked ``…`` when cut."""
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def message(robot: Robot, event: str, lines: list[str]) -> dict[str, Any]:
    """The robot's JSON body for ``event``: a title (the event's words), then ``lines``."""
    title = ROBOT_EVENTS.get(event, event)
    if robot.msgtype == "markdown":
        content = "\n".join([f'**<font color="warning">{title}</font>**', *(f"> {ln}" for ln in lines)])
        return {"msgtype": "markdown", "markdown": {"content": clip(content, MARKDOWN_MAX_BYTES)}}
    text: dict[str, Any] = {"content": clip("\n".join([f"【{title}】", *lines]), TEXT_MAX_BYTES)}
    if robot.mention_mobiles:
        text["mentioned_mobile_list"] = list(robot.mention_mobiles)
    return {"msgtype": "text", "text": text}


def redact(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def send(session: requests.Session, base_url: str, key: str, body: dict[str, Any], *, timeout_s: float) -> None:
    """Post ``body`` to the robot; returns when WeCom said ``errcode`` 0.

    Raises:
        NotifyError: ``BUSY`` (network, HTTP error, errcode -1), ``RATE_LIMITED`` (45009: retry after a
            minute), ``BAD_RESPONSE`` (not the documented JSON), ``BAD_CREDENTIALS`` (93000: the key is
            not a robot's any more), ``REFUSED`` (any other errcode: this message will never be taken).
    """
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        resp = session.post(base_url, params={"key": key}, data=data, timeout=timeout_s,
                            headers={"Content-Type": "application/json; charset=utf-8"})
    except requests.RequestException as exc:
        raise NotifyError(ErrorKind.BUSY, redact(f"企业微信无法连接 / WeCom unreachable: {type(exc).__name__}: {exc}",
                                                 key)) from None
    if resp.status_code != 200:
        raise NotifyError(ErrorKind.BUSY, f"企业微信 HTTP {resp.status_code} / WeCom answered HTTP {resp.status_code}",
                          code=str(resp.status_code))
    try:
        answer = resp.json()
        errcode = answer["errcode"]
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise TypeError(errcode)
    except (ValueError, KeyError, TypeError):
        raise NotifyError(ErrorKind.BAD_RESPONSE, "企业微信的回答无法识别 / WeCom's answer is not "
                                                  f"{{\"errcode\": …}}: {resp.text[:120]!r}") from None
    if errcode == 0:
        return
    words = redact(str(answer.get("errmsg", ""))[:200], key)
    if errcode == ERR_RATE_LIMITED:
        raise NotifyError(ErrorKind.RATE_LIMITED, f"机器人发送太频繁 / robot over its rate limit (45009): {words}",
                          code=str(errcode), retry_after_s=RATE_WINDOW_S)
    if errcode == ERR_BUSY:
        raise NotifyError(ErrorKind.BUSY, f"企业微信系统繁忙 / WeCom busy (-1): {words}", code=str(errcode))
    if errcode == ERR_BAD_KEY:
        raise NotifyError(ErrorKind.BAD_CREDENTIALS, "机器人 key 无效或机器人已移出群 / the robot key was refused "
                                                     f"(93000): {words}", code=str(errcode))
    raise NotifyError(ErrorKind.REFUSED, f"企业微信拒收此消息 / WeCom refused the message ({errcode}): {words}",
                      code=str(errcode))
