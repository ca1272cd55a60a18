"""The migration lock: processes upgrading one database together apply each migration once."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from photogallery.data import migrate
from photogallery.data.schema import metadata
from tests.conftest import empty_mysql_database

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ScriptDirectory(str(migrate.MIGRATIONS))
HEAD = SCRIPT.get_current_head()
REVISIONS = [rev.revision for rev in reversed(list(SCRIPT.walk_revisions()))]
ALL_APPLIED = f"database schema is up to date (applied: {', '.join(REVISIONS)})"
NOTHING = "database schema is up to date (nothing to apply)"
UPGRADERS = 3


@pytest.fixture
def fresh_mysql_url():
    """An empty database of its own (the session's `mysql_url` is migrated already)."""
    with empty_mysql_database("photos_lock") as url:
        yield url


def start_upgrades(url: str, tmp_path: Path, *args: str) -> list[subprocess.Popen]:
    """`flask db upgrade` in UPGRADERS separate processes, started together."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_SECRET": "lock-test-" + "x" * 32,
        "PHOTOS_DIR": str(tmp_path / "photos"),
        "LABELER": "none",
        "LABEL_QUEUE": "inline",
    }
    command = [sys.executable, "-m", "flask", "--app", "FlaskApp/application.py", "db", "upgrade"]
    return [
        subprocess.Popen(
            [*command, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(UPGRADERS)
    ]


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        results.append((proc.returncode, (out + err).decode()))
    return results


def wait_until(count: Callable[[], int], want: int, seconds: float = 20) -> int:
    """Poll ``count`` until it reaches ``want`` or time runs out; return the last count."""
    deadline = time.monotonic() + seconds
    while (seen := count()) < want and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen


def assert_migrated_once(results: list[tuple[int, str]], url: str) -> None:
    assert [code for code, _ in results] == [0] * UPGRADERS, results
    outputs = [output for _, output in results]
    assert sum(ALL_APPLIED in out for out in outputs) == 1, outputs
    assert sum(NOTHING in out for out in outputs) == UPGRADERS - 1, outputs
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextmanager
def held_mysql_lock(url: str):
    """Hold the app's migration lock from outside, as another instance would."""
    engine = create_engine(url)
    name = f"{make_url(url).database}.photos-migrate"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar_one() == 1
        yield engine
        conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
    engine.dispose()


def lock_waiters(engine, database: str) -> int:
    """Sessions of ``database`` blocked in GET_LOCK right now."""
    query = text(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
        " WHERE DB = :db AND INFO LIKE 'SELECT GET_LOCK(%'"
    )
    with engine.connect() as conn:
        return conn.execute(query, {"db": database}).scalar_one()


def test_concurrent_upgrades_on_mysql_migrate_once_and_the_rest_find_nothing_to_do(
    fresh_mysql_url, tmp_path
):
    # The lock is held while the processes start, so all of them are queued on it when it is
    # released: the race for the first migration is real, not an accident of start-up timing.
    database = make_url(fresh_mysql_url).database
    with held_mysql_lock(fresh_mysql_url) as engine:
        procs = start_upgrades(fresh_mysql_url, tmp_path)
        waiting = wait_until(lambda: lock_waiters(engine, database), UPGRADERS)
        finished_early = [proc.pid for proc in procs if proc.poll() is not None]
    assert_migrated_once(finish(procs), fresh_mysql_url)
    assert waiting == UPGRADERS and finished_early == []


def test_upgrade_on_mysql_times_out_with_a_clear_error_while_another_holds_the_lock(
    fresh_mysql_url, tmp_path
):
    with held_mysql_lock(fresh_mysql_url) as engine:
        engine_for_app = create_engine(fresh_mysql_url)
        started = time.monotonic()
        with pytest.raises(
            migrate.MigrationLockError, match=r"timed out after 1 s .*photos-migrate"
        ):
            migrate.upgrade(engine_for_app, lock_timeout=1)
        assert 0.9 < time.monotonic() - started < 10
        assert "alembic_version" not in inspect(engine).get_table_names()
        engine_for_app.dispose()


def test_flask_db_upgrade_reports_a_lock_timeout_as_one_line_and_exit_1(fresh_mysql_url, tmp_path):
    with held_mysql_lock(fresh_mysql_url):
        (code, output), *_ = finish(
            start_upgrades(fresh_mysql_url, tmp_path, "--lock-timeout", "1")
        )
    assert code == 1 and "Traceback" not in output
    assert "timed out after 1 s waiting for the migration lock" in output


@contextmanager
def held_file_lock(path: Path):
    with open(path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield
        fcntl.flock(lock_file, fcntl.LOCK_UN)


def opened_by(path: Path, procs: list[subprocess.Popen]) -> int:
    """How many of ``procs`` have ``path`` open (they open the lock file, then wait on it)."""

    def has_open(pid: int) -> bool:
        try:
            return any(fd.resolve() == path.resolve() for fd in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # the process ended, or a descriptor closed while we looked
            return False

    return sum(has_open(proc.pid) for proc in procs)


def test_concurrent_upgrades_on_one_sqlite_file_migrate_once(tmp_path):
    database = tmp_path / "photos.db"
    lock = tmp_path / "photos.db.migrate-lock"
    url = f"sqlite:///{database}"
    with held_file_lock(lock):
        procs = start_upgrades(url, tmp_path)
        waiting = wait_until(lambda: opened_by(lock, procs), UPGRADERS)
        finished_early = [proc.pid for proc in procs if proc.poll() is not None]
    assert_migrated_once(finish(procs), url)
    assert waiting == UPGRADERS and finished_early == []


def test_upgrade_on_sqlite_times_out_with_a_clear_error_while_another_holds_the_lock(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'photos.db'}")
    lock = tmp_path / "photos.db.migrate-lock"
    with (
        held_file_lock(lock),
        pytest.raises(migrate.MigrationLockError, match="timed out after 1 s"),
    ):
        migrate.upgrade(engine, lock_timeout=1)
    assert migrate.upgrade(engine) == REVISIONS
    assert migrate.upgrade(engine) == []
    engine.dispose()


def test_upgrade_of_in_memory_sqlite_needs_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = create_engine("sqlite://")
    assert migrate.upgrade(engine) == REVISIONS
    assert migrate.pending(engine) == [] and list(tmp_path.iterdir()) == []
    engine.dispose()
