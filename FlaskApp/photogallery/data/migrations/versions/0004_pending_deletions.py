"""pending deletions: object keys of deleted photos that the store has not removed yet

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _timestamp() -> sa.types.TypeEngine:
    return (
        sa.DateTime()
        .with_variant(mysql.DATETIME(fsp=6), "mariadb")
        .with_variant(mysql.DATETIME(fsp=6), "mysql")
    )


def upgrade() -> None:
    op.create_table(
        "pending_deletions",
        sa.Column("object_key", sa.String(length=255), nullable=False),
        sa.Column("photo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("tried_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("object_key", name=op.f("pk_pending_deletions")),
        **MYSQL,
    )
    with op.batch_alter_table("pending_deletions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_deletions_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_deletions_created_at"))

    op.drop_table("pending_deletions")
