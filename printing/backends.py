"""Printer back-ends that need no Qt: raw TCP 9100 (ZPL thermal printers) and save-as-file.

Every back-end has the same shape — ``send(job) -> PrintResult`` — and fails with a
:class:`PrinterError` whose message names the printer and says what to do. A print service (the
print journal, which marks ``label_printed`` only after success) calls :func:`try_send`, which never
raises for printer trouble and returns a :class:`PrintResult` it can record either way; a failed
job is retried by sending the same :class:`PrintJob` again. The Qt system-printer back-end lives in
``ui/print_qt.py`` and follows the same interface.
"""

from __future__ import annotations

import errno
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.errors import UserError
from core.i18n import _
from core.timeutil import utcnow

PDF = "application/pdf"
ZPL = "application/zpl"
DOC_TYPES = ("label", "picklist", "slip", "manifest")


class PrinterError(UserError):
    """A print that did not happen: offline, refused, out of paper, hung. Retry after fixing it.

    Attributes:
        printer: the printer's display name (host:port, queue name or folder).
        reason: a short stable code: ``unreachable``, ``refused``, ``timeout``, ``paper_out``,
            ``paused``, ``head_open``, ``ribbon_out``, ``unsupported``, ``io_error``, ``not_found``,
            ``failed``.
    """

    code = "printer_error"

    def __init__(self, message: str, *, printer: str, reason: str) -> None:
        super().__init__(message, details={"printer": printer, "reason": reason})
        self.printer = printer
        self.reason = reason


@dataclass(frozen=True)
class PrintJob:
    """One thing to print. Immutable, so a failed job is retried exactly as it was."""

    doc_type: str  # "label" | "picklist" | "slip"
    order_ids: tuple[str, ...]
    payload: bytes
    content_type: str = PDF  # PDF or ZPL
    copies: int = 1
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.doc_type not in DOC_TYPES:
            raise ValueError(f"Unknown document type {self.doc_type!r}; use one of {', '.join(DOC_TYPES)}.")
        if self.content_type not in (PDF, ZPL):
            raise ValueError(f"Unknown content type {self.content_type!r}.")
        if not 1 <= self.copies <= 99:
            raise ValueError("copies must be between 1 and 99.")


@dataclass(frozen=True)
class PrintResult:
    """What happened to one attempt at a job — the row a print journal records."""

    job_id: str
    printer: str
    ok: bool
    started_at: datetime
    duration_s: float
    bytes_sent: int = 0
    reason: str = ""  # PrinterError.reason when not ok
    message: str = ""
    output_path: Path | None = None


class PrintBackend(Protocol):
    """What every back-end offers."""

    @property
    def name(self) -> str: ...

    def send(self, job: PrintJob) -> PrintResult: ...


def try_send(backend: PrintBackend, job: PrintJob) -> PrintResult:
    """Send and return a result either way (for the journal); only bugs propagate."""
    started = utcnow()
    t0 = time.perf_counter()
    try:
        return backend.send(job)
    except PrinterError as exc:
        return PrintResult(
            job.job_id,
            exc.printer,
            False,
            started,
            time.perf_counter() - t0,
            reason=exc.reason,
            message=exc.message,
        )


class PdfFileBackend:
    """ "Save as PDF" (and ZPL as .zpl): writes each job to a folder, atomically."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @property
    def name(self) -> str:
        return f"文件夹 {self.directory}"

    def send(self, job: PrintJob) -> PrintResult:
        started = utcnow()
        t0 = time.perf_counter()
        ext = "pdf" if job.content_type == PDF else "zpl"
        first = job.order_ids[0] if job.order_ids else "doc"
        more = f"+{len(job.order_ids) - 1}" if len(job.order_ids) > 1 else ""
        path = self.directory / f"{job.doc_type}-{first}{more}-{started:%Y%m%dT%H%M%S}-{job.job_id[:8]}.{ext}"
        tmp = path.with_suffix(".part")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(job.payload)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True) if tmp.parent.exists() else None
            raise PrinterError(
                _("Could not save to {folder}: {error}. Check the folder exists and is writable, then retry.").format(
                    folder=self.directory, error=exc.strerror or exc),
                printer=self.name,
                reason="io_error",
            ) from exc
        return PrintResult(
            job.job_id, self.name, True, started, time.perf_counter() - t0, len(job.payload), output_path=path
        )


#: host:port of printers that did not answer ``~HS`` once: later jobs skip the status wait.
_SILENT: set[tuple[str, int]] = set()


def _parse_hs(data: bytes) -> dict[str, bool] | None:
    """The flags of a ZPL ``~HS`` answer (three STX…ETX strings), or None if it is not one.

    String 1 is ``aaa,b,c,…`` (b = paper out, c = paused); string 2 is ``mmm,n,o,p,…``
    (o = head open, p = ribbon out).
    """
    strings = [s.strip(b"\x02\r\n") for s in data.split(b"\x03") if s.strip()]
    if len(strings) < 2:
        return None
    s1, s2 = strings[0].split(b","), strings[1].split(b",")
    try:
        return {
            "paper_out": s1[1] == b"1",
            "paused": s1[2] == b"1",
            "head_open": s2[2] == b"1",
            "ribbon_out": s2[3] == b"1",
        }
    except IndexError:
        return None


class RawTcpBackend:
    """A networked thermal printer on raw TCP port 9100 (JetDirect / "RAW"), taking ZPL.

    Timeouts are the whole point: a printer that is off makes ``connect`` hang for a minute by
    default, and one that is paused or out of paper stops reading so ``send`` blocks forever.

    A job counts as printed only when the printer has *read all of it*: after the data we close
    our sending side and wait for the printer to close its side, as the CUPS socket back-end
    does (``waiteof``). Without that, a printer that accepts the connection but never reads
    (hung, or buffering while out of labels) would still "succeed": a 20 KB label fits in the
    kernel's socket buffers. With ``check_status`` the printer is first asked ``~HS`` on the same
    connection; a ZPL printer answers with its paper out / pause / head-open / ribbon flags, so
    "out of paper" is reported before the job is sent (a Zebra otherwise buffers the job and
    prints it whenever a roll goes in). A printer that does not answer (many clones) is printed
    to anyway, and not asked again in this process.
    """

    def __init__(
        self,
        host: str,
        port: int = 9100,
        timeout: float = 5.0,
        *,
        connect_timeout: float | None = None,
        check_status: bool = False,
        status_timeout: float = 1.0,
        wait_eof: bool = True,
        accepts: tuple[str, ...] = (ZPL,),
        label: str = "",
    ) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.check_status = check_status
        self.status_timeout = status_timeout
        self.wait_eof = wait_eof
        self.accepts = accepts
        self.label = label

    @property
    def name(self) -> str:
        where = f"{self.host}:{self.port}"
        return f"{self.label} ({where})" if self.label else where

    def _fail(self, what: str, reason: str) -> PrinterError:
        return PrinterError(_("Printer {printer}: {problem}").format(printer=self.name, problem=what),
                            printer=self.name, reason=reason)

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except ConnectionRefusedError as exc:
            raise self._fail(
                _("refused the connection — is it switched on and is port {port} (raw printing) enabled? "
                  "Retry when it is ready.").format(port=self.port),
                "refused",
            ) from exc
        except TimeoutError as exc:
            raise self._fail(
                _("did not answer within {seconds:g} s — check it is on and on the network, then retry.").format(
                    seconds=self.connect_timeout),
                "timeout",
            ) from exc
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) or isinstance(exc, socket.gaierror):
                raise self._fail(
                    _("cannot be reached ({error}) — check the address and the network cable, then retry.").format(
                        error=exc.strerror or exc),
                    "unreachable",
                ) from exc
            raise self._fail(_("connection failed: {error}. Retry.").format(error=exc.strerror or exc),
                             "unreachable") from exc
        sock.settimeout(self.timeout)
        return sock

    def _ask_status(self, sock: socket.socket) -> dict[str, bool] | None:
        """Send ``~HS`` on an open connection and read the answer; None if the printer is silent."""
        data = b""
        try:
            sock.settimeout(self.status_timeout)
            sock.sendall(b"~HS")
            deadline = time.monotonic() + self.status_timeout
            while data.count(b"\x03") < 3 and time.monotonic() < deadline:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                data += chunk
        except (TimeoutError, OSError):
            pass
        finally:
            sock.settimeout(self.timeout)
        return _parse_hs(data)

    def status(self) -> dict[str, bool] | None:
        """The printer's ``~HS`` flags (paper_out, paused, head_open, ribbon_out), or None if it
        does not say."""
        sock = self._connect()
        try:
            return self._ask_status(sock)
        finally:
            sock.close()

    def _check(self, sock: socket.socket) -> None:
        key = (self.host, self.port)
        if key in _SILENT:
            return
        st = self._ask_status(sock)
        if st is None:
            _SILENT.add(key)
            return
        problems = (
            ("paper_out", _("is out of labels — load a new roll, then retry.")),
            ("head_open", _("has its print head open — close it, then retry.")),
            ("ribbon_out", _("is out of ribbon — load a new ribbon, then retry.")),
            ("paused", _("is paused — press its pause/feed button, then retry.")),
        )
        for flag, what in problems:
            if st[flag]:
                raise self._fail(what, flag)

    def _await_eof(self, sock: socket.socket) -> None:
        """Wait until the printer closes its side: it has read the whole job."""
        try:
            while sock.recv(4096):
                pass  # back-channel chatter (status answers) is not our business here
        except TimeoutError as exc:
            raise self._fail(
                _("took the connection but did not read the whole job within {seconds:g} s (busy, paused, "
                  "out of labels or jammed?). Nothing was marked printed — check the printer; if no label "
                  "came out, retry.").format(seconds=self.timeout),
                "timeout",
            ) from exc
        except OSError:
            pass  # a reset after our FIN: the printer closed without lingering, job read

    def send(self, job: PrintJob) -> PrintResult:
        if job.content_type not in self.accepts:
            raise self._fail(
                _("takes {accepts}, not {content}; choose a ZPL document or another printer for this "
                  "document type.").format(accepts=", ".join(self.accepts), content=job.content_type),
                "unsupported",
            )
        started = utcnow()
        t0 = time.perf_counter()
        sock = self._connect()
        sent = 0
        try:
            if self.check_status:
                self._check(sock)
            try:
                for _copy in range(job.copies):
                    sock.sendall(job.payload)
                    sent += len(job.payload)
                sock.shutdown(socket.SHUT_WR)
            except TimeoutError as exc:
                raise self._fail(
                    _("stopped taking data after {seconds:g} s (out of paper, paused or jammed?) — check it, "
                      "then retry. Part of the job may have printed.").format(seconds=self.timeout),
                    "timeout",
                ) from exc
            except OSError as exc:
                raise self._fail(
                    _("dropped the connection while printing ({error}) — check it, then retry.").format(
                        error=exc.strerror or exc),
                    "failed",
                ) from exc
            if self.wait_eof:
                self._await_eof(sock)
        finally:
            sock.close()
        return PrintResult(job.job_id, self.name, True, started, time.perf_counter() - t0, sent)
