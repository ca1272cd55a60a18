"""Builders of hostile and broken files, made in code at test time (nothing binary is committed).

Each returns bytes. Most start from a small real image Pillow writes, then add, cut or rewrite
the parts of its container (PNG chunks, JPEG segments, GIF blocks, WebP chunks) a test needs.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def image(fmt: str = "PNG", size: tuple[int, int] = (8, 6), mode: str = "RGB", **save) -> bytes:
    """A small real image, a gradient so that it compresses to something."""
    img = Image.linear_gradient("L").resize(size).convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


# --- PNG -------------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with(*chunks: bytes, after_end: bytes = b"", base: bytes | None = None) -> bytes:
    """A real PNG with ``chunks`` inserted before its image data, and bytes after IEND."""
    data = base or image("PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(chunks) + data[at:] + after_end


def png_header(width: int, height: int, *, color_type: int = 2) -> bytes:
    """A PNG that claims ``width`` x ``height`` with a few bytes of image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    row = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", row)
        + png_chunk(b"IEND", b"")
    )


def png_text(size: int) -> bytes:
    return png_chunk(b"tEXt", b"Comment\0" + b"A" * size)


def png_ztxt_bomb(inflated: int) -> bytes:
    """A zTXt chunk of a few kB that inflates to ``inflated`` bytes of text."""
    return png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * inflated, 9))


def png_itxt_bomb(inflated: int) -> bytes:
    body = b"XML:com.adobe.xmp\0\1\0\0\0" + zlib.compress(b" " * inflated, 9)
    return png_chunk(b"iTXt", body)


def png_iccp_bomb(inflated: int) -> bytes:
    return png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * inflated, 9))


def apng(frames: int) -> bytes:
    """An animated PNG of ``frames`` 2x2 frames, each a different colour."""
    first, *rest = (Image.new("RGB", (2, 2), (i % 256, i // 256 % 256, 7)) for i in range(frames))
    buf = io.BytesIO()
    first.save(buf, "PNG", save_all=True, append_images=rest)
    return buf.getvalue()


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: int(len(data) * fraction)]


def png_bad_crc() -> bytes:
    data = bytearray(image("PNG"))
    at = data.index(b"IDAT") + 4
    data[at] ^= 0xFF  # the first byte of the image data: its chunk's CRC no longer matches
    return bytes(data)


def png_garbage_idat() -> bytes:
    base = image("PNG", (64, 64))
    head = base[: base.index(b"IDAT") - 4]
    return head + png_chunk(b"IDAT", b"not zlib at all" * 20) + png_chunk(b"IEND", b"")


# --- JPEG ------------------------------------------------------------------------------------


def jpeg_segment(marker: int, data: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data


def jpeg_with(*segments: bytes, after_end: bytes = b"", base: bytes | None = None) -> bytes:
    """A real JPEG with ``segments`` right after SOI, and bytes after EOI."""
    data = base or image("JPEG", (16, 12))
    return data[:2] + b"".join(segments) + data[2:] + after_end


def jpeg_xmp_flood(total: int) -> bytes:
    """APP1 XMP segments (64 kB each, the most one can hold) adding up to ``total`` bytes."""
    chunk = b"http://ns.adobe.com/xap/1.0/\0" + b" " * 65000
    return b"".join(jpeg_segment(0xE1, chunk) for _ in range(total // len(chunk) + 1))


def jpeg_header(width: int, height: int) -> bytes:
    """A JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(image("JPEG", (16, 12)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def exif_jpeg(exif: bytes) -> bytes:
    return jpeg_with(jpeg_segment(0xE1, b"Exif\0\0" + exif))


def exif_orientation(value: int, kind: int = 3) -> bytes:
    """A TIFF block whose IFD0 has one Orientation entry of ``value`` (type ``kind``)."""
    entry = struct.pack("<HHI", 0x0112, kind, 1) + struct.pack("<I", value)
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 0)


def exif_loop() -> bytes:
    """IFD0 points at itself as its Exif IFD and as the next IFD: a walk that never ends."""
    entry = struct.pack("<HHII", 0x8769, 4, 1, 8)
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 8)


def exif_out_of_range() -> bytes:
    """An entry whose 1,000,000 values lie far past the end of the block."""
    entry = struct.pack("<HHII", 0x010F, 2, 1_000_000, 0x7FFFFFF0)
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 0)


# --- GIF -------------------------------------------------------------------------------------


def gif_blocks_start(data: bytes) -> int:
    """Where a GIF's first block (extension or image) starts, after header and palette."""
    flags = data[10]
    return 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)


def gif_frames(frames: int) -> bytes:
    """A GIF of ``frames`` 1x1 frames: one real frame's blocks, repeated."""
    data = image("GIF", (1, 1), "P")
    start = gif_blocks_start(data)
    head, frame = data[:start], data[start:-1]
    return head + frame * frames + b";"


def gif_header(width: int, height: int) -> bytes:
    data = bytearray(image("GIF", (1, 1), "P"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def gif_comment(size: int) -> bytes:
    data = image("GIF", (4, 4), "P")
    blocks = b"".join(b"\xff" + b"C" * 255 for _ in range(size // 255 + 1))
    start = gif_blocks_start(data)
    return data[:start] + b"\x21\xfe" + blocks + b"\0" + data[start:]


def gif_js_polyglot() -> bytes:
    """The classic GIF/JavaScript polyglot: the header opens a comment, script after the end."""
    data = bytearray(image("GIF", (1, 1), "P"))
    data[6:8] = b"/*"  # the width: 10,799 pixels, and the start of a JavaScript comment
    return bytes(data) + b"*/=1;alert(document.domain);"


def gif_unknown_block() -> bytes:
    data = image("GIF", (4, 4), "P")
    start = gif_blocks_start(data)
    return data[:start] + b"\x99garbage" + data[start:]


# --- WebP ------------------------------------------------------------------------------------


def webp_header(width: int, height: int) -> bytes:
    """An extended WebP whose canvas is ``width`` x ``height`` (no image data)."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def webp_frames(frames: int) -> bytes:
    first, *rest = (Image.new("RGB", (2, 2), (i % 256, i // 256 % 256, 7)) for i in range(frames))
    buf = io.BytesIO()
    first.save(buf, "WEBP", save_all=True, append_images=rest, lossless=True, method=0)
    return buf.getvalue()


def webp_after_end(extra: bytes) -> bytes:
    return image("WEBP") + extra


def webp_garbage() -> bytes:
    data = bytearray(image("WEBP", (64, 64)))
    data[30:] = b"\x55" * (len(data) - 30)
    return bytes(data)


# --- other kinds ---------------------------------------------------------------------------


def zip_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", "hello")
    return buf.getvalue()


PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script><rect width='10' height='10'/></svg>"
)
EXE = b"MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0" + b"\0" * 44 + b"\x80\0\0\0" + b"PE\0\0" + b"\0" * 64
ELF = b"\x7fELF\2\1\1\0" + b"\0" * 8 + b"\2\0\x3e\0" + b"\0" * 44
MP4 = b"\0\0\0\x18ftypisom\0\0\2\0isomiso2" + b"\0\0\0\x08free"
