"""ZPL output and the raw TCP / file back-ends, against real sockets."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from orders import make_order

from printing import PdfFileBackend, PrinterError, PrintJob, RawTcpBackend, label_zpl, try_send
from printing.backends import ZPL
from printing.zpl import _hex_row_compress


@pytest.mark.parametrize(
    ("size", "pw", "ll"), [("100x150", 800, 1200), ("100x180", 800, 1440), ("76x130", 608, 1040)]
)
def test_zpl_structure(size: str, pw: int, ll: int) -> None:
    o = make_order(3, n_lines=5, gift=True, vip=True)
    z = label_zpl(o, size)
    assert z.startswith("^XA") and z.rstrip().endswith("^XZ")
    assert f"^PW{pw}" in z and f"^LL{ll}" in z
    assert f"^BCN,144,N,N,N,A^FD{o['waybill_no']}^FS" in z or f"^FD{o['waybill_no']}^FS" in z
    assert f"^FDMA,{o['order_id']}^FS" in z
    assert "^GFA," in z  # Chinese text as bitmaps: no printer font needed
    assert "^BY3" in z  # 3-dot module for the waybill


def test_zpl_compression() -> None:
    assert _hex_row_compress("0000") == ","
    assert _hex_row_compress("FFFF0000") == "JF,"
    assert _hex_row_compress("F" * 45) == "hKF"  # 40 (h) + 5 (K)
    assert _hex_row_compress("0F0F") == "0F0F"


class Listener:
    """A fake networked printer on 127.0.0.1: records each job it reads; can answer ``~HS``.

    ``read=False`` is a printer that accepts the connection and then never reads (hung, or
    buffering while out of labels): it holds the connection until the test closes it.
    """

    def __init__(self, status: bytes | None = None, read: bool = True) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.status = status
        self.read = read
        self.done = threading.Event()
        self.release = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.read:
                self.release.wait()
                conn.close()
                continue
            data = b""
            answered = False
            while chunk := conn.recv(65536):
                data += chunk
                if self.status is not None and not answered and data.startswith(b"~HS"):
                    conn.sendall(self.status)
                    answered = True
            self.received += data.removeprefix(b"~HS")
            self.done.set()
            conn.close()

    def close(self) -> None:
        self.release.set()
        self.sock.close()


def _job(payload: bytes, copies: int = 1) -> PrintJob:
    return PrintJob("label", ("BL20260222-000001",), payload, ZPL, copies)


def test_zpl_job_reaches_tcp_listener() -> None:
    printer = Listener()
    try:
        z = label_zpl(make_order(1)).encode()
        result = RawTcpBackend("127.0.0.1", printer.port, timeout=2).send(_job(z, copies=2))
        assert printer.done.wait(2)
        assert result.ok and result.bytes_sent == 2 * len(z)
        assert printer.received == z * 2
    finally:
        printer.close()


def test_refused_connection_is_a_clear_error() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    backend = RawTcpBackend("127.0.0.1", port, timeout=1, label="打单机1")
    with pytest.raises(PrinterError) as err:
        backend.send(_job(b"^XA^XZ"))
    assert err.value.reason == "refused" and "打单机1" in err.value.message and str(port) in err.value.message
    result = try_send(backend, _job(b"^XA^XZ"))
    assert not result.ok and result.reason == "refused"


def test_printer_that_never_reads_is_not_marked_printed() -> None:
    # A real label is ~20 KB: it fits in the socket buffers, so sendall() alone would "succeed".
    printer = Listener(read=False)
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=0.5)
        result = try_send(backend, _job(label_zpl(make_order(1)).encode()))
        assert not result.ok and result.reason == "timeout"
        assert "127.0.0.1" in result.message and "retry" in result.message
    finally:
        printer.close()


def test_printer_that_stops_reading_midway_times_out() -> None:
    printer = Listener(read=False)
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
    printer = Listener(status=b"\x03".join(strings))
    try:
        backend = RawTcpBackend("127.0.0.1", printer.port, timeout=2, check_status=True)
        with pytest.raises(PrinterError) as err:
            backend.send(_job(b"^XA^XZ"))
        assert err.value.reason == reason
        assert printer.done.wait(2) and printer.received == b""  # the job was never sent
    finally:
        printer.close()


def test_status_ok_then_job_on_the_same_connection() -> None:
    printer = Listener(status=HS_OK)
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

    printer = Listener(status=None)
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
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert not try_send(RawTcpBackend("127.0.0.1", port, timeout=1), job).ok
    printer = Listener()
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
