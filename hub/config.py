"""Hub settings: one declared list, read from a TOML file and environment variables.

Environment wins over the file so tests and containers can point a hub at a database without
writing a file. Defaults run a one-PC shop: SQLite in the user data folder. Only a demo hub
(``demo = true`` or ``--demo``) takes the demo channel secrets and seeds the demo operators; a real
hub refuses pushes for a channel without its own secret (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ValidationFailed

log = logging.getLogger("packdesk.hub")

CHANNEL_NAMES = ("douyin", "pinduoduo", "wechat", "xiaohongshu", "generic")


def default_data_dir() -> Path:
    env = os.environ.get("PACKDESK_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("PackDesk", "PackDesk"))


@dataclass
class Webhook:
    name: str
    url: str
    secret: str
    events: list[str] = field(default_factory=lambda: ["*"])


@dataclass
class HubSettings:
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    order_prefix: str = "BL"
    timezone: str = "Asia/Shanghai"
    token_ttl_s: int = 12 * 3600
    #: how long a login's action key signs that operator's offline work (hub/action_keys.py)
    action_key_ttl_s: int = 7 * 24 * 3600
    change_retention_s: int = 7 * 24 * 3600
    max_body_bytes: int = 2 * 1024 * 1024
    max_import_bytes: int = 20 * 1024 * 1024
    #: Rows below the header one import may hold (a peak day is ~200k), and what an XLSX may unpack
    #: to; over either the file is refused whole (413) before any order is written.
    max_import_rows: int = 250_000
    max_import_uncompressed_bytes: int = 200 * 1024 * 1024
    channel_secrets: dict[str, str] = field(default_factory=dict)
    webhooks: list[Webhook] = field(default_factory=list)
    rules_path: str = ""
    seed_operators: bool = True  # a demo hub only: seed auth.DEMO_OPERATORS into an empty hub
    demo: bool = False
    login_backoff_after: int = 5  # failed logins before each next try waits (1 s, 2 s, 4 s, … up to 60 s)
    login_lockout_after: int = 10  # failed logins before the lockout
    login_lockout_s: int = 15 * 60  # how long a lockout lasts unless an admin lifts it (hub unlock)
    waybill_start: int = 100000000
    #: the oldest bench/desk client version this hub takes ("": any); older ones are told to update
    min_client_version: str = ""
    webhook_lease_s: int = 60
    #: How long a hub holds a shop connector while it pulls (renewed with every page). A hub killed
    #: mid-pull leaves the connector to the next hub after this; shorter than a page takes, and two
    #: hubs would pull the same shop at once (harmless, but twice the platform calls).
    channel_lease_s: int = 120
    longpoll_fallback_s: float = 1.0
    #: Test-only: 1 counts the hub's SQL statements by table and shows them in ``GET /health``.
    count_statements: int = 0
    #: Carrier tracking at 快递100 (docs/tracking.md): the enterprise ``key`` and
    #: ``customer`` from its console, our own ``salt`` (快递100 signs each push with it), the public
    #: URL 快递100 pushes to (this hub's /api/v1/carriers/kuaidi100/push as the internet reaches it)
    #: and the API's base URL. Empty key: no subscriptions; empty salt: pushes are refused. The key,
    #: customer and salt are secrets: never logged, never served.
    kuaidi100_key: str = field(default="", repr=False)
    kuaidi100_customer: str = field(default="", repr=False)
    kuaidi100_salt: str = field(default="", repr=False)
    kuaidi100_callback_url: str = ""
    kuaidi100_base_url: str = "https://poll.kuaidi100.com"
    #: The WMS's stock push (docs/stock.md "WMS push"): HMAC-SHA256 of the raw body with this secret.
    #: Empty: pushes are refused. A secret: never logged, never served.
    wms_secret: str = field(default="", repr=False)
    #: Notifications out (docs/notifications.md). A WeCom group robot's webhook ``key`` by the robot's
    #: name in the rules file (``[notify.wecom.<name>]``); the send URL (a setting, for tests and
    #: proxies); 阿里云短信 (dysmsapi) AccessKey ID and secret and its endpoint. Keys and secret:
    #: never logged, never served. A robot without a key, or no SMS key: nothing is queued for it.
    wecom_robot_keys: dict[str, str] = field(default_factory=dict, repr=False)
    wecom_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    aliyun_sms_access_key_id: str = field(default="", repr=False)
    aliyun_sms_access_key_secret: str = field(default="", repr=False)
    aliyun_sms_base_url: str = "https://dysmsapi.aliyuncs.com/"
    #: The folder the phone dashboard (/dashboard) serves ``echarts.min.js`` from; "" = the project's
    #: ``web/node_modules/echarts/dist`` (npm ci by scripts/bootstrap.sh; docs/dashboard-web.md).
    dashboard_assets_dir: str = ""

    @property
    def tracking_enabled(self) -> bool:
        """Whether shipped waybills are subscribed (a key, a salt and a callback URL are set)."""
        return bool(self.kuaidi100_key and self.kuaidi100_salt and self.kuaidi100_callback_url)

    def secret_for(self, channel: str) -> bytes | None:
        """The channel's intake secret; None when this hub takes no pushes for it.

        The demo secrets are in the source for everyone to read, so only a demo hub accepts them.
        """
        if channel in self.channel_secrets:
            return self.channel_secrets[channel].encode()
        return f"demo-secret-{channel}".encode() if self.demo else None

    @property
    def uses_demo_secrets(self) -> bool:
        return self.demo and any(c not in self.channel_secrets for c in CHANNEL_NAMES)

    @property
    def open_channels(self) -> list[str]:
        """Channels whose pushes this hub takes (logged at start)."""
        return [c for c in CHANNEL_NAMES if self.secret_for(c) is not None]


_ENV = {
    "PACKDESK_HUB_DB": ("database_url", str),
    "PACKDESK_HUB_HOST": ("host", str),
    "PACKDESK_HUB_PORT": ("port", int),
    "PACKDESK_HUB_PREFIX": ("order_prefix", str),
    "PACKDESK_HUB_TOKEN_TTL": ("token_ttl_s", int),
    "PACKDESK_HUB_ACTION_KEY_TTL": ("action_key_ttl_s", int),
    "PACKDESK_HUB_RETENTION": ("change_retention_s", int),
    "PACKDESK_HUB_RULES": ("rules_path", str),
    "PACKDESK_HUB_WEBHOOK_LEASE": ("webhook_lease_s", int),
    "PACKDESK_HUB_CHANNEL_LEASE": ("channel_lease_s", int),
    "PACKDESK_HUB_LONGPOLL_FALLBACK": ("longpoll_fallback_s", float),
    "PACKDESK_HUB_LOGIN_LOCKOUT": ("login_lockout_s", int),
    "PACKDESK_HUB_COUNT_STATEMENTS": ("count_statements", int),
    "PACKDESK_HUB_KUAIDI100_KEY": ("kuaidi100_key", str),
    "PACKDESK_HUB_KUAIDI100_CUSTOMER": ("kuaidi100_customer", str),
    "PACKDESK_HUB_KUAIDI100_SALT": ("kuaidi100_salt", str),
    "PACKDESK_HUB_KUAIDI100_CALLBACK_URL": ("kuaidi100_callback_url", str),
    "PACKDESK_HUB_KUAIDI100_BASE_URL": ("kuaidi100_base_url", str),
    "PACKDESK_HUB_MIN_CLIENT_VERSION": ("min_client_version", str),
    "PACKDESK_HUB_WMS_SECRET": ("wms_secret", str),
    "PACKDESK_HUB_WECOM_BASE_URL": ("wecom_base_url", str),
    "PACKDESK_HUB_ALIYUN_SMS_KEY_ID": ("aliyun_sms_access_key_id", str),
    "PACKDESK_HUB_ALIYUN_SMS_KEY_SECRET": ("aliyun_sms_access_key_secret", str),
    "PACKDESK_HUB_ALIYUN_SMS_BASE_URL": ("aliyun_sms_base_url", str),
    "PACKDESK_HUB_DASHBOARD_ASSETS": ("dashboard_assets_dir", str),
}


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> HubSettings:
    """Read settings from ``path`` (or ``$PACKDESK_HUB_CONFIG``) and the environment.

    Raises:
        ValidationFailed: the file is not valid TOML or a key has the wrong type; the message
            names the file and the key.
    """
    env = dict(os.environ) if env is None else env
    settings = HubSettings()
    path = path or env.get("PACKDESK_HUB_CONFIG")
    if path:
        p = Path(path)
        try:
            raw: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationFailed(f"Cannot read hub settings {p}: {exc}") from None
        _apply(settings, raw, str(p))
    for var, (name, typ) in _ENV.items():
        if var in env and env[var] != "":
            try:
                setattr(settings, name, typ(env[var]))
            except ValueError:
                raise ValidationFailed(f"Environment variable {var}={env[var]!r} is not a valid {typ.__name__}.") from None
    if "PACKDESK_HUB_WEBHOOKS" in env:
        try:
            settings.webhooks = [Webhook(**w) for w in json.loads(env["PACKDESK_HUB_WEBHOOKS"])]
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(f"PACKDESK_HUB_WEBHOOKS is not a JSON list of webhooks: {exc}") from None
    if "PACKDESK_HUB_WECOM_ROBOT_KEYS" in env:
        try:
            keys = json.loads(env["PACKDESK_HUB_WECOM_ROBOT_KEYS"])
        except ValueError as exc:
            raise ValidationFailed(f"PACKDESK_HUB_WECOM_ROBOT_KEYS is not a JSON object of robot keys: {exc}") from None
        settings.wecom_robot_keys = keys
    for hook in settings.webhooks:
        _check_webhook(hook)
    if not isinstance(settings.wecom_robot_keys, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in settings.wecom_robot_keys.items()):
        raise ValidationFailed("wecom_robot_keys must map each robot's name to its non-empty webhook key "
                               '(e.g. {"east" = "693a91f6-…"}).')
    _check_site(settings)
    empty = sorted(c for c, secret in settings.channel_secrets.items() if not isinstance(secret, str) or not secret)
    if empty:
        raise ValidationFailed(f"channel_secrets for {', '.join(empty)} must be non-empty text: an empty secret "
                               "would let anyone push orders.")
    if not settings.database_url:
        data = default_data_dir()
        data.mkdir(parents=True, exist_ok=True)
        settings.database_url = f"sqlite:///{data / 'hub.db'}"
    return settings


def _check_site(settings: HubSettings) -> None:
    """Settings every order depends on: wrong, they would fail each push (blamed on the channel)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from core.order_ids import PREFIX_RE

    if not PREFIX_RE.match(settings.order_prefix):
        raise ValidationFailed(f"order_prefix {settings.order_prefix!r} must be 1 to 6 capital letters A-Z "
                               "(order IDs look like BL20260222-008632).")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"timezone {settings.timezone!r} is not a time zone name such as Asia/Shanghai.") from None
    for name in ("port", "token_ttl_s", "action_key_ttl_s", "change_retention_s", "max_body_bytes",
                 "max_import_bytes", "webhook_lease_s", "channel_lease_s", "login_backoff_after", "login_lockout_after",
                 "login_lockout_s", "max_import_rows", "max_import_uncompressed_bytes"):
        if getattr(settings, name) <= 0:
            raise ValidationFailed(f"setting '{name}' must be more than 0, not {getattr(settings, name)}.")
    from core.version import parse_version

    if settings.min_client_version and parse_version(settings.min_client_version) is None:
        raise ValidationFailed(f"min_client_version {settings.min_client_version!r} must be a version such as "
                               "0.2.0 (numbers and dots), or empty for any.")
    if bool(settings.aliyun_sms_access_key_id) != bool(settings.aliyun_sms_access_key_secret):
        raise ValidationFailed("aliyun_sms_access_key_id and aliyun_sms_access_key_secret go together: set both "
                               "(buyer SMS on) or neither (off).")
    if settings.longpoll_fallback_s <= 0:
        raise ValidationFailed(f"setting 'longpoll_fallback_s' must be more than 0, not {settings.longpoll_fallback_s}.")
    for name in ("kuaidi100_callback_url", "kuaidi100_base_url", "wecom_base_url", "aliyun_sms_base_url"):
        url = getattr(settings, name)
        if url and not url.startswith(("http://", "https://")):
            raise ValidationFailed(f"setting '{name}' must start with http:// or https://.")


def _check_webhook(hook: Webhook) -> None:
    """A subscriber the delivery queue can store and sign for (``webhook_queue.subscriber`` is 64 wide)."""
    name = hook.name if isinstance(hook.name, str) else ""
    problems = []
    if not 1 <= len(name) <= 64:
        problems.append("name must be 1 to 64 characters")
    if not isinstance(hook.url, str) or not hook.url.startswith(("http://", "https://")):
        problems.append("url must start with http:// or https://")
    if not isinstance(hook.secret, str) or not hook.secret:
        problems.append("secret must be non-empty text (receivers check the HMAC signature with it)")
    if not isinstance(hook.events, list) or not all(isinstance(e, str) for e in hook.events):
        problems.append('events must be a list of trigger names, or ["*"]')
    if problems:
        raise ValidationFailed(f"Webhook {str(hook.name)[:64]!r}: {'; '.join(problems)}.")


def _apply(settings: HubSettings, raw: dict[str, Any], where: str) -> None:
    for key, value in raw.items():
        if key == "webhooks":
            try:
                settings.webhooks = [Webhook(**w) for w in value]
            except TypeError as exc:
                raise ValidationFailed(f"{where}: [[webhooks]] entries need name, url, secret: {exc}") from None
            continue
        if not hasattr(settings, key):
            raise ValidationFailed(f"{where}: unknown setting '{key}'.")
        expected = type(getattr(settings, key))
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ValidationFailed(f"{where}: setting '{key}' must be {expected.__name__}, not {type(value).__name__}.")
        setattr(settings, key, value)
