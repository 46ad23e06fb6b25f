"""What the installable bundle carries besides Python modules: one list, read by the PyInstaller spec
(``packaging/packdesk.spec``) and checked by ``tests/meta/test_bundle_files.py``.

The app finds its files relative to its modules (``Path(__file__).parents[1] / "resources"``); in a
PyInstaller one-folder bundle a module's ``__file__`` lies under the bundle's ``_internal/`` folder,
so each file goes to the same relative folder there:

- ``resources/locale/**.po`` — the catalogues, compiled to ``.mo`` at first use into the user cache
  folder (core/i18n.py), exactly as from source;
- ``resources/rules/*``, ``resources/templates/*`` — routing rules, the SKU catalogue, print templates;
- ``hub/migrations/`` — Alembic reads ``env.py`` and ``versions/*.py`` as files, not from the archive;
- ``resources/dashboard/*`` — the hub's phone dashboard page (template, script, styles);
- the dashboard's charts library, **if installed at build time** (``npm ci`` in ``web/``, run by
  scripts/bootstrap.sh): ``web/node_modules/echarts/dist/echarts.min.js`` with echarts' LICENSE and
  NOTICE, at the same relative path, where hub/api/dashboard.py looks by default. Without it the
  bundle's hub serves the page and says the charts library is not installed;
- the CJK font (Linux only): the build machine's WenQuanYi Micro Hei (fonts-wqy-microhei) and its
  licence text go to ``resources/fonts/``, where printing/fonts.py and ui/app.py look first. A
  Windows bench uses its own Microsoft YaHei / SimHei (``C:\\Windows\\Fonts``), so nothing is bundled.

Sounds are not files: the three tones are written as WAVs at first use (ui/sounds.py).

This file is loaded by path (the folder is not a package: ``packaging`` is also a PyPI library that
PyInstaller itself imports).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The system font the Linux bundle ships, and its licence (Apache-2.0 or GPL-3+ with font exception).
LINUX_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LINUX_FONT_COPYRIGHT = Path("/usr/share/doc/fonts-wqy-microhei/copyright")

#: Folders copied file by file (glob patterns, relative to the repository root).
DATA_GLOBS = (
    "resources/locale/*/LC_MESSAGES/*.po",
    "resources/rules/*",
    "resources/templates/*",
    "resources/dashboard/*",
    "hub/migrations/env.py",
    "hub/migrations/script.py.mako",
    "hub/migrations/versions/*.py",
)

#: The phone dashboard's charts library (Apache-2.0) and its licence files, from ``npm ci`` in web/:
#: bundled when present at build time (hub/api/dashboard.py ``DEFAULT_ASSETS_DIR``).
CHARTS_FILES = (
    "web/node_modules/echarts/dist/echarts.min.js",
    "web/node_modules/echarts/LICENSE",
    "web/node_modules/echarts/NOTICE",
)

#: Our packages: every module is bundled, also those only imported by name (hub/channels,
#: hub/carriers registries) or by Alembic's scripts.
OWN_PACKAGES = ("core", "hub", "printing", "ui")

#: Imported only from the migration scripts and by URL scheme, which PyInstaller cannot see.
HIDDEN_IMPORTS = (
    "alembic.op",
    "alembic.context",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "main",
)

#: Never in the bundle: Qt modules the app does not use (each drags in large libraries; PySide6-Addons
#: is installed for QtCharts alone — the dashboard, ui/dashboard_charts.py — and its other modules stay out), test and
#: dev tools, tkinter, and setuptools' pkg_resources (only babel's fallback for Python < 3.10
#: names it; bundled, its run-time hook fails on setuptools' vendored packages).
EXCLUDES = (
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickControls2", "PySide6.QtQuickWidgets",
    "PySide6.QtQuickTest", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel", "PySide6.QtWebSockets", "PySide6.Qt3DCore",
    "PySide6.Qt3DRender", "PySide6.Qt3DExtras", "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtPdf",
    "PySide6.QtPdfWidgets", "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtUiTools",
    "PySide6.QtTest", "PySide6.QtSql", "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvgWidgets", "PySide6.QtXml", "PySide6.QtConcurrent",
    "pkg_resources", "setuptools", "_distutils_hack", "tkinter", "pytest", "pytestqt", "hypothesis", "mypy", "ruff", "IPython", "matplotlib", "numpy",
)


#: babel's locale data (35 MB, every language of the world): the app reads only the catalogues'
#: languages (core/i18n.py: zh_CN, en) and what they inherit from.
BABEL_LOCALES = ("root", "en", "zh")


def keep_data(dest: str) -> bool:
    """Whether a data file PyInstaller's hooks collected (``dest``: its path in the bundle) is kept."""
    parts = dest.replace("\\", "/").split("/")
    if parts[:2] == ["babel", "locale-data"] and len(parts) == 3 and parts[2].endswith(".dat"):
        stem = parts[2].removesuffix(".dat")
        return stem.split("_")[0] in BABEL_LOCALES
    return True


def data_files(root: Path, platform: str = sys.platform) -> list[tuple[str, str]]:
    """``(source file, folder in the bundle)`` pairs for PyInstaller's ``datas``.

    Args:
        root: the repository root.
        platform: ``sys.platform`` of the build (the font is bundled on Linux only).

    Raises:
        FileNotFoundError: a Linux build without the CJK font installed (scripts/bootstrap.sh installs it).
    """
    out: list[tuple[str, str]] = []
    for pattern in DATA_GLOBS:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                out.append((str(path), str(path.parent.relative_to(root))))
    charts = root / CHARTS_FILES[0]
    if charts.is_file():
        for name in CHARTS_FILES:
            path = root / name
            if path.is_file():
                out.append((str(path), str(path.parent.relative_to(root))))
    if platform.startswith("linux"):
        if not LINUX_FONT.is_file():
            raise FileNotFoundError(f"{LINUX_FONT} is missing: install fonts-wqy-microhei (scripts/bootstrap.sh)")
        out.append((str(LINUX_FONT), "resources/fonts"))
        if LINUX_FONT_COPYRIGHT.is_file():
            out.append((str(LINUX_FONT_COPYRIGHT), "resources/fonts"))  # as resources/fonts/copyright
    return out
