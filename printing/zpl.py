"""ZPL II labels for thermal printers that take it (Zebra and the many clones on Chinese benches).

ZPL is the fast path: a few KB per label, no rasterising on the PC. Its catch is fonts — a
printer's built-in fonts have no Chinese, and downloading a CJK font to every printer is a support
headache. So Latin/digit text uses the built-in scalable font ``^A0`` and any line containing CJK is
rendered here to a 1-bit bitmap with the same embedded TrueType font the PDFs use, and sent as a
compressed ``^GFA`` graphic: the label never depends on the printer's fonts. Barcodes are the
printer's own (``^BC`` Code 128 with a 3-dot module, ``^BQ`` QR), drawn by the head at full
sharpness; the human-readable text is ours (``^BC…N`` turns the printer's off).
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from core.model import Snapshot
from printing.common import carrier_name, item_summary, mask_phone
from printing.fonts import cjk_font
from printing.label import LABEL_SIZES, _flags

DPMM = 8  # 203 dpi


@lru_cache(maxsize=16)
def _pil_font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    choice = cjk_font()
    if choice.path is None:
        return ImageFont.load_default()
    return ImageFont.truetype(str(choice.path), px, index=0)


def _hex_row_compress(row: str) -> str:
    """ZPL ASCII compression of one hex row: runs as G–Y (1–19) and g–z (20–400) counts,
    trailing zeros as ','."""
    stripped = row.rstrip("0")
    if not stripped:
        return ","
    out: list[str] = []
    i = 0
    while i < len(stripped):
        ch = stripped[i]
        j = i
        while j < len(stripped) and stripped[j] == ch:
            j += 1
        n = j - i
        if n == 1:
            out.append(ch)
        else:
            code = ""
            while n >= 400:
                code += "z"
                n -= 400
            if n >= 20:
                code += chr(ord("g") + n // 20 - 1)
                n %= 20
            if n:
                code += chr(ord("G") + n - 1)
            out.append(code + ch)
        i = j
    return "".join(out) + ("," if len(stripped) < len(row) else "")


def bitmap_gfa(img: Image.Image) -> str:
    """A 1-bit PIL image as a compressed ``^GFA`` command (black = printed)."""
    mono = img.convert("1")
    width_bytes = (mono.width + 7) // 8
    # PIL "1" mode: 1 = white; ZPL: 1 = black. Invert while packing.
    raw = bytes(b ^ 0xFF for b in mono.tobytes())
    rows = [raw[r * width_bytes : (r + 1) * width_bytes].hex().upper() for r in range(mono.height)]
    out: list[str] = []
    prev = None
    for row in rows:
        out.append(":" if row == prev else _hex_row_compress(row))
        prev = row
    total = width_bytes * mono.height
    return f"^GFA,{total},{total},{width_bytes},{''.join(out)}"


@lru_cache(maxsize=65536)
def _char_px(ch: str, px: int) -> float:
    return float(_pil_font(px).getlength(ch))


def _text_lines(text: str, px: int, width: int, max_lines: int) -> list[str]:
    font = _pil_font(px)
    lines: list[str] = []
    line = ""
    line_w = 0.0
    for ch in text:
        cw = _char_px(ch, px)
        if line_w + cw > width:
            lines.append(line)
            line, line_w = ch, cw
            if len(lines) == max_lines:
                break
        else:
            line += ch
            line_w += cw
    else:
        lines.append(line)
    if len(lines) > max_lines or (len(lines) == max_lines and "".join(lines) != text):
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


@lru_cache(maxsize=1024)
def _text(x: int, y: int, text: str, px: int, width: int, max_lines: int = 1) -> tuple[str, int]:
    """ZPL for ``text`` at dot position (x, y); CJK as a bitmap. Returns (zpl, height in dots)."""
    if text.isascii():
        lines = [text[i : i + max(1, width * 2 // px)] for i in range(0, len(text), max(1, width * 2 // px))]
        lines = lines[:max_lines] or [""]
        zpl = "".join(
            f"^FO{x},{y + i * (px + 4)}^A0N,{px},{px}^FD{_fd(line)}^FS" for i, line in enumerate(lines)
        )
        return zpl, len(lines) * (px + 4)
    lines = _text_lines(text, px, width, max_lines)
    font = _pil_font(px)
    h = len(lines) * (px + 4)
    img = Image.new("L", (width, h), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((0, i * (px + 4)), line, font=font, fill=0)
    img = img.point(lambda v: 0 if v < 140 else 255)
    return f"^FO{x},{y}{bitmap_gfa(img)}^FS", h


def _fd(text: str) -> str:
    """Field data with ZPL's control characters neutralised (^ and ~ would start commands)."""
    return text.replace("^", " ").replace("~", " ")


def label_zpl(order: Snapshot, size: str = "100x150") -> str:
    """A complete ZPL label (``^XA … ^XZ``) for ``order`` at 203 dpi in ``size``."""
    if size not in LABEL_SIZES:
        raise ValueError(f"Unknown label size {size!r}; use one of {', '.join(LABEL_SIZES)}.")
    w_mm, h_mm = LABEL_SIZES[size]
    pw, ll = int(w_mm * DPMM), int(h_mm * DPMM)
    m = 3 * DPMM
    inner = pw - 2 * m
    out = ["^XA^CI28^LH0,0", f"^PW{pw}^LL{ll}"]
    y = m
    zpl, h = _text(m, y, carrier_name(order.get("carrier")), 44, inner // 2)
    out.append(zpl)
    fx = pw - m
    for text, inverse in reversed(_flags(order)):
        z, _ = _text(0, 0, text, 28, 8 * 28)
        tw = _pil_font(28).getlength(text) if not text.isascii() else len(text) * 18
        bw = int(tw) + 16
        fx -= bw
        out.append(f"^FO{fx},{y}^GB{bw},40,{40 if inverse else 3}^FS")
        out.append(z.replace("^FO0,0", f"^FO{fx + 8},{y + 6}", 1) + ("^FR" if inverse else ""))
        if inverse:  # reverse-print the text over the filled box
            out[-1] = out[-1].replace(f"^FO{fx + 8},{y + 6}", f"^FO{fx + 8},{y + 6}^FR", 1)
        fx -= 8
    y += 52
    out.append(f"^FO{m},{y}^GB{inner},3,3^FS")
    y += 12
    waybill = order.get("waybill_no") or ""
    if waybill:
        bar_h = 18 * DPMM if size != "100x180" else 16 * DPMM
        out.append(f"^BY3,3,{bar_h}^FO{m + 20},{y}^BCN,{bar_h},N,N,N,A^FD{_fd(waybill)}^FS")
        y += bar_h + 8
        out.append(f"^FO{m},{y}^FB{inner},1,0,C^A0N,36,36^FD{_fd(waybill)}^FS")
        y += 44
    out.append(f"^FO{m},{y}^GB{inner},3,3^FS")
    y += 12
    r = order["recipient"]
    zpl, h = _text(m, y, f"收 {r['name']}  {mask_phone(r['phone']) or '无电话'}", 36, inner)
    out.append(zpl)
    y += h + 4
    address = f"{r['province']}{r['city']}{r['district']}{r['address']}"
    zpl, h = _text(m, y, address, 32, inner, 4)
    out.append(zpl)
    y += h + 8
    out.append(f"^FO{m},{y}^GB{inner},2,2^FS")
    y += 10
    summary = item_summary(order["lines"], 8.0, inner / DPMM * 72 / 25.4, 2)
    zpl, h = _text(m, y, "内容：" + summary, 22, inner, 2)
    out.append(zpl)
    oid = order["order_id"]
    qr_mag = 4
    bottom = ll - m
    out.append(f"^BY2,3,{9 * DPMM}^FO{m},{bottom - 14 * DPMM}^BCN,{9 * DPMM},N,N,N,A^FD{_fd(oid)}^FS")
    out.append(f"^FO{m},{bottom - 4 * DPMM}^A0N,24,24^FD{_fd(oid)}^FS")
    out.append(f"^FO{pw - m - 25 * qr_mag - 20},{bottom - 28 * DPMM}^BQN,2,{qr_mag}^FDMA,{_fd(oid)}^FS")
    out.append("^XZ")
    return "\n".join(out) + "\n"
