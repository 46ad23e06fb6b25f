"""Reads our ZPL back: ``^GFA`` graphics decompressed into a page bitmap, barcodes as boxes.

An independent inverse of the ASCII compression (written from the ZPL manual's rules, not from
the encoder), so a test can check that the graphic is exactly what was drawn, that it stays on the
label, and that no text or rule lies inside a barcode or its quiet zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import Image

from printing.barcodes import code128_pattern, qr_modules


def _counts(text: str) -> tuple[int, int]:
    """Repeat count at the start of ``text``: (count, characters used); count 1 when none."""
    n = used = 0
    while used < len(text) and ("G" <= text[used] <= "Y" or "g" <= text[used] <= "z"):
        ch = text[used]
        n += ord(ch) - ord("G") + 1 if ch <= "Y" else 20 * (ord(ch) - ord("g") + 1)
        used += 1
    return (n or 1), used


def decompress(data: str, width_bytes: int, total: int) -> bytes:
    rows: list[str] = []
    row = ""
    i = 0
    while i < len(data):
        n, used = _counts(data[i:])
        i += used
        ch = data[i]
        i += 1
        if ch == ",":
            row = row.ljust(2 * width_bytes, "0")
        elif ch == "!":
            row = row.ljust(2 * width_bytes, "F")
        elif ch == ":":
            row = rows[-1]
        else:
            row += ch * n
        if len(row) >= 2 * width_bytes:
            assert len(row) == 2 * width_bytes, "a row overran its width"
            rows.append(row)
            row = ""
    assert row == "", "data ended inside a row"
    out = bytes.fromhex("".join(rows))
    assert len(out) == total, f"graphic has {len(out)} bytes, header says {total}"
    return out


@dataclass(frozen=True)
class Symbol:
    kind: str  # "code128" or "qr"
    data: str
    x: int
    y: int
    w: int
    h: int
    module: int


@dataclass
class Label:
    pw: int
    ll: int
    image: Image.Image  # "1": black (0) = printed
    symbols: list[Symbol]
    header: str


_FIELD = re.compile(r"\^FO(\d+),(\d+)(\^GFA,(\d+),(\d+),(\d+),([^\^]*)|\^BQN,2,(\d+)\^FDMA,([^\^]*))\^FS")
_BC = re.compile(r"\^BY(\d+)\^FO(\d+),(\d+)\^BCN,(\d+),N,N,N,A\^FD([^\^]*)\^FS")


def read(zpl: str) -> list[Label]:
    labels = []
    for body in re.findall(r"\^XA(.*?)\^XZ", zpl, re.S):
        pw = int(re.search(r"\^PW(\d+)", body).group(1))  # type: ignore[union-attr]
        ll = int(re.search(r"\^LL(\d+)", body).group(1))  # type: ignore[union-attr]
        page = Image.new("1", (pw, ll), 1)
        symbols = []
        for m in _FIELD.finditer(body):
            x, y = int(m.group(1)), int(m.group(2))
            if m.group(4):
                total, wb = int(m.group(4)), int(m.group(6))
                raw = decompress(m.group(7), wb, total)
                h = total // wb
                img = Image.frombytes("1", (wb * 8, h), bytes(b ^ 0xFF for b in raw))
                assert x + wb * 8 <= pw + 7 and y + h <= ll, "graphic off the label"
                page.paste(img, (x, y))
            else:
                mag, data = int(m.group(8)), m.group(9)
                side = mag * qr_modules(data)
                symbols.append(Symbol("qr", data, x, y, side, side, mag))
        for m in _BC.finditer(body):
            module, x, y, h, data = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)
            symbols.append(Symbol("code128", data, x, y, module * len(code128_pattern(data)), h, module))
        labels.append(Label(pw, ll, page, symbols, body.split("\n", 1)[0]))
    return labels


def ink_in(label: Label, box: tuple[int, int, int, int]) -> int:
    """Printed dots of the graphic inside (x0, y0, x1, y1), clipped to the label."""
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(label.pw, box[2]), min(label.ll, box[3])
    if x1 <= x0 or y1 <= y0:
        return 0
    region = label.image.crop((x0, y0, x1, y1))
    return int(region.convert("L").histogram()[0])
