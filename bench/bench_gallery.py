"""Gallery, search and upload latency at 1,000 and 100,000 photos; prints median and p95.

    .venv/bin/python bench/bench_gallery.py [--database-url URL] [--set NAME=VALUE ...]
    .venv/bin/python bench/bench_gallery.py --seaweedfs   # STORAGE=s3 on a local SeaweedFS

Seeds one person's library straight into the database (labels and search terms included), then
times real requests through the app (routing, one indexed query, label lookup, URL signing,
template rendering). Upload timing posts 12-megapixel camera-like JPEGs (grain, ~3 MB) through
the API. With STORAGE=s3, credentials come from the default chain (with --seaweedfs, from the
server it starts).

Then the same library is served as on EC2 (nginx → uWSGI with Deploy/uwsgi.ini, one process a
core, bench/serving.py) and the 100,000-photo gallery is read by 1, 8 and 16 clients at once for
--served-seconds each: requests/s, median and p95 (the target: p95 ≤ 100 ms on 2 cores). The
clients share the machine's cores with the server. --uwsgi "--processes 4 --threads 2" tries
another shape than Deploy/uwsgi.ini's.

`make bench` runs it on SQLite and on MariaDB (--mariadb: a fresh database on the local server).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

import requests  # noqa: E402
from bench_images import camera_like_jpeg  # noqa: E402
from record import Figure, add_record_option, report  # noqa: E402
from serving import served  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from photogallery import create_app  # noqa: E402
from photogallery.data import migrate, terms  # noqa: E402
from photogallery.data.schema import photo_labels, photo_terms, photos  # noqa: E402

LABELS = [
    ("Cat", ("Pet", "Animal", "Mammal")),
    ("Dog", ("Pet", "Animal", "Mammal")),
    ("Car", ("Vehicle", "Transportation")),
    ("Beach", ("Nature", "Outdoors")),
    ("Food", ()),
    ("Coffee", ("Beverage", "Drink", "Food")),
    ("Person", ("Human",)),
    ("Tree", ("Plant",)),
    ("Flower", ("Plant",)),
    ("Building", ("Architecture",)),
    ("Bird", ("Animal",)),
    ("Mountain", ("Nature", "Outdoors")),
    ("Sky", ("Nature",)),
    ("Boat", ("Vehicle", "Transportation")),
    ("Bicycle", ("Vehicle",)),
    ("Cake", ("Food",)),
]
WORDS = [
    "birthday",
    "holiday",
    "beach",
    "garden",
    "grandma",
    "party",
    "trip",
    "sunset",
    "snow",
    "city",
]


def seed(engine, owner_id: int, start: int, count: int, rng: random.Random) -> None:
    """Insert ``count`` photos with 3-5 labels each and their search terms."""
    base = datetime(2020, 1, 1)
    batch = 2000
    for first in range(start, start + count, batch):
        rows, label_rows, term_rows = [], [], []
        for n in range(first, min(first + batch, start + count)):
            created = base + timedelta(minutes=n)
            description = " ".join(rng.sample(WORDS, 2))
            rows.append(
                dict(
                    id=n + 1,
                    owner_id=owner_id,
                    original_key=f"u{owner_id}/{n}/original.jpg",
                    thumbnail_key=f"u{owner_id}/{n}/thumbnail.jpg",
                    preview_key=f"u{owner_id}/{n}/preview.jpg",
                    original_filename=f"IMG_{n}.jpg",
                    content_type="image/jpeg",
                    byte_size=4_000_000,
                    width=4000,
                    height=3000,
                    sha256=f"{n:064x}",
                    description=description,
                    created_at=created,
                    label_status="done",
                    label_attempts=1,
                    label_model="bench",
                )
            )
            chosen = rng.sample(LABELS, rng.randint(3, 5))
            names = []
            for name, parents in chosen:
                label_rows.append(
                    dict(
                        photo_id=n + 1,
                        name=name,
                        confidence=rng.uniform(55, 99),
                        parents="|".join(parents),
                        source="model",
                    )
                )
                names += [name, *parents]
            for term in terms.photo_terms(description, names):
                term_rows.append(
                    dict(owner_id=owner_id, term=term, created_at=created, photo_id=n + 1)
                )
        with engine.begin() as conn:
            conn.execute(insert(photos), rows)
            conn.execute(insert(photo_labels), label_rows)
            conn.execute(insert(photo_terms), term_rows)


def sign_in(client, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": password, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302


def timed(client, url: str, runs: int, headers=None) -> list[float]:
    client.get(url, headers=headers)  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def summary(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    return f"median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   (n={len(times)})"


# What this run measured, for bench/figures.json: names start with the database ("sqlite.").
measured: list[Figure] = []


def keep(name: str, value: float, unit: str = "ms", better: str = "lower") -> None:
    measured.append(Figure(f"gallery.{name}", value, unit, better))


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


PAGES = (
    ("gallery page 1", "/"),
    ("search 'cat'", "/?q=cat"),
    ("search 'animal beach'", "/?q=animal+beach"),
)


def measure(
    client, label: str, runs: int, work: dict[str, int] | None = None, db: str = ""
) -> None:
    for name, url in (*PAGES, ("gallery page 2", second_page(client))):
        times = timed(client, url, runs)
        print(f"  {label:>8} photos  {name:<22} {summary(times)}")
        if work is not None:  # the database work of one more page (and the figures kept)
            keep(f"{db}.{slug(name)}", statistics.median(times))
            before = dict(work)
            client.get(url)
            counted = "  ".join(f"{k} {work[k] - before[k]}" for k in work)
            print(f"  {'':>8}         {'':<22} per page: {counted}")
            for k in ("statements", "checkouts"):
                keep(f"{db}.{slug(name)}.{k}", work[k] - before[k], "per page")


def count_database_work(engine) -> dict[str, int]:
    """Statements, pool checkouts, pings and rollbacks, counted as they happen."""
    counts = {"statements": 0, "checkouts": 0, "pings": 0, "rollbacks": 0}

    def bump(name):
        return lambda *_args, **_kw: counts.__setitem__(name, counts[name] + 1)

    event.listen(engine, "before_cursor_execute", bump("statements"))
    event.listen(engine.pool, "checkout", bump("checkouts"))
    for method, name in (("do_ping", "pings"), ("do_rollback", "rollbacks")):
        real = getattr(engine.dialect, method)
        setattr(engine.dialect, method, lambda conn, r=real, n=name: bump(n)() or r(conn))
    return counts


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    model = models[0] if models else platform.processor() or "unknown CPU"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), load average {load}, Python {platform.python_version()}"
    )


def second_page(client) -> str:
    return f"/?cursor={client.get('/api/photos?limit=48').get_json()['next_cursor']}"


def measure_interleaved(small, large, runs: int, large_label: str) -> None:
    """Alternate requests between a 1,000- and a 100,000-photo library in the same database,
    so machine noise (other processes, CPU clocks) falls on both alike."""
    for name, url in PAGES:
        pairs = {"small": [], "large": []}
        small.get(url), large.get(url)  # warm up
        for _ in range(runs):
            for client, which in ((small, "small"), (large, "large")):
                t0 = time.perf_counter()
                assert client.get(url).status_code == 200
                pairs[which].append((time.perf_counter() - t0) * 1000)
        ratio = statistics.median(pairs["large"]) / statistics.median(pairs["small"])
        print(f"  {name:<22} 1,000: {summary(pairs['small'])}")
        print(f"  {'':<22} {large_label}: {summary(pairs['large'])}   ratio {ratio:.2f}x")


def measure_uploads(client, runs: int, drain, db: str) -> None:
    page = client.get("/upload").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    jpegs = [camera_like_jpeg(seed=n) for n in range(runs + 1)]
    print(f"  12 MP JPEG: {len(jpegs[0]) / 1e6:.1f} MB each")
    times = []
    for n, data in enumerate(jpegs):
        t0 = time.perf_counter()
        response = client.post(
            "/api/photos",
            data={"file": (io.BytesIO(data), f"big{n}.jpg")},
            headers={"X-CSRFToken": csrf},  # signed in with a session, as a browser is
        )
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 201, response.get_json()
        if n:  # the first one warms caches (and loads the labeler, if any)
            times.append(elapsed)
        drain()  # labeling happens after the response; keep runs independent
    print(f"  upload (stored, thumbnails, committed)  {summary(times)}")
    keep(f"{db}.upload_12mp", statistics.median(times))


def measure_url_signing(store, count: int = 3000) -> None:
    """What the gallery pays per photo for its three signed URLs (thumbnail, preview, original)."""
    keys = [f"u1/{n:08x}/thumbnail.jpg" for n in range(count)]
    t0 = time.perf_counter()
    for key in keys:
        store.url(key)
    per_url = (time.perf_counter() - t0) / count * 1e6
    page = per_url * 48 / 1000
    print(f"  signing one URL: {per_url:.1f} us   (48 thumbnails: {page:.2f} ms a page)")


SERVED_PAGES = (("gallery page 1", "/"), ("search 'cat'", "/?q=cat"))
CONCURRENCY = (1, 8, 16)
PASSWORD = "photo timing 1"  # no username in it: sign-up refuses that


def http_session_cookie(base: str, username: str) -> str:
    """Sign in through the login form over HTTP; the Cookie header a browser would send."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    answer = http.post(f"{base}/login", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.status_code
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def read_for(base: str, path: str, cookie: str, clients: int, seconds: float):
    """``clients`` keep-alive connections each GET ``path`` back to back for ``seconds``;
    returns every latency (ms) and the requests per second of them all."""
    where = urlsplit(base)
    stop_at = time.perf_counter() + seconds

    def client() -> list[float]:
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        times = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status == 200, response.status
        conn.close()
        return times

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [future.result() for future in [pool.submit(client) for _ in range(clients)]]
    times = [t for result in results for t in result]
    return times, len(times) / (time.perf_counter() - t0)


# wrk's summary as one line: requests/s, then the median and p95 latency in ms.
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("WRK %f %f %f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def wrk_for(base: str, path: str, cookie: str, clients: int, seconds: float, script: Path):
    """The same reads from wrk, a C client: Python client threads would take a good part of
    the 2 cores the server is measured on. Returns (pages/s, median ms, p95 ms)."""
    command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds:g}s", "-s", str(script)]
    run = subprocess.run(
        [*command, "-H", f"Cookie: {cookie}", base + path], capture_output=True, text=True
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("WRK ")]
    assert lines, run.stdout + run.stderr
    rate, median, p95, errors = lines[0].split()[1:]
    assert int(errors) == 0, run.stdout  # every answer a 200
    return float(rate), float(median), float(p95)


def measure_served(
    settings: dict[str, str], photos: int, seconds: float, uwsgi_args: str = "", db: str = ""
) -> None:
    """The large library through nginx + uWSGI, read by several clients at once (with wrk
    when it is installed: apt-get install wrk)."""
    root = Path(tempfile.mkdtemp(prefix="photos-bench-served-"))
    env = {name: str(value) for name, value in settings.items()}
    wrk = shutil.which("wrk")
    script = root / "report.lua"
    script.write_text(WRK_REPORT)
    try:
        with served(env, root, uwsgi_args=shlex.split(uwsgi_args)) as base:
            cookie = http_session_cookie(base, "bigbench")
            read_for(base, "/", cookie, max(CONCURRENCY), 3)  # warm every worker up
            shape = uwsgi_args or "Deploy/uwsgi.ini as it is"
            client = "wrk" if wrk else "Python threads (install wrk for a lighter client)"
            print(
                f"served by nginx + uWSGI ({shape}; {os.cpu_count()} cores), {photos:,} photos, "
                f"read by {client}:"
            )
            for name, path in SERVED_PAGES:
                for clients in CONCURRENCY:
                    if wrk:
                        rate, median, p95 = wrk_for(base, path, cookie, clients, seconds, script)
                    else:
                        times, rate = read_for(base, path, cookie, clients, seconds)
                        median, p95 = (
                            statistics.median(times),
                            statistics.quantiles(times, n=20)[18],
                        )
                    print(
                        f"  {name:<16} {clients:>2} at once: {rate:6.1f} req/s   "
                        f"median {median:6.2f} ms   p95 {p95:6.2f} ms"
                    )
                    if clients > 1:
                        served_as = f"{db}.served.{slug(name)}.{clients}_clients"
                        keep(f"{served_as}.pages_per_s", rate, "pages/s", "higher")
                        keep(f"{served_as}.p95", p95)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def seaweedfs(settings: dict[str, str]):
    """Start a SeaweedFS S3 server for the run and point the settings at a fresh bucket in it."""
    from tests.fixtures.servers import find_weed, start_seaweedfs

    root = Path(tempfile.mkdtemp(prefix="bench-seaweedfs-"))
    server, process = start_seaweedfs(find_weed() or "weed", root)
    os.environ.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key)
    settings.update(
        STORAGE="s3",
        PHOTOS_BUCKET=server.new_bucket("bench"),
        S3_ENDPOINT_URL=server.endpoint_url,
        AWS_REGION=server.region,
    )
    try:
        yield
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument(
        "--mariadb",
        nargs="?",
        const="mysql+mysqlconnector://root@127.0.0.1:3306/",
        help="a fresh database on this MySQL/MariaDB server (dropped at the end)",
    )
    parser.add_argument(
        "--served-only",
        action="store_true",
        help="only nginx + uWSGI, on a --database-url an earlier run seeded (user bigbench)",
    )
    parser.add_argument(
        "--uwsgi", default="", help='uWSGI options after the ini, e.g. "--threads 2"'
    )
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--uploads", type=int, default=15)
    parser.add_argument("--labeler", default="none")
    parser.add_argument("--set", action="append", default=[], help="extra setting NAME=VALUE")
    parser.add_argument("--seaweedfs", action="store_true", help="STORAGE=s3 on a local SeaweedFS")
    parser.add_argument(
        "--served-seconds", type=float, default=10, help="per served read (0: skip nginx + uWSGI)"
    )
    add_record_option(parser)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="photos-bench-"))
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(mariadb_database(args.mariadb)) if args.mariadb else None
        settings = {
            "FLASK_SECRET": "bench-" + "x" * 40,
            "DATABASE_URL": url or args.database_url or f"sqlite:///{tmp / 'photos.db'}",
            "PHOTOS_DIR": str(tmp / "photos"),
            "LABELER": args.labeler,
            **dict(s.split("=", 1) for s in args.set),
        }
        if args.seaweedfs:
            stack.enter_context(seaweedfs(settings))
        run(args, settings)
    if not args.served_only:  # a served-only run is a shape experiment, not the record
        report(measured, record=args.record)


@contextlib.contextmanager
def mariadb_database(admin_url: str):
    """A fresh database for the run on the server at ``admin_url``; dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"photos_bench_{os.getpid()}"
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield admin_url.rstrip("/") + "/" + name
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def run(args: argparse.Namespace, settings: dict[str, str]) -> None:
    if args.served_only:
        print(f"machine: {machine()}")
        return measure_served(settings, args.photos, args.served_seconds, args.uwsgi)
    app = create_app(settings)
    engine = app.extensions["photogallery"].engine
    migrate.upgrade(engine)
    small, large = (signed_in_client(app, name) for name in ("bench", "bigbench"))
    print(f"machine: {machine()}")
    print(
        f"database: {engine.url.get_backend_name()}   storage: {settings.get('STORAGE', 'local')}"
        f"   labeler: {args.labeler}"
    )
    rng = random.Random(42)
    seed(engine, 1, 0, 1000, rng)
    print("one person with 1,000 photos (the whole database):")
    measure(small, "1,000", args.runs)
    t0 = time.perf_counter()
    seed(engine, 2, 1000, args.photos, rng)
    print(
        f"  (seeded {args.photos:,} photos for a second person in {time.perf_counter() - t0:.0f} s)"
    )
    print(f"the person with {args.photos:,} photos (server time, in-process):")
    db = engine.url.get_backend_name()
    measure(large, f"{args.photos:,}", args.runs, count_database_work(engine), db)
    print("both, requests alternating (the fair ratio):")
    measure_interleaved(small, large, args.runs, f"{args.photos:,}")
    measure_url_signing(app.extensions["photogallery"].store)
    if args.served_seconds:
        measure_served(settings, args.photos, args.served_seconds, args.uwsgi, db)
    queue = app.extensions["photogallery"].queue
    measure_uploads(small, args.uploads, getattr(queue, "drain", lambda: None), db)


def signed_in_client(app, username: str):
    client = app.test_client()
    client.post("/api/users", json={"username": username, "password": PASSWORD})
    sign_in(client, username, PASSWORD)  # pages are timed as a browser asks: with a session
    return client


if __name__ == "__main__":
    main()
