"""Bulk import throughput (12-megapixel JPEGs) and the gallery's p95 while an import runs.

    .venv/bin/python bench/bench_import.py [--photos 48] [--workers N] [--labeler none|onnx]

Writes --photos camera-like JPEGs (scikit-image samples upscaled to 4000x3000 with sensor grain,
~3 MB each, like a phone's), serves the app as on EC2 (nginx → uWSGI, bench/serving.py) with a
second person's 1,000-photo gallery, and reads that gallery page with one client: first alone,
then while `flask photos import` (the real command, its pool at a lower priority) brings the
library in on the same machine. Prints photos/s and both p95s. SQLite and a local photo folder
unless --set says otherwise.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

import numpy as np  # noqa: E402
from bench_gallery import http_session_cookie, read_for, seed, signed_in_client, summary  # noqa: E402
from PIL import Image  # noqa: E402
from serving import served  # noqa: E402

from photogallery import create_app  # noqa: E402
from photogallery.data import migrate  # noqa: E402

SAMPLES = ("chelsea", "astronaut", "coffee", "rocket")


@functools.cache
def _base(sample: str) -> np.ndarray:
    from skimage import data

    img = Image.fromarray(getattr(data, sample)()).convert("RGB")
    return np.asarray(img.resize((4000, 3000), Image.BICUBIC), dtype=np.int16)


@functools.cache
def _grain() -> np.ndarray:
    return np.random.default_rng(0).normal(0, 6.0, (3000, 4000, 3)).astype(np.int16)


def camera_photo(i: int) -> bytes:
    """Photo ``i``: a sample upscaled to 12 MP with sensor-like grain, shifted by ``i`` so
    every file differs (one grain field, rolled: cheaper than drawing one per photo)."""
    grain = np.roll(_grain(), i * 17, axis=(0, 1))
    pixels = np.clip(_base(SAMPLES[i % len(SAMPLES)]) + grain, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def write_library(folder: Path, count: int) -> int:
    folder.mkdir(parents=True)
    total = 0
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for i, content in enumerate(pool.map(camera_photo, range(count), chunksize=8)):
            (folder / f"IMG_{i:05d}.jpg").write_bytes(content)
            total += len(content)
    return total


def import_while_reading(settings, library: Path, base: str, cookie: str, workers: int | None):
    """Run the import command; one client reads the gallery until it ends."""
    env = {**os.environ, **settings}
    command = [sys.executable, "-m", "flask", "--app", "FlaskApp/application.py", "photos"]
    command += ["import", str(library), "--user", "importer"]
    command += ["--workers", str(workers)] if workers else []
    done = threading.Event()
    times: list[float] = []

    def reader() -> None:
        while not done.is_set():
            times.extend(read_for(base, "/", cookie, 1, 1.0)[0])

    thread = threading.Thread(target=reader)
    thread.start()
    t0, cpu0 = time.perf_counter(), _children_cpu()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    took, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    done.set()
    thread.join()
    return result, took, cpu, times


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the command and its pool's workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--workers", type=int, help="the import's --workers (default: CPUs)")
    parser.add_argument("--labeler", default="none")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--set", action="append", default=[], help="extra setting NAME=VALUE")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="photos-bench-import-"))
    (tmp / "app.ini").write_text("[photos]\n")
    settings = {
        "FLASK_SECRET": "bench-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp / 'photos.db'}",
        "PHOTOS_DIR": str(tmp / "photos"),
        "PHOTOS_CONFIG": str(tmp / "app.ini"),
        "LABELER": args.labeler,
        "LABEL_QUEUE": "inline",
        **dict(s.split("=", 1) for s in args.set),
    }
    try:
        run(args, settings, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, settings: dict[str, str], tmp: Path) -> None:
    t0 = time.perf_counter()
    size = write_library(tmp / "library", args.photos)
    print(
        f"{args.photos} JPEGs of 4000x3000, {size / args.photos / 1e6:.1f} MB each on average"
        f" (written in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} cores;"
        f" load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    app = create_app(settings)
    migrate.upgrade(app.extensions["photogallery"].engine)
    for name in ("reader", "importer"):
        signed_in_client(app, name)
    seed(app.extensions["photogallery"].engine, 1, 0, 1000, random.Random(42))
    app.extensions["photogallery"].engine.dispose()
    with served(settings, tmp / "served") as base:
        cookie = http_session_cookie(base, "reader")
        read_for(base, "/", cookie, 1, 2)  # warm up
        idle, _rate = read_for(base, "/", cookie, 1, args.idle_seconds)
        print(f"gallery page (1,000 photos), nothing else running:  {summary(idle)}")
        result, took, cpu, busy = import_while_reading(
            settings, tmp / "library", base, cookie, args.workers
        )
        print(f"gallery page while the import runs:                {summary(busy)}")
    print(f"import: {args.photos} photos in {took:.1f} s = {args.photos / took:.2f} photos/s")
    cores = args.workers or os.cpu_count() or 1
    print(
        f"  CPU: {cpu:.1f} s = {cpu / args.photos:.2f} s a photo (process start-up included),"
        f" so {cores / (cpu / args.photos):.2f} photos/s on {cores} idle cores"
    )
    print("  " + result.stdout.strip().replace("\n", "\n  "))
    if result.returncode:
        print(result.stderr[-2000:])
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
