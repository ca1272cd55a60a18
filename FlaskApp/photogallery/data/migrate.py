"""Apply Alembic migrations programmatically (the CLI, `make run` and the set-up script call this).

Several instances booting at once all call `upgrade`: a database-wide lock makes one of them
migrate while the others wait, then find the schema current and apply nothing.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_TIMEOUT = 600  # seconds; long enough for another instance's migrations to finish


class MigrationLockError(Exception):
    """The database-wide migration lock could not be taken."""


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head", lock_timeout: int = LOCK_TIMEOUT) -> list[str]:
    """Migrate under the migration lock; return the revisions this call applied, oldest first."""
    with migration_lock(engine, lock_timeout):
        before = pending(engine)
        if not before:
            return []
        command.upgrade(_config(engine), revision)
        after = set(pending(engine))
    return [rev for rev in before if rev not in after]


def pending(engine: Engine) -> list[str]:
    """Revisions not yet applied, oldest first (empty when the schema is current)."""
    script = ScriptDirectory.from_config(_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return [
        rev.revision
        for rev in reversed(list(script.walk_revisions()))
        if rev.revision not in current and not _is_ancestor(script, rev.revision, current)
    ]


def _is_ancestor(script: ScriptDirectory, revision: str, heads: set[str]) -> bool:
    return any(revision in {r.revision for r in script.iterate_revisions(h, "base")} for h in heads)


@contextmanager
def migration_lock(engine: Engine, timeout: int = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the database-wide migration lock (MySQL GET_LOCK, or a file lock next to SQLite)."""
    if engine.url.get_backend_name() != "sqlite":
        with engine.connect() as conn, _mysql_lock(conn, timeout):
            yield
    elif path := _sqlite_lock_path(engine):
        with _file_lock(path, timeout):
            yield
    else:  # in-memory SQLite is private to this process: nobody to race
        yield


def _sqlite_lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate-lock")


@contextmanager
def _mysql_lock(conn: Connection, timeout: int) -> Iterator[None]:
    # GET_LOCK belongs to this session: held on a connection of its own for the whole upgrade,
    # and released by the server if this process dies mid-way.
    name = f"{conn.execute(text('SELECT DATABASE()')).scalar_one()}.photos-migrate"
    got = conn.execute(text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": timeout})
    result = got.scalar_one()
    if result is None:
        raise MigrationLockError(f"GET_LOCK('{name}') failed (the server returned NULL)")
    if result != 1:
        raise MigrationLockError(
            f"timed out after {timeout} s waiting for the migration lock '{name}' "
            "(another process is migrating, or holds the lock)"
        )
    try:
        yield
    finally:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


@contextmanager
def _file_lock(path: Path, timeout: int) -> Iterator[None]:
    # flock has no timeout of its own: poll without blocking until the deadline.
    deadline = time.monotonic() + timeout
    with open(path, "a") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise MigrationLockError(
                        f"timed out after {timeout} s waiting for the migration lock {path}"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
