"""Every key of every screen, read from the widgets themselves: F1's list and docs/keys.md.

A hand-written key list drifts from the code (issue 11: pack mode's F1 did not list F5/F7/F9, and
F5 did nothing there). So the list is *read* from the real widgets: each ``QAction``'s shortcuts
and text, each ``QShortcut``'s key and ``whatsThis()``, each dialog's default (Enter) and reject
(Esc) button, plus the few keys a widget handles itself (declared next to the code that handles
them, :attr:`ui.main_window.MainWindow.FIELD_KEYS`). F1 on the queue page shows
:func:`mode_keys` for ``"queue"``; ``scripts/gen_keys.py`` writes :func:`keys_markdown` to
docs/keys.md, and a test fails when that file differs from what the code says now.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QDialogButtonBox, QMessageBox, QWidget

from core.i18n import _

if TYPE_CHECKING:
    from ui.main_window import MainWindow

MODES = ("queue", "pack", "handover", "returns", "tickets")
_KEY_IN_TEXT = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True)
class Key:
    """One key of a screen: the key as printed on the keyboard, and what it does."""

    key: str
    what: str


def key_text(seq: QKeySequence) -> str:
    """A key sequence in portable words ("Ctrl+Shift+P", "F5", "Esc"), the same on every PC."""
    return seq.toString(QKeySequence.SequenceFormat.PortableText)


def _describe(what_this: str, text: str) -> str:
    """The description: whatsThis() when the code gives one, else the visible text without its key hint."""
    if what_this.strip():
        return what_this.strip()
    return _KEY_IN_TEXT.sub("", text.replace("&", "")).strip()


def action_keys(actions: Iterable[QAction]) -> list[Key]:
    """The keys of ``actions`` that have shortcuts (one row per action, its keys joined by " / ")."""
    out = []
    for act in actions:
        seqs = [key_text(s) for s in act.shortcuts() if not s.isEmpty()]
        if seqs:
            out.append(Key(" / ".join(seqs), _describe(act.whatsThis(), act.text())))
    return out


def shortcut_keys(shortcuts: Iterable[QShortcut]) -> list[Key]:
    """The keys of enabled ``QShortcut`` objects, described by their ``whatsThis()``.

    Without one, a button beside it that names the key ("Print label (F7)") describes it.
    """
    out = []
    for sc in shortcuts:
        seqs = [key_text(s) for s in QShortcut.keys(sc) if not s.isEmpty()]  # QShortcut.keys(), not a dict
        if seqs and sc.isEnabled():
            out.append(Key(" / ".join(seqs), _describe(sc.whatsThis(), _button_naming(sc, seqs)) or "—"))
    return out


def _button_naming(sc: QShortcut, seqs: list[str]) -> str:
    owner = sc.parent()
    if not isinstance(owner, QWidget):
        return ""
    for button in owner.findChildren(QAbstractButton):
        text = button.text()
        if any(text.endswith(f"({k})") or text.endswith(f"（{k}）") for k in seqs):
            return text
    return ""


def _inside(widget: QWidget | None, page: QWidget) -> bool:
    return widget is not None and (widget is page or page.isAncestorOf(widget))


def mode_keys(window: MainWindow, mode: str) -> list[Key]:
    """The keys that work on ``mode``'s page ("queue", "pack", "handover", "returns" or "tickets") of a main window, in screen order.

    The window's own actions count where :meth:`MainWindow.action_in_mode` says they work; a
    ``QShortcut`` counts on the page it lives in (one outside both pages counts on both).
    """
    pack, handover = window.pack_view, window.handover_view
    acts = [a for a in window.actions() if window.action_in_mode(a, mode)]

    def page_of(sc: QShortcut) -> str:
        owner = sc.parent()
        widget = owner if isinstance(owner, QWidget) else None
        if _inside(widget, pack):
            return "pack"
        if _inside(widget, handover):
            return "handover"
        if _inside(widget, window.returns_view):
            return "returns"
        if _inside(widget, window.ticket_view):
            return "tickets"
        return "queue" if _inside(widget, window.queue_page) else ""

    shortcuts = [sc for sc in window.findChildren(QShortcut) if page_of(sc) in (mode, "")]
    field_keys = handover.FIELD_KEYS if mode == "handover" else window.FIELD_KEYS.get(mode, ())
    fields = [Key(k, _(w)) for k, w in field_keys]
    return _unique(action_keys(acts) + shortcut_keys(shortcuts) + fields)


def dialog_keys(dialog: QDialog) -> list[Key]:
    """A dialog's keys: buttons' mnemonics, its shortcuts and actions, Enter for the default button, Esc for cancel."""
    keys = (button_keys(dialog) + action_keys(dialog.findChildren(QAction))
            + shortcut_keys(dialog.findChildren(QShortcut)))
    default = next((b for b in dialog.findChildren(QAbstractButton) if getattr(b, "isDefault", lambda: False)()),
                   None)
    if isinstance(dialog, QMessageBox) and dialog.defaultButton() is not None:
        default = dialog.defaultButton()
    if default is None:  # a button box makes its first accept button the default when the dialog shows
        default = next((b for box in dialog.findChildren(QDialogButtonBox) for b in box.buttons()
                        if box.buttonRole(b) == QDialogButtonBox.ButtonRole.AcceptRole), None)
    if default is not None:
        keys.append(Key("Enter", default.text().replace("&", "")))
    cancel = _cancel_button(dialog)
    if cancel is not None:
        keys.append(Key("Esc", cancel.text().replace("&", "")))
    return _unique(keys)


def _cancel_button(dialog: QDialog) -> QAbstractButton | None:
    if isinstance(dialog, QMessageBox):
        return dialog.escapeButton()
    for box in dialog.findChildren(QDialogButtonBox):
        for button in box.buttons():
            if box.buttonRole(button) == QDialogButtonBox.ButtonRole.RejectRole:
                return button
    return None


def _unique(keys: list[Key]) -> list[Key]:
    seen: set[str] = set()
    out = []
    for k in keys:
        if k.key not in seen:
            seen.add(k.key)
            out.append(k)
    return out


def help_html(keys: list[Key]) -> str:
    """F1's table (rich text; the descriptions are escaped: they are text, not markup)."""
    rows = "".join(f"<tr><td><b>{html.escape(k.key)}</b>&nbsp;&nbsp;</td><td>{html.escape(k.what)}</td></tr>"
                   for k in keys)
    return f"<table>{rows}</table>"


def markdown_table(title: str, keys_zh: list[Key], keys_en: list[Key]) -> str:
    """One screen's keys as a markdown table: key | 中文 | English (rows by key, in screen order)."""
    en = {k.key: k.what for k in keys_en}
    lines = [f"## {title}", "", "| key | 中文 | English |", "| --- | --- | --- |"]
    for k in keys_zh:
        cells = [k.key, k.what, en.get(k.key, "")]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def button_keys(dialog: QDialog) -> list[Key]:
    """Buttons with a mnemonic ("&1 …" → Alt+1) are keys too.

    A digit mnemonic is listed as the bare digit first: the dialogs that number their choices
    (the reprint reasons) take the digit alone, as a person at the bench presses it.
    """
    out = []
    for button in dialog.findChildren(QAbstractButton):
        seq = button.shortcut()
        if not seq.isEmpty():
            key = key_text(seq)
            if key.startswith("Alt+") and key[4:].isdigit():
                key = f"{key[4:]} / {key}"
            out.append(Key(key, button.text().replace("&", "")))
    return out


#: The sections of docs/keys.md: (heading, what to read). The dialogs are the ones that name keys.
SECTIONS = (
    ("队列页 · Queue page", "queue"),
    ("打包页 · Pack page", "pack"),
    ("交接页 · Handover page (Ctrl+H)", "handover"),
    ("退货页 · Returns page (Ctrl+R)", "returns"),
    ("工单页 · Tickets page (Ctrl+T)", "tickets"),
    ("打印一波的确认 · Wave question (Ctrl+W)", "wave"),
    ("登录 / 换班 · Log in / change operator", "login"),
    ("补打面单 · Reprint label", "reprint"),
    ("报告问题 · Report problem (F9)", "problem"),
    ("库存 · Stock (Ctrl+Shift+S)", "stock"),
    ("导入库存表 · Import a stock sheet (Ctrl+I in the stock view)", "stock_import"),
    ("看板 · Dashboard (Ctrl+D, supervisor)", "dashboard"),
)


def screen_keys(lang: str, folder: str) -> dict[str, list[Key]]:
    """Build the real main window and dialogs in ``lang`` (a local-only station in ``folder``) and read their keys."""
    from pathlib import Path

    from core.settings import load_settings
    from core.store import open_store
    from ui.app import use_language
    from ui.login_dialog import LoginDialog
    from ui.main_window import MainWindow
    from ui.pack_view import ProblemDialog
    from ui.reprint_dialog import ReprintDialog
    from ui.services import AppServices, Operator

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    use_language(app, lang)  # Qt's own words (Cancel) too
    root = Path(folder) / lang
    root.mkdir(parents=True, exist_ok=True)
    settings = load_settings(root / "settings.json")
    settings.station, settings.bench = "KEYS-PC", "B1"
    services = AppServices(settings, open_store(root / "bench.sqlite3"), None)
    try:
        services.set_operator(Operator("D001", "—", "desk"))
        window = MainWindow(services)
        dialogs: dict[str, QDialog] = {
            "wave": window.wave_question(_sample_wave()),
            "login": LoginDialog(services, window),
            "reprint": ReprintDialog(["BL20261231-000001"], window),
            "problem": ProblemDialog([{"sku": "SKU-1", "name": "—", "qty": 1}], window),
            **_stock_dialogs(services),
            "dashboard": _dashboard(services),
        }
        out = {mode: mode_keys(window, mode) for mode in MODES}
        for name, dialog in dialogs.items():
            out[name] = dialog_keys(dialog)
        window.close()
        window.deleteLater()
        return out
    finally:
        services.shutdown()


def _stock_dialogs(services: Any) -> dict[str, QDialog]:
    """The stock view and its stock sheet import (issue 14), without a parent: their keys are theirs,
    not the main window's pages'."""
    from ui.stock_import import StockImportDialog
    from ui.stock_view import StockDialog

    return {"stock": StockDialog(services), "stock_import": StockImportDialog(services)}


def _dashboard(services: Any) -> QDialog:
    """The supervisor's dashboard (issue 16), without a parent and not started (no hub is asked)."""
    from ui.dashboard_view import DashboardWindow

    return DashboardWindow(services)


def _sample_wave() -> list[Any]:
    """What Ctrl+W asks on a bench with two carriers waiting (the docs show its keys)."""
    from core.waves import WaveRow, wave_choices

    rows = [WaveRow(f"BL20261231-{i:06d}", "ZTO" if i % 2 else "SF", "17:30" if i % 2 else "18:30")
            for i in range(1, 31)]
    return wave_choices(rows, 20)


def keys_markdown() -> str:
    """docs/keys.md as the code says now (Chinese and English descriptions side by side)."""
    import tempfile

    from core.i18n import language
    from ui.app import use_language

    before = language()
    try:
        with tempfile.TemporaryDirectory() as folder:
            zh = screen_keys("zh_CN", folder)
            en = screen_keys("en", folder)
    finally:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        use_language(app, before)
    parts = ["# Keys · 快捷键", "",
             "Every key of every screen, read from the code by `scripts/gen_keys.py` (the window's actions,",
             "each `QShortcut` and its `whatsThis()`, each dialog's Enter and Esc buttons). Do not edit by hand:",
             "run `python scripts/gen_keys.py`; `tests/ui/test_keys_doc.py` fails when this file is out of date.",
             "F1 on the queue page shows the first table.", ""]
    for title, name in SECTIONS:
        parts.append(markdown_table(title, zh[name], en[name]))
    return "\n".join(parts)
