"""Tracing overhead on the gallery page: TRACING=none against TRACING=otlp, interleaved A/B.

    .venv/bin/python bench/bench_tracing.py [--photos 1000] [--runs 300]

Two apps in one process share one SQLite library (one person, --photos photos with labels): one
with tracing off, one exporting every span over OTLP/HTTP to the tests' real OTLP receiver,
run in a process of its own like the collector on an instance. Requests alternate between
them, so machine noise falls on both alike; prints each median and p95 of the server time (the
app answering through Flask's test client, no network) and the ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

from bench_gallery import seed, sign_in, summary  # noqa: E402
from bench_images import bench_app  # noqa: E402

from photogallery.observability import tracing  # noqa: E402

PASSWORD = "correct horse battery"
# The receiver runs in a process of its own, as the collector does: decoding spans in the app's
# process would charge its CPU to tracing.
RECEIVER = """
import sys
from tests.fixtures.otlp_receiver import OtlpReceiver
receiver = OtlpReceiver()
print(receiver.endpoint, flush=True)
sys.stdin.readline()
print(len(receiver.spans), flush=True)
"""


def start_receiver() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def spans_received(process: subprocess.Popen) -> int:
    count, _ = process.communicate("done\n", timeout=30)
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    receiver, endpoint = start_receiver()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        off = bench_app(folder, TRACING="none")
        on = bench_app(folder, TRACING="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        clients = {"none": off.test_client(), "otlp": on.test_client()}
        account = {"username": "bench", "password": PASSWORD}
        assert clients["none"].post("/api/users", json=account).status_code == 201
        seed(off.extensions["photogallery"].engine, 1, 0, args.photos, random.Random(1))
        for client in clients.values():
            sign_in(client, "bench", PASSWORD)
            client.get("/")  # warm up
        times: dict[str, list[float]] = {"none": [], "otlp": []}
        for n in range(args.runs):
            order = ("none", "otlp") if n % 2 else ("otlp", "none")
            for which in order:
                t0 = time.perf_counter()
                assert clients[which].get("/").status_code == 200
                times[which].append((time.perf_counter() - t0) * 1000)
        tracing.flush()
        ratio = statistics.median(times["otlp"]) / statistics.median(times["none"])
        print(f"gallery page, {args.photos} photos, {args.runs} requests each, interleaved:")
        print(f"  TRACING=none  {summary(times['none'])}")
        print(f"  TRACING=otlp  {summary(times['otlp'])}   ratio {ratio:.2f}x")
        tracing.stop()
        print(f"  spans received: {spans_received(receiver)}")
        for app in (off, on):
            app.extensions["photogallery"].engine.dispose()


if __name__ == "__main__":
    main()
