"""SQL for pending Cognito sign-ins and server-side sessions, on SQLite and MySQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select

from photogallery.data import migrate
from photogallery.data import oauth as oauth_data
from photogallery.data import users as user_data
from photogallery.data.db import utcnow
from photogallery.data.schema import metadata, oauth_sessions
from tests.conftest import LOCAL_STACKS


@pytest.fixture(params=LOCAL_STACKS)
def stack(request):
    """Only the database matters here: SQLite and MySQL."""
    return request.param


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    if engine.url.get_backend_name() == "sqlite":
        migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def user_id(engine):
    with engine.begin() as conn:
        return user_data.add_user(conn, provider="cognito", subject="sub-1", username="alice").id


def add_login(conn, state_hash="h" * 64):
    oauth_data.add_login(
        conn,
        state_hash,
        nonce="n",
        code_verifier="v" * 86,
        redirect_uri="http://localhost/callback",
        next_url="/settings",
    )


def test_migrations_create_exactly_the_tables_the_schema_declares(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_pending_sign_in_can_be_taken_only_once(engine):
    with engine.begin() as conn:
        add_login(conn)
    long_ago = utcnow() - timedelta(minutes=10)

    with engine.begin() as conn:
        first = oauth_data.take_login(conn, "h" * 64, long_ago)
    with engine.begin() as conn:
        second = oauth_data.take_login(conn, "h" * 64, long_ago)

    assert first.nonce == "n" and first.next_url == "/settings"
    assert second is None


def test_a_pending_sign_in_older_than_allowed_is_not_returned_and_is_gone(engine):
    with engine.begin() as conn:
        add_login(conn)

    with engine.begin() as conn:
        assert oauth_data.take_login(conn, "h" * 64, utcnow() + timedelta(seconds=1)) is None
        assert oauth_data.take_login(conn, "h" * 64, utcnow() - timedelta(hours=1)) is None


def test_abandoned_sign_ins_are_swept(engine):
    with engine.begin() as conn:
        add_login(conn, "a" * 64)
        removed = oauth_data.delete_logins_before(conn, utcnow() + timedelta(seconds=1))
        assert removed == 1
        assert oauth_data.take_login(conn, "a" * 64, utcnow() - timedelta(hours=1)) is None


def test_a_session_is_found_by_handle_hash_updated_and_deleted(engine, user_id):
    expires = utcnow().replace(microsecond=0) + timedelta(hours=1)
    sealed = "gAAAA" + "x" * 2500  # Cognito refresh tokens are long; sealed they are longer
    with engine.begin() as conn:
        oauth_data.add_session(
            conn,
            user_id=user_id,
            handle_hash="s" * 64,
            refresh_token=sealed,
            access_expires_at=expires,
        )
        found = oauth_data.get_session(conn, "s" * 64)
        assert (found.user_id, found.refresh_token, found.access_expires_at) == (
            user_id,
            sealed,
            expires,
        )

        later = expires + timedelta(hours=1)
        oauth_data.update_session(conn, found.id, access_expires_at=later)
        updated = oauth_data.get_session(conn, "s" * 64)
        assert (updated.access_expires_at, updated.refresh_token) == (later, sealed)

        assert oauth_data.delete_session(conn, "s" * 64).id == found.id
        assert oauth_data.get_session(conn, "s" * 64) is None
        remaining = select(func.count()).where(oauth_sessions.c.user_id == user_id)
        assert conn.execute(remaining).scalar_one() == 0


def test_a_rotated_refresh_token_replaces_the_stored_one(engine, user_id):
    with engine.begin() as conn:
        session_id = oauth_data.add_session(
            conn,
            user_id=user_id,
            handle_hash="r" * 64,
            refresh_token="old",
            access_expires_at=utcnow(),
        )
        oauth_data.update_session(conn, session_id, access_expires_at=utcnow(), refresh_token="new")
        assert oauth_data.get_session(conn, "r" * 64).refresh_token == "new"
