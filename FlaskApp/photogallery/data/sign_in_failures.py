"""SQL for the sign-in throttle: failures counted per key, shared by every app instance."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, case, delete, func, or_, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .db import delete_older
from .schema import sign_in_failures as failures_table


def locked_until(conn: Connection, key_hashes: Collection[str], now: datetime) -> datetime | None:
    """The latest lock still running on any of the keys, or None."""
    query = select(func.max(failures_table.c.locked_until)).where(
        failures_table.c.key_hash.in_(key_hashes), failures_table.c.locked_until > now
    )
    return conn.execute(query).scalar()


def add_failure(conn: Connection, key_hash: str, now: datetime, window_start: datetime) -> int:
    """Count one failure for the key and return its count; a key quiet since ``window_start``
    starts again from one. One upsert, so instances failing at once lose no count."""
    t = failures_table
    # Ordered: MySQL applies the updates left to right, so the CASE must come before the new time.
    updates = [
        ("failures", case((t.c.last_failure_at < window_start, 1), else_=t.c.failures + 1)),
        ("last_failure_at", now),
    ]
    row = {"key_hash": key_hash, "failures": 1, "last_failure_at": now}
    if conn.dialect.name == "sqlite":
        stmt = sqlite_insert(t).values(row)
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.key_hash], set_=dict(updates))
    else:
        stmt = mysql_insert(t).values(row).on_duplicate_key_update(updates)
    conn.execute(stmt)
    return conn.execute(select(t.c.failures).where(t.c.key_hash == key_hash)).scalar_one()


def lock(conn: Connection, key_hash: str, until: datetime) -> None:
    """Lock the key until ``until``, unless a longer lock is already set."""
    t = failures_table
    conn.execute(
        update(t)
        .where(t.c.key_hash == key_hash)
        .where(or_(t.c.locked_until.is_(None), t.c.locked_until < until))
        .values(locked_until=until)
    )


def clear(conn: Connection, key_hashes: Collection[str]) -> None:
    conn.execute(delete(failures_table).where(failures_table.c.key_hash.in_(key_hashes)))


def delete_quiet_since(conn: Connection, before: datetime) -> int:
    """Forget keys with no failure since ``before`` (their locks have ended by then)."""
    t = failures_table
    return delete_older(conn, t.c.key_hash, t.c.last_failure_at, before)
