"""SQL for Cognito sign-ins in progress and server-side Cognito sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from .db import utcnow
from .schema import oauth_logins, oauth_sessions


@dataclass(frozen=True)
class PendingLogin:
    """What the callback needs to finish a sign-in the browser started."""

    nonce: str
    code_verifier: str
    redirect_uri: str
    next_url: str | None
    created_at: datetime


@dataclass(frozen=True)
class OAuthSession:
    """A signed-in browser's Cognito session (the refresh token still encrypted)."""

    id: int
    user_id: int
    refresh_token: str | None
    access_expires_at: datetime


# What an OAuthSession holds, in its field order.
_SESSION_COLUMNS = (
    oauth_sessions.c.id,
    oauth_sessions.c.user_id,
    oauth_sessions.c.refresh_token,
    oauth_sessions.c.access_expires_at,
)


def add_login(
    conn: Connection,
    state_hash: str,
    *,
    nonce: str,
    code_verifier: str,
    redirect_uri: str,
    next_url: str | None,
) -> None:
    conn.execute(
        insert(oauth_logins).values(
            state_hash=state_hash,
            nonce=nonce,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            next_url=next_url,
            created_at=utcnow(),
        )
    )


def take_login(conn: Connection, state_hash: str, not_before: datetime) -> PendingLogin | None:
    """Remove and return a pending sign-in; None if unknown, already taken or too old."""
    row = conn.execute(select(oauth_logins).where(oauth_logins.c.state_hash == state_hash)).first()
    if row is None:
        return None
    # The delete decides: of two callbacks racing with one state, only one removes the row.
    deleted = conn.execute(delete(oauth_logins).where(oauth_logins.c.state_hash == state_hash))
    if deleted.rowcount != 1 or row.created_at < not_before:
        return None
    return PendingLogin(
        row.nonce, row.code_verifier, row.redirect_uri, row.next_url, row.created_at
    )


def delete_logins_before(conn: Connection, before: datetime) -> int:
    """Forget sign-ins that were started but never finished."""
    return conn.execute(delete(oauth_logins).where(oauth_logins.c.created_at < before)).rowcount


def add_session(
    conn: Connection,
    *,
    user_id: int,
    handle_hash: str,
    refresh_token: str | None,
    access_expires_at: datetime,
) -> int:
    stamp = utcnow()
    result = conn.execute(
        insert(oauth_sessions).values(
            user_id=user_id,
            handle_hash=handle_hash,
            refresh_token=refresh_token,
            access_expires_at=access_expires_at,
            created_at=stamp,
            updated_at=stamp,
        )
    )
    return result.inserted_primary_key[0]


def get_session(conn: Connection, handle_hash: str) -> OAuthSession | None:
    row = conn.execute(
        select(*_SESSION_COLUMNS).where(oauth_sessions.c.handle_hash == handle_hash)
    ).first()
    return OAuthSession(**row._mapping) if row else None


def update_session(
    conn: Connection,
    session_id: int,
    *,
    access_expires_at: datetime,
    refresh_token: str | None = None,
) -> None:
    """Record a refresh; the refresh token changes only when Cognito rotated it."""
    values: dict[str, object] = {"access_expires_at": access_expires_at, "updated_at": utcnow()}
    if refresh_token is not None:
        values["refresh_token"] = refresh_token
    conn.execute(update(oauth_sessions).where(oauth_sessions.c.id == session_id).values(**values))


def delete_session(conn: Connection, handle_hash: str) -> OAuthSession | None:
    """Remove a session and return what it held (so its refresh token can be revoked)."""
    found = get_session(conn, handle_hash)
    if found:
        conn.execute(delete(oauth_sessions).where(oauth_sessions.c.id == found.id))
    return found


def delete_session_by_id(conn: Connection, session_id: int) -> None:
    conn.execute(delete(oauth_sessions).where(oauth_sessions.c.id == session_id))


def delete_user_sessions(conn: Connection, user_id: int) -> list[OAuthSession]:
    """Remove every Cognito session of one person; returns what they held (to revoke)."""
    query = select(*_SESSION_COLUMNS).where(oauth_sessions.c.user_id == user_id)
    found = [OAuthSession(**row._mapping) for row in conn.execute(query)]
    if found:
        ids = [s.id for s in found]
        conn.execute(delete(oauth_sessions).where(oauth_sessions.c.id.in_(ids)))
    return found
