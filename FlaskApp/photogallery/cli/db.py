"""`flask db ...`: the database schema."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..context import get_backends

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
@click.option(
    "--lock-timeout",
    type=int,
    default=600,  # migrate.LOCK_TIMEOUT (not imported here: Alembic is slow to import)
    show_default=True,
    help="Seconds to wait while another process holds the migration lock.",
)
def db_upgrade(lock_timeout: int) -> None:
    """Create or migrate the schema to the newest version (one process at a time)."""
    from ..data import migrate  # Alembic costs ~0.3 s to import; only these commands need it

    try:
        applied = migrate.upgrade(get_backends().engine, lock_timeout=lock_timeout)
    except migrate.MigrationLockError as exc:
        raise click.ClickException(str(exc)) from None
    done = f"applied: {', '.join(applied)}" if applied else "nothing to apply"
    click.echo(f"database schema is up to date ({done})")


@db_cli.command("status")
def db_status() -> None:
    """Say whether migrations are pending."""
    from ..data import migrate

    pending = migrate.pending(get_backends().engine)
    click.echo(f"pending migrations: {', '.join(pending)}" if pending else "schema is current")
