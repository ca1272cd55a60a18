"""data/db.py's helpers for writes that race: deadlock retries and best-effort housekeeping."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from photogallery.data.db import retry_on_deadlock, sweep


class DriverError(Exception):
    def __init__(self, errno: int) -> None:
        super().__init__(f"error {errno}")
        self.errno = errno


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def failing(errno: int, times: int):
    """Work that inserts a row, then fails ``times`` times with the driver's ``errno``."""
    calls = []

    def work(conn):
        calls.append(1)
        conn.execute(text("INSERT INTO t VALUES (1)"))
        if len(calls) <= times:
            raise DBAPIError("INSERT", None, DriverError(errno))
        return len(calls)

    return work, calls


def rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM t")).scalar()


def test_a_deadlock_victim_is_run_again_with_its_first_try_rolled_back(engine):
    work, _ = failing(1213, times=2)

    assert retry_on_deadlock(engine, work) == 3
    assert rows(engine) == 1  # the two failed tries left nothing


def test_other_errors_and_a_third_deadlock_are_raised(engine):
    work, calls = failing(1205, times=1)  # a lock wait timeout: not retried
    with pytest.raises(DBAPIError):
        retry_on_deadlock(engine, work)
    assert len(calls) == 1
    work, calls = failing(1213, times=3)
    with pytest.raises(DBAPIError):
        retry_on_deadlock(engine, work)
    assert len(calls) == 3 and rows(engine) == 0


def test_housekeeping_that_fails_gives_way_and_says_so(engine, caplog):
    def delete_things(conn, before):
        raise DBAPIError("DELETE", None, DriverError(1213))

    sweep(engine, delete_things, before=None)

    assert "housekeeping delete_things postponed" in caplog.text
