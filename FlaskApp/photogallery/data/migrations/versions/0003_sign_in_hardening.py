"""sign-in hardening: case-insensitive usernames, server-side sessions, sign-in throttle

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Usernames become case-insensitive through ``users.username_key`` (the name NFKC-casefolded) and a
unique index on (provider, username_key). A database may already hold names that fold alike
("alice" and "ALICE"): the oldest account of each such group gets the key, and the others keep a
NULL key. Nobody is renamed or locked out: each keeps signing in with the exact name they chose
(an exact match is looked up first), while every other spelling reaches the oldest account, and
no new account can take any spelling of the name. The upgrade logs the ids left without a key.
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _timestamp() -> sa.types.TypeEngine:
    return (
        sa.DateTime()
        .with_variant(mysql.DATETIME(fsp=6), "mariadb")
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    )


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _username_key(username: str) -> str:
    """As data/users.py's username_key at the time of this migration (frozen here on purpose)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def upgrade() -> None:
    # Plain ALTER and CREATE INDEX, never a batch rebuild of users: with SQLite's foreign keys on,
    # dropping the old table would cascade-delete every photo and token.
    op.add_column("users", sa.Column("username_key", sa.String(length=450), nullable=True))
    _fill_username_keys()
    op.create_index(
        op.f("ix_users_provider_username_key"), "users", ["provider", "username_key"], unique=True
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("handle_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("last_seen_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("handle_hash", name=op.f("uq_user_sessions_handle_hash")),
        **MYSQL,
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.create_index(op.f("ix_user_sessions_last_seen_at"), "user_sessions", ["last_seen_at"])
    op.create_table(
        "sign_in_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _timestamp(), nullable=False),
        sa.Column("locked_until", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_sign_in_failures")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_sign_in_failures_last_failure_at"), "sign_in_failures", ["last_failure_at"]
    )


def _fill_username_keys() -> None:
    """Each account's folded name; within a group that folds alike only the oldest gets it."""
    users = sa.table(
        "users",
        sa.column("id"),
        sa.column("provider"),
        sa.column("username"),
        sa.column("username_key"),
        sa.column("created_at"),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(users.c.id, users.c.provider, users.c.username).order_by(
            users.c.created_at, users.c.id
        )
    ).all()
    taken: set[tuple[str, str]] = set()
    for row in rows:
        key = (row.provider, _username_key(row.username))
        if key in taken:
            log.warning(
                "user %s (%s) shares its case-folded username with an older account: it keeps "
                "signing in with its exact username only",
                row.id,
                row.provider,
            )
            continue
        taken.add(key)
        conn.execute(sa.update(users).where(users.c.id == row.id).values(username_key=key[1]))


def downgrade() -> None:
    op.drop_table("sign_in_failures")  # (its indexes go with it)
    op.drop_table("user_sessions")
    op.drop_index(op.f("ix_users_provider_username_key"), table_name="users")
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("username_key")
