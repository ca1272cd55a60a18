"""What an upload may be and what decoding it may cost.

The checks read only a file's declared layout (image_scan), so a bomb is refused before any
pixel is decoded. The cost is what a decode holds in memory at once, in decoded RGB pixels of
4 bytes: the unit of the process's decode budget (DECODE_BUDGET_MEGAPIXELS).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .decode_budget import BudgetTimeout, DecodeBudget
from .image_scan import Layout

_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
}
# Reserved pixels per pixel of the file (see decode_cost); the formats missing here cost 1.
_COST_PER_PIXEL = {"image/webp": 4.0, "image/heic": 1.5}


class ImageRejected(Exception):
    """The bytes are not an image we accept; the message is for the person who sent it."""


class DecodeBusy(Exception):
    """The process's decode budget stayed full: the person should try again shortly."""


@dataclass(frozen=True)
class Limits:
    """What an upload may be (MAX_IMAGE_MEGAPIXELS, MAX_IMAGE_FRAMES, MAX_IMAGE_METADATA_KB)."""

    max_pixels: int = 150 * 10**6
    max_frames: int = 1000
    max_metadata_bytes: int = 1024 * 1024


def check(layout: Layout, limits: Limits, content_type: str, strict: bool) -> None:
    """Refuse what the layout shows to be too much; ``strict``: the container's rules too."""
    if strict and layout.metadata_bytes > limits.max_metadata_bytes:
        raise ImageRejected(
            f"has more than {_size(limits.max_metadata_bytes)} of metadata (EXIF, XMP, ICC "
            "profile or text); save it without metadata and try again"
        )
    if layout.width < 1 or layout.height < 1:
        raise ImageRejected("is damaged and could not be read: it has no size")
    if layout.width * layout.height > limits.max_pixels:
        raise ImageRejected(_too_many_pixels(layout, limits.max_pixels))
    if strict and layout.frames > limits.max_frames:
        raise ImageRejected(
            f"has {layout.frames:,} frames; the limit is {limits.max_frames:,} "
            "(upload a still photo or a shorter animation)"
        )
    if strict and layout.trailing_bytes:
        raise ImageRejected(
            f"has {layout.trailing_bytes:,} bytes of something else after the end of the "
            f"{_NAMES[content_type]} image; save it again as a plain photo"
        )


def _too_many_pixels(layout: Layout, limit: int, kind: str = "") -> str:
    pixels = layout.width * layout.height
    limit_for = f" for {kind}" if kind else ""
    return (
        f"is {layout.width}×{layout.height}, {megapixels(pixels)} megapixels; "
        f"the limit{limit_for} is {megapixels(limit)}"
    )


def megapixels(pixels: float) -> str:
    mp = pixels / 1e6
    return f"{mp:,.0f}" if mp >= 9.95 or mp == int(mp) else f"{mp:.1f}"


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n / 1024:g} kB"


def decode_cost(content_type: str, layout: Layout, preview_size: int) -> int:
    """The pixels a decode reserves: what it holds at once, in units of a decoded RGB pixel.

    Measured (bench/bench_decode_memory.py): PNG, GIF and baseline JPEG hold the decoded image
    (4 bytes a pixel) and a band; libwebp holds two canvases and Pillow a copy of one (4 per
    pixel); libheif a decoded and a converted picture (1.5); a JPEG in several scans (progressive)
    keeps 2 bytes per colour component of every full-size pixel besides its draft-size decode.
    Every decode also makes a preview and a thumbnail and encodes them: about three
    preview-size images, whatever the photo's size.
    """
    return _image_cost(content_type, layout, preview_size) + _overhead(preview_size)


def _image_cost(content_type: str, layout: Layout, preview_size: int) -> int:
    pixels = layout.width * layout.height
    if content_type == "image/jpeg":
        w, h = jpeg_draft_size(layout.width, layout.height, preview_size)
        coefficients = pixels * layout.components // 2 if layout.multi_scan else 0
        return w * h + coefficients
    return int(pixels * _COST_PER_PIXEL.get(content_type, 1.0))


def _overhead(preview_size: int) -> int:
    return 3 * preview_size**2


@contextmanager
def reserved(
    budget: DecodeBudget | None,
    layout: Layout,
    content_type: str,
    limits: Limits,
    preview_size: int,
) -> Iterator[None]:
    """Hold the decode's cost in the budget; refuse a photo that could never fit in it."""
    if budget is None:
        yield
        return
    cost = decode_cost(content_type, layout, preview_size)
    if cost > budget.total:
        room = max(0, budget.total - _overhead(preview_size))
        pixels = layout.width * layout.height
        per_pixel = _image_cost(content_type, layout, preview_size) / pixels
        limit = min(limits.max_pixels, int(room / per_pixel))
        raise ImageRejected(_too_many_pixels(layout, limit, _kind_name(content_type, layout)))
    try:
        with budget.reserve(cost):
            yield
    except BudgetTimeout:
        raise DecodeBusy("other large photos are being decoded; the wait ran out") from None


def _kind_name(content_type: str, layout: Layout) -> str:
    if content_type == "image/jpeg" and layout.multi_scan:
        return "progressive JPEG"
    return _NAMES[content_type]


def jpeg_draft_size(width: int, height: int, size: int) -> tuple[int, int]:
    """The size a JPEG decodes at in draft mode for ``size`` (as Pillow's JPEG draft picks it)."""
    box = draft_box(width, height, size)
    scale = min(width // box[0], height // box[1])
    s = next(s for s in (8, 4, 2, 1) if scale >= s)
    return (width + s - 1) // s, (height + s - 1) // s


def draft_box(width: int, height: int, size: int) -> tuple[int, int]:
    # Ask for the box the result will fill; a square box would keep a 4:3 photo at full scale
    # because its short side is below the box's.
    ratio = min(1.0, size / max(width, height))
    return max(1, int(width * ratio)), max(1, int(height * ratio))
