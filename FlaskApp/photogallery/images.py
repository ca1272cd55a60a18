"""Pillow: sniff the type from the bytes, apply EXIF orientation, make preview and thumbnail."""

from __future__ import annotations

import math
import os
import struct
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from . import image_scan, threads
from .decode_budget import DecodeBudget
from .image_limits import (
    DecodeBusy,
    ImageRejected,
    Limits,
    check,
    draft_box,
    megapixels,
    reserved,
)
from .image_scan import Layout

__all__ = [
    "KINDS",
    "DecodeBusy",
    "ImageRejected",
    "Inspected",
    "Limits",
    "ProcessedImage",
    "inspect",
    "process",
    "render",
    "sniff",
]

try:  # HEIC/HEIF (iPhone photos) through pillow-heif, when installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
    HEIC_SUPPORTED = False

DEFAULT_LIMITS = Limits()
THUMBNAIL_SIZE = 400
PREVIEW_SIZE = 1600
JPEG_QUALITY = 84

# content type, file extension and the Pillow format names accepted for it
KINDS = {
    "image/jpeg": ("jpg", {"JPEG", "MPO"}),
    "image/png": ("png", {"PNG"}),
    "image/gif": ("gif", {"GIF"}),
    "image/webp": ("webp", {"WEBP"}),
    "image/heic": ("heic", {"HEIF"}),
}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_ORIENTATION = 0x0112
_MAKE = 0x010F
_MODEL = 0x0110
CAMERA_CHARS = 200  # the length of photos.camera
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What Pillow raises on a damaged file (struct.error: a header or EXIF shorter than it says).
_PILLOW_ERRORS = (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError)
# Modes that Pillow (or we) convert before reducing: palettes, 1-bit, 16-bit grey, and alpha,
# which Image.reduce premultiplies into a full-size copy.
_CONVERTED_TO_REDUCE = {"P", "PA", "1", "I;16", "I;16L", "I;16B", "I;16N", "RGBA", "LA"}
# Bytes of the full-size image converted and reduced at a time (a 12,000 px wide band: 87 rows).
_BAND_BYTES = 4 << 20
# A rendition this large is resized (and rotated) as two halves at once, the right half on the
# process's helper thread: Pillow resizes without the GIL, so on two cores a 12 MP upload's
# 22 ms resize takes half as long. Same pixels as one resize; RGB and grey only, the modes that
# Pillow resizes as they are (RGBA would be premultiplied whole for each half).
_SPLIT_PIXELS = 1 << 20
_SPLIT_MODES = {"RGB", "L"}


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    content_type: str
    extension: str
    width: int  # of the original, as displayed (after EXIF orientation)
    height: int
    taken_at: datetime | None
    camera: str | None  # EXIF "Make Model", cleaned; None when the photo does not say
    preview: Rendition
    thumbnail: Rendition


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS and HEIC_SUPPORTED:
        return "image/heic"
    return None


@dataclass(frozen=True)
class Inspected:
    """An upload's type, proven by its bytes, and its layout, within the limits."""

    content_type: str
    layout: Layout


def process(
    fileobj: BinaryIO,
    *,
    limits: Limits = DEFAULT_LIMITS,
    budget: DecodeBudget | None = None,
    strict: bool = True,
) -> ProcessedImage:
    """Validate an uploaded image and make its preview and thumbnail (JPEG): inspect, render.

    ``budget`` is the process's decode budget (None: this decode is not shared). ``strict=False``
    skips the checks of the container (frames, metadata, trailing data, structure) for originals
    that were accepted earlier; the pixel limits always apply.
    """
    inspected = inspect(fileobj, limits=limits, strict=strict)
    return render(fileobj, inspected, limits=limits, budget=budget)


def inspect(
    fileobj: BinaryIO, *, limits: Limits = DEFAULT_LIMITS, strict: bool = True
) -> Inspected:
    """Sniff the type and check the declared layout against ``limits``; no pixel is decoded."""
    fileobj.seek(0)
    content_type = sniff(fileobj.read(32))
    if content_type is None:
        raise ImageRejected("is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC)")
    return Inspected(content_type, _layout(fileobj, content_type, limits, strict))


def render(
    fileobj: BinaryIO,
    inspected: Inspected,
    *,
    limits: Limits = DEFAULT_LIMITS,
    budget: DecodeBudget | None = None,
) -> ProcessedImage:
    """Decode an inspected image within the decode budget and make its renditions."""
    content_type, layout = inspected.content_type, inspected.layout
    with reserved(budget, layout, content_type, limits, PREVIEW_SIZE):
        width, height, taken_at, camera, preview_img = _decode(
            fileobj, content_type, layout, limits
        )
        preview, thumbnail = _encode_both(preview_img)
    return ProcessedImage(
        content_type=content_type,
        extension=KINDS[content_type][0],
        width=width,
        height=height,
        taken_at=taken_at,
        camera=camera,
        preview=preview,
        thumbnail=thumbnail,
    )


def _layout(fileobj: BinaryIO, content_type: str, limits: Limits, strict: bool) -> Layout:
    """What the file declares, checked against the limits before any pixel is decoded."""
    layout = None
    if content_type != "image/heic":  # pillow-heif reads the HEIF container
        # Strict, the walk stops once the metadata is too much; else it goes to the end.
        metadata_limit = limits.max_metadata_bytes if strict else sys.maxsize
        try:
            layout = image_scan.scan(fileobj, content_type, metadata_limit=metadata_limit)
        except image_scan.Damaged as exc:
            if strict:
                raise ImageRejected(f"is damaged and could not be read: it {exc}") from None
    if layout is None:
        with _open(fileobj, content_type, limits) as img:
            layout = _pillow_layout(img)
    check(layout, limits, content_type, strict)
    return layout


def _pillow_layout(img: Image.Image) -> Layout:
    metadata = sum(len(v) for v in img.info.values() if isinstance(v, bytes | str))
    return Layout(img.width, img.height, getattr(img, "n_frames", 1), metadata)


def _decode(fileobj: BinaryIO, content_type: str, layout: Layout, limits: Limits):
    """Size as displayed, date taken, camera and a decoded image of about PREVIEW_SIZE.

    Everything full-size lives only in this call: it is gone before the reservation is.
    """
    with _open(fileobj, content_type, limits) as img:
        if img.width > layout.width or img.height > layout.height:
            raise ImageRejected("is damaged and could not be read: it contradicts its header")
        width, height = img.size
        _load(img, PREVIEW_SIZE)  # first: reading a PNG's EXIF would load it, hiding errors
        orientation = _orientation(img)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        taken_at = _taken_at(img)
        camera = _camera(img)
        preview_img = _shrink(img, PREVIEW_SIZE, orientation)
    return width, height, taken_at, camera, preview_img


def _open(fileobj: BinaryIO, content_type: str, limits: Limits) -> Image.Image:
    # Our checks above give the person a clear reason; Pillow's own bomb check is the backstop.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels * 2
    fileobj.seek(0)
    try:
        img = Image.open(fileobj)
    except Image.DecompressionBombError:
        raise ImageRejected(
            f"is larger than the limit of {megapixels(limits.max_pixels)} megapixels"
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected("could not be read as an image (damaged or unsupported)") from None
    except (OSError, ValueError, SyntaxError, struct.error):
        raise ImageRejected("is damaged and could not be read") from None
    if img.format not in KINDS[content_type][1]:
        img.close()
        raise ImageRejected("does not match its own file signature")
    return img


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (after load), 1 (as stored) when missing or not one of the eight."""
    try:
        value = img.getexif().get(_ORIENTATION, 1)
    except _PILLOW_ERRORS:
        return 1  # broken EXIF: shown as stored, like every viewer does
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _taken_at(img: Image.Image) -> datetime | None:
    try:
        value = img.getexif().get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
        return datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S") if value else None
    except (*_PILLOW_ERRORS, TypeError, KeyError):
        return None  # a camera's odd date is no reason to refuse a photo


def _camera(img: Image.Image) -> str | None:
    """ "Make Model" with the make said once ("Canon Canon EOS R5" is "Canon EOS R5").

    The file is the uploader's: control characters go and the text is cut to the column; the
    pages escape it like any other text.
    """
    try:
        exif = img.getexif()
        make, model = (_exif_text(exif.get(tag)) for tag in (_MAKE, _MODEL))
    except (*_PILLOW_ERRORS, TypeError, KeyError):
        return None
    if make and model and model.split()[0].casefold() == make.split()[0].casefold():
        make = ""  # "NIKON CORPORATION" + "NIKON D850": the model already names the maker
    return " ".join(filter(None, (make, model)))[:CAMERA_CHARS].rstrip() or None


def _exif_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    # Control characters (NUL padding, escapes, newlines) become spaces, then runs of space one.
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split())


def _load(img: Image.Image, size: int) -> None:
    """Decode the first frame; a JPEG at 1/2..1/8 scale (draft mode) when ``size`` allows."""
    try:
        if img.format in ("JPEG", "MPO"):
            img.draft("RGB", draft_box(img.width, img.height, size))
        img.seek(0)
        img.load()
    except (*_PILLOW_ERRORS, EOFError):
        raise ImageRejected("is damaged and could not be read") from None


def _shrink(img: Image.Image, size: int, orientation: int) -> Image.Image:
    """Shrink to ``size``, orient and flatten, holding no second full-size image.

    Anything over twice ``size`` is first reduced by a whole factor, a band of rows at a time,
    so no converted, premultiplied or rotated full-size copy is ever made: rotation happens at
    preview size.
    """
    try:
        small = _reduce(img, _reduce_factor(max(img.size), size))
        # Bilinear (antialiased in Pillow) for the last <2x step: indistinguishable from Lanczos
        # at this ratio and ~3x cheaper; it was half of a 12 MP upload's time.
        target = _fit(small.size, size)
        small = _resize(small, target, Image.Resampling.BILINEAR, _TRANSPOSE.get(orientation))
        flat = _flatten(small)
        return flat.copy() if flat is img else flat  # not the file's own image object
    except _PILLOW_ERRORS:
        raise ImageRejected("is damaged and could not be read") from None


def _fit(size: tuple[int, int], box: int) -> tuple[int, int] | None:
    """The size Image.thumbnail((box, box)) gives, None when ``size`` already fits."""
    width, height = size
    if box >= width and box >= height:
        return None
    aspect = width / height
    if aspect <= 1:
        return _round_aspect(box * aspect, lambda n: abs(aspect - n / box)), box
    return box, _round_aspect(box / aspect, lambda n: 0 if n == 0 else abs(aspect - box / n))


def _round_aspect(number: float, key) -> int:
    return max(min(math.floor(number), math.ceil(number), key=key), 1)


def _resize(
    img: Image.Image,
    target: tuple[int, int] | None,
    resample: Image.Resampling,
    op: Image.Transpose | None = None,
) -> Image.Image:
    """``img`` resized to ``target`` (None: as it is), then transposed by ``op``."""
    if target is None:
        return img.transpose(op) if op is not None else img
    width, height = target
    if img.mode not in _SPLIT_MODES or width * height < _SPLIT_PIXELS:
        return _part(img, target, resample, None, op)
    half = _split_column(img.width, width)
    edge = half * img.width / width
    right_box = (edge, 0, img.width, img.height)
    right = threads.Beside(_part, img, (width - half, height), resample, right_box, op)
    try:
        left = _part(img, (half, height), resample, (0, 0, edge, img.height), op)
    finally:  # even on an error: the helper must be done with ``img`` before it is closed
        right_part = right.result()
    swapped = op in _SWAPS_AXES
    whole = Image.new(img.mode, (height, width) if swapped else target)
    whole.paste(left, _place(op, 0, half, width))
    whole.paste(right_part, _place(op, half, width, width))
    return whole


def _split_column(source: int, target: int) -> int:
    """An output column near the middle whose source edge is a whole pixel (800 of 1600 is
    1000 of 2000): both halves then weigh the very pixels one resize does. Else the middle,
    where a few pixels may differ by one level."""
    middle = target // 2
    for column in sorted(range(target // 4, 3 * target // 4), key=lambda c: abs(c - middle)):
        if column * source % target == 0:
            return column
    return middle


def _part(img, size, resample, box, op: Image.Transpose | None) -> Image.Image:
    part = img.resize(size, resample, box=box, reducing_gap=2.0)
    return part.transpose(op) if op is not None else part


_SWAPS_AXES = {
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
}


def _place(op: Image.Transpose | None, x0: int, x1: int, width: int) -> tuple[int, int]:
    """Where the columns [x0, x1) of a ``width`` wide image land once transposed by ``op``."""
    if op in (None, Image.Transpose.FLIP_TOP_BOTTOM):
        return x0, 0
    if op in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180):
        return width - x1, 0
    if op in (Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE):  # columns become rows
        return 0, x0
    return 0, width - x1  # ROTATE_90, TRANSVERSE: and the first column the last row


def _reduce_factor(side: int, size: int) -> int:
    """A whole factor that leaves ``side`` at least ``size``: twice it when that can be (the
    last, smooth resize then halves it or more, as Pillow's reducing_gap=2 does)."""
    return side // (2 * size) if side >= 4 * size else max(1, side // size)


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """``img`` made ``factor`` times smaller, in a resizable mode, with no full-size copy."""
    if factor < 2:
        return _resizable(img)
    if img.mode not in _CONVERTED_TO_REDUCE:
        return img.reduce(factor)  # straight into the small image
    # Pillow would convert (premultiply) the whole image first: do it a band of rows at a time.
    width, height = img.size
    rows = max(1, _BAND_BYTES // (width * 4) // factor) * factor
    reduced = None
    for top in range(0, height, rows):
        band = _resizable(img.crop((0, top, width, min(height, top + rows)))).reduce(factor)
        if reduced is None:
            reduced = Image.new(band.mode, (-(-width // factor), -(-height // factor)))
        reduced.paste(band, (0, top // factor))
    assert reduced is not None  # height >= 1
    return reduced


def _resizable(img: Image.Image) -> Image.Image:
    """Palettes and 1-bit become RGB(A) or grey, 16-bit grey its top 8 bits: modes that
    Pillow reduces and resizes by averaging (it resizes a palette by picking pixels)."""
    if img.mode in ("P", "PA"):
        alpha = img.mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if alpha else "RGB")
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v / 256).convert("L")
    return img


def _flatten(img: Image.Image) -> Image.Image:
    """JPEG renditions have no alpha: put transparent images on white."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _encode_both(preview: Image.Image) -> tuple[Rendition, Rendition]:
    """The preview and thumbnail renditions; for a large preview the thumbnail is made beside
    the preview's encode (both let go of the GIL: see ``_encode``)."""
    if preview.width * preview.height < _SPLIT_PIXELS:
        return _encode(preview, PREVIEW_SIZE), _encode(preview, THUMBNAIL_SIZE)
    encoding = threads.Beside(_encode, preview, PREVIEW_SIZE)
    try:
        thumbnail = _encode(preview, THUMBNAIL_SIZE)
    finally:
        encoded = encoding.result()
    return encoded, thumbnail


def _encode(img: Image.Image, size: int) -> Rendition:
    target = _fit(img.size, size)
    if target is not None:  # not split: reducing a box's part shifts its pixels
        img = img.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)
    # Into a file with a descriptor, not a BytesIO: Pillow then encodes in one call that lets go
    # of the GIL, so the thumbnail is made beside the preview (a BytesIO made them take turns:
    # 8.4 against 5.1 ms for both at 12 MP). An in-memory file where the system has one.
    with _scratch_file() as buf:
        # Baseline, not progressive: a 1600 px preview encodes ~10x faster (8 vs 79 ms).
        # No comment: Pillow would copy the file's (a GIF's may be longer than a JPEG holds).
        img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False, comment=b"")
        buf.seek(0)
        return Rendition(buf.read(), img.width, img.height)


def _scratch_file() -> BinaryIO:
    if hasattr(os, "memfd_create"):  # Linux
        return os.fdopen(os.memfd_create("rendition", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()
