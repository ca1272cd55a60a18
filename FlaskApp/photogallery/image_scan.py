"""Walk an image file's structure without decoding it: size, frames, metadata, trailing bytes.

Pillow reads what it needs and skips the rest. This walk looks at every chunk, segment or block
header (64 KB of the file at a time, never the pixels), so an upload claiming 60,000 x 60,000
pixels, holding thousands of frames, megabytes of text or another file after the image is seen
before anything is decoded. JPEG, PNG, GIF and WebP; HEIC is left to Pillow (pillow-heif).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

# A real file has a few thousand pieces (PNG chunks, GIF sub-blocks, JPEG markers): a 50 MB GIF
# of 255-byte sub-blocks has 200,000. Millions of 1-byte ones only exist to make a walk slow.
MAX_PIECES = 500_000
# Under glibc's malloc each read this size reuses freed memory; from 128 KB on (the fixed mmap
# threshold Deploy/bin/photos-web sets) it would be fresh pages: a 3 MB JPEG's walk, 1,000 faults.
_WINDOW = 64 << 10
_INFLATE_AT_MOST = 64 << 20  # to count a compressed text's size, never inflate more than this


class Damaged(Exception):
    """The structure is broken or absurd; the message says how, for the person who sent it."""


@dataclass(frozen=True)
class Layout:
    """What the file's structure declares."""

    width: int
    height: int
    frames: int = 1
    metadata_bytes: int = 0  # EXIF, XMP, ICC, text, comments (PNG text decompressed)
    trailing_bytes: int = 0  # after the image's end, not a known camera addition
    multi_scan: bool = False  # JPEG (progressive): decoding holds every full-size coefficient
    components: int = 3  # JPEG colour components


def scan(fileobj: BinaryIO, content_type: str, *, metadata_limit: int) -> Layout:
    """The layout of a JPEG, PNG, GIF or WebP file; raise Damaged when it cannot be walked.

    The walk stops early once the metadata passes ``metadata_limit`` (the caller refuses it).
    """
    walk = {
        "image/jpeg": _jpeg,
        "image/png": _png,
        "image/gif": _gif,
        "image/webp": _webp,
    }[content_type]
    stream = _Stream(fileobj)
    try:
        return walk(stream, metadata_limit)
    finally:
        fileobj.seek(0)


class _Stream:
    """Exact reads and skips over a seekable file, through a 64 KB window."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self.file = fileobj
        self.size = fileobj.seek(0, 2)
        self.pos = 0
        self.pieces = 0
        self._window = b""
        self._start = 0

    def read(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise Damaged("ends before the image does (truncated)")
        offset = self.pos - self._start
        if offset < 0 or offset + n > len(self._window):
            self.file.seek(self.pos)
            self._window, self._start, offset = self.file.read(max(n, _WINDOW)), self.pos, 0
        self.pos += n
        return self._window[offset : offset + n]

    def skip(self, n: int) -> None:
        if self.pos + n > self.size:
            raise Damaged("ends before the image does (truncated)")
        self.pos += n

    def byte(self) -> int:
        return self.read(1)[0]

    def at_end(self) -> bool:
        return self.pos >= self.size

    def count_piece(self) -> None:
        self.pieces += 1
        if self.pieces > MAX_PIECES:
            raise Damaged(f"is built of more than {MAX_PIECES:,} pieces; save it again")

    def search(self, pattern: re.Pattern[bytes]) -> int | None:
        """Move to the next match of ``pattern`` (at most 2 bytes long); None at the end."""
        while self.pos < self.size:
            self.file.seek(self.pos)
            window = self.file.read(_WINDOW + 1)
            match = pattern.search(window)
            if match:
                self.pos += match.start()
                return self.pos
            self.pos += max(1, len(window) - 1)  # a match may straddle two windows
            self.count_piece()
        return None


# --- PNG -------------------------------------------------------------------------------------

_PNG_IMAGE_DATA = {b"IDAT", b"fdAT"}
_PNG_STRUCTURE = {b"IHDR", b"PLTE", b"tRNS", b"acTL", b"fcTL", b"IEND"}
_PNG_COMPRESSED = {b"zTXt", b"iCCP"}


def _png(s: _Stream, metadata_limit: int) -> Layout:
    s.skip(8)
    length, kind = struct.unpack(">I4s", s.read(8))
    if kind != b"IHDR" or length != 13:
        raise Damaged("has no PNG header")
    width, height = struct.unpack(">II", s.read(8))
    s.skip(length - 8 + 4)
    frames = metadata = 0
    while True:
        s.count_piece()
        length, kind = struct.unpack(">I4s", s.read(8))
        if length > 0x7FFFFFFF:
            raise Damaged("has an impossible PNG chunk length")
        if kind == b"IEND":
            s.skip(length + 4)
            break
        frames += kind == b"fcTL"
        if kind in _PNG_IMAGE_DATA or kind in _PNG_STRUCTURE:
            s.skip(length + 4)
            continue
        metadata += 12 + _png_text_size(s, kind, length, metadata_limit - metadata)
        s.skip(4)  # CRC
        if metadata > metadata_limit:
            break
    return Layout(width, height, max(1, frames), metadata, _unexplained(s, s.size - s.pos))


def _png_text_size(s: _Stream, kind: bytes, length: int, room: int) -> int:
    """The size a metadata chunk takes once read: compressed text and ICC profiles inflated."""
    compressed = kind in _PNG_COMPRESSED or kind == b"iTXt"
    if not compressed or length > room:
        s.skip(length)
        return length
    data = s.read(length)
    if kind == b"iTXt":
        keyword_end = data.find(b"\0")
        if keyword_end < 0 or data[keyword_end + 1 : keyword_end + 2] != b"\1":
            return length  # uncompressed international text
        # keyword, NUL, flag, method, language NUL, translated keyword NUL, then the text
        parts = data[keyword_end + 3 :].split(b"\0", 2)
        body = parts[2] if len(parts) == 3 else b""
    else:
        name_end = data.find(b"\0")
        body = data[name_end + 2 :] if name_end >= 0 else b""
    inflater = zlib.decompressobj()
    try:
        inflated = len(inflater.decompress(body, min(max(1, room), _INFLATE_AT_MOST) + 1))
    except zlib.error:
        return length  # Pillow ignores broken text; it counts at its stored size
    return max(length, inflated)


# --- GIF -------------------------------------------------------------------------------------

_GIF_METADATA = {0x01, 0xFE, 0xFF}  # plain text, comment, application (XMP, loops)


def _gif(s: _Stream, metadata_limit: int) -> Layout:
    s.skip(6)
    width, height, flags = struct.unpack("<HHB", s.read(5))
    s.skip(2 + _gif_palette(flags))
    frames = metadata = 0
    while not s.at_end():
        s.count_piece()
        block = s.byte()
        if block == 0x3B:  # trailer
            break
        if block == 0x21:
            label = s.byte()
            size = _gif_sub_blocks(s)
            if label in _GIF_METADATA:
                metadata += size
                if metadata > metadata_limit:
                    break
        elif block == 0x2C:
            frames += 1
            left, top, w, h, flags = struct.unpack("<HHHHB", s.read(9))
            # Pillow grows the canvas to hold a frame that reaches outside it.
            width, height = max(width, left + w), max(height, top + h)
            s.skip(_gif_palette(flags) + 1)
            _gif_sub_blocks(s)
        else:
            raise Damaged("has an unknown GIF block")
    if frames == 0 and metadata <= metadata_limit:
        raise Damaged("holds no picture")
    return Layout(width, height, max(1, frames), metadata, _unexplained(s, s.size - s.pos))


def _gif_palette(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _gif_sub_blocks(s: _Stream) -> int:
    """Skip a chain of sub-blocks; their total size. A file may end after a complete chain."""
    total = 0
    while True:
        s.count_piece()
        n = s.byte()
        if n == 0:
            return total
        s.skip(n)
        total += n


# --- JPEG ------------------------------------------------------------------------------------

# After a scan's entropy-coded data, the next marker: 0xFF then anything but a stuffed 0x00,
# a restart marker or another fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


def _jpeg(s: _Stream, metadata_limit: int) -> Layout:
    s.skip(2)
    frame: tuple[int, int, int, bool] | None = None
    metadata = scans = 0
    while True:
        s.count_piece()
        if s.at_end():  # no EOI: Pillow decides whether the scan data is complete
            break
        if s.byte() != 0xFF:  # stray bytes between segments: decoders skip them, so do we
            if s.search(_NEXT_MARKER) is None:
                break
            continue
        marker = s.byte()
        if marker == 0xFF or 0xD0 <= marker <= 0xD8 or marker == 0x01:
            s.pos -= marker == 0xFF  # a fill byte: read it again as the marker's 0xFF
            continue
        if marker == 0xD9:  # end of image
            break
        length = struct.unpack(">H", s.read(2))[0]
        if length < 2:
            raise Damaged("has an impossible JPEG segment length")
        if marker in _SOF and frame is None:
            _precision, h, w, components = struct.unpack(">BHHB", s.read(6))
            frame = (w, h, components, marker in _PROGRESSIVE)
            s.skip(length - 8)
        else:
            s.skip(length - 2)
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata += length + 2
            if metadata > metadata_limit:
                break
        if marker == 0xDA:
            scans += 1
            if s.search(_NEXT_MARKER) is None:
                break
    if frame is None:
        if metadata > metadata_limit:
            return Layout(0, 0, metadata_bytes=metadata)
        raise Damaged("has no JPEG frame header")
    w, h, components, progressive = frame
    trailing = _jpeg_trailer(s)
    return Layout(w, h, 1, metadata, trailing, progressive or scans > 1, components)


def _jpeg_trailer(s: _Stream) -> int:
    """Bytes after the end of the image that no camera explains.

    Cameras and phones do add some: more JPEGs (MPF: depth maps, HDR gain maps), a video
    (Google's motion photos, an MP4 box) or Samsung's trailer, which ends with ``SEFT``.
    """
    n = s.size - s.pos
    if n == 0:
        return 0
    head = s.read(min(n, 12))
    s.pos = s.size - min(n, 4)
    tail = s.read(min(n, 4))
    if head.startswith(b"\xff\xd8\xff") or head[4:8] == b"ftyp" or tail == b"SEFT":
        return 0
    s.pos = s.size - n
    return _unexplained(s, n)


def _unexplained(s: _Stream, n: int) -> int:
    """``n`` trailing bytes, or 0 when they are padding (some writers pad with zeros)."""
    if n <= 0 or n > 4096:
        return max(0, n)
    return 0 if s.read(n).strip(b"\0") == b"" else n


# --- WebP ------------------------------------------------------------------------------------

_WEBP_IMAGE = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def _webp(s: _Stream, metadata_limit: int) -> Layout:
    s.skip(4)
    riff_end = 8 + struct.unpack("<I", s.read(4))[0]
    s.skip(4)
    if riff_end > s.size:
        raise Damaged("ends before the image does (truncated)")
    size: tuple[int, int] | None = None
    frames = metadata = 0
    while s.pos + 8 <= riff_end:
        s.count_piece()
        kind, length = struct.unpack("<4sI", s.read(8))
        end = s.pos + length + (length & 1)
        if end > riff_end:
            raise Damaged("has a WebP chunk longer than the file")
        if kind == b"ANMF":
            frames += 1
        elif size is None and kind in (b"VP8X", b"VP8 ", b"VP8L"):
            size = _webp_size(kind, s.read(min(length, 10)))
        elif kind not in _WEBP_IMAGE:
            metadata += length + 8
            if metadata > metadata_limit:
                break
        s.pos = end
    if size is None:
        if metadata > metadata_limit:
            return Layout(0, 0, metadata_bytes=metadata)
        raise Damaged("has no WebP image")
    s.pos = min(riff_end, s.size)
    return Layout(*size, max(1, frames), metadata, _unexplained(s, s.size - riff_end))


def _webp_size(kind: bytes, head: bytes) -> tuple[int, int]:
    if kind == b"VP8X" and len(head) >= 10:
        w, h = int.from_bytes(head[4:7], "little"), int.from_bytes(head[7:10], "little")
        return w + 1, h + 1
    if kind == b"VP8L" and len(head) >= 5 and head[0] == 0x2F:
        bits = int.from_bytes(head[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and len(head) >= 10 and head[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[6:10])
        return w & 0x3FFF, h & 0x3FFF
    raise Damaged("has a broken WebP header")
