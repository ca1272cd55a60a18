"""Before/after on a loaded machine: two code trees serve the same 100,000-photo library, timed
in alternation, so noise from other processes falls on both alike; prints each tree's median
server time per page, their ratio, the database work per page and whether the HTML is the same.

    .venv/bin/python bench/ab_gallery.py --before /tmp/base [--database-url URL | --mariadb]

``--before`` is a checkout of the code to compare with (e.g. ``git archive main | tar -x -C
/tmp/base``); "after" is this tree. Each tree runs in a process of its own (the same package
name), signs in as the same person and times requests through its app, in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = (
    ("gallery", "/"),
    ("search 'cat'", "/?q=cat"),
    ("search 'animal beach'", "/?q=animal+beach"),
)
PASSWORD = "photo timing 1"  # no username in it: sign-up refuses that
# What differs between two sign-ins of the same person, not between two codes.
PER_SESSION = re.compile(r'(csrf[_-]token" (?:value|content)=")[^"]+')


def child(tree: Path, settings: dict[str, str]) -> None:
    """Serve timing requests from stdin: ``<url> <count>`` → JSON of times and counts."""
    sys.path[:0] = [str(tree / "FlaskApp"), str(tree)]
    from sqlalchemy import event

    from photogallery import create_app

    app = create_app(settings)
    engine = app.extensions["photogallery"].engine
    counts = count_database_work(engine, event)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": "bigbench", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    print("ready", flush=True)
    for line in sys.stdin:
        url, n = line.split()
        body = client.get(url).get_data()  # warm, and the page to compare
        before = dict(counts)
        times = []
        for _ in range(int(n)):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        work = {k: (counts[k] - before[k]) / int(n) for k in counts}
        html = PER_SESSION.sub(r"\1", body.decode())
        digest = hashlib.sha256(html.encode()).hexdigest()
        if dump := os.environ.get("AB_DUMP"):  # to see how the pages differ
            Path(dump, f"{tree.name}-{digest[:8]}.html").write_text(html)
        print(json.dumps({"times": times, "work": work, "html": digest}), flush=True)


def count_database_work(engine, event) -> dict[str, int]:
    """Statements, pool checkouts, pings and rollbacks, counted as they happen."""
    counts = {"statements": 0, "checkouts": 0, "pings": 0, "rollbacks": 0}

    def bump(name):
        def listener(*_args, **_kw):
            counts[name] += 1

        return listener

    event.listen(engine, "before_cursor_execute", bump("statements"))
    event.listen(engine.pool, "checkout", bump("checkouts"))
    dialect = engine.dialect
    for method, name in (("do_ping", "pings"), ("do_rollback", "rollbacks")):
        real = getattr(dialect, method)

        def counted(*args, _real=real, _name=name):
            counts[_name] += 1
            return _real(*args)

        setattr(dialect, method, counted)
    return counts


class Tree:
    def __init__(self, name: str, tree: Path, settings: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", str(tree), "--settings", json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready", f"{name} did not start"

    def time(self, url: str, n: int) -> dict:
        self.process.stdin.write(f"{url} {n}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def prepare(settings: dict[str, str], photos: int) -> None:
    """The library, seeded by this tree's code (both trees read the same schema)."""
    import random

    from bench_gallery import seed

    from photogallery import create_app
    from photogallery.data import migrate

    app = create_app(settings)
    engine = app.extensions["photogallery"].engine
    migrate.upgrade(engine)
    client = app.test_client()
    user = client.post("/api/users", json={"username": "bigbench", "password": PASSWORD})
    assert user.status_code == 201, user.get_json()
    t0 = time.perf_counter()
    seed(engine, 1, 0, photos, random.Random(42))
    print(f"seeded {photos:,} photos in {time.perf_counter() - t0:.0f} s", flush=True)
    engine.dispose()


def compare(before: Tree, after: Tree, rounds: int, batch: int) -> None:
    for name, url in PAGES:
        times = {before.name: [], after.name: []}
        results = {}
        for n in range(rounds):
            order = (before, after) if n % 2 == 0 else (after, before)
            for tree in order:
                results[tree.name] = tree.time(url, batch)
                times[tree.name] += results[tree.name]["times"]
        a, b = (statistics.median(times[t.name]) for t in (before, after))
        same = results[before.name]["html"] == results[after.name]["html"]
        print(f"{name}: before {a:.2f} ms  after {b:.2f} ms  ratio {b / a:.2f}  same HTML: {same}")
        for tree in (before, after):
            work = "  ".join(f"{k} {v:g}" for k, v in results[tree.name]["work"].items())
            print(f"    {tree.name:<6} per page: {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--settings")
    parser.add_argument("--before", type=Path)
    parser.add_argument("--database-url")
    parser.add_argument("--mariadb", nargs="?", const="mysql+mysqlconnector://root@127.0.0.1:3306/")
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--seeded", action="store_true", help="--database-url is seeded already")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child), json.loads(args.settings))
    sys.path[:0] = [str(ROOT / "FlaskApp"), str(ROOT), str(ROOT / "bench")]
    from bench_gallery import mariadb_database  # this tree's: the children import their own

    tmp = Path(tempfile.mkdtemp(prefix="photos-ab-"))
    with mariadb_database(args.mariadb) if args.mariadb else contextlib.nullcontext() as url:
        settings = {
            "FLASK_SECRET": "bench-" + "x" * 40,
            "DATABASE_URL": url or args.database_url or f"sqlite:///{tmp / 'photos.db'}",
            "PHOTOS_DIR": str(tmp / "photos"),
            "LABELER": "none",
        }
        if not args.seeded:
            prepare(settings, args.photos)
        trees = [Tree("before", args.before, settings), Tree("after", ROOT, settings)]
        try:
            compare(*trees, args.rounds, args.batch)
        finally:
            for tree in trees:
                tree.stop()


if __name__ == "__main__":
    main()
