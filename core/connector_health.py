"""What the desk's status bar says about the hub's shop connectors (``GET /connectors/health``).

Plain rules, no Qt: the widget (``ui/connector_status.py``) only draws the text this returns. A
connector that has failed for a few minutes (the hub's ``warn``) is worth a word on every desk:
orders from that shop stop arriving, and the old process broke exactly that way, unnoticed.
"""

from __future__ import annotations

from typing import Any

from core.display_names import channel_name
from core.i18n import _


def warning_text(health: dict[str, Any]) -> str:
    """One line for the status bar, or "" when every connector is fine (or failing only briefly)."""
    bad = [c for c in health.get("connectors", []) if isinstance(c, dict) and c.get("warn")]
    if not bad:
        return ""
    parts = []
    for c in bad:
        minutes = int((c.get("failing_for_s") or 0) // 60)
        name = channel_name(c.get("platform"))
        parts.append(_("{shop} ({platform}) not receiving orders for {minutes} min").format(
            shop=c.get("shop_id"), platform=name, minutes=minutes))
    return "▲ " + "; ".join(parts)  # a glyph the bundled CJK font has (⚠ is a box there)


def tooltip_text(health: dict[str, Any]) -> str:
    """The details behind the warning: each failing connector's last error, in the platform's words."""
    lines = []
    for c in health.get("connectors", []):
        if isinstance(c, dict) and c.get("warn"):
            lines.append(f"{channel_name(c.get('platform'))} {c.get('shop_id')}: {c.get('last_error') or ''}")
    return "\n".join(lines)
