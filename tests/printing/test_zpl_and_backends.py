"""ZPL output and the raw TCP / file back-ends, against real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest
import zpl_decode
from orders import make_order

from printing import PdfFileBackend, PrinterError, PrintJob, RawTcpBackend, label_zpl, try_send
from printing.backends import ZPL
from printing.zpl import hex_row_compress
from tests.helpers.printer import FakePrinter, closed_port


@pytest.mark.parametrize(
    ("size", "pw", "ll"), [("100x150", 800, 1200), ("100x180", 800, 1440), ("76x130", 608, 1040)]
)
def test_zpl_structure_and_sizes_in_dots(size: str, pw: int, ll: int) -> None:
    o = make_order(3, n_lines=5, gift=True, vip=True)
    z = label_zpl(o, size)
    assert z.startswith("^XA^CI28") and z.rstrip().endswith("^XZ") and z.count("^XA") == 1
    assert f"^PW{pw}^LL{ll}" in z
    (label,) = zpl_decode.read(z)
    kinds = sorted((s.kind, s.data) for s in label.symbols)
    expected = [("code128", o["order_id"]), ("code128", o["waybill_no"]), ("qr", o["order_id"])]
    if size == "100x180":  # the 收件联 stub repeats the waybill
        expected.append(("code128", o["waybill_no"]))
    assert kinds == sorted(expected)
    waybills = [s for s in label.symbols if s.kind == "code128" and s.data == o["waybill_no"]]
    assert waybills[0].module == 3  # 0.375 mm at 8 dots/mm


@pytest.mark.parametrize("size", ["100x150", "100x180", "76x130"])
def test_zpl_graphic_is_what_was_drawn_and_clear_of_every_barcode(size: str) -> None:
    from reportlab.lib.units import mm

    from printing.label import LABEL_SIZES, _Label
    from printing.templates import LabelTemplate
    from printing.zpl_canvas import ZplCanvas

    o = make_order(1, n_lines=12, gift=True, vip=True, address=1, buyer_note="周末不在家，放快递柜，谢谢！")
    w, h = LABEL_SIZES[size]
    canvas = ZplCanvas((w * mm, h * mm))
    _Label(canvas, o, size, LabelTemplate.load(), None).draw()
    drawn = canvas.img.copy()
    canvas.showPage()
    (label,) = zpl_decode.read(canvas.zpl())
    assert label.image.tobytes() == drawn.tobytes()  # compression and banding lose nothing
    for s in label.symbols:
        assert s.x >= 0 and s.x + s.w <= label.pw and s.y >= 0 and s.y + s.h <= label.ll, s
        # Quiet zone: 10 modules either side of a Code 128, 2 modules around a QR (the label
        # edge beyond the margin is blank too); no text, rule or box may reach into it.
        q = 10 * s.module if s.kind == "code128" else 2 * s.module
        assert zpl_decode.ink_in(label, (s.x - q, s.y - s.module, s.x + s.w + q, s.y + s.h + s.module)) == 0, s
    # Chinese is in the graphic, not left to printer fonts: there is a lot of ink.
    assert zpl_decode.ink_in(label, (0, 0, label.pw, label.ll)) > 10_000


def test_zpl_follows_the_site_template(tmp_path: Path) -> None:
    from printing import LabelTemplate

    o = make_order(2)
    site = tmp_path / "label.toml"
    site.write_text('[page]\nmargins_mm = [6, 6, 6, 6]\n[fields]\nshow = ["carrier", "waybill_barcode", "recipient"]\n')
    (full,) = zpl_decode.read(label_zpl(o))
    (bare,) = zpl_decode.read(label_zpl(o, template=LabelTemplate.load(site)))
    assert [s.data for s in bare.symbols] == [o["waybill_no"]]  # no order barcode, no QR
    assert zpl_decode.ink_in(bare, (0, 0, 48, bare.ll)) == 0  # 6 mm left margin = 48 dots
    assert zpl_decode.ink_in(bare, (0, 0, bare.pw, bare.ll)) < zpl_decode.ink_in(full, (0, 0, full.pw, full.ll))


def test_batch_zpl_is_one_label_per_order_in_the_order_given() -> None:
    from printing.zpl import labels_zpl

    orders = [make_order(i) for i in (5, 2, 9)]
    seen: list[tuple[int, int]] = []
    labels = zpl_decode.read(labels_zpl(orders, progress=lambda d, t: seen.append((d, t))))
    assert [next(s.data for s in lb.symbols if s.kind == "qr") for lb in labels] == [o["order_id"] for o in orders]
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_zpl_compression() -> None:
    assert hex_row_compress("0000") == ","
    assert hex_row_compress("FFFF0000") == "JF,"
    assert hex_row_compress("F" * 45) == "hKF"  # 40 (h) + 5 (K)
    assert hex_row_compress("0F0F") == "0F0F"
    assert zpl_decode.decompress("JF,:", 4, 8) == bytes.fromhex("FFFF0000FFFF0000")


def test_field_data_cannot_start_zpl_commands() -> None:
    o = make_order(4, waybill_no="SF12^XZ~JR34", order_id="BL20260222-0000^1")
    z = label_zpl(o)
    assert "^XZ~JR" not in z and z.count("^XZ") == 1 and "~" not in z


def _job(payload: bytes, copies: int = 1) -> PrintJob:
    return PrintJob("label", ("BL20260222-000001",), payload, ZPL, copies)


def test_zpl_job_reaches_tcp_listener() -> None:
    printer = FakePrinter()
    try:
        z = label_zpl(make_order(1)).encode()
        result = RawTcpBackend("127.0.0.1", printer.port, timeout=2).send(_job(z, copies=2))
        assert printer.done.wait(2)
        assert result.ok and result.bytes_sent == 2 * len(z)
        assert printer.received == z * 2
    finally:
        printer.close()


def test_refused_connection_is_a_clear_error() -> None:
    port = closed_port()  # nothing listens there
    backend = RawTcpBackend("127.0.0.1", port, timeout=1, label="打单机1")
    with pytest.raises(PrinterError) as err:
        backend.send(_job(b"^XA^XZ"))
    assert err.value.reason == "refused" and "打单机1" in err.value.message and str(port) in err.value.message
    result = try_send(backend, _job(b"^XA^XZ"))
    assert not result.ok and result.reason == "refused"


def test_printer_errors_speak_the_bench_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core import i18n
    from tests.hubproc import free_port

    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    port = free_port()  # nothing listens there
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(PrinterError) as err:
            RawTcpBackend("127.0.0.1", port, timeout=1, label="打单机1").send(_job(b"^XA^XZ"))
    finally:
        i18n.set_language("en")
    assert err.value.message.startswith("打印机 打单机1") and "拒绝连接" in err.value.message
    assert str(port) in err.value.message


def test_printer_that_never_reads_is_not_marked_printed() -> None:
    # A real label is ~20 KB: it fits in the socket buffers, so sendall() alone would "succeed".
    printer = FakePrinter(read=False)
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=0.5)
        result = try_send(backend, _job(label_zpl(make_order(1)).encode()))
        assert not result.ok and result.reason == "timeout"
        assert "127.0.0.1" in result.message and "retry" in result.message
    finally:
        printer.close()


def test_printer_that_stops_reading_midway_times_out() -> None:
    printer = FakePrinter(read=False)
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=0.5)
        with pytest.raises(PrinterError) as err:
            backend.send(_job(b"^XA" + b"0" * 50_000_000 + b"^XZ"))
        assert err.value.reason == "timeout" and "Part of the job" in err.value.message
    finally:
        printer.close()


HS_OK = b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n"


@pytest.mark.parametrize(
    ("flag", "reason"), [((0, 1), "paper_out"), ((0, 2), "paused"), ((1, 2), "head_open"), ((1, 3), "ribbon_out")]
)
def test_status_problem_reported_before_printing(flag: tuple[int, int], reason: str) -> None:
    strings = HS_OK.split(b"\x03")
    fields = strings[flag[0]].split(b",")
    fields[flag[1]] = b"1"
    strings[flag[0]] = b",".join(fields)
    printer = FakePrinter(status=b"\x03".join(strings))
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=2, check_status=True)
        with pytest.raises(PrinterError) as err:
            backend.send(_job(b"^XA^XZ"))
        assert err.value.reason == reason
        assert printer.done.wait(2) and printer.received == b""  # the job was never sent
    finally:
        printer.close()


def test_status_ok_then_job_on_the_same_connection() -> None:
    printer = FakePrinter(status=HS_OK)
    try:
        z = label_zpl(make_order(2)).encode()
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=2, check_status=True)
        assert backend.status() == {"paper_out": False, "paused": False, "head_open": False, "ribbon_out": False}
        result = backend.send(_job(z))
        assert result.ok and printer.done.wait(2) and printer.received == z
    finally:
        printer.close()


def test_printer_silent_on_status_is_printed_to_and_not_asked_again() -> None:
    from printing.backends import _SILENT

    printer = FakePrinter(status=None)
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=2, check_status=True, status_timeout=0.2)
        assert backend.send(_job(b"^XA^FDone^FS^XZ")).ok
        assert ("127.0.0.1", printer.port) in _SILENT
        assert backend.send(_job(b"^XA^FDtwo^FS^XZ")).ok
        assert printer.received == b"^XA^FDone^FS^XZ^XA^FDtwo^FS^XZ"
    finally:
        printer.close()


def test_retry_after_failure_sends_the_same_job() -> None:
    job = _job(b"^XA^FDretry^FS^XZ")
    port = closed_port()
    assert not try_send(RawTcpBackend("127.0.0.1", port, timeout=1), job).ok
    printer = FakePrinter()
    try:
        result = try_send(RawTcpBackend("127.0.0.1", printer.port, timeout=1), job)
        assert printer.done.wait(2)
        assert result.ok and result.job_id == job.job_id and printer.received == job.payload
    finally:
        printer.close()


def test_pdf_to_tcp_printer_is_refused_as_unsupported() -> None:
    with pytest.raises(PrinterError) as err:
        RawTcpBackend("127.0.0.1", 9, timeout=1).send(PrintJob("label", ("X",), b"%PDF-1.4"))
    assert err.value.reason == "unsupported"


def test_file_backend_saves_and_reports_unwritable(tmp_path: Path) -> None:
    result = PdfFileBackend(tmp_path / "out").send(PrintJob("slip", ("BL1", "BL2"), b"%PDF-1.4 test"))
    assert result.ok and result.output_path is not None
    assert result.output_path.read_bytes() == b"%PDF-1.4 test"
    assert result.output_path.name.startswith("slip-BL1+1-")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PrinterError) as err:
        PdfFileBackend(blocker / "sub").send(PrintJob("slip", ("BL1",), b"x"))
    assert err.value.reason == "io_error"


def test_job_validation() -> None:
    with pytest.raises(ValueError):
        PrintJob("poster", (), b"")
    with pytest.raises(ValueError):
        PrintJob("label", (), b"", copies=0)
