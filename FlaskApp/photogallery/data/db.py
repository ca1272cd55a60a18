"""The database engine: pooled, recycled, one per process."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from . import packed_rows
from .mysql_pings import skip_cursor_pings

log = logging.getLogger(__name__)
T = TypeVar("T")
MYSQL_DEADLOCK = 1213  # ER_LOCK_DEADLOCK


def utcnow() -> datetime:
    """Now, as the database stores times: UTC without a zone (SQLite and MySQL alike)."""
    return datetime.now(UTC).replace(tzinfo=None)


class DatabaseError(Exception):
    """The database is unreachable or refused the request."""


def make_engine(url: str) -> Engine:
    """SQLite gets WAL and foreign keys; MySQL gets recycling for RDS fail-overs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":
            _watch_file(engine, SqliteFile(os.path.abspath(parsed.database)))
        return engine
    engine = create_engine(
        url,
        # No ping per checkout (a round trip each): idle connections are recycled, and one
        # found dead at a request's first read is replaced there (data/reads.py); the first
        # disconnect also invalidates every connection pooled before it.
        pool_pre_ping=False,
        pool_recycle=280,  # below MySQL's and proxies' idle timeouts
        pool_size=5,
        max_overflow=10,
        pool_timeout=10,
        connect_args={"connection_timeout": 5, "init_command": packed_rows.MYSQL_SESSION},
    )
    event.listen(engine, "connect", skip_cursor_pings)  # nor one per statement
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the uploader
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class SqliteFile:
    """The file an engine's first connection opened. Removed or replaced under a running app,
    it is no longer where writes go (open connections keep writing to the unlinked file, which
    vanishes with the process), so every use of the engine fails instead of answering 201."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None  # (device, inode)

    def opened(self, _dbapi_conn, _record) -> None:
        if self.identity is None:
            self.identity = self._stat()

    def verify(self, *_args) -> None:
        """Raise DatabaseError when the path no longer leads to the file first opened."""
        if self.identity is None:
            return
        current = self._stat()
        if current is None:
            raise DatabaseError(
                f"database file {self.path} is gone (removed while the app runs): restore it "
                "and restart the app; what is written now would be lost"
            )
        if current != self.identity:
            raise DatabaseError(
                f"database file {self.path} was replaced while the app runs: restart the app"
            )

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino


def _watch_file(engine: Engine, file: SqliteFile) -> None:
    event.listen(engine, "connect", file.opened)
    event.listen(engine, "checkout", file.verify)  # one stat per checkout, microseconds


def retry_on_deadlock(engine: Engine, work: Callable[[Connection], T], attempts: int = 3) -> T:
    """Run ``work`` in a transaction, again if MySQL chose it as a deadlock's victim (as it may
    when several requests first insert the same key at once); the loser's changes were rolled
    back, so running it again is what MySQL's message asks for."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == attempts or getattr(exc.orig, "errno", None) != MYSQL_DEADLOCK:
                raise
            log.info("deadlock on attempt %d of %s; trying again", attempt, work.__name__)
    raise AssertionError("unreachable")


def delete_older(
    conn: Connection, key: Column, stamp: Column, before: datetime, limit: int = 100
) -> int:
    """Delete up to ``limit`` rows whose ``stamp`` is before ``before``: found by a plain read,
    deleted one primary ``key`` at a time. A delete ranging over the time index would lock index
    entries before rows, the opposite order of an insert or update, and deadlock with them on
    MySQL whenever requests write at once."""
    found = select(key).where(stamp < before).limit(limit)
    keys = [{"old_key": value} for value in conn.execute(found).scalars()]
    if not keys:
        return 0
    old = delete(key.table).where(key == bindparam("old_key"), stamp < before)
    return conn.execute(old, keys).rowcount


def sweep(engine: Engine, delete: Callable[[Connection, datetime], int], before: datetime) -> None:
    """Run a housekeeping delete of rows older than ``before``, in a transaction of its own and
    best effort: should it fail (a lock timeout, say), the tidying gives way, never the request
    that asked for it; the next call tidies."""
    try:
        with engine.begin() as conn:
            delete(conn, before)
    except DBAPIError as exc:
        log.warning("housekeeping %s postponed: %s", delete.__name__, exc.orig or exc)


def check(engine: Engine) -> None:
    """Raise DatabaseError unless the database answers and its schema is current (for /ready)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DatabaseError:
        raise
    except Exception as exc:  # any driver error means "not ready"
        raise DatabaseError(f"database unreachable: {type(exc).__name__}") from exc
    if engine not in _current_schema:
        from .migrate import pending  # alembic is imported only when needed

        if missing := pending(engine):
            raise DatabaseError(
                f"database schema is behind (pending {', '.join(missing)}): run "
                "`flask --app FlaskApp/application.py db upgrade`"
            )
        _current_schema.add(engine)  # a running process's schema does not go backwards


_current_schema: weakref.WeakSet[Engine] = weakref.WeakSet()
