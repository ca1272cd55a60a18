"""The SQS label worker as a real process: labels per second, latency and peak memory.

    .venv/bin/python bench/bench_label_worker.py [--photos 30]

Starts moto's SQS server on a free port, uploads real photos through the app (LABEL_QUEUE=sqs, so
each upload sends one message), then runs `flask labels worker` in a subprocess until every photo
is labelled, and reads the worker's peak resident memory (VmHWM) from /proc.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

import boto3  # noqa: E402
from bench_images import camera_like_jpeg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from photogallery import create_app  # noqa: E402
from photogallery.data import migrate  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def start_moto(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="photos-worker-"))
    port = free_port()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true"
    )
    moto = start_moto(port)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
        url = sqs.create_queue(QueueName="labels")["QueueUrl"]
        settings = {
            "FLASK_SECRET": "bench-" + "x" * 40,
            "DATABASE_URL": f"sqlite:///{tmp}/photos.db",
            "PHOTOS_DIR": str(tmp / "photos"),
            "LABELER": "onnx",
            "LABEL_QUEUE": "sqs",
            "SQS_QUEUE_URL": url,
            "SQS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
        }
        run(settings, args.photos)
    finally:
        moto.terminate()


def run(settings: dict[str, str], count: int) -> None:
    app = create_app(settings)
    engine = app.extensions["photogallery"].engine
    migrate.upgrade(engine)
    client = app.test_client()
    client.post("/api/users", json={"username": "worker", "password": "worker bench 1"})
    token = client.post("/api/tokens", auth=("worker", "worker bench 1")).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(count):
        data = camera_like_jpeg(seed=n)
        response = client.post(
            "/api/photos", data={"file": (io.BytesIO(data), f"{n}.jpg")}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
    env = {**os.environ, **settings}
    worker = subprocess.Popen(
        [
            str(BIN / "flask"),
            "--app",
            str(ROOT / "FlaskApp/application.py"),
            "labels",
            "worker",
            "--wait",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    idle_kb = memory_kb(worker.pid, "VmRSS")
    started, done_at = time.perf_counter(), []
    query = text("SELECT count(*) FROM photos WHERE label_status = 'done'")
    while len(done_at) < count and time.perf_counter() - started < 300:
        with engine.connect() as conn:
            done = conn.execute(query).scalar()
        done_at += [time.perf_counter() - started] * (done - len(done_at))
        time.sleep(0.05)
    peak_kb = memory_kb(worker.pid, "VmHWM")
    worker.terminate()
    worker.wait(30)
    elapsed = done_at[-1] if done_at else float("nan")
    gaps = [b - a for a, b in zip([0.0, *done_at], done_at, strict=False)][1:]
    print(
        f"labelled {len(done_at)}/{count} photos (12 MP uploads, 1600 px previews) "
        f"in {elapsed:.1f} s: {len(done_at) / elapsed:.1f} photos/s"
    )
    if gaps:
        print(
            f"  per photo after the first: median {statistics.median(gaps) * 1000:.0f} ms "
            "(receive, read preview, label, commit, delete)"
        )
    print(f"  worker RSS at 1 s {idle_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB")


if __name__ == "__main__":
    main()
