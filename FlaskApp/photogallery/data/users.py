"""SQL for users and personal API tokens."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .db import utcnow
from .models import User
from .schema import api_tokens, users


class UsernameTaken(Exception):
    """Another account of the same provider already has that username (in any letter case)."""


def username_key(username: str) -> str:
    """How usernames compare: NFKC-casefolded, so "Alice", "ALICE" and "Alice" typed with a
    full-width A are one name.
    (Migration 0003 has a frozen copy: change both, with a migration, or never.)"""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def _user(row) -> User | None:
    return User(**row._mapping) if row else None


def add_user(
    conn: Connection,
    *,
    provider: str,
    subject: str,
    username: str,
    email: str | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
) -> User:
    values = dict(
        provider=provider,
        subject=subject,
        username=username,
        username_key=username_key(username),
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        created_at=utcnow(),
    )
    try:
        with conn.begin_nested():
            result = conn.execute(insert(users).values(**values))
    except IntegrityError as exc:
        raise UsernameTaken(username) from exc
    return User(id=result.inserted_primary_key[0], **values)


def get_user(conn: Connection, user_id: int) -> User | None:
    return _user(conn.execute(select(users).where(users.c.id == user_id)).first())


def get_user_by_subject(conn: Connection, provider: str, subject: str) -> User | None:
    query = select(users).where(users.c.provider == provider, users.c.subject == subject)
    return _user(conn.execute(query).first())


def get_user_by_username(conn: Connection, provider: str, username: str) -> User | None:
    """The ``provider`` account with exactly this username (e.g. a Cognito user's)."""
    query = select(users).where(users.c.provider == provider, users.c.username == username)
    return _user(conn.execute(query).first())


def get_local_user(conn: Connection, username: str) -> User | None:
    """The local account named ``username`` in any letter case; an exact match comes first, so an
    account that migration 0003 left without a key is still found by its exact name."""
    exact = users.c.username == username
    query = (
        select(users)
        .where(users.c.provider == "local")
        .where(or_(exact, users.c.username_key == username_key(username)))
        .order_by(case((exact, 0), else_=1))
        .limit(1)
    )
    return _user(conn.execute(query).first())


def update_user(conn: Connection, user_id: int, **values: str | None) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def add_token(conn: Connection, user_id: int, token_hash: str, name: str) -> int:
    result = conn.execute(
        insert(api_tokens).values(
            user_id=user_id, token_hash=token_hash, name=name, created_at=utcnow()
        )
    )
    return result.inserted_primary_key[0]


def get_user_by_token(conn: Connection, token_hash: str) -> tuple[User, datetime | None] | None:
    """The token's user and when the token was last used, or None."""
    query = (
        select(users, api_tokens.c.last_used_at.label("token_last_used_at"))
        .join(api_tokens)
        .where(api_tokens.c.token_hash == token_hash)
    )
    return user_and(conn.execute(query).first(), "token_last_used_at")


def user_and(row, extra: str) -> tuple[User, Any] | None:
    """A row of ``users`` plus one more column (named ``extra``) as (User, that value)."""
    if row is None:
        return None
    values = dict(row._mapping)
    value = values.pop(extra)
    return User(**values), value


def touch_token(conn: Connection, token_hash: str, *, unless_since: datetime) -> None:
    """Record use, at most once per interval: a write on every API call would cost more."""
    conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.token_hash == token_hash,
            (api_tokens.c.last_used_at.is_(None)) | (api_tokens.c.last_used_at < unless_since),
        )
        .values(last_used_at=utcnow())
    )


def list_tokens(conn: Connection, user_id: int) -> list[dict]:
    query = (
        select(
            api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at
        )
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id.desc())
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def delete_token(conn: Connection, user_id: int, token_id: int) -> bool:
    result = conn.execute(
        api_tokens.delete().where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
    )
    return result.rowcount > 0
