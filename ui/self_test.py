"""``packdesk --self-test``: does this installation work end to end? (docs/build.md)

Run after installing the bundle on a bench PC, and by CI on the freshly built Linux bundle. Every
step uses the files of *this* installation — the installed bundle's own hub, translations, fonts
and templates — in a temporary folder, so the PC's real data, settings and hub are never touched:

1. the Chinese catalogue compiles and translates;
2. Qt starts (headless: ``QT_QPA_PLATFORM=offscreen`` unless set) with a Chinese UI font;
3. the embedded hub starts as a child process (in the bundle: ``packdesk hub …``) with demo orders;
4. a demo packer logs in over HTTP and reads the bench's orders;
5. a 100×150 label for one order is rendered to a PDF with an embedded Chinese font;
6. its barcodes are read back: the page is rasterised with pypdfium2 (in the bundle) and decoded
   with the *system's* ``zbarimg`` (zbar-tools; not bundled) — waybill and order ID exactly.

Each step prints one line (✓ or ✖ and what it found); the exit code is 0 only when all passed. On
a failure the temporary folder (with the hub's log) is kept and named. Nothing here waits on the
GUI thread's behalf: there is no window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from core import paths
from core.errors import UserError
from core.i18n import N_, _

#: The demo packer (exists only on a demo hub; README.md).
OPERATOR, PIN, BENCH = "P001", "1111", "B1"
STATION = "SELFTEST-B1"
DEMO_ORDERS = 20
DPI = 203


class SelfTestFailed(Exception):
    """A step found a problem; the message says what, for a person."""


class SelfTest:
    """One self-test run in its own temporary folder.

    Args:
        out: where each result line goes (default: stdout, flushed line by line).
    """

    def __init__(self, out: Callable[[str], None] | None = None) -> None:
        self.out = out or _print
        self.home = Path(tempfile.mkdtemp(prefix="packdesk-selftest-"))
        self.hub: Any = None  # ui.embedded_hub.EmbeddedHub
        self.device_id = f"selftest-{uuid.uuid4().hex[:12]}"
        self.order: dict[str, Any] = {}
        self.pdf: Path | None = None
        self._app: Any = None  # the QApplication, kept alive for the run

    def run(self) -> int:
        """Run every step in order; stop at the first failure. Returns the exit code."""
        started = time.monotonic()
        old_home = os.environ.get(paths.HOME_ENV)
        os.environ[paths.HOME_ENV] = str(self.home)  # the hub child process inherits it
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        steps: list[tuple[str, Callable[[], str]]] = [
            (N_("Chinese translations"), self.check_translations),
            (N_("Qt and the UI font"), self.check_qt),
            (N_("built-in hub"), self.start_hub),
            (N_("demo login"), self.login),
            (N_("label PDF"), self.render_label),
            (N_("label barcodes"), self.check_barcodes),
        ]
        failed = False
        try:
            for name, step in steps:
                try:
                    detail = step()
                except (SelfTestFailed, UserError) as exc:
                    self.out(f"✖ {_(name)}: {exc}")
                    failed = True
                    break
                self.out(f"✓ {_(name)}: {detail}")
        finally:
            if self.hub is not None:
                self.hub.stop()
            if old_home is None:
                os.environ.pop(paths.HOME_ENV, None)
            else:
                os.environ[paths.HOME_ENV] = old_home
        seconds = time.monotonic() - started
        if failed:
            self.out(_("Self-test FAILED after {s:.1f} s; its files (hub log included) are kept in {folder}").format(
                s=seconds, folder=self.home))
            return 1
        shutil.rmtree(self.home, ignore_errors=True)
        self.out(_("Self-test passed in {s:.1f} s.").format(s=seconds))
        return 0

    def check_translations(self) -> str:
        from core.i18n import LOCALE_DIR, set_language

        if set_language("zh_CN") != "zh_CN" or _("PackDesk cannot start") == "PackDesk cannot start":
            raise SelfTestFailed(_("the Chinese catalogue did not load (looked in {folder})").format(folder=LOCALE_DIR))
        return _("Chinese catalogue loaded from {folder}").format(folder=LOCALE_DIR)

    def check_qt(self) -> str:
        from PySide6.QtCore import QLibraryInfo
        from PySide6.QtWidgets import QApplication

        from ui.app import pick_font, use_language

        app = QApplication.instance() or QApplication([sys.argv[0]])
        assert isinstance(app, QApplication)
        self._app = app
        use_language(app, "zh_CN")
        family = pick_font(app)
        if not family:
            raise SelfTestFailed(_("no Chinese UI font found (bundled WenQuanYi Micro Hei, or Microsoft YaHei / "
                                   "SimHei on Windows): Chinese would show as boxes"))
        qm = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)) / "qtbase_zh_CN.qm"
        if not qm.is_file():
            raise SelfTestFailed(_("Qt's own Chinese words are missing ({path}): dialog buttons would be in English")
                                 .format(path=qm))
        return _("platform {platform}, UI font {font}").format(platform=app.platformName(), font=family)

    def start_hub(self) -> str:
        from ui.embedded_hub import EmbeddedHub, hub_command

        self.hub = EmbeddedHub(paths.data_dir(), demo=True)
        self.hub.load_demo(DEMO_ORDERS)
        # as the app starts it: this PC's station approved by the serving process (ui/app.py start_hub)
        url = self.hub.start(approve=(STATION, BENCH, self.device_id))
        return _("{cmd} serving at {url} with {n} demo orders").format(
            cmd=" ".join(hub_command()), url=url, n=DEMO_ORDERS)

    def login(self) -> str:
        from core.sync.client import HubClient

        client = HubClient(self.hub.url)
        try:
            info = client.login(OPERATOR, PIN, station=STATION, bench=BENCH, device_id=self.device_id)
            orders = client.snapshot(limit=200).orders
        finally:
            client.close()
        with_waybill = [o for o in orders if o.get("waybill_no")]
        if not with_waybill:
            raise SelfTestFailed(_("logged in, but bench {bench} has no order with a waybill number ({n} orders)")
                                 .format(bench=BENCH, n=len(orders)))
        self.order = with_waybill[0]
        from core.actions import ROLE_NAMES
        from core.roles import Role

        return _("{name} ({code}, {role}) on bench {bench}: {n} orders").format(
            name=info.operator_name, code=info.operator, role=_(ROLE_NAMES[Role(info.role)]), bench=info.bench,
            n=len(orders))

    def render_label(self) -> str:
        from printing import render_label
        from printing.fonts import cjk_font

        font = cjk_font()
        if not font.has_cjk:
            raise SelfTestFailed(_("no Chinese document font: labels would print without their Chinese text"))
        self.pdf = self.home / f"label-{self.order['order_id']}.pdf"
        self.pdf.write_bytes(render_label(self.order, "100x150"))  # type: ignore[arg-type]
        return _("{order} → {pdf} ({kb} KB, font {font})").format(
            order=self.order["order_id"], pdf=self.pdf.name, kb=self.pdf.stat().st_size // 1024,
            font=font.description)

    def check_barcodes(self) -> str:
        import pypdfium2 as pdfium

        zbarimg = shutil.which("zbarimg")
        if zbarimg is None:
            raise SelfTestFailed(_("zbarimg not found: install zbar-tools (the bundle uses the system's zbarimg)"))
        assert self.pdf is not None
        pdf = pdfium.PdfDocument(str(self.pdf))
        try:
            image = pdf[0].render(scale=DPI / 72, grayscale=True).to_pil()
        finally:
            pdf.close()
        png = self.pdf.with_suffix(".png")
        image.save(png)
        r = subprocess.run([zbarimg, "-q", "--raw", str(png)], capture_output=True, text=True, timeout=60)
        found = sorted(line for line in r.stdout.splitlines() if line)
        # Waybill Code 128, order ID Code 128, order ID QR (tests/printing/test_label_pdf.py).
        want = sorted([self.order["waybill_no"], self.order["order_id"], self.order["order_id"]])
        if found != want:
            raise SelfTestFailed(_("the label's barcodes read {found}, expected {want}").format(found=found, want=want))
        return _("read back {codes} at {dpi} dpi with {tool}").format(codes=", ".join(found), dpi=DPI, tool=zbarimg)


def _print(line: str) -> None:
    print(line, flush=True)


def report_file() -> Path:
    """Where a windowed exe (Windows, no console) also leaves the result lines."""
    return Path(tempfile.gettempdir()) / "packdesk-self-test.txt"


def main() -> int:
    """``packdesk --self-test``: run it, print each line (and write them to :func:`report_file`)."""
    report = report_file()
    with suppress(OSError):
        report.unlink()

    def out(line: str) -> None:
        if sys.stdout is not None:  # None in a windowed Windows exe
            _print(line)
        with suppress(OSError), report.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    return SelfTest(out).run()
