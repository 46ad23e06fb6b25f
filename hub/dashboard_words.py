"""The phone dashboard's words, in Chinese and English (docs/dashboard-web.md).

A small zh/en table rather than the gettext catalogues: the hub answers many browsers at once, each
in the language its ``Accept-Language`` asks for, while :mod:`core.i18n` holds one language per
process (the desktop app's). State and hold names come from their own homes
(:func:`core.states.state_label`, :func:`core.holds.hold_label`), so the page names them as the app does.
"""

from __future__ import annotations

from core.holds import HOLD_TYPES, hold_label
from core.states import State, state_label

ZH, EN = "zh", "en"

#: key -> (中文, English). The page's HTML and its script read only these.
WORDS: dict[str, tuple[str, str]] = {
    "title": ("订单看板", "Order dashboard"),
    "login_title": ("主管登录", "Supervisor login"),
    "operator": ("工号", "Operator code"),
    "pin": ("PIN 码", "PIN"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "logging_in": ("正在登录…", "Logging in…"),
    "bad_credentials": ("工号或 PIN 码错误。", "Operator code or PIN is wrong."),
    "role_refused": ("看板仅限主管和管理员登录。", "The dashboard is for supervisors and admins only."),
    "login_throttled": ("错误次数过多，请 {s} 秒后再试。", "Too many wrong PINs; try again in {s} s."),
    "login_locked": ("错误次数过多，已锁定 {m} 分钟，或请管理员解锁。",
                     "Too many wrong PINs: locked for {m} minutes, or until an admin lifts it."),
    "default_pin": ("此工号仍是演示 PIN，请管理员先设置新 PIN。", "This operator still has the demo PIN; an admin must set a new one."),
    "no_operators": ("总部尚无操作员，请先在总部电脑上创建管理员。", "This hub has no operators yet; create the first admin on the hub's PC."),
    "station_revoked": ("此手机的登录已被撤销，请主管重新批准。", "This phone's station was revoked; a supervisor must approve it again."),
    "login_failed": ("登录失败，请稍后再试或联系管理员。", "Login failed; try again later or ask an admin."),
    "network_error": ("无法连接总部，请检查网络。", "Cannot reach the hub; check the network."),
    "all_warehouses": ("全部仓库", "All warehouses"),
    "warehouse": ("仓库", "Warehouse"),
    "updated_at": ("更新于 {t}", "Updated {t}"),
    "refresh_failed": ("刷新失败，显示的是 {t} 的数据", "Refresh failed; showing the figures of {t}"),
    "loading": ("正在加载…", "Loading…"),
    "charts_missing": ("图表库未安装：请在总部电脑上运行 scripts/bootstrap.sh（需要 npm），数字照常显示。",
                       "The charts library is not installed: run scripts/bootstrap.sh (needs npm) on the hub's PC. "
                       "The numbers still show."),
    "n_total": ("今日订单", "Orders today"),
    "n_shipped": ("已发货", "Shipped"),
    "n_held": ("异常挂起", "On hold"),
    "n_delay": ("延迟率", "Delay rate"),
    "n_backlog": ("待处理", "To work"),
    "n_failing": ("店铺连接异常", "Shops failing"),
    "states_title": ("订单状态", "Orders by state"),
    "fulfilment_title": ("每小时履约率", "Fulfilment rate per hour"),
    "today": ("今天", "Today"),
    "last_week": ("上周同日", "Same day last week"),
    "exceptions_title": ("异常原因", "Exception reasons"),
    "reason_words": ("常见词", "Frequent words"),
    "none_yet": ("暂无", "None yet"),
    "short_title": ("缺货 SKU TOP5", "TOP5 short SKUs"),
    "sku": ("SKU", "SKU"),
    "name": ("品名", "Name"),
    "short": ("缺", "Short"),
    "wh_short": ("仓库", "WH"),
    "orders": ("订单", "Orders"),
    "benches_title": ("工位进度（谁落后）", "Benches (who is behind)"),
    "bench": ("工位", "Bench"),
    "backlog": ("待处理", "Queue"),
    "oldest_wait": ("最久等待", "Oldest"),
    "per_hour": ("每小时", "Per h"),
    "to_clear": ("清完需", "Clear in"),
    "behind": ("落后", "Behind"),
    "minutes": ("{n} 分钟", "{n} min"),
    "hours": ("{n} 小时", "{n} h"),
    "hours_minutes": ("{h}小时{m}分", "{h}h {m}m"),
    "touch_title": ("客户触点响应（今天）", "Customer touchpoint (today)"),
    "touch_contacts": ("联系", "Contacts"),
    "touch_waiting": ("待回复", "Waiting reply"),
    "touch_reply": ("首次回复中位", "Median first reply"),
    "touch_4h": ("4 小时内结案", "Closed within 4 h"),
    "session_ended": ("登录已失效，请重新登录。", "Your login has ended; log in again."),
}


def language(accept_language: str | None) -> str:
    """``zh`` unless the browser's ``Accept-Language`` puts English before Chinese.

    Languages other than these two are skipped; ties keep the browser's order (``q`` then position).
    """
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in (ZH, EN) and q > 0:
            ranked.append((-q, pos, primary))
    return sorted(ranked)[0][2] if ranked else ZH


def words(lang: str) -> dict[str, str]:
    """Every word of the page in ``lang``, with the state and hold names (``state.<s>``, ``hold.<t>``)."""
    i = 0 if lang == ZH else 1
    out = {k: v[i] for k, v in WORDS.items()}
    full = "zh_CN" if lang == ZH else "en"
    out.update({f"state.{s.value}": state_label(s.value, full) for s in State})
    out.update({f"hold.{t}": hold_label(t, full) for t in HOLD_TYPES})
    return out


def warehouse_name(name: str, lang: str) -> str:
    """The rules' bilingual warehouse name (``华东仓 / East China (Shanghai)``) in one language."""
    zh, sep, en = name.partition(" / ")
    if not sep:
        return name
    return zh.strip() if lang == ZH else en.strip()
