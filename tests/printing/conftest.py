"""Fixtures for printing tests: realistic snapshots and PDF/barcode checking helpers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for p in (str(ROOT), str(Path(__file__).parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

from orders import make_batch, make_order  # noqa: E402

from core.model import Snapshot  # noqa: E402


@pytest.fixture
def order() -> Snapshot:
    """A hard order: long rural address, many lines, a gift, VIP, a buyer note."""
    return make_order(
        1, n_lines=12, gift=True, vip=True, address=1, buyer_note="周末不在家，放快递柜，谢谢！"
    )


@pytest.fixture
def batch() -> list[Snapshot]:
    return make_batch(30, 5)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")


def decode_pdf(pdf: bytes, tmp_path: Path, dpi: int = 203) -> list[list[str]]:
    """Rasterise every page with pdftoppm and decode all barcodes with zbarimg, per page."""
    _need("pdftoppm")
    _need("zbarimg")
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(src), str(tmp_path / "pg")], check=True)
    pages = []
    for png in sorted(tmp_path.glob("pg-*.png")):
        out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        pages.append(sorted(line for line in out.stdout.splitlines() if line))
    return pages


def pdf_fonts(pdf: bytes, tmp_path: Path) -> str:
    _need("pdffonts")
    src = tmp_path / "fonts.pdf"
    src.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(src)], capture_output=True, text=True, check=True).stdout


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    _need("pdftotext")
    src = tmp_path / "text.pdf"
    src.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def decode(tmp_path: Path) -> Callable[..., list[list[str]]]:
    return lambda pdf, dpi=203: decode_pdf(pdf, tmp_path, dpi)
