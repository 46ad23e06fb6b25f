"""The installable bundle's file list (packaging/bundle_files.py, read by packaging/packdesk.spec).

Building the bundle takes minutes, so CI builds it once (.ci/run) and these checks run the list
itself: every file it names exists, every file the app reads at run time is on it in the folder
the app looks in, and nothing the app imports is excluded.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: ``from X import a, b`` / ``import X`` (at any indentation: imports inside functions count too)
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+\(?([\w, ]+)|import\s+([\w.]+))", re.MULTILINE)


@pytest.fixture(scope="module")
def bundle() -> ModuleType:
    spec = importlib.util.spec_from_file_location("packdesk_bundle_files", ROOT / "packaging" / "bundle_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spec_takes_its_lists_from_bundle_files() -> None:
    spec = (ROOT / "packaging" / "packdesk.spec").read_text(encoding="utf-8")
    for use in ("datas=bundle.data_files(ROOT)", "excludes=list(bundle.EXCLUDES)", "bundle.keep_data(",
                "bundle.HIDDEN_IMPORTS", "bundle.OWN_PACKAGES", 'name="packdesk"', "upx=False"):
        assert use in spec, use


def test_every_named_file_exists_and_keeps_its_folder(bundle: ModuleType) -> None:
    datas = bundle.data_files(ROOT, "linux")
    assert datas
    for src, dest in datas:
        path = Path(src)
        assert path.is_file(), src
        if path.is_relative_to(ROOT):  # the app finds it at the same path relative to its modules
            assert Path(dest) == path.parent.relative_to(ROOT), (src, dest)


def test_every_run_time_file_of_the_app_is_in_the_bundle(bundle: ModuleType) -> None:
    bundled = {Path(src).resolve() for src, _dest in bundle.data_files(ROOT, "linux")}
    needed = [*ROOT.glob("resources/locale/*/LC_MESSAGES/*.po"), *ROOT.glob("resources/rules/*"),
              *ROOT.glob("resources/templates/*"), *ROOT.glob("resources/dashboard/*"),
              *ROOT.glob("hub/migrations/versions/*.py"),
              ROOT / "hub" / "migrations" / "env.py"]
    missing = sorted(str(p.relative_to(ROOT)) for p in needed if p.is_file() and p.resolve() not in bundled)
    assert not missing, missing
    assert len([p for p in needed if p.suffix == ".po"]) >= 2


def test_the_cjk_font_is_bundled_on_linux_only(bundle: ModuleType) -> None:
    linux = dict(bundle.data_files(ROOT, "linux"))
    assert linux[str(bundle.LINUX_FONT)] == "resources/fonts"
    # printing/fonts.py and ui/app.py look for it exactly there
    from printing.fonts import BUNDLED_FONT

    assert ROOT / "resources" / "fonts" / bundle.LINUX_FONT.name == BUNDLED_FONT
    windows = dict(bundle.data_files(ROOT, "win32"))
    assert not any(dest.startswith("resources/fonts") for dest in windows.values())  # YaHei / SimHei there


def test_babel_keeps_the_app_languages_data_only(bundle: ModuleType) -> None:
    keep = bundle.keep_data
    for dest in ("babel/locale-data/root.dat", "babel/locale-data/zh.dat", "babel/locale-data/zh_Hans.dat",
                 "babel/locale-data/zh_Hans_CN.dat", "babel/locale-data/en.dat", "babel/locale-data/en_001.dat",
                 "babel/locale-data/LICENSE.unicode", "babel/global.dat", "resources/rules/default.toml"):
        assert keep(dest), dest
    for dest in ("babel/locale-data/fr.dat", "babel/locale-data/ja_JP.dat", "babel/locale-data/ar.dat"):
        assert not keep(dest), dest
    from core.i18n import LANGUAGES

    assert {lang.split("_")[0] for lang in LANGUAGES} <= set(bundle.BABEL_LOCALES)


def test_no_module_the_app_imports_is_excluded(bundle: ModuleType) -> None:
    excluded = set(bundle.EXCLUDES)
    used: set[str] = set()
    for path in [ROOT / "main.py", *ROOT.glob("ui/**/*.py"), *ROOT.glob("core/**/*.py"),
                 *ROOT.glob("printing/**/*.py"), *ROOT.glob("hub/**/*.py")]:
        for module, names, plain in IMPORT.findall(path.read_text(encoding="utf-8")):
            used.add(module or plain)
            used.update(f"{module}.{name}" for name in re.findall(r"\w+", names))
    # QtMultimedia is imported only if installed (ui/sounds.py; PySide6-Addons): the bundle plays
    # its tones with the OS player instead, so it stays out on purpose.
    wrongly = sorted((used & excluded) - {"PySide6.QtMultimedia"})
    assert not wrongly, wrongly


def test_the_dashboards_charts_library_is_bundled_when_installed(bundle: ModuleType, tmp_path: Path) -> None:
    """Present at build time (npm ci in web/): at the path the hub looks in by default; absent: no error."""
    from hub.api.dashboard import CHARTS_FILE, DEFAULT_ASSETS_DIR

    assert ROOT / bundle.CHARTS_FILES[0] == DEFAULT_ASSETS_DIR / CHARTS_FILE
    fake = tmp_path / "repo"
    charts = fake / bundle.CHARTS_FILES[0]
    assert not any("echarts" in src for src, _dest in bundle.data_files(fake, "win32"))  # not installed: left out
    charts.parent.mkdir(parents=True)
    charts.write_text("/* echarts */")
    (fake / "web/node_modules/echarts/LICENSE").write_text("Apache-2.0")
    assert dict(bundle.data_files(fake, "win32")) == {
        str(charts): "web/node_modules/echarts/dist", str(fake / "web/node_modules/echarts/LICENSE"): "web/node_modules/echarts"}
