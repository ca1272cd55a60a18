"""200 concurrent uploads through nginx + uWSGI, then every acknowledged photo accounted for.

    .venv/bin/python bench/load_uploads.py [--uploads 200] [--people 10] [--storage local]
    make load

Serves the app as on EC2 (bench/serving.py: nginx → uWSGI with Deploy/uwsgi.ini) on 127.0.0.1,
with the rows in a fresh database on the MariaDB at 127.0.0.1:3306 (or --database-url) and the
photos in a local SeaweedFS (S3). Every upload is a different 2-megapixel JPEG, all sent at once
by separate connections with personal API tokens. Afterwards each acknowledged (201) photo must
have its row, the bytes that were sent (sha256) and all three objects (original, preview,
thumbnail); nothing may be stored twice or without a row. Exits 1 when an upload failed or
anything was lost.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import io
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]

import requests  # noqa: E402
from serving import served  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from photogallery import create_app  # noqa: E402
from photogallery.data import migrate  # noqa: E402
from photogallery.data.schema import photos  # noqa: E402
from photogallery.services import consistency  # noqa: E402

MYSQL_ADMIN_URL = os.environ.get("TEST_MYSQL_URL", "mysql+mysqlconnector://root@127.0.0.1:3306/")
PASSWORD = "load test password 1"


@dataclass
class Sent:
    """One upload as the client saw it."""

    seed: int
    sha256: str
    status: int = 0  # 0: no HTTP answer at all
    seconds: float = 0.0
    photo_id: int | None = None
    error: str = ""


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unacknowledged: list[int] = field(default_factory=list)
    rows: int = 0
    objects: int = 0

    def ok(self, sent: list[Sent]) -> bool:
        """Nothing lost or doubled, and every upload acknowledged."""
        return not (self.lost or self.duplicates) and all(item.status == 201 for item in sent)


def photos_to_send(count: int) -> list[bytes]:
    """``count`` different 1632x1224 JPEGs (scikit-image's cat, a coloured corner each)."""
    from PIL import Image
    from skimage import data

    base = Image.fromarray(data.chelsea()).resize((1632, 1224))
    out = []
    for n in range(count):
        img = base.copy()
        img.paste((n * 37 % 256, n * 91 % 256, n * 13 % 256), (0, 0, 64, 64 + n % 64))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def tokens_for(base: str, people: int) -> list[str]:
    tokens = []
    for n in range(people):
        name = f"load{n}"
        created = requests.post(
            f"{base}/api/users", json={"username": name, "password": PASSWORD}, timeout=30
        )
        assert created.status_code == 201, created.text
        answer = requests.post(f"{base}/api/tokens", auth=(name, PASSWORD), timeout=30)
        assert answer.status_code == 201, answer.text
        tokens.append(answer.json()["token"])
    return tokens


def send_all(base: str, tokens: list[str], jpegs: list[bytes]) -> tuple[list[Sent], float]:
    """Every upload on its own connection, released together; returns them and the wall time."""
    sent = [Sent(n, hashlib.sha256(data).hexdigest()) for n, data in enumerate(jpegs)]
    start = threading.Barrier(len(jpegs) + 1)

    def one(item: Sent) -> None:
        token = tokens[item.seed % len(tokens)]
        files = {"file": (f"load-{item.seed}.jpg", jpegs[item.seed], "image/jpeg")}
        start.wait()
        t0 = time.perf_counter()
        try:
            response = requests.post(
                f"{base}/api/photos",
                files=files,
                headers={"Authorization": f"Bearer {token}"},
                timeout=180,
            )
        except requests.RequestException as exc:
            item.error = type(exc).__name__
        else:
            item.status = response.status_code
            if response.status_code == 201:
                item.photo_id = response.json()["photos"][0]["id"]
            else:
                item.error = response.text[:200]
        item.seconds = time.perf_counter() - t0

    with ThreadPoolExecutor(len(jpegs)) as pool:
        futures = [pool.submit(one, item) for item in sent]
        start.wait()
        t0 = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - t0
    return sent, wall


def account(settings: dict[str, str], sent: list[Sent]) -> Findings:
    """Compare what was acknowledged with the rows and the objects actually stored."""
    app = create_app(settings)
    backends = app.extensions["photogallery"]
    with backends.engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(photos))}
    stored = {obj.key: obj.size for obj in backends.store.list_objects()}
    found = Findings(rows=len(rows), objects=len(stored))
    acked = [item for item in sent if item.status == 201]
    ids = collections.Counter(item.photo_id for item in acked)
    found.duplicates += [f"photo id {i} acknowledged {n} times" for i, n in ids.items() if n > 1]
    by_bytes = collections.Counter((row.owner_id, row.sha256) for row in rows.values())
    found.duplicates += [
        f"{sha[:12]}… stored {n} times" for (_, sha), n in by_bytes.items() if n > 1
    ]
    for item in acked:
        row = rows.get(item.photo_id)
        if row is None:
            found.lost.append(f"upload {item.seed}: photo {item.photo_id} has no row")
            continue
        if row.sha256 != item.sha256:
            found.lost.append(f"upload {item.seed}: photo {row.id} holds other bytes")
        for key in (row.original_key, row.preview_key, row.thumbnail_key):
            if not stored.get(key):
                found.lost.append(f"upload {item.seed}: photo {row.id} has no object {key}")
    found.unacknowledged = sorted(rows.keys() - {item.photo_id for item in acked})
    report = consistency.check_storage(backends, grace=timedelta(0))
    found.duplicates += [f"object without a row: {key}" for key in report.orphans]
    backends.engine.dispose()
    return found


def print_figures(sent: list[Sent], wall: float, found: Findings, people: int) -> None:
    acked = [item for item in sent if item.status == 201]
    failed = collections.Counter(item.status or item.error for item in sent if item.status != 201)
    times = sorted(item.seconds for item in sent)
    p95 = statistics.quantiles(times, n=20)[18]
    cores = os.cpu_count()
    print(f"{len(sent)} uploads at once by {people} people, nginx + uWSGI on {cores} cores")
    print(f"  acknowledged (201): {len(acked)}   failed: {dict(failed) or 0}")
    print(f"  wall time {wall:.1f} s   throughput {len(acked) / wall:.1f} acknowledged uploads/s")
    print(
        f"  latency per upload: median {statistics.median(times):.2f} s   p95 {p95:.2f} s"
        f"   max {times[-1]:.2f} s"
    )
    print(f"  rows {found.rows}   objects {found.objects}")
    print(f"  lost: {len(found.lost)}   duplicates: {len(found.duplicates)}", end="")
    print(f"   stored but not acknowledged: {len(found.unacknowledged)}")
    for line in (found.lost + found.duplicates)[:20]:
        print(f"    {line}")
    for item in [item for item in sent if item.status != 201][:3]:
        print(f"    upload {item.seed} failed: {item.status or ''} {' '.join(item.error.split())}")


def print_proxy_errors(root: Path) -> None:
    """nginx's complaints, counted (why a request got a 502 or 504)."""
    log = root / "log/nginx-error.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    kinds = collections.Counter(
        line.split("] ", 1)[-1].split(", client:")[0].split("*", 1)[-1].split(" ", 1)[-1]
        for line in lines
        if "[error]" in line or "[crit]" in line
    )
    for kind, count in kinds.most_common(5):
        print(f"  nginx error log: {count} x {kind}")


@contextlib.contextmanager
def fresh_mysql_database() -> Iterator[str]:
    admin = create_engine(MYSQL_ADMIN_URL)
    name = f"photos_load_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    try:
        yield make_url(MYSQL_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@contextlib.contextmanager
def photo_store(kind: str, root: Path) -> Iterator[dict[str, str]]:
    if kind == "local":
        yield {"PHOTOS_DIR": str(root / "photos")}
        return
    from tests.fixtures.servers import find_weed, start_seaweedfs

    server, process = start_seaweedfs(find_weed() or "weed", root / "seaweedfs")
    os.environ.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key)
    try:
        yield {
            "STORAGE": "s3",
            "PHOTOS_BUCKET": server.new_bucket("load"),
            "S3_ENDPOINT_URL": server.endpoint_url,
            "AWS_REGION": server.region,
        }
    finally:
        process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--storage", choices=["s3", "local"], default="s3")
    parser.add_argument(
        "--database-url", help="an empty database (default: a fresh one on MariaDB)"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="photos-load-"))
    (root / "seaweedfs").mkdir()
    try:
        with contextlib.ExitStack() as stack:
            url = args.database_url or stack.enter_context(fresh_mysql_database())
            settings = {
                "FLASK_SECRET": "load-" + secrets.token_hex(24),
                "DATABASE_URL": url,
                "LABELER": "none",
                "PROXY_COUNT": "1",  # nginx
                **stack.enter_context(photo_store(args.storage, root)),
            }
            migrate.upgrade(create_engine(url))
            jpegs = photos_to_send(args.uploads)
            print(f"{args.uploads} JPEGs of {statistics.mean(map(len, jpegs)) / 1e3:.0f} kB each")
            with served(settings, root) as base:
                sent, wall = send_all(base, tokens_for(base, args.people), jpegs)
            found = account(settings, sent)
            print_figures(sent, wall, found, args.people)
            print_proxy_errors(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if found.ok(sent) else 1)


if __name__ == "__main__":
    main()
