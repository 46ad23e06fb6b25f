"""Printer settings read without Qt: every form, the round trip, what each printer is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from printing.backends import PDF, ZPL, PdfFileBackend, RawTcpBackend
from printing.targets import PrinterSetting, parse_printer


@pytest.mark.parametrize(("value", "expected"), [
    ("", PrinterSetting("unset")),
    ("   ", PrinterSetting("unset")),
    (None, PrinterSetting("unset")),
    ("pdf:/srv/prints", PrinterSetting("pdf", folder=Path("/srv/prints"))),
    ("pdf:", PrinterSetting("pdf")),
    ("tcp:10.0.0.9:9101", PrinterSetting("tcp", host="10.0.0.9", port=9101)),
    ("tcp:10.0.0.9", PrinterSetting("tcp", host="10.0.0.9", port=9100)),  # the usual raw port
    ("tcp:zebra-1.local:", PrinterSetting("tcp", host="zebra-1.local:", port=9100)),
    (" Office-Laser ", PrinterSetting("system", name="Office-Laser")),
])
def test_parse(value: str | None, expected: PrinterSetting) -> None:
    assert parse_printer(value) == expected


@pytest.mark.parametrize("value", ["pdf:/srv/prints", "tcp:10.0.0.9:9100", "Office-Laser", ""])
def test_value_round_trips(value: str) -> None:
    assert parse_printer(value).value() == value


def test_what_each_printer_is_sent_and_its_backend(tmp_path: Path) -> None:
    thermal = parse_printer("tcp:127.0.0.1:9100")
    assert (thermal.content_type("label"), thermal.content_type("pick_list")) == (ZPL, PDF)
    backend = thermal.backend(tmp_path, timeout_s=2.0, connect_timeout_s=1.0)
    assert isinstance(backend, RawTcpBackend)
    folder = parse_printer(f"pdf:{tmp_path / 'out'}").backend(tmp_path, timeout_s=2.0, connect_timeout_s=1.0)
    assert isinstance(folder, PdfFileBackend) and folder.directory == tmp_path / "out"
    assert parse_printer("pdf:x").content_type("label") == PDF
    unset = parse_printer("").backend(tmp_path / "default", timeout_s=2.0, connect_timeout_s=1.0)
    assert isinstance(unset, PdfFileBackend) and unset.directory == tmp_path / "default"
    assert parse_printer("Office-Laser").backend(tmp_path, timeout_s=2.0, connect_timeout_s=1.0) is None  # ui/ makes it
