"""SQL for objects of deleted photos that the store has not confirmed removed yet."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from .db import utcnow
from .schema import pending_deletions


@dataclass(frozen=True)
class PendingDeletion:
    object_key: str
    photo_id: int
    created_at: datetime  # naive UTC, as stored
    attempts: int


def add_keys(conn: Connection, keys: Collection[str], *, photo_id: int) -> None:
    """Record ``keys`` as to be removed (in the transaction that deletes their photo's row)."""
    now = utcnow()
    rows = [{"object_key": k, "photo_id": photo_id, "created_at": now, "attempts": 0} for k in keys]
    if rows:
        conn.execute(insert(pending_deletions), rows)


def list_pending(conn: Connection, limit: int) -> list[PendingDeletion]:
    """Up to ``limit`` records, oldest first."""
    table = pending_deletions.c
    query = select(table.object_key, table.photo_id, table.created_at, table.attempts)
    query = query.order_by(table.created_at, table.object_key).limit(limit)
    return [PendingDeletion(**row._mapping) for row in conn.execute(query)]


def pending_keys(conn: Connection) -> set[str]:
    """Every key still to be removed (for the consistency check: not orphans of unknown origin)."""
    return set(conn.execute(select(pending_deletions.c.object_key)).scalars())


def remove_keys(conn: Connection, keys: Collection[str]) -> None:
    """Those objects are gone: forget them."""
    if keys:
        conn.execute(delete(pending_deletions).where(pending_deletions.c.object_key.in_(keys)))


def note_failure(conn: Connection, key: str, error: str) -> None:
    """Another failed attempt, kept for whoever reads the table."""
    table = pending_deletions.c
    conn.execute(
        update(pending_deletions)
        .where(table.object_key == key)
        .values(attempts=table.attempts + 1, last_error=error[:500], tried_at=utcnow())
    )
