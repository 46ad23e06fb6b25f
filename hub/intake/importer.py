"""CSV/XLSX order import — the way off "orders in an Excel sheet".

A person made this file, so the rules favour them: Chinese or English headers; CSV in UTF-8 (with
or without the BOM Excel adds) or GBK/GB18030 (what Excel on Chinese Windows writes); one row per
line item, rows of one order grouped by order number; and every bad row reported with its Excel row
number (header = row 1) and the column to fix, while good orders are kept.

An order is imported whole or not at all: if one of its rows is bad, its other rows are reported
as "not imported" too — packing half an order is worse than packing it a little later.

A file is read in two passes so that a big one neither stalls the hub nor half-imports. The first
(:func:`read_import`) refuses what cannot be read before anything is written: an XLSX whose zip
would unpack to too much (checked from its directory before a byte is inflated, then enforced while
inflating, since a directory can lie), the header row (checked before any other row is read), an
unreadable row anywhere, more rows than the cap. It keeps each row compactly (pickled, only the
columns the header named). The second (:meth:`ImportFile.orders`) turns rows into orders one at a
time, so the caller can write them in bounded transactions.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import pickle
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Protocol

from core.errors import UserError, ValidationFailed
from core.import_sheet import FIELDS, missing_fields
from core.model import IntakeOrder, OrderLine, Recipient
from core.timeutil import utcnow
from hub.intake.fields import MAX_FEN, to_flag, to_qty, to_time, yuan_text_to_fen
from hub.intake.sheet_presets import Preset, aliases, detect, norm_header, split_address, status_words

#: Refuse files above this size before parsing (the hub's own body limit, 20 MB, is lower).
MAX_BYTES = 50 * 1024 * 1024
#: Default cap on rows below the header: a peak day is ~200k line items.
MAX_ROWS = 250_000
#: Default cap on what an XLSX may unpack to, all members together (a 250k-row sheet is ~160 MB).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: No spreadsheet has more rows than Excel's limit; past it even empty rows stop the read.
ROW_NUMBER_LIMIT = 1_048_576
#: Zip members: a workbook has a dozen; thousands are a trick to make the directory itself costly.
MAX_MEMBERS = 500
#: Compression ratio above which a member is a bomb, not a sheet (real sheets: ~5-20:1).
MAX_RATIO = 100
#: Members smaller than this are not checked for ratio (a tiny, very repetitive styles.xml is fine).
RATIO_FLOOR = 1024 * 1024
#: XML parts other than sheets and shared strings are parsed whole by openpyxl: keep them small.
MAX_OTHER_XML = 8 * 1024 * 1024
#: The most XML one row (or shared string) may take: openpyxl builds a row's element tree whole.
MAX_RECORD_XML = 1024 * 1024


class ImportTooLarge(UserError):
    """A file that would unpack to, or holds, more than one import may take (413)."""

    code = "payload_too_large"


@dataclass
class RowError:
    """One row that was not imported. ``row`` is the Excel row number (the header is row 1).

    ``reason`` is English for API users and logs; ``code`` and ``details`` (``column``: our field,
    ``value``: the cell) let the desk say it in the operator's language (``core.import_sheet``).
    """

    row: int
    reason: str
    code: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"row": self.row, "reason": self.reason, "code": self.code, "details": self.details}


@dataclass
class ImportResult:
    """Orders read (with the row of their first line) and rows refused."""

    orders: list[tuple[int, IntakeOrder]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    preset: str | None = None  #: the platform export recognised from the header row
    mapping: str | None = None  #: the saved mapping used
    ignored: list[str] = field(default_factory=list)  #: columns no field takes, as the header wrote them


#: Columns describing the order rather than the line: later rows may leave them empty, not contradict them.
ORDER_LEVEL = (
    "name",
    "phone",
    "province",
    "city",
    "district",
    "street",
    "address",
    "full_address",
    "postcode",
    "total",
    "created_at",
    "status",
    "custom_packaging",
    "buyer_note",
    "seller_note",
    "ship_by",
)
# Columns that may be empty on a row: a rural order may lack a phone, some cities have no district.
_MAY_BE_EMPTY = frozenset({"phone", "district"})


@dataclass(frozen=True)
class SavedMapping:
    """A column mapping a site saved (``/api/v1/import/mappings``): used for a sheet with exactly these headers."""

    name: str
    headers: tuple[str, ...]  #: the sheet's headers as saved (compared normalised, in any order)
    columns: dict[str, str]  #: header -> field ("" or absent: ignored)


def header_shape(headers: list[str] | tuple[str, ...]) -> frozenset[str]:
    """What makes two sheets "of the same shape": their set of non-empty normalised headers."""
    return frozenset(h for h in (norm_header(x) for x in headers) if h)


class _RowProblem(Exception):
    """A cell that cannot be read; becomes a RowError naming the column (``code``, ``details``)."""

    def __init__(self, code: str, column: str, value: Any = "", message: str = "", **more: Any) -> None:
        text = _cell_text(value)
        super().__init__(f"{column}: {message or code}" + (f" ({text!r})" if text else ""))
        self.code = code
        self.details: dict[str, Any] = {"column": column, "value": text[:200], **more}


#: OrderLine takes barcodes (barcode -> units per scan) once the catalogue's barcodes are in (issue 11).
_LINE_BARCODES = "barcodes" in {f.name for f in dataclasses.fields(OrderLine)}


def parse_import(filename: str, data: bytes, *, default_channel: str = "import", max_rows: int = MAX_ROWS,
                 max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES, columns: dict[str, str] | None = None,
                 saved: list[SavedMapping] | tuple[SavedMapping, ...] = (),
                 known_skus: frozenset[str] | None = None) -> ImportResult:
    """Read all orders from a CSV or XLSX file at once (small files, tests); see :func:`read_import`.

    Returns:
        Good orders with the row of their first line, and one :class:`RowError` per refused row.
    """
    file = read_import(filename, data, default_channel=default_channel, max_rows=max_rows,
                       max_uncompressed_bytes=max_uncompressed_bytes, columns=columns, saved=saved,
                       known_skus=known_skus)
    result = ImportResult(orders=list(file.orders()), preset=file.preset.name if file.preset else None,
                          mapping=file.mapping_name, ignored=list(file.ignored))
    result.errors = sorted(file.errors, key=lambda e: e.row)
    return result


def read_import(filename: str, data: bytes, *, default_channel: str = "import", max_rows: int = MAX_ROWS,
                max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES, columns: dict[str, str] | None = None,
                saved: list[SavedMapping] | tuple[SavedMapping, ...] = (),
                known_skus: frozenset[str] | None = None) -> ImportFile:
    """Check and read a CSV or XLSX file whole before any order is written (the first pass).

    Args:
        filename: the uploaded file's name; its extension picks the format (content is sniffed
            when the extension says nothing useful).
        data: the file's bytes.
        default_channel: the ``channel`` of the orders (their order numbers are unique per channel).
        max_rows: most rows below the header.
        max_uncompressed_bytes: most bytes an XLSX may unpack to.
        columns: the desk's column mapping (header -> field; "" ignores a column), used instead of
            recognising the headers.
        saved: the site's saved mappings; one whose headers are exactly the sheet's is used.
        known_skus: the catalogue's SKUs; a line with another SKU is a row error. None: no check
            (a hub without a catalogue).

    Returns:
        The file's rows, ready for :meth:`ImportFile.orders`.

    Raises:
        ValidationFailed: empty, too large, not CSV/XLSX, a corrupt file, or a header row without
            a column for a required field (``details``: ``problem`` — ``empty``, ``too_big``,
            ``xls``, ``not_sheet``, ``unreadable``, ``no_rows``, ``missing_columns`` with ``row``,
            ``missing`` fields, the ``headers``, the ``suggested`` mapping and the ``preset``).
            Columns no field takes are ignored and listed (:attr:`ImportFile.ignored`).
        ImportTooLarge: more rows than ``max_rows``, or an XLSX that would unpack to more than
            ``max_uncompressed_bytes`` or unpacks suspiciously well (``details``: ``reason``,
            ``limit`` and what was found).
    """
    file = ImportFile(filename, default_channel, max_rows, columns=columns, saved=saved, known_skus=known_skus)
    read_sheet(filename, data, file, max_uncompressed_bytes)
    return file


class SheetSink(Protocol):
    """What :func:`read_sheet` feeds: each row with its Excel number, in file order (``_add``); the
    sink sets ``header_row`` once it has taken the header (order sheets: :class:`ImportFile`, stock
    sheets: ``hub.stock_import.StockSheet``)."""

    filename: str
    header_row: int

    def _add(self, n: int, raw: list[Any] | tuple[Any, ...]) -> None: ...


def read_sheet(filename: str, data: bytes, sink: SheetSink, max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES) -> None:
    """Read a CSV or XLSX file's rows into ``sink``, refusing what is not a readable sheet.

    The checks every import shares: empty, over :data:`MAX_BYTES`, old ``.xls``, not CSV/XLSX, an
    XLSX that would unpack to too much (zip bomb), an undecodable CSV, no rows at all.

    Raises:
        ValidationFailed: ``details.problem`` ``empty``, ``too_big``, ``xls``, ``not_sheet``, ``unreadable``
            (and whatever the sink raises from its header).
        ImportTooLarge: an XLSX over ``max_uncompressed_bytes`` or suspicious (and the sink's row cap).
    """
    if not data or not data.strip().strip(codecs.BOM_UTF8).strip() or data in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise ValidationFailed("The file is empty.", details={"file": filename, "problem": "empty"})
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.",
            details={"file": filename, "problem": "too_big"},
        )
    ext = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if ext == "xls":
        raise ValidationFailed(
            "Old Excel .xls files are not supported; save as .xlsx or CSV.",
            details={"file": filename, "problem": "xls"},
        )
    if ext in ("xlsx", "xlsm") or (ext not in ("csv", "txt", "tsv") and data[:4] == b"PK\x03\x04"):
        _read_xlsx(data, sink, max_uncompressed_bytes)
    elif ext in ("csv", "txt", "tsv", ""):
        _read_csv(data, sink)
    else:
        raise ValidationFailed(
            f"'{filename}' is not a CSV or XLSX file.", details={"file": filename, "problem": "not_sheet"}
        )
    if sink.header_row == 0:
        raise ValidationFailed("The file has no rows.", details={"file": filename, "problem": "empty"})


class ImportFile:
    """A file that passed the first pass: its header, its rows kept compactly, the row errors so far.

    ``errors`` grows while :meth:`orders` runs (rows of refused orders); sort it by row at the end.
    ``preset`` is the platform export recognised, ``mapping_name`` the saved mapping used, ``ignored``
    the columns no field takes (as the header wrote them).
    """

    def __init__(self, filename: str, channel: str, max_rows: int, *, columns: dict[str, str] | None = None,
                 saved: list[SavedMapping] | tuple[SavedMapping, ...] = (),
                 known_skus: frozenset[str] | None = None) -> None:
        self.filename = filename
        self.channel = channel
        self.max_rows = max_rows
        self.header_row = 0
        self.rows = 0  #: non-empty rows below the header
        self.errors: list[RowError] = []
        self.preset: Preset | None = None
        self.mapping_name: str | None = None
        self.ignored: list[str] = []
        self.known_skus = known_skus
        self._given_columns = columns
        self._saved = tuple(saved)
        self._statuses = status_words(None)
        # field -> positions in a kept row (several columns may feed one field: first non-empty wins)
        self._plan: dict[str, tuple[int, ...]] = {}
        self._index: tuple[int, ...] = ()
        self._kept: list[bytes] = []
        # Orders whose rows are not all together: hash(order_no) → its last row. Hashes, not the
        # numbers, so a 200k-order file costs ints here; a collision only makes an order wait.
        self._seen: set[int] = set()
        self._last_row: dict[int, int] = {}
        self._prev = ""

    # -- first pass -----------------------------------------------------------------------------
    def _add(self, n: int, raw: list[Any] | tuple[Any, ...]) -> None:
        """One row of the file, in order; the first non-empty one is the header."""
        if n > ROW_NUMBER_LIMIT:
            self._too_many(n)
        if not any(_cell_text(c) for c in raw):
            return
        if not self.header_row:
            self._header(n, raw)
            return
        self.rows += 1
        if self.rows > self.max_rows:
            self._too_many(n)
        cells = tuple(raw[i] if i < len(raw) else None for i in self._index)
        order_no = next((t for t in (_cell_text(cells[p]) for p in self._plan["order_no"]) if t), "")
        if not order_no:
            self.errors.append(RowError(n, "order_no is empty.", "empty", {"column": "order_no", "value": ""}))
            return
        if len(order_no) > 64:
            self.errors.append(RowError(n, "order_no is longer than 64 characters.", "too_long",
                                        {"column": "order_no", "value": order_no[:64]}))
            return
        h = hash(order_no)
        if order_no != self._prev:
            if h in self._seen:
                self._last_row[h] = n
            else:
                self._seen.add(h)
        elif h in self._last_row:
            self._last_row[h] = n
        self._prev = order_no
        self._kept.append(pickle.dumps((n, order_no, cells), protocol=pickle.HIGHEST_PROTOCOL))

    def _too_many(self, n: int) -> None:
        raise ImportTooLarge(
            f"'{self.filename}' has more than {self.max_rows} rows below the header (row {n} is past the limit); "
            f"split it into files of at most {self.max_rows} rows.",
            details={"file": self.filename, "reason": "rows", "limit": self.max_rows, "row": n},
        )

    def _header(self, header_row: int, header: list[Any] | tuple[Any, ...]) -> None:
        """Decide which column is which field: the desk's mapping, a saved one, or the headers' names."""
        texts = [_cell_text(c) for c in header]
        shape = header_shape(texts)
        given = self._given_columns
        if given is None:
            match = next((m for m in self._saved if header_shape(m.headers) == shape), None)
            if match is not None:
                given, self.mapping_name = match.columns, match.name
        self.preset = detect([norm_header(t) for t in texts])
        candidates: dict[str, list[tuple[int, int]]] = {}  # field -> [(priority, column)]
        if given is not None:
            wanted = {norm_header(h): key for h, key in given.items() if key}
            for i, text in enumerate(texts):
                key = wanted.get(norm_header(text))
                if key in FIELDS:
                    candidates.setdefault(key, []).append((0, i))
                elif norm_header(text):
                    self.ignored.append(text)
        else:
            names = aliases(self.preset)
            lookup: dict[str, tuple[str, int]] = {}
            for key, headers in names.items():
                for rank, h in enumerate(headers):
                    lookup.setdefault(h, (key, rank))
            for i, text in enumerate(texts):
                found = lookup.get(norm_header(text))
                if found is not None:
                    candidates.setdefault(found[0], []).append((found[1], i))
                elif norm_header(text):
                    self.ignored.append(text)
        if self.preset is not None:
            self._statuses = status_words(self.preset)
        plan = {key: tuple(i for _, i in sorted(cols)) for key, cols in candidates.items()}
        missing = missing_fields(frozenset(plan))
        if missing:
            # Not a row-level problem: without these columns no row can be read, so the whole file
            # is refused (a 4xx). The answer carries what the desk's column-mapping step needs.
            suggested = {texts[i]: key for key, cols in plan.items() for i in cols}
            raise ValidationFailed(
                f"'{self.filename}' row {header_row}: no column for {', '.join(missing)}; "
                f"map the sheet's columns to these fields (or use the template).",
                details={"file": self.filename, "problem": "missing_columns", "row": header_row,
                         "missing": missing, "headers": [t for t in texts if t], "suggested": suggested,
                         "preset": self.preset and self.preset.name},
            )
        self.header_row = header_row
        used = sorted({i for cols in plan.values() for i in cols})
        self._index = tuple(used)
        position = {i: p for p, i in enumerate(used)}
        self._plan = {key: tuple(position[i] for i in cols) for key, cols in plan.items()}

    # -- second pass ----------------------------------------------------------------------------
    def orders(self) -> Iterator[tuple[int, IntakeOrder]]:
        """Good orders with the row of their first line, each as soon as its last row is read.

        Rows of refused orders go to :attr:`errors`. Orders come in the order they complete: file
        order when each order's rows are together, as a sheet sorted by order number has them.
        """
        now = utcnow()
        pending: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        current = ""
        group: list[tuple[int, dict[str, Any]]] = []

        def done(order_no: str, rows: list[tuple[int, dict[str, Any]]]) -> bool:
            last = self._last_row.get(hash(order_no))
            if last is not None and rows[-1][0] < last:
                pending[order_no] = rows  # more rows of this order further down
                return False
            return True

        for blob in self._kept:
            n, order_no, cells = pickle.loads(blob)
            if order_no != current:
                if group and done(current, group):
                    order = self._order(current, group, now)
                    if order is not None:
                        yield order
                current = order_no
                group = pending.pop(order_no, [])
            group.append((n, self._fields(cells)))
        if group:
            pending[current] = group
        for order_no, rows in pending.items():
            order = self._order(order_no, rows, now)
            if order is not None:
                yield order

    def _fields(self, cells: tuple[Any, ...]) -> dict[str, Any]:
        """A kept row as field -> cell: of several columns for one field, the first non-empty."""
        row: dict[str, Any] = {}
        for key, positions in self._plan.items():
            value = cells[positions[0]]
            for p in positions[1:]:
                if _cell_text(value):
                    break
                value = cells[p]
            row[key] = value
        return row

    def _order(self, order_no: str, rows: list[tuple[int, dict[str, Any]]],
               now: datetime) -> tuple[int, IntakeOrder] | None:
        try:
            return rows[0][0], _order(order_no, rows, self, now)
        except _GroupRefused:
            return None


# --- reading files -------------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def _encoding(data: bytes, filename: str) -> str:
    """UTF-8 (BOM or not) first, then GB18030 (a superset of GBK that Chinese Excel writes).

    A UTF-16 byte-order mark wins over both: Excel's "Unicode 文本 (*.txt)" export is UTF-16 LE
    with a BOM, tab-separated. Decoded in slices, so a 20 MB file never exists as one string.
    """
    encodings: tuple[str, ...] = ("utf-8-sig", "gb18030")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encodings = ("utf-16",)
    step = 1 << 20
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for i in range(0, len(data), step):
                # Decoding succeeding is not enough: random bytes decode as GB18030 too. Text files
                # have no control characters besides tab and line breaks.
                if _CONTROL.search(decoder.decode(data[i : i + step], final=i + step >= len(data))):
                    break
            else:
                return encoding
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        f"'{filename}' is not a readable CSV text file (expected UTF-8, GBK or UTF-16).",
        details={"file": filename, "problem": "unreadable"},
    )


def _read_csv(data: bytes, file: SheetSink) -> None:
    encoding = _encoding(data, file.filename)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    first = text.readline()
    text.seek(0)
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    try:
        # Row numbers count records, as Excel does, not physical lines (a quoted cell may span lines).
        for n, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            file._add(n, row)
    except csv.Error as exc:
        raise ValidationFailed(
            f"'{file.filename}' is not a valid CSV file: {exc}.", details={"file": file.filename, "problem": "unreadable"}
        ) from None


def _read_xlsx(data: bytes, file: SheetSink, max_uncompressed: int) -> None:
    from openpyxl.reader.excel import ExcelReader  # imported here: only the import endpoint needs it

    filename = file.filename
    _check_zip(data, filename, max_uncompressed)
    try:
        # load_workbook(read_only=True), with every member read through a capped, checked stream.
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.archive.close()
        reader.archive = _CheckedZip(io.BytesIO(data), filename, max_uncompressed)
        reader.read()
        book = reader.wb
    except UserError:
        raise
    except Exception as exc:
        # openpyxl reports a damaged file through many exception types (BadZipFile, KeyError,
        # InvalidFileException, XML parse errors…); all of them mean "cannot read this file".
        raise ValidationFailed(
            f"'{filename}' is not a readable XLSX file ({type(exc).__name__}).",
            details={"file": filename, "problem": "unreadable"},
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        # The <dimension> a file declares can claim 16384 columns; rows are as wide as their cells.
        sheet.reset_dimensions()
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            file._add(n, row)
    except UserError:
        raise
    except Exception as exc:  # a corrupt sheet only surfaces while iterating (read-only mode is lazy)
        raise ValidationFailed(
            f"'{filename}' has an unreadable sheet ({type(exc).__name__}).",
            details={"file": filename, "problem": "unreadable"},
        ) from None
    finally:
        book.close()


def _too_large(filename: str, reason: str, what: str, limit: int, found: int, member: str) -> ImportTooLarge:
    return ImportTooLarge(
        f"'{filename}' is refused before unpacking: {what}. Save it again from Excel, or split it.",
        details={"file": filename, "reason": reason, "limit": limit, "found": found, "member": member},
    )


def _check_zip(data: bytes, filename: str, max_uncompressed: int) -> None:
    """Refuse a zip bomb from its directory alone: sizes, ratios and member count, nothing inflated."""
    # The member count first, from the end record: a 20 MB directory of 400k tiny entries would
    # cost zipfile a second and 200 MB just to list.
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    count = int.from_bytes(data[end + 10 : end + 12], "little") if end >= 0 else 0
    if count > MAX_MEMBERS:
        raise _too_large(filename, "members", f"it holds {count} parts (at most {MAX_MEMBERS})",
                         MAX_MEMBERS, count, "")
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ValidationFailed(
            f"'{filename}' is not a readable XLSX file (its zip directory is damaged or missing).",
            details={"file": filename, "problem": "unreadable"},
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise _too_large(filename, "members", f"it holds {len(infos)} parts (at most {MAX_MEMBERS})",
                         MAX_MEMBERS, len(infos), "")
    total = 0
    for info in infos:
        name, size = info.filename, info.file_size
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValidationFailed(
                f"'{filename}' uses a compression method Excel does not write ({name}).",
                details={"file": filename, "problem": "unreadable"},
            )
        if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
            raise _too_large(filename, "compression_ratio",
                             f"{name} would unpack {size // max(info.compress_size, 1)} times larger "
                             f"(a real sheet: under {MAX_RATIO})", MAX_RATIO, size // max(info.compress_size, 1), name)
        cap = max_uncompressed if _record_tag(name) or not name.endswith((".xml", ".rels")) else MAX_OTHER_XML
        if size > cap:
            raise _too_large(filename, "uncompressed_size", f"{name} would unpack to {size} bytes (at most {cap})",
                             cap, size, name)
        total += size
    if total > max_uncompressed:
        raise _too_large(filename, "uncompressed_size",
                         f"it would unpack to {total} bytes (at most {max_uncompressed})", max_uncompressed, total, "")
    if not any(i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml") for i in infos):
        raise ValidationFailed(f"'{filename}' has no worksheet.", details={"file": filename, "problem": "unreadable"})


def _record_tag(member: str) -> bytes | None:
    """The element openpyxl builds whole for ``member``, one at a time: a row, a shared string."""
    if member.startswith("xl/worksheets/") and member.endswith(".xml"):
        return b"row"
    if member == "xl/sharedStrings.xml":
        return b"si"
    return None


class _CheckedZip(zipfile.ZipFile):
    """The workbook's zip, each member read through :class:`_CheckedMember`."""

    def __init__(self, file: IO[bytes], filename: str, max_uncompressed: int) -> None:
        super().__init__(file)
        self.upload_name = filename
        self.max_uncompressed = max_uncompressed

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> Any:
        raw = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return raw
        member = name.filename if isinstance(name, zipfile.ZipInfo) else str(name)
        tag = _record_tag(member)
        cap = self.max_uncompressed if tag or not member.endswith((".xml", ".rels")) else MAX_OTHER_XML
        return _CheckedMember(raw, self.upload_name, member, cap, tag)


class _CheckedMember:
    """A member's inflated bytes, refused past ``cap`` whatever its header said, and — for sheets
    and shared strings — refused when one row or string runs past :data:`MAX_RECORD_XML` bytes
    (openpyxl builds each row's element tree whole: one row of millions of cells is gigabytes).

    Row tags are found in the bytes as they stream by; CDATA and comments, which Excel never writes
    in these parts, could hide a fake tag, so they are refused.
    """

    def __init__(self, raw: IO[bytes], filename: str, member: str, cap: int, tag: bytes | None) -> None:
        self.raw = raw
        self.filename = filename
        self.member = member
        self.cap = cap
        self.read_bytes = 0
        self.tag = re.compile(rb"<(?:/)?(?:[A-Za-z_][\w.\-]*:)?(" + tag + rb"|sheetData)[\s/>]") if tag else None
        self.inside = tag == b"si"  # sheets: only rows inside <sheetData> count
        self.since = 0  # bytes since the last row tag
        self.tail = b""

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self.read(1 << 16):
                parts.append(chunk)
            return b"".join(parts)
        data = self.raw.read(n)
        self.read_bytes += len(data)
        if self.read_bytes > self.cap:
            raise _too_large(self.filename, "uncompressed_size",
                             f"{self.member} unpacks to more than {self.cap} bytes", self.cap, self.read_bytes,
                             self.member)
        if self.tag is not None and data:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        window = self.tail + data
        if b"<![CDATA[" in window or b"<!--" in window:
            raise ValidationFailed(
                f"'{self.filename}' has XML that spreadsheet programs do not write (CDATA or comments in "
                f"{self.member}).", details={"file": self.filename, "problem": "unreadable"})
        last = None
        for m in self.tag.finditer(window) if self.tag else ():
            if m.start() < len(self.tail) and m.end() <= len(self.tail):
                continue  # seen with the previous chunk
            last = m
            if m.group(1) == b"sheetData":  # <sheetData> opens; </sheetData> and <sheetData/> close
                self.inside = window[m.start() + 1] != ord("/") and not m.group(0).endswith(b"/")
        if last is not None:
            self.since = len(window) - last.start()
        else:
            self.since += len(data)
        if self.inside and self.since > MAX_RECORD_XML:
            what = "one row" if self.tag and b"row" in self.tag.pattern else "one shared string"
            raise _too_large(self.filename, "record_size",
                             f"{what} of {self.member} takes more than {MAX_RECORD_XML} bytes",
                             MAX_RECORD_XML, self.since, self.member)
        self.tail = window[-64:]

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _CheckedMember:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readable(self) -> bool:
        return True


# --- rows to orders --------------------------------------------------------------------------------


class _GroupRefused(Exception):
    """An order with a bad row; its errors are already recorded."""


def _order(order_no: str, group: list[tuple[int, dict[str, Any]]], file: ImportFile, now: datetime) -> IntakeOrder:
    first_row, first = group[0]
    bad_rows: dict[int, _RowProblem] = {}
    lines: list[OrderLine] = []
    head: dict[str, Any] = {}
    try:
        head = _order_fields(first, file)
    except _RowProblem as exc:
        bad_rows[first_row] = exc
    for n, cells in group:
        try:
            lines.append(_line(cells, file.known_skus))
            if n != first_row:
                _check_consistent(first, cells)
        except _RowProblem as exc:
            bad_rows.setdefault(n, exc)
    if not bad_rows and head.get("total") is None:
        total = sum(line.qty * line.unit_price_fen for line in lines)
        if total > MAX_FEN:
            bad_rows[first_row] = _RowProblem("total_too_large", "total", "",
                                              "the lines add up to more than the allowed maximum")
        head["total"] = total
    if bad_rows:
        rows = sorted(bad_rows)
        for n, _ in group:
            problem = bad_rows.get(n)
            if problem is not None:
                file.errors.append(RowError(n, str(problem), problem.code, problem.details))
            else:
                file.errors.append(RowError(
                    n, f"Order {order_no} not imported because row(s) {', '.join(map(str, rows))} have errors.",
                    "order_refused", {"order_no": order_no, "rows": rows}))
        raise _GroupRefused
    created = head["created_at"] or now
    return IntakeOrder(
        channel=file.channel,
        channel_order_no=order_no,
        status=head["status"],
        recipient=head["recipient"],
        lines=lines,
        total_fen=head["total"],
        created_at=created,
        channel_updated_at=created,
        paid_at=None,
        ship_by=head["ship_by"],
        custom_packaging=head["custom_packaging"],
        buyer_note=head["buyer_note"],
        seller_note=head["seller_note"],
        message_id="",
        extra={"source_file": file.filename, "rows": [n for n, _ in group]},
    )


def _cell_text(value: Any) -> str:
    """A cell as text; Excel numbers like 13800138000.0 become '13800138000'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _need(cells: dict[str, Any], key: str) -> str:
    text = _cell_text(cells.get(key))
    if not text and key not in _MAY_BE_EMPTY:
        raise _RowProblem("empty", key, "", "is empty")
    return text


def _recipient(cells: dict[str, Any]) -> Recipient:
    """The recipient, from address parts or from one whole-address cell (淘宝's 收货地址)."""
    postcode = _cell_text(cells.get("postcode"))
    if "province" in cells or "full_address" not in cells:
        province, city, district = _need(cells, "province"), _need(cells, "city"), _need(cells, "district")
        address = _need(cells, "address")
    else:
        whole = _need(cells, "full_address")
        parts = split_address(whole)
        if parts is None:
            raise _RowProblem("bad_address", "full_address", whole,
                              "cannot be split into province, city and district")
        province, city, district, address, code = parts
        postcode = postcode or code
    street = _cell_text(cells.get("street"))
    if street and not address.startswith(street):
        address = street + address
    return Recipient(name=_need(cells, "name"), phone=_need(cells, "phone"), province=province, city=city,
                     district=district, address=address, postcode=postcode)


def _order_fields(cells: dict[str, Any], file: ImportFile) -> dict[str, Any]:
    recipient = _recipient(cells)
    status_text = _cell_text(cells.get("status"))
    word = status_text.lower().replace(",", "，")
    if word not in file._statuses:
        raise _RowProblem("bad_status", "status", status_text,
                          "unknown status; use 待发货/已付款/paid, 待付款/unpaid or 已取消/cancelled")
    status = file._statuses[word]
    if status is None:
        raise _RowProblem("status_done", "status", status_text,
                          "the platform already shipped or finished this order; not imported")
    total_text = _cell_text(cells.get("total"))
    return {
        "recipient": recipient,
        "status": status,
        "total": _money(cells.get("total"), "total") if total_text else None,
        "created_at": _time(cells.get("created_at"), "created_at"),
        "ship_by": _time(cells.get("ship_by"), "ship_by"),
        "custom_packaging": _flag(cells.get("custom_packaging"), "custom_packaging"),
        "buyer_note": _cell_text(cells.get("buyer_note")),
        "seller_note": _cell_text(cells.get("seller_note")),
    }


def _check_consistent(first: dict[str, Any], cells: dict[str, Any]) -> None:
    """A later row of the same order may leave order columns empty, but must not contradict row one."""
    for key in ORDER_LEVEL:
        if key not in cells:
            continue
        text = _cell_text(cells[key])
        if text and text != _cell_text(first.get(key)):
            raise _RowProblem("inconsistent", key, text, "differs from the order's first row",
                              first=_cell_text(first.get(key))[:200])


def _line(cells: dict[str, Any], known_skus: frozenset[str] | None) -> OrderLine:
    sku = _need(cells, "sku")
    if known_skus is not None and sku not in known_skus:
        # Never an order without a bin: a code the catalogue does not know is fixed in the sheet
        # (docs/import.md says why a row error rather than a hold).
        raise _RowProblem("unknown_sku", "sku", sku, "is not in the product catalogue")
    name = _cell_text(cells.get("item_name")) or sku
    spec = _cell_text(cells.get("item_spec"))
    if spec and spec not in name:
        name = f"{name} {spec}"
    qty_raw = cells.get("qty")
    if isinstance(qty_raw, float) and qty_raw.is_integer():
        qty_raw = int(qty_raw)
    try:
        qty = to_qty(_cell_text(qty_raw) if not isinstance(qty_raw, int) else qty_raw, "qty")
    except ValidationFailed:
        raise _RowProblem("bad_qty", "qty", qty_raw, "is not a whole number from 1 to 100000") from None
    if _cell_text(cells.get("unit_price")):
        price = _money(cells.get("unit_price"), "unit_price")
    elif _cell_text(cells.get("line_total")):
        price = _money(cells.get("line_total"), "line_total") // qty  # the order's total says what was paid
    elif "unit_price" in cells:
        raise _RowProblem("empty", "unit_price", "", "is empty")
    else:
        price = 0  # only an order amount: the order's total is what counts
    extra: dict[str, Any] = {}
    barcode = _cell_text(cells.get("barcode"))
    if barcode and _LINE_BARCODES:
        extra["barcodes"] = {barcode: 1}
    return OrderLine(sku=sku, name=name, qty=qty, unit_price_fen=price,
                     is_gift=_flag(cells.get("is_gift"), "is_gift"), **extra)


def _money(value: Any, key: str) -> int:
    """Yuan → fen. XLSX numbers arrive as floats; their shortest repr is what Excel showed."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif not isinstance(value, Decimal | int) or isinstance(value, bool):
        value = _cell_text(value).lstrip("¥￥")
    if value == "":
        raise _RowProblem("empty", key, "", "is empty")
    try:
        return yuan_text_to_fen(value, key)
    except ValidationFailed:
        raise _RowProblem("bad_money", key, value, "is not an amount in yuan like 19.90") from None


def _time(value: Any, key: str) -> datetime | None:
    if value is None or _cell_text(value) == "":
        return None
    try:
        return to_time(value if isinstance(value, datetime | date) else _cell_text(value), key)
    except ValidationFailed:
        raise _RowProblem("bad_time", key, value, "is not a time like 2026-02-22 10:15") from None


def _flag(value: Any, key: str) -> bool:
    try:
        return to_flag(_cell_text(value) if not isinstance(value, bool) else value, key)
    except ValidationFailed:
        raise _RowProblem("bad_flag", key, value, "is not yes/no (是/否)") from None

