"""The bad-input corpus: every case an upload endpoint must refuse, and how.

A case is a request body built in code (files from tests/corpus/files.py, or a raw multipart
body), the 4xx it must get and a pattern its message must match. ``decodes`` says whether the
refusal may come after decoding started; every other case is refused from its structure alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.corpus import files as f

MB = 1024 * 1024
NOT_A_PHOTO = r"is not a photo we can read \(JPEG, PNG, WebP, GIF or HEIC\)"
DAMAGED = r"is damaged and could not be read"
METADATA = r"has more than 1 MB of metadata \(EXIF, XMP, ICC profile or text\)"
AFTER_END = r"has \d[\d,]* bytes of something else after the end of the {} image"
NO_FILE = r"named 'file'|Choose one or more photos"
UPLOAD_MB = 3  # the corpus app's MAX_UPLOAD_MB: an oversized body stays cheap to build


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]  # the file, or the whole body when ``content_type`` is set
    message: str  # a regular expression the error message matches
    status: int = 400
    filename: str = "upload.jpg"
    content_type: str | None = None  # a raw body of this type instead of one "file" part
    fields: dict[str, str] = field(default_factory=dict)
    decodes: bool = False

    def expected(self, cleaned_name: str) -> re.Pattern[str]:
        return re.compile(self.message.replace("{name}", re.escape(cleaned_name)))


def _file(id, build, message, filename="upload.jpg", **kw) -> Case:
    return Case(id, build, "{name} " + message, filename=filename, **kw)


def _multipart(*parts: tuple[str | None, str | None, bytes], boundary: str = "XyZ", close=True):
    """A multipart body of (name, filename, data) parts, built by hand to break its framing."""
    body = b""
    for name, filename, data in parts:
        disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    return body + (f"--{boundary}--\r\n".encode() if close else b"")


MULTIPART = "multipart/form-data; boundary=XyZ"
PNG = f.image("PNG")

WRONG_KINDS = [
    _file("pdf", lambda: f.PDF, NOT_A_PHOTO, "report.pdf"),
    _file("zip", f.zip_file, NOT_A_PHOTO, "photos.zip"),
    _file("html", lambda: f.HTML, NOT_A_PHOTO, "page.html"),
    _file("svg-with-script", lambda: f.SVG, NOT_A_PHOTO, "vector.svg"),
    _file("windows-exe", lambda: f.EXE, NOT_A_PHOTO, "setup.exe"),
    _file("linux-elf", lambda: f.ELF, NOT_A_PHOTO, "a.out"),
    _file("text", lambda: b"just some notes\n", NOT_A_PHOTO, "notes.jpg"),
    _file("empty", lambda: b"", "is empty", "empty.jpg"),
    _file("one-byte", lambda: b"\xff", NOT_A_PHOTO, "byte.jpg"),
    _file("tiff", lambda: f.image("TIFF"), NOT_A_PHOTO, "scan.tif"),
    _file("bmp", lambda: f.image("BMP"), NOT_A_PHOTO, "paint.bmp"),
    _file("mp4", lambda: f.MP4, NOT_A_PHOTO, "clip.mp4"),
    _file("gzip-of-a-jpeg", lambda: __import__("gzip").compress(f.image("JPEG")), NOT_A_PHOTO),
    _file("html-behind-jpeg-magic", lambda: b"\xff\xd8\xff" + f.HTML, DAMAGED),
]

BROKEN = [
    _file("jpeg-soi-only", lambda: b"\xff\xd8\xff", DAMAGED),
    _file("png-signature-only", lambda: PNG[:8], DAMAGED, "a.png"),
    _file(
        "jpeg-truncated",
        lambda: f.truncated(f.image("JPEG", (300, 200)), 0.4),
        DAMAGED,
        decodes=True,
    ),
    _file("png-truncated", lambda: f.truncated(f.image("PNG", (300, 200))), DAMAGED, "a.png"),
    _file("gif-truncated", lambda: f.truncated(f.image("GIF", (300, 200), "P")), DAMAGED),
    _file("webp-truncated", lambda: f.truncated(f.image("WEBP", (300, 200))), DAMAGED),
    _file("png-bad-crc", f.png_bad_crc, DAMAGED, "crc.png", decodes=True),
    _file("png-not-zlib", f.png_garbage_idat, DAMAGED, "zlib.png", decodes=True),
    _file("png-zero-width", lambda: f.png_header(0, 10), DAMAGED, "zero.png"),
    _file("gif-unknown-block", f.gif_unknown_block, DAMAGED, "odd.gif"),
    _file("webp-garbage", f.webp_garbage, DAMAGED, "noise.webp", decodes=True),
    _file("jpeg-without-frame", lambda: b"\xff\xd8\xff\xd9", DAMAGED),
]

BOMBS = [
    _file(
        "png-3.6-gigapixels",
        lambda: f.png_header(60000, 60000),
        r"is 60000×60000, 3,600 megapixels; the limit is 150",
        "bomb.png",
    ),
    _file(
        "gif-4.3-gigapixels",
        lambda: f.gif_header(65535, 65535),
        r"is 65535×65535, 4,295 megapixels; the limit is 150",
        "bomb.gif",
    ),
    _file(
        "jpeg-4.3-gigapixels",
        lambda: f.jpeg_header(65500, 65500),
        r"is 65500×65500, 4,290 megapixels; the limit is 150",
        "bomb.jpg",
    ),
    _file(
        "webp-268-megapixels",
        lambda: f.webp_header(16384, 16384),
        r"is 16384×16384, 268 megapixels; the limit is 150",
        "bomb.webp",
    ),
    _file(
        "png-over-the-decode-budget",
        lambda: f.png_header(11000, 11000),
        r"is 11000×11000, 121 megapixels; the limit for PNG is 92",
        "wide.png",
    ),
    _file(
        "webp-over-the-decode-budget",
        lambda: f.webp_header(6000, 6000),
        r"is 6000×6000, 36 megapixels; the limit for WebP is 23",
        "wide.webp",
    ),
    _file(
        "gif-1001-frames",
        lambda: f.gif_frames(1001),
        r"has 1,001 frames; the limit is 1,000",
        "long.gif",
    ),
    _file(
        "apng-1001-frames",
        lambda: f.apng(1001),
        r"has 1,001 frames; the limit is 1,000",
        "long.png",
    ),
    _file(
        "webp-1001-frames",
        lambda: f.webp_frames(1001),
        r"has 1,001 frames; the limit is 1,000",
        "long.webp",
    ),
    _file("png-megabytes-of-text", lambda: f.png_with(f.png_text(int(1.2 * MB))), METADATA),
    _file("png-ztxt-inflating-to-50-mb", lambda: f.png_with(f.png_ztxt_bomb(50 * MB)), METADATA),
    _file("png-itxt-inflating-to-50-mb", lambda: f.png_with(f.png_itxt_bomb(50 * MB)), METADATA),
    _file("png-icc-inflating-to-20-mb", lambda: f.png_with(f.png_iccp_bomb(20 * MB)), METADATA),
    _file("png-private-chunk", lambda: f.png_with(f.png_chunk(b"prVt", b"x" * MB)), METADATA),
    _file(
        "png-20k-small-text-chunks",
        lambda: f.png_with(*[f.png_chunk(b"tEXt", b"k\0" + b"v" * 60)] * 20_000),
        METADATA,
    ),
    _file("jpeg-xmp-flood", lambda: f.jpeg_with(f.jpeg_xmp_flood(int(1.1 * MB))), METADATA),
    _file(
        "jpeg-comment-flood",
        lambda: f.jpeg_with(*[f.jpeg_segment(0xFE, b"c" * 65000)] * 17),
        METADATA,
    ),
    _file("gif-comment", lambda: f.gif_comment(int(1.1 * MB)), METADATA, "note.gif"),
    _file("webp-xmp", lambda: f.image("WEBP", xmp=b"x" * int(1.1 * MB)), METADATA, "x.webp"),
]

POLYGLOTS = [
    _file("gif-javascript", f.gif_js_polyglot, AFTER_END.format("GIF"), "x.gif"),
    _file("jpeg-zip", lambda: f.jpeg_with(after_end=f.zip_file()), AFTER_END.format("JPEG")),
    _file(
        "jpeg-php",
        lambda: f.jpeg_with(after_end=b"<?php system($_GET['c']); ?>"),
        AFTER_END.format("JPEG"),
    ),
    _file("png-html-after-end", lambda: f.png_with(after_end=f.HTML), AFTER_END.format("PNG")),
    _file("webp-html-after-end", lambda: f.webp_after_end(f.HTML), AFTER_END.format("WebP")),
]

# Names are for display only (keys are generated); each must come back cleaned in the message.
HOSTILE_NAMES = [
    ("path-traversal", "../../etc/passwd", "passwd"),
    ("windows-path", "C:\\Windows\\system32\\cmd.exe", "cmd.exe"),
    ("nul-byte", "ca\x00t.jpg", "cat.jpg"),
    ("thousand-characters", "a" * 1000 + ".jpg", "a" * 255),
    ("right-to-left-override", "photo\u202egpj.exe", "photogpj.exe"),
    ("only-dots", "...", "..."),
    ("windows-reserved", "CON", "CON"),
    ("windows-reserved-with-extension", "nul.jpg", "nul.jpg"),
    ("control-characters", "a\tb\x1b[31mred\x7f.jpg", "ab[31mred.jpg"),
    ("zero-width-and-bidi", "in\u200bvoice\u2066.jpg", "invoice.jpg"),
]
NAMES = [
    Case(f"name-{id}", lambda: b"not a photo", re.escape(clean) + " " + NOT_A_PHOTO, filename=name)
    for id, name, clean in HOSTILE_NAMES
]

MULTIPART_CASES = [
    Case(
        "multipart-without-boundary",
        lambda: _multipart(("file", "a.png", PNG)),
        NO_FILE,
        content_type="multipart/form-data",
    ),
    Case(
        "multipart-wrong-boundary",
        lambda: _multipart(("file", "a.png", PNG)),
        NO_FILE,
        content_type="multipart/form-data; boundary=Other",
    ),
    Case(
        "multipart-no-closing-boundary",
        lambda: _multipart(("file", "a.png", PNG), close=False),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-part-without-name",
        lambda: _multipart((None, "a.png", PNG)),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-field-named-files",
        lambda: _multipart(("files", "a.png", PNG)),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-field-named-image",
        lambda: _multipart(("image", "a.png", PNG)),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-file-as-text-field",
        lambda: _multipart(("file", None, PNG)),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-zero-files",
        lambda: _multipart(("description", None, b"hi")),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case(
        "multipart-newline-in-filename",  # splits the part's headers: the part is lost
        lambda: _multipart(("file", "a\r\nContent-Type: text/html", PNG)),
        NO_FILE,
        content_type=MULTIPART,
    ),
    Case("multipart-garbage", lambda: b"\0\1" * 1000, NO_FILE, content_type=MULTIPART),
    Case(
        "json-instead-of-multipart",
        lambda: b'{"file": "x"}',
        NO_FILE,
        content_type="application/json",
    ),
    Case("raw-image-body", lambda: PNG, NO_FILE, content_type="image/png"),
    Case(
        "1001-parts",
        lambda: _multipart(*[("file", f"{i}.png", b"x") for i in range(1001)]),
        r"too many parts: at most 1000",
        status=413,
        content_type=MULTIPART,
    ),
    Case(
        "600-kb-description",
        lambda: _multipart(("description", None, b"d" * 600_000), ("file", "a.png", PNG)),
        r"description is longer than the 2000 characters",
        status=413,
        content_type=MULTIPART,
    ),
    Case(
        "2001-character-description",
        lambda: PNG,
        r"description is longer than 2000",
        filename="a.png",
        fields={"description": "d" * 2001},
    ),
    Case(
        "body-over-max-upload-mb",
        lambda: _multipart(("file", "a.png", b"\0" * 4 * MB)),
        rf"larger than the {UPLOAD_MB} MB allowed",
        status=413,
        content_type=MULTIPART,
    ),
]

CASES = WRONG_KINDS + BROKEN + BOMBS + POLYGLOTS + NAMES + MULTIPART_CASES


# Bad EXIF is no reason to refuse a photo (viewers show it as stored): these are accepted,
# oriented as stored, their date unknown, and must not hang or leak memory.
ACCEPTED_EXIF = {
    "orientation-9": lambda: f.exif_jpeg(f.exif_orientation(9)),
    "orientation-0": lambda: f.exif_jpeg(f.exif_orientation(0)),
    "orientation-65535": lambda: f.exif_jpeg(f.exif_orientation(65535)),
    "orientation-as-text": lambda: f.exif_jpeg(f.exif_orientation(0x41414141, kind=2)),
    "ifd-pointing-at-itself": lambda: f.exif_jpeg(f.exif_loop()),
    "entry-past-the-end": lambda: f.exif_jpeg(f.exif_out_of_range()),
    "truncated-ifd": lambda: f.exif_jpeg(b"II*\0\x08\0\0\0\xff\xff"),
    "not-tiff-at-all": lambda: f.exif_jpeg(b"garbage" * 10),
}
