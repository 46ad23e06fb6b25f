"""The layers' import rules (STYLE.md §1, docs: one home for each rule).

* ``core/`` imports neither Qt nor ``hub/``: the bench library and the sync engine run headless,
  and a rule the hub and the bench share lives in ``core/``, never in ``hub/`` borrowed by a client.
* ``printing/`` and ``hub/`` import no Qt (printing to a system printer through Qt is a ``ui/`` job).
* ``ui/`` never imports ``hub/``, except ``ui/embedded_hub.py`` (which starts a hub on this PC): a
  desk PC must take its choices from the site's hub, not from a copy of the hub's rules it ships.

Two checks: every ``import`` in the source, read with :mod:`ast` (fast, names the file and line;
imports inside functions and ``importlib.import_module("...")`` included), and the real thing — each
Qt-free package imported in a fresh interpreter, which must not load PySide6.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6")

#: package -> (top-level packages it must not import, files allowed to anyway)
RULES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "core": (("hub", *QT), frozenset()),
    "printing": (("hub", *QT), frozenset()),
    "hub": (QT, frozenset()),
    "ui": (("hub",), frozenset({"ui/embedded_hub.py"})),
}


def _module_of(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")


def imported_modules(source: str, module: str = "") -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of everything ``source`` imports, wherever in the file.

    ``module`` (the file's own dotted name) resolves relative imports. String arguments of
    ``importlib.import_module`` / ``__import__`` count too: a dynamic import is still an import.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if module else []
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                yield node.lineno, first.value


def violations(package: str) -> list[str]:
    banned, allowed = RULES[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        for line, name in imported_modules(path.read_text(encoding="utf-8"), _module_of(path)):
            if name.split(".")[0] in banned:
                found.append(f"{rel}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_stay_in_their_layer(package: str) -> None:
    assert violations(package) == []


def test_the_import_reader_sees_every_kind_of_import() -> None:
    """The check above fails when a rule is broken: every way of importing ``hub`` is seen."""
    source = (
        "import hub\n"
        "from hub.routing import Rules\n"
        "def f():\n"
        "    from hub import actions\n"
        "    import importlib\n"
        "    importlib.import_module('hub.actions')\n"
        "from . import routing\n"
        "from PySide6.QtCore import QObject\n"
    )
    found = sorted(imported_modules(source, "hub.some_module"))
    assert found == [(1, "hub"), (2, "hub.routing"), (4, "hub"), (5, "importlib"), (6, "hub.actions"),
                     (7, "hub"), (8, "PySide6.QtCore")]


@pytest.mark.parametrize("package", ["core", "hub", "printing"])
def test_package_loads_without_qt(package: str) -> None:
    """core/, hub/ and printing/ work on a machine with no screen and no Qt: every module, imported for real."""
    mods = [_module_of(p) for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in sorted(mods)) +
            f"bad=[m for m in sys.modules if m.startswith({QT!r})]\nprint(','.join(bad))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"{package} pulled in Qt: {r.stdout}"
