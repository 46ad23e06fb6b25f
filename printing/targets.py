"""Where a document goes: the station's printer setting read once, in one place (no Qt).

A printer setting (``settings.printers[doc_type]``) is one of:

* ``pdf:<folder>`` — save PDFs into that folder;
* ``tcp:<host>:<port>`` — raw ZPL to a networked thermal printer (port 9100 when left out; labels
  only: pick lists and slips are PDF documents, which such a printer cannot take);
* anything else — the name of a system printer (handed a PDF through Qt by ``ui/print_qt.py``);
* empty — nothing chosen: PDFs into the default folder, and the status says so.

The first-run dialog writes these values and the print service reads them; both use
:func:`parse_printer` and :meth:`PrinterSetting.value`, so the two cannot read a value differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from printing.backends import PDF, ZPL, PdfFileBackend, PrintBackend, RawTcpBackend

__all__ = ["DEFAULT_TCP_PORT", "PrinterSetting", "parse_printer"]

DEFAULT_TCP_PORT = 9100

Kind = Literal["unset", "pdf", "tcp", "system"]


@dataclass(frozen=True)
class PrinterSetting:
    """One parsed printer setting (see the module docstring).

    Attributes:
        kind: ``unset``, ``pdf``, ``tcp`` or ``system``.
        folder: the PDF folder (``pdf``).
        host: the thermal printer's address (``tcp``).
        port: its port (``tcp``).
        name: the system printer's name (``system``).
    """

    kind: Kind
    folder: Path | None = None
    host: str = ""
    port: int = DEFAULT_TCP_PORT
    name: str = ""

    def value(self) -> str:
        """The setting as it is stored (the inverse of :func:`parse_printer`)."""
        if self.kind == "pdf":
            return f"pdf:{self.folder or ''}"
        if self.kind == "tcp":
            return f"tcp:{self.host}:{self.port}"
        if self.kind == "system":
            return self.name
        return ""

    def content_type(self, doc_type: str) -> str:
        """What this printer is sent for ``doc_type``: ZPL for a label on a thermal printer, else PDF."""
        return ZPL if self.kind == "tcp" and doc_type == "label" else PDF

    def backend(self, default_folder: Path, *, timeout_s: float, connect_timeout_s: float) -> PrintBackend | None:
        """The Qt-free back-end for this setting; None for a system printer (``ui/`` makes that one).

        Args:
            default_folder: where PDFs go when nothing is set.
            timeout_s: a thermal printer's whole-job timeout.
            connect_timeout_s: how long to wait for it to accept the connection.
        """
        if self.kind == "unset":
            return PdfFileBackend(default_folder)
        if self.kind == "pdf":
            return PdfFileBackend((self.folder or default_folder).expanduser())
        if self.kind == "tcp":
            # check_status: "out of labels" is said before the job is sent, not found out later.
            return RawTcpBackend(self.host, self.port, timeout_s, connect_timeout=connect_timeout_s,
                                 check_status=True)
        return None


def parse_printer(value: str | None) -> PrinterSetting:
    """Read a stored printer setting (surrounding spaces ignored)."""
    text = (value or "").strip()
    if not text:
        return PrinterSetting("unset")
    if text.startswith("pdf:"):
        folder = text[4:].strip()
        return PrinterSetting("pdf", folder=Path(folder) if folder else None)
    if text.startswith("tcp:"):
        host, _sep, port = text[4:].rpartition(":")
        if not host or not port.isdigit():
            host, port = text[4:], str(DEFAULT_TCP_PORT)  # "tcp:10.0.0.9": the usual raw port
        return PrinterSetting("tcp", host=host.strip(), port=int(port))
    return PrinterSetting("system", name=text)
