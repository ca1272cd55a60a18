"""Preview + thumbnail time for a 12-megapixel JPEG, with and without JPEG draft mode.

    .venv/bin/python bench/bench_images.py [--runs 20]

The photo is scikit-image's cat upscaled to 4000x3000 with sensor-like grain, so it weighs what a
phone photo does (several MB), not what a smooth upscale compresses to.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT)]

import numpy as np  # noqa: E402
from PIL import Image, JpegImagePlugin  # noqa: E402

from photogallery import images  # noqa: E402


def camera_like_jpeg(seed: int = 0, grain: float = 6.0) -> bytes:
    """A 12 MP JPEG with grain, about the size a phone writes."""
    from skimage import data

    base = np.asarray(Image.fromarray(data.chelsea()).resize((4000, 3000), Image.BICUBIC))
    noise = np.random.default_rng(seed).normal(0, grain, base.shape)
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def time_process(data: bytes, runs: int) -> list[float]:
    images.process(io.BytesIO(data), max_pixels=150 * 10**6)  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        images.process(io.BytesIO(data), max_pixels=150 * 10**6)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    data = camera_like_jpeg()
    print(f"12 MP JPEG, {len(data) / 1e6:.1f} MB; preview {images.PREVIEW_SIZE}px + thumbnail")
    with_draft = time_process(data, args.runs)
    original = JpegImagePlugin.JpegImageFile.draft
    JpegImagePlugin.JpegImageFile.draft = lambda self, mode, size: None  # full-size decode
    try:
        without = time_process(data, args.runs)
    finally:
        JpegImagePlugin.JpegImageFile.draft = original
    for name, times in (("draft mode", with_draft), ("full decode", without)):
        print(f"  {name:<12} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")
    ratio = statistics.median(without) / statistics.median(with_draft)
    print(f"  draft mode is {ratio:.1f}x faster")


if __name__ == "__main__":
    main()
