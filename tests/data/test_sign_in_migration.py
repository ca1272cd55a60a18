"""Migration 0003 on a database that already holds usernames differing only in letter case:
it must not fail, must lose nothing, and must leave every account reachable."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, insert, select

from photogallery.data import migrate
from photogallery.data import users as user_data
from photogallery.data.schema import api_tokens, metadata, photos, users
from tests.conftest import LOCAL_STACKS, empty_mysql_database


@pytest.fixture(params=LOCAL_STACKS)
def engine_at_0002(request, tmp_path):
    """A database migrated only to 0002 (before case-insensitive usernames)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'photos.db'}")
        migrate.upgrade(engine, "0002")
        yield engine
        engine.dispose()
        return
    with empty_mysql_database("photos_0003") as url:
        engine = create_engine(url)
        migrate.upgrade(engine, "0002")
        yield engine
        engine.dispose()


# users as the 0002 schema had it: the current table minus the column 0003 adds.
USERS_0002 = Table(
    "users", MetaData(), *(c._copy() for c in users.columns if c.name != "username_key")
)


def add_old_user(conn, username: str, created: datetime, provider: str = "local") -> int:
    row = {
        "provider": provider,
        "subject": f"{provider}-{username}",
        "username": username,
        "password_hash": "hash-of-" + username,
        "created_at": created,
    }
    return conn.execute(insert(USERS_0002).values(**row)).inserted_primary_key[0]


# photos as the 0002 schema had it: the current table minus the column 0005 adds.
PHOTOS_0002 = Table(
    "photos", MetaData(), *(c._copy() for c in photos.columns if c.name != "camera")
)


def add_old_photo(conn, owner_id: int) -> None:
    keys = {k: f"u{owner_id}/1/{k}" for k in ("original_key", "thumbnail_key", "preview_key")}
    conn.execute(
        insert(PHOTOS_0002).values(
            owner_id=owner_id,
            original_filename="1.jpg",
            content_type="image/jpeg",
            byte_size=100,
            width=10,
            height=10,
            sha256="1" * 64,
            created_at=datetime(2025, 3, 1),
            **keys,
        )
    )


def test_upgrade_keeps_colliding_names_reachable_and_loses_nothing(engine_at_0002):
    engine = engine_at_0002
    with engine.begin() as conn:
        newer = add_old_user(conn, "ALICE", datetime(2025, 3, 1))
        older = add_old_user(conn, "alice", datetime(2024, 1, 1))
        cognito = add_old_user(conn, "Alice", datetime(2024, 6, 1), provider="cognito")
        bob = add_old_user(conn, "Bob", datetime(2024, 2, 1))
        add_old_photo(conn, newer)
        conn.execute(
            insert(api_tokens).values(
                user_id=newer, token_hash="t" * 64, name="script", created_at=datetime(2025, 3, 2)
            )
        )

    assert migrate.upgrade(engine, "0003") == ["0003"]

    with engine.connect() as conn:
        keys = dict(conn.execute(select(users.c.id, users.c.username_key)).all())
        assert keys == {newer: None, older: "alice", cognito: "alice", bob: "bob"}
        found = {name: user_data.get_local_user(conn, name).id for name in ("ALICE", "alice")}
        assert found == {"ALICE": newer, "alice": older}  # each by its exact name
        assert user_data.get_local_user(conn, "Alice").id == older  # any other spelling
        assert user_data.get_local_user(conn, "BOB").id == bob
        assert conn.execute(select(api_tokens.c.user_id)).scalar_one() == newer
        assert conn.execute(select(users.c.id).where(users.c.id == newer)).scalar_one()
        with pytest.raises(user_data.UsernameTaken):
            user_data.add_user(conn, provider="local", subject="aLiCe", username="aLiCe")
    migrate.upgrade(engine)  # and whatever came after 0003
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_downgrade_to_0002_and_back(engine_at_0002):
    engine = engine_at_0002
    migrate.upgrade(engine)
    with engine.begin() as conn:
        user_data.add_user(conn, provider="local", subject="zoe", username="Zoe")

    command.downgrade(migrate._config(engine), "0002")
    assert migrate.pending(engine)[0] == "0003"
    assert migrate.upgrade(engine)[0] == "0003"

    with engine.connect() as conn:
        assert user_data.get_local_user(conn, "ZOE").username == "Zoe"
