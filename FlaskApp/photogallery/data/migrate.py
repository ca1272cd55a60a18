"""Apply Alembic migrations programmatically (the CLI and `make run` call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_config(engine), revision)


def pending(engine: Engine) -> list[str]:
    """Revisions not yet applied, oldest first (empty when the schema is current)."""
    script = ScriptDirectory.from_config(_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return [
        rev.revision
        for rev in reversed(list(script.walk_revisions()))
        if rev.revision not in current and not _is_ancestor(script, rev.revision, current)
    ]


def _is_ancestor(script: ScriptDirectory, revision: str, heads: set[str]) -> bool:
    return any(revision in {r.revision for r in script.iterate_revisions(h, "base")} for h in heads)
