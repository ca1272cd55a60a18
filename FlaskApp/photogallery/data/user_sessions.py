"""SQL for signed-in browser sessions (the cookie holds a handle; rows hold its hash)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from .db import delete_older, utcnow
from .models import User
from .schema import user_sessions, users
from .users import user_and


def add_session(conn: Connection, user_id: int, handle_hash: str) -> None:
    stamp = utcnow()
    conn.execute(
        insert(user_sessions).values(
            user_id=user_id, handle_hash=handle_hash, created_at=stamp, last_seen_at=stamp
        )
    )


# Built once: every signed-in request runs it, and building it costs more than running it.
_SESSION_USER = (
    select(users, user_sessions.c.last_seen_at.label("session_last_seen_at"))
    .join(user_sessions)
    .where(user_sessions.c.handle_hash == bindparam("handle_hash"))
)


def get_session_user(conn: Connection, handle_hash: str) -> tuple[User, datetime] | None:
    """The session's user and when the session was last seen, or None (one query)."""
    row = conn.execute(_SESSION_USER, {"handle_hash": handle_hash}).first()
    return user_and(row, "session_last_seen_at")


def touch_session(conn: Connection, handle_hash: str, *, unless_since: datetime) -> None:
    """Record use, at most once per interval (a write on every page view would cost more)."""
    conn.execute(
        update(user_sessions)
        .where(user_sessions.c.handle_hash == handle_hash)
        .where(user_sessions.c.last_seen_at < unless_since)
        .values(last_seen_at=utcnow())
    )


def delete_session(conn: Connection, handle_hash: str) -> None:
    conn.execute(delete(user_sessions).where(user_sessions.c.handle_hash == handle_hash))


def delete_user_sessions(conn: Connection, user_id: int) -> int:
    """End every session of one person; returns how many there were."""
    return conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id)).rowcount


def delete_sessions_unused_since(conn: Connection, before: datetime) -> int:
    return delete_older(conn, user_sessions.c.id, user_sessions.c.last_seen_at, before)
