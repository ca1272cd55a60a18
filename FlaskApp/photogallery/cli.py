"""Command-line tools: `flask --app photogallery db|users|tokens|labels ...`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .backends import get_backends
from .data import migrate
from .data import photos as photo_data
from .services import accounts
from .services.errors import InvalidInput
from .services.labeling import label_photo_with_retries

db_cli = AppGroup("db", help="The database schema.")
users_cli = AppGroup("users", help="Local accounts.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")
labels_cli = AppGroup("labels", help="Labeling photos.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    migrate.upgrade(get_backends().engine)
    click.echo("database schema is up to date")


@db_cli.command("status")
def db_status() -> None:
    """Say whether migrations are pending."""
    pending = migrate.pending(get_backends().engine)
    click.echo(f"pending migrations: {', '.join(pending)}" if pending else "schema is current")


@users_cli.command("create")
@click.argument("username")
@click.password_option(envvar="PHOTOS_NEW_PASSWORD")
def users_create(username: str, password: str) -> None:
    """Create a local account (works even when sign-up is closed)."""
    try:
        user = accounts.create_local_user(get_backends(), username, password, check_signup=False)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created user {user.username} (id {user.id})")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", default="CLI token", help="What the token is for.")
def tokens_create(username: str, name: str) -> None:
    """Print a new personal API token for a local account."""
    from .data import users as user_data

    backends = get_backends()
    with backends.engine.connect() as conn:
        user = user_data.get_local_user(conn, username)
    if user is None:
        raise click.ClickException(f"no local user {username}")
    click.echo(accounts.create_api_token(backends, user.id, name))


@labels_cli.command("relabel")
@click.option(
    "--status",
    type=click.Choice(["pending", "failed", "done"]),
    multiple=True,
    help="Relabel photos with this status (repeatable).",
)
@click.option("--all", "all_photos", is_flag=True, help="Relabel every photo.")
@click.argument("photo_ids", nargs=-1, type=int)
def labels_relabel(status: tuple[str, ...], all_photos: bool, photo_ids: tuple[int, ...]) -> None:
    """Label photos now (by id, by status, or all); the owner's own labels are kept."""
    backends = get_backends()
    if backends.labeler is None:
        raise click.ClickException("LABELER is none: set LABELER=onnx or rekognition first")
    ids = list(photo_ids)
    with backends.engine.connect() as conn:
        if all_photos:
            ids += photo_data.list_photo_ids(conn, limit=10**9)
        for s in status:
            ids += photo_data.list_photo_ids(conn, status=s, limit=10**9)
    if not ids:
        raise click.UsageError("name photo ids, --status pending/failed, or --all")
    counts: dict[str, int] = {}
    with click.progressbar(sorted(set(ids)), label="labelling") as bar:
        for photo_id in bar:
            result = label_photo_with_retries(backends, photo_id, backoff=(1.0,))
            counts[result] = counts.get(result, 0) + 1
    click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


def register(app: Flask) -> None:
    for group in (db_cli, users_cli, tokens_cli, labels_cli):
        app.cli.add_command(group)
