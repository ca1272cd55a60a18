"""Tables and indexes. Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Binary collation: the same comparisons as SQLite, and "Café" and "Cafe" stay distinct terms.
MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# SQLite only auto-increments INTEGER PRIMARY KEY; MySQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")
MAX_ID = 2**63 - 1  # both are signed 64-bit: a larger number names no row (and cannot be bound)
# Microseconds matter: keyset pagination orders by created_at, then id.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),  # local | cognito
    Column("subject", String(255), nullable=False),  # Cognito sub, or the local username
    Column("username", String(150), nullable=False),
    # The username NFKC-casefolded (data/users.py): "Alice" and "ALICE" are one account. NULL
    # only on an account that migration 0003 found sharing its folded name with an older one.
    Column("username_key", String(450)),
    Column("email", String(320)),
    Column("display_name", String(200)),
    Column("password_hash", String(255)),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("provider", "subject"),
    UniqueConstraint("provider", "username"),
    # An index, not a constraint: SQLite adds it without rebuilding the table.
    Index(None, "provider", "username_key", unique=True),
    **MYSQL,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex, never the token
    Column("name", String(100), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp),
    Index(None, "user_id"),
    **MYSQL,
)

photos = Table(
    "photos",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("original_key", String(255), nullable=False),
    Column("thumbnail_key", String(255), nullable=False),
    Column("preview_key", String(255), nullable=False),
    Column("original_filename", String(255), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("byte_size", BigInteger, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("taken_at", DateTime),
    Column("camera", String(200)),  # EXIF "Make Model", shown next to the date taken
    Column("created_at", Timestamp, nullable=False),
    Column("label_status", String(16), nullable=False, default="pending"),
    Column("label_attempts", Integer, nullable=False, default=0),
    Column("label_error", String(500)),
    Column("label_model", String(100)),
    Column("labeled_at", Timestamp),
    # The gallery: one owner's photos newest first, a page at a time (keyset).
    Index(None, "owner_id", "created_at", "id"),
    # Duplicate detection: the same bytes twice for one owner.
    UniqueConstraint("owner_id", "sha256"),
    # Sweeps for stuck or failed labeling.
    Index(None, "label_status", "id"),
    **MYSQL,
)

photo_labels = Table(
    "photo_labels",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("photo_id", Id, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("parents", String(500), nullable=False, default=""),  # names joined by "|"
    Column("source", String(8), nullable=False, default="model"),  # model | user
    UniqueConstraint("photo_id", "name"),
    Index(None, "name"),
    **MYSQL,
)

# The search index: one row per (photo, normalized word) from labels, their parents and the
# description. Its primary key lets "photos of owner O with term T, newest first, after cursor C"
# be one index range scan, whatever the library's size.
photo_terms = Table(
    "photo_terms",
    metadata,
    Column("owner_id", Id, nullable=False, primary_key=True),
    Column("term", String(100), nullable=False, primary_key=True),
    Column("created_at", Timestamp, nullable=False, primary_key=True),
    Column(
        "photo_id",
        Id,
        ForeignKey("photos.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=True,
    ),
    Index(None, "photo_id"),
    **MYSQL,
)

# Cognito sign-ins started in a browser and not yet finished: the callback takes a row once.
oauth_logins = Table(
    "oauth_logins",
    metadata,
    Column("state_hash", String(64), primary_key=True),  # sha256 hex of the state
    Column("nonce", String(128), nullable=False),
    Column("code_verifier", String(128), nullable=False),  # PKCE
    Column("redirect_uri", String(2000), nullable=False),
    Column("next_url", String(2000)),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "created_at"),  # sweeping abandoned sign-ins
    **MYSQL,
)

# A Cognito-signed-in browser session: the cookie holds only a random handle, the refresh token
# (encrypted) stays here.
oauth_sessions = Table(
    "oauth_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("handle_hash", String(64), nullable=False, unique=True),  # sha256 hex of the handle
    Column("refresh_token", Text),  # Fernet-encrypted; None when the client issues none
    Column("access_expires_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index(None, "user_id"),
    **MYSQL,
)

# Objects of deleted photos the store has not confirmed gone (it failed during the delete):
# `flask storage sweep` retries them until they are. Written in the delete's transaction.
pending_deletions = Table(
    "pending_deletions",
    metadata,
    Column("object_key", String(255), primary_key=True),
    Column("photo_id", Id, nullable=False),  # no foreign key: that row is gone; for the logs
    Column("created_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500)),
    Column("tried_at", Timestamp),
    Index(None, "created_at"),  # the sweep takes the oldest first
    **MYSQL,
)

# A signed-in browser: the session cookie holds a random handle, the database its hash. Deleting
# the row ends the session everywhere at once (sign-out, password change, "sign out everywhere").
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("handle_hash", String(64), nullable=False, unique=True),  # sha256 hex of the handle
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),  # updated at most hourly
    Index(None, "user_id"),
    Index(None, "last_seen_at"),  # sweeping sessions unused for the session lifetime
    **MYSQL,
)

# Failed sign-ins per key (an account name, a client address, or both): the throttle that every
# app instance shares. Keys are HMACs, so attempted names (often mistyped passwords) are not kept.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", Timestamp, nullable=False),
    Column("locked_until", Timestamp),
    Index(None, "last_failure_at"),  # sweeping keys that went quiet
    **MYSQL,
)

__all__ = [
    "api_tokens",
    "metadata",
    "oauth_logins",
    "oauth_sessions",
    "pending_deletions",
    "photo_labels",
    "photo_terms",
    "photos",
    "sign_in_failures",
    "user_sessions",
    "users",
]
