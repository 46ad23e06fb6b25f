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
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QDialog, QDialogButtonBox, QMessageBox, QWidget

from core.i18n import _

if TYPE_CHECKING:
    from ui.main_window import MainWindow

MODES = ("queue", "pack")
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
    """The keys of enabled ``QShortcut`` objects (described by their ``whatsThis()``)."""
    out = []
    for sc in shortcuts:
        seqs = [key_text(s) for s in QShortcut.keys(sc) if not s.isEmpty()]  # QShortcut.keys(), not a dict
        if seqs and sc.isEnabled():
            out.append(Key(" / ".join(seqs), _describe(sc.whatsThis(), "") or "—"))
    return out


def _inside(widget: QWidget | None, page: QWidget) -> bool:
    return widget is not None and (widget is page or page.isAncestorOf(widget))


def mode_keys(window: MainWindow, mode: str) -> list[Key]:
    """The keys that work on ``mode``'s page ("queue" or "pack") of a main window, in screen order.

    The window's own actions count where :meth:`MainWindow.action_in_mode` says they work; a
    ``QShortcut`` counts on the page it lives in (one outside both pages counts on both).
    """
    pack = window.pack_view
    acts = [a for a in window.actions() if window.action_in_mode(a, mode)]
    def page_of(sc: QShortcut) -> str:
        owner = sc.parent()
        widget = owner if isinstance(owner, QWidget) else None
        return "pack" if _inside(widget, pack) else ("queue" if _inside(widget, window.queue_page) else "")

    shortcuts = [sc for sc in window.findChildren(QShortcut) if page_of(sc) in (mode, "")]
    fields = [Key(k, _(w)) for k, w in window.FIELD_KEYS.get(mode, ())]
    return _unique(action_keys(acts) + shortcut_keys(shortcuts) + fields)


def dialog_keys(dialog: QDialog) -> list[Key]:
    """A dialog's keys: its shortcuts and actions, Enter for the default button, Esc for cancel."""
    keys = action_keys(dialog.findChildren(QAction)) + shortcut_keys(dialog.findChildren(QShortcut))
    default = next((b for b in dialog.findChildren(QAbstractButton)
                    if getattr(b, "isDefault", lambda: False)() and b.isEnabled()), None)
    if isinstance(dialog, QMessageBox) and dialog.defaultButton() is not None:
        default = dialog.defaultButton()
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
