"""Memory and time of decoding uploads: one large image of each kind, and N at once.

    .venv/bin/python bench/bench_decode_memory.py [--before DIR] [--threads 8] [--keep DIR]

Each measurement runs in a fresh Python process and reports its peak RSS (VmHWM) above the
same process's RSS just before decoding, and the CPU and wall time of images.process(). With
``--before DIR`` (a checkout of an older FlaskApp/, e.g. ``git worktree add /tmp/old main``)
every row is measured on that code too. The images are made in code (a few seconds):

- the "420 KB PNG of 144 megapixels" of issue 11 (12,000 x 12,000, mostly flat);
- 36-megapixel (6,000 x 6,000) images of each kind, some rotated by EXIF or transparent;
- for concurrency: --threads uploads of a 48-megapixel PNG decoded at once by one process,
  with the default DECODE_BUDGET_MEGAPIXELS (100: two fit) and, on old code, without a budget.

It ends with the bytes a reserved pixel costs (peak RSS / reserved pixels, the worst kind) and
the RSS of an app worker at rest (ONNX labeler loaded, one photo labelled): the two figures the
README's sizing of DECODE_BUDGET_MEGAPIXELS rests on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def make_images(folder: Path) -> dict[str, Path]:
    """The sample files (kept in ``folder`` between runs: making them takes a few seconds)."""
    from PIL import Image, ImageDraw

    def scene(size: int, shapes: int, height: int = 0) -> Image.Image:
        img = Image.new("RGB", (size, height or size), (200, 180, 150))
        draw, rng = ImageDraw.Draw(img), random.Random(1)
        for _ in range(shapes):
            x, y = rng.randrange(size), rng.randrange(height or size)
            box = (x, y, x + rng.randrange(20, 400), y + rng.randrange(20, 400))
            draw.ellipse(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        return img

    rotated = Image.Exif()
    rotated[0x0112] = 6
    samples = {
        "png-144mp.png": (lambda: scene(12000, 60), "PNG", {"compress_level": 9}),
        "png-rgb.png": (lambda: scene(6000, 200), "PNG", {}),
        "png-rgb-rotated.png": (lambda: scene(6000, 200), "PNG", {"exif": rotated.tobytes()}),
        "png-rgba.png": (lambda: _with_alpha(scene(6000, 200)), "PNG", {}),
        "png-palette.png": (lambda: scene(6000, 200).convert("P"), "PNG", {}),
        "gif.gif": (lambda: scene(6000, 200).convert("P"), "GIF", {}),
        "jpeg.jpg": (lambda: scene(6000, 200), "JPEG", {"quality": 90}),
        "jpeg-progressive.jpg": (
            lambda: scene(6000, 200),
            "JPEG",
            {"quality": 90, "progressive": True, "subsampling": 0},
        ),
        "webp.webp": (lambda: scene(6000, 200), "WEBP", {"quality": 80}),
        "heic.heic": (lambda: scene(6000, 200), "HEIF", {"quality": 50}),
        "png-48mp.png": (lambda: scene(8000, 200, 6000), "PNG", {}),
    }
    paths = {}
    for name, (build, fmt, options) in samples.items():
        path = folder / name
        if not path.exists():
            if fmt == "HEIF":
                from pillow_heif import register_heif_opener

                register_heif_opener()
            build().save(path, fmt, **options)
        paths[name] = path
    return paths


def _with_alpha(img):
    img = img.convert("RGBA")
    img.putalpha(200)
    return img


def child(args: argparse.Namespace) -> None:
    """Decode in this process and print one JSON line (run by the parent, not by hand)."""
    sys.path[:0] = [str(Path(args.code) / "FlaskApp"), args.code]
    import io
    from concurrent.futures import ThreadPoolExecutor

    from photogallery import images

    data = Path(args.file).read_bytes()
    new_code = hasattr(images, "Limits")
    budget = None
    if new_code:
        from photogallery.decode_budget import DecodeBudget

        budget = DecodeBudget(args.budget * 10**6, wait_seconds=600)

    def one(_):
        if new_code:
            return images.process(io.BytesIO(data), budget=budget)
        return images.process(io.BytesIO(data), max_pixels=150 * 10**6)

    before = _rss_now()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(one, range(args.threads)))
        outcome = "ok"
    except Exception as exc:  # a refusal is a result too
        outcome = f"{type(exc).__name__}: {exc}"
    peak = _status_kb("VmHWM") * 1024
    print(
        json.dumps(
            {
                "outcome": outcome,
                "cpu": time.process_time() - cpu,
                "wall": time.perf_counter() - wall,
                "peak_above_start": peak - before,
                "budget_peak": budget.peak if budget else None,
            }
        )
    )


def _rss_now() -> int:
    return _status_kb("VmRSS") * 1024


def _status_kb(field: str) -> int:
    """A figure of /proc/self/status. Its peak (VmHWM) starts again at exec, unlike ru_maxrss,
    which a child inherits from the parent that forked it."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


# What Deploy/bin/photos-web sets for uWSGI (see there why).
DEPLOYED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def measure(code, file: Path, budget: int, threads: int = 1, malloc: dict | None = None) -> dict:
    command = [sys.executable, __file__, "--child", "--code", code, "--file", str(file)]
    command += ["--threads", str(threads), "--budget", str(budget)]
    env = {**os.environ, **(DEPLOYED_MALLOC if malloc is None else malloc)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_at_rest() -> int:
    """RSS of an app process with the ONNX labeler loaded, after labelling one photo."""
    code = f"""
import io, os, sys, tempfile
sys.path[:0] = [{str(ROOT / "FlaskApp")!r}, {str(ROOT)!r}]
from photogallery import create_app
from tests.conftest import photo_bytes
d = tempfile.mkdtemp()
app = create_app({{"FLASK_SECRET": "x" * 40, "DATABASE_URL": "sqlite:///" + d + "/p.db",
                  "PHOTOS_DIR": d, "LABELER": "onnx"}})
app.extensions["photogallery"].labeler.detect_labels(photo_bytes())
with open("/proc/self/statm") as f:
    print(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return int(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a checkout whose FlaskApp/ is the code to compare")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep", help="folder for the sample images (made once)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=int, default=100, help="DECODE_BUDGET_MEGAPIXELS")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="decode-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = make_images(folder)
    codes = {"now": str(ROOT)} | ({"before": args.before} if args.before else {})
    print(f"{'file':<22}{'size':>8}  {'now':>48}  {'before' if args.before else ''}")
    worst = 0.0
    for name, path in paths.items():
        if name == "png-48mp.png":
            continue
        row = [measure(code, path, args.budget) for code in codes.values()]
        print(f"{name:<22}{path.stat().st_size / 1e6:>6.2f}MB  " + "  ".join(map(_cell, row)))
        if row[0]["outcome"] == "ok":
            worst = max(worst, row[0]["peak_above_start"] / row[0]["budget_peak"])
    print(f"\n{args.threads} uploads of a 48-megapixel PNG at once, in one process:")
    runs = [("now", ROOT, None), ("now, glibc's default malloc", ROOT, {})]
    runs += [("before", args.before, None)] if args.before else []
    for label, code, malloc in runs:
        result = measure(str(code), paths["png-48mp.png"], args.budget, args.threads, malloc)
        print(f"  {label:<28} {_cell(result)}")
    print(f"\nworst bytes per reserved pixel (peak RSS / reservation): {worst:.1f}")
    rest = worker_at_rest()
    print(f"app worker at rest (ONNX labeler loaded, one photo labelled): {rest / MB:.0f} MB RSS")
    print(f"sample images kept in {folder}")


def _cell(result: dict) -> str:
    if result["outcome"] != "ok":
        return f"{'refused: ' + result['outcome'].split(': ', 1)[-1][:38]:<48}"
    reserved = result["budget_peak"]
    held = f" {reserved / 1e6:4.0f} MP reserved" if reserved else " (no budget)"
    return (
        f"{result['peak_above_start'] / MB:5.0f} MB {result['cpu']:5.2f} s cpu "
        f"{result['wall']:5.2f} s wall{held}"
    )


if __name__ == "__main__":
    main()
