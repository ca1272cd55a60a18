"""A 12 MP JPEG upload stage by stage, rendition quality, labels after the response, peak memory.

    .venv/bin/python bench/bench_images.py [--runs 15] [--against REV] [--record]

- Stage table: 12-megapixel camera-like JPEGs (scikit-image's cat at 4000x3000 with grain,
  ~3 MB, each unique) through the real upload service (services.uploads.add_photo: hash,
  duplicate check, scan, decode, renditions, three stored objects, the row) on SQLite and a
  local photo folder; medians of --runs, without and with an EXIF rotation. ``--against REV``
  also runs images.py and services/uploads.py as they were at git revision REV, alternating
  run by run in this process
  (A/B: on a busy machine only the ratio means much).
- Quality: SSIM of the renditions against those uploads made before issue 14
  (tests/fixtures/renditions.py) on eight scikit-image photos at 12 MP, min and median.
- Labels: with LABELER=onnx on the inline queue, the time from add_photo's return (the
  response) to the labels stored, and the labeler's own time, medians.
- Memory: peak RSS (VmHWM) of a fresh process that imports only the app and serves up to 10
  uploads through the API (bench/upload_rss.py), the figure issue 14 quotes; ``--against``
  also for the whole app at REV.
- Everything runs under the allocator settings of Deploy/bin/photos-web (glibc's mmap
  threshold, Pillow's block cache), as the served process does; --glibc-defaults without.

Ends with the figures against bench/figures.json (record.py): moves over 20 % are flagged.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

from record import Figure, add_record_option, report  # noqa: E402
from upload_rss import bench_app  # noqa: E402

from photogallery import image_scan, images  # noqa: E402
from photogallery.data import users  # noqa: E402
from photogallery.services import uploads  # noqa: E402
from tests.fixtures import renditions  # noqa: E402

SAMPLES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "stereo_motorcycle",
)


def camera_like_jpeg(seed: int = 0, grain: float = 6.0) -> bytes:
    """A 12 MP JPEG with grain, about the size a phone writes."""
    return renditions.camera_jpeg("chelsea", grain=grain, seed=seed)


def unique(jpeg: bytes, n: int) -> bytes:
    """The same picture with a comment segment, so its bytes (and sha256) differ."""
    text = f"run {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def app_in(folder: Path, **settings):
    app = bench_app(folder, **settings)
    backends = app.extensions["photogallery"]
    with backends.engine.begin() as conn:
        user = users.add_user(conn, provider="local", subject="bench", username="bench")
    return app, backends, user.id


def module_at(rev: str, path: str, name: str):
    """The module at ``path`` (under FlaskApp/photogallery) as it was at git revision ``rev``,
    loaded as a module of its own called photogallery.``name``; its relative imports are
    today's modules."""
    source = subprocess.run(
        ["git", "show", f"{rev}:FlaskApp/photogallery/{path}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    file = Path(tempfile.mkdtemp()) / Path(path).name
    file.write_text(source)
    package = ".".join(["photogallery", *Path(path).parent.parts])
    spec = importlib.util.spec_from_file_location(f"{package}.{name}", file)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = package
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def variant_at(rev: str):
    """(uploads, images) as they were at ``rev``: the old upload service calls the old images."""
    old_images = module_at(rev, "images.py", "_images_before")
    old_uploads = module_at(rev, "services/uploads.py", "_uploads_before")
    old_uploads.images = old_images
    return old_uploads, old_images


class Stages:
    """Wall time spent in the upload's stages, by wrapping the functions that do them."""

    IN_UPLOADS = (
        ("_digest", "hash"),
        ("_find_duplicate", "db"),
        ("_store_and_record", "store+db"),
    )
    IN_IMAGES = (
        ("_load", "decode"),
        ("_shrink", "resize+rotate"),
        ("_decode", "_decode"),
        ("_encode_both", "encodes"),
    )

    def __init__(self, uploads_module, images_module) -> None:
        self.uploads, self.images = uploads_module, images_module
        self.spent: dict[str, float] = {}

    def _wrap(self, owner, name: str, stage: str, stack: contextlib.ExitStack) -> None:
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0) + time.perf_counter() - t0

        stack.enter_context(_patched(owner, name, timed))

    def run(self, backends, owner_id: int, jpeg: bytes, name: str) -> dict[str, float]:
        self.spent = {}
        with contextlib.ExitStack() as stack:
            self._wrap(image_scan, "scan", "parse", stack)
            for fn, stage in self.IN_UPLOADS:
                self._wrap(self.uploads, fn, stage, stack)
            for fn, stage in self.IN_IMAGES:
                self._wrap(self.images, fn, stage, stack)
            # As the web layer hands it over: werkzeug spools a body over 500 KB to a file.
            upload = stack.enter_context(tempfile.TemporaryFile())
            upload.write(jpeg)
            upload.seek(0)
            t0, cpu0, all0 = time.perf_counter(), time.thread_time(), time.process_time()
            self.uploads.add_photo(backends, owner_id, upload, name)
            total = time.perf_counter() - t0
            # CPU of the request's thread: its wall time when the helper has a core of its own
            # (a loaded machine stretches wall times, much less these).
            thread_cpu, all_cpu = time.thread_time() - cpu0, time.process_time() - all0
        s = {k: v * 1000 for k, v in self.spent.items()}
        return {
            "decode": s["decode"],
            "resize+rotate": s["resize+rotate"],
            "EXIF, open": s["_decode"] - s["decode"] - s["resize+rotate"],
            "encodes": s["encodes"],
            "parse (scan)": s["parse"],
            "hash": s["hash"],  # on the helper thread, beside the scan, since issue 14
            "store+db": s["db"] + s["store+db"],
            "total": total * 1000,
            "thread CPU": thread_cpu * 1000,
            "process CPU": all_cpu * 1000,
        }


@contextlib.contextmanager
def _patched(owner, name: str, value):
    real = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, real)


def stage_table(runs: int, against: str | None) -> dict[str, dict[str, float]]:
    variants = {"now": (uploads, images)}
    if against:
        variants = {f"at {against}": variant_at(against), **variants}
    base = camera_like_jpeg()
    photos = {1: base, 6: renditions.with_orientation(base, 6)}
    print(f"\n12 MP JPEG upload, {len(base) / 1e6:.1f} MB, through add_photo; median of {runs}")
    times: dict[tuple[str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        _app, backends, owner = app_in(Path(tmp))
        n = 0
        for run in range(runs + 1):  # the first warms up
            for label, modules in variants.items():
                for orientation, jpeg in photos.items():
                    n += 1
                    stages = Stages(*modules).run(backends, owner, unique(jpeg, n), f"p{n}.jpg")
                    if run:
                        times.setdefault((label, orientation), []).append(stages)
    medians = {
        f"{label}, EXIF {o}": {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for (label, o), rows in times.items()
    }
    columns = list(medians)
    print(f"  {'stage (ms)':<16}" + "".join(f"{c:>20}" for c in columns))
    for stage in next(iter(medians.values())):
        print(f"  {stage:<16}" + "".join(f"{medians[c][stage]:>20.1f}" for c in columns))
    if against:
        for o in photos:
            now, before = medians[f"now, EXIF {o}"], medians[f"at {against}, EXIF {o}"]
            ratios = ", ".join(
                f"{k} {now[k] / before[k]:.2f}" for k in ("total", "thread CPU", "process CPU")
            )
            print(f"  now / at {against}, EXIF {o}: {ratios}")
    return medians


def quality(grain: float) -> tuple[list[float], list[float]]:
    previews, thumbnails = [], []
    for sample in SAMPLES:
        for orientation in (1, 6):
            jpeg = renditions.with_orientation(
                renditions.camera_jpeg(sample, grain=grain), orientation
            )
            made = images.process(io.BytesIO(jpeg))
            preview, thumbnail = renditions.today_renditions(jpeg)
            previews.append(renditions.ssim(made.preview.data, preview))
            thumbnails.append(renditions.ssim(made.thumbnail.data, thumbnail))
    return previews, thumbnails


def labels_after_response(runs: int) -> tuple[float, float]:
    """Median ms from add_photo's return to the labels stored, and of detect_labels itself."""
    with tempfile.TemporaryDirectory() as tmp:
        _app, backends, owner = app_in(Path(tmp), LABELER="onnx")
        stored_at: list[float] = []
        labelling: list[float] = []
        handler = backends.queue._handler
        detect = backends.labeler.detect_labels

        def timed_detect(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return detect(*args, **kwargs)
            finally:
                labelling.append((time.perf_counter() - t0) * 1000)

        def timed_handler(photo_id):
            handler(photo_id)
            stored_at.append(time.perf_counter())

        backends.queue.bind(timed_handler)
        backends.labeler.detect_labels = timed_detect
        after = []
        base = renditions.camera_jpeg("coffee")
        for n in range(runs + 1):
            uploads.add_photo(backends, owner, io.BytesIO(unique(base, n)), f"c{n}.jpg")
            responded = time.perf_counter()
            assert backends.queue.drain(60)
            if n:  # the first loads the model
                after.append((stored_at[-1] - responded) * 1000)
        with backends.engine.connect() as conn:
            from photogallery.data import photos

            done = photos.get_photo(conn, 1)
        assert done.label_status == "done", done.label_status
        return statistics.median(after), statistics.median(labelling[1:])


def peak_rss_mb(runs: int, against: str | None) -> float:
    """VmHWM of a fresh process that imports only the app (at ``against``, or this checkout)
    and serves ``runs`` 12 MP photos through the API (bench/upload_rss.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        photos, tree = Path(tmp) / "photos", ROOT
        photos.mkdir()
        base = camera_like_jpeg()  # made here: making it takes far more memory than serving it
        for n in range(runs):
            (photos / f"m{n}.jpg").write_bytes(unique(base, n))
        if against:
            tree = Path(tmp) / "tree"
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", against, "FlaskApp"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        args = [sys.executable, str(ROOT / "bench" / "upload_rss.py"), str(tree), str(photos)]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


# The allocator settings Deploy/bin/photos-web serves with: `export NAME="${NAME:-value}"`.
_SERVED = re.compile(r'^export ((?:MALLOC|PILLOW)_\w+)="\$\{\1:-([^}]*)\}"', re.MULTILINE)


def served_allocator() -> dict[str, str]:
    """glibc's and Pillow's memory settings of the served process (Deploy/bin/photos-web)."""
    return dict(_SERVED.findall((ROOT / "Deploy" / "bin" / "photos-web").read_text()))


def run_as_served(glibc_defaults: bool) -> None:
    """Run again under the served process's allocator settings (read by glibc and Pillow at
    start, so they cannot be changed in this process); without them for ``glibc_defaults``."""
    served = served_allocator()
    env = {k: v for k, v in os.environ.items() if k not in served}
    if not glibc_defaults:
        env.update(served)
    if any(os.environ.get(k) != env.get(k) for k in served):
        raise SystemExit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--against", metavar="REV", help="also time images.py and uploads.py at this revision"
    )
    parser.add_argument(
        "--glibc-defaults",
        action="store_true",
        help="without the allocator settings of Deploy/bin/photos-web (figures before 2026-12-03)",
    )
    add_record_option(parser)
    args = parser.parse_args()
    run_as_served(args.glibc_defaults)
    settings = {k: os.environ.get(k, "default") for k in served_allocator()}
    print("allocator:", ", ".join(f"{k}={v}" for k, v in settings.items()))
    stages = stage_table(args.runs, args.against)
    now, rotated = stages["now, EXIF 1"], stages["now, EXIF 6"]

    print("\nRenditions vs before issue 14 (SSIM, 8 scikit-image photos at 12 MP, EXIF 1 and 6)")
    figures_quality = {}
    for grain in (0.0, 6.0):
        previews, thumbnails = quality(grain)
        for kind, values in (("preview", previews), ("thumbnail", thumbnails)):
            low, mid = min(values), statistics.median(values)
            print(f"  grain {grain:g}: {kind:<9} min {low:.4f}  median {mid:.4f}")
            figures_quality[f"{kind}, grain {grain:g}"] = low

    after, labelling = labels_after_response(max(5, args.runs // 2))
    print("\nOffline labeler (onnx), inline queue")
    print(f"  labels stored after the response: median {after:.1f} ms (target <= 150)")
    print(f"  detect_labels (read preview, decode, infer): median {labelling:.1f} ms")

    rss = peak_rss_mb(min(args.runs, 10), None)
    print(
        f"\nPeak RSS of a fresh process that imports the app and serves {min(args.runs, 10)} "
        f"uploads through the API (no labeler): {rss:.0f} MiB"
    )
    if args.against:
        before = peak_rss_mb(min(args.runs, 10), args.against)
        print(f"  the app at {args.against}: {before:.0f} MiB")

    figures = [
        Figure("upload.total", now["total"], "ms"),
        Figure("upload.total_exif_rotated", rotated["total"], "ms"),
        Figure("upload.request_thread_cpu", now["thread CPU"], "ms"),
        Figure("upload.process_cpu", now["process CPU"], "ms"),
        Figure("upload.decode", now["decode"], "ms"),
        Figure("upload.resize", now["resize+rotate"], "ms"),
        Figure("upload.encodes", now["encodes"], "ms"),
        Figure("upload.hash_store_db", now["hash"] + now["store+db"], "ms"),
        Figure(
            "upload.ssim_preview_min",
            min(v for k, v in figures_quality.items() if k.startswith("preview")),
            "",
            "higher",
        ),
        Figure(
            "upload.ssim_thumbnail_min",
            min(v for k, v in figures_quality.items() if k.startswith("thumbnail")),
            "",
            "higher",
        ),
        Figure("labels.after_response", after, "ms"),
        Figure("labels.detect", labelling, "ms"),
        Figure("upload.peak_rss", rss, "MiB"),
    ]
    report(figures, record=args.record)


if __name__ == "__main__":
    main()
