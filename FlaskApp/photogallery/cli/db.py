"""`flask db ...`: the database schema."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..backends import get_backends

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from ..data import migrate  # Alembic costs ~0.3 s to import; only these commands need it

    migrate.upgrade(get_backends().engine)
    click.echo("database schema is up to date")


@db_cli.command("status")
def db_status() -> None:
    """Say whether migrations are pending."""
    from ..data import migrate

    pending = migrate.pending(get_backends().engine)
    click.echo(f"pending migrations: {', '.join(pending)}" if pending else "schema is current")
